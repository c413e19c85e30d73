//! `Verifier::load` of a typical file (30 license keys, two hosts) against one bare
//! `verify_strict` of the same signed bytes, measured in the same run; and the host probe.
//!
//! ```sh
//! cargo bench -p i3lic-verify --bench load
//! ```
//! The file is of format version 2 (an update chain, two hosts bound to strong codes).
//! Target: `load (given host)` at most 1.3x `verify_strict (baseline)`;
//! `hostid::current_strong()` (what a load as this machine reads) under 1 ms.

#[path = "../tests/common/mod.rs"]
mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use format::{UnverifiedFile, SIGNATURE_MARKER};
use verify::{HostSource, TrustStore, Verifier};

use common::*;

/// The raw signature of a file: the base64 lines between the signature and end markers.
fn signature_of(text: &str) -> Vec<u8> {
    let b64: String = text
        .lines()
        .skip_while(|l| l.trim_end() != SIGNATURE_MARKER)
        .skip(1)
        .take_while(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    STANDARD.decode(b64).expect("signature")
}

fn bench(c: &mut Criterion) {
    let vendor = vendor_key();
    let mut a = in_chain(activation(30), 1, 1, 1, None);
    a.primary_host.host_id = host_a_strong();
    a.switchover_host.as_mut().expect("two hosts").host_id = host_b_strong();
    let file = signed(&a, &vendor);
    let bytes = file.as_bytes();
    let signed_bytes = UnverifiedFile::parse(bytes)
        .expect("parse")
        .signed_bytes()
        .to_vec();
    let sig = signature_of(&file);
    let key = vendor.public_key().clone();
    key.verify_strict(&signed_bytes, &sig)
        .expect("baseline verifies");

    let verifier =
        Verifier::for_product(TrustStore::new([key.clone()]).expect("trust"), "CIC", "4.0")
            .host(HostSource::Code(host_a_strong()))
            .at(mid());
    verifier.load(bytes).expect("load");

    let mut g = c.benchmark_group("load");
    g.bench_function("verify_strict (baseline)", |b| {
        b.iter(|| key.verify_strict(black_box(&signed_bytes), black_box(&sig)))
    });
    // What the format crate alone costs (armor, signature, payload), to attribute the rest.
    g.bench_function("format::verify_bytes", |b| {
        b.iter(|| format::verify_bytes(black_box(bytes), [&key]))
    });
    g.bench_function("load (given host)", |b| {
        b.iter(|| verifier.load(black_box(bytes)))
    });
    g.finish();

    c.bench_function("hostid::current_strong() (host probe)", |b| {
        b.iter(hostid::current_strong)
    });

    // The whole server path on this machine, when it has a code.
    if let Ok(here) = hostid::current_strong() {
        let mut a = in_chain(activation(30), 1, 1, 1, None);
        a.primary_host.host_id = here;
        a.switchover_host = None;
        let here_file = signed(&a, &vendor);
        let v = Verifier::for_product(TrustStore::new([key.clone()]).expect("trust"), "CIC", "4.0")
            .at(mid());
        if v.load(here_file.as_bytes()).is_ok() {
            c.bench_function("load (this machine, with probe)", |b| {
                b.iter(|| v.load(black_box(here_file.as_bytes())))
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
