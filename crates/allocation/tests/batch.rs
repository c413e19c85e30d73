//! Group commit ([`Allocator::batch`]): many operations in one transaction, each under its
//! own savepoint, so one refusal never affects another.

mod common;

use allocation::{AllocError, BatchDone, BatchOp, Method, Place, StationKind, Target};
use common::*;
use format::Rules;

const SESSION_KEY: &str = "I3_LICENSE_BASIC_SESSION_ADDON";

/// 3 concurrent Client Access licenses for users `u0..u5` (concurrent), a Basic Station
/// for `desk-1`, and a station `bare` without one.
fn pool() -> Env {
    let env = env(&file(
        &[(CLIENT, 0, 3), (BASIC, 1, 0), (SESSION_KEY, 1, 0)],
        Rules::default(),
    ));
    for i in 0..6 {
        let u = format!("u{i}");
        env.alloc.add_user(&u, Method::Concurrent, None).unwrap();
        env.alloc.allocate(Target::User(&u), &[CLIENT]).unwrap();
    }
    env.alloc
        .add_station("desk-1", StationKind::Workstation)
        .unwrap();
    env.alloc
        .allocate(Target::Station("desk-1"), &[BASIC])
        .unwrap();
    env.alloc
        .add_station("bare", StationKind::Workstation)
        .unwrap();
    env
}

fn login(user: &str, place: Place) -> BatchOp {
    BatchOp::Login {
        user: user.into(),
        place,
        lease_secs: None,
    }
}

fn session(r: &Result<BatchDone, AllocError>) -> String {
    match r {
        Ok(BatchDone::Login(l)) => l.session.id.clone(),
        other => panic!("not a logon: {other:?}"),
    }
}

#[test]
fn a_refusal_in_a_batch_changes_nothing_and_affects_no_other_operation() {
    let env = pool();
    let a = &env.alloc;
    let at_desk = a
        .login("u0", Place::Station("desk-1".into()), None)
        .unwrap();
    let ops = vec![
        login("u1", Place::Nowhere),
        // Refused after it ended u0's session at desk-1 (logging on elsewhere ends the
        // previous one): rolled back to its savepoint, the desk-1 session stays.
        login("u0", Place::Station("bare".into())),
        login("nobody", Place::Nowhere),
        login("bad name\n", Place::Nowhere),
        login("u2", Place::Nowhere),
        // The pool (3) is full now: u0, u1, u2.
        login("u3", Place::Nowhere),
        BatchOp::Heartbeat(at_desk.id.clone()),
        BatchOp::Logout("0123456789abcdef0123456789abcdef".into()),
        BatchOp::Checkout {
            key: SESSION_KEY.into(),
            application: None,
            lease_secs: None,
        },
        BatchOp::Checkout {
            key: SESSION_KEY.into(),
            application: None,
            lease_secs: None,
        },
    ];
    let out = a.batch(&ops).unwrap();
    assert_eq!(out.len(), ops.len());
    let u1 = session(&out[0]);
    assert!(
        matches!(&out[1], Err(AllocError::Rule { key, .. }) if key == BASIC),
        "{:?}",
        out[1]
    );
    assert!(
        matches!(&out[2], Err(AllocError::Unknown { .. })),
        "{:?}",
        out[2]
    );
    assert!(
        matches!(&out[3], Err(AllocError::InvalidName { .. })),
        "{:?}",
        out[3]
    );
    let u2 = session(&out[4]);
    assert!(
        matches!(&out[5], Err(AllocError::NoLicenseAvailable { key, .. }) if key == CLIENT),
        "{:?}",
        out[5]
    );
    assert!(
        matches!(&out[6], Ok(BatchDone::Session(s)) if s.id == at_desk.id),
        "{:?}",
        out[6]
    );
    assert!(
        matches!(&out[7], Err(AllocError::Unknown { .. })),
        "{:?}",
        out[7]
    );
    assert!(
        matches!(&out[8], Ok(BatchDone::Checkout(_))),
        "{:?}",
        out[8]
    );
    assert!(
        matches!(&out[9], Err(AllocError::NoLicenseAvailable { .. })),
        "{:?}",
        out[9]
    );

    let mut open: Vec<String> = a.sessions().unwrap().into_iter().map(|s| s.id).collect();
    open.sort();
    let mut want = vec![at_desk.id, u1, u2];
    want.sort();
    assert_eq!(open, want);
    assert_eq!(a.checkouts().unwrap().len(), 1);
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
    // The refused logons are recorded as denials, as a logon alone records them.
    let denials = a
        .events(20)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == allocation::EventKind::Deny)
        .count();
    assert_eq!(denials, 2);
}

#[test]
fn a_logon_in_a_batch_says_what_the_user_may_use() {
    let env = pool();
    let out = env.alloc.batch(&[login("u4", Place::Nowhere)]).unwrap();
    match &out[0] {
        Ok(BatchDone::Login(l)) => {
            assert_eq!(l.licenses, [CLIENT]);
            assert_eq!(l.session.acquired, [CLIENT]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn operations_in_one_batch_see_each_others_changes_in_order() {
    let env = pool();
    let a = &env.alloc;
    // Four logons of three users, then a logoff and a logon that takes the freed license.
    let first = a.batch(&[login("u0", Place::Nowhere)]).unwrap();
    let s0 = session(&first[0]);
    let out = a
        .batch(&[
            login("u1", Place::Nowhere),
            login("u2", Place::Nowhere),
            login("u3", Place::Nowhere),
            BatchOp::Logout(s0.clone()),
            login("u3", Place::Nowhere),
            BatchOp::Heartbeat(s0),
        ])
        .unwrap();
    assert!(out[0].is_ok() && out[1].is_ok());
    assert!(matches!(
        &out[2],
        Err(AllocError::NoLicenseAvailable { .. })
    ));
    assert!(matches!(&out[3], Ok(BatchDone::Ended)));
    assert!(out[4].is_ok(), "{:?}", out[4]);
    assert!(matches!(&out[5], Err(AllocError::Unknown { .. })));
    assert_eq!(a.sessions().unwrap().len(), 3);
    assert!(a.check().unwrap().is_empty());
}

postgres_too!(
    a_refusal_in_a_batch_changes_nothing_and_affects_no_other_operation,
    a_logon_in_a_batch_says_what_the_user_may_use,
    operations_in_one_batch_see_each_others_changes_in_order,
);
