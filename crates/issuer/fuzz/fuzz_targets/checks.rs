//! The checks each fuzz input goes through. Shared by the fuzz targets and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

// Each fuzz target uses some of the checks; the replay test uses the constants too.
#![allow(dead_code)]

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Component, Path};
use std::sync::OnceLock;

use format::{FileId, LicenseType, SecretKey, Timestamp, UnverifiedFile, MAX_COUNT};
use issuer::catalog::{Development, Part, PartKind};
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
/// that exists and quotes no long run of any line (a key file given as a catalog is named as
/// such); an accepted catalog is consistent (every reference resolves), its rules pass the
/// format's checks whole and cut to any set of keys, and every server part of it can be
/// planned into a file without a panic, the plan carrying the rules of its keys.
pub fn check_catalog(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Catalog::parse(text) {
        Ok(catalog) => {
            assert!(
                !text.lines().any(is_key_line),
                "a key file was accepted as a catalog"
            );
            check_consistent(&catalog);
            check_rules(&catalog);
            plan_every_server_part(&catalog);
        }
        Err(e) => check_catalog_error(text, &e),
    }
}

/// Whether a line is the key line of a key file (a tag family of `issuer keygen`'s files).
fn is_key_line(line: &str) -> bool {
    let t = line.trim_start();
    [
        "i3lic-public-key-",
        "i3lic-secret-key-",
        "i3lic-encrypted-secret-key-",
    ]
    .iter()
    .any(|f| t.starts_with(f))
}

/// Runs of a line an error message may not repeat: this long, unless made mostly of the
/// characters of a license-key name (names are quoted whole; a key's base64 is not one),
/// holding a character that escaping changes, or of the grammar the shipped catalogs document.
const ECHO_LIMIT: usize = 64;

fn check_catalog_error(text: &str, e: &CatalogError) {
    let lines = text.lines().count();
    if let Some(line) = e.line() {
        assert!((1..=lines).contains(&line), "{e}: no such line");
    }
    if let CatalogError::Duplicate {
        line, first_line, ..
    } = e
    {
        assert!(first_line <= line, "{e}");
    }
    if text.lines().any(is_key_line) {
        assert!(
            matches!(e, CatalogError::KeyFile { .. }),
            "a key file refused as {e:?}"
        );
    }
    let msg = e.to_string();
    assert!(!msg.is_empty());
    // Windows are compared by hash: comparing the texts themselves would hand the message to
    // libFuzzer's comparison tracing, which then writes it into the input.
    let w = ECHO_LIMIT - 16;
    let hash = |s: &[char]| {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    };
    let mut said: HashSet<u64> = HashSet::new();
    for said_text in [msg, format!("{e:?}")] {
        let chars: Vec<char> = said_text.chars().collect();
        said.extend(chars.windows(w).map(hash));
    }
    // The shipped catalogs' comments spell out the grammar the messages also spell out; a
    // line made of that text is not an echo of the input.
    static DOCUMENTED: OnceLock<HashSet<u64>> = OnceLock::new();
    let documented = DOCUMENTED.get_or_init(|| {
        let mut set = HashSet::new();
        for doc in [
            issuer::catalog::BUILT_IN,
            issuer::catalog::EXAMPLE_VCC,
            issuer::catalog::EXAMPLE_NATTERBOX,
        ] {
            for l in doc.lines() {
                let chars: Vec<char> = l.chars().collect();
                set.extend(chars.windows(ECHO_LIMIT - 16).map(|c| {
                    let mut h = DefaultHasher::new();
                    c.hash(&mut h);
                    h.finish()
                }));
            }
        }
        set
    });
    // What an error quotes comes from the line it names (names of other lines are key
    // names): that line's windows are checked.
    let Some(l) = e.line().and_then(|n| text.lines().nth(n - 1)) else {
        return;
    };
    let chars: Vec<char> = l.chars().collect();
    // Every run of ECHO_LIMIT characters holds a window of ECHO_LIMIT - 16 starting at a
    // multiple of 16: checking those is enough.
    for window in chars.windows(w).step_by(16) {
        let h = hash(window);
        if !said.contains(&h) {
            continue;
        }
        // Key names are quoted whole (up to 128 bytes), next to a space or a quote of the
        // message: a run that is mostly name characters is one of them.
        let other = window
            .iter()
            .filter(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || **c == '_'))
            .count();
        let name_like = other < w / 4;
        // Excerpts are escaped: a run holding characters that escaping changes (a line of
        // backslashes) can match its own escaped excerpt. A run without any can only be
        // longer than an excerpt if the input repeats the message's own text.
        let escapable = window.iter().any(|c| c.escape_debug().len() != 1);
        assert!(
            name_like || escapable || documented.contains(&h),
            "{e}: the message repeats {w} characters of line {}",
            e.line().unwrap_or(0)
        );
    }
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
        for f in &part.features {
            assert!(
                pv.features.contains(f),
                "{f} is not a feature of the version"
            );
            assert_eq!(part.kind, PartKind::Addon);
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
                assert!(!part.grants.is_empty() || !part.features.is_empty());
            }
        }
    }
    assert!(parts > 0, "an accepted catalog has parts");
    for (from, to) in catalog.upgrades() {
        assert!(catalog.part(from).is_some() && catalog.part(to).is_some());
        assert_eq!(catalog.upgrade_of(from), Some(to));
    }
    for l in catalog.licenses() {
        assert!(format::is_key_name(&l.key));
        assert!(
            !catalog.has_feature(&l.key),
            "{} is a key and a feature",
            l.key
        );
        assert!(!l.holders.is_empty() && !l.methods.is_empty());
    }
}

