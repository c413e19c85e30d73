//! The checks of the `store` fuzz target, shared with `tests/fuzz_corpus.rs`.
//!
//! An input starting with byte 0 is the content of a file at the store path (the rest of the
//! bytes): `Allocator::open` gives an allocator or a store / I/O error, never a panic; a
//! refused file is left byte for byte as it was; an opened one takes a user. Any other input
//! is UTF-8 text whose lines are names: a name is accepted as a user, station and
//! organization name exactly when `validate_name` accepts it; an accepted name is listed back
//! unchanged; a refused one changes nothing.
#![allow(dead_code)]

use std::path::Path;

use allocation::{validate_name, AllocError, Allocator, Method, StationKind, Target, UserFilter};
use format::{
    sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp,
};
use hostid::{Components, HostId};
use verify::{HostSource, TrustStore, Verifier};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub alloc: Allocator,
}

fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("host")
}

fn key() -> SecretKey {
    SecretKey::from_seed(&[0x5a; 32])
}

pub fn verifier() -> Verifier {
    Verifier::for_product(
        TrustStore::new([key().public_key().clone()]).expect("trust"),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host()))
}

impl Fixture {
    pub fn new() -> Fixture {
        // On /dev/shm when there is one: every accepted name is a durable transaction.
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temporary folder");
        let alloc = Allocator::open(dir.path().join("names.db"), verifier()).expect("open");
        let id = FileId::random();
        let now = Timestamp::now().plus_days(-1);
        let a = Activation {
            file_id: id,
            supersedes: None,
            chain: Some(Chain::first(id)),
            product: "CIC".into(),
            product_version: "4.0".into(),
            license_type: LicenseType::Production,
            issued_at: now,
            valid_from: now,
            expires_at: Timestamp::PERPETUAL,
            grace_days: 0,
            generated_by: "fuzz".into(),
            sold_to: "Contoso".into(),
            install_site: "HQ".into(),
            primary_host: Host {
                host_id: host(),
                machine: "ic1".into(),
            },
            switchover_host: None,
            system_type: String::new(),
            mail_connector: String::new(),
            bundle: String::new(),
            description: String::new(),
            features: vec![],
            licenses: vec![
                LicenseCount {
                    name: "I3_ACCESS_CLIENT".into(),
                    assigned: 100,
                    pooled: 0,
                },
                LicenseCount {
                    name: "I3_TENANT_IWP_ORGANIZATION".into(),
                    assigned: 100,
                    pooled: 0,
                },
            ],
            ordered_items: vec![],
            restrictions: vec![],
            rules: Default::default(),
        };
        alloc
            .load(sign(&a, &key()).expect("sign").as_bytes())
            .expect("load");
        Fixture { dir, alloc }
    }
}

pub fn check(f: &Fixture, data: &[u8]) {
    match data.split_first() {
        Some((0, rest)) => check_store_file(f.dir.path(), rest),
        _ => {
            if let Ok(text) = std::str::from_utf8(data) {
                for name in text.split('\n').take(8) {
                    check_name(&f.alloc, name);
                }
            }
        }
    }
}

fn check_name(a: &Allocator, name: &str) {
    let valid = validate_name("user name", name).is_ok();
    let before = a.users(&UserFilter::default()).expect("list").users.len();
    match a.add_user(name, Method::Assignable, None) {
        Ok(()) => {
            assert!(valid, "{name:?} accepted but not valid");
            let list = a
                .users(&UserFilter {
                    license: None,
                    name: Some(name.into()),
                })
                .expect("list");
            assert!(
                list.users.iter().any(|u| u.name == name),
                "{name:?} not listed back"
            );
            a.allocate(Target::User(name), &["I3_ACCESS_CLIENT"])
                .expect("allocate");
            a.remove_user(name).expect("remove");
        }
        Err(e) => {
            assert!(!valid, "{name:?} valid but refused: {e}");
            assert!(matches!(e, AllocError::InvalidName { .. }), "{name:?}: {e}");
            assert_eq!(e.exit_code(), 3);
        }
    }
    assert_eq!(
        a.add_station(name, StationKind::Phone).is_ok(),
        valid,
        "station {name:?}"
    );
    if valid {
        a.remove_station(name).expect("remove station");
    }
    assert_eq!(
        a.users(&UserFilter::default()).expect("list").users.len(),
        before
    );
}

fn check_store_file(dir: &Path, bytes: &[u8]) {
    let path = dir.join("open.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    std::fs::write(&path, bytes).expect("write");
    match Allocator::open(&path, verifier()) {
        Ok(a) => {
            // Whatever opened is usable: a user can be added (or exists), and check runs.
            match a.add_user("fuzz", Method::Assignable, None) {
                Ok(()) | Err(AllocError::AlreadyExists { .. }) | Err(AllocError::Store(_)) => {}
                Err(e) => panic!("add_user on an opened store: {e}"),
            }
            let _ = a.check();
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    AllocError::NotAStore { .. } | AllocError::Io { .. } | AllocError::Store(_)
                ),
                "open refused with {e:?}"
            );
            if matches!(e, AllocError::NotAStore { .. }) {
                assert_eq!(
                    std::fs::read(&path).expect("read"),
                    bytes,
                    "a refused file was changed"
                );
            }
        }
    }
}
