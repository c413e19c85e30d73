//! `issuer` processes racing on one ledger, on SQLite and on PostgreSQL: eight issues at once
//! against one ordered item of 100 units, updates and deactivations among issues, two issues
//! into one output folder.

mod common;

use std::sync::{Arc, Barrier};
use store::TxExt;

use common::{
    cli_ledger_at, host, open_db, summary_json, summary_part, tester, unencrypted_key, IssueFlags,
    Units,
};
use std::path::Path;

cli_on_both! {
    eight_processes_asking_seven_of_a_hundred_issue_exactly_fourteen => eight_racing_for_the_last_units,
    updates_and_deactivations_racing_with_issues_keep_used_within_total => updates_racing_with_issues,
    two_processes_issuing_into_the_same_out_dir_never_replace_each_others_file => two_issuing_into_one_folder,
}

fn eight_racing_for_the_last_units(dir: &Path, db: &Path) {
    let db = cli_ledger_at(
        db,
        &[("SW-001-4.0-SL03", 1000), ("SW-001-4.0-AL02", 100)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir);
    let h = host(5);
    let start = Arc::new(Barrier::new(8));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (db, key, h, dir, start) = (
                db.clone(),
                key.clone(),
                h.clone(),
                dir.to_path_buf(),
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
    let l = open_db(&db);
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

fn updates_racing_with_issues(dir: &Path, db: &Path) {
    let db = cli_ledger_at(
        db,
        &[("SW-001-4.0-SL03", 1000), ("SW-001-4.0-AL02", 60)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir);
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
        let (code, _, err) = issue(&db, &dir.join(format!("seed{i}.i3lic")), 5);
        assert_eq!(code, Some(0), "{err}");
    }
    // A reader watching the counters while the writers race.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let l = open_db(&db);
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
            let (db, dir, start, key) = (db.clone(), dir.to_path_buf(), start.clone(), key.clone());
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
                            Some(id) => issuer(&db, &["deactivate", id, "--approve"]),
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

    let l = open_db(&db);
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
        .raw_for_tests()
        .query_row(
            "SELECT COUNT(*) FROM (SELECT supersedes FROM files WHERE supersedes IS NOT NULL GROUP BY supersedes HAVING COUNT(*) > 1) AS twice",
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

/// Two `issuer issue --machine ms1 --out-dir D` at once: both may pass the check for an
/// existing `D/ms1.i3lic` before either has signed, but only one may take the name. The other
/// never replaces it: it exits 4, and if it got as far as recording its file, it says so,
/// naming the id and how to download it.
fn two_issuing_into_one_folder(dir: &Path, db: &Path) {
    let db = cli_ledger_at(db, &[("SW-001-4.0-MS01", 100)], Units::Perpetual);
    let key = unencrypted_key(dir);
    let h = host(7);
    let mut recorded_losers = 0;
    for round in 0..8 {
        let out_dir = dir.join(format!("round{round}"));
        std::fs::create_dir(&out_dir).unwrap();
        let start = Arc::new(Barrier::new(2));
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (db, key, h, out_dir, start) = (
                    db.clone(),
                    key.clone(),
                    h.clone(),
                    out_dir.clone(),
                    start.clone(),
                );
                std::thread::spawn(move || {
                    let args = [
                        "issue",
                        "--account",
                        "Contoso",
                        "--site",
                        "HQ",
                        "--product",
                        "CIC",
                        "--version",
                        "4.0",
                        "--type",
                        "media-server",
                        "--host-id",
                        &h,
                        "--machine",
                        "ms1",
                        "--server-part",
                        "SW-001-4.0-MS01",
                        "--key",
                        key.to_str().unwrap(),
                        "--out-dir",
                        out_dir.to_str().unwrap(),
                    ];
                    let mut c = tester(&db);
                    c.args(args);
                    start.wait();
                    let o = c.output().unwrap();
                    (
                        o.status.code(),
                        String::from_utf8_lossy(&o.stdout).into_owned(),
                        String::from_utf8_lossy(&o.stderr).into_owned(),
                    )
                })
            })
            .collect();
        let runs: Vec<_> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let winners: Vec<_> = runs.iter().filter(|r| r.0 == Some(0)).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one wins: {runs:#?}"
        );
        let loser = runs.iter().find(|r| r.0 != Some(0)).unwrap();
        assert_eq!(loser.0, Some(4), "round {round}: {loser:?}");
        let target = out_dir.join("ms1.i3lic");
        assert!(loser.2.contains(target.to_str().unwrap()), "{loser:?}");
        assert!(loser.2.contains("never replaces"), "{loser:?}");
        let l = open_db(&db);
        // The file in place is the winner's, byte for byte.
        let winner_id = winners[0].1.split_whitespace().next().unwrap();
        assert_eq!(
            std::fs::read(&target).unwrap(),
            l.file_bytes(winner_id).unwrap()
        );
        if loser.2.contains("was issued and recorded") {
            // Recorded after the winner took the name: its id and the way to its bytes.
            let id = loser
                .2
                .split_whitespace()
                .find(|w| w.len() == 32 && w.bytes().all(|b| b.is_ascii_hexdigit()))
                .unwrap_or_else(|| panic!("no file id in {}", loser.2));
            assert_ne!(id, winner_id);
            assert!(
                loser
                    .2
                    .contains(&format!("issuer download {id} --out FILE")),
                "{}",
                loser.2
            );
            assert!(!l.file_bytes(id).unwrap().is_empty());
            recorded_losers += 1;
        }
        // Nothing else is left in the folder (no temporary file).
        let names: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ms1.i3lic"], "round {round}");
    }
    // Every recorded file, winners and recorded losers, took its unit; nothing more.
    let summary = summary_json(&db);
    let ms01 = summary_part(&summary, "SW-001-4.0-MS01");
    assert_eq!(ms01["used"].as_u64(), Some(8 + recorded_losers));
}
