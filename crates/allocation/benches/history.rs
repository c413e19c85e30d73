//! Usage history benchmarks (issue 22's "Speed"), each beside a baseline of the same run:
//!
//! - `usage/by_day_400_days`: [`Allocator::usage`] by day over 400 days of history at 50,000
//!   events a day (20,000,000 events); against `usage/bare_day_counters` (the day counters
//!   of the range read into memory with one `SELECT`, the least any report reads).
//!   `usage/licadmin_usage_by_day` is the whole `licadmin usage --by day` process on that
//!   store. The store is built once under the target folder (`history.db`, about 2 GB),
//!   its rows written with SQL in bulk in the shape the recording gives them (one event per
//!   key a logon or logoff concerns, per-hour and per-day peaks per key and count, denials
//!   per hour and day), its trusted key, host-ID code and range beside it (`history.pub`,
//!   `history.host`, `history.range`) for `scripts/history_bench.py`'s peak memory.
//! - `record/logon_logoff_4_keys`: a concurrent user with four keys logs on and off (two
//!   durable transactions) on a store recording its history; against
//!   `record/logon_logoff_4_keys_unrecorded`, the same on a store whose history is switched
//!   off in SQL by this bench alone (the peak triggers dropped, every event insert ignored
//!   by a `RAISE(IGNORE)` trigger). The second still pays the transaction's time stamp and
//!   the ignored inserts' statements, so the ratio slightly understates what history costs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use allocation::{Allocator, Method, Period, Place, SystemClock, Target};
use criterion::{criterion_group, criterion_main, Criterion};
use format::{
    sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp,
};
use hostid::{Components, HostId};
use store::{params, TxExt as _};
use verify::{HostSource, TrustStore, Verifier};

const KEYS: [&str; 5] = [
    "I3_ACCESS_CLIENT",
    "I3_ACCESS_ACD_MEDIA_1",
    "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
    "I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN",
    "I3_LICENSE_BASIC_STATION",
];
const DAYS: i64 = 400;
const EVENTS_PER_DAY: i64 = 50_000;
const DAY: i64 = 86_400;

fn key() -> SecretKey {
    SecretKey::from_seed(&[0x5b; 32])
}

fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("1f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5d]],
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
    let now = Timestamp::now().plus_days(-(DAYS + 1));
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
    a.load(file(1_000).as_bytes()).unwrap();
    a
}

/// The 400 days ending yesterday: the first day's start, the last day's start.
fn build_history(path: &Path, range: &Path) -> (i64, i64) {
    let build = path.with_extension("build.db");
    drop(fresh(&build));
    let now = Timestamp::now().unix();
    let last = now - now.rem_euclid(DAY) - DAY;
    let first = last - (DAYS - 1) * DAY;
    let mut conn = store_sqlite::open_raw(&build).unwrap();
    let tx = conn.begin_write().unwrap();
    tx.execute("UPDATE usage_licensed SET at = ?1", params![first - DAY])
        .unwrap();
    tx.execute(
        "CREATE TEMP TABLE k (i INTEGER PRIMARY KEY, key TEXT NOT NULL)",
        params![],
    )
    .unwrap();
    for (i, k) in KEYS.iter().enumerate() {
        tx.execute(
            "INSERT INTO k (i, key) VALUES (?1, ?2)",
            params![i as i64, k],
        )
        .unwrap();
    }
    let after: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(id), 0) FROM usage_events",
            params![],
            |r| r.get(0),
        )
        .unwrap();
    // As logons and logoffs record them: a concurrent user with four keys logs on (four
    // acquisitions of one session) and later off (four releases), evenly over each day.
    tx.execute(
        "INSERT INTO usage_events (id, at, kind, who, key, detail)
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
         SELECT ?4 + i + 1, ?2 + (i / ?3) * 86400 + (i % ?3) * 86400 / ?3,
                CASE WHEN (i / 4) % 2 = 0 THEN 'acquire' ELSE 'release' END,
                printf('user ''agent%05d''', (i / 8) % 5000),
                (SELECT key FROM k WHERE k.i = i % 4),
                CASE WHEN (i / 4) % 2 = 0
                     THEN printf('session %032x logged on without a station', i / 8)
                     ELSE printf('session %032x ended: logged off', i / 8) END
         FROM n",
        params![DAYS * EVENTS_PER_DAY, first, EVENTS_PER_DAY, after],
    )
    .unwrap();
    // Per hour and per day, each key and count: the peak in use and the level it left.
    for (span, per_day) in [(3600i64, 24i64), (DAY, 1)] {
        tx.execute(
            "INSERT INTO usage_peaks (span, at, key, pool, peak, level)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
             SELECT ?2, ?3 + n.i * ?2, k.key, p.pool,
                    400 + (n.i * 37 + k.i * 11) % 500, 300 + (n.i * 37 + k.i * 11) % 400
             FROM n, k, (SELECT 'assignable' AS pool UNION ALL SELECT 'concurrent') p",
            params![DAYS * per_day, span, first],
        )
        .unwrap();
        // Denials: some hours of some days, two keys, two reasons.
        tx.execute(
            "INSERT INTO usage_denials (span, at, key, reason, n)
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
             SELECT ?2, ?3 + n.i * ?2, k.key, r.reason, 1 + n.i % 7
             FROM n, k, (SELECT 'no-license-available' AS reason UNION ALL SELECT 'organization-cap') r
             WHERE k.i < 2 AND n.i % 3 = 0",
            params![DAYS * per_day, span, first],
        )
        .unwrap();
    }
    tx.execute("DROP TABLE k", params![]).unwrap();
    tx.commit().unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    std::fs::rename(&build, path).unwrap();
    let text = format!(
        "{} {}\n",
        allocation::date_text(first),
        allocation::date_text(last)
    );
    std::fs::write(range, text).unwrap();
    (first, last)
}

