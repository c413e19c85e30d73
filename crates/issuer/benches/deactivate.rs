//! Deactivation speed: `issuer deactivate ID --receipt FILE` against `issuer deactivate ID`
//! (no receipt), through the library calls behind both (`Ledger::deactivate_held`), on the
//! same SQLite ledger (WAL, synchronous=FULL) in the same run. Each iteration deactivates a
//! fresh production file bound to an install key; issuing it (and signing its receipt) is
//! the untimed set-up. The account's rehost allowance is unlimited, so the call without a
//! receipt returns the units as the one with does (a pending deactivation writes less: it
//! leaves the order counters alone). Target: with receipt at most 1.2x without.
//!
//! Run: `cargo bench -p i3lic-issuer --bench deactivate`.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use format::receipt::{Receipt, ReleaseFacts};
use format::{LicenseType, SecretKey, Timestamp};
use hostid::{Components, HostId, RequestCode};
use issuer::{Catalog, IssueRequest, Ledger, PartQuantity, SiteDetails};

const SERVER: &str = "SW-001-4.0-SL03";
const ADD_ON: &str = "SW-001-4.0-AL02";

fn host() -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("strong host id")
}

/// A production file for the host, bound to `install`'s key by its request code.
fn request(install: &SecretKey) -> IssueRequest {
    IssueRequest {
        account: "Contoso".into(),
        site: "HQ".into(),
        product: "CIC".into(),
        version: "4.0".into(),
        license_type: LicenseType::Production,
        host_id: RequestCode::new(host(), install.public_key().to_bytes())
            .expect("strong")
            .to_string(),
        machine: "ic1".into(),
        switchover_host_id: None,
        switchover_machine: None,
        switchover_part: None,
        server_part: SERVER.into(),
        add: vec![PartQuantity {
            part: ADD_ON.into(),
            quantity: 10,
        }],
        system_type: Some("Media Server Based (4.0+ only)".into()),
        mail_connector: Some("Microsoft Exchange Server".into()),
        generated_by: "bench".into(),
        partner: false,
        related: None,
    }
}

/// The ledger, with orders large enough for any number of files.
fn ledger(path: &std::path::Path) -> (Ledger, Catalog) {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open(path).expect("ledger");
    l.add_account("Contoso", "bench").expect("account");
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "bench")
        .expect("site");
    for part in [SERVER, ADD_ON] {
        l.add_order(&catalog, "Contoso", part, format::MAX_COUNT, true, "bench")
            .expect("order");
    }
    // An allowance that never runs out: without a receipt the units come back too, so both
    // calls do the same ledger work and the ratio is the receipt check's cost.
    l.set_rehosts_per_year("Contoso", u32::MAX, "bench")
        .expect("allowance");
    (l, catalog)
}

fn deactivate(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (l, catalog) = ledger(&dir.path().join("ledger.db"));
    // The set-up and the timed routine both use the ledger, one after the other.
    let l = RefCell::new(l);
    let key = SecretKey::generate();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let req = request(&install);
    // One file issued, with the receipt its store would sign when releasing it.
    let fresh = || -> (String, String) {
        let issued = l
            .borrow_mut()
            .issue(&catalog, &req, &key, None, Timestamp::now())
            .expect("issue");
        let id = issued.file_id;
        let receipt = Receipt::sign(
            &ReleaseFacts {
                file_id: id,
                lineage: id,
                generation: 1,
                host_id: host(),
                released_at: Timestamp::now(),
            },
            &install,
        );
        (id.to_string(), receipt)
    };

    let mut g = c.benchmark_group("deactivate");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(10));
    // Both variants do the same work (one file deactivated each way per iteration), timing
    // only their own call, so the ledger grows alike and the ratio compares the calls alone.
    let run = |receipt_timed: bool, iters: u64| {
        let mut timed = Duration::ZERO;
        for i in 0..iters {
            let (plain, _) = fresh();
            let (held, receipt) = fresh();
            let plain_call = || {
                l.borrow_mut()
                    .deactivate_held(black_box(&plain), None, false, "bench", Timestamp::now())
                    .expect("deactivate")
            };
            let receipt_call = || {
                l.borrow_mut()
                    .deactivate_held(
                        black_box(&held),
                        Some(black_box(&receipt)),
                        false,
                        "bench",
                        Timestamp::now(),
                    )
                    .expect("deactivate")
            };
            // Which call runs first alternates, so neither always follows the other's commit.
            let call = |timed: &mut Duration, receipt: bool| {
                let t = Instant::now();
                if receipt {
                    black_box(receipt_call());
                } else {
                    black_box(plain_call());
                }
                if receipt == receipt_timed {
                    *timed += t.elapsed();
                }
            };
            let receipt_first = i % 2 == 0;
            call(&mut timed, receipt_first);
            call(&mut timed, !receipt_first);
        }
        timed
    };
    g.bench_function("without_receipt", |b| b.iter_custom(|n| run(false, n)));
    g.bench_function("with_receipt", |b| b.iter_custom(|n| run(true, n)));
    g.finish();
}

criterion_group!(benches, deactivate);
criterion_main!(benches);
