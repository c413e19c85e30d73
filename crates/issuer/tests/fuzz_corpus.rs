//! Replays every file of the fuzz corpora (`fuzz/corpus/{catalog,request,keyfile}/`) through
//! the same checks the fuzz targets run, so inputs found by fuzzing keep being tested by
//! `cargo test`. The seed files (`seed-*`) are written by the ignored test at the end:
//! `cargo test -p i3lic-issuer --test fuzz_corpus -- --ignored write_seeds`.

use std::fs;
use std::path::PathBuf;

use format::LicenseType;
use issuer::{Catalog, IssueRequest, PartQuantity};

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read corpus file");
            (p, b)
        })
        .collect()
}

/// Replays a corpus and returns how many of its files `accepted` says reach past parsing.
fn replay(target: &str, check: fn(&[u8]), accepted: impl Fn(&[u8]) -> bool) -> usize {
    let files = corpus(target);
    assert!(
        files.len() >= 10,
        "the {target} corpus has {} files",
        files.len()
    );
    let mut n = 0;
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += usize::from(accepted(bytes));
    }
    n
}

fn text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

#[test]
fn catalog_corpus_replays_without_panic() {
    let accepted = replay("catalog", checks::check_catalog, |b| {
        text(b).is_some_and(|t| Catalog::parse(t).is_ok())
    });
    assert!(accepted >= 2, "only {accepted} corpus catalogs parse");
}

#[test]
fn request_corpus_replays_without_panic() {
    let planned = replay("request", checks::check_request, |b| {
        serde_json::from_slice::<IssueRequest>(b)
            .is_ok_and(|r| issuer::rules::plan(checks::built_in(), &r).is_ok())
    });
    assert!(
        planned >= 5,
        "only {planned} corpus requests can be planned"
    );
}

#[test]
fn keyfile_corpus_replays_without_panic() {
    let opened = replay("keyfile", checks::check_keyfile, |b| {
        text(b).is_some_and(|t| {
            issuer::keys::parse_secret_key(std::path::Path::new("k"), t, &mut || {
                Ok(zeroize::Zeroizing::new(checks::PASSPHRASE.to_string()))
            })
            .is_ok()
        })
    });
    assert!(opened >= 2, "only {opened} corpus key files open");
}

