//! Batches: many files in one durable transaction, all or nothing, on real ledger files
//! (library and `issuer issue --request BATCH --out-dir DIR`).

mod common;

use std::path::Path;
use store::TxExt;

use common::{
    add_orders, bin, cli_ledger, counts, host, ledger, ok, request, run, summary_json,
    summary_part, summary_text, unencrypted_key, Units,
};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::{IssueRequest, IssuerError, Ledger};

/// `n` media-server requests for machines ms1..msN, each using `each` units of AL02.
fn media_servers(n: u8, each: u32) -> Vec<IssueRequest> {
    (1..=n)
        .map(|i| {
            let mut r = request(
                LicenseType::MediaServer,
                "SW-001-4.0-MS01",
                &[("SW-001-4.0-AL02", each)],
            );
            r.machine = format!("ms{i}");
            r.host_id = host(i);
            r
        })
        .collect()
}

/// `(used, available)` of a part Contoso has.
fn used(l: &Ledger, c: &issuer::Catalog, part: &str) -> (u64, u64) {
    let (_, used, available) = counts(l, c, part).unwrap();
    (used, available)
}

/// Everything observable that a refused batch must leave as it was.
fn snapshot(l: &Ledger, dir: &Path) -> (i64, i64, i64, Vec<String>) {
    let count = |sql: &str| -> i64 { l.raw_for_tests().query_row(sql, [], |r| r.get(0)).unwrap() };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    (
        count("SELECT count(*) FROM files"),
        count("SELECT count(*) FROM audit"),
        count("SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) FROM orders"),
        names,
    )
}

fn media_orders(l: &mut Ledger, c: &issuer::Catalog, servers: u32, al02: u32) {
    add_orders(
        l,
        c,
        &[("SW-001-4.0-MS01", servers), ("SW-001-4.0-AL02", al02)],
        Units::Perpetual,
    );
}

#[test]
fn a_batch_records_every_file_and_used_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    media_orders(&mut l, &c, 20, 200);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let key = SecretKey::generate();
    let reqs = media_servers(12, 5);
    let issued = l
        .issue_batch(&c, &reqs, &key, Some(&out), Timestamp::now())
        .unwrap();
    assert_eq!(issued.len(), 12);
    assert_eq!(used(&l, &c, "SW-001-4.0-MS01"), (12, 8));
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (60, 140));
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    for (r, f) in reqs.iter().zip(&issued) {
        let path = out.join(format!("{}.i3lic", r.machine));
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk, f.bytes, "{}", path.display());
        assert_eq!(l.file_bytes(&f.file_id.to_string()).unwrap(), f.bytes);
        let v = format::UnverifiedFile::parse(&on_disk)
            .unwrap()
            .verify(key.public_key())
            .unwrap();
        assert_eq!(v.activation().primary_host.machine, r.machine);
    }
    // Only the output files remain in the folder (no temporary files).
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 12);
    // One audit row per file, and the chain is intact.
    let rows: i64 = l
        .raw_for_tests()
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'file.issue'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 12);
    assert!(l.verify_audit(None).unwrap().intact());
}

#[test]
fn a_batch_whose_last_request_exceeds_availability_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    media_orders(&mut l, &c, 20, 40);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("unrelated.txt"), b"kept").unwrap();
    let key = SecretKey::generate();
    let mut reqs = media_servers(5, 5);
    reqs[4].add[0].quantity = 30; // 4 x 5 + 30 = 50 > 40
    let before = snapshot(&l, &out);
    match l.issue_batch(&c, &reqs, &key, Some(&out), Timestamp::now()) {
        Err(IssuerError::Batch {
            position: 5,
            count: 5,
            machine,
            source,
        }) => {
            assert_eq!(machine, "ms5");
            match *source {
                IssuerError::NotEnough {
                    asked: 30,
                    available: 20,
                    ref part,
                    ..
                } => assert_eq!(part, "SW-001-4.0-AL02"),
                ref e => panic!("expected NotEnough, got {e:?}"),
            }
        }
        other => panic!("expected a refused batch, got {other:?}"),
    }
    assert_eq!(snapshot(&l, &out), before);
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (0, 40));
}

#[test]
fn two_requests_that_together_exceed_what_is_available_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    // Each request alone fits (30 <= 50); together they do not.
    media_orders(&mut l, &c, 20, 50);
    let key = SecretKey::generate();
    let reqs = media_servers(2, 30);
    for r in &reqs {
        l.check(&c, r).unwrap();
    }
    match l.issue_batch(&c, &reqs, &key, None, Timestamp::now()) {
        Err(IssuerError::Batch {
            position: 2,
            source,
            ..
        }) => assert!(
            matches!(
                *source,
                IssuerError::NotEnough {
                    asked: 30,
                    available: 20,
                    ..
                }
            ),
            "{source:?}"
        ),
        other => panic!("expected request 2 refused, got {other:?}"),
    }
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (0, 50));
    let files: i64 = l
        .raw_for_tests()
        .query_row("SELECT count(*) FROM files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files, 0);
}

