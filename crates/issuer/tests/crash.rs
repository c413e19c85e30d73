//! `issuer issue` killed with SIGKILL at random points: either no trace, or a complete record
//! plus the complete file (at the output path, or beside it under its temporary name when the
//! kill fell between commit and rename). Never a partial output file, never seats used
//! without a record.
#![cfg(unix)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{bin, host, ok, unencrypted_key};

#[test]
fn sigkill_at_random_points_leaves_no_trace_or_a_complete_record_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let outs = dir.path().join("out");
    std::fs::create_dir(&outs).unwrap();
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
            "SW-001-4.0-TR01",
            "--quantity",
            "10000",
            "--non-perpetual",
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
            "100000",
            "--non-perpetual",
        ],
    );
    let key = unencrypted_key(dir.path());
    let h = host(6);

    // How long an uninterrupted issue takes here, to spread the kills over its whole run.
    let t = std::time::Instant::now();
    ok(
        &db,
        &[
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
            "trial",
            "--host-id",
            &h,
            "--machine",
            "warmup",
            "--server-part",
            "SW-001-4.0-TR01",
            "--add",
            "SW-001-4.0-AL02=3",
            "--key",
            key.to_str().unwrap(),
            "--out",
            dir.path().join("warmup.i3lic").to_str().unwrap(),
        ],
    );
    let span = t.elapsed().as_micros().max(1000) as u64 * 3 / 2;

    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const RUNS: usize = 120;
    for i in 0..RUNS {
        let out = outs.join(format!("f{i}.i3lic"));
        let mut child = std::process::Command::new(bin())
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
                "trial",
                "--host-id",
                &h,
            ])
            .args([
                "--machine",
                &format!("m{i}"),
                "--server-part",
                "SW-001-4.0-TR01",
            ])
            .args([
                "--add",
                "SW-001-4.0-AL02=3",
                "--key",
                key.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("USER", "tester")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(next() % span));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }

    // Every record is complete: bytes that verify, usage rows for all it lists.
    let l = issuer::Ledger::open(&db).unwrap();
    assert_eq!(
        l.verify_usage().unwrap(),
        vec![],
        "order counters match the active files"
    );
    let conn = l.connection();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut st = conn
        .prepare(
            "SELECT f.primary_machine, f.id, f.bytes, (SELECT SUM(quantity) FROM file_usage u WHERE u.file_seq = f.seq)
             FROM files f WHERE f.primary_machine != 'warmup'",
        )
        .unwrap();
    let records: HashMap<String, (String, Vec<u8>, i64)> = st
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
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
    let summary: serde_json::Value =
        serde_json::from_str(&ok(&db, &["summary", "--account", "Contoso", "--json"])).unwrap();
    let part = |p: &str| {
        summary["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["part"] == p)
            .unwrap()
            .clone()
    };
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
