//! Disaster-recovery files follow their production file through updates, and are never left
//! active behind a deactivated production file.

mod common;

use std::path::Path;
use store::TxExt;

use common::{
    audit_rows, cli_ledger, host, issued_production, ok, pq, request, run, summary_json,
    summary_part, summary_text, unencrypted_key, update_by, IssueFlags, Units, AL02, SL03,
};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::{Catalog, IssuerError, Ledger, UpdateRequest};

const DR03: &str = "SW-001-4.0-DR03";

/// A production file (40 x AL02) and two disaster-recovery files naming it (30 and 10 x
/// AL02), in a real ledger file under `dir`. Returns the ledger, catalog, key and the ids:
/// production, first and second recovery file.
fn production_with_two_recovery_files(
    dir: &Path,
) -> (Ledger, Catalog, SecretKey, String, String, String) {
    let (mut l, c, key, prod) = issued_production(
        dir,
        &[(SL03, 1), (DR03, 2), (AL02, 200)],
        &[(AL02, 40)],
        Timestamp::now(),
    );
    let mut ids = Vec::new();
    for (n, q) in [(9u8, 30u32), (10, 10)] {
        let mut dr = request(LicenseType::DisasterRecovery, DR03, &[(AL02, q)]);
        dr.host_id = host(n);
        dr.machine = format!("dr{n}");
        dr.related = Some(prod.clone());
        ids.push(
            l.issue(&c, &dr, &key, None, Timestamp::now())
                .unwrap()
                .file_id
                .to_string(),
        );
    }
    let dr2 = ids.pop().unwrap();
    let dr1 = ids.pop().unwrap();
    (l, c, key, prod, dr1, dr2)
}

/// Everything a refused deactivation must leave as it was: summary, audit log, active flags.
fn state(l: &Ledger, c: &Catalog, ids: &[&str]) -> (String, usize, Vec<bool>) {
    (
        format!("{:?}", l.summary(c, "Contoso", None).unwrap()),
        audit_rows(l.raw_for_tests()).len(),
        ids.iter().map(|id| l.show(c, id).unwrap().active).collect(),
    )
}

#[test]
fn deactivating_a_production_file_with_active_recovery_files_is_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, prod, dr1, dr2) = production_with_two_recovery_files(dir.path());
    let before = state(&l, &c, &[&prod, &dr1, &dr2]);
    let e = l
        .deactivate(&prod, "t", Timestamp::now())
        .expect_err("refused while recovery files point at it");
    assert_eq!(e.exit_code(), 20);
    match &e {
        IssuerError::ActiveRecovery { id, recovery } => {
            assert_eq!(id, &prod);
            assert_eq!(recovery, &vec![dr1.clone(), dr2.clone()]);
        }
        other => panic!("expected ActiveRecovery, got {other:?}"),
    }
    assert_eq!(state(&l, &c, &[&prod, &dr1, &dr2]), before);

    // Once its recovery files are gone, the production file deactivates alone; one
    // recovery file left active is still named.
    l.deactivate(&dr1, "t", Timestamp::now()).unwrap();
    match l.deactivate(&prod, "t", Timestamp::now()) {
        Err(IssuerError::ActiveRecovery { recovery, .. }) => {
            assert_eq!(recovery, vec![dr2.clone()])
        }
        other => panic!("expected ActiveRecovery naming {dr2}, got {other:?}"),
    }
    l.deactivate(&dr2, "t", Timestamp::now()).unwrap();
    let returned = l.deactivate(&prod, "t", Timestamp::now()).unwrap();
    assert!(returned.contains(&(AL02.to_string(), 40)), "{returned:?}");
    assert_eq!(common::counts(&l, &c, AL02), Some((200, 0, 200)));
    assert!(l.verify_audit(None).unwrap().intact());
}

