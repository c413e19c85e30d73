//! Refusals an administrator understands: a key the loaded file does not grant, a dynamic
//! remote logon with no station left, an implied key, no file loaded, and names that would
//! read differently from what they hold.

mod common;

use std::sync::Arc;

use allocation::{AllocError, Allocator, EventKind, ManualClock, Method, Place, Target};
use common::*;
use format::Rules;

const FREEDOM: &str = "FREEDOM";
const CTI: &str = "CTI";

/// Refused as not granted: the words, the kind and the exit code; never "0 licensed".
fn assert_not_licensed(e: &AllocError, key: &str) {
    let m = e.to_string();
    assert!(
        m.contains(&format!("not in the loaded license: {key}")),
        "{m}"
    );
    assert!(!m.contains("0 licensed"), "{m}");
    assert_eq!((e.kind(), e.exit_code()), ("not-licensed", 21), "{m}");
}

#[test]
fn a_key_the_loaded_file_does_not_grant_is_said_to_be_so_everywhere() {
    const GONE: &str = "I3_FEATURE_GONE";
    let (mut chain, first) = Chain_::first(
        &[(CLIENT, 2, 2), (BASIC, 2, 0), (ORG, 1, 0), (GONE, 0, 2)],
        Rules::default(),
    );
    let env = env(&first);
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_user("carol", Method::Concurrent, None).unwrap();
    a.add_station("desk-1", allocation::StationKind::Workstation)
        .unwrap();
    a.add_organization("acme").unwrap();
    // allocate: to an assignable user, a station, a concurrent user.
    let absent = "I3_FEATURE_NOT_SOLD";
    assert_not_licensed(
        &a.allocate(Target::User("alice"), &[absent]).unwrap_err(),
        absent,
    );
    assert_not_licensed(
        &a.allocate(Target::Station("desk-1"), &[absent])
            .unwrap_err(),
        absent,
    );
    assert_not_licensed(
        &a.allocate(Target::User("carol"), &[absent]).unwrap_err(),
        absent,
    );
    // org limit.
    assert_not_licensed(
        &a.set_organization_limit("acme", absent, None, Some(1))
            .unwrap_err(),
        absent,
    );
    // login: a concurrent key the next file no longer grants.
    a.allocate(Target::User("carol"), &[GONE]).unwrap();
    a.load(
        chain
            .next(
                &[(CLIENT, 2, 2), (BASIC, 2, 0), (ORG, 1, 0)],
                Rules::default(),
            )
            .as_bytes(),
    )
    .unwrap();
    let e = a.login("carol", Place::Nowhere, None).unwrap_err();
    assert_not_licensed(&e, GONE);
    // Recorded as a denial of that key, with its reason.
    let denied = a.events(10).unwrap();
    let last = denied.last().unwrap();
    assert_eq!(
        (last.kind, last.key.as_deref()),
        (EventKind::Deny, Some(GONE))
    );
    assert!(last.detail.starts_with("not-licensed: "), "{}", last.detail);
    // Checkouts (a session key) speak the same words, with their own kind.
    let e = a.checkout(absent, None, None).unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("not in the loaded license: {absent}")),
        "{e}"
    );
    assert_eq!(e.kind(), "unknown-license-key");
}

// Seed 001, Dynamic Remote stations: "If a remote user attempts to start the CIC client and
// log on to the IC server when the total number of station licenses is in use, that user
// cannot connect and a message appears indicating that no stations are available."
#[test]
fn a_dynamic_remote_logon_with_every_station_license_in_use_says_no_stations_are_available() {
    let full = env(&file(&[(CLIENT, 0, 3), (BASIC, 1, 1)], Rules::default()));
    let a = &full.alloc;
    for u in ["u1", "u2", "u3"] {
        a.add_user(u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT]).unwrap();
    }
    // The pool's one and the one assignable no station holds.
    a.login("u1", Place::Remote("+13175550101".into()), None)
        .unwrap();
    a.login("u2", Place::Remote("+13175550102".into()), None)
        .unwrap();
    let e = a
        .login("u3", Place::Remote("+13175550103".into()), None)
        .unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("no stations are available"), "{m}");
    assert!(m.contains(BASIC), "{m}");
    assert_eq!((e.exit_code(), e.kind()), (21, "no-license-available"));
    // A file without any Basic Station: the same words.
    let none = env_without_basic();
    let e = none
        .alloc
        .login("u1", Place::Remote("+13175550101".into()), None)
        .unwrap_err();
    assert!(
        e.to_string().starts_with("no stations are available"),
        "{e}"
    );
}

