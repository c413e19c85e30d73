//! The import benchmark of `python3 scripts/history_bench.py`: `import_bench STORE N` makes a
//! fresh store (an SQLite path or a postgres:// URL of an empty database) holding a file of
//! enough licenses, two organizations, and imports N users with licenses from a CSV file in
//! memory (`Allocator::import`: one transaction), a third assignable with three keys, the
//! rest concurrent with two, some in an organization. Then, as the baseline of the same
//! run, the same number of users and grants written by plain single-row inserts in one
//! transaction into tables of the same shape without triggers (`bare_users`,
//! `bare_grants`). Prints `import SECONDS` and `bare SECONDS`.

use std::sync::Arc;
use std::time::Instant;

use allocation::{Allocator, ImportKind, StoreLocation, SystemClock};
use format::Timestamp;
use format::{sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, Rules, SecretKey};
use hostid::{Components, HostId};
use store::{params, TxExt as _};
use verify::{HostSource, TrustStore, Verifier};

const KEYS: [&str; 3] = [
    "I3_ACCESS_CLIENT",
    "I3_ACCESS_ACD_MEDIA_1",
    "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
];

fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x00, 0x60, 0x00]],
        ..Default::default()
    })
    .expect("host id")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: import_bench STORE N";
    let store = args.get(1).expect(usage);
    let n: u32 = args.get(2).and_then(|n| n.parse().ok()).expect(usage);
    let key = SecretKey::generate();
    let id = FileId::random();
    let now = Timestamp::now().plus_days(-1);
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
        generated_by: "Bench".into(),
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
        licenses: {
            let mut l: Vec<LicenseCount> = KEYS
                .iter()
                .map(|k| LicenseCount {
                    name: (*k).into(),
                    assigned: n,
                    pooled: n,
                })
                .collect();
            l.push(LicenseCount {
                name: "I3_TENANT_IWP_ORGANIZATION".into(),
                assigned: 2,
                pooled: 0,
            });
            l.sort_by(|a, b| a.name.cmp(&b.name));
            l
        },
        ordered_items: vec![],
        restrictions: vec![],
        rules: Rules::default(),
    };
    let file = sign(&a, &key).expect("sign");
    let verifier = Verifier::for_product(
        TrustStore::new([key.public_key().clone()]).expect("trust"),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host()));
    let loc = StoreLocation::parse(std::ffi::OsStr::new(store)).expect("a store path or URL");
    let alloc = Allocator::open_at(&loc, verifier, Arc::new(SystemClock)).expect("open");
    alloc.load(file.as_bytes()).expect("load");
    for o in ["sales", "support"] {
        alloc.add_organization(o).expect("org");
    }
    let mut csv = String::from("name,method,organization,licenses\n");
    for i in 0..n {
        let (method, keys) = if i % 3 == 0 {
            ("assignable", KEYS.join(";"))
        } else {
            ("concurrent", KEYS[..2].join(";"))
        };
        let org = ["", "sales", "support"][(i % 5) as usize % 3];
        csv.push_str(&format!("agent{i:06},{method},{org},{keys}\n"));
    }
    let t = Instant::now();
    let r = alloc
        .import(ImportKind::Users, csv.as_bytes())
        .expect("import");
    println!("import {:.6}", t.elapsed().as_secs_f64());
    assert_eq!(r.added, n as usize);
    drop(alloc);

    let t = match &loc {
        StoreLocation::Sqlite(p) => bare_sqlite(p, n),
        StoreLocation::Postgres(url) => bare_postgres(url, n),
    };
    println!("bare {t:.6}");
}

/// The users and their keys of the import, in the order it writes them.
fn rows(n: u32) -> impl Iterator<Item = (i64, String, &'static [&'static str])> {
    (0..i64::from(n)).map(|i| {
        let keys: &[&str] = if i % 3 == 0 { &KEYS[..] } else { &KEYS[..2] };
        (i + 1, format!("agent{i:06}"), keys)
    })
}

const BARE_TABLES: &str = "CREATE TABLE bare_users (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, method TEXT NOT NULL);
     CREATE TABLE bare_grants (user_id BIGINT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (user_id, key));";

fn bare_sqlite(path: &std::path::Path, n: u32) -> f64 {
    let mut conn = store_sqlite::open_raw(path).expect("open");
    conn.execute_batch(BARE_TABLES).expect("create");
    let t = Instant::now();
    let tx = conn.begin_write().expect("begin");
    for (id, name, keys) in rows(n) {
        tx.prepare_cached(
            "INSERT INTO bare_users (id, name, method) VALUES (?1, ?2, 'concurrent')",
        )
        .and_then(|mut s| s.execute(params![id, name]))
        .expect("insert");
        for k in keys {
            tx.prepare_cached("INSERT INTO bare_grants (user_id, key) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![id, *k]))
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
    t.elapsed().as_secs_f64()
}

fn bare_postgres(url: &str, n: u32) -> f64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.batch_execute(BARE_TABLES).expect("create");
    let t = Instant::now();
    let mut tx = c.transaction().expect("begin");
    let u = tx
        .prepare("INSERT INTO bare_users (id, name, method) VALUES ($1, $2, 'concurrent')")
        .expect("prepare");
    let g = tx
        .prepare("INSERT INTO bare_grants (user_id, key) VALUES ($1, $2)")
        .expect("prepare");
    for (id, name, keys) in rows(n) {
        tx.execute(&u, &[&id, &name]).expect("insert");
        for k in keys {
            tx.execute(&g, &[&id, k]).expect("insert");
        }
    }
    tx.commit().expect("commit");
    t.elapsed().as_secs_f64()
}
