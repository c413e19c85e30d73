//! Reloading while a server runs: atomic swaps, failed reloads keep the current license.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use format::Activation;
use verify::{HostSource, License, LicenseHandle, TrustStore, Verifier, VerifyError};

use common::*;

/// Files whose every count is `n`, so a reader can tell a consistent license from a torn one.
fn file_with_counts(id: u8, n: u32) -> Vec<u8> {
    let mut a: Activation = activation(30);
    a.file_id = file_id(id);
    for l in &mut a.licenses {
        l.assigned = n;
        l.pooled = n;
    }
    a.features = vec![format!("I3_FEATURE_FILE_{id}")];
    signed(&a, &vendor_key()).into_bytes()
}

fn verifier() -> Verifier {
    Verifier::for_product(
        TrustStore::new([vendor_key().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host_a()))
    .at(mid())
}

/// The invariants of the two good files; anything else is torn or unverified.
fn check(l: &License) -> u8 {
    let id = l.file_id().0[15];
    let n = match id {
        1 => 10,
        2 => 20,
        other => panic!("a license from file {other} was seen"),
    };
    assert_eq!(l.licenses().len(), 30);
    assert!(l
        .licenses()
        .iter()
        .all(|c| c.assigned == n && c.pooled == n));
    assert_eq!(l.features(), [format!("I3_FEATURE_FILE_{id}")]);
    id
}

#[test]
fn eight_readers_never_see_a_torn_or_unverified_license() {
    let v = verifier();
    let first = v.load(&file_with_counts(1, 10)).unwrap();
    let handle = LicenseHandle::new(v, first);
    let good = file_with_counts(2, 20);
    // Tampered: counts raised after signing.
    let bad = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"assigned\": 20", "\"assigned\": 99")
        .into_bytes();

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let saw_new = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (h, stop, reads, saw_new) =
                (handle.clone(), stop.clone(), reads.clone(), saw_new.clone());
            std::thread::spawn(move || {
                let mut last = 1;
                while !stop.load(Ordering::Relaxed) {
                    let l = h.current();
                    let id = check(&l);
                    // Never goes back to the old file once the new one was seen.
                    assert!(id >= last, "went back from file {last} to {id}");
                    last = id;
                    if id == 2 {
                        saw_new.fetch_add(1, Ordering::Relaxed);
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Let the readers run on the first file, then try the bad file.
    while reads.load(Ordering::Relaxed) < 1000 {
        std::thread::yield_now();
    }
    for _ in 0..20 {
        let e = handle.reload(&bad).unwrap_err();
        assert!(matches!(e, VerifyError::SignatureInvalid { .. }), "{e:?}");
        assert_eq!(check(&handle.current()), 1);
    }
    let before = reads.load(Ordering::Relaxed);
    while reads.load(Ordering::Relaxed) < before + 1000 {
        std::thread::yield_now();
    }
    assert_eq!(saw_new.load(Ordering::Relaxed), 0);
    let swapped = handle.reload(&good).unwrap();
    assert_eq!(check(&swapped), 2);
    let after = reads.load(Ordering::Relaxed);
    while reads.load(Ordering::Relaxed) < after + 1000 {
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().expect("a reader saw a torn or unverified license");
    }
    assert!(saw_new.load(Ordering::Relaxed) > 0);
    assert_eq!(check(&handle.current()), 2);
}

#[test]
fn a_failed_reload_keeps_the_snapshot_and_says_why() {
    let v = verifier();
    let handle = LicenseHandle::new(v.clone(), v.load(&file_with_counts(1, 10)).unwrap());
    let held = handle.current();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.i3lic");
    assert!(matches!(
        handle.reload_file(&missing),
        Err(VerifyError::Io { .. })
    ));
    assert!(matches!(handle.reload(b""), Err(VerifyError::Malformed(_))));
    let expired_file = {
        let mut a = activation(30);
        a.expires_at = ts("2024-02-01T00:00:00Z");
        a.grace_days = 0;
        signed(&a, &vendor_key()).into_bytes()
    };
    assert!(matches!(
        handle.reload(&expired_file),
        Err(VerifyError::Expired { .. })
    ));
    assert!(Arc::ptr_eq(&held, &handle.current()));

    // A good file from disk swaps in; the old snapshot is unchanged for whoever holds it.
    let path = dir.path().join("new.i3lic");
    std::fs::write(&path, file_with_counts(2, 20)).unwrap();
    handle.reload_file(&path).unwrap();
    assert_eq!(check(&held), 1);
    assert_eq!(check(&handle.current()), 2);
}

#[test]
fn open_refuses_a_bad_initial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.i3lic");
    std::fs::write(&path, file_with_counts(1, 10)).unwrap();
    let h = LicenseHandle::open(verifier(), &path).unwrap();
    assert_eq!(check(&h.current()), 1);
    let wrong = verifier().host(HostSource::Code(host_c()));
    assert!(matches!(
        LicenseHandle::open(wrong, &path),
        Err(VerifyError::HostMismatch { .. })
    ));
}
