//! Ledgers for the portal's load benchmark (`python3 scripts/portal_bench.py`), and the
//! in-process issue rate the API's is compared with.
//!
//! `bench_ledger big PATH`: 1,000 accounts with 1,000 files each (1,000,000 files, built
//! through the real schema with bulk INSERTs, as the issuer's activity bench does), 90 %
//! active; every account has the same ordered items, whose usage rows match its active
//! files, so every Account Summary has something to add up. A staff portal user
//! `bench@vendor.example` with the password `bench-password-1` and an API token written
//! to PATH.token.
//!
//! `bench_ledger issue PATH`: a small ledger with one account able to take any number of
//! files, the same user and token.
//!
//! `bench_ledger inprocess PATH N`: issue N files in process with `Ledger::issue` on a
//! ledger made as by `issue` (or the one an earlier run left at PATH, which goes on
//! growing), one durable transaction each, and print `files/s`.

use std::path::Path;
use std::time::Instant;

use format::{LicenseType, SecretKey, Timestamp};
use issuer::{Catalog, IssueRequest, Ledger, Role, SiteDetails};
use rusqlite::params;

const HOST: &str = "1NKRG-23000-002B3-BW000-00GGJ";
const PASSWORD: &str = "bench-password-1";

fn user_and_token(l: &mut Ledger, path: &Path) {
    let hash = portal::auth::hash_password("bench@vendor.example", PASSWORD).expect("hash");
    l.add_portal_user(
        "bench@vendor.example",
        Role::Staff,
        false,
        &[],
        &hash,
        "bench",
    )
    .expect("user");
    let (t, d) = portal::auth::new_token();
    l.add_portal_token("bench@vendor.example", &d, "bench", "bench")
        .expect("token");
    std::fs::write(format!("{}.token", path.display()), t).expect("write token");
}

