//! Session licenses checked out per connection: concurrent keys count open checkouts,
//! time-based keys (Interaction Mobilizer) the connections of the last hour; session keys
//! are never allocated to users or stations.

mod common;

use std::sync::{Arc, Barrier};

use allocation::{
    AllocError, Method, Pool, RuleKind, StationKind, Target, DEFAULT_LEASE_SECS,
    TIME_BASED_WINDOW_SECS,
};
use common::*;
use format::Rules;

const BASIC_SESSION: &str = "I3_LICENSE_BASIC_SESSION_ADDON";
const MOBILIZER: &str = "I3_LICENSE_MOBILIZER_SESSION_ADDON";

/// A store whose file grants `n` of each session key (assigned, as the catalog grants
/// them), Client Access and a Basic Station.
fn sessions(n: u32) -> Env {
    env(&file(
        &[
            (BASIC_SESSION, n, 0),
            (MOBILIZER, n, 0),
            (CLIENT, 2, 2),
            (BASIC, 1, 0),
        ],
        Rules::default(),
    ))
}

fn is_no_license(e: &AllocError, key: &str) -> bool {
    matches!(e, AllocError::NoLicenseAvailable { key: k, pool: Pool::Session, .. } if k == key)
}

#[test]
fn a_concurrent_session_key_is_checked_out_up_to_its_count_and_returned() {
    let env = sessions(2);
    let a = env
        .alloc
        .checkout(BASIC_SESSION, Some("web chat"), None)
        .unwrap();
    assert_eq!(a.key, BASIC_SESSION);
    assert_eq!(a.application.as_deref(), Some("web chat"));
    assert_eq!(
        a.expires_at,
        env.alloc.now() + i64::from(DEFAULT_LEASE_SECS)
    );
    let b = env.alloc.checkout(BASIC_SESSION, None, Some(60)).unwrap();
    let e = env.alloc.checkout(BASIC_SESSION, None, None).unwrap_err();
    assert!(is_no_license(&e, BASIC_SESSION), "{e}");
    assert_eq!(e.exit_code(), 21);
    assert!(e.to_string().contains(BASIC_SESSION), "{e}");
    assert_eq!(env.alloc.checkouts().unwrap().len(), 2);

    env.alloc.return_checkout(&b.id).unwrap();
    // A concurrent key's license is free again at once.
    env.alloc.checkout(BASIC_SESSION, None, None).unwrap();
    let ids: Vec<String> = env
        .alloc
        .checkouts()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(ids.contains(&a.id) && !ids.contains(&b.id), "{ids:?}");

    let report = env.alloc.report().unwrap();
    let k = report
        .keys
        .iter()
        .find(|k| k.name == BASIC_SESSION)
        .unwrap();
    assert_eq!(k.checkouts_in_use, 2);
    assert!(k.notes.is_empty());
    assert!(env.alloc.check_compliance().unwrap().is_empty());
}

#[test]
fn a_lapsed_checkout_frees_its_license_and_says_why_it_ended() {
    let env = sessions(1);
    let c = env.alloc.checkout(BASIC_SESSION, None, Some(30)).unwrap();
    env.clock.advance(20);
    assert_eq!(
        env.alloc.renew_checkout(&c.id).unwrap().expires_at,
        env.alloc.now() + 30
    );
    env.clock.advance(31);
    // Lapsed: nothing in use, and a renewal is refused with the reason kept.
    assert!(env.alloc.checkouts().unwrap().is_empty());
    let end = env.alloc.checkout_end(&c.id).unwrap().unwrap();
    assert_eq!(end.reason, "lease-lapsed");
    let again = env.alloc.checkout(BASIC_SESSION, None, None).unwrap();
    let e = env.alloc.renew_checkout(&c.id).unwrap_err();
    assert_eq!(e.kind(), "unknown-checkout");
    assert_eq!(
        env.alloc.checkout_end(&c.id).unwrap().unwrap().reason,
        "lease-lapsed"
    );

    env.alloc.return_checkout(&again.id).unwrap();
    assert_eq!(
        env.alloc.return_checkout(&again.id).unwrap_err().kind(),
        "unknown-checkout"
    );
    assert_eq!(
        env.alloc.checkout_end(&again.id).unwrap().unwrap().reason,
        "returned"
    );
    // A day later the reason is forgotten.
    env.clock.advance(86_401);
    env.alloc.release_lapsed().unwrap();
    env.alloc.checkout(BASIC_SESSION, None, None).unwrap();
    assert_eq!(env.alloc.checkout_end(&again.id).unwrap(), None);
}

