//! `issuer activity --account` on a ledger of 1,000,000 files.
//!
//! The ledger is built once through the real schema (`Ledger::open`, then one bulk
//! transaction of plain INSERTs into `accounts`, `sites` and `files`): 1,000 accounts with
//! 1,000 files each, 90 % of them active, generated over four years. It is kept in
//! `CARGO_TARGET_TMPDIR` and reused by later runs.
//!
//! - `activity/library_account`: `Ledger::activity` for one account (900 active rows).
//! - `activity/process_account`: the whole `issuer activity --account A` process, output
//!   captured, against `baseline/process_version` (`issuer --version`) in the same run.
//! - `baseline/select_1`: one `SELECT 1` round trip on the same connection.
//!
//! Run: `cargo bench -p i3lic-issuer --bench activity`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use issuer::{ActivityFilter, Ledger};
use store::{params, TxExt};

const ACCOUNTS: i64 = 1_000;
const FILES_PER_ACCOUNT: i64 = 1_000;
const HOST: &str = "1NKRG-23000-002B3-BW000-00GGJ";

fn ledger_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("activity-1m.db")
}

fn populate(path: &Path) {
    let want = ACCOUNTS * FILES_PER_ACCOUNT;
    if path.exists() {
        if let Ok(l) = Ledger::open(path) {
            let n: i64 = l
                .raw_for_tests()
                .query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
                .unwrap_or(0);
            if n == want {
                return;
            }
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    eprintln!("building {} ({want} files) ...", path.display());
    let started = std::time::Instant::now();
    drop(Ledger::open(path).expect("create the ledger"));
    let c = store_sqlite::open_raw(path).expect("open");
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN")
        .expect("begin");
    {
        let mut acct = c
            .prepare("INSERT INTO accounts (id, name, created_at) VALUES (?1, ?2, 1500000000)")
            .unwrap();
        let mut site = c
            .prepare("INSERT INTO sites (id, account_id, name, created_at) VALUES (?1, ?1, 'HQ', 1500000000)")
            .unwrap();
        let mut file = c
            .prepare(
                "INSERT INTO files (id, account_id, site_id, license_type, product, version, server_part,
                     primary_host, primary_machine, system_type, mail_connector, generated_by, partner,
                     generated_at, expires_at, active, key_id, sha256, bytes)
                 VALUES (?1, ?2, ?2, 'production', 'CIC', '4.0', 'SW-001-4.0-SL03', ?3, ?4,
                     'Media Server Based (4.0+ only)', 'Microsoft Exchange Server', ?5, 0, ?6,
                     4102444800, ?7, 'v1-0000000000000000', ?8, ?9)",
            )
            .unwrap();
        let blob = vec![b'x'; 256];
        let mut seq: u64 = 0;
        for a in 1..=ACCOUNTS {
            acct.execute(params![a, format!("acct-{a:04}")]).unwrap();
            site.execute(params![a]).unwrap();
            for f in 0..FILES_PER_ACCOUNT {
                seq += 1;
                // Interleave accounts in time, as real traffic does.
                let at = 1_600_000_000 + f * 126_000 + a;
                file.execute(params![
                    format!("{:032x}", seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                    a,
                    HOST,
                    format!("ic{f}"),
                    format!("staff{}", f % 7),
                    at,
                    f % 10 != 0,
                    format!("{seq:064x}"),
                    &blob,
                ])
                .unwrap();
            }
        }
    }
    c.execute_batch("COMMIT; ANALYZE;").expect("commit");
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
}

fn bench(c: &mut Criterion) {
    let path = ledger_path();
    populate(&path);
    let ledger = Ledger::open(&path).expect("open");
    let filter = ActivityFilter {
        account: Some("acct-0500".into()),
        active: Some(true),
        ..Default::default()
    };
    assert_eq!(ledger.activity(&filter).unwrap().len(), 900);

    let mut g = c.benchmark_group("activity");
    g.measurement_time(Duration::from_secs(8));
    g.bench_function("library_account", |b| {
        b.iter(|| black_box(ledger.activity(black_box(&filter)).unwrap()))
    });
    let bin = env!("CARGO_BIN_EXE_issuer");
    let db = path.to_str().unwrap().to_string();
    g.bench_function("process_account", |b| {
        b.iter(|| {
            let o = Command::new(bin)
                .args(["--db", &db, "activity", "--account", "acct-0500"])
                .output()
                .unwrap();
            assert!(o.status.success());
            black_box(o.stdout.len())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("baseline");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("select_1", |b| {
        b.iter(|| {
            let v: i64 = ledger
                .raw_for_tests()
                .query_row("SELECT 1", [], |r| r.get(0))
                .unwrap();
            black_box(v)
        })
    });
    g.bench_function("process_version", |b| {
        b.iter(|| {
            let o = Command::new(bin).arg("--version").output().unwrap();
            black_box(o.stdout.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
