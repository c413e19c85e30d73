//! One test per allocation rule of DESIGN.md, each beside the seed sentence it comes from.

mod common;

use allocation::{AllocError, Method, Place, Pool, RuleKind, StationKind, Target, UserFilter};
use common::*;
use format::{Holder, Rules};
use store::TxExt as _;

fn code(e: &AllocError) -> i32 {
    e.exit_code()
}

fn counts(env: &Env, key: &str) -> allocation::KeyReport {
    env.alloc
        .report()
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.name == key)
        .unwrap()
}

fn remote(n: &str) -> Place {
    Place::Remote(n.into())
}

fn at(s: &str) -> Place {
    Place::Station(s.into())
}

// Seed 001, Rules for Assignable licenses: "When you allocate an assignable license to a user,
// the user immediately acquires the license, independent of whether the user is logged on.
// [...] Removing the license from the user or deleting the user releases the acquired
// Assignable license."
#[test]
fn assignable_user_license_is_consumed_at_allocation_and_released_at_removal_or_deletion() {
    let env = env(&file(&[(CLIENT, 2, 0)], Rules::default()));
    let a = &env.alloc;
    for u in ["alice", "bob", "carol"] {
        a.add_user(u, Method::Assignable, None).unwrap();
    }
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    assert_eq!(
        counts(&env, CLIENT).assignable_configured,
        1,
        "consumed without a logon"
    );
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    let e = a.allocate(Target::User("carol"), &[CLIENT]).unwrap_err();
    assert!(
        matches!(
            e,
            AllocError::NoLicenseAvailable {
                pool: Pool::Assignable,
                licensed: 2,
                in_use: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(code(&e), 21);
    a.deallocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.remove_user("bob").unwrap();
    assert_eq!(
        counts(&env, CLIENT).assignable_configured,
        1,
        "deleting the user released it"
    );
    assert!(a.check().unwrap().is_empty());
}

// Seed 001: "When you allocate an assignable license to a station, the station immediately
// acquires the license, independent of whether a user is logged on to that station. Removing
// the license from the station or deleting the station releases the acquired Assignable license."
#[test]
fn assignable_station_license_is_consumed_at_allocation_and_released_at_removal_or_deletion() {
    let env = env(&file(&[(BASIC, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_station("st1", StationKind::Workstation).unwrap();
    a.add_station("st2", StationKind::Phone).unwrap();
    a.allocate(Target::Station("st1"), &[BASIC]).unwrap();
    assert_eq!(
        a.allocate(Target::Station("st2"), &[BASIC])
            .unwrap_err()
            .exit_code(),
        21
    );
    a.deallocate(Target::Station("st1"), &[BASIC]).unwrap();
    a.allocate(Target::Station("st2"), &[BASIC]).unwrap();
    a.remove_station("st2").unwrap();
    a.allocate(Target::Station("st1"), &[BASIC]).unwrap();
    assert_eq!(counts(&env, BASIC).assignable_configured, 1);
}

// Seed 001, License Allocation Methods: "However, you must allocate all licenses for a
// specific user as either Assigned or Concurrent."
#[test]
fn a_users_licenses_are_all_of_its_method() {
    let rules = Rules {
        keys: vec![key_rule(
            SUPERVISOR,
            &[Holder::User, Holder::Station],
            &[Method::Assignable],
        )],
        ..Rules::default()
    };
    let env = env(&file(&[(CLIENT, 1, 1), (SUPERVISOR, 5, 5)], rules));
    let a = &env.alloc;
    a.add_user("alice", Method::Concurrent, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    // The concurrent user's Client Access is configured, not consumed from the assignable count.
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    let r = counts(&env, CLIENT);
    assert_eq!((r.assignable_configured, r.concurrent_configured), (1, 1));
    // A key the file allows only as assignable cannot be given to a concurrent user.
    let e = a
        .allocate(Target::User("alice"), &[SUPERVISOR])
        .unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Method), 22),
        "{e}"
    );
}

// Seed 001: "You can only configure licenses for stations as Assignable." / "You cannot
// configure licenses for stations as Concurrent."
#[test]
fn stations_hold_assignable_licenses_only() {
    let rules = Rules {
        keys: vec![key_rule(
            SUPERVISOR,
            &[Holder::User, Holder::Station],
            &[Method::Concurrent],
        )],
        ..Rules::default()
    };
    let env = env(&file(&[(CLIENT, 1, 1), (SUPERVISOR, 5, 5)], rules));
    env.alloc
        .add_station("st1", StationKind::Workstation)
        .unwrap();
    let e = env
        .alloc
        .allocate(Target::Station("st1"), &[SUPERVISOR])
        .unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Method), 22),
        "{e}"
    );
    env.alloc
        .allocate(Target::Station("st1"), &[CLIENT])
        .unwrap();
}

// Seed 001, Basic Station License (station only): "You cannot allocate a Basic Station
// license to users." and "Note: You can only allocate the Basic Station license to stations."
#[test]
fn station_only_keys_are_never_held_by_users() {
    // Basic Station is station-only even in a file without rules (the pool is the dynamic
    // remote stations'); any other key is station-only when the file's rules say so.
    let rules = Rules {
        keys: vec![key_rule(
            "I3_ACCESS_STATION_THING",
            &[Holder::Station],
            &[Method::Assignable],
        )],
        ..Rules::default()
    };
    let env = env(&file(
        &[(BASIC, 5, 5), ("I3_ACCESS_STATION_THING", 5, 0)],
        rules,
    ));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("bob", Method::Concurrent, None).unwrap();
    for (u, k) in [
        ("alice", BASIC),
        ("bob", BASIC),
        ("alice", "I3_ACCESS_STATION_THING"),
    ] {
        let e = a.allocate(Target::User(u), &[k]).unwrap_err();
        assert_eq!(
            (e.rule(), e.exit_code()),
            (Some(RuleKind::Holder), 22),
            "{u} {k}: {e}"
        );
    }
    a.add_station("st1", StationKind::Fax).unwrap();
    a.allocate(Target::Station("st1"), &[BASIC, "I3_ACCESS_STATION_THING"])
        .unwrap();
}

// Seed 001, Concurrent license allocation: "With a Concurrent license, the system allocates
// all of the licenses for a user when the corresponding product modules load." and "When the
// user logs off, the system releases the acquired Concurrent license."
#[test]
fn concurrent_licenses_are_acquired_all_at_once_at_logon_and_released_at_logoff() {
    let env = env(&file(
        &[(CLIENT, 0, 2), (RECORDER, 0, 1), (SUPERVISOR, 0, 2)],
        Rules::default(),
    ));
    let a = &env.alloc;
    for u in ["alice", "bob"] {
        a.add_user(u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT, RECORDER, SUPERVISOR])
            .unwrap();
    }
    assert_eq!(
        counts(&env, CLIENT).concurrent_in_use,
        0,
        "configured, not consumed"
    );
    let s = a.login("alice", Place::Nowhere, None).unwrap();
    assert_eq!(s.acquired, vec![CLIENT, RECORDER, SUPERVISOR]);
    // All or nothing: the one Recorder licence is in use, so bob gets none of the three.
    let e = a.login("bob", Place::Nowhere, None).unwrap_err();
    assert!(
        matches!(&e, AllocError::NoLicenseAvailable { key, .. } if key == RECORDER),
        "{e}"
    );
    assert_eq!(counts(&env, CLIENT).concurrent_in_use, 1);
    a.logout(&s.id).unwrap();
    assert_eq!(counts(&env, RECORDER).concurrent_in_use, 0);
    a.login("bob", Place::Nowhere, None).unwrap();
    assert_eq!(
        a.logout(&s.id).unwrap_err().exit_code(),
        20,
        "an ended session is unknown"
    );
}

// Seed 001: "If a user acquires a license and any application on any computer reacquires that
// license for that same user, the system uses the license acquired previously. The license
// count doesn't increase."
#[test]
fn reacquiring_by_the_same_user_reuses_the_licenses() {
    let env = env(&file(&[(CLIENT, 0, 1)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    let s1 = a.login("alice", Place::Nowhere, None).unwrap();
    let s2 = a.login("alice", Place::Nowhere, None).unwrap();
    assert!(s2.reused);
    assert_eq!(s1.id, s2.id);
    assert_eq!(counts(&env, CLIENT).concurrent_in_use, 1);
}

// Seed 001, Rules for Concurrent licenses: "If the user logs on to another computer, the
// system logs off the user from the previous computer." (the same for assignable users).
#[test]
fn logon_at_another_computer_ends_the_previous_session() {
    let env = env(&file(&[(CLIENT, 1, 1), (BASIC, 2, 0)], Rules::default()));
    let a = &env.alloc;
    for s in ["st1", "st2"] {
        a.add_station(s, StationKind::Workstation).unwrap();
        a.allocate(Target::Station(s), &[BASIC]).unwrap();
    }
    a.add_user("alice", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    let s1 = a.login("alice", at("st1"), None).unwrap();
    let s2 = a.login("alice", at("st2"), None).unwrap();
    assert_ne!(s1.id, s2.id);
    assert_eq!(
        a.heartbeat(&s1.id).unwrap_err().exit_code(),
        20,
        "the first session ended"
    );
    assert_eq!(counts(&env, CLIENT).concurrent_in_use, 1);
    // st1 is free again for someone else.
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    a.login("bob", at("st1"), None).unwrap();
}

// Seed 001, CIC Client Licensing: "When a user logs on to a specified station, that user
// exclusively acquires all the licenses available to that station while the user is logged
// on to the station. When the user logs off, those licenses become available for the next
// user who logs on to that station."
#[test]
fn a_stations_licenses_are_held_exclusively_by_the_user_logged_on_there() {
    let env = env(&file(&[(CLIENT, 2, 0), (BASIC, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_station("st1", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("st1"), &[BASIC, CLIENT])
        .unwrap();
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    let s = a.login("alice", at("st1"), None).unwrap();
    let e = a.login("bob", at("st1"), None).unwrap_err();
    assert!(
        matches!(&e, AllocError::StationInUse { user, .. } if user == "alice"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 21);
    a.logout(&s.id).unwrap();
    a.login("bob", at("st1"), None).unwrap();
}

// Seed 001, CIC Client Licensing: "The station the user logs on to must have a Basic Station
// license allocated and available." and "Either the user or the station must have a Client
// Access license or ACD Access license allocated and available."
#[test]
fn running_the_client_at_a_station_needs_basic_station_and_client_or_acd_access() {
    let env = env(&file(
        &[(CLIENT, 2, 0), (ACD1, 2, 0), (BASIC, 2, 0)],
        Rules::default(),
    ));
    let a = &env.alloc;
    a.add_station("bare", StationKind::Workstation).unwrap();
    a.add_station("audio", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("audio"), &[BASIC]).unwrap();
    a.add_user("alice", Method::Assignable, None).unwrap();
    let e = a.login("alice", at("bare"), None).unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Station), 22),
        "{e}"
    );
    let e = a.login("alice", at("audio"), None).unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Access), 22),
        "{e}"
    );
    // ACD Access on the user is enough...
    a.allocate(Target::User("alice"), &[ACD1]).unwrap();
    let s = a.login("alice", at("audio"), None).unwrap();
    a.logout(&s.id).unwrap();
    // ... as is Client Access on the station.
    a.deallocate(Target::User("alice"), &[ACD1]).unwrap();
    a.allocate(Target::Station("audio"), &[CLIENT]).unwrap();
    a.login("alice", at("audio"), None).unwrap();
}

// Seed 001, Remote Station Licensing: "The system looks for an available Basic Station license
// to process Dynamic Remote station logons. If there are no available Basic Station licenses,
// the system rejects the logon attempt." and "if the system allocated all Basic Station
// licenses to stations, no Dynamic Remote stations logons succeed." and, Client Access: "If a
// user logs on to a dynamic remote station [...] the user doesn't need a Client Access license."
#[test]
fn dynamic_remote_logons_take_a_basic_station_from_the_pool_else_an_unallocated_one_else_are_refused(
) {
    let env = env(&file(&[(BASIC, 2, 1)], Rules::default()));
    let a = &env.alloc;
    for u in ["u1", "u2", "u3"] {
        a.add_user(u, Method::Assignable, None).unwrap();
    }
    a.add_station("st1", StationKind::Remote).unwrap();
    a.allocate(Target::Station("st1"), &[BASIC]).unwrap();
    let s1 = a.login("u1", remote("+1 317 555 0100"), None).unwrap();
    assert_eq!(s1.acquired, vec![BASIC]);
    let r = counts(&env, BASIC);
    assert_eq!(
        (r.concurrent_in_use, r.assignable_dynamic),
        (1, 0),
        "from the pool first"
    );
    a.login("u2", remote("+1 317 555 0101"), None).unwrap();
    let r = counts(&env, BASIC);
    assert_eq!(
        (r.concurrent_in_use, r.assignable_dynamic),
        (1, 1),
        "then one no station holds"
    );
    let e = a.login("u3", remote("+1 317 555 0102"), None).unwrap_err();
    assert_eq!(e.exit_code(), 21, "{e}");
    // While the dynamic logon holds the last assignable Basic Station, no station gets it.
    a.add_station("st2", StationKind::Workstation).unwrap();
    assert_eq!(
        a.allocate(Target::Station("st2"), &[BASIC])
            .unwrap_err()
            .exit_code(),
        21
    );
    a.logout(&s1.id).unwrap();
    a.login("u3", remote("555-0102"), None).unwrap();
    assert!(a.check().unwrap().is_empty());
}

// Seed 001, Allocate Licenses When Adding a Station: "Enable Licenses: If selected, activates
// the license settings. If cleared, the system ignores the license settings in this dialog
// box. This option allows you to turn off licensing for a station, but keep the license settings."
#[test]
fn a_stations_licensing_can_be_disabled_and_enabled_keeping_its_settings() {
    let env = env(&file(&[(BASIC, 1, 0), (CLIENT, 1, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_station("st1", StationKind::Workstation).unwrap();
    a.add_station("st2", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("st1"), &[BASIC, CLIENT])
        .unwrap();
    a.disable_station("st1").unwrap();
    assert_eq!(counts(&env, BASIC).assignable_configured, 0, "released");
    a.allocate(Target::Station("st2"), &[BASIC]).unwrap();
    // Enabling needs the licenses back: all or nothing.
    let e = a.enable_station("st1").unwrap_err();
    assert_eq!(e.exit_code(), 21, "{e}");
    a.remove_station("st2").unwrap();
    a.enable_station("st1").unwrap();
    let r = counts(&env, CLIENT);
    assert_eq!(r.assignable_configured, 1, "the settings were kept");
    // A disabled station cannot be logged on.
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.disable_station("st1").unwrap();
    let e = a.login("alice", at("st1"), None).unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Station), "{e}");
}

// Seed 000, Organization license: "This counted license dictates the number of organizations created."
#[test]
fn the_organization_license_counts_organizations() {
    let env = env(&file(&[(ORG, 2, 0), (CLIENT, 5, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_organization("Fabrikam").unwrap();
    a.add_organization("Tailspin").unwrap();
    let e = a.add_organization("Wingtip").unwrap_err();
    assert!(
        matches!(
            e,
            AllocError::OrganizationsExhausted {
                licensed: 2,
                existing: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.exit_code(), 21);
    a.add_user("alice", Method::Assignable, Some("Fabrikam"))
        .unwrap();
    assert_eq!(
        a.add_user("bob", Method::Assignable, Some("Nope"))
            .unwrap_err()
            .exit_code(),
        20
    );
    let list = a.users(&UserFilter::default()).unwrap();
    assert_eq!(list.users[0].organization.as_deref(), Some("Fabrikam"));
}

// Seed 003 (POM): "Minimum: The minimum number of manual licenses required." / "Maximum: The
// maximum number of manual licenses required." / "The system considers the maximum value you
// specify here as the System capacity."
#[test]
fn organizations_have_a_reserved_minimum_and_a_maximum_per_key() {
    let env = env(&file(&[(ORG, 2, 0), (CLIENT, 4, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_organization("A").unwrap();
    a.add_organization("B").unwrap();
    let e = a
        .set_organization_limit("A", CLIENT, None, Some(5))
        .unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Limit), 22),
        "max above the system: {e}"
    );
    let e = a
        .set_organization_limit("A", CLIENT, Some(3), Some(2))
        .unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Limit), "min above max: {e}");
    a.set_organization_limit("A", CLIENT, Some(2), Some(3))
        .unwrap();
    for (u, o) in [
        ("a1", Some("A")),
        ("a2", Some("A")),
        ("a3", Some("A")),
        ("a4", Some("A")),
        ("b1", Some("B")),
        ("b2", Some("B")),
        ("b3", Some("B")),
        ("n", None),
    ] {
        a.add_user(u, Method::Assignable, o).unwrap();
    }
    // Two of four are reserved for A: others may take two.
    a.allocate(Target::User("b1"), &[CLIENT]).unwrap();
    a.allocate(Target::User("n"), &[CLIENT]).unwrap();
    let e = a.allocate(Target::User("b2"), &[CLIENT]).unwrap_err();
    assert!(
        matches!(
            e,
            AllocError::Reserved {
                reserved: 2,
                free: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.exit_code(), 21);
    a.allocate(Target::User("a1"), &[CLIENT]).unwrap();
    a.allocate(Target::User("a2"), &[CLIENT]).unwrap();
    // A's maximum of 3 would allow a third, but the system has none left.
    assert_eq!(
        a.allocate(Target::User("a3"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        21
    );
    a.deallocate(Target::User("n"), &[CLIENT]).unwrap();
    a.allocate(Target::User("a3"), &[CLIENT]).unwrap();
    a.deallocate(Target::User("b1"), &[CLIENT]).unwrap();
    let e = a.allocate(Target::User("a4"), &[CLIENT]).unwrap_err();
    assert!(
        matches!(e, AllocError::OrganizationCap { max: 3, .. }),
        "{e}"
    );
    assert!(a.check().unwrap().is_empty());
}

// Seed 002 (Vonage): "A user must have a Wallboard, Supervisor, or Admin VCC license to have a
// Historical Analytics license."
#[test]
fn requires_needs_one_of_the_keys_on_the_same_holder() {
    let rules = Rules {
        requires: vec![requires("HA_VIEWER", &["ADMIN", "SUPERVISOR", "WALLBOARD"])],
        ..Rules::default()
    };
    let env = env(&file(
        &[("HA_VIEWER", 5, 5), ("SUPERVISOR", 5, 5), ("AGENT", 5, 5)],
        rules,
    ));
    let a = &env.alloc;
    a.add_user("agent", Method::Assignable, None).unwrap();
    a.add_user("sup", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("agent"), &["AGENT"]).unwrap();
    let e = a
        .allocate(Target::User("agent"), &["HA_VIEWER"])
        .unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Requires), 22),
        "{e}"
    );
    // Both in one allocation is fine; for a concurrent user, configured is what counts.
    a.allocate(Target::User("sup"), &["HA_VIEWER", "SUPERVISOR"])
        .unwrap();
    // Removing what another key requires is refused too.
    let e = a
        .deallocate(Target::User("sup"), &["SUPERVISOR"])
        .unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Requires), "{e}");
    a.deallocate(Target::User("sup"), &["HA_VIEWER", "SUPERVISOR"])
        .unwrap();
}

// Seed 004 (Natterbox): "Assigning a Freedom license automatically assigns a CTI license, and
// removing the Freedom license automatically removes the CTI license."
#[test]
fn implies_allocates_and_removes_the_implied_key_with_it() {
    let rules = Rules {
        implies: vec![implies("FREEDOM", "CTI")],
        ..Rules::default()
    };
    let env = env(&file(&[("FREEDOM", 5, 0), ("CTI", 2, 0)], rules));
    let a = &env.alloc;
    for u in ["u1", "u2", "u3"] {
        a.add_user(u, Method::Assignable, None).unwrap();
    }
    assert_eq!(
        a.allocate(Target::User("u1"), &["FREEDOM"]).unwrap(),
        vec!["CTI", "FREEDOM"]
    );
    assert_eq!(
        counts(&env, "CTI").assignable_configured,
        1,
        "CTI consumed with Freedom"
    );
    let e = a.deallocate(Target::User("u1"), &["CTI"]).unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Implies), "{e}");
    assert_eq!(
        a.deallocate(Target::User("u1"), &["FREEDOM"]).unwrap(),
        vec!["CTI", "FREEDOM"]
    );
    // A CTI held on its own stays when Freedom goes.
    a.allocate(Target::User("u2"), &["CTI"]).unwrap();
    a.allocate(Target::User("u2"), &["FREEDOM"]).unwrap();
    assert_eq!(
        a.deallocate(Target::User("u2"), &["FREEDOM"]).unwrap(),
        vec!["FREEDOM"]
    );
    // All or nothing: no CTI left, so no Freedom either; the refusal names the key that
    // brought CTI, since CTI was not asked for.
    a.allocate(Target::User("u1"), &["CTI"]).unwrap();
    let e = a.allocate(Target::User("u3"), &["FREEDOM"]).unwrap_err();
    assert!(
        matches!(&e, AllocError::Implied { key, by, source }
            if key == "CTI" && by == "FREEDOM"
                && matches!(**source, AllocError::NoLicenseAvailable { .. })),
        "{e}"
    );
    assert!(e.to_string().starts_with("CTI (implied by FREEDOM): no assignable license of CTI available: 2 licensed, 2 in use"), "{e}");
    assert_eq!((e.exit_code(), e.kind()), (21, "no-license-available"));
    assert_eq!(counts(&env, "FREEDOM").assignable_configured, 0);
}

// Seed 004 (Natterbox): "A user cannot have Freedom and SCV, they are mutually exclusive."
#[test]
fn excludes_refuses_two_keys_of_a_set_on_one_holder() {
    let rules = Rules {
        excludes: vec![excludes(&["FREEDOM", "SERVICE_CLOUD_VOICE"])],
        ..Rules::default()
    };
    let env = env(&file(
        &[("FREEDOM", 5, 0), ("SERVICE_CLOUD_VOICE", 5, 0)],
        rules,
    ));
    let a = &env.alloc;
    a.add_user("u1", Method::Assignable, None).unwrap();
    a.add_user("u2", Method::Assignable, None).unwrap();
    a.allocate(Target::User("u1"), &["FREEDOM"]).unwrap();
    let e = a
        .allocate(Target::User("u1"), &["SERVICE_CLOUD_VOICE"])
        .unwrap_err();
    assert_eq!(
        (e.rule(), e.exit_code()),
        (Some(RuleKind::Excludes), 22),
        "{e}"
    );
    a.allocate(Target::User("u2"), &["SERVICE_CLOUD_VOICE"])
        .unwrap();
}

// DESIGN.md, License rules: "who may hold it (`user`, `station`, or both)".
#[test]
fn holder_rules_of_the_file_are_enforced() {
    let rules = Rules {
        keys: vec![key_rule(
            "I3_ACCESS_IPA_MONITOR",
            &[Holder::User],
            &[Method::Assignable, Method::Concurrent],
        )],
        ..Rules::default()
    };
    let env = env(&file(&[("I3_ACCESS_IPA_MONITOR", 5, 5)], rules));
    env.alloc
        .add_station("st1", StationKind::Workstation)
        .unwrap();
    let e = env
        .alloc
        .allocate(Target::Station("st1"), &["I3_ACCESS_IPA_MONITOR"])
        .unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Holder), "{e}");
}

// DESIGN.md, Allocation: "sessions have leases renewed by heartbeats, so a crashed client's
// licenses come back."
#[test]
fn a_lapsed_sessions_licenses_come_back_and_heartbeats_renew_the_lease() {
    let env = env(&file(&[(CLIENT, 0, 1)], Rules::default()));
    let a = &env.alloc;
    for u in ["alice", "bob"] {
        a.add_user(u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT]).unwrap();
    }
    let s = a.login("alice", Place::Nowhere, Some(60)).unwrap();
    env.clock.advance(50);
    a.heartbeat(&s.id).unwrap();
    env.clock.advance(50);
    assert_eq!(
        a.login("bob", Place::Nowhere, None)
            .unwrap_err()
            .exit_code(),
        21,
        "renewed: still held"
    );
    env.clock.advance(11);
    assert_eq!(
        counts(&env, CLIENT).concurrent_in_use,
        0,
        "lapsed without a logoff"
    );
    a.login("bob", Place::Nowhere, None).unwrap();
    assert_eq!(a.heartbeat(&s.id).unwrap_err().exit_code(), 20);
    assert_eq!(
        a.login("alice", Place::Nowhere, Some(0))
            .unwrap_err()
            .exit_code(),
        3
    );
}

// DESIGN.md: "Loading a new file while running keeps every allocation. Where the new counts
// are lower, nothing is taken away: the license is out of compliance, new allocations of it
// are refused, and the compliance check reports it."
#[test]
fn loading_a_smaller_file_keeps_allocations_and_leaves_the_key_out_of_compliance() {
    let (mut chain, first) = Chain_::first(&[(CLIENT, 3, 0)], Rules::default());
    let env = env(&first);
    let a = &env.alloc;
    for u in ["u1", "u2", "u3", "u4"] {
        a.add_user(u, Method::Assignable, None).unwrap();
    }
    for u in ["u1", "u2", "u3"] {
        a.allocate(Target::User(u), &[CLIENT]).unwrap();
    }
    let smaller = chain.next(&[(CLIENT, 1, 0)], Rules::default());
    let p = a.preview(smaller.as_bytes()).unwrap();
    assert_eq!(p.out_of_compliance.len(), 1);
    assert_eq!(
        (
            p.out_of_compliance[0].licensed,
            p.out_of_compliance[0].in_use
        ),
        (1, 3)
    );
    assert_eq!(
        counts(&env, CLIENT).assignable_allowed,
        3,
        "preview changed nothing"
    );
    let r = a.load(smaller.as_bytes()).unwrap();
    assert_eq!(r.out_of_compliance[0].excess(), 2);
    let k = counts(&env, CLIENT);
    assert_eq!(
        (k.assignable_allowed, k.assignable_configured),
        (1, 3),
        "nothing taken away"
    );
    assert_eq!(k.notes, vec!["assignable out of compliance by 2"]);
    let e = a.allocate(Target::User("u4"), &[CLIENT]).unwrap_err();
    assert_eq!((e.kind(), e.exit_code()), ("out-of-compliance", 21), "{e}");
    let events = a.check_compliance().unwrap();
    assert_eq!(events.len(), 1);
    assert!(a.check().unwrap().is_empty(), "grandfathered, not broken");
    // Back within the license, then allocations work again.
    a.deallocate(Target::User("u1"), &[CLIENT]).unwrap();
    a.deallocate(Target::User("u2"), &[CLIENT]).unwrap();
    assert!(a.check_compliance().unwrap().is_empty());
    let larger = chain.next(&[(CLIENT, 5, 0)], Rules::default());
    a.load(larger.as_bytes()).unwrap();
    a.allocate(Target::User("u4"), &[CLIENT]).unwrap();
}

// DESIGN.md: "`licadmin load FILE` (verify and make it the server's license; the old one
// stays on failure)".
#[test]
fn a_refused_file_leaves_the_old_license_in_place() {
    let (mut chain, first) = Chain_::first(&[(CLIENT, 3, 0)], Rules::default());
    let env = env(&first);
    let a = &env.alloc;
    let next = chain.next(&[(CLIENT, 9, 0)], Rules::default());
    let tampered = next.replace("\"assigned\": 9", "\"assigned\": 90");
    assert_eq!(a.load(tampered.as_bytes()).unwrap_err().exit_code(), 10);
    let foreign = format::sign(
        &activation(&[(CLIENT, 9, 0)], Rules::default()),
        &other_vendor(),
    )
    .unwrap();
    assert_eq!(a.load(foreign.as_bytes()).unwrap_err().exit_code(), 11);
    assert_eq!(a.load(b"not a file").unwrap_err().exit_code(), 3);
    assert_eq!(counts(&env, CLIENT).assignable_allowed, 3);
    a.load(next.as_bytes()).unwrap();
    // Rollback: the first generation again is refused (16), as is the store's own check of
    // a superseded file.
    let e = a.load(first.as_bytes()).unwrap_err();
    assert_eq!(e.exit_code(), 16, "{e}");
    assert_eq!(counts(&env, CLIENT).assignable_allowed, 9);
    // The same file again is fine.
    a.load(next.as_bytes()).unwrap();
}

// Seed 000 (IWP): "This event only appears if you exceed licenses, and an event for each
// license exceeded is generated."
#[test]
fn compliance_check_emits_one_event_per_exceeded_license_and_nothing_when_compliant() {
    let (mut chain, first) = Chain_::first(
        &[(CLIENT, 2, 2), (ACD1, 2, 0), (ORG, 2, 0)],
        Rules::default(),
    );
    let env = env(&first);
    let a = &env.alloc;
    assert!(a.check_compliance().unwrap().is_empty());
    a.add_organization("O1").unwrap();
    a.add_organization("O2").unwrap();
    for u in ["u1", "u2"] {
        a.add_user(u, Method::Assignable, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT, ACD1]).unwrap();
    }
    for u in ["c1", "c2"] {
        a.add_user(u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT]).unwrap();
        a.login(u, Place::Nowhere, None).unwrap();
    }
    assert!(a.check_compliance().unwrap().is_empty());
    let smaller = chain.next(
        &[(CLIENT, 1, 1), (ACD1, 2, 0), (ORG, 1, 0)],
        Rules::default(),
    );
    a.load(smaller.as_bytes()).unwrap();
    let mut events: Vec<(String, &str, u32, u32)> = a
        .check_compliance()
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.count, e.licensed, e.in_use))
        .collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            (CLIENT.to_string(), "assignable", 1, 2),
            (CLIENT.to_string(), "concurrent", 1, 2),
            (ORG.to_string(), "organizations", 1, 2),
        ]
    );
}