fn big(path: &Path) {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open(path).expect("create the ledger");
    l.add_account("acct-0001", "bench").unwrap();
    l.add_site("acct-0001", "HQ", &SiteDetails::default(), "bench")
        .unwrap();
    for (part, q) in [
        ("SW-001-4.0-SL03", 2_000u32),
        ("SW-001-4.0-AL02", 100_000),
        ("SW-001-4.0-AL06", 100_000),
        ("SW-001-4.0-PL04", 100_000),
    ] {
        l.add_order(&catalog, "acct-0001", part, q, true, "bench")
            .unwrap();
    }
    user_and_token(&mut l, path);
    drop(l);
    let c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch("PRAGMA synchronous = OFF; BEGIN").unwrap();
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
        let mut usage = c
            .prepare("INSERT INTO file_usage (file_seq, order_id, quantity) VALUES (?1, ?2, ?3)")
            .unwrap();
        // Every account orders what the first one did (the same lines, each included line
        // pointing at its own account's line), so that every Account Summary has as much
        // to show, whichever account a request asks for.
        type Line = (i64, String, i64, i64, Option<i64>, i64, String);
        let lines: Vec<Line> = c
            .prepare("SELECT id, part, quantity, perpetual, included_with, added_at, added_by FROM orders WHERE account_id = 1 ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut order = c
            .prepare("INSERT INTO orders (account_id, part, quantity, perpetual, included_with, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .unwrap();
        // Each active file uses one server item and 50 of each other line (not the lines a
        // server item includes).
        let per_file = |part: &str| if part == "SW-001-4.0-SL03" { 1 } else { 50 };
        let blob = vec![b'x'; 256];
        let mut seq: u64 = 0;
        let mut used = std::collections::HashMap::<i64, i64>::new();
        for a in 1..=1_000i64 {
            let mut orders: Vec<(i64, i64)> = Vec::new();
            if a > 1 {
                acct.execute(params![a, format!("acct-{a:04}")]).unwrap();
                site.execute(params![a]).unwrap();
                let mut ids = std::collections::HashMap::<i64, i64>::new();
                for (id, part, q, perp, inc, at, by) in &lines {
                    let inc = inc.map(|i| ids[&i]);
                    order
                        .execute(params![a, part, q, perp, inc, at, by])
                        .unwrap();
                    ids.insert(*id, c.last_insert_rowid());
                    if !part.contains("IDS") {
                        orders.push((c.last_insert_rowid(), per_file(part)));
                    }
                }
            } else {
                for (id, part, ..) in lines.iter().filter(|l| !l.1.contains("IDS")) {
                    orders.push((*id, per_file(part)));
                }
            }
            for f in 0..1_000i64 {
                seq += 1;
                let at = 1_600_000_000 + f * 126_000 + a;
                let active = f % 10 != 0;
                file.execute(params![
                    format!("{seq:032x}"),
                    a,
                    HOST,
                    format!("m{f}"),
                    format!("staff{}", f % 7),
                    at,
                    active,
                    format!("{seq:064x}"),
                    blob,
                ])
                .unwrap();
                if active {
                    let fs = c.last_insert_rowid();
                    for (o, q) in &orders {
                        usage.execute(params![fs, o, q]).unwrap();
                        *used.entry(*o).or_default() += q;
                    }
                }
            }
        }
        for (o, n) in used {
            c.execute("UPDATE orders SET used = ?1 WHERE id = ?2", params![n, o])
                .unwrap();
        }
    }
    // No ANALYZE: the issuer never gathers statistics, so neither does this ledger (with
    // them, SQLite re-plans every statement whose parameters it has statistics for).
    c.execute_batch("COMMIT").unwrap();
}

fn issue_ledger(path: &Path) -> Ledger {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open(path).expect("create the ledger");
    l.add_account("Bench", "bench").unwrap();
    l.add_site("Bench", "HQ", &SiteDetails::default(), "bench")
        .unwrap();
    for part in ["SW-001-4.0-SL03", "SW-001-4.0-AL02"] {
        l.add_order(&catalog, "Bench", part, 10_000_000, true, "bench")
            .unwrap();
    }
    l
}

/// The request both the API and the in-process loop issue.
pub fn request() -> IssueRequest {
    IssueRequest {
        account: "Bench".into(),
        site: "HQ".into(),
        product: "CIC".into(),
        version: "4.0".into(),
        license_type: LicenseType::Production,
        host_id: HOST.into(),
        machine: "ic1".into(),
        switchover_host_id: None,
        switchover_machine: None,
        switchover_part: None,
        server_part: "SW-001-4.0-SL03".into(),
        add: vec![issuer::PartQuantity {
            part: "SW-001-4.0-AL02".into(),
            quantity: 5,
        }],
        system_type: None,
        mail_connector: None,
        generated_by: "bench@vendor.example".into(),
        partner: false,
        related: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_ledger big PATH | issue PATH | inprocess PATH N";
    match args.get(1).map(String::as_str) {
        Some("big") => big(Path::new(args.get(2).expect(usage))),
        Some("issue") => {
            let p = Path::new(args.get(2).expect(usage));
            let mut l = issue_ledger(p);
            user_and_token(&mut l, p);
        }
        Some("inprocess") => {
            let p = Path::new(args.get(2).expect(usage));
            let n: u32 = args.get(3).and_then(|n| n.parse().ok()).expect(usage);
            // A ledger made by an earlier run goes on growing, as the API's does.
            let mut l = if p.exists() {
                Ledger::open(p).expect("open the ledger")
            } else {
                issue_ledger(p)
            };
            let catalog = Catalog::built_in().unwrap();
            let key = SecretKey::generate();
            let req = request();
            let start = Instant::now();
            for _ in 0..n {
                l.issue(&catalog, &req, &key, None, Timestamp::now())
                    .expect("issue");
            }
            println!(
                "{:.1} files/s",
                f64::from(n) / start.elapsed().as_secs_f64()
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
