//! Tampering with the audit log directly in SQLite (triggers dropped, as someone with write
//! access to the file could) is found by `audit verify`, which names the row.

mod common;

use std::path::Path;

use common::{add_orders, audit_rows, ledger, request, run, update_by, AuditRow, Units};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::{AuditProblem, Ledger, UpdateRequest};
use store::{params, TxExt};

/// A ledger with accounts, sites, orders, two issued files, an update and a deactivation
/// (12 audit rows). Returns the ids of the issued files, in order.
fn busy_ledger(dir: &Path) -> Vec<String> {
    let (mut l, c) = ledger(dir);
    add_orders(
        &mut l,
        &c,
        &[("SW-001-4.0-SL03", 3), ("SW-001-4.0-AL02", 50)],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let r = request(
        LicenseType::Production,
        "SW-001-4.0-SL03",
        &[("SW-001-4.0-AL02", 10)],
    );
    let a = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    let b = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    let u = UpdateRequest {
        machine: Some("ic9".into()),
        ..update_by("t")
    };
    let a2 = l
        .update(&c, &a.file_id.to_string(), &u, &key, None, Timestamp::now())
        .unwrap();
    l.deactivate(&b.file_id.to_string(), "t", Timestamp::now())
        .unwrap();
    let c2 = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    assert!(l.verify_audit(None).unwrap().intact());
    [a, b, a2, c2]
        .iter()
        .map(|i| i.file_id.to_string())
        .collect()
}

/// Open the ledger as an attacker would: raw SQLite, append-only triggers dropped.
fn attacker(db: &Path) -> Box<dyn store::Connection> {
    let c = store_sqlite::open_raw(db).unwrap();
    c.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        .unwrap();
    c
}

fn problems(db: &Path) -> Vec<AuditProblem> {
    Ledger::open(db)
        .unwrap()
        .verify_audit(None)
        .unwrap()
        .problems
}

fn rows(c: &dyn store::Tx) -> i64 {
    c.query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))
        .unwrap()
}

/// The audit row at `seq`.
fn row(c: &dyn store::Tx, seq: i64) -> AuditRow {
    audit_rows(c).into_iter().find(|r| r.seq == seq).unwrap()
}

/// Insert `r` as it is but for its hash, which follows the chain's rule exactly.
fn insert_valid(c: &dyn store::Tx, r: &AuditRow) {
    let h = r.expected_hash();
    c.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, before, after, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.seq,
            r.at,
            r.actor,
            r.action,
            r.subject,
            r.before,
            r.after,
            r.prev_hash,
            h.as_slice()
        ],
    )
    .unwrap();
}

#[test]
fn an_intact_log_verifies_from_the_cli_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let o = run(&dir.path().join("ledger.db"), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("audit log intact: 12 rows"));
}

#[test]
fn the_triggers_refuse_edits_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let c = store_sqlite::open_raw(dir.path().join("ledger.db")).unwrap();
    assert!(c
        .execute("UPDATE audit SET actor = 'x' WHERE seq = 1", [])
        .is_err());
    assert!(c.execute("DELETE FROM audit WHERE seq = 1", []).is_err());
}

#[test]
fn an_edited_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    c.execute(
        "UPDATE audit SET after = replace(after, '50', '500') WHERE seq = 7",
        [],
    )
    .unwrap();
    assert_eq!(problems(&db), vec![AuditProblem::Edited { seq: 7 }]);
    let o = run(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(3));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("row 7") && out.contains("edited"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("not intact"));
}

#[test]
fn an_edited_actor_or_time_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2", [])
        .unwrap();
    c.execute("UPDATE audit SET at = at - 86400 WHERE seq = 11", [])
        .unwrap();
    assert_eq!(
        problems(&db),
        vec![
            AuditProblem::Edited { seq: 2 },
            AuditProblem::Edited { seq: 11 }
        ]
    );
}

#[test]
fn a_row_inserted_in_the_middle_with_a_valid_hash_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    // Make room at 6 (renumbering the rows after it) and insert a well-formed row there.
    c.execute_batch(
        "UPDATE audit SET seq = seq + 1000000 WHERE seq >= 6;
         UPDATE audit SET seq = seq - 999999 WHERE seq >= 1000000;",
    )
    .unwrap();
    let mut fake = row(&c, 5);
    fake.actor = "mallory".into();
    fake.seq = 6;
    fake.prev_hash = row(&c, 5).hash;
    insert_valid(&c, &fake);
    assert_eq!(problems(&db), vec![AuditProblem::Inserted { seq: 6 }]);
    let o = run(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("row 6: not part of the chain (inserted)"));
}

