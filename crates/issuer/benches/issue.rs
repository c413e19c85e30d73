//! Issuing speed.
//!
//! `sign/*`: files signed per second on the signing path alone (building the activation from
//! a checked plan, encoding and signing it) against bare ed25519 signatures over a message of
//! the same length, in the same run.
//!
//! `ledger/*`: whole durable issue transactions per second into a real ledger file
//! (WAL, synchronous=FULL), against a bare durable one-row SQLite commit on the same disk.
//! `ledger/issue_batch_100` issues 100 files in one durable transaction (group commit,
//! `Ledger::issue_batch`), measured per batch: files/s = 100 / its time, against `ledger/issue`.
//!
//! Run: `cargo bench -p i3lic-issuer --bench issue`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use format::{FileId, LicenseType, SecretKey, Timestamp};
use hostid::{Components, HostId};
use issuer::location::LedgerLocation;
use issuer::{rules, Catalog, IssueRequest, Ledger, PartQuantity, SiteDetails};
use store::TxExt;

/// The PostgreSQL baseline's store: one table of blobs.
const BARE_POSTGRES: store::Schema = store::Schema {
    what: "bench store",
    migrations: &[store::Migration {
        version: 1,
        name: "bare.sql",
        sql: "CREATE TABLE t (x BYTEA)",
    }],
    tables: &["t"],
    application_id: None,
};

/// The baseline's store: one table of blobs.
const BARE: store::Schema = store::Schema {
    what: "bench store",
    migrations: &[store::Migration {
        version: 1,
        name: "bare.sql",
        sql: "CREATE TABLE t (x BLOB);",
    }],
    tables: &["t"],
    application_id: None,
};

fn request(t: LicenseType, server: &str, add: &[(&str, u32)]) -> IssueRequest {
    let host = HostId::from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("host id");
    IssueRequest {
        account: "Contoso".into(),
        site: "HQ".into(),
        product: "CIC".into(),
        version: "4.0".into(),
        license_type: t,
        host_id: host.to_string(),
        machine: "ic1".into(),
        switchover_host_id: None,
        switchover_machine: None,
        switchover_part: None,
        server_part: server.into(),
        add: add
            .iter()
            .map(|(p, q)| PartQuantity {
                part: (*p).into(),
                quantity: *q,
            })
            .collect(),
        system_type: Some("Media Server Based (4.0+ only)".into()),
        mail_connector: Some("Microsoft Exchange Server".into()),
        generated_by: "bench".into(),
        partner: false,
        related: None,
    }
}

fn signing(c: &mut Criterion) {
    let catalog = Catalog::built_in().expect("catalog");
    let key = SecretKey::generate();
    // The seed's View License configuration.
    let req = request(
        LicenseType::Production,
        "SW-001-4.0-SL03",
        &[
            ("SW-001-4.0-AL02", 50),
            ("SW-001-4.0-AL06", 120),
            ("SW-001-4.0-PL04", 100),
            ("SW-001-4.0-PL06", 100),
            ("SW-001-4.0-PL09", 120),
        ],
    );
    let plan = rules::plan(&catalog, &req).expect("plan");
    let now = Timestamp::now();
    let len = format::sign(&rules::activation(&req, &plan, FileId::random(), now), &key)
        .expect("sign")
        .len();
    let msg = vec![0x5a_u8; len];
    let mut g = c.benchmark_group("sign");
    g.throughput(Throughput::Elements(1));
    g.bench_function("ed25519_bare", |b| b.iter(|| key.sign(black_box(&msg))));
    let built = rules::activation(&req, &plan, FileId::random(), now);
    g.bench_function("format_sign_only", |b| {
        b.iter(|| format::sign(black_box(&built), &key).expect("sign"))
    });
    g.bench_function("activation_file", |b| {
        b.iter(|| {
            let a = rules::activation(&req, &plan, FileId::random(), now);
            format::sign(black_box(&a), &key).expect("sign")
        })
    });
    g.bench_function("plan_and_activation_file", |b| {
        b.iter(|| {
            let plan = rules::plan(&catalog, black_box(&req)).expect("plan");
            let a = rules::activation(&req, &plan, FileId::random(), now);
            format::sign(&a, &key).expect("sign")
        })
    });
    g.finish();
}

/// Files per batch in `ledger/issue_batch_100`.
const BATCH: usize = 100;

/// A ledger able to take any number of trial files, with what issuing one takes.
struct Bench {
    l: Ledger,
    catalog: Catalog,
    key: SecretKey,
    req: IssueRequest,
}

