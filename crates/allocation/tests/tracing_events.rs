//! The compliance check's events through `tracing`: target `i3lic::allocation`, fields
//! `key`, `count`, `licensed`, `in_use`.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use allocation::{Method, Target};
use common::*;
use format::Rules;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured<T>(f: impl FnOnce() -> T) -> (T, String) {
    let buf = Captured::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .with_target(true)
        .finish();
    let out = tracing::subscriber::with_default(sub, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

// Seed 000 (IWP): "If you exceed the licenses, Interaction Web Portal will log an error
// message [...] identifying which licenses are out of compliance, the current number and type
// of available licenses, and the number of licenses identified. This event only appears if
// you exceed licenses, and an event for each license exceeded is generated."
#[test]
fn one_tracing_error_per_exceeded_license_and_none_when_compliant() {
    let (mut chain, first) = Chain_::first(&[(CLIENT, 3, 0), (ACD1, 3, 0)], Rules::default());
    let env = env(&first);
    for u in ["a", "b", "c"] {
        env.alloc.add_user(u, Method::Assignable, None).unwrap();
        env.alloc
            .allocate(Target::User(u), &[CLIENT, ACD1])
            .unwrap();
    }
    let (events, text) = captured(|| env.alloc.check_compliance().unwrap());
    assert!(events.is_empty());
    assert!(!text.contains("i3lic::allocation"), "{text}");
    env.alloc
        .load(
            chain
                .next(&[(CLIENT, 1, 0), (ACD1, 3, 0)], Rules::default())
                .as_bytes(),
        )
        .unwrap();
    let (events, text) = captured(|| env.alloc.check_compliance().unwrap());
    assert_eq!(events.len(), 1);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("i3lic::allocation"))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    let l = lines[0];
    assert!(l.contains("ERROR"), "{l}");
    for want in [
        "event=\"out-of-compliance\"",
        "key=I3_ACCESS_CLIENT",
        "count=\"assignable\"",
        "licensed=1",
        "in_use=3",
    ] {
        assert!(l.contains(want), "{want} in {l}");
    }
}

postgres_too!(one_tracing_error_per_exceeded_license_and_none_when_compliant,);