// Seed 002 (Vonage): "You can filter the list of users by license type or username." and
// "For each license type, it shows the assigned and available licenses."
#[test]
fn user_list_filters_by_license_and_name_with_allocated_and_available_counts() {
    let env = env(&file(&[(CLIENT, 3, 2), (ACD1, 3, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_user("Alice", Method::Assignable, None).unwrap();
    a.add_user("alan", Method::Concurrent, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.allocate(Target::User("Alice"), &[CLIENT, ACD1]).unwrap();
    a.allocate(Target::User("alan"), &[CLIENT]).unwrap();
    a.allocate(Target::User("bob"), &[ACD1]).unwrap();
    a.login("alan", Place::Nowhere, None).unwrap();
    let by_key = a
        .users(&UserFilter {
            license: Some(CLIENT.into()),
            name: None,
        })
        .unwrap();
    let names: Vec<&str> = by_key.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, vec!["Alice", "alan"]);
    assert_eq!(by_key.keys.len(), 1);
    assert_eq!((by_key.keys[0].allocated, by_key.keys[0].available), (2, 3));
    let by_name = a
        .users(&UserFilter {
            license: None,
            name: Some("AL".into()),
        })
        .unwrap();
    assert_eq!(by_name.users.len(), 2);
    assert_eq!(by_name.users[1].in_use, vec![CLIENT]);
}

#[test]
fn names_are_bounded_and_validated_and_bad_input_changes_nothing() {
    let env = env(&file(&[(CLIENT, 3, 0)], Rules::default()));
    let a = &env.alloc;
    for bad in [
        "",
        " alice",
        "alice ",
        "al\u{7}ice",
        "a\nb",
        &"x".repeat(129),
    ] {
        let e = a.add_user(bad, Method::Assignable, None).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{bad:?}: {e}");
    }
    a.add_user(&"x".repeat(128), Method::Assignable, None)
        .unwrap();
    a.add_user("Zoë Ørsted", Method::Assignable, None).unwrap();
    assert_eq!(
        a.add_user("Zoë Ørsted", Method::Assignable, None)
            .unwrap_err()
            .exit_code(),
        3
    );
    assert_eq!(
        a.allocate(Target::User("Zoë Ørsted"), &["lowercase"])
            .unwrap_err()
            .exit_code(),
        3
    );
    assert_eq!(
        a.allocate(Target::User("nobody"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        20
    );
    assert_eq!(
        a.login("Zoë Ørsted", remote("call me"), None)
            .unwrap_err()
            .exit_code(),
        3
    );
    assert_eq!(a.heartbeat("not-a-session").unwrap_err().exit_code(), 3);
    assert_eq!(a.users(&UserFilter::default()).unwrap().users.len(), 2);
}

#[test]
fn the_stored_file_is_reverified_on_open() {
    let env = env(&file(&[(CLIENT, 3, 0)], Rules::default()));
    env.alloc
        .add_user("alice", Method::Assignable, None)
        .unwrap();
    // Another server trusting another key does not accept the stored file.
    let other = verify::Verifier::for_product(
        verify::TrustStore::new([other_vendor().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(verify::HostSource::Code(host()));
    let a2 = allocation::Allocator::open_at(
        &common::location(env.dir.path()),
        other,
        std::sync::Arc::new(allocation::SystemClock),
    )
    .unwrap();
    assert_eq!(
        a2.allocate(Target::User("alice"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        11
    );
    // Releasing still works without a usable file.
    env.alloc
        .allocate(Target::User("alice"), &[CLIENT])
        .unwrap();
    a2.deallocate(Target::User("alice"), &[CLIENT]).unwrap();
}

#[test]
fn another_programs_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.db");
    let c = store_sqlite::open_raw(&p).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&p).unwrap();
    let e = allocation::Allocator::open(&p, verifier()).unwrap_err();
    assert_eq!((e.kind(), e.exit_code()), ("not-a-store", 3), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), before);
    let e = allocation::Allocator::open(dir.path(), verifier()).unwrap_err();
    assert_eq!(e.exit_code(), 4, "{e}");
}

#[test]
fn threads_racing_for_the_last_licenses_never_exceed_the_count() {
    let env = env(&file(&[(CLIENT, 3, 4)], Rules::default()));
    for i in 0..12 {
        env.alloc
            .add_user(&format!("a{i}"), Method::Assignable, None)
            .unwrap();
        env.alloc
            .add_user(&format!("c{i}"), Method::Concurrent, None)
            .unwrap();
        env.alloc
            .allocate(Target::User(&format!("c{i}")), &[CLIENT])
            .unwrap();
    }
    let results: Vec<(bool, bool)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..12)
            .map(|i| {
                let a = env.reopen();
                s.spawn(move || {
                    (
                        a.allocate(Target::User(&format!("a{i}")), &[CLIENT])
                            .is_ok(),
                        a.login(&format!("c{i}"), Place::Nowhere, None).is_ok(),
                    )
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|r| r.0).count(), 3);
    assert_eq!(results.iter().filter(|r| r.1).count(), 4);
    assert!(env.alloc.check().unwrap().is_empty());
}

postgres_too!(
    assignable_user_license_is_consumed_at_allocation_and_released_at_removal_or_deletion,
    assignable_station_license_is_consumed_at_allocation_and_released_at_removal_or_deletion,
    a_users_licenses_are_all_of_its_method,
    stations_hold_assignable_licenses_only,
    station_only_keys_are_never_held_by_users,
    concurrent_licenses_are_acquired_all_at_once_at_logon_and_released_at_logoff,
    reacquiring_by_the_same_user_reuses_the_licenses,
    logon_at_another_computer_ends_the_previous_session,
    a_stations_licenses_are_held_exclusively_by_the_user_logged_on_there,
    running_the_client_at_a_station_needs_basic_station_and_client_or_acd_access,
    dynamic_remote_logons_take_a_basic_station_from_the_pool_else_an_unallocated_one_else_are_refused,
    a_stations_licensing_can_be_disabled_and_enabled_keeping_its_settings,
    the_organization_license_counts_organizations,
    organizations_have_a_reserved_minimum_and_a_maximum_per_key,
    requires_needs_one_of_the_keys_on_the_same_holder,
    implies_allocates_and_removes_the_implied_key_with_it,
    excludes_refuses_two_keys_of_a_set_on_one_holder,
    holder_rules_of_the_file_are_enforced,
    a_lapsed_sessions_licenses_come_back_and_heartbeats_renew_the_lease,
    loading_a_smaller_file_keeps_allocations_and_leaves_the_key_out_of_compliance,
    a_refused_file_leaves_the_old_license_in_place,
    compliance_check_emits_one_event_per_exceeded_license_and_nothing_when_compliant,
    user_list_filters_by_license_and_name_with_allocated_and_available_counts,
    names_are_bounded_and_validated_and_bad_input_changes_nothing,
    the_stored_file_is_reverified_on_open,
    threads_racing_for_the_last_licenses_never_exceed_the_count,
);
