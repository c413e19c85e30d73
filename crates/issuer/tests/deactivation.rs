//! Deactivations that hold (docs/DEACTIVATION.md), through the library on both engines: a
//! valid release receipt returns the units once; altered, foreign, truncated and
//! older-generation receipts are refused and change nothing; without a receipt the units
//! stay pending until staff approve or the rehost allowance covers it.

mod common;

use common::{add_orders, counts, ledger, request, Units, AL02, SL03};
use format::receipt::{Receipt, ReleaseFacts};
use format::{FileId, LicenseType, SecretKey, Timestamp};
use hostid::{Components, HostId, RequestCode};
use issuer::{Catalog, DeactivationHow, IssuerError, Ledger, UpdateRequest};

fn strong(n: u8) -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some(format!("{n:02x}1e2d3c4b5a69788796a5b4c3d2e1f0")),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .expect("strong code")
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A ledger with one production file bound to `install`'s key (10 x AL02); its id.
fn bound(dir: &std::path::Path, install: &SecretKey) -> (Ledger, Catalog, SecretKey, String) {
    let (mut l, c) = ledger(dir);
    add_orders(&mut l, &c, &[(SL03, 3), (AL02, 30)], Units::Perpetual);
    let key = SecretKey::generate();
    let mut req = request(LicenseType::Production, SL03, &[(AL02, 10)]);
    req.host_id = RequestCode::new(strong(1), install.public_key().to_bytes())
        .unwrap()
        .to_string();
    let id = l
        .issue(&c, &req, &key, None, at("2026-12-01T00:00:00Z"))
        .unwrap()
        .file_id
        .to_string();
    (l, c, key, id)
}

fn receipt(install: &SecretKey, id: &str, lineage: &str, generation: u32) -> String {
    Receipt::sign(
        &ReleaseFacts {
            file_id: id.parse::<FileId>().unwrap(),
            lineage: lineage.parse::<FileId>().unwrap(),
            generation,
            host_id: strong(1),
            released_at: at("2026-12-05T00:00:00Z"),
        },
        install,
    )
}

fn audit_len(l: &Ledger) -> usize {
    l.audit_log(None, None).unwrap().len()
}