#[test]
fn a_time_based_key_counts_the_connections_of_the_last_hour() {
    let env = sessions(2);
    let a = env.alloc.checkout(MOBILIZER, None, None).unwrap();
    let b = env.alloc.checkout(MOBILIZER, None, None).unwrap();
    env.alloc.return_checkout(&a.id).unwrap();
    env.alloc.return_checkout(&b.id).unwrap();
    // Returned, yet both connections occurred within the hour.
    let e = env.alloc.checkout(MOBILIZER, None, None).unwrap_err();
    assert!(is_no_license(&e, MOBILIZER), "{e}");
    let k = env.alloc.report().unwrap();
    let k = k.keys.iter().find(|k| k.name == MOBILIZER).unwrap();
    assert_eq!(k.checkouts_in_use, 2);

    env.clock.advance(TIME_BASED_WINDOW_SECS - 1);
    assert!(env.alloc.checkout(MOBILIZER, None, None).is_err());
    env.clock.advance(1);
    // The returns have left the window.
    let c = env.alloc.checkout(MOBILIZER, None, None).unwrap();
    let d = env.alloc.checkout(MOBILIZER, None, None).unwrap();
    assert!(env.alloc.checkout(MOBILIZER, None, None).is_err());
    // An open connection counts however long ago it started; a returned one an hour on.
    env.alloc.return_checkout(&d.id).unwrap();
    for _ in 0..(2 * TIME_BASED_WINDOW_SECS / 500) {
        env.clock.advance(500);
        env.alloc.renew_checkout(&c.id).unwrap();
    }
    env.alloc.checkout(MOBILIZER, None, None).unwrap();
    assert!(env.alloc.checkout(MOBILIZER, None, None).is_err());
}

#[test]
fn a_time_based_connection_that_lapsed_counts_until_an_hour_after_its_lease() {
    let env = sessions(1);
    env.alloc.checkout(MOBILIZER, None, Some(100)).unwrap();
    env.clock.advance(100 + TIME_BASED_WINDOW_SECS - 1);
    assert!(env.alloc.checkout(MOBILIZER, None, None).is_err());
    env.clock.advance(1);
    env.alloc.checkout(MOBILIZER, None, None).unwrap();
}

#[test]
fn session_keys_are_never_allocated_to_users_or_stations() {
    let env = sessions(5);
    env.alloc
        .add_user("alice", Method::Assignable, None)
        .unwrap();
    env.alloc.add_user("bob", Method::Concurrent, None).unwrap();
    env.alloc
        .add_station("desk", StationKind::Workstation)
        .unwrap();
    for t in [
        Target::User("alice"),
        Target::User("bob"),
        Target::Station("desk"),
    ] {
        let e = env.alloc.allocate(t, &[BASIC_SESSION]).unwrap_err();
        assert_eq!(e.rule(), Some(RuleKind::Holder), "{e}");
        assert_eq!(e.exit_code(), 22);
        assert!(e.to_string().contains("session license"), "{e}");
    }
    // Nothing was consumed.
    let report = env.alloc.report().unwrap();
    let k = report
        .keys
        .iter()
        .find(|k| k.name == BASIC_SESSION)
        .unwrap();
    assert_eq!((k.assignable_configured, k.concurrent_configured), (0, 0));
}

