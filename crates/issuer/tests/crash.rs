//! `issuer issue` killed with SIGKILL at random points: either no trace, or a complete record
//! plus the complete file (at the output path, or beside it under its temporary name when the
//! kill fell between commit and rename). Never a partial output file, never seats used
//! without a record, and the audit chain verifies. On SQLite and on PostgreSQL.
#![cfg(unix)]

mod common;

use std::collections::HashMap;
use std::time::Duration;
use store::TxExt;

use common::{
    cli_ledger_at, host, is_postgres, ok, open_db, summary_json, summary_part, tester,
    unencrypted_key, IssueFlags, Units,
};
use std::path::Path;

cli_on_both! {
    sigkill_at_random_points_leaves_no_trace_or_a_complete_record_and_file => killed_issues,
    sigkill_during_a_batch_leaves_no_trace_or_every_file => killed_batches,
}

/// How long to wait before a kill at most: one and a half times `elapsed`, at least 1.5 ms.
fn kill_span(elapsed: Duration) -> u64 {
    elapsed.as_micros().max(1000) as u64 * 3 / 2
}

/// A xorshift generator starting from `seed`: the same kill points on every run.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// A trial file for TR01 with AL02 ×3 on `machine`.
fn trial<'a>(host_id: &'a str, machine: &'a str, key: &'a str, out: &'a str) -> IssueFlags<'a> {
    IssueFlags {
        license_type: "trial",
        host_id,
        machine,
        server_part: "SW-001-4.0-TR01",
        add: Some("SW-001-4.0-AL02=3"),
        key,
        out,
    }
}

fn killed_issues(dir: &Path, db: &Path) {
    let outs = dir.join("out");
    std::fs::create_dir(&outs).unwrap();
    let db = cli_ledger_at(
        db,
        &[("SW-001-4.0-TR01", 10000), ("SW-001-4.0-AL02", 100000)],
        Units::NonPerpetual,
    );
    let key = unencrypted_key(dir);
    let h = host(6);

    // How long an uninterrupted issue takes here, to spread the kills over its whole run.
    let k = key.to_str().unwrap();
    let t = std::time::Instant::now();
    let warmup = dir.join("warmup.i3lic");
    ok(
        &db,
        &trial(&h, "warmup", k, warmup.to_str().unwrap()).args(),
    );
    let span = kill_span(t.elapsed());

    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    const RUNS: usize = 120;
    for i in 0..RUNS {
        let out = outs.join(format!("f{i}.i3lic"));
        let machine = format!("m{i}");
        let mut child = tester(&db)
            .args(trial(&h, &machine, k, out.to_str().unwrap()).args())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(next() % span));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }

    // Every record is complete: bytes that verify, usage rows for all it lists.
    let l = open_db(&db);
    assert_eq!(
        l.verify_usage().unwrap(),
        vec![],
        "order counters match the active files"
    );
    let report = l.verify_audit(None).unwrap();
    assert!(report.intact(), "{:?}", report.problems);
    let conn = l.raw_for_tests();
    if !is_postgres(&db) {
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
    let mut st = conn
        .prepare(
            "SELECT f.primary_machine, f.id, f.bytes, (SELECT CAST(SUM(quantity) AS BIGINT) FROM file_usage u WHERE u.file_seq = f.seq)
             FROM files f WHERE f.primary_machine != 'warmup'",
        )
        .unwrap();
    let records: HashMap<String, (String, Vec<u8>, i64)> = st
        .query_map([], |r| {
            Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (mut none, mut complete, mut pending) = (0, 0, 0);
    for i in 0..RUNS {
        let out = outs.join(format!("f{i}.i3lic"));
        match records.get(&format!("m{i}")) {
            None => {
                assert!(
                    !out.exists(),
                    "run {i}: an output file without a ledger record"
                );
                none += 1;
            }
            Some((id, bytes, units)) => {
                assert_eq!(*units, 4, "run {i}: the record's usage rows are incomplete");
                let pubkey =
                    format::SecretKey::from_text(&std::fs::read_to_string(&key).unwrap()).unwrap();
                assert!(format::UnverifiedFile::parse(bytes)
                    .unwrap()
                    .verify(pubkey.public_key())
                    .is_ok());
                if out.exists() {
                    assert_eq!(
                        &std::fs::read(&out).unwrap(),
                        bytes,
                        "run {i}: output differs from the record"
                    );
                    complete += 1;
                } else {
                    let temp = outs.join(format!(".f{i}.i3lic.{id}.tmp"));
                    assert_eq!(
                        &std::fs::read(&temp).unwrap(),
                        bytes,
                        "run {i}: record committed but no complete file"
                    );
                    pending += 1;
                }
            }
        }
    }
    // Temporary files of runs killed before the commit hold no output name.
    for e in std::fs::read_dir(&outs).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".i3lic") || name.ends_with(".tmp"), "{name}");
    }
    // Seats: exactly what the records use, nothing lost or leaked.
    let summary = summary_json(&db);
    let part = |p: &str| summary_part(&summary, p);
    let n = records.len() as u64 + 1;
    assert_eq!(part("SW-001-4.0-TR01")["used"].as_u64(), Some(n));
    assert_eq!(part("SW-001-4.0-AL02")["used"].as_u64(), Some(3 * n));
    assert_eq!(
        part("SW-001-4.0-AL02")["available"].as_u64(),
        Some(100_000 - 3 * n)
    );
    eprintln!("{RUNS} kills: {none} left no trace, {complete} complete with output, {pending} complete with the file under its temporary name");
    assert!(
        none > 0 && complete > 0,
        "the kills should land both before and after the commit"
    );
}

