//! Rules at the size a file may carry: an `implies` chain through 4096 keys (the most rules a
//! file holds, `format::MAX_RULES`) allocates, checks and deallocates at once, each rule
//! applied once per operation (the closure used to be recomputed per key per round: a
//! 512-key chain took 35 s to deallocate, a 4096-key one never finished). A file with more
//! rules is refused as malformed (exit 3).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use allocation::{Method, RuleKind, Target};
use common::*;
use format::{Excludes, Implies, Rules, MAX_RULES};

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("K{i:04}")).collect()
}

/// A chain K0000 implies K0001 implies ... through `n` keys.
fn chain(names: &[String]) -> Rules {
    Rules {
        implies: names
            .windows(2)
            .map(|w| Implies {
                key: w[0].clone(),
                implied: w[1].clone(),
            })
            .collect(),
        ..Rules::default()
    }
}

/// Run `f` on another thread, failing the test if it takes longer than `limit` (the old
/// algorithm would have run for hours).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("the operations did not finish in time")
}

#[test]
fn a_chain_of_the_most_rules_a_file_carries_allocates_and_deallocates_at_once() {
    let keys = names(MAX_RULES);
    let rules = chain(&keys);
    assert_eq!(rules.len(), MAX_RULES - 1);
    let counts: Vec<(&str, u32, u32)> = keys.iter().map(|k| (k.as_str(), 1, 0)).collect();
    let f = file(&counts, rules);
    let removed = within(Duration::from_secs(120), move || {
        let env = env(&f);
        let a = &env.alloc;
        a.add_user("alice", Method::Assignable, None).unwrap();
        let added = a.allocate(Target::User("alice"), &["K0000"]).unwrap();
        assert_eq!(added.len(), MAX_RULES, "the head brings the whole chain");
        // The tail cannot go alone: a key that stays (its predecessor) brings it.
        let e = a.deallocate(Target::User("alice"), &["K4095"]).unwrap_err();
        assert_eq!(e.rule(), Some(RuleKind::Implies), "{e}");
        assert!(e.to_string().contains("K4095 comes with K4094"), "{e}");
        assert!(a.check().unwrap().is_empty());
        a.deallocate(Target::User("alice"), &["K0000"]).unwrap()
    });
    assert_eq!(removed, keys, "the whole chain goes with its head");
}

#[test]
fn a_file_with_more_rules_than_the_maximum_is_refused_as_malformed() {
    // 4095 implies and one excludes: the most; one rule more is refused.
    let keys = names(MAX_RULES);
    let mut rules = chain(&keys);
    rules.excludes.push(Excludes {
        keys: vec!["X".into(), "Y".into()],
    });
    let counts = [(CLIENT, 1, 0)];
    let at_max = file(&counts, rules.clone());
    let env = env(&at_max);
    rules.excludes.push(Excludes {
        keys: vec!["X".into(), "Z".into()],
    });
    let e = format::sign(&activation(&counts, rules), &vendor()).unwrap_err();
    assert!(e.to_string().contains("at most 4096 in all"), "{e}");
    // The same payload signed as it is (a writer that does not check): the verifier refuses it.
    let payload: String = at_max
        .lines()
        .skip_while(|l| !l.starts_with('{'))
        .take_while(|l| !l.starts_with("-----"))
        .map(|l| format!("{l}\n"))
        .collect();
    let over = payload.replacen(
        "\"excludes\": [",
        "\"excludes\": [\n{\"keys\": [\"X\", \"Z\"]},",
        1,
    );
    assert_ne!(over, payload);
    let signed = format::sign_payload_text(&over, &vendor());
    let e = env.alloc.load(signed.as_bytes()).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("4097 rules"), "{e}");
}

postgres_too!(
    a_chain_of_the_most_rules_a_file_carries_allocates_and_deallocates_at_once,
    a_file_with_more_rules_than_the_maximum_is_refused_as_malformed,
);
