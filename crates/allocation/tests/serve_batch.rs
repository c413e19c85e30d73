//! `licadmin serve` commits concurrent requests together (one writer, a savepoint each):
//! racing clients, some refused, each get their own answer, and the store stays sound.

mod common;

use std::sync::{Arc, Barrier};

use allocation::{Method, StationKind, Target};
use common::server::*;
use common::*;
use format::Rules;
use serde_json::json;

const LICENSED: u32 = 4;
const USERS: u32 = 32;

/// `LICENSED` concurrent Client Access licenses for users `u0..u{USERS}`, station `bare`
/// without a Basic Station.
fn pool() -> Server {
    server(
        Some(&file(
            &[(CLIENT, 0, LICENSED), (BASIC, 1, 0)],
            Rules::default(),
        )),
        |a| {
            for i in 0..USERS {
                let u = format!("u{i}");
                a.add_user(&u, Method::Concurrent, None).unwrap();
                a.allocate(Target::User(&u), &[CLIENT]).unwrap();
            }
            a.add_station("bare", StationKind::Workstation).unwrap();
        },
    )
}

/// What each racing request is, and the answers it may get.
fn expected(i: u32) -> (serde_json::Value, &'static [(u16, &'static str)]) {
    match i % 4 {
        // A station without a Basic Station: a rule, whatever else happens.
        1 => (
            json!({"user": format!("u{i}"), "station": "bare"}),
            &[(422, "rule-station")],
        ),
        // A user the store does not know.
        2 => (
            json!({"user": format!("ghost{i}")}),
            &[(404, "unknown-user")],
        ),
        _ => (
            json!({"user": format!("u{i}")}),
            &[(201, ""), (409, "no-license")],
        ),
    }
}

#[test]
fn racing_logons_some_refused_each_get_their_own_answer() {
    let s = Arc::new(pool());
    let n = USERS;
    let gate = Arc::new(Barrier::new(n as usize));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (s, gate) = (s.clone(), gate.clone());
            std::thread::spawn(move || {
                let (body, _) = expected(i);
                gate.wait();
                let r = s.post("/v1/sessions", body);
                let kind = if r.status == 201 {
                    String::new()
                } else {
                    r.kind()
                };
                (i, r.status, kind)
            })
        })
        .collect();
    let results: Vec<(u32, u16, String)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for (i, status, kind) in &results {
        let (_, allowed) = expected(*i);
        assert!(
            allowed.iter().any(|(st, k)| st == status && k == kind),
            "request {i}: {status} {kind}"
        );
    }
    // Users u0, u3, u4, u7, ... (16 of them) race for the pool: exactly LICENSED win.
    let won = results.iter().filter(|(_, st, _)| *st == 201).count();
    assert_eq!(won, LICENSED as usize, "{results:?}");
    let a = s.alloc();
    assert_eq!(a.sessions().unwrap().len(), LICENSED as usize);
    let report = a.report().unwrap();
    let k = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(k.concurrent_in_use, LICENSED);
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
}

postgres_too!(racing_logons_some_refused_each_get_their_own_answer);
