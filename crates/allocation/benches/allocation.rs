//! Allocation benchmarks, each against a bare SQLite baseline measured in the same run:
//!
//! - `session/logon_logoff_4_keys`: a concurrent user with four keys logs on (acquiring all
//!   four) and off: two transactions; against `session/bare_write_transaction` (one `BEGIN
//!   IMMEDIATE` insert on a WAL file with `synchronous = FULL`, the store's durability) and
//!   `session/bare_two_transactions`.
//! - `sequence/logons_20000`: 20,000 users logging on one after another on a fresh store
//!   (sessions accumulate); against `sequence/bare_transactions_20000`.
//! - `large/report` and `large/check_compliance` on a store of 100,000 users and 20,000
//!   stations (built once through the real schema in the target folder); against
//!   `large/bare_count` (one `SELECT COUNT(*)` over the grants) and `large/bare_count_all`
//!   (`SELECT COUNT(*)` over every table the report covers). `large/licadmin_report` is the
//!   whole `licadmin report` process on that store; the store's trusted key and host-ID code
//!   are written beside it (`large.pub`, `large.host`) so that `scripts/bench.py` can measure
//!   the process's peak memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use allocation::{Allocator, Method, Place, SystemClock, Target};
use criterion::{criterion_group, criterion_main, Criterion};
use format::{
    sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp,
};
use hostid::{Components, HostId};
use store::{params, Connection, TxExt as _};
use verify::{HostSource, TrustStore, Verifier};

const KEYS: [&str; 5] = [
    "I3_ACCESS_CLIENT",
    "I3_ACCESS_ACD_MEDIA_1",
    "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
    "I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN",
    "I3_LICENSE_BASIC_STATION",
];

fn key() -> SecretKey {
    SecretKey::from_seed(&[0x5a; 32])
}

fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .unwrap()
}