fn env_without_basic() -> Env {
    let env = env(&file(&[(CLIENT, 0, 1)], Rules::default()));
    env.alloc.add_user("u1", Method::Concurrent, None).unwrap();
    env.alloc.allocate(Target::User("u1"), &[CLIENT]).unwrap();
    env
}

#[test]
fn an_implied_key_refused_names_the_key_that_implies_it() {
    let rules = Rules {
        implies: vec![implies(FREEDOM, CTI)],
        excludes: vec![excludes(&[CTI, "CTI_LITE"])],
        ..Rules::default()
    };
    let env1 = env(&file(&[(FREEDOM, 5, 0), ("CTI_LITE", 5, 0)], rules));
    let a = &env1.alloc;
    a.add_user("u1", Method::Assignable, None).unwrap();
    // Not in the loaded license, through Freedom.
    let e = a.allocate(Target::User("u1"), &[FREEDOM]).unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("CTI (implied by FREEDOM): "), "{m}");
    assert!(m.contains("not in the loaded license: CTI"), "{m}");
    assert_eq!((e.exit_code(), e.kind()), (21, "not-licensed"));

    // A rule refusing the implied key: exit 22, the rule's kind, both keys named.
    let rules = Rules {
        implies: vec![implies(FREEDOM, CTI)],
        excludes: vec![excludes(&[CTI, "CTI_LITE"])],
        ..Rules::default()
    };
    let env2 = env(&file(
        &[(FREEDOM, 5, 0), (CTI, 5, 0), ("CTI_LITE", 5, 0)],
        rules,
    ));
    let a = &env2.alloc;
    a.add_user("u1", Method::Assignable, None).unwrap();
    a.allocate(Target::User("u1"), &["CTI_LITE"]).unwrap();
    let e = a.allocate(Target::User("u1"), &[FREEDOM]).unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("CTI (implied by FREEDOM): "), "{m}");
    assert_eq!((e.exit_code(), e.kind()), (22, "rule-excludes"));
    // Asked for by name, it is not said to be implied.
    let e = a.allocate(Target::User("u1"), &[CTI]).unwrap_err();
    assert!(!e.to_string().contains("implied by"), "{e}");
}

#[test]
fn no_file_loaded_is_worded_apart_from_no_license_available() {
    let dir = tempfile::tempdir().unwrap();
    let a = Allocator::open_at(
        &location(dir.path()),
        verifier(),
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .unwrap();
    a.add_user("alice", Method::Assignable, None).unwrap();
    let e = a.allocate(Target::User("alice"), &[CLIENT]).unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("no activation file is loaded"), "{m}");
    assert!(m.contains("licadmin load FILE"), "{m}");
    assert!(!m.contains("no license available"), "{m}");
    // The exit code stays 21 (DESIGN.md gives no other); its kind is its own.
    assert_eq!((e.exit_code(), e.kind()), (21, "no-license-loaded"));
}

/// One of each class: bidirectional embedding, override and isolate; zero-width space,
/// joiner and non-joiner, word joiner, byte-order mark; line and paragraph separators.
const HIDDEN: &[char] = &[
    '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
    '\u{FEFF}', '\u{2028}', '\u{2029}',
];

#[test]
fn hidden_characters_are_refused_in_workgroup_token_and_application_names() {
    let env = env(&file(&[(CLIENT, 2, 0)], Rules::default()));
    let a = &env.alloc;
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.add_workgroup("sales", &["call"]).unwrap();
    for &c in HIDDEN {
        let name = format!("ab{c}c");
        let named = format!("U+{:04X} at character 3 of 4", u32::from(c));
        let refusals = [
            a.add_workgroup(&name, &["call"]).map(|_| ()).unwrap_err(),
            a.add_workgroup_member(&name, "alice").unwrap_err(),
            a.add_workgroup_member("sales", &name).unwrap_err(),
            a.create_token(&name).map(|_| ()).unwrap_err(),
            a.checkout("I3_X_SESSION", Some(&name), None)
                .map(|_| ())
                .unwrap_err(),
            a.login(&name, Place::Nowhere, None)
                .map(|_| ())
                .unwrap_err(),
        ];
        for e in refusals {
            let m = e.to_string();
            assert_eq!((e.exit_code(), e.kind()), (3, "invalid-name"), "{m}");
            assert!(m.contains(&named), "{m}");
            assert!(!m.contains(c), "printed raw: {m:?}");
        }
    }
}
