//! The checks each fuzz input goes through. Shared by the fuzz targets and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

// Each fuzz target uses some of the checks; the replay test uses the constants too.
#![allow(dead_code)]

use std::path::{Component, Path};
use std::sync::OnceLock;

use format::{FileId, LicenseType, SecretKey, Timestamp, UnverifiedFile, MAX_COUNT};
use issuer::catalog::{Development, PartKind};
use issuer::keys::{encrypt_secret_key, parse_secret_key, KdfParams, ENCRYPTED_KEY_TAG};
use issuer::rules::{activation, plan, rule};
use issuer::{Catalog, CatalogError, IssueRequest, IssuerError, PartQuantity, Plan};
use zeroize::Zeroizing;

/// Host-ID code of the primary server in planned requests.
pub const HOST_A: &str = "1Z9K8-EE16R-PK8ZV-PXR0D-E8A0B";
/// Host-ID code of the switchover server in planned requests.
pub const HOST_B: &str = "1ZFEJ-8X5ND-RV8S0-RVT27-KGA0P";
/// The production file a disaster recovery request names.
pub const RELATED: &str = "f1000000000000000000000000000003";
/// The passphrase the key-file check offers.
pub const PASSPHRASE: &str = "fuzz passphrase";
/// argon2id costs small enough to run on every fuzz input (the parser accepts them).
pub const CHEAP_KDF: KdfParams = KdfParams {
    m_kib: 8,
    t: 1,
    p: 1,
};
/// Server parts of a fuzzed catalog planned per input (bounds the work per input).
const MAX_PLANNED_PARTS: usize = 6;
/// Issue time of the planned files: 2024-06-01T00:00:00Z.
const ISSUED_AT: i64 = 1_717_200_000;

/// The fixed key the checks sign with (test use only).
pub fn fuzz_key() -> &'static SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| SecretKey::from_seed(&[0x5e; 32]))
}

/// The built-in catalog, parsed once.
pub fn built_in() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::built_in().expect("the built-in catalog parses"))
}

// ---- catalog ----

/// Any bytes as a catalog file. Parsing must return, never panic; a refusal names a line
/// that exists; an accepted catalog is consistent (every reference resolves), and every
/// server part of it can be planned into a file without a panic.
pub fn check_catalog(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Catalog::parse(text) {
        Ok(catalog) => {
            check_consistent(&catalog);
            plan_every_server_part(&catalog);
        }
        Err(e) => check_catalog_error(text, &e),
    }
}

fn check_catalog_error(text: &str, e: &CatalogError) {
    let line = match e {
        CatalogError::Syntax { line, .. }
        | CatalogError::UnknownRecord { line, .. }
        | CatalogError::UnknownAttribute { line, .. }
        | CatalogError::UnknownLicenseKey { line, .. }
        | CatalogError::UnknownFeature { line, .. }
        | CatalogError::ZeroCount { line, .. }
        | CatalogError::UnknownPart { line, .. }
        | CatalogError::UnknownCategory { line, .. } => Some(*line),
        CatalogError::Duplicate {
            line, first_line, ..
        } => {
            assert!(first_line <= line, "{e}");
            Some(*line)
        }
        _ => None,
    };
    if let Some(line) = line {
        assert!(
            (1..=text.lines().count()).contains(&line),
            "{e}: no such line"
        );
    }
    assert!(!e.to_string().is_empty());
}

fn check_consistent(catalog: &Catalog) {
    let mut parts = 0;
    for part in catalog.parts() {
        parts += 1;
        assert_eq!(catalog.part(&part.number), Some(part));
        let pv = catalog
            .version(&part.product, &part.version)
            .expect("a part's product version is known");
        assert_eq!(part.category, format!("{} {}", pv.product, pv.version));
        for g in &part.grants {
            assert!(catalog.license_description(&g.key).is_some(), "{}", g.key);
            assert!(g.assigned > 0 || g.pooled > 0);
            assert!(g.assigned <= MAX_COUNT && g.pooled <= MAX_COUNT);
        }
        match &part.server {
            Some(spec) => {
                assert_eq!(part.kind, PartKind::Server);
                assert!(!spec.types.is_empty());
                for f in &spec.features {
                    assert!(
                        pv.features.contains(f),
                        "{f} is not a feature of the version"
                    );
                }
                if let Some(inc) = &spec.includes {
                    let included = catalog.part(inc).and_then(|p| p.server.as_ref());
                    assert_eq!(
                        included.and_then(|s| s.development),
                        Some(Development::NonOrdered)
                    );
                }
            }
            None => {
                assert_ne!(part.kind, PartKind::Server);
                assert!(!part.grants.is_empty());
            }
        }
    }
    assert!(parts > 0, "an accepted catalog has parts");
    for (from, to) in catalog.upgrades() {
        assert!(catalog.part(from).is_some() && catalog.part(to).is_some());
        assert_eq!(catalog.upgrade_of(from), Some(to));
    }
}

