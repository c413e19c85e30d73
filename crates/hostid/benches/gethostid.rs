//! How long reading the machine takes, against baselines measured in the same run.
//!
//! - `process/trivial` vs `process/gethostid`: a whole process start, print, exit. The
//!   baseline is `gethostid-baseline`, built in the same profile, which only prints a code.
//! - `in-process/sha256-64B` vs `in-process/current`: the probe the verifier runs when it
//!   loads an activation file, against one SHA-256 of 64 bytes; `in-process/probe_strong` is
//!   the same probe giving the strong code (`current_strong`), and `parse_strong` parses one.
//!
//! Run: `cargo bench -p i3lic-hostid --bench gethostid`; ratios are the quotient of the
//! reported means (`target/criterion/<group>/<name>/new/estimates.json`).

use std::hint::black_box;
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sha2::{Digest, Sha256};

fn spawn(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    // Exit 4 (too few components) is still a complete run of the probe.
    assert!(matches!(status.code(), Some(0 | 4)), "{cmd:?}: {status}");
}

fn process(c: &mut Criterion) {
    let mut g = c.benchmark_group("process");
    g.sample_size(60).measurement_time(Duration::from_secs(6));
    g.bench_function("trivial", |b| {
        b.iter(|| spawn(&mut Command::new(env!("CARGO_BIN_EXE_gethostid-baseline"))))
    });
    g.bench_function("gethostid", |b| {
        b.iter(|| spawn(&mut Command::new(env!("CARGO_BIN_EXE_gethostid"))))
    });
    g.finish();
}

fn in_process(c: &mut Criterion) {
    let mut g = c.benchmark_group("in-process");
    let block = [0x5au8; 64];
    g.bench_function("sha256-64B", |b| {
        b.iter(|| Sha256::digest(black_box(&block)))
    });
    g.bench_function("current", |b| b.iter(|| black_box(hostid::current())));
    g.bench_function("probe", |b| b.iter(|| black_box(hostid::machine::probe())));
    g.bench_function("probe_strong", |b| {
        b.iter(|| black_box(hostid::current_strong()))
    });
    let typed = "1q2h4-74kmz-kwxdv-8kooo-ookzq";
    g.bench_function("parse", |b| {
        b.iter(|| black_box(typed).parse::<hostid::HostId>())
    });
    let typed_strong = "2q2h4-74ba6-jqbb1-kmzkw-hy4w2-we9xd-v8kfm-bkswp-a0000-00000-0000k-zwj4t";
    g.bench_function("parse_strong", |b| {
        b.iter(|| black_box(typed_strong).parse::<hostid::HostId>())
    });
    g.finish();
}

criterion_group!(benches, in_process, process);
criterion_main!(benches);
