//! What the administrator does (issue 22): remove an organization, edit a user, add with
//! licenses in one transaction; the Organization license held by organizations only; the
//! Basic Station warning; a session that ends says why. Each beside its seed sentence.

mod common;

use allocation::{AllocError, Method, Place, RuleKind, StationKind, Target, UserEdit, UserFilter};
use common::*;
use format::Rules;
use store::TxExt as _;

fn users(env: &Env) -> Vec<String> {
    env.alloc
        .users(&UserFilter::default())
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.name)
        .collect()
}

fn configured(env: &Env, key: &str) -> u32 {
    env.alloc
        .report()
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.name == key)
        .map_or(0, |k| k.assignable_configured)
}

fn held(env: &Env, user: &str) -> Vec<String> {
    env.alloc
        .users(&UserFilter::default())
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.name == user)
        .unwrap()
        .licenses
}

#[test]
fn an_organization_with_users_is_not_removed_and_the_error_names_them() {
    let env = env(&file(&[(ORG, 2, 0), (CLIENT, 5, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_organization("tenant-a").unwrap();
    a.add_user("bob", Method::Assignable, Some("tenant-a"))
        .unwrap();
    a.add_user("alice", Method::Assignable, Some("tenant-a"))
        .unwrap();
    a.set_organization_limit("tenant-a", CLIENT, Some(1), Some(3))
        .unwrap();
    let e = a.remove_organization("tenant-a").unwrap_err();
    assert_eq!(
        (e.exit_code(), e.kind()),
        (21, "organization-in-use"),
        "{e}"
    );
    assert!(e.to_string().contains("2 user(s): alice, bob"), "{e}");
    assert_eq!(a.report().unwrap().organizations, 1, "nothing removed");
    a.remove_user("alice").unwrap();
    a.remove_user("bob").unwrap();
    a.remove_organization("tenant-a").unwrap();
    assert_eq!(a.report().unwrap().organizations, 0);
    let e = a.remove_organization("tenant-a").unwrap_err();
    assert_eq!(e.kind(), "unknown-organization");
    // Its limits went with it: an organization of the same name starts without them.
    a.add_organization("tenant-a").unwrap();
    a.add_user("carol", Method::Assignable, Some("tenant-a"))
        .unwrap();
    for _ in 0..4 {
        let n = format!("u{}", users(&env).len());
        a.add_user(&n, Method::Assignable, Some("tenant-a"))
            .unwrap();
        a.allocate(Target::User(&n), &[CLIENT]).unwrap();
    }
    assert!(a.check().unwrap().is_empty());
}

// Issue 22: "the Organization license (I3_TENANT_IWP_ORGANIZATION) is counted by
// organizations only: today it can also be allocated to a user, so 1 license serves 2".
#[test]
fn the_organization_license_is_never_allocated_to_a_user_or_a_station() {
    let env = env(&file(&[(ORG, 1, 0), (BASIC, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    for t in [Target::User("alice"), Target::Station("desk-1")] {
        let e = a.allocate(t, &[ORG]).unwrap_err();
        assert_eq!(e.exit_code(), 22, "{e}");
        assert_eq!(e.rule(), Some(RuleKind::Holder), "{e}");
        assert!(
            e.to_string().contains("counted by organizations only"),
            "{e}"
        );
    }
    assert_eq!(configured(&env, ORG), 0);
    a.add_organization("tenant-a").unwrap();
}

#[test]
fn a_method_change_is_refused_naming_the_licenses_of_the_other_method() {
    let env = env(&file(&[(CLIENT, 2, 2), (ACD1, 2, 2)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT, ACD1]).unwrap();
    let to = |m| UserEdit {
        method: Some(m),
        ..UserEdit::default()
    };
    let e = a.edit_user("alice", &to(Method::Concurrent)).unwrap_err();
    assert_eq!(
        (e.exit_code(), e.rule()),
        (22, Some(RuleKind::Method)),
        "{e}"
    );
    assert!(e.to_string().contains(&format!("{ACD1}, {CLIENT}")), "{e}");
    a.deallocate(Target::User("alice"), &[CLIENT, ACD1])
        .unwrap();
    let r = a.edit_user("alice", &to(Method::Concurrent)).unwrap();
    assert_eq!(r.method, Method::Concurrent);
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    assert_eq!(configured(&env, CLIENT), 0, "configured, not consumed");
    // The same method again is no change, licenses held or not.
    a.edit_user("alice", &to(Method::Concurrent)).unwrap();
    assert!(a.check().unwrap().is_empty());
}

// Seed 001, Licensing tab: "Enable Licenses: If selected, activates the license settings. If
// cleared, the system ignores the license settings in this dialog box. This option allows you
// to turn off licensing for a station, but keep the license settings."
#[test]
fn a_users_licensing_off_releases_its_licenses_and_keeps_them_and_on_restores_what_is_left() {
    let env = env(&file(
        &[(CLIENT, 1, 0), (ACD1, 2, 0), (BASIC, 1, 0)],
        Rules::default(),
    ));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT, ACD1]).unwrap();
    let s = a.login("alice", Place::Nowhere, None).unwrap();
    let off = UserEdit {
        licensing: Some(false),
        ..UserEdit::default()
    };
    let on = UserEdit {
        licensing: Some(true),
        ..UserEdit::default()
    };
    let r = a.edit_user("alice", &off).unwrap();
    assert!(!r.licensing);
    assert_eq!(r.released, vec![ACD1.to_string(), CLIENT.to_string()]);
    assert_eq!(r.ended_session.as_deref(), Some(s.id.as_str()));
    assert_eq!(
        a.session_end(&s.id).unwrap().unwrap().reason,
        "licensing-disabled"
    );
    assert_eq!(configured(&env, CLIENT), 0, "released");
    assert!(held(&env, "alice").is_empty());
    // Ignored while off: nothing can be allocated to the user.
    let e = a.allocate(Target::User("alice"), &[ACD1]).unwrap_err();
    assert_eq!(
        (e.exit_code(), e.rule()),
        (22, Some(RuleKind::Licensing)),
        "{e}"
    );
    // Off again changes nothing and keeps the settings.
    assert!(a.edit_user("alice", &off).unwrap().released.is_empty());
    // Someone else takes the only Client Access meanwhile.
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    let r = a.edit_user("alice", &on).unwrap();
    assert!(r.licensing);
    assert_eq!(r.restored, vec![ACD1.to_string()]);
    assert_eq!(r.not_restored.len(), 1);
    assert_eq!(r.not_restored[0].key, CLIENT);
    assert!(
        r.not_restored[0].reason.contains("no assignable license"),
        "{r:?}"
    );
    assert_eq!(held(&env, "alice"), vec![ACD1.to_string()]);
    assert_eq!(configured(&env, ACD1), 1);
    // A full round trip gives everything back.
    a.deallocate(Target::User("bob"), &[CLIENT]).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.edit_user("alice", &off).unwrap();
    let r = a.edit_user("alice", &on).unwrap();
    assert_eq!(r.restored, vec![ACD1.to_string(), CLIENT.to_string()]);
    assert!(r.not_restored.is_empty());
    assert!(a.check().unwrap().is_empty());
}

#[test]
fn licensing_on_drops_a_key_whose_required_key_could_not_be_restored() {
    let rules = Rules {
        requires: vec![requires(SUPERVISOR, &[CLIENT])],
        ..Rules::default()
    };
    let env = env(&file(&[(CLIENT, 1, 0), (SUPERVISOR, 1, 0)], rules));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT, SUPERVISOR])
        .unwrap();
    let set = |l| UserEdit {
        licensing: Some(l),
        ..UserEdit::default()
    };
    a.edit_user("alice", &set(false)).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    let r = a.edit_user("alice", &set(true)).unwrap();
    assert!(r.restored.is_empty(), "{r:?}");
    let why: Vec<(&str, &str)> = r
        .not_restored
        .iter()
        .map(|n| (n.key.as_str(), n.reason.as_str()))
        .collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(
        why[1].1.contains(&format!("requires one of {CLIENT}")),
        "{why:?}"
    );
    assert!(a.check().unwrap().is_empty());
}

// Seed 001, Dynamic Remote Station Licensing: "To enable a Dynamic Remote station, select the
// User-defined Telephone Number on Remote Login check box in the Client Rights section of the
// Security Rights dialog box [...]. The option is selected by default for all users."
#[test]
fn a_user_denied_the_remote_logon_right_cannot_log_on_as_a_dynamic_remote_station() {
    let env = env(&file(&[(CLIENT, 2, 0), (BASIC, 1, 2)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("desk-1"), &[BASIC]).unwrap();
    // Allowed by default.
    let s = a
        .login("alice", Place::Remote("+13175550100".into()), None)
        .unwrap();
    a.logout(&s.id).unwrap();
    let deny = UserEdit {
        remote_logon: Some(false),
        ..UserEdit::default()
    };
    assert!(!a.edit_user("alice", &deny).unwrap().remote_logon);
    let e = a
        .login("alice", Place::Remote("+13175550100".into()), None)
        .unwrap_err();
    assert_eq!(
        (e.exit_code(), e.rule()),
        (22, Some(RuleKind::Right)),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("User-defined Telephone Number on Remote Login"),
        "{e}"
    );
    // Only dynamic remote logons need the right.
    let s = a
        .login("alice", Place::Station("desk-1".into()), None)
        .unwrap();
    a.logout(&s.id).unwrap();
    let allow = UserEdit {
        remote_logon: Some(true),
        ..UserEdit::default()
    };
    a.edit_user("alice", &allow).unwrap();
    a.login("alice", Place::Remote("+13175550100".into()), None)
        .unwrap();
}

#[test]
fn adding_with_licenses_is_one_transaction() {
    let env = env(&file(
        &[(CLIENT, 1, 0), (BASIC, 1, 0), (ORG, 1, 0)],
        Rules::default(),
    ));
    let a = &env.alloc;
    let got = a
        .add_user_with("alice", Method::Assignable, None, &[CLIENT])
        .unwrap();
    assert_eq!(got, vec![CLIENT.to_string()]);
    // No Client Access left: bob is not added either.
    let e = a
        .add_user_with("bob", Method::Assignable, None, &[CLIENT])
        .unwrap_err();
    assert_eq!(e.exit_code(), 21, "{e}");
    assert_eq!(users(&env), vec!["alice".to_string()]);
    // A refused key leaves no station behind.
    let e = a
        .add_station_with("desk-1", StationKind::Workstation, &[BASIC, ORG])
        .unwrap_err();
    assert_eq!(e.exit_code(), 22, "{e}");
    assert_eq!(configured(&env, BASIC), 0);
    let r = a
        .add_station_with("desk-1", StationKind::Workstation, &[BASIC])
        .unwrap();
    assert_eq!(r.allocated, vec![BASIC.to_string()]);
    assert!(r.warnings.is_empty(), "{r:?}");
    assert!(a.check().unwrap().is_empty());
}

// Seed 001, Basic Station license: "All active stations require a Basic Station license.
// Without one, the station does not have a dial tone or audio."
#[test]
fn a_station_configured_without_a_basic_station_is_warned_about() {
    let env = env(&file(&[(CLIENT, 2, 0), (BASIC, 1, 0)], Rules::default()));
    let a = &env.alloc;
    let r = a
        .add_station_with("desk-1", StationKind::Workstation, &[CLIENT])
        .unwrap();
    assert_eq!(r.warnings.len(), 1, "{r:?}");
    assert!(
        r.warnings[0]
            .to_lowercase()
            .contains("all active stations require a basic station license"),
        "{r:?}"
    );
    assert!(r.warnings[0].contains("desk-1"));
    assert_eq!(a.station_warnings("desk-1").unwrap(), r.warnings);
    // Not active, not warned about; enabled again, warned again.
    a.disable_station("desk-1").unwrap();
    assert!(a.station_warnings("desk-1").unwrap().is_empty());
    a.enable_station("desk-1").unwrap();
    assert_eq!(a.station_warnings("desk-1").unwrap().len(), 1);
    a.allocate(Target::Station("desk-1"), &[BASIC]).unwrap();
    assert!(a.station_warnings("desk-1").unwrap().is_empty());
    let e = a.station_warnings("nowhere").unwrap_err();
    assert_eq!(e.kind(), "unknown-station");
}

// Seed 001: "logging on at another computer ends the previous session" (DESIGN.md): the logon
// says which session it ended, and the ended session says why.
#[test]
fn a_logon_elsewhere_names_the_session_it_replaced() {
    let env = env(&file(&[(CLIENT, 1, 0), (BASIC, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("desk-1"), &[BASIC]).unwrap();
    let first = a.login("alice", Place::Nowhere, None).unwrap();
    assert_eq!(first.replaced, None);
    let again = a.login("alice", Place::Nowhere, None).unwrap();
    assert!(again.reused && again.replaced.is_none());
    let second = a
        .login("alice", Place::Station("desk-1".into()), None)
        .unwrap();
    assert_eq!(second.replaced.as_deref(), Some(first.id.as_str()));
    let e = a.heartbeat(&first.id).unwrap_err();
    assert_eq!(e.kind(), "unknown-session");
    assert_eq!(
        a.session_end(&first.id).unwrap().unwrap().reason,
        "logged-on-elsewhere"
    );
}

#[test]
fn a_store_of_schema_6_keeps_the_settings_through_a_copy() {
    let env = env(&file(&[(CLIENT, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.edit_user(
        "alice",
        &UserEdit {
            licensing: Some(false),
            remote_logon: Some(false),
            ..UserEdit::default()
        },
    )
    .unwrap();
    a.add_workgroup("support", &["call", "email"]).unwrap();
    a.add_workgroup_member("support", "alice").unwrap();
    let to = allocation::StoreLocation::Sqlite(env.dir.path().join("copy.db"));
    allocation::copy_store(a.location(), &to).unwrap();
    let b = allocation::Allocator::open_at(&to, verifier(), std::sync::Arc::new(env.clock.clone()))
        .unwrap();
    assert_eq!(b.workgroups().unwrap(), a.workgroups().unwrap());
    let r = b
        .edit_user(
            "alice",
            &UserEdit {
                licensing: Some(true),
                ..UserEdit::default()
            },
        )
        .unwrap();
    assert_eq!(r.restored, vec![CLIENT.to_string()]);
    assert!(!r.remote_logon, "the right stays denied in the copy");
    assert!(b.check().unwrap().is_empty());
}

/// Turn the store back into a version-4 store (the release before the users' settings).
fn downgrade_to_v4(env: &Env) {
    let drop = "DROP TABLE install_key; DROP TABLE released; DROP TABLE checkouts; DROP TABLE workgroup_members; DROP TABLE workgroups; DROP TABLE user_kept_grants; DROP TABLE user_settings;";
    let usage = "DROP TABLE usage_events; DROP TABLE usage_peaks; DROP TABLE usage_denials; DROP TABLE usage_licensed; DROP TABLE history_state;";
    match location(env.dir.path()) {
        allocation::StoreLocation::Sqlite(path) => store_sqlite::open_raw(&path)
            .unwrap()
            .execute_batch(&format!("{drop} DROP TRIGGER usage_counts_peak_ins; DROP TRIGGER usage_counts_peak_upd; {usage} PRAGMA user_version = 4;"))
            .unwrap(),
        allocation::StoreLocation::Postgres(url) => {
            let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
            c.batch_execute(&format!(
                "{drop} DROP TRIGGER usage_counts_peak ON usage_counts; DROP FUNCTION usage_counts_peak(); {usage} UPDATE i3lic_store SET schema_version = 4, changes = changes + 1;"
            ))
            .unwrap();
        }
    }
}

#[test]
fn a_version_4_store_gets_the_settings_and_workgroups_when_opened() {
    let env = env(&file(&[(CLIENT, 1, 0)], Rules::default()));
    env.alloc
        .add_user("alice", Method::Assignable, None)
        .unwrap();
    env.alloc
        .allocate(Target::User("alice"), &[CLIENT])
        .unwrap();
    let before = env.alloc.report().unwrap();
    downgrade_to_v4(&env);
    let a = env.reopen();
    assert_eq!(a.report().unwrap(), before);
    let r = a
        .edit_user(
            "alice",
            &UserEdit {
                licensing: Some(false),
                ..UserEdit::default()
            },
        )
        .unwrap();
    assert_eq!(r.released, vec![CLIENT.to_string()]);
    a.add_workgroup("support", &["call"]).unwrap();
    assert!(a.check().unwrap().is_empty());
}

#[test]
fn edits_of_unknown_users_and_organizations_name_them() {
    let env = env(&file(&[(CLIENT, 1, 0)], Rules::default()));
    let a = &env.alloc;
    let e = a.edit_user("ghost", &UserEdit::default()).unwrap_err();
    assert!(matches!(e, AllocError::Unknown { .. }), "{e}");
    assert_eq!(e.exit_code(), 20);
    let e = a.remove_organization("ghost").unwrap_err();
    assert_eq!(e.exit_code(), 20);
    let e = a.remove_organization("bad\u{202e}name").unwrap_err();
    assert_eq!(e.exit_code(), 3);
}

postgres_too!(
    an_organization_with_users_is_not_removed_and_the_error_names_them,
    the_organization_license_is_never_allocated_to_a_user_or_a_station,
    a_method_change_is_refused_naming_the_licenses_of_the_other_method,
    a_users_licensing_off_releases_its_licenses_and_keeps_them_and_on_restores_what_is_left,
    licensing_on_drops_a_key_whose_required_key_could_not_be_restored,
    a_user_denied_the_remote_logon_right_cannot_log_on_as_a_dynamic_remote_station,
    adding_with_licenses_is_one_transaction,
    a_station_configured_without_a_basic_station_is_warned_about,
    a_logon_elsewhere_names_the_session_it_replaced,
    a_store_of_schema_6_keeps_the_settings_through_a_copy,
    edits_of_unknown_users_and_organizations_name_them,
    a_version_4_store_gets_the_settings_and_workgroups_when_opened,
);
