//! Licenses in use by a live session are not taken from it silently: a deallocation from a
//! station someone is logged on at, or from a logged-on assignable user, is refused (21,
//! naming the session) unless it ends the session first; and a session that runs on a
//! license nobody holds (a store changed by hand here) is found by `check` and counted by
//! the compliance check. Also: an organization's maximum applies to dynamic remote logons.

mod common;

use allocation::{AllocError, Deallocation, InUse, Method, Place, StationKind, Target};
use common::*;
use format::Rules;
use store::TxExt as _;

fn at(s: &str) -> Place {
    Place::Station(s.into())
}

/// Basic Station and Client Access, one of each assignable.
fn one_each() -> Env {
    let env = env(&file(&[(BASIC, 1, 0), (CLIENT, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.add_station("desk-2", StationKind::Workstation).unwrap();
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.allocate(Target::Station("desk-1"), &[BASIC]).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    env
}

fn sessions(env: &Env) -> Vec<String> {
    env.alloc
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.user)
        .collect()
}

#[test]
fn a_stations_basic_station_is_not_taken_from_a_logged_on_user() {
    let env = one_each();
    let a = &env.alloc;
    let s = a.login("alice", at("desk-1"), None).unwrap();
    let e = a
        .deallocate(Target::Station("desk-1"), &[BASIC])
        .unwrap_err();
    assert!(
        matches!(&e, AllocError::InUse { session, user, key, .. }
            if *session == s.id && user == "alice" && key == BASIC),
        "{e}"
    );
    assert_eq!((e.exit_code(), e.kind()), (21, "in-use"));
    let msg = e.to_string();
    assert!(msg.contains(&s.id) && msg.contains("alice"), "{msg}");
    // Nothing changed: the license cannot go to another station.
    assert_eq!(sessions(&env), ["alice"]);
    assert_eq!(
        a.allocate(Target::Station("desk-2"), &[BASIC])
            .unwrap_err()
            .exit_code(),
        21
    );
    // Forced: the session ends first, then the license is free.
    let d = a
        .deallocate_with(Target::Station("desk-1"), &[BASIC], InUse::EndSession)
        .unwrap();
    assert_eq!(d.removed, [BASIC]);
    assert_eq!(
        d.ended.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [s.id.as_str()]
    );
    assert!(sessions(&env).is_empty());
    assert_eq!(a.heartbeat(&s.id).unwrap_err().exit_code(), 20);
    a.allocate(Target::Station("desk-2"), &[BASIC]).unwrap();
    assert!(a.check().unwrap().is_empty());
    assert!(a.check_compliance().unwrap().is_empty());
}

#[test]
fn a_logged_on_users_client_access_is_not_taken_from_her() {
    let env = one_each();
    let a = &env.alloc;
    let s = a.login("alice", at("desk-1"), None).unwrap();
    let e = a.deallocate(Target::User("alice"), &[CLIENT]).unwrap_err();
    assert!(
        matches!(&e, AllocError::InUse { session, .. } if *session == s.id),
        "{e}"
    );
    assert_eq!(
        a.allocate(Target::User("bob"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        21,
        "still alice's"
    );
    // Logged off, it goes without --force.
    a.logout(&s.id).unwrap();
    a.deallocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    // Logged on anywhere (no station, a remote number), an assignable user's licenses are
    // in use too; a lapsed session uses nothing.
    a.add_user("carol", Method::Assignable, None).unwrap();
    a.deallocate(Target::User("bob"), &[CLIENT]).unwrap();
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.login("carol", Place::Nowhere, Some(60)).unwrap();
    assert_eq!(
        a.deallocate(Target::User("carol"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        21
    );
    env.clock.advance(61);
    a.deallocate(Target::User("carol"), &[CLIENT]).unwrap();
}

#[test]
fn a_forced_deallocation_refused_by_a_rule_leaves_the_session() {
    let rules = Rules {
        implies: vec![implies("FREEDOM", "CTI")],
        ..Rules::default()
    };
    let env = env(&file(&[("FREEDOM", 1, 0), ("CTI", 1, 0)], rules));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &["FREEDOM"]).unwrap();
    let s = a.login("alice", Place::Nowhere, None).unwrap();
    let e = a
        .deallocate_with(Target::User("alice"), &["CTI"], InUse::EndSession)
        .unwrap_err();
    assert_eq!(e.exit_code(), 22, "{e}");
    assert_eq!(a.heartbeat(&s.id).unwrap().id, s.id, "the session goes on");
    // An unknown key comes first too, and ends nothing.
    assert_eq!(
        a.deallocate_with(Target::User("alice"), &["SCV"], InUse::EndSession)
            .unwrap_err()
            .exit_code(),
        20
    );
    assert_eq!(sessions(&env), ["alice"]);
}

#[test]
fn a_concurrent_users_configured_key_may_go_while_the_session_keeps_what_it_acquired() {
    let env = env(&file(&[(CLIENT, 0, 1)], Rules::default()));
    let a = &env.alloc;
    a.add_user("carol", Method::Concurrent, None).unwrap();
    a.add_user("dave", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.allocate(Target::User("dave"), &[CLIENT]).unwrap();
    a.login("carol", Place::Nowhere, None).unwrap();
    let d: Deallocation = a
        .deallocate_with(Target::User("carol"), &[CLIENT], InUse::Refuse)
        .unwrap();
    assert!(d.ended.is_empty());
    // The pool's one license is still held by carol's session.
    assert_eq!(
        a.login("dave", Place::Nowhere, None)
            .unwrap_err()
            .exit_code(),
        21
    );
    assert!(a.check().unwrap().is_empty());
}

#[test]
fn removing_or_disabling_a_logged_on_holder_ends_its_session() {
    let env = env(&file(&[(BASIC, 3, 0), (CLIENT, 3, 0)], Rules::default()));
    let a = &env.alloc;
    for st in ["desk-1", "desk-2"] {
        a.add_station(st, StationKind::Workstation).unwrap();
        a.allocate(Target::Station(st), &[BASIC, CLIENT]).unwrap();
    }
    for u in ["alice", "bob", "carol"] {
        a.add_user(u, Method::Assignable, None).unwrap();
    }
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.login("alice", at("desk-1"), None).unwrap();
    a.login("bob", at("desk-2"), None).unwrap();
    a.login("carol", Place::Nowhere, None).unwrap();
    a.disable_station("desk-1").unwrap();
    a.remove_station("desk-2").unwrap();
    a.remove_user("carol").unwrap();
    assert!(sessions(&env).is_empty());
    assert!(a.check().unwrap().is_empty());
}

/// The hole of old, made by hand: alice's session at desk-1 goes on after desk-1's Basic
/// Station went to desk-2, and after her only Client Access went to bob.
#[test]
fn check_and_compliance_find_a_session_running_on_licenses_nobody_holds() {
    let env = one_each();
    let a = &env.alloc;
    a.login("alice", at("desk-1"), None).unwrap();
    assert!(a.check().unwrap().is_empty());
    let c = store_sqlite::open_raw(env.path()).unwrap();
    c.execute_batch(&format!(
        "UPDATE station_grants SET station_id = (SELECT id FROM stations WHERE name = 'desk-2')
             WHERE key = '{BASIC}';
         UPDATE user_grants SET user_id = (SELECT id FROM users WHERE name = 'bob')
             WHERE key = '{CLIENT}';"
    ))
    .unwrap();
    drop(c);
    let problems = a.check().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("user 'alice' at station 'desk-1'")
            && problems[0].contains("Basic Station"),
        "{problems:?}"
    );
    assert!(problems[1].contains("Client Access"), "{problems:?}");
    let mut events: Vec<(String, &str, u32, u32)> = a
        .check_compliance()
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.count, e.licensed, e.in_use))
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            (CLIENT.to_string(), "assignable", 1, 2),
            (BASIC.to_string(), "assignable", 1, 2),
        ]
    );
}

#[test]
fn an_organizations_maximum_applies_to_dynamic_remote_logons() {
    let env = env(&file(&[(ORG, 1, 0), (BASIC, 2, 2)], Rules::default()));
    let a = &env.alloc;
    a.add_organization("tenant").unwrap();
    a.set_organization_limit("tenant", BASIC, None, Some(1))
        .unwrap();
    for u in ["u1", "u2"] {
        a.add_user(u, Method::Assignable, Some("tenant")).unwrap();
    }
    a.add_user("outsider", Method::Assignable, None).unwrap();
    a.login("u1", Place::Remote("100".into()), None).unwrap();
    let e = a
        .login("u2", Place::Remote("200".into()), None)
        .unwrap_err();
    assert!(
        matches!(&e, AllocError::OrganizationCap { org, max: 1, .. } if org == "tenant"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 21);
    // Not from the assignable count either; outside the organization the pool still serves.
    a.login("outsider", Place::Remote("300".into()), None)
        .unwrap();
    assert!(a.check().unwrap().is_empty());
}

/// `licadmin deallocate` refuses a license in use (21, naming the session) and `--force`
/// ends the session first, printing it.
#[test]
fn licadmin_deallocate_refuses_a_license_in_use_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let pubkey = dir.path().join("vendor.pub");
    std::fs::write(&pubkey, vendor().public_key().to_text("vendor")).unwrap();
    let f = dir.path().join("server.i3lic");
    std::fs::write(&f, file(&[(BASIC, 1, 0), (CLIENT, 1, 0)], Rules::default())).unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_licadmin"))
            .env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(dir.path().join("store.db"))
            .arg("--trust")
            .arg(&pubkey)
            .arg("--host-id")
            .arg(host().to_string())
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    assert_eq!(run(&["load", f.to_str().unwrap()]).0, 0);
    for args in [
        &["station", "add", "desk-1"][..],
        &["user", "add", "alice"],
        &["allocate", "--station", "desk-1", BASIC, CLIENT],
    ] {
        assert_eq!(run(args).0, 0, "{args:?}");
    }
    let (code, out, _) = run(&["login", "--user", "alice", "--station", "desk-1"]);
    assert_eq!(code, 0);
    let session = out.trim().to_string();
    let (code, out, err) = run(&["deallocate", "--station", "desk-1", BASIC]);
    assert_eq!((code, out.as_str()), (21, ""), "{err}");
    assert!(
        err.contains(&session) && err.contains("user 'alice'") && err.contains("force"),
        "{err}"
    );
    let (code, out, _) = run(&["deallocate", "--station", "desk-1", BASIC, "--json"]);
    assert_eq!(code, 21);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["kind"], "in-use");
    let (code, out, err) = run(&[
        "deallocate",
        "--station",
        "desk-1",
        "--force",
        BASIC,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["deallocated"], serde_json::json!([BASIC]));
    assert_eq!(v["ended_sessions"][0]["id"], session.as_str());
    assert_eq!(v["ended_sessions"][0]["user"], "alice");
    let (code, out, _) = run(&["login", "--user", "alice", "--station", "desk-1"]);
    assert_eq!(code, 22, "no Basic Station on desk-1 any more: {out}");
    assert_eq!(run(&["check"]).1, "consistent\n");
}

postgres_too!(
    a_stations_basic_station_is_not_taken_from_a_logged_on_user,
    a_logged_on_users_client_access_is_not_taken_from_her,
    a_forced_deallocation_refused_by_a_rule_leaves_the_session,
    a_concurrent_users_configured_key_may_go_while_the_session_keeps_what_it_acquired,
    removing_or_disabling_a_logged_on_holder_ends_its_session,
);
