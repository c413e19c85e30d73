//! Eight `issuer issue` processes at once against one ordered item of 100 units.

mod common;

use std::sync::{Arc, Barrier};

use common::{
    cli_ledger, host, summary_json, summary_part, tester, unencrypted_key, IssueFlags, Units,
};

#[test]
fn eight_processes_asking_seven_of_a_hundred_issue_exactly_fourteen() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[("SW-001-4.0-SL03", 1000), ("SW-001-4.0-AL02", 100)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir.path());
    let h = host(5);
    let start = Arc::new(Barrier::new(8));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (db, key, h, dir, start) = (
                db.clone(),
                key.clone(),
                h.clone(),
                dir.path().to_path_buf(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                let mut issued = Vec::new();
                // Each worker keeps issuing until the ledger refuses it.
                for attempt in 0..100 {
                    let out = dir.join(format!("w{w}-{attempt}.i3lic"));
                    let machine = format!("w{w}");
                    let flags = IssueFlags {
                        license_type: "production",
                        host_id: &h,
                        machine: &machine,
                        server_part: "SW-001-4.0-SL03",
                        add: Some("SW-001-4.0-AL02=7"),
                        key: key.to_str().unwrap(),
                        out: out.to_str().unwrap(),
                    };
                    let o = tester(&db).args(flags.args()).output().unwrap();
                    match o.status.code() {
                        Some(0) => issued
                            .push((String::from_utf8(o.stdout).unwrap().trim().to_string(), out)),
                        Some(20) => {
                            let err = String::from_utf8_lossy(&o.stderr);
                            assert!(
                                err.contains("SW-001-4.0-AL02") && err.contains("asked 7"),
                                "{err}"
                            );
                            assert!(!out.exists());
                            return (issued, 1);
                        }
                        other => panic!(
                            "worker {w}: exit {other:?}: {}",
                            String::from_utf8_lossy(&o.stderr)
                        ),
                    }
                }
                (issued, 0)
            })
        })
        .collect();
    let mut issued = Vec::new();
    let mut refused = 0;
    for w in workers {
        let (i, r) = w.join().unwrap();
        issued.extend(i);
        refused += r;
    }
    assert_eq!(issued.len(), 14, "successes");
    assert_eq!(refused, 8, "every worker ends refused");
    let summary = summary_json(&db);
    let al02 = summary_part(&summary, "SW-001-4.0-AL02");
    assert_eq!(al02["used"].as_u64(), Some(98));
    assert_eq!(al02["available"].as_u64(), Some(2));
    let mut ids: Vec<&str> = issued.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 14, "distinct file ids");
    let l = issuer::Ledger::open(&db).unwrap();
    assert_eq!(
        l.verify_usage().unwrap(),
        vec![],
        "order counters match the active files"
    );
    for (id, out) in &issued {
        assert_eq!(&std::fs::read(out).unwrap(), &l.file_bytes(id).unwrap());
    }
}

/// One `issuer` process; returns its exit code, stdout and stderr.
fn issuer(db: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let o = tester(db).args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn active_ids(db: &std::path::Path) -> Vec<String> {
    let (code, out, err) = issuer(db, &["activity", "--account", "Contoso", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn updates_and_deactivations_racing_with_issues_keep_used_within_total() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[("SW-001-4.0-SL03", 1000), ("SW-001-4.0-AL02", 60)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir.path());
    let (h, k) = (host(6), key.clone());
    let issue = move |db: &std::path::Path, out: &std::path::Path, q: u32| {
        let add = format!("SW-001-4.0-AL02={q}");
        let flags = IssueFlags {
            license_type: "production",
            host_id: &h,
            machine: "m",
            server_part: "SW-001-4.0-SL03",
            add: Some(&add),
            key: k.to_str().unwrap(),
            out: out.to_str().unwrap(),
        };
        issuer(db, &flags.args())
    };
    for i in 0..4 {
        let (code, _, err) = issue(&db, &dir.path().join(format!("seed{i}.i3lic")), 5);
        assert_eq!(code, Some(0), "{err}");
    }
    // A reader watching the counters while the writers race.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let l = issuer::Ledger::open(&db).unwrap();
            let catalog = issuer::Catalog::built_in().unwrap();
            let mut looks = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = l.summary(&catalog, "Contoso", None).unwrap();
                for p in &s.parts {
                    assert!(p.used <= p.total, "{p:?}");
                    assert_eq!(p.available, p.total - p.used, "{p:?}");
                }
                looks += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            looks
        })
    };
    let start = Arc::new(Barrier::new(6));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (db, dir, start, key) = (
                db.clone(),
                dir.path().to_path_buf(),
                start.clone(),
                key.clone(),
            );
            let issue = issue.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut codes = Vec::new();
                for i in 0..12 {
                    let out = dir.join(format!("w{w}-{i}.i3lic"));
                    let (code, _, err) = match w % 3 {
                        0 => issue(&db, &out, 7),
                        1 => match active_ids(&db).get(i % 3) {
                            Some(id) => issuer(
                                &db,
                                &[
                                    "update",
                                    id,
                                    "--add",
                                    "SW-001-4.0-AL02=3",
                                    "--key",
                                    key.to_str().unwrap(),
                                    "--out",
                                    out.to_str().unwrap(),
                                ],
                            ),
                            None => continue,
                        },
                        _ => match active_ids(&db).last() {
                            Some(id) => issuer(&db, &["deactivate", id]),
                            None => continue,
                        },
                    };
                    assert!(
                        matches!(code, Some(0 | 20)),
                        "worker {w}: exit {code:?}: {err}"
                    );
                    if code == Some(20) {
                        assert!(
                            err.contains("not active") || err.contains("not enough"),
                            "{err}"
                        );
                        assert!(!out.exists(), "a refused command leaves no file");
                    }
                    codes.push(code);
                }
                codes
            })
        })
        .collect();
    let codes: Vec<Option<i32>> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(watcher.join().unwrap() > 0);
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(20)),
        "{codes:?}"
    );

    let l = issuer::Ledger::open(&db).unwrap();
    let catalog = issuer::Catalog::built_in().unwrap();
    assert_eq!(
        l.verify_usage().unwrap(),
        vec![],
        "counters match active files"
    );
    // `used` is exactly what the active files say they use, from their own payloads.
    let mut from_files = 0u64;
    for id in active_ids(&db) {
        let d = l.show(&catalog, &id).unwrap();
        from_files += d
            .activation
            .ordered_items
            .iter()
            .filter(|o| o.part == "SW-001-4.0-AL02")
            .map(|o| u64::from(o.quantity))
            .sum::<u64>();
    }
    let s = l.summary(&catalog, "Contoso", None).unwrap();
    let al02 = s
        .parts
        .iter()
        .find(|p| p.part == "SW-001-4.0-AL02")
        .unwrap();
    assert_eq!(al02.used, from_files);
    assert!(al02.used <= 60);
    // No file is superseded twice, and the audit chain verifies after the race.
    let twice: i64 = l
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM (SELECT supersedes FROM files WHERE supersedes IS NOT NULL GROUP BY supersedes HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(twice, 0);
    let report = l.verify_audit(None).unwrap();
    assert!(report.intact(), "{:?}", report.problems);
    let (code, out, _) = issuer(&db, &["audit", "verify"]);
    assert_eq!(code, Some(0), "{out}");
}
