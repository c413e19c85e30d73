//! The checks of the `names` and `open` fuzz targets, shared with `tests/fuzz_corpus.rs`.
//!
//! `names`: any input is UTF-8 text whose lines (at most 8) are what `licadmin` reads from
//! its command line: a line is accepted as a user, station and organization name exactly when
//! `validate_name` accepts it, and `validate_name` agrees with the documented rule (1 to 128
//! bytes, no control character, no blank at either end); an accepted name is listed back
//! unchanged, also through the JSON `user list --json` prints, and is removed again; a refused
//! one is `InvalidName` (exit 3) and changes nothing. Each line is also checked as a remote
//! phone number and a license-key name against their documented rules. One store per process
//! (the names of an input are removed after its check), so an input costs its transactions.
//!
//! `open`: any input is the content of the file at the store path: `Allocator::open` gives an
//! allocator or a store / I/O / not-a-store error, never a panic nor another error; a refused
//! file (whatever the error) is left byte for byte as it was; an opened one takes a user and
//! runs `check`.
#![allow(dead_code)]

use std::path::Path;

use allocation::{
    validate_key, validate_name, validate_phone, AllocError, Allocator, Method, StationKind,
    UserFilter, MAX_NAME_LEN,
};
use format::{
    sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp,
};
use hostid::{Components, HostId};
use verify::{HostSource, TrustStore, Verifier};

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

/// A private folder, on /dev/shm when there is one: every accepted name is a durable
/// transaction, every store opened a file.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temporary folder")
}

/// The `names` target's store: opened once, a license loaded.
pub struct Names {
    pub dir: tempfile::TempDir,
    pub alloc: Allocator,
}

impl Names {
    pub fn new() -> Names {
        let dir = scratch();
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
                install_key: None,
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
        Names { dir, alloc }
    }
}

/// The `open` target's folder and verifier (made once: deriving the key is not what is
/// tested).
pub struct Open {
    pub dir: tempfile::TempDir,
    pub verifier: Verifier,
}

impl Open {
    pub fn new() -> Open {
        Open {
            dir: scratch(),
            verifier: verifier(),
        }
    }
}

/// The documented name rule, written out independently of `validate_name` (the refused
/// characters are the one list every crate shares).
fn name_rule(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.chars().any(format::text::is_refused_char)
        && !name.chars().next().is_some_and(char::is_whitespace)
        && !name.chars().last().is_some_and(char::is_whitespace)
}

/// The documented phone-number rule.
fn phone_rule(n: &str) -> bool {
    let body = n.strip_prefix('+').unwrap_or(n);
    (1..=32).contains(&n.len())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
        && body.chars().any(|c| c.is_ascii_digit())
        && !n.starts_with(' ')
        && !n.ends_with(' ')
}

/// The documented key-name rule.
fn key_rule(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

pub fn check_names(f: &Names, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let before = f
        .alloc
        .users(&UserFilter::default())
        .expect("list")
        .users
        .len();
    for line in text.split('\n').take(8) {
        assert_eq!(
            validate_phone(line).is_ok(),
            phone_rule(line),
            "phone {line:?}"
        );
        assert_eq!(validate_key(line).is_ok(), key_rule(line), "key {line:?}");
        check_name(&f.alloc, line);
    }
    // Every accepted name was removed again, every refused one changed nothing.
    assert_eq!(
        f.alloc
            .users(&UserFilter::default())
            .expect("list")
            .users
            .len(),
        before
    );
}

fn check_name(a: &Allocator, name: &str) {
    let valid = validate_name("user name", name).is_ok();
    assert_eq!(valid, name_rule(name), "validate_name {name:?}");
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
            // `user list --json`: the name reads back from the JSON unchanged.
            let json = serde_json::to_string_pretty(&list).expect("json");
            let back: serde_json::Value = serde_json::from_str(&json).expect("json reads back");
            let names: Vec<&str> = back["users"]
                .as_array()
                .expect("users")
                .iter()
                .filter_map(|u| u["name"].as_str())
                .collect();
            assert!(names.contains(&name), "{name:?} not in {json}");
            a.remove_user(name).expect("remove");
        }
        Err(e) => {
            assert!(!valid, "{name:?} valid but refused: {e}");
            assert!(matches!(e, AllocError::InvalidName { .. }), "{name:?}: {e}");
            assert_eq!(e.exit_code(), 3);
        }
    }
    match a.add_station(name, StationKind::Phone) {
        Ok(()) => {
            assert!(valid, "station {name:?} accepted but not valid");
            a.remove_station(name).expect("remove station");
        }
        Err(e) => {
            assert!(!valid, "station {name:?} valid but refused: {e}");
            assert_eq!(e.exit_code(), 3);
        }
    }
}

pub fn check_open(f: &Open, bytes: &[u8]) {
    let path = f.dir.path().join("open.db");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    std::fs::write(&path, bytes).expect("write");
    match Allocator::open(&path, f.verifier.clone()) {
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
            // Whatever the refusal (not a store, damaged on the way, I/O), the file is left
            // byte for byte as it was.
            assert_eq!(
                std::fs::read(&path).expect("read"),
                bytes,
                "a refused file was changed ({e})"
            );
        }
    }
}