/// A request for `server` as `t` that satisfies the type's rules as far as the request can:
/// a switchover host where the type takes one, the related file for disaster recovery, and
/// one unit of up to four items of the category where add-ons are allowed.
pub fn request_for(catalog: &Catalog, server: &str, t: LicenseType) -> Option<IssueRequest> {
    let part = catalog.part(server)?;
    let spec = part.server.as_ref()?;
    let r = rule(t);
    let add = if spec.fixed || !r.add_ons {
        Vec::new()
    } else {
        catalog
            .parts()
            .filter(|p| p.category == part.category && p.server.is_none())
            .take(4)
            .map(|p| PartQuantity {
                part: p.number.clone(),
                quantity: 1,
            })
            .collect()
    };
    Some(IssueRequest {
        account: "Fuzz Account".into(),
        site: "HQ".into(),
        product: part.product.clone(),
        version: part.version.clone(),
        license_type: t,
        host_id: HOST_A.into(),
        machine: "fuzz1".into(),
        switchover_host_id: r.switchover_host.then(|| HOST_B.into()),
        switchover_machine: r.switchover_host.then(|| "fuzz2".into()),
        switchover_part: None,
        server_part: part.number.clone(),
        add,
        system_type: None,
        mail_connector: None,
        generated_by: "fuzz".into(),
        partner: false,
        related: (t == LicenseType::DisasterRecovery).then(|| RELATED.into()),
    })
}

fn plan_every_server_part(catalog: &Catalog) {
    let servers = catalog
        .parts()
        .filter_map(|p| p.server.as_ref().map(|s| (p, s)))
        .take(MAX_PLANNED_PARTS);
    for (part, spec) in servers {
        for &t in spec.types.iter().take(LicenseType::ALL.len()) {
            let Some(req) = request_for(catalog, &part.number, t) else {
                continue;
            };
            if let Ok(p) = plan(catalog, &req) {
                check_planned(catalog, &req, &p, false);
            }
        }
    }
}

// ---- issue request ----

/// Any bytes as an issue request (JSON with the field names of `issuer issue`). Parsing
/// must return, never panic; an accepted request survives its JSON form unchanged, its
/// machine name gives a batch output name inside the output folder or a refusal; planned
/// against the built-in catalog it must not panic, and a plan whose file is valid signs,
/// parses and verifies back to the same activation.
pub fn check_request(data: &[u8]) {
    let Ok(req) = serde_json::from_slice::<IssueRequest>(data) else {
        return;
    };
    let json = serde_json::to_vec(&req).expect("a request serialises");
    let again: IssueRequest = serde_json::from_slice(&json).expect("a written request reads");
    assert_eq!(again, req);
    check_batch_file_name(&req.machine);
    let catalog = built_in();
    if let Ok(p) = plan(catalog, &req) {
        check_planned(catalog, &req, &p, true);
    }
}

/// A batch writes each request's file as `<machine>.i3lic` in the output folder: a name it
/// accepts must be one plain path component, so no machine name can write outside the folder.
fn check_batch_file_name(machine: &str) {
    match issuer::ledger::batch_file_name(machine) {
        Ok(name) => {
            assert_eq!(name, format!("{machine}.i3lic"));
            let mut parts = Path::new(&name).components();
            assert!(
                matches!(parts.next(), Some(Component::Normal(_))),
                "{name:?}"
            );
            assert!(
                parts.next().is_none(),
                "{name:?} is more than one component"
            );
        }
        Err(IssuerError::MalformedRequest { .. }) => {}
        Err(other) => panic!("unexpected error for a machine name: {other:?}"),
    }
}