/// The catalog's rules: every name resolves, the whole set and any cut of it pass
/// `Rules::validate`, the cut is the same whatever the order (and repeats) of the keys given,
/// and a file a development or fixed server part always makes keeps the rules.
fn check_rules(catalog: &Catalog) {
    let all = catalog.rules();
    let rules = all.to_rules();
    rules.validate().expect("the catalog's rules validate");
    for k in rules.keys_named() {
        assert!(catalog.license(k).is_some(), "{k} is not declared");
    }
    for n in &all.needs {
        for name in std::iter::once(&n.rule.key).chain(&n.rule.any_of) {
            assert!(catalog.license(name).is_some() || catalog.has_feature(name));
        }
    }
    let keys: Vec<&str> = catalog.licenses().map(|l| l.key.as_str()).collect();
    let whole = catalog.rules_for(keys.iter().copied());
    whole.validate().expect("rules_for(every key) validates");
    // Every key granted: nothing is cut, so the per-holder rules are the catalog's own.
    assert_eq!(whole.requires, rules.requires);
    assert_eq!(whole.implies, rules.implies);
    assert_eq!(whole.excludes, rules.excludes);
    assert_eq!(whole.keys, rules.keys);
    // Cuts: every other key, and each part's keys, given backwards and twice.
    let half: Vec<&str> = keys.iter().copied().step_by(2).collect();
    let cuts = std::iter::once(half).chain(
        catalog
            .parts()
            .take(16)
            .map(|p| p.grants.iter().map(|g| g.key.as_str()).collect()),
    );
    for cut in cuts {
        let r = catalog.rules_for(cut.iter().copied());
        r.validate().expect("rules_for(some keys) validates");
        let backwards = catalog.rules_for(cut.iter().rev().chain(cut.iter()).copied());
        assert_eq!(r, backwards, "rules_for depends on the order of the keys");
        for k in r.keys_named() {
            assert!(catalog.license(k).is_some());
        }
        for k in &r.keys {
            assert!(cut.contains(&k.key.as_str()));
        }
        for e in &r.excludes {
            assert!(e.keys.len() >= 2 && e.keys.iter().all(|k| cut.contains(&k.as_str())));
        }
    }
    for part in catalog.parts() {
        let Some(spec) = &part.server else { continue };
        if !spec.takes_no_add_ons() {
            continue;
        }
        let licenses: Vec<format::LicenseCount> = catalog
            .file_counts(part, &[])
            .into_iter()
            .map(|(name, (a, p))| format::LicenseCount {
                name,
                assigned: u32::try_from(a).unwrap_or(u32::MAX),
                pooled: u32::try_from(p).unwrap_or(u32::MAX),
            })
            .collect();
        let features = catalog.file_features(part, &[]);
        assert_eq!(
            catalog.check_counts(&licenses, &features),
            Ok(()),
            "{} breaks a rule",
            part.number
        );
    }
}

/// Up to four add-on items of `category`, one unit each, that keep the file of `server`
/// within the catalog's rules (items that would break one are skipped; at most sixteen are
/// tried).
fn items_within_rules<'c>(catalog: &'c Catalog, server: &'c Part) -> Vec<&'c Part> {
    let mut chosen: Vec<&Part> = Vec::new();
    let candidates = catalog
        .parts()
        .filter(|p| p.category == server.category && p.server.is_none())
        .take(16);
    for p in candidates {
        if chosen.len() == 4 {
            break;
        }
        let mut with: Vec<(&Part, u32)> = chosen.iter().map(|c| (*c, 1)).collect();
        with.push((p, 1));
        let licenses: Vec<format::LicenseCount> = catalog
            .file_counts(server, &with)
            .into_iter()
            .map(|(name, (a, q))| format::LicenseCount {
                name,
                assigned: u32::try_from(a).unwrap_or(u32::MAX),
                pooled: u32::try_from(q).unwrap_or(u32::MAX),
            })
            .collect();
        if catalog
            .check_counts(&licenses, &catalog.file_features(server, &with))
            .is_ok()
        {
            chosen.push(p);
        }
    }
    chosen
}

/// A request for `server` as `t` that satisfies the type's rules as far as the request can:
/// a switchover host where the type takes one, the related file for disaster recovery, and
/// one unit of up to four items of the category where add-ons are allowed (chosen to keep
/// the catalog's license rules).
pub fn request_for(catalog: &Catalog, server: &str, t: LicenseType) -> Option<IssueRequest> {
    let part = catalog.part(server)?;
    let spec = part.server.as_ref()?;
    let r = rule(t);
    let add = if spec.fixed || !r.add_ons {
        Vec::new()
    } else {
        items_within_rules(catalog, part)
            .into_iter()
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
            match plan(catalog, &req) {
                Ok(p) => check_planned(catalog, &req, &p, false),
                // Items were chosen to keep the rules: a plan never breaks one.
                Err(e @ IssuerError::RuleViolated { .. }) => {
                    panic!("{}: {e}", part.number)
                }
                Err(_) => {}
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
        .lookup_part(&req.server_part)
        .expect("a planned server part exists");
    let spec = server
        .server
        .as_ref()
        .expect("a planned server is a server");
    assert!(spec.types.contains(&req.license_type));
    let adds: Vec<(&Part, u32)> = req
        .add
        .iter()
        .map(|a| {
            (
                catalog
                    .lookup_part(&a.part)
                    .expect("a planned item exists (parts are matched without case)"),
                a.quantity,
            )
        })
        .collect();
    assert_eq!(p.features, catalog.file_features(server, &adds));
    // The file keeps the catalog's rules and carries those of its keys.
    assert_eq!(catalog.check_counts(&p.licenses, &p.features), Ok(()));
    assert_eq!(
        p.rules,
        catalog.rules_for(p.licenses.iter().map(|l| l.name.as_str()))
    );
    p.rules.validate().expect("a plan's rules validate");
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
