//! The logons of a batch decided from one read of the pool: few statements whatever the
//! number of logons, and each logon sees the takes of those before it (counts,
//! organizations' maximums and reservations), on both engines.

mod common;

use allocation::{AllocError, BatchDone, BatchOp, Method, Place, Target};
use common::*;
use format::Rules;

fn login(user: &str) -> BatchOp {
    BatchOp::Login {
        user: user.into(),
        place: Place::Nowhere,
        lease_secs: None,
    }
}

#[test]
fn a_batch_of_logons_costs_a_few_statements_not_some_per_logon() {
    let env = env(&file(&[(CLIENT, 0, 100)], Rules::default()));
    let a = &env.alloc;
    for i in 0..40 {
        let u = format!("u{i}");
        a.add_user(&u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(&u), &[CLIENT]).unwrap();
    }
    let ops: Vec<BatchOp> = (0..40).map(|i| login(&format!("u{i}"))).collect();
    let before = store::write_statements();
    let out = a.batch(&ops).unwrap();
    let spent = store::write_statements() - before;
    assert!(
        out.iter().all(|r| matches!(r, Ok(BatchDone::Login(_)))),
        "{out:?}"
    );
    assert_eq!(a.sessions().unwrap().len(), 40);
    // One at a time, a logon costs about ten statements (400 here).
    assert!(spent < 40, "{spent} statements for 40 logons");
    let report = a.report().unwrap();
    let client = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(client.concurrent_in_use, 40);
}

#[test]
fn logons_of_one_batch_see_each_others_takes() {
    let env = env(&file(&[(ORG, 2, 0), (CLIENT, 0, 4)], Rules::default()));
    let a = &env.alloc;
    a.add_organization("a").unwrap();
    a.add_organization("b").unwrap();
    a.set_organization_limit("a", CLIENT, None, Some(1))
        .unwrap();
    a.set_organization_limit("b", CLIENT, Some(1), None)
        .unwrap();
    for (u, org) in [
        ("a0", Some("a")),
        ("a1", Some("a")),
        ("n0", None),
        ("n1", None),
        ("n2", None),
        ("b0", Some("b")),
        ("b1", Some("b")),
    ] {
        a.add_user(u, Method::Concurrent, org).unwrap();
        a.allocate(Target::User(u), &[CLIENT]).unwrap();
    }
    let ops: Vec<BatchOp> = ["a0", "a1", "n0", "n1", "n2", "b0", "b1", "a0"]
        .iter()
        .map(|u| login(u))
        .collect();
    let out = a.batch(&ops).unwrap();
    let ok = |i: usize| matches!(&out[i], Ok(BatchDone::Login(_)));
    assert!(ok(0), "{:?}", out[0]);
    // a's maximum of 1 is taken by a0.
    assert!(
        matches!(&out[1], Err(AllocError::OrganizationCap { org, max: 1, .. }) if org == "a"),
        "{:?}",
        out[1]
    );
    assert!(ok(2) && ok(3), "{out:?}");
    // 3 of 4 taken, and b's reservation of 1 is still unused: the last one is b's.
    assert!(
        matches!(
            &out[4],
            Err(AllocError::Reserved {
                reserved: 1,
                free: 1,
                ..
            })
        ),
        "{:?}",
        out[4]
    );
    assert!(ok(5), "{:?}", out[5]);
    assert!(
        matches!(
            &out[6],
            Err(AllocError::NoLicenseAvailable {
                licensed: 4,
                in_use: 4,
                ..
            })
        ),
        "{:?}",
        out[6]
    );
    // a0 again: its session of this batch is reused.
    match &out[7] {
        Ok(BatchDone::Login(l)) => assert!(l.session.reused, "{l:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(a.sessions().unwrap().len(), 4);
    let report = a.report().unwrap();
    let client = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(client.concurrent_in_use, 4);
}

#[test]
fn runs_of_heartbeats_and_logoffs_cost_a_few_statements_and_answer_each() {
    let env = env(&file(&[(CLIENT, 0, 100)], Rules::default()));
    let a = &env.alloc;
    for i in 0..40 {
        let u = format!("u{i}");
        a.add_user(&u, Method::Concurrent, None).unwrap();
        a.allocate(Target::User(&u), &[CLIENT]).unwrap();
    }
    let ops: Vec<BatchOp> = (0..40).map(|i| login(&format!("u{i}"))).collect();
    let ids: Vec<String> = a
        .batch(&ops)
        .unwrap()
        .into_iter()
        .map(|r| match r {
            Ok(BatchDone::Login(l)) => l.session.id,
            other => panic!("{other:?}"),
        })
        .collect();
    env.clock.advance(100);
    let gone = "0".repeat(32);
    let mut beats: Vec<BatchOp> = ids
        .iter()
        .map(|id| BatchOp::Heartbeat(id.clone()))
        .collect();
    beats.push(BatchOp::Heartbeat(gone.clone()));
    let before = store::write_statements();
    let out = a.batch(&beats).unwrap();
    let spent = store::write_statements() - before;
    assert!(spent < 40, "{spent} statements for 41 heartbeats");
    for (r, id) in out.iter().zip(&ids) {
        match r {
            Ok(BatchDone::Session(s)) => {
                assert_eq!(&s.id, id);
                assert_eq!(s.expires_at, a.now() + 600);
                assert_eq!(s.acquired, vec![CLIENT.to_string()]);
                assert!(s.user.starts_with('u') && s.reused, "{s:?}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        matches!(&out[40], Err(AllocError::Unknown { .. })),
        "{:?}",
        out[40]
    );

    // Logoffs: the first twice (the second finds it ended), one unknown.
    let mut offs: Vec<BatchOp> = ids.iter().map(|id| BatchOp::Logout(id.clone())).collect();
    offs.insert(1, BatchOp::Logout(ids[0].clone()));
    offs.push(BatchOp::Logout(gone));
    let before = store::write_statements();
    let out = a.batch(&offs).unwrap();
    let spent = store::write_statements() - before;
    assert!(spent < 40, "{spent} statements for 42 logoffs");
    assert!(matches!(&out[0], Ok(BatchDone::Ended)), "{:?}", out[0]);
    assert!(
        matches!(&out[1], Err(AllocError::Unknown { .. })),
        "{:?}",
        out[1]
    );
    assert!(
        out[2..41].iter().all(|r| matches!(r, Ok(BatchDone::Ended))),
        "{out:?}"
    );
    assert!(
        matches!(&out[41], Err(AllocError::Unknown { .. })),
        "{:?}",
        out[41]
    );
    assert!(a.sessions().unwrap().is_empty());
    let report = a.report().unwrap();
    let client = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(client.concurrent_in_use, 0);
    // One release event per session, in the order of the logoffs.
    let events = a.events(40).unwrap();
    let order: Vec<&str> = events
        .iter()
        .map(|e| e.detail.split(' ').nth(1).unwrap_or(""))
        .collect();
    let want: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(order, want);
    assert!(events
        .iter()
        .all(|e| e.detail.ends_with("ended: logged-off") && e.key.as_deref() == Some(CLIENT)));
}

postgres_too!(
    a_batch_of_logons_costs_a_few_statements_not_some_per_logon,
    logons_of_one_batch_see_each_others_takes,
    runs_of_heartbeats_and_logoffs_cost_a_few_statements_and_answer_each
);