/// What a plan says must agree with the catalog and the request; its activation either
/// fails validation (then signing refuses it too) or, when `sign`, reads back unchanged.
fn check_planned(catalog: &Catalog, req: &IssueRequest, p: &Plan, sign: bool) {
    let server = catalog
        .part(&req.server_part)
        .expect("a planned server part exists");
    let spec = server
        .server
        .as_ref()
        .expect("a planned server is a server");
    assert!(spec.types.contains(&req.license_type));
    assert_eq!(p.features, spec.features);
    assert_eq!(
        req.host_id.parse::<hostid::HostId>().as_ref(),
        Ok(&p.primary.host_id)
    );
    for q in &p.consume {
        let part = catalog.part(&q.part).expect("a consumed part exists");
        assert_eq!(part.category, server.category);
        assert!(q.quantity >= 1 && q.quantity <= MAX_COUNT);
    }
    for w in p.licenses.windows(2) {
        assert!(w[0].name < w[1].name, "licenses are sorted and unique");
    }
    for l in &p.licenses {
        assert!(l.assigned <= MAX_COUNT && l.pooled <= MAX_COUNT);
    }
    let file_id: FileId = "f2000000000000000000000000000001"
        .parse()
        .expect("a file id");
    let now = Timestamp::from_unix(ISSUED_AT).expect("a time");
    let a = activation(req, p, file_id, now);
    let valid = a.validate();
    if !sign {
        return;
    }
    match format::sign(&a, fuzz_key()) {
        Ok(text) => {
            assert!(valid.is_ok());
            let read = UnverifiedFile::parse(text.as_bytes())
                .expect("a signed file parses")
                .verify(fuzz_key().public_key())
                .expect("a signed file verifies");
            assert_eq!(read.activation(), &a);
        }
        Err(_) => assert!(valid.is_err(), "sign() refused a valid activation"),
    }
}

// ---- key file ----

/// Any bytes as an issuer secret key file. Parsing must return, never panic, and refuse only
/// with a key error (or the passphrase error the check itself returns). A key read survives
/// both written forms, and its encrypted form refuses a wrong passphrase.
///
/// The passphrase is offered only when the file's argon2id costs are small, so a mutated
/// file cannot make one input take seconds; larger costs are refused by the check's prompt.
pub fn check_keyfile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.key");
    let cheap = kdf_is_cheap(text);
    let mut asked = false;
    let mut ask = || {
        asked = true;
        if cheap {
            Ok(Zeroizing::new(PASSPHRASE.to_string()))
        } else {
            Err(IssuerError::Passphrase {
                reason: "costly argon2id parameters are not tried while fuzzing".into(),
            })
        }
    };
    let result = parse_secret_key(path, text, &mut ask);
    match result {
        Ok(key) => check_key_round_trip(&key, text),
        Err(IssuerError::Passphrase { .. }) => assert!(asked && !cheap),
        Err(IssuerError::MalformedKey { .. } | IssuerError::KeyDecrypt { .. }) => {}
        Err(other) => panic!("unexpected error for a key file: {other:?}"),
    }
}

fn check_key_round_trip(key: &SecretKey, text: &str) {
    let path = Path::new("fuzz.key");
    let name: String = text.chars().take(32).collect();
    let plain = key.to_text(&name);
    let again = parse_secret_key(path, &plain, &mut || {
        panic!("a passphrase was asked for an unencrypted key")
    })
    .expect("to_text() output reads");
    assert_eq!(*again.seed(), *key.seed());
    let sealed = encrypt_secret_key(key, &name, PASSPHRASE, CHEAP_KDF).expect("a key encrypts");
    let opened = parse_secret_key(path, &sealed, &mut || {
        Ok(Zeroizing::new(PASSPHRASE.to_string()))
    })
    .expect("its own encrypted form opens");
    assert_eq!(*opened.seed(), *key.seed());
    let wrong = parse_secret_key(path, &sealed, &mut || {
        Ok(Zeroizing::new("another passphrase".to_string()))
    });
    assert!(matches!(wrong, Err(IssuerError::KeyDecrypt { .. })));
}

/// Whether the file's key line, if encrypted, asks for argon2id costs small enough to run.
fn kdf_is_cheap(text: &str) -> bool {
    let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return true;
    };
    let Some(rest) = line
        .strip_prefix(ENCRYPTED_KEY_TAG)
        .and_then(|r| r.strip_prefix(' '))
    else {
        return true;
    };
    let f: Vec<&str> = rest.split(' ').collect();
    let num = |i: usize| f.get(i).and_then(|s| s.parse::<u32>().ok());
    matches!(
        (num(2), num(3), num(4)),
        (Some(m), Some(t), Some(p)) if m <= 64 && t <= 2 && p <= 4
    )
}
