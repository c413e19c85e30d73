//! Eight `issuer issue` processes at once against one ordered item of 100 units.

mod common;

use std::sync::{Arc, Barrier};

use common::{bin, host, ok, unencrypted_key};

#[test]
fn eight_processes_asking_seven_of_a_hundred_issue_exactly_fourteen() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    ok(&db, &["account", "add", "Contoso"]);
    ok(
        &db,
        &["site", "add", "--account", "Contoso", "--name", "HQ"],
    );
    ok(
        &db,
        &[
            "order",
            "add",
            "--account",
            "Contoso",
            "--part",
            "SW-001-4.0-SL03",
            "--quantity",
            "1000",
        ],
    );
    ok(
        &db,
        &[
            "order",
            "add",
            "--account",
            "Contoso",
            "--part",
            "SW-001-4.0-AL02",
            "--quantity",
            "100",
        ],
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
                    let o = std::process::Command::new(bin())
                        .args([
                            "--db",
                            db.to_str().unwrap(),
                            "issue",
                            "--account",
                            "Contoso",
                            "--site",
                            "HQ",
                        ])
                        .args([
                            "--product",
                            "CIC",
                            "--version",
                            "4.0",
                            "--type",
                            "production",
                            "--host-id",
                            &h,
                        ])
                        .args([
                            "--machine",
                            &format!("w{w}"),
                            "--server-part",
                            "SW-001-4.0-SL03",
                        ])
                        .args([
                            "--add",
                            "SW-001-4.0-AL02=7",
                            "--key",
                            key.to_str().unwrap(),
                            "--out",
                            out.to_str().unwrap(),
                        ])
                        .env("USER", "tester")
                        .output()
                        .unwrap();
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
    let summary: serde_json::Value =
        serde_json::from_str(&ok(&db, &["summary", "--account", "Contoso", "--json"])).unwrap();
    let al02 = summary["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == "SW-001-4.0-AL02")
        .unwrap();
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