#[test]
fn output_names_that_clash_or_exist_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    media_orders(&mut l, &c, 20, 200);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let key = SecretKey::generate();

    let mut reqs = media_servers(3, 1);
    reqs[2].machine = "MS1".into(); // same file as ms1 on a case-insensitive file system
    match l.issue_batch(&c, &reqs, &key, Some(&out), Timestamp::now()) {
        Err(IssuerError::Batch {
            position: 3,
            source,
            ..
        }) => assert!(
            matches!(*source, IssuerError::MalformedRequest { ref reason } if reason.contains("request 1")),
            "{source:?}"
        ),
        other => panic!("expected a clash, got {other:?}"),
    }

    std::fs::write(out.join("ms2.i3lic"), b"someone's file").unwrap();
    let reqs = media_servers(3, 1);
    match l.issue_batch(&c, &reqs, &key, Some(&out), Timestamp::now()) {
        Err(IssuerError::Batch {
            position: 2,
            source,
            ..
        }) => assert!(
            matches!(*source, IssuerError::OutputExists { ref path } if path.ends_with("ms2.i3lic")),
            "{source:?}"
        ),
        other => panic!("expected an existing file refused, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(out.join("ms2.i3lic")).unwrap(),
        b"someone's file"
    );

    let mut reqs = media_servers(2, 1);
    reqs[1].machine = "../escape".into();
    assert!(matches!(
        l.issue_batch(&c, &reqs, &key, Some(&out), Timestamp::now()),
        Err(IssuerError::Batch { position: 2, .. })
    ));
    assert!(matches!(
        l.issue_batch(&c, &[], &key, Some(&out), Timestamp::now()),
        Err(IssuerError::MalformedRequest { .. })
    ));
    assert!(matches!(
        l.issue_batch(
            &c,
            &media_servers(1, 1),
            &key,
            Some(&dir.path().join("missing")),
            Timestamp::now()
        ),
        Err(IssuerError::Io { .. })
    ));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (0, 200));
}

/// A batch request file for the CLI.
fn batch_file(dir: &Path, machines: &[(&str, u32)]) -> std::path::PathBuf {
    let requests: Vec<serde_json::Value> = machines
        .iter()
        .enumerate()
        .map(|(i, (m, q))| {
            serde_json::json!({
                "machine": m,
                "host_id": host(u8::try_from(i + 1).unwrap()),
                "add": [{"part": "SW-001-4.0-AL02", "quantity": q}],
            })
        })
        .collect();
    let body = serde_json::json!({
        "defaults": {
            "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
            "type": "media-server", "server_part": "SW-001-4.0-MS01",
        },
        "requests": requests,
    });
    let p = dir.join("batch.json");
    std::fs::write(&p, body.to_string()).unwrap();
    p
}

/// Through the CLI: Contoso at HQ with MS01 ×10 and AL02 × `al02`. Returns the ledger's path.
fn cli_setup(dir: &Path, al02: u32) -> std::path::PathBuf {
    cli_ledger(
        dir,
        &[("SW-001-4.0-MS01", 10), ("SW-001-4.0-AL02", al02)],
        Units::Perpetual,
    )
}

