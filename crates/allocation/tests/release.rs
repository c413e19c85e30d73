//! The store's install key, its request code and `Allocator::release`: the receipt verifies
//! with the key the file binds, everything that depended on the file is freed in one
//! transaction, and the released lineage stays refused (exit 16). On both engines.

mod common;

use std::sync::Arc;

use allocation::{AllocError, Allocator, ManualClock, Method, Place, StationKind, Target};
use common::{activation, location, vendor, verifier};
use format::receipt::Receipt;
use format::{sign, Chain, PublicKey, Rules};
use hostid::{Components, HostId};
use store::TxExt as _;

const CLIENT: &str = "I3_ACCESS_CLIENT";

fn open(dir: &std::path::Path) -> Allocator {
    Allocator::open_at(
        &location(dir),
        verifier(),
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .expect("open")
}

/// A file of a new lineage whose host binds `key` (or none), and the activation signed.
fn file_binding(key: Option<&PublicKey>) -> (format::Activation, String) {
    let mut a = activation(&[(CLIENT, 5, 5)], Rules::default());
    a.primary_host.install_key = key.cloned();
    let text = sign(&a, &vendor()).expect("sign");
    (a, text)
}

fn strong_host() -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("strong host")
}

#[test]
fn every_store_has_one_install_key_kept_when_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let key = a.install_key().unwrap();
    assert_eq!(open(dir.path()).install_key().unwrap(), key);
    let other = tempfile::tempdir().unwrap();
    if matches!(location(dir.path()), allocation::StoreLocation::Sqlite(_)) {
        assert_ne!(open(other.path()).install_key().unwrap(), key);
    }
    // Its request code carries it and the strong host ID; a short code is refused.
    let code = a.request_code(strong_host()).unwrap();
    assert_eq!(code.install_key(), key.to_bytes());
    assert_eq!(code.host(), strong_host());
    let e = a.request_code(strong_host().to_short()).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
}

#[test]
fn release_frees_everything_signs_a_receipt_and_refuses_the_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let key = a.install_key().unwrap();
    let (act, text) = file_binding(Some(&key));
    a.load(text.as_bytes()).unwrap();
    a.add_user("alice", Method::Concurrent, None).unwrap();
    a.add_user("bob", Method::Assignable, None).unwrap();
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT]).unwrap();
    let s = a.login("alice", Place::Nowhere, Some(600)).unwrap();

    let r = a.release().unwrap();
    assert!(r.key_bound);
    assert_eq!((r.sessions_ended, r.allocations_freed), (1, 2));
    assert_eq!(r.file_id, act.file_id.to_string());
    assert_eq!(r.generation, 1);
    let receipt = Receipt::parse(&r.receipt).unwrap();
    receipt.verify(&key).unwrap();
    assert_eq!(receipt.facts().file_id, act.file_id);
    assert_eq!(receipt.facts().lineage, act.file_id);
    assert_eq!(receipt.facts().host_id, act.primary_host.host_id);

    // Nothing depends on the file any more, and no license is loaded.
    assert!(matches!(a.license(), Err(AllocError::NoLicenseLoaded)));
    assert!(a.sessions().unwrap().is_empty());
    assert_eq!(a.session_end(&s.id).unwrap().unwrap().reason, "released");
    assert!(matches!(a.release(), Err(AllocError::NoLicenseLoaded)));
    assert_eq!(a.check().unwrap(), Vec::<String>::new());

    // The released lineage is refused: the same file, and a later generation of it.
    let again = a.load(text.as_bytes()).unwrap_err();
    assert!(matches!(again, AllocError::Released { .. }), "{again}");
    assert_eq!(again.exit_code(), 16);
    let mut next = activation(&[(CLIENT, 9, 9)], Rules::default());
    next.chain = Some(Chain {
        lineage: act.file_id,
        generation: 2,
    });
    next.supersedes = Some(act.file_id);
    let next = sign(&next, &vendor()).unwrap();
    assert_eq!(a.load(next.as_bytes()).unwrap_err().exit_code(), 16);
    assert_eq!(a.preview(next.as_bytes()).unwrap_err().exit_code(), 16);
    // Another server on the store refuses it too; a file of a new lineage loads.
    assert_eq!(
        open(dir.path())
            .load(text.as_bytes())
            .unwrap_err()
            .exit_code(),
        16
    );
    let (_, fresh) = file_binding(Some(&key));
    a.load(fresh.as_bytes()).unwrap();
}

#[test]
fn a_file_without_this_stores_key_is_released_with_an_unbound_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let (_, text) = file_binding(None);
    a.load(text.as_bytes()).unwrap();
    let r = a.release().unwrap();
    assert!(!r.key_bound);
    // The receipt is still signed by the store's key (the vendor has none to check it with).
    Receipt::parse(&r.receipt)
        .unwrap()
        .verify(&a.install_key().unwrap())
        .unwrap();
}

#[test]
fn store_copy_carries_the_install_key_and_the_released_lineages() {
    let dir = tempfile::tempdir().unwrap();
    let a = open(dir.path());
    let key = a.install_key().unwrap();
    let (_, text) = file_binding(Some(&key));
    a.load(text.as_bytes()).unwrap();
    a.release().unwrap();
    let target = allocation::StoreLocation::Sqlite(dir.path().join("copy.db"));
    allocation::copy_store(&location(dir.path()), &target).unwrap();
    let copy = Allocator::open_at(
        &target,
        verifier(),
        Arc::new(ManualClock::new(1_800_000_000)),
    )
    .unwrap();
    assert_eq!(copy.install_key().unwrap(), key);
    assert_eq!(copy.load(text.as_bytes()).unwrap_err().exit_code(), 16);
}

postgres_too!(
    every_store_has_one_install_key_kept_when_reopened,
    release_frees_everything_signs_a_receipt_and_refuses_the_lineage,
    a_file_without_this_stores_key_is_released_with_an_unbound_receipt,
    store_copy_carries_the_install_key_and_the_released_lineages,
);

#[test]
fn a_store_of_schema_4_gets_an_install_key_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alloc.db");
    drop(Allocator::open(&path, verifier()).unwrap());
    store_sqlite::open_raw(&path)
        .unwrap()
        .execute_batch(
            "DROP TABLE install_key; DROP TABLE released;
             DROP TRIGGER usage_counts_peak_ins; DROP TRIGGER usage_counts_peak_upd;
             DROP TABLE usage_events; DROP TABLE usage_peaks; DROP TABLE usage_denials;
             DROP TABLE usage_licensed; DROP TABLE history_state;
             DROP TABLE checkouts; DROP TABLE workgroup_members; DROP TABLE workgroups;
             DROP TABLE user_kept_grants; DROP TABLE user_settings;
             PRAGMA user_version = 4;",
        )
        .unwrap();
    let a = Allocator::open(&path, verifier()).unwrap();
    let key = a.install_key().unwrap();
    assert_eq!(
        Allocator::open(&path, verifier())
            .unwrap()
            .install_key()
            .unwrap(),
        key
    );
    let (_, text) = file_binding(Some(&key));
    a.load(text.as_bytes()).unwrap();
    assert!(a.release().unwrap().key_bound);
}