#[test]
fn a_valid_receipt_returns_the_units_once() {
    let dir = tempfile::tempdir().unwrap();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let (mut l, c, _, id) = bound(dir.path(), &install);
    assert_eq!(counts(&l, &c, AL02), Some((30, 10, 20)));
    let text = receipt(&install, &id, &id, 1);
    let done = l
        .deactivate_held(&id, Some(&text), false, "t", at("2026-12-06T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Receipt);
    assert_eq!(
        done[0].returned,
        vec![(AL02.to_string(), 10), (SL03.to_string(), 1)]
    );
    assert_eq!(counts(&l, &c, AL02), Some((30, 0, 30)));
    let rows = l.audit_log(Some(&id), None).unwrap();
    assert!(
        rows.iter().any(|r| r
            .after
            .as_ref()
            .is_some_and(|a| a["file"]["deactivation"] == "deactivated with receipt")),
        "{rows:?}"
    );
    // The same receipt again: refused as a replay.
    let e = l
        .deactivate_held(&id, Some(&text), false, "t", at("2026-12-06T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(e, IssuerError::ReceiptUsed { .. }), "{e}");
    assert_eq!(e.exit_code(), 20);
    assert!(e.to_string().contains("already used"), "{e}");
    assert!(l.verify_usage().unwrap().is_empty());
}

#[test]
fn bad_receipts_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let (mut l, c, key, id) = bound(dir.path(), &install);
    let good = receipt(&install, &id, &id, 1);
    let foreign = receipt(&SecretKey::from_seed(&[0x43; 32]), &id, &id, 1);
    let altered = good.replace("Generation: 1", "Generation: 2");
    let truncated = good[..good.len() / 2].to_string();
    let other = FileId::random().to_string();
    let another_file = receipt(&install, &other, &other, 1);
    let cases: [(&str, i32, &str); 4] = [
        (&foreign, 10, "not by the install key the file binds"),
        (&altered, 10, "signature is not valid"),
        (&truncated, 3, "malformed receipt"),
        (&another_file, 3, "another file"),
    ];
    let before = audit_len(&l);
    for (text, code, words) in cases {
        let e = l
            .deactivate_held(&id, Some(text), false, "t", at("2026-12-06T00:00:00Z"))
            .unwrap_err();
        assert_eq!(e.exit_code(), code, "{e}");
        assert!(e.to_string().contains(words), "{e}");
        assert_eq!(counts(&l, &c, AL02), Some((30, 10, 20)));
        assert_eq!(l.deactivation_of(&id).unwrap(), None);
        assert_eq!(audit_len(&l), before);
    }
    // An update: the receipt of generation 1 does not return generation 2's units.
    let upd = UpdateRequest {
        generated_by: "t".into(),
        add: vec![common::pq(AL02, 11)],
        ..Default::default()
    };
    let new = l
        .update(&c, &id, &upd, &key, None, at("2026-12-02T00:00:00Z"))
        .unwrap()
        .file_id
        .to_string();
    let before = audit_len(&l);
    let e = l
        .deactivate_held(&new, Some(&good), false, "t", at("2026-12-06T00:00:00Z"))
        .unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("an older generation"), "{e}");
    assert_eq!(audit_len(&l), before);
    assert_eq!(l.deactivation_of(&new).unwrap(), None);
}

#[test]
fn without_a_receipt_units_stay_pending_until_approved() {
    let dir = tempfile::tempdir().unwrap();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let (mut l, c, _, id) = bound(dir.path(), &install);
    let done = l
        .deactivate_held(&id, None, false, "customer", at("2026-12-06T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Pending);
    assert!(done[0].returned.is_empty());
    // Still used, shown as pending.
    assert_eq!(counts(&l, &c, AL02), Some((30, 10, 20)));
    let s = l.summary(&c, "Contoso", None).unwrap();
    let p = s.parts.iter().find(|p| p.part == AL02).unwrap();
    assert_eq!(p.pending, 10);
    assert!(l.verify_usage().unwrap().is_empty());
    let pending = l.pending_deactivations(None).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    // Deactivating again is refused; staff approve.
    assert!(l
        .deactivate_held(&id, None, false, "customer", at("2026-12-06T00:00:00Z"))
        .is_err());
    let done = l
        .approve_deactivation(&id, false, "staff", at("2026-12-07T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Approved);
    assert_eq!(counts(&l, &c, AL02), Some((30, 0, 30)));
    assert!(l.pending_deactivations(None).unwrap().is_empty());
    assert!(l.verify_usage().unwrap().is_empty());
    let e = l
        .approve_deactivation(&id, false, "staff", at("2026-12-07T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(e, IssuerError::NotActive { .. }), "{e}");
    assert!(e.to_string().contains("returned"), "{e}");
    assert!(l.verify_audit(None).unwrap().problems.is_empty());
}

#[test]
fn a_pending_deactivation_takes_its_receipt_later() {
    let dir = tempfile::tempdir().unwrap();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let (mut l, c, _, id) = bound(dir.path(), &install);
    l.deactivate_held(&id, None, false, "c", at("2026-12-06T00:00:00Z"))
        .unwrap();
    let text = receipt(&install, &id, &id, 1);
    let done = l
        .deactivate_held(&id, Some(&text), false, "c", at("2026-12-06T01:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Receipt);
    assert_eq!(counts(&l, &c, AL02), Some((30, 0, 30)));
    assert!(l.verify_usage().unwrap().is_empty());
    assert!(l.verify_audit(None).unwrap().problems.is_empty());
}

#[test]
fn the_rehost_allowance_returns_units_at_once_within_a_year() {
    let dir = tempfile::tempdir().unwrap();
    let install = SecretKey::from_seed(&[0x42; 32]);
    let (mut l, c, key, first) = bound(dir.path(), &install);
    l.set_rehosts_per_year("Contoso", 1, "staff").unwrap();
    let issue = |l: &mut Ledger, t: &str| {
        let req = request(LicenseType::Production, SL03, &[(AL02, 10)]);
        l.issue(&c, &req, &key, None, at(t))
            .unwrap()
            .file_id
            .to_string()
    };
    let second = issue(&mut l, "2026-12-01T00:00:00Z");
    let done = l
        .deactivate_held(&first, None, false, "c", at("2026-12-06T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Allowance);
    assert_eq!(counts(&l, &c, AL02), Some((30, 10, 20)));
    let a = l
        .rehost_allowance("Contoso", at("2026-12-06T00:00:00Z"))
        .unwrap();
    assert_eq!((a.per_year, a.used), (1, 1));
    // The allowance is used up: the next one is pending.
    let done = l
        .deactivate_held(&second, None, false, "c", at("2026-12-07T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Pending);
    // A year later the allowance has room again.
    let third = issue(&mut l, "2027-12-06T00:00:00Z");
    let done = l
        .deactivate_held(&third, None, false, "c", at("2027-12-07T00:00:00Z"))
        .unwrap();
    assert_eq!(done[0].how, DeactivationHow::Allowance);
    assert!(l.verify_usage().unwrap().is_empty());
}

postgres_too!(
    a_valid_receipt_returns_the_units_once,
    bad_receipts_are_refused_and_change_nothing,
    without_a_receipt_units_stay_pending_until_approved,
    a_pending_deactivation_takes_its_receipt_later,
    the_rehost_allowance_returns_units_at_once_within_a_year,
);