#[test]
fn only_session_keys_of_the_license_are_checked_out() {
    let env = sessions(1);
    let e = env.alloc.checkout(CLIENT, None, None).unwrap_err();
    assert_eq!(e.rule(), Some(RuleKind::Holder), "{e}");
    assert!(e.to_string().contains("not a session license"), "{e}");
    let e = env
        .alloc
        .checkout("I3_LICENSE_MEDIA_SESSION_ADDON", None, None)
        .unwrap_err();
    assert_eq!(e.kind(), "unknown-license-key", "{e}");
    assert_eq!(
        env.alloc
            .checkout("not a key", None, None)
            .unwrap_err()
            .exit_code(),
        3
    );
    for lease in [0, allocation::MAX_LEASE_SECS + 1] {
        assert_eq!(
            env.alloc
                .checkout(BASIC_SESSION, None, Some(lease))
                .unwrap_err()
                .kind(),
            "invalid-input"
        );
    }
    assert_eq!(
        env.alloc.renew_checkout("nope").unwrap_err().kind(),
        "invalid-input"
    );
    assert!(env.alloc.checkouts().unwrap().is_empty());
}

#[test]
fn a_smaller_file_leaves_checkouts_out_of_compliance() {
    let (mut chain, first) = Chain_::first(&[(BASIC_SESSION, 3, 0)], Rules::default());
    let env = env(&first);
    for _ in 0..3 {
        env.alloc.checkout(BASIC_SESSION, None, None).unwrap();
    }
    env.alloc
        .load(
            chain
                .next(&[(BASIC_SESSION, 1, 0)], Rules::default())
                .as_bytes(),
        )
        .unwrap();
    let events = env.alloc.check_compliance().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].count, events[0].licensed, events[0].in_use),
        ("session", 1, 3)
    );
    let e = env.alloc.checkout(BASIC_SESSION, None, None).unwrap_err();
    assert_eq!(e.kind(), "out-of-compliance");
    let report = env.alloc.report().unwrap();
    let k = report
        .keys
        .iter()
        .find(|k| k.name == BASIC_SESSION)
        .unwrap();
    assert_eq!(k.notes, ["session out of compliance by 2"]);
}

/// Many allocators on one store (as many processes or servers) racing for one key: exactly
/// as many checkouts succeed as are licensed.
#[test]
fn racing_checkouts_never_exceed_the_count() {
    const LICENSED: u32 = 3;
    const RACERS: usize = 12;
    let env = sessions(LICENSED);
    let barrier = Arc::new(Barrier::new(RACERS));
    let allocs: Vec<_> = (0..RACERS).map(|_| env.reopen()).collect();
    let threads: Vec<_> = allocs
        .into_iter()
        .map(|a| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                a.checkout(BASIC_SESSION, None, None)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, LICENSED as usize);
    for r in &results {
        if let Err(e) = r {
            assert!(is_no_license(e, BASIC_SESSION), "{e}");
        }
    }
    assert_eq!(env.alloc.checkouts().unwrap().len(), LICENSED as usize);
}

#[test]
fn checkouts_survive_a_reopen_and_a_store_check() {
    let env = sessions(2);
    let c = env
        .alloc
        .checkout(BASIC_SESSION, Some("ivr"), None)
        .unwrap();
    let again = env.reopen();
    assert_eq!(again.checkouts().unwrap(), vec![c]);
    assert!(again.check().unwrap().is_empty());
}

postgres_too!(
    a_concurrent_session_key_is_checked_out_up_to_its_count_and_returned,
    a_lapsed_checkout_frees_its_license_and_says_why_it_ended,
    a_time_based_key_counts_the_connections_of_the_last_hour,
    a_time_based_connection_that_lapsed_counts_until_an_hour_after_its_lease,
    session_keys_are_never_allocated_to_users_or_stations,
    only_session_keys_of_the_license_are_checked_out,
    a_smaller_file_leaves_checkouts_out_of_compliance,
    racing_checkouts_never_exceed_the_count,
    checkouts_survive_a_reopen_and_a_store_check,
);