#[test]
fn with_recovery_deactivates_the_production_file_and_its_recovery_files_together() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, prod, dr1, dr2) = production_with_two_recovery_files(dir.path());
    assert_eq!(common::counts(&l, &c, AL02), Some((200, 80, 120)));
    let audit_before = audit_rows(l.raw_for_tests()).len();

    let done = l
        .deactivate_with_recovery(&prod, "carol", Timestamp::now())
        .unwrap();
    let ids: Vec<&str> = done.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [prod.as_str(), dr1.as_str(), dr2.as_str()]);
    let al02: Vec<u64> = done
        .iter()
        .map(|d| {
            d.returned
                .iter()
                .find(|(p, _)| p == AL02)
                .map_or(0, |r| r.1)
        })
        .collect();
    assert_eq!(al02, [40, 30, 10]);
    for id in [&prod, &dr1, &dr2] {
        let d = l.show(&c, id).unwrap();
        assert!(!d.active, "{id} still active");
        assert_eq!(d.deactivated_by.as_deref(), Some("carol"));
    }
    // Every unit is back, the counters agree with the usage rows.
    for part in [SL03, DR03, AL02] {
        let (total, used, available) = common::counts(&l, &c, part).unwrap();
        assert_eq!((used, available), (0, total), "{part}");
    }
    assert!(l.verify_usage().unwrap().is_empty());

    // One audit row per file, in the same order, each naming the other side.
    let rows = audit_rows(l.raw_for_tests());
    let new = &rows[audit_before..];
    assert_eq!(new.len(), 3);
    let subjects: Vec<&str> = new.iter().map(|r| r.subject.as_str()).collect();
    assert_eq!(subjects, [prod.as_str(), dr1.as_str(), dr2.as_str()]);
    assert!(new.iter().all(|r| r.action == "file.deactivate"));
    let after = |r: &common::AuditRow| -> serde_json::Value {
        serde_json::from_str(r.after.as_deref().unwrap()).unwrap()
    };
    assert_eq!(
        after(&new[0])["file"]["disaster_recovery_deactivated"],
        serde_json::json!([dr1, dr2])
    );
    assert_eq!(
        after(&new[1])["file"]["with_production"],
        serde_json::json!(prod)
    );
    assert!(l.verify_audit(None).unwrap().intact());

    // Nothing is returned twice.
    assert!(matches!(
        l.deactivate_with_recovery(&prod, "carol", Timestamp::now()),
        Err(IssuerError::NotActive { .. })
    ));
}

#[test]
fn with_recovery_is_one_transaction_a_failure_on_the_last_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, prod, dr1, dr2) = production_with_two_recovery_files(dir.path());
    let before = state(&l, &c, &[&prod, &dr1, &dr2]);
    // Make the engine refuse deactivating the second recovery file, after the production
    // file and the first recovery file were deactivated inside the transaction.
    l.raw_for_tests()
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER fail_dr2 BEFORE UPDATE OF active ON main.files
             WHEN NEW.id = '{dr2}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap();
    let e = l
        .deactivate_with_recovery(&prod, "t", Timestamp::now())
        .expect_err("the injected failure");
    assert!(matches!(e, IssuerError::Store(_)), "{e:?}");
    assert_eq!(state(&l, &c, &[&prod, &dr1, &dr2]), before);
    assert!(l.verify_usage().unwrap().is_empty());
    assert!(l.verify_audit(None).unwrap().intact());

    l.raw_for_tests()
        .execute_batch("DROP TRIGGER temp.fail_dr2")
        .unwrap();
    assert_eq!(
        l.deactivate_with_recovery(&prod, "t", Timestamp::now())
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn a_production_file_without_recovery_files_deactivates_the_same_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, prod) = issued_production(
        dir.path(),
        &[(SL03, 1), (AL02, 50)],
        &[(AL02, 50)],
        Timestamp::now(),
    );
    let done = l
        .deactivate_with_recovery(&prod, "t", Timestamp::now())
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, prod);
    assert_eq!(common::counts(&l, &c, AL02), Some((50, 0, 50)));
}

