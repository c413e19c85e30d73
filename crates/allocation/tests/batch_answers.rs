//! A batched logon answers the session as the store holds it (the answer is built from what
//! the logon wrote, not read back).

mod common;

use allocation::{BatchDone, BatchOp, Method, Place, StationKind, Target};
use common::*;
use format::Rules;

fn logon_answers_the_stored_session() {
    let env = env(&file(
        &[(CLIENT, 0, 3), (ACD1, 0, 3), (BASIC, 1, 0)],
        Rules::default(),
    ));
    let a = &env.alloc;
    for u in ["u0", "u1"] {
        a.add_user(u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(u), &[CLIENT, ACD1]).unwrap();
    }
    a.add_station("Desk-1", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("Desk-1"), &[BASIC]).unwrap();
    let ops = [
        BatchOp::Login {
            user: "u0".into(),
            place: Place::Station("Desk-1".into()),
            lease_secs: Some(90),
        },
        BatchOp::Login {
            user: "u1".into(),
            place: Place::Nowhere,
            lease_secs: None,
        },
    ];
    let answered: Vec<_> = a
        .batch(&ops)
        .unwrap()
        .into_iter()
        .map(|r| match r {
            Ok(BatchDone::Login(l)) => l.session,
            other => panic!("not a logon: {other:?}"),
        })
        .collect();
    let stored = a.sessions().unwrap();
    assert_eq!(answered, stored);
    assert_eq!(answered[0].station.as_deref(), Some("Desk-1"));
    assert_eq!(answered[0].lease_secs, 90);
    assert_eq!(
        answered[1].acquired,
        vec![ACD1.to_string(), CLIENT.to_string()]
    );
}

#[test]
fn a_batched_logon_answers_the_stored_session() {
    logon_answers_the_stored_session();
}

#[test]
fn on_postgres_a_batched_logon_answers_the_stored_session() {
    on_postgres(logon_answers_the_stored_session);
}