fn usage(c: &mut Criterion) {
    let dir = bench_dir();
    let path = dir.join("history.db");
    let range = dir.join("history.range");
    let (first, last) = match std::fs::read_to_string(&range) {
        Ok(t) if path.exists() => {
            let mut d = t
                .split_whitespace()
                .map(|d| allocation::parse_date(d).unwrap());
            (d.next().unwrap(), d.next().unwrap())
        }
        _ => build_history(&path, &range),
    };
    let pub_key = dir.join("history.pub");
    std::fs::write(&pub_key, key().public_key().to_text("bench")).unwrap();
    std::fs::write(dir.join("history.host"), host().to_string()).unwrap();
    let a = Allocator::open_with_clock(&path, verifier(), Arc::new(SystemClock)).unwrap();
    let r = a.usage(first, last, Period::Day).unwrap();
    assert_eq!(r.rows.len(), DAYS as usize * KEYS.len());
    let mut g = c.benchmark_group("usage");
    g.sample_size(10);
    g.bench_function("by_day_400_days", |b| {
        b.iter(|| a.usage(first, last, Period::Day).unwrap())
    });
    let conn = store_sqlite::open_raw(&path).unwrap();
    g.bench_function("bare_day_counters", |b| {
        b.iter(|| {
            conn.query_map(
                "SELECT key, pool, at, peak, level FROM usage_peaks WHERE span = 86400 AND at >= ?1 AND at < ?2",
                params![first, last + DAY],
                |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<i64>(3)?, r.get::<i64>(4)?)),
            )
            .unwrap()
        })
    });
    let (from, to) = (allocation::date_text(first), allocation::date_text(last));
    let host = host().to_string();
    g.bench_function("licadmin_usage_by_day", |b| {
        b.iter(|| {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_licadmin"))
                .env_remove("I3LIC_TRUST")
                .arg("--store")
                .arg(&path)
                .arg("--trust")
                .arg(&pub_key)
                .args(["--host-id", &host, "usage", "--by", "day", "--from", &from])
                .args(["--to", &to])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        })
    });
    g.finish();
}

fn record(c: &mut Criterion) {
    let dir = bench_dir();
    let stores = [
        ("logon_logoff_4_keys", dir.join("record-on.db"), false),
        (
            "logon_logoff_4_keys_unrecorded",
            dir.join("record-off.db"),
            true,
        ),
    ];
    let mut g = c.benchmark_group("record");
    g.measurement_time(Duration::from_secs(8));
    let opened: Vec<(&str, Allocator)> = stores
        .iter()
        .map(|(name, path, off)| {
            drop(fresh(path));
            if *off {
                store_sqlite::open_raw(path)
                    .unwrap()
                    .execute_batch(
                        "DROP TRIGGER usage_counts_peak_ins; DROP TRIGGER usage_counts_peak_upd;
                         CREATE TRIGGER usage_events_off BEFORE INSERT ON usage_events
                         BEGIN SELECT RAISE(IGNORE); END;",
                    )
                    .unwrap();
            }
            let a = Allocator::open_with_clock(path, verifier(), Arc::new(SystemClock)).unwrap();
            a.add_user("alice", Method::Concurrent, None).unwrap();
            a.allocate(Target::User("alice"), &KEYS[..4]).unwrap();
            (*name, a)
        })
        .collect();
    for (name, a) in &opened {
        g.bench_function(*name, |b| {
            b.iter(|| {
                let s = a.login("alice", Place::Nowhere, None).unwrap();
                assert_eq!(s.acquired.len(), 4);
                a.logout(&s.id).unwrap();
            })
        });
    }
    g.finish();
    // The switch did what it says: the unrecorded store holds only the load's event, made
    // before it was switched off; the other has the logons'.
    let events = |a: &Allocator| a.events(10).unwrap().len();
    assert!(events(&opened[0].1) > 1);
    assert_eq!(events(&opened[1].1), 1);
}

criterion_group!(benches, record, usage);
criterion_main!(benches);