/// A batch killed with SIGKILL at random points: for each run either no file of the batch is
/// recorded and no output file exists, or every file is recorded with its complete bytes at
/// the output path or under its temporary name beside it.
fn killed_batches(dir: &Path, db: &Path) {
    const BATCH: usize = 5;
    const RUNS: usize = 30;
    const ROUNDS: usize = 4;
    let db = cli_ledger_at(
        db,
        &[("SW-001-4.0-TR01", 10000), ("SW-001-4.0-AL02", 100000)],
        Units::NonPerpetual,
    );
    let key = unencrypted_key(dir);
    let batch = |run: &str| -> std::path::PathBuf {
        let requests: Vec<serde_json::Value> = (0..BATCH)
            .map(|j| serde_json::json!({ "machine": format!("{run}-{j}"), "host_id": host(j as u8 + 1) }))
            .collect();
        let body = serde_json::json!({
            "defaults": {
                "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
                "type": "trial", "server_part": "SW-001-4.0-TR01",
                "add": [{"part": "SW-001-4.0-AL02", "quantity": 3}],
            },
            "requests": requests,
        });
        let p = dir.join(format!("{run}.json"));
        std::fs::write(&p, body.to_string()).unwrap();
        p
    };
    let spawn = |run: &str| {
        let out = dir.join(run);
        std::fs::create_dir(&out).unwrap();
        tester(&db)
            .args(["issue", "--request"])
            .arg(batch(run))
            .args(["--key", key.to_str().unwrap(), "--out-dir"])
            .arg(&out)
            .env("USER", "tester")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let t = std::time::Instant::now();
    assert!(spawn("warmup").wait().unwrap().success());
    let mut span = kill_span(t.elapsed());

    // Rounds of kills until some landed before the commit and some after: on a loaded
    // machine one warm-up run says little about the next, so the window is halved when every
    // kill came after the commit and doubled when every one came before.
    let mut next = xorshift(0x2545_f491_4f6c_dd1d);
    let mut runs = 0;
    for _round in 0..ROUNDS {
        for i in runs..runs + RUNS {
            let mut child = spawn(&format!("b{i}"));
            std::thread::sleep(Duration::from_micros(next() % span));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        runs += RUNS;
        // Which runs left records so far (a batch is recorded whole or not at all; the
        // checks below say so).
        let l = open_db(&db);
        let machines: Vec<String> = l
            .raw_for_tests()
            .prepare("SELECT primary_machine FROM files")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let after = (0..runs)
            .filter(|i| machines.iter().any(|m| m.starts_with(&format!("b{i}-"))))
            .count();
        if after == runs {
            span = (span / 2).max(1000);
        } else if after == 0 {
            span *= 2;
        } else {
            break;
        }
    }

    let l = open_db(&db);
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    assert!(l.verify_audit(None).unwrap().intact());
    let conn = l.raw_for_tests();
    let mut st = conn
        .prepare("SELECT primary_machine, id, bytes FROM files")
        .unwrap();
    let records: HashMap<String, (String, Vec<u8>)> = st
        .query_map([], |r| Ok((r.get::<String>(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (mut none, mut all) = (0, 0);
    for i in 0..runs {
        let run = format!("b{i}");
        let out = dir.join(&run);
        let recorded = (0..BATCH)
            .filter(|j| records.contains_key(&format!("{run}-{j}")))
            .count();
        if recorded == 0 {
            let outputs: Vec<String> = std::fs::read_dir(&out)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".tmp"))
                .collect();
            assert!(
                outputs.is_empty(),
                "run {i}: output files without records: {outputs:?}"
            );
            none += 1;
            continue;
        }
        assert_eq!(recorded, BATCH, "run {i}: part of a batch recorded");
        for j in 0..BATCH {
            let m = format!("{run}-{j}");
            let (id, bytes) = &records[&m];
            let path = out.join(format!("{m}.i3lic"));
            let temp = out.join(format!(".{m}.i3lic.{id}.tmp"));
            let on_disk = std::fs::read(&path)
                .or_else(|_| std::fs::read(&temp))
                .unwrap_or_else(|_| panic!("run {i}: {m} recorded but no complete file"));
            assert_eq!(&on_disk, bytes, "run {i}: {m} differs from its record");
        }
        all += 1;
    }
    let summary = summary_json(&db);
    let al02 = summary_part(&summary, "SW-001-4.0-AL02");
    assert_eq!(al02["used"].as_u64(), Some(3 * records.len() as u64));
    eprintln!("{runs} batch kills: {none} left no trace, {all} recorded every file");
    assert!(
        none > 0 && all > 0,
        "the kills should land both before and after the commit"
    );
}