/// A ledger able to take any number of trial files, the key and the request issued.
fn bench_ledger(location: &LedgerLocation) -> Bench {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open_at(location).expect("ledger");
    l.add_account("Contoso", "bench").expect("account");
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "bench")
        .expect("site");
    for part in ["SW-001-4.0-TR01", "SW-001-4.0-AL02"] {
        l.add_order(&catalog, "Contoso", part, format::MAX_COUNT, false, "bench")
            .expect("order");
    }
    let req = request(
        LicenseType::Trial,
        "SW-001-4.0-TR01",
        &[("SW-001-4.0-AL02", 1)],
    );
    Bench {
        l,
        catalog,
        key: SecretKey::generate(),
        req,
    }
}

/// `group/bare_durable_commit`: the cheapest durable commit of a 2 KiB row the engine's
/// server allows (`BEGIN`, one `INSERT`, `COMMIT`, sent as they are), and `group/issue`:
/// one file issued, one transaction, on the same engine.
fn issue_against_bare(
    c: &mut Criterion,
    group: &str,
    bare: &dyn store::Connection,
    begin: &str,
    b: &mut Bench,
) {
    let Bench {
        l,
        catalog,
        key,
        req,
    } = b;
    let blob = vec![0x5a_u8; 2048];
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("bare_durable_commit", |b| {
        b.iter(|| {
            bare.execute_batch(begin).expect("begin");
            bare.execute("INSERT INTO t (x) VALUES (?1)", [&blob])
                .expect("insert");
            bare.execute_batch("COMMIT").expect("commit");
        })
    });
    g.bench_function("issue", |b| {
        b.iter(|| {
            l.issue(catalog, black_box(&*req), key, None, Timestamp::now())
                .expect("issue")
        })
    });
    g.finish();
}

fn ledger(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bench = bench_ledger(&LedgerLocation::Sqlite(dir.path().join("ledger.db")));
    let out = dir.path().join("out.i3lic");
    // The baseline's file has the ledger's settings (WAL, synchronous=FULL).
    let bare =
        store_sqlite::open(&dir.path().join("bare.db"), &BARE, store::Access::Write).expect("bare");
    issue_against_bare(c, "ledger", &*bare, "BEGIN IMMEDIATE", &mut bench);
    let Bench {
        mut l,
        catalog,
        key,
        req,
    } = bench;

    // Group commit: 100 files in one durable transaction, measured per batch (files/s =
    // 100 / batch time), next to the single-file `issue` above.
    let batch: Vec<IssueRequest> = (0..BATCH)
        .map(|i| {
            let mut r = req.clone();
            r.machine = format!("ms{i}");
            r
        })
        .collect();
    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("issue_batch_100", |b| {
        b.iter(|| {
            l.issue_batch(&catalog, black_box(&batch), &key, None, Timestamp::now())
                .expect("batch")
        })
    });
    // The same with every output file written (synced temporary files, renames, one
    // folder sync); each iteration writes into a fresh folder.
    let mut n = 0u64;
    g.bench_function("issue_batch_100_with_output_files", |b| {
        b.iter_batched(
            || {
                n += 1;
                let d = dir.path().join(format!("batch{n}"));
                std::fs::create_dir(&d).expect("folder");
                d
            },
            |d| {
                l.issue_batch(
                    &catalog,
                    black_box(&batch),
                    &key,
                    Some(&d),
                    Timestamp::now(),
                )
                .expect("batch")
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("ledger");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("issue_with_output_file", |b| {
        b.iter(|| {
            l.issue(
                &catalog,
                black_box(&req),
                &key,
                Some(&out),
                Timestamp::now(),
            )
            .expect("issue")
        })
    });
    g.finish();
}

/// The same on PostgreSQL (`ledger-postgres/`), on fresh databases of the server
/// `I3LIC_TEST_POSTGRES` names (`python3 scripts/engine_bench.py` starts one with fsync on);
/// skipped with a line when it is unset.
fn ledger_postgres(c: &mut Criterion) {
    let (Some(ldb), Some(bdb)) = (
        store_postgres::testing::fresh_database(),
        store_postgres::testing::fresh_database(),
    ) else {
        return;
    };
    let location = LedgerLocation::parse(std::ffi::OsStr::new(&ldb.url)).expect("a URL");
    let mut bench = bench_ledger(&location);
    let bare = store_postgres::open(&bdb.url, &BARE_POSTGRES, store::Access::Write).expect("bare");
    issue_against_bare(c, "ledger-postgres", &*bare, "BEGIN", &mut bench);
}

criterion_group!(benches, signing, ledger, ledger_postgres);
criterion_main!(benches);
