//! Parse + verify of a typical activation file (30 license keys, two hosts; format version 3,
//! and beside it the same file with its primary host bound to an install key) against one
//! bare `verify_strict` of a message of the same length, and signing against one bare ed25519
//! signature of the same length, in the same run. Target: the file path at most 1.3x the bare
//! signature operation.
//!
//! `cargo bench -p i3lic-format --bench verify` (the ratios, measured interleaved, are printed
//! after criterion's report).

use std::hint::black_box;

use std::time::Instant;

use criterion::{criterion_group, Criterion};
use format::{sign, UnverifiedFile};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let key = common::key_a();
    let activation = common::typical(30);
    let file = sign(&activation, &key).expect("sign");
    let bytes = file.as_bytes();
    let trusted = [key.public_key().clone()];

    // The bare baseline: a message exactly as long as the file, signed once.
    let message = vec![0x5au8; bytes.len()];
    let signature = key.sign(&message);

    let mut g = c.benchmark_group(format!("verify/{}-byte file", bytes.len()));
    g.bench_function("bare verify_strict", |b| {
        b.iter(|| {
            key.public_key()
                .verify_strict(black_box(&message), black_box(&signature))
                .expect("verifies")
        })
    });
    g.bench_function("parse + verify", |b| {
        b.iter(|| {
            UnverifiedFile::parse(black_box(bytes))
                .expect("parses")
                .verify_with(&trusted)
                .expect("verifies")
        })
    });
    g.bench_function("parse only", |b| {
        b.iter(|| UnverifiedFile::parse(black_box(bytes)).expect("parses"))
    });
    g.finish();

    // Format version 3 with the primary host bound to an install key (what a file issued
    // for a request code is), against a bare verify_strict of its own length.
    let bound = sign(&bound_v3(), &key).expect("sign");
    let bound = bound.as_bytes();
    let message_v3 = vec![0x5au8; bound.len()];
    let signature_v3 = key.sign(&message_v3);
    let mut g = c.benchmark_group(format!(
        "verify-v3/{}-byte file bound to an install key",
        bound.len()
    ));
    g.bench_function("bare verify_strict", |b| {
        b.iter(|| {
            key.public_key()
                .verify_strict(black_box(&message_v3), black_box(&signature_v3))
                .expect("verifies")
        })
    });
    g.bench_function("parse + verify", |b| {
        b.iter(|| {
            let v = UnverifiedFile::parse(black_box(bound))
                .expect("parses")
                .verify_with(&trusted)
                .expect("verifies");
            assert!(v.activation().primary_host.install_key.is_some());
            v
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("sign/{}-byte file", bytes.len()));
    g.bench_function("bare sign", |b| b.iter(|| key.sign(black_box(&message))));
    g.bench_function("validate + encode + sign", |b| {
        b.iter(|| sign(black_box(&activation), &key).expect("signs"))
    });
    g.finish();
}

/// Median time per call of `a` and of `b`, measured in alternating rounds so that a change in
/// machine load during the run affects both sides alike.
fn interleaved(
    rounds: usize,
    per_round: u32,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64) {
    let mut ta = Vec::with_capacity(rounds);
    let mut tb = Vec::with_capacity(rounds);
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..per_round {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(per_round)
    };
    for _ in 0..rounds {
        ta.push(time(&mut a));
        tb.push(time(&mut b));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(&mut ta), median(&mut tb))
}

/// The ratios the target is stated in, measured interleaved in this same run.
fn ratios() {
    let key = common::key_a();
    let activation = common::typical(30);
    let file = sign(&activation, &key).expect("sign");
    let bytes = file.as_bytes();
    let trusted = [key.public_key().clone()];
    let message = vec![0x5au8; bytes.len()];
    let signature = key.sign(&message);

    let (bare, path) = interleaved(
        300,
        20,
        || {
            key.public_key()
                .verify_strict(black_box(&message), black_box(&signature))
                .expect("verifies")
        },
        || {
            UnverifiedFile::parse(black_box(bytes))
                .expect("parses")
                .verify_with(&trusted)
                .expect("verifies");
        },
    );
    println!(
        "ratio verify: parse + verify {path:.1} us / bare verify_strict {bare:.1} us = {:.3}x ({} bytes, target <= 1.3x)",
        path / bare,
        bytes.len()
    );
    let bound = sign(&bound_v3(), &key).expect("sign");
    let bound = bound.as_bytes();
    let message_v3 = vec![0x5au8; bound.len()];
    let signature_v3 = key.sign(&message_v3);
    let (bare, path) = interleaved(
        300,
        20,
        || {
            key.public_key()
                .verify_strict(black_box(&message_v3), black_box(&signature_v3))
                .expect("verifies")
        },
        || {
            UnverifiedFile::parse(black_box(bound))
                .expect("parses")
                .verify_with(&trusted)
                .expect("verifies");
        },
    );
    println!(
        "ratio verify-v3: parse + verify {path:.1} us / bare verify_strict {bare:.1} us = {:.3}x ({} bytes, bound to an install key, target <= 1.3x)",
        path / bare,
        bound.len()
    );
    let (bare, path) = interleaved(
        300,
        20,
        || {
            black_box(key.sign(black_box(&message)));
        },
        || {
            black_box(sign(black_box(&activation), &key).expect("signs"));
        },
    );
    println!(
        "ratio sign: validate + encode + sign {path:.1} us / bare sign {bare:.1} us = {:.3}x",
        path / bare
    );
}

/// The typical file with its primary host bound to the test install key (format version 3).
fn bound_v3() -> format::Activation {
    let mut a = common::typical(30);
    a.primary_host.install_key = Some(common::install_key().public_key().clone());
    a
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench -- <filter>` runs only the matching criterion benches; the ratios are
    // printed on a full run.
    if std::env::args().skip(1).all(|a| a.starts_with('-')) {
        ratios();
    }
}