fn verifier() -> Verifier {
    Verifier::for_product(
        TrustStore::new([key().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host()))
}

fn file(count: u32) -> String {
    let id = FileId::random();
    let now = Timestamp::now().plus_days(-1);
    let mut licenses: Vec<LicenseCount> = KEYS
        .iter()
        .map(|k| LicenseCount {
            name: (*k).into(),
            assigned: count,
            pooled: count,
        })
        .collect();
    licenses.sort_by(|a, b| a.name.cmp(&b.name));
    let a = Activation {
        file_id: id,
        supersedes: None,
        chain: Some(Chain::first(id)),
        product: "CIC".into(),
        product_version: "4.0".into(),
        license_type: LicenseType::Production,
        issued_at: now,
        valid_from: now,
        expires_at: Timestamp::PERPETUAL,
        grace_days: 0,
        generated_by: "bench".into(),
        sold_to: "Contoso".into(),
        install_site: "HQ".into(),
        primary_host: Host {
            host_id: host(),
            machine: "ic1".into(),
            install_key: None,
        },
        switchover_host: None,
        system_type: String::new(),
        mail_connector: String::new(),
        bundle: String::new(),
        description: String::new(),
        features: vec![],
        licenses,
        ordered_items: vec![],
        restrictions: vec![],
        rules: Default::default(),
    };
    sign(&a, &key()).unwrap()
}

fn bench_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("allocation-bench");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fresh(path: &Path) -> Allocator {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let a = Allocator::open_with_clock(path, verifier(), Arc::new(SystemClock)).unwrap();
    a.load(file(1_000_000).as_bytes()).unwrap();
    a
}

/// A bare file with the store's durability: WAL, synchronous FULL, BEGIN IMMEDIATE.
fn bare(path: &Path) -> Box<dyn Connection> {
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let c = store_sqlite::open_raw(path).unwrap();
    let _: String = c
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    c.execute_batch(
        "PRAGMA synchronous = FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
    )
    .unwrap();
    c
}

fn bare_tx(c: &mut Box<dyn Connection>, i: u64) {
    let tx = c.begin_write().unwrap();
    tx.execute(
        "INSERT OR REPLACE INTO t (id, v) VALUES (?1, ?2)",
        params![i as i64 % 1000, "0123456789abcdef0123456789abcdef"],
    )
    .unwrap();
    tx.commit().unwrap();
}

fn session(c: &mut Criterion) {
    let dir = bench_dir();
    let a = fresh(&dir.join("session.db"));
    a.add_user("alice", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("alice"), &KEYS[..4]).unwrap();
    let mut g = c.benchmark_group("session");
    g.bench_function("logon_logoff_4_keys", |b| {
        b.iter(|| {
            let s = a.login("alice", Place::Nowhere, None).unwrap();
            assert_eq!(s.acquired.len(), 4);
            a.logout(&s.id).unwrap();
        })
    });
    let mut conn = bare(&dir.join("bare-session.db"));
    let mut i = 0u64;
    g.bench_function("bare_write_transaction", |b| {
        b.iter(|| {
            i += 1;
            bare_tx(&mut conn, i);
        })
    });
    g.bench_function("bare_two_transactions", |b| {
        b.iter(|| {
            i += 2;
            bare_tx(&mut conn, i);
            bare_tx(&mut conn, i + 1);
        })
    });
    g.finish();
}

fn sequence(c: &mut Criterion) {
    let n: usize = std::env::var("I3LIC_BENCH_LOGONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = bench_dir();
    let template = dir.join(format!("sequence-template-{n}.db"));
    if !template.exists() {
        let a = fresh(&dir.join("sequence-build.db"));
        drop(a);
        let mut conn = store_sqlite::open_raw(dir.join("sequence-build.db")).unwrap();
        let tx = conn.begin_write().unwrap();
        for i in 0..n {
            tx.execute(
                "INSERT INTO users (id, name, method) VALUES (?1, ?2, 'concurrent')",
                params![i as i64 + 1, format!("user{i:06}")],
            )
            .unwrap();
            for k in &KEYS[..4] {
                tx.execute(
                    "INSERT INTO user_grants (user_id, key, explicit, consumes) VALUES (?1, ?2, 1, 0)",
                    params![i as i64 + 1, k],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        drop(conn);
        std::fs::copy(dir.join("sequence-build.db"), &template).unwrap();
    }
    let names: Vec<String> = (0..n).map(|i| format!("user{i:06}")).collect();
    let mut g = c.benchmark_group("sequence");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    let run = dir.join("sequence-run.db");
    g.bench_function(format!("logons_{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                for ext in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{ext}", run.display()));
                }
                std::fs::copy(&template, &run).unwrap();
                let a =
                    Allocator::open_with_clock(&run, verifier(), Arc::new(SystemClock)).unwrap();
                let t = Instant::now();
                for u in &names {
                    a.login(u, Place::Nowhere, Some(86_400)).unwrap();
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.bench_function(format!("bare_transactions_{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut conn = bare(&dir.join("bare-sequence.db"));
                let t = Instant::now();
                for i in 0..n as u64 {
                    bare_tx(&mut conn, i);
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn large(c: &mut Criterion) {
    const USERS: i64 = 100_000;
    const STATIONS: i64 = 20_000;
    let dir = bench_dir();
    let path = dir.join("large.db");
    if !path.exists() {
        let build = dir.join("large-build.db");
        drop(fresh(&build));
        let mut conn = store_sqlite::open_raw(&build).unwrap();
        let tx = conn.begin_write().unwrap();
        for i in 0..USERS {
            let method = if i % 2 == 0 {
                "assignable"
            } else {
                "concurrent"
            };
            tx.execute(
                "INSERT INTO users (id, name, method) VALUES (?1, ?2, ?3)",
                params![i + 1, format!("user{i:06}"), method],
            )
            .unwrap();
            for k in &KEYS[..2] {
                tx.execute(
                    "INSERT INTO user_grants (user_id, key, explicit, consumes) VALUES (?1, ?2, 1, ?3)",
                    params![i + 1, k, i64::from(i % 2 == 0)],
                )
                .unwrap();
            }
            // A tenth of the concurrent users are logged on.
            if i % 20 == 1 {
                let id = format!("{:032x}", i);
                tx.execute("INSERT INTO sessions (id, user_id, lease, started_at, expires_at) VALUES (?1, ?2, 600, 0, 9000000000)", params![id, i + 1]).unwrap();
                for k in &KEYS[..2] {
                    tx.execute("INSERT INTO session_licenses (session_id, key, pool) VALUES (?1, ?2, 'concurrent')", params![id, k]).unwrap();
                }
            }
        }
        for i in 0..STATIONS {
            tx.execute(
                "INSERT INTO stations (id, name, kind, enabled) VALUES (?1, ?2, 'workstation', 1)",
                params![i + 1, format!("station{i:05}")],
            )
            .unwrap();
            for k in ["I3_LICENSE_BASIC_STATION", "I3_ACCESS_CLIENT"] {
                tx.execute(
                    "INSERT INTO station_grants (station_id, key, explicit, consumes) VALUES (?1, ?2, 1, 1)",
                    params![i + 1, k],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
            .unwrap();
        drop(conn);
        std::fs::rename(&build, &path).unwrap();
    }
    let a = Allocator::open_with_clock(&path, verifier(), Arc::new(SystemClock)).unwrap();
    assert_eq!(
        a.report()
            .unwrap()
            .keys
            .iter()
            .find(|k| k.name == "I3_ACCESS_CLIENT")
            .unwrap()
            .assignable_configured,
        70_000
    );
    let pub_key = dir.join("large.pub");
    std::fs::write(&pub_key, key().public_key().to_text("bench")).unwrap();
    std::fs::write(dir.join("large.host"), host().to_string()).unwrap();
    let mut g = c.benchmark_group("large");
    g.sample_size(10);
    g.bench_function("report", |b| b.iter(|| a.report().unwrap()));
    g.bench_function("check_compliance", |b| {
        b.iter(|| assert!(a.check_compliance().unwrap().is_empty()))
    });
    let conn = store_sqlite::open_raw(&path).unwrap();
    g.bench_function("bare_count", |b| {
        b.iter(|| {
            conn.query_row("SELECT COUNT(*) FROM user_grants", [], |r| r.get::<i64>(0))
                .unwrap()
        })
    });
    g.bench_function("bare_count_all", |b| {
        b.iter(|| {
            conn.query_row(
                "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM stations)
                      + (SELECT COUNT(*) FROM user_grants) + (SELECT COUNT(*) FROM station_grants)
                      + (SELECT COUNT(*) FROM sessions) + (SELECT COUNT(*) FROM session_licenses)",
                [],
                |r| r.get::<i64>(0),
            )
            .unwrap()
        })
    });
    let host = host().to_string();
    g.bench_function("licadmin_report", |b| {
        b.iter(|| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_licadmin"))
                .env_remove("I3LIC_TRUST")
                .arg("--store")
                .arg(&path)
                .arg("--trust")
                .arg(&pub_key)
                .args(["--host-id", &host, "report"])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        })
    });
    g.finish();
}

criterion_group!(benches, session, sequence, large);
criterion_main!(benches);