#[test]
fn the_cli_refuses_naming_the_recovery_files_and_with_recovery_deactivates_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[(SL03, 1), (DR03, 2), (AL02, 200)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir.path());
    let key = key.to_str().unwrap();
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let (h1, h2, h3) = (host(1), host(2), host(3));
    let (o1, o2, o3) = (out("ic1.i3lic"), out("dr1.i3lic"), out("dr2.i3lic"));
    let prod = ok(
        &db,
        &IssueFlags {
            license_type: "production",
            host_id: &h1,
            machine: "ic1",
            server_part: SL03,
            add: Some("SW-001-4.0-AL02=40"),
            key,
            out: &o1,
        }
        .args(),
    )
    .trim()
    .to_string();
    let mut dr = Vec::new();
    for (h, m, add, o) in [
        (&h2, "dr1", "SW-001-4.0-AL02=30", &o2),
        (&h3, "dr2", "SW-001-4.0-AL02=10", &o3),
    ] {
        let mut args = IssueFlags {
            license_type: "disaster-recovery",
            host_id: h,
            machine: m,
            server_part: DR03,
            add: Some(add),
            key,
            out: o,
        }
        .args();
        args.extend(["--related", &prod]);
        dr.push(ok(&db, &args).trim().to_string());
    }
    let audit_len = || audit_rows(&store_sqlite::open_raw(&db).unwrap()).len();
    let (summary, rows) = (summary_text(&db), audit_len());

    let r = run(&db, &["deactivate", &prod]);
    assert_eq!(r.status.code(), Some(20));
    let err = String::from_utf8_lossy(&r.stderr);
    for s in [
        prod.as_str(),
        dr[0].as_str(),
        dr[1].as_str(),
        "--with-recovery",
    ] {
        assert!(err.contains(s), "{s} missing: {err}");
    }
    assert!(r.stdout.is_empty());
    assert_eq!(summary_text(&db), summary, "summary changed by a refusal");
    assert_eq!(audit_len(), rows, "audit changed by a refusal");

    let done = ok(&db, &["deactivate", &prod, "--with-recovery", "--approve"]);
    for id in [&prod, &dr[0], &dr[1]] {
        assert!(done.contains(&format!("deactivated {id}")), "{done}");
    }
    for n in [40, 30, 10] {
        assert!(done.contains(&format!("returned {n} x {AL02}")), "{done}");
    }
    let s = summary_json(&db);
    for part in [SL03, DR03, AL02] {
        let p = summary_part(&s, part);
        assert_eq!(p["used"], 0, "{part}: {p}");
        assert_eq!(p["available"], p["total"], "{part}: {p}");
    }
    assert_eq!(audit_len(), rows + 3);
    let act = ok(&db, &["activity", "--account", "Contoso", "--json"]);
    assert_eq!(act.trim(), "[]", "no file left active");
    ok(&db, &["audit", "verify"]);
}

#[test]
fn updating_a_production_file_points_its_recovery_files_at_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, prod_id) = issued_production(
        dir.path(),
        &[(SL03, 1), ("SW-001-4.0-DR03", 2), (AL02, 200)],
        &[(AL02, 40)],
        Timestamp::now(),
    );
    let mut dr = request(
        LicenseType::DisasterRecovery,
        "SW-001-4.0-DR03",
        &[(AL02, 30)],
    );
    dr.host_id = host(9);
    dr.machine = "dr1".into();
    dr.related = Some(prod_id.clone());
    let dr_id = l
        .issue(&c, &dr, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();

    // Lowering production below the recovery file's counts is refused; nothing changes.
    let lower = UpdateRequest {
        set: vec![pq(AL02, 20)],
        ..update_by("t")
    };
    match l.update(&c, &prod_id, &lower, &key, None, Timestamp::now()) {
        Err(IssuerError::RecoveryAboveProduction {
            recovery,
            has: 30,
            allowed: 20,
            ..
        }) => assert_eq!(recovery, dr_id),
        other => panic!("expected the update refused, got {other:?}"),
    }
    assert!(l.show(&c, &prod_id).unwrap().active);
    assert_eq!(
        l.show(&c, &dr_id).unwrap().related_production.as_deref(),
        Some(prod_id.as_str())
    );

    // A compatible update moves the recovery file to the new production file.
    let more = UpdateRequest {
        add: vec![pq(AL02, 10)],
        ..update_by("t")
    };
    let new_id = l
        .update(&c, &prod_id, &more, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();
    assert_eq!(
        l.show(&c, &dr_id).unwrap().related_production.as_deref(),
        Some(new_id.as_str())
    );
    let audit: String = l
        .raw_for_tests()
        .query_row(
            "SELECT after FROM audit WHERE action = 'file.update' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(
        audit["disaster_recovery_moved"],
        serde_json::json!([dr_id.clone()])
    );
    assert!(l.verify_audit(None).unwrap().intact());

    // The recovery file can now be updated against the active production file.
    let dr_more = UpdateRequest {
        add: vec![pq(AL02, 20)],
        ..update_by("t")
    };
    let dr2 = l
        .update(&c, &dr_id, &dr_more, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();
    assert_eq!(
        l.show(&c, &dr2).unwrap().related_production.as_deref(),
        Some(new_id.as_str())
    );
    // The superseded recovery file keeps the production file it pointed at when it stopped
    // being active.
    let inactive_related: Option<String> = l
        .raw_for_tests()
        .query_row(
            "SELECT r.id FROM files d JOIN files r ON r.seq = d.related_production WHERE d.id = ?1",
            [&dr_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(inactive_related.as_deref(), Some(new_id.as_str()));
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    deactivating_a_production_file_with_active_recovery_files_is_refused_naming_them,
    with_recovery_deactivates_the_production_file_and_its_recovery_files_together,
    a_production_file_without_recovery_files_deactivates_the_same_with_the_flag,
    updating_a_production_file_points_its_recovery_files_at_the_new_file,
);
