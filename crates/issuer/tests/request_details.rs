//! An activation file request's contact and order details (schema 8): a ledger of schema 6
//! is migrated with its requests kept and their details empty; new requests keep them (both
//! engines); a past date needed and a mistyped host ID are refused naming the field.

mod common;

use std::path::{Path, PathBuf};

use common::{host, ledger, open};
use issuer::{IssuerError, Ledger, NewRequest};
use store::TxExt;

fn sqlite_migrations_up_to(v: i64) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n: i64 = p.file_name().unwrap().to_str().unwrap()[..4]
                .parse()
                .unwrap();
            n <= v
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn details() -> NewRequest {
    NewRequest {
        account: "Contoso".into(),
        request_type: "Activation File Request".into(),
        category: "Activation File".into(),
        file_type: "Upgrade".into(),
        subject: "Move ic1".into(),
        date_needed: "2099-12-24".into(),
        host_id: host(1),
        contact_name: "Ann Smith".into(),
        contact_email: "ann@contoso.example".into(),
        deployment_type: "Disaster Recovery Hot Standby".into(),
        implementation_type: "Reallocation".into(),
        order_number: "SO-42 / PO-4711".into(),
        ..NewRequest::default()
    }
}

#[test]
fn requests_of_schema_6_and_7_are_kept_with_empty_details() {
    for v in [6, 7] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let c = store_sqlite::open_raw(&db).unwrap();
        for s in sqlite_migrations_up_to(v) {
            c.execute_batch(&s).unwrap();
        }
        c.execute_batch(&format!(
            "PRAGMA user_version = {v};
             INSERT INTO accounts (id, name, created_at) VALUES (1, 'Contoso', 0);
             INSERT INTO requests (id, account_id, requested_by, request_type, category, file_type,
                 subject, description, urgent, date_needed, date_reason, host_id, backup_host_id,
                 created_at)
             VALUES (1, 1, 'ann', 'Question', '', '', 'Old one', '', 0, '2020-01-01', '', '', '', 0);"
        ))
        .unwrap();
        drop(c);
        let mut l = Ledger::open(&db).unwrap();
        let old = l.request("AFR-0000001").unwrap();
        assert_eq!(old.request.subject, "Old one", "schema {v}");
        assert_eq!(old.request.contact_name, "");
        assert_eq!(old.request.order_number, "");
        let n = l.add_request(&details(), &[], "ann").unwrap();
        assert_eq!(l.request(&n).unwrap().request, details(), "schema {v}");
    }
}

#[test]
fn details_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = ledger(dir.path());
    let n = l.add_request(&details(), &[], "ann").unwrap();
    let back = open(dir.path()).request(&n).unwrap();
    assert_eq!(back.request, details());
}

#[test]
fn a_past_date_and_a_mistyped_host_id_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = ledger(dir.path());
    let past = NewRequest {
        date_needed: "2020-01-01".into(),
        ..details()
    };
    let e = l.add_request(&past, &[], "ann").unwrap_err();
    assert!(
        matches!(&e, IssuerError::MalformedRequest { reason } if reason.starts_with("date_needed: 2020-01-01 is in the past")),
        "{e}"
    );
    let mut code = host(1);
    let last = code.pop().unwrap();
    code.push(if last == 'V' { 'W' } else { 'V' });
    let e = l
        .add_request(
            &NewRequest {
                host_id: code,
                ..details()
            },
            &[],
            "ann",
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("host_id:") && e.to_string().contains("check character"),
        "{e}"
    );
    assert!(l.requests(None).unwrap().is_empty());
}

postgres_too!(
    details_are_kept,
    a_past_date_and_a_mistyped_host_id_are_refused
);