#[test]
fn a_row_appended_with_a_made_up_hash_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    let last = rows(&c);
    let prev = row(&c, last).hash;
    c.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, before, after, prev_hash, hash)
         VALUES (?1, 1, 'mallory', 'order.add', 'Contoso/X', NULL, '{}', ?2, zeroblob(32))",
        params![last + 1, prev],
    )
    .unwrap();
    assert_eq!(problems(&db), vec![AuditProblem::Edited { seq: last + 1 }]);
}

#[test]
fn a_forged_deactivation_appended_with_a_valid_hash_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ids = busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    let last = rows(&c);
    let fake = AuditRow {
        seq: last + 1,
        at: 1,
        actor: "mallory".into(),
        action: "file.deactivate".into(),
        subject: ids[3].clone(),
        before: Some("{}".into()),
        after: Some("{}".into()),
        prev_hash: row(&c, last).hash,
        hash: Vec::new(),
    };
    insert_valid(&c, &fake);
    assert_eq!(
        problems(&db),
        vec![AuditProblem::DeactivationNotApplied {
            seq: last + 1,
            file: ids[3].clone()
        }]
    );
}

#[test]
fn a_deleted_row_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    c.execute("DELETE FROM audit WHERE seq = 4", []).unwrap();
    assert_eq!(
        problems(&db),
        vec![AuditProblem::Deleted {
            from_seq: 4,
            to_seq: 4
        }]
    );
    let o = run(&db, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("row 4: missing (deleted)"));
}

#[test]
fn a_deleted_row_whose_successors_were_renumbered_is_named() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    c.execute_batch(
        "DELETE FROM audit WHERE seq = 5;
         UPDATE audit SET seq = seq - 1 WHERE seq > 5;",
    )
    .unwrap();
    assert_eq!(
        problems(&db),
        vec![AuditProblem::Deleted {
            from_seq: 5,
            to_seq: 5
        }]
    );
}

#[test]
fn deleting_the_last_rows_leaves_files_no_row_records() {
    let dir = tempfile::tempdir().unwrap();
    let ids = busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let c = attacker(&db);
    let last = rows(&c);
    // The last row issued ids[3]; the one before deactivated ids[1].
    c.execute("DELETE FROM audit WHERE seq >= ?1", [last - 1])
        .unwrap();
    assert_eq!(
        problems(&db),
        vec![
            AuditProblem::UnrecordedDeactivation {
                file: ids[1].clone()
            },
            AuditProblem::Unrecorded {
                file: ids[3].clone()
            },
        ]
    );
}

#[test]
fn a_chain_rewritten_end_to_end_is_caught_by_a_head_noted_earlier() {
    let dir = tempfile::tempdir().unwrap();
    busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    let head = Ledger::open(&db).unwrap().audit_head().unwrap();
    let c = attacker(&db);
    // Someone who knows the rule edits row 3 and recomputes every hash after it.
    c.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 3", [])
        .unwrap();
    let last = rows(&c);
    for seq in 3..=last {
        let mut r = row(&c, seq);
        r.prev_hash = row(&c, seq - 1).hash;
        c.execute("DELETE FROM audit WHERE seq = ?1", [seq])
            .unwrap();
        insert_valid(&c, &r);
    }
    assert_eq!(problems(&db), vec![], "the chain alone is consistent again");
    let report = Ledger::open(&db).unwrap().verify_audit(Some(head)).unwrap();
    assert_eq!(
        report.problems,
        vec![AuditProblem::BrokenLink { seq: head.0 }]
    );
    let noted = format!(
        "{}:{}",
        head.0,
        head.1
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let o = run(&db, &["audit", "verify", "--head", &noted]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn a_files_row_whose_bytes_were_replaced_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ids = busy_ledger(dir.path());
    let db = dir.path().join("ledger.db");
    // The audit log itself is untouched: the recorded bytes of the second file are replaced
    // by the first file's (validly signed, so `download` would hand them out unnoticed), and
    // the sha256 column is rewritten to match, as a careful forger would.
    let c = store_sqlite::open_raw(&db).unwrap();
    c.execute_batch("DROP TRIGGER files_immutable;").unwrap();
    c.execute(
        "UPDATE files SET bytes = (SELECT bytes FROM files WHERE id = ?1),
                          sha256 = (SELECT sha256 FROM files WHERE id = ?1) WHERE id = ?2",
        params![ids[0], ids[1]],
    )
    .unwrap();
    drop(c);
    assert_eq!(
        problems(&db),
        vec![AuditProblem::FileAltered {
            file: ids[1].clone()
        }]
    );
    let o = run(&db, &["audit", "verify", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["problems"][0]["problem"], "file-altered");
    assert_eq!(report["problems"][0]["file"], ids[1].as_str());
}