#[test]
fn cli_batch_writes_each_file_and_prints_id_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_setup(dir.path(), 100);
    let key = unencrypted_key(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let req = batch_file(dir.path(), &[("ms1", 10), ("ms2", 20), ("ms3", 30)]);
    let o = run(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for (line, m) in lines.iter().zip(["ms1", "ms2", "ms3"]) {
        let (id, path) = line.split_once(' ').unwrap();
        assert_eq!(Path::new(path), out.join(format!("{m}.i3lic")));
        let dl = ok(&db, &["download", id, "--out", "-"]);
        assert_eq!(dl.as_bytes(), std::fs::read(path).unwrap());
    }
    assert!(String::from_utf8_lossy(&o.stderr).contains("3 file(s)"));
    let s = summary_json(&db);
    let al02 = summary_part(&s, "SW-001-4.0-AL02");
    assert_eq!(
        (al02["used"].as_u64(), al02["available"].as_u64()),
        (Some(60), Some(40))
    );
}

#[test]
fn cli_batch_refused_by_its_last_request_exits_20_naming_it_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_setup(dir.path(), 50);
    let key = unencrypted_key(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let req = batch_file(dir.path(), &[("ms1", 10), ("ms2", 20), ("ms3", 30)]);
    let summary = summary_text(&db);
    let head = ok(&db, &["audit", "head"]);
    let o = run(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("request 3 of 3 (machine 'ms3')")
            && err.contains("asked 30, available 20")
            && err.contains("nothing of the batch was issued"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert_eq!(summary_text(&db), summary);
    assert_eq!(ok(&db, &["audit", "head"]), head);
}

#[test]
fn cli_batch_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_setup(dir.path(), 50);
    let key = unencrypted_key(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let req = batch_file(dir.path(), &[("ms1", 1), ("ms2", 1)]);
    let (r, k, o) = (
        req.to_str().unwrap(),
        key.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    // A batch needs --out-dir, and one server's flags do not apply to a batch.
    let x = run(
        &db,
        &["issue", "--request", r, "--key", k, "--out", "x.i3lic"],
    );
    assert_eq!(
        x.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&x.stderr)
    );
    let x = run(
        &db,
        &[
            "issue",
            "--request",
            r,
            "--key",
            k,
            "--out-dir",
            o,
            "--machine",
            "m",
        ],
    );
    assert_eq!(x.status.code(), Some(2));
    // A request missing a value names the request.
    std::fs::write(
        &req,
        r#"{"requests": [{"account": "Contoso", "machine": "m1"}]}"#,
    )
    .unwrap();
    let x = run(&db, &["issue", "--request", r, "--key", k, "--out-dir", o]);
    assert_eq!(x.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&x.stderr).contains("request 1 of 1 (machine 'm1')"));
    // An unknown field in a request is malformed input.
    std::fs::write(&req, r#"{"requests": [{"machien": "m1"}]}"#).unwrap();
    let x = run(&db, &["issue", "--request", r, "--key", k, "--out-dir", o]);
    assert_eq!(x.status.code(), Some(3));
    // An empty batch.
    std::fs::write(&req, r#"{"requests": []}"#).unwrap();
    let x = run(&db, &["issue", "--request", r, "--key", k, "--out-dir", o]);
    assert_eq!(x.status.code(), Some(3));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert!(bin().exists());
}

#[test]
fn a_single_request_file_still_issues_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_setup(dir.path(), 50);
    let key = unencrypted_key(dir.path());
    let req = dir.path().join("one.json");
    std::fs::write(
        &req,
        serde_json::json!({
            "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
            "type": "media-server", "server_part": "SW-001-4.0-MS01", "host_id": host(1),
            "machine": "ms1", "add": [{"part": "SW-001-4.0-AL02", "quantity": 5}],
        })
        .to_string(),
    )
    .unwrap();
    let out = dir.path().join("ms1.i3lic");
    let id = ok(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let id = id.trim();
    assert_eq!(id.len(), 32, "{id}");
    assert_eq!(
        ok(&db, &["download", id, "--out", "-"]).as_bytes(),
        std::fs::read(&out).unwrap()
    );
}

#[test]
fn a_refused_batch_leaves_the_ledger_usable_for_the_next_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    media_orders(&mut l, &c, 20, 20);
    let key = SecretKey::generate();
    assert!(l
        .issue_batch(&c, &media_servers(3, 10), &key, None, Timestamp::now())
        .is_err());
    let ok = l
        .issue_batch(&c, &media_servers(2, 10), &key, None, Timestamp::now())
        .unwrap();
    assert_eq!(ok.len(), 2);
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (20, 0));
}

/// Runs `issuer issue --request FILE --out-dir DIR` on `body`; the ledger and folder must be
/// untouched, and it must exit 3 with `expect` in its message.
fn refused_as_malformed(body: &serde_json::Value, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_setup(dir.path(), 100);
    let key = unencrypted_key(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let req = dir.path().join("batch.json");
    std::fs::write(&req, body.to_string()).unwrap();
    assert!(std::fs::metadata(&req).unwrap().len() <= 4 * 1024 * 1024);
    let head = ok(&db, &["audit", "head"]);
    let o = run(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(expect), "{err}");
    assert_eq!(ok(&db, &["audit", "head"]), head);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn cli_batch_over_the_request_limit_is_refused_before_any_request_is_built() {
    // Empty requests: were they built first, the first would fail on its missing values
    // (exit 2) and a large default would be copied into every one.
    let requests = vec![serde_json::json!({}); issuer::ledger::MAX_BATCH + 1];
    refused_as_malformed(
        &serde_json::json!({ "requests": requests }),
        "the batch holds 10001 requests; at most 10000",
    );
}

#[test]
fn cli_request_values_longer_than_any_field_are_refused_before_being_copied() {
    // A default is copied into every request: 3 MiB of it over 1,000 requests would be
    // 3 GiB in memory before any check.
    let big = "x".repeat(3 * 1024 * 1024);
    let requests = vec![serde_json::json!({}); 1000];
    refused_as_malformed(
        &serde_json::json!({ "defaults": { "type": big }, "requests": requests }),
        "defaults, 'type': a text of 3145728 bytes; at most 512",
    );
    let add = vec![serde_json::json!({"part": "SW-001-4.0-AL02", "quantity": 1}); 4097];
    refused_as_malformed(
        &serde_json::json!({ "defaults": { "add": add }, "requests": [{}] }),
        "defaults, 'add': a list of 4097 entries; at most 4096",
    );
    refused_as_malformed(
        &serde_json::json!({ "requests": [{}, { "machine": "m".repeat(513) }] }),
        "request 2 of 2, 'machine': a text of 513 bytes",
    );
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    a_batch_records_every_file_and_used_adds_up,
    a_batch_whose_last_request_exceeds_availability_changes_nothing,
    two_requests_that_together_exceed_what_is_available_are_refused,
    output_names_that_clash_or_exist_are_refused_before_anything_is_written,
    a_refused_batch_leaves_the_ledger_usable_for_the_next_one,
    cli_batch_over_the_request_limit_is_refused_before_any_request_is_built,
    cli_request_values_longer_than_any_field_are_refused_before_being_copied,
);