#[test]
fn planned_requests_use_valid_hosts() {
    // The checks' fixed hosts must be distinct valid codes, or every planned request would
    // stop at the host-ID check.
    let a: hostid::HostId = checks::HOST_A.parse().expect("HOST_A");
    let b: hostid::HostId = checks::HOST_B.parse().expect("HOST_B");
    assert_ne!(a, b);
    let catalog = checks::built_in();
    let req = checks::request_for(catalog, "SW-001-4.0-SL03", LicenseType::Production)
        .expect("a request");
    assert!(issuer::rules::plan(catalog, &req).is_ok());
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus_dir(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
}

/// Writes the seed inputs: the built-in catalog and variants, one valid request per kind of
/// server item and the classic mistakes, and key files of both forms.
#[test]
#[ignore = "writes the fuzz seed corpus"]
fn write_seeds() {
    // Catalogs.
    let built_in = issuer::catalog::BUILT_IN;
    write("catalog", "built-in.catalog", built_in.as_bytes());
    let minimal = "license | I3_ACCESS_CLIENT | Client Access\n\
        version | P | 1.0 | features=I3_FEATURE_A,I3_FEATURE_B\n\
        server | P-SRV | P 1.0 | Server | types=production,disaster-recovery | features=* | includes=P-DEV\n\
        server | P-DEV | P 1.0 | Dev | types=development-small | features=I3_FEATURE_A | development=non-ordered | each=2\n\
        server | P-EV | P 1.0 | Eval | types=evaluation | features=* | grants=I3_ACCESS_CLIENT:5/0 | fixed\n\
        access | P-AC | P 1.0 | Client | grants=I3_ACCESS_CLIENT:1/2\n\
        upgrade | P-SRV | P-EV\n";
    write("catalog", "minimal.catalog", minimal.as_bytes());
    write(
        "catalog",
        "example-vcc.catalog",
        issuer::catalog::EXAMPLE_VCC.as_bytes(),
    );
    write(
        "catalog",
        "example-natterbox.catalog",
        issuer::catalog::EXAMPLE_NATTERBOX.as_bytes(),
    );
    // Every kind of rule record and attribute, in a catalog that loads.
    let ruled = format!(
        "{minimal}license | I3_ACCESS_B | B | holders=user\n\
         license | I3_ACCESS_C | C\n\
         license | I3_LICENSE_S | S | holders=station | methods=assignable\n\
         addon | P-B | P 1.0 | B | grants=I3_ACCESS_B:1/1,I3_ACCESS_C:1/1\n\
         addon | P-F | P 1.0 | Feature B | features=I3_FEATURE_B\n\
         access | P-S | P 1.0 | S | grants=I3_LICENSE_S:0/5\n\
         requires | I3_ACCESS_B | I3_ACCESS_C,I3_ACCESS_CLIENT\n\
         implies | I3_ACCESS_B | I3_ACCESS_C\n\
         excludes | I3_ACCESS_CLIENT,I3_LICENSE_S\n\
         needs | I3_ACCESS_B | I3_FEATURE_B\n"
    );
    Catalog::parse(&ruled).expect("the rules seed loads");
    write("catalog", "rules.catalog", ruled.as_bytes());
    let rule_variants = [
        (
            "rules-cycle",
            format!("{ruled}implies | I3_ACCESS_C | I3_ACCESS_B\n"),
        ),
        (
            "rules-implied-excluded",
            format!("{ruled}excludes | I3_ACCESS_B,I3_ACCESS_C\n"),
        ),
        (
            "rules-unknown-key",
            format!("{ruled}requires | I3_ACCESS_B | I3_ACCESS_NOPE\n"),
        ),
        (
            "rules-holder-mismatch",
            format!("{ruled}implies | I3_ACCESS_B | I3_LICENSE_S\n"),
        ),
        (
            "rules-station-concurrent",
            ruled.replace("holders=station | methods=assignable", "holders=station"),
        ),
        (
            "rules-dev-breaks",
            ruled.replace("addon | P-B", "access | P-B"),
        ),
        (
            "key-file",
            format!(
                "{ruled}{}",
                format::SecretKey::from_seed(&[0x42; 32])
                    .public_key()
                    .to_text("vendor")
            ),
        ),
    ];
    for (name, text) in rule_variants {
        write("catalog", &format!("{name}.catalog"), text.as_bytes());
    }
    let variants = [
        (
            "duplicate-part",
            format!("{minimal}access | P-AC | P 1.0 | Client | grants=I3_ACCESS_CLIENT:1/2\n"),
        ),
        ("unknown-attribute", minimal.replace("each=2", "every=2")),
        (
            "bad-include",
            minimal.replace("includes=P-DEV", "includes=P-AC"),
        ),
        (
            "unknown-upgrade",
            format!("{minimal}upgrade | P-AC | P-NONE\n"),
        ),
        ("zero-grant", minimal.replace("1/2", "0/0")),
        ("count-too-large", minimal.replace("1/2", "1/10000001")),
        (
            "unknown-category",
            minimal.replace("| P 1.0 | Client", "| Q 1.0 | Client"),
        ),
        ("crlf", minimal.replace('\n', "\r\n")),
        (
            "no-parts",
            "# only a comment\nlicense | I3_ACCESS_X | X\n".to_string(),
        ),
    ];
    for (name, text) in variants {
        write("catalog", &format!("{name}.catalog"), text.as_bytes());
    }

    // Requests against the built-in catalog.
    let catalog = checks::built_in();
    let mut n = 0;
    let mut request = |name: &str, r: &IssueRequest| {
        n += 1;
        let json = serde_json::to_vec_pretty(r).expect("json");
        write("request", &format!("{n:02}-{name}.json"), &json);
    };
    for part in catalog.parts() {
        let Some(spec) = &part.server else { continue };
        for &t in &spec.types {
            if let Some(r) = checks::request_for(catalog, &part.number, t) {
                request(&format!("{}-{}", part.number, t.as_str()), &r);
            }
        }
    }
    let base = checks::request_for(catalog, "SW-001-4.0-SL03", LicenseType::Production)
        .expect("a production request");
    let mut r = base.clone();
    r.switchover_part = Some("SW-001-4.0-SS03".into());
    r.system_type = Some("Media Server Based (4.0+ only)".into());
    r.mail_connector = Some("Microsoft Exchange Server".into());
    request("with-switchover-part", &r);
    let mut r = base.clone();
    r.switchover_host_id = Some(checks::HOST_A.into());
    request("switchover-same-host", &r);
    let mut r = base.clone();
    r.add.push(PartQuantity {
        part: "SW-001-4.0-AL02".into(),
        quantity: 0,
    });
    request("zero-quantity", &r);
    let mut r = base.clone();
    r.add = vec![PartQuantity {
        part: "SW-001-4.0-AL02".into(),
        quantity: format::MAX_COUNT,
    }];
    request("max-quantity", &r);
    let mut r = base.clone();
    r.host_id = "1Z9K8-EE16R-PK8ZV-PXR0D-E8A0C".into();
    request("host-id-typo", &r);
    let mut r = base.clone();
    r.related = Some(checks::RELATED.into());
    request("related-on-production", &r);
    let mut r = base;
    r.partner = true;
    r.generated_by = "Partner \u{e9}t\u{e9}".into();
    request("partner", &r);
    let minimal_json = br#"{"account":"A","site":"S","product":"CIC","version":"4.0","type":"trial","host_id":"1Z9K8-EE16R-PK8ZV-PXR0D-E8A0B","machine":"m","server_part":"SW-001-4.0-TR01"}"#;
    write("request", "minimal.json", minimal_json);
    write(
        "request",
        "unknown-field.json",
        br#"{"account":"A","extra":1}"#,
    );

    // Key files.
    let key = format::SecretKey::from_seed(&[0x42; 32]);
    write("keyfile", "plain.key", key.to_text("vendor").as_bytes());
    let sealed =
        issuer::keys::encrypt_secret_key(&key, "vendor", checks::PASSPHRASE, checks::CHEAP_KDF)
            .expect("encrypt");
    write("keyfile", "encrypted.key", sealed.as_bytes());
    let costly = issuer::keys::encrypt_secret_key(
        &key,
        "costly",
        checks::PASSPHRASE,
        issuer::keys::KdfParams {
            m_kib: 256,
            t: 1,
            p: 1,
        },
    )
    .expect("encrypt");
    write("keyfile", "encrypted-costly.key", costly.as_bytes());
    write(
        "keyfile",
        "public.key",
        key.public_key().to_text("vendor").as_bytes(),
    );
    write(
        "keyfile",
        "wrong-kid.key",
        sealed
            .replacen(&key.key_id().to_string(), "0000000000000000", 1)
            .as_bytes(),
    );
    write(
        "keyfile",
        "wrong-alg.key",
        sealed.replace("argon2id", "scrypt").as_bytes(),
    );
    write(
        "keyfile",
        "seven-fields.key",
        sealed.replace(" argon2id", "").as_bytes(),
    );
    write("keyfile", "empty.key", b"# nothing here\n");
    write(
        "keyfile",
        "plain-crlf.key",
        key.to_text("crlf").replace('\n', "\r\n").as_bytes(),
    );
    let two_lanes = issuer::keys::encrypt_secret_key(
        &key,
        "two lanes",
        checks::PASSPHRASE,
        issuer::keys::KdfParams {
            m_kib: 16,
            t: 2,
            p: 2,
        },
    )
    .expect("encrypt");
    write("keyfile", "encrypted-two-lanes.key", two_lanes.as_bytes());
}
