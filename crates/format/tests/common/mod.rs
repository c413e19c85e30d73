//! Shared by the integration tests: the fixed test keys, the sample activation, and the
//! generator of the committed test vectors under `tests/vectors/`.
//!
//! Everything here is deterministic (fixed seeds, fixed ids and times; ed25519 signatures are
//! deterministic), so regenerating the vectors gives byte-identical files.
#![allow(dead_code)]

use std::path::PathBuf;

use format::{
    sign, sign_payload_text_as, sign_v1, sign_v2, Activation, Chain, Excludes, FileId, FormatError,
    FormatVersion, Holder, Host, Implies, KeyRule, LicenseCount, LicenseType, Method, OrderedItem,
    Requires, Restriction, Rules, SecretKey, Timestamp, MAX_FILE_SIZE,
};
use hostid::{Components, HostId};

/// The folder holding the committed vectors of a format version: `tests/vectors` (version
/// 1) and `tests/vectors-v2`.
pub fn vectors_dir(version: FormatVersion) -> PathBuf {
    let dir = match version {
        FormatVersion::V1 => "tests/vectors",
        FormatVersion::V2 => "tests/vectors-v2",
        FormatVersion::V3 => "tests/vectors-v3",
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
}

/// Every version, oldest first.
pub const VERSIONS: [FormatVersion; 3] = [FormatVersion::V1, FormatVersion::V2, FormatVersion::V3];

/// Sign as a file of `version`.
pub fn sign_for(version: FormatVersion, a: &Activation, key: &SecretKey) -> String {
    match version {
        FormatVersion::V1 => sign_v1(a, key),
        FormatVersion::V2 => sign_v2(a, key),
        FormatVersion::V3 => sign(a, key),
    }
    .expect("sample signs")
}

/// Test key A (trusted). Its seed is public: test use only.
pub fn key_a() -> SecretKey {
    SecretKey::from_seed(&[0xa1; 32])
}

/// Test key B (trusted too, as after a key rotation).
pub fn key_b() -> SecretKey {
    SecretKey::from_seed(&[0xb2; 32])
}

/// Test key C (never trusted).
pub fn key_c() -> SecretKey {
    SecretKey::from_seed(&[0xc3; 32])
}

/// A host-ID code built from fixed component values.
pub fn host(machine_id: &str, mac_last: u8) -> HostId {
    HostId::from_components(&Components {
        machine_id: Some(machine_id.into()),
        dmi_uuid: Some(format!("4C4C4544-004B-4B10-804B-B4C04F4D37{mac_last:02X}")),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, mac_last]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    })
    .expect("fixed components make a valid code")
}

fn ts(s: &str) -> Timestamp {
    s.parse().expect("fixed timestamp")
}

/// The sample activation every vector of `version` is built from.
pub fn sample_for(version: FormatVersion) -> Activation {
    match version {
        FormatVersion::V1 => sample(),
        FormatVersion::V2 => sample_v2(),
        FormatVersion::V3 => sample_v3(),
    }
}

/// The install key of the version-3 sample's primary host (a fixed seed: test use only).
pub fn install_key() -> SecretKey {
    SecretKey::from_seed(&[0xd4; 32])
}

/// The install key's text in a file (64 lower-case hex digits).
pub fn install_key_hex() -> String {
    format::install_key::to_hex(install_key().public_key())
}

/// The version-3 sample: the version-2 sample whose primary host binds an install key (the
/// switchover host binds none).
pub fn sample_v3() -> Activation {
    let mut a = sample_v2();
    a.primary_host.install_key = Some(install_key().public_key().clone());
    a
}

/// The version-2 sample: the version-1 sample as generation 3 of a lineage, with rules.
pub fn sample_v2() -> Activation {
    let mut a = sample();
    a.chain = Some(Chain {
        lineage: FileId([
            0x31, 0x7c, 0x2a, 0x90, 0x0e, 0x5b, 0x44, 0xd8, 0x9a, 0x12, 0x6f, 0x03, 0xbe, 0x77,
            0x21, 0xc4,
        ]),
        generation: 3,
    });
    a.rules = Rules {
        keys: vec![KeyRule {
            key: "I3_LICENSE_BASIC_STATION".into(),
            holders: vec![Holder::Station],
            methods: vec![Method::Assignable],
        }],
        requires: vec![Requires {
            key: "I3_ACCESS_ACD_AGENT".into(),
            any_of: vec!["I3_ACCESS_CLIENT".into()],
        }],
        implies: vec![Implies {
            key: "I3_ACCESS_ACD_AGENT".into(),
            implied: "I3_ACCESS_CLIENT".into(),
        }],
        excludes: vec![Excludes {
            keys: vec![
                "I3_ACCESS_ACD_MEDIA_1".into(),
                "I3_ACCESS_ACD_MEDIA_2".into(),
            ],
        }],
    };
    a
}

/// The version-1 sample activation: every field carries a value, so each can be changed on
/// its own.
pub fn sample() -> Activation {
    Activation {
        file_id: FileId([
            0x5e, 0x1f, 0x0c, 0x2b, 0x7d, 0x9a, 0x44, 0x10, 0x86, 0x3f, 0xe2, 0x51, 0x0b, 0xc4,
            0x97, 0x28,
        ]),
        supersedes: Some(FileId([
            0x9d, 0x40, 0x71, 0xaa, 0x13, 0x6e, 0x2c, 0x05, 0xf8, 0x31, 0x5b, 0x62, 0xd7, 0x0e,
            0x84, 0x39,
        ])),
        chain: None,
        product: "CIC".into(),
        product_version: "4.0".into(),
        license_type: LicenseType::Production,
        issued_at: ts("2018-08-30T14:05:09Z"),
        valid_from: ts("2018-08-30T00:00:00Z"),
        expires_at: Timestamp::PERPETUAL,
        grace_days: 30,
        generated_by: "Work Test80".into(),
        sold_to: "Genesys Customer Care Platform".into(),
        install_site: "Test Install Site".into(),
        primary_host: Host {
            host_id: host("0f1e2d3c4b5a69788796a5b4c3d2e1f0", 0x5c),
            machine: "testing".into(),
            install_key: None,
        },
        switchover_host: Some(Host {
            host_id: host("a0b1c2d3e4f5061728394a5b6c7d8e9f", 0x7e),
            machine: "testing-backup".into(),
            install_key: None,
        }),
        system_type: "Media Server Based (4.0+ only)".into(),
        mail_connector: "Microsoft Exchange Server".into(),
        bundle: "CIC 4.0 Production Bundle".into(),
        description: "Used in production settings.".into(),
        features: vec![
            "I3_FEATURE_ACD".into(),
            "I3_FEATURE_SIP".into(),
            "I3_FEATURE_RECORDER".into(),
        ],
        licenses: vec![
            LicenseCount {
                name: "I3_ACCESS_CLIENT".into(),
                assigned: 170,
                pooled: 0,
            },
            LicenseCount {
                name: "I3_ACCESS_ACD_AGENT".into(),
                assigned: 25,
                pooled: 40,
            },
            LicenseCount {
                name: "I3_LICENSE_BASIC_STATION".into(),
                assigned: 12,
                pooled: 3,
            },
        ],
        ordered_items: vec![
            OrderedItem {
                part: "SW-001-4.0-AL02".into(),
                description: "Business Client".into(),
                quantity: 50,
            },
            OrderedItem {
                part: "SW-011-4.0-SV01".into(),
                description: "CIC Server".into(),
                quantity: 1,
            },
        ],
        restrictions: vec![Restriction::NotForProduction],
        rules: Rules::default(),
    }
}

/// A typical larger version-2 file: `licenses` license keys and two hosts.
pub fn typical(licenses: usize) -> Activation {
    let mut a = sample_v2();
    a.licenses = (0..licenses)
        .map(|i| LicenseCount {
            name: format!("I3_ACCESS_MODULE_{i:03}"),
            assigned: 10 + i as u32,
            pooled: (i as u32 * 7) % 50,
        })
        .collect();
    a
}

/// One vector: its name, its bytes (None when the test makes them from a recipe), the
/// expected outcome and a note.
pub struct Vector {
    pub name: String,
    pub bytes: Option<Vec<u8>>,
    pub expect: String,
    pub note: String,
    /// Extra `key: value` lines of the `.expect` file (the recipe of a generated input).
    pub extra: Vec<(String, String)>,
}

impl Vector {
    fn file(name: &str, bytes: impl Into<Vec<u8>>, expect: &str, note: &str) -> Vector {
        Vector {
            name: name.into(),
            bytes: Some(bytes.into()),
            expect: expect.into(),
            note: note.into(),
            extra: vec![],
        }
    }

    /// The text of the `.expect` companion file.
    pub fn expect_text(&self) -> String {
        let mut s = format!(
            "expect: {}\nexit: {}\nnote: {}\n",
            self.expect,
            exit_code_of(&self.expect),
            self.note
        );
        for (k, v) in &self.extra {
            s.push_str(&format!("{k}: {v}\n"));
        }
        s
    }
}

/// Replace exactly one occurrence of `from` (it must occur exactly once).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "'{from}' must occur exactly once in the sample"
    );
    text.replacen(from, to, 1)
}

/// The JSON payload of a signed file (the lines between the headers and the signature).
pub fn payload_of(text: &str) -> String {
    let start = text.find("\n{\n").expect("payload start") + 1;
    let end = text
        .find(format::SIGNATURE_MARKER)
        .expect("signature marker");
    text[start..end].to_owned()
}

/// The base64 signature line of a signed file.
pub fn signature_line(text: &str) -> &str {
    let start = text
        .find(format::SIGNATURE_MARKER)
        .expect("signature marker")
        + format::SIGNATURE_MARKER.len()
        + 1;
    let end = text[start..].find('\n').expect("signature line end") + start;
    &text[start..end]
}

/// Every vector of `version`, in a fixed order.
pub fn vectors(version: FormatVersion) -> Vec<Vector> {
    let a = key_a();
    let b = key_b();
    let c = key_c();
    let model = sample_for(version);
    let sign = |m: &Activation, k: &SecretKey| -> Result<String, FormatError> {
        Ok(sign_for(version, m, k))
    };
    let format_line = format!("Format: {}", version.as_str());
    let valid = sign(&model, &a).expect("sample signs");
    let json = payload_of(&valid);
    let mut v = Vec::new();

    // ---- accepted ----
    v.push(Vector::file(
        "valid",
        valid.clone(),
        "ok",
        match version {
            FormatVersion::V1 => "the sample, as written by sign_v1()",
            FormatVersion::V2 => "the sample, as written by sign_v2()",
            FormatVersion::V3 => "the sample, as written by sign()",
        },
    ));
    v.push(Vector::file(
        "valid-crlf",
        valid.replace('\n', "\r\n"),
        "ok",
        "every LF converted to CRLF",
    ));
    let blanks: String = valid
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l}{}\n", [" ", "\t", "  \t ", ""][i % 4]))
        .collect();
    v.push(Vector::file(
        "valid-trailing-blanks",
        blanks,
        "ok",
        "spaces and tabs added at the end of lines",
    ));
    v.push(Vector::file(
        "valid-bom",
        format!("\u{feff}{valid}"),
        "ok",
        "a UTF-8 byte-order mark in front",
    ));
    let mangled: String = format!(
        "\u{feff}\r\n\r\n{}\r\n \r\n",
        valid
            .lines()
            .map(|l| format!("{l} \t"))
            .collect::<Vec<_>>()
            .join("\r\n")
    );
    v.push(Vector::file(
        "valid-editor-mangled",
        mangled,
        "ok",
        "byte-order mark, CRLF, trailing blanks, blank lines before and after",
    ));
    v.push(Vector::file(
        "valid-no-final-newline",
        valid.trim_end_matches('\n'),
        "ok",
        "the final line ending removed",
    ));
    let sig = signature_line(&valid).to_owned();
    v.push(Vector::file(
        "valid-signature-wrapped",
        replace_once(&valid, &sig, &format!("{}\n{}", &sig[..44], &sig[44..])),
        "ok",
        "the base64 signature wrapped over two lines",
    ));
    v.push(Vector::file(
        "valid-key-b",
        sign(&model, &b).expect("sample signs"),
        "ok",
        "signed by the second trusted key (key rotation)",
    ));

    // ---- each signed value changed after signing ----
    let mut changes: Vec<(&str, &str, &str)> = vec![
        ("file-id", "\"file_id\": \"5e1f", "\"file_id\": \"5e1e"),
        (
            "supersedes",
            "\"supersedes\": \"9d40",
            "\"supersedes\": \"9d41",
        ),
        ("product", "\"product\": \"CIC\"", "\"product\": \"CIX\""),
        (
            "product-version",
            "\"product_version\": \"4.0\"",
            "\"product_version\": \"4.1\"",
        ),
        (
            "license-type",
            "\"license_type\": \"production\"",
            "\"license_type\": \"switchover\"",
        ),
        (
            "issued-at",
            "\"issued_at\": \"2018-08-30T14",
            "\"issued_at\": \"2018-08-30T15",
        ),
        (
            "valid-from",
            "\"valid_from\": \"2018-08-30T",
            "\"valid_from\": \"2018-08-29T",
        ),
        (
            "expires-at",
            "\"expires_at\": \"2100",
            "\"expires_at\": \"2101",
        ),
        ("grace-days", "\"grace_days\": 30", "\"grace_days\": 90"),
        (
            "generated-by",
            "\"generated_by\": \"Work Test80\"",
            "\"generated_by\": \"Work Test81\"",
        ),
        (
            "sold-to",
            "\"sold_to\": \"Genesys",
            "\"sold_to\": \"Genesis",
        ),
        (
            "install-site",
            "\"install_site\": \"Test",
            "\"install_site\": \"Best",
        ),
        (
            "primary-host-id",
            "primary_host\": {\n    \"host_id\": \"1",
            "primary_host\": {\n    \"host_id\": \"2",
        ),
        (
            "primary-host-machine",
            "\"machine\": \"testing\"\n",
            "\"machine\": \"testinh\"\n",
        ),
        (
            "switchover-host-id",
            "switchover_host\": {\n    \"host_id\": \"1",
            "switchover_host\": {\n    \"host_id\": \"2",
        ),
        (
            "switchover-host-machine",
            "\"machine\": \"testing-backup\"",
            "\"machine\": \"testing-backuq\"",
        ),
        (
            "system-type",
            "\"system_type\": \"Media",
            "\"system_type\": \"Medja",
        ),
        (
            "mail-connector",
            "\"mail_connector\": \"Microsoft",
            "\"mail_connector\": \"Macrosoft",
        ),
        ("bundle", "\"bundle\": \"CIC 4.0", "\"bundle\": \"CIC 4.1"),
        (
            "description",
            "\"description\": \"Used in",
            "\"description\": \"Usable in",
        ),
        (
            "feature-renamed",
            "\"I3_FEATURE_SIP\"",
            "\"I3_FEATURE_SIQ\"",
        ),
        (
            "feature-added",
            "\"I3_FEATURE_RECORDER\"",
            "\"I3_FEATURE_RECORDER\",\n    \"I3_FEATURE_DIALER\"",
        ),
        (
            "license-name",
            "\"name\": \"I3_ACCESS_CLIENT\"",
            "\"name\": \"I3_ACCESS_CLIENS\"",
        ),
        ("license-assigned", "\"assigned\": 170", "\"assigned\": 970"),
        ("license-pooled", "\"pooled\": 40", "\"pooled\": 400"),
        (
            "ordered-item-part",
            "\"part\": \"SW-001",
            "\"part\": \"SW-002",
        ),
        (
            "ordered-item-description",
            "\"description\": \"Business Client\"",
            "\"description\": \"Business Clients\"",
        ),
        (
            "ordered-item-quantity",
            "\"quantity\": 50",
            "\"quantity\": 500",
        ),
        (
            "restrictions",
            "\"not-for-production\"",
            "\"hourly-disconnect\"",
        ),
    ];
    if version == FormatVersion::V3 {
        changes.push((
            "install-key",
            "\"install_key\": \"ed32",
            "\"install_key\": \"ed33",
        ));
    }
    if version != FormatVersion::V1 {
        changes.extend([
            ("lineage", "\"lineage\": \"317c", "\"lineage\": \"317d"),
            ("generation", "\"generation\": 3", "\"generation\": 4"),
            (
                "rules-holder",
                "\"holders\": [\n          \"station\"",
                "\"holders\": [\n          \"user\"",
            ),
            (
                "rules-requires",
                "\"any_of\": [\n          \"I3_ACCESS_CLIENT\"",
                "\"any_of\": [\n          \"I3_ACCESS_CLIENS\"",
            ),
        ]);
    }
    for (name, from, to) in changes {
        v.push(Vector::file(
            &format!("changed-{name}"),
            replace_once(&valid, from, to),
            "SignatureInvalid",
            &format!(
                "a signed value changed after signing: {}",
                to.replace('\n', " ")
            ),
        ));
    }
    v.push(Vector::file(
        "changed-restriction-removed",
        replace_once(&valid, "[\n    \"not-for-production\"\n  ]", "[]"),
        "SignatureInvalid",
        "a restriction removed after signing",
    ));
    v.push(Vector::file(
        "changed-payload-reindented",
        replace_once(&valid, "\n  \"product\"", "\n    \"product\""),
        "SignatureInvalid",
        "leading blanks are signed: the payload is never re-encoded",
    ));
    v.push(Vector::file(
        "changed-blank-line-inserted",
        replace_once(&valid, "\n  \"product\"", "\n\n  \"product\""),
        "SignatureInvalid",
        "blank lines inside the signed region are signed",
    ));
    v.push(Vector::file(
        "changed-key-id-swapped",
        replace_once(
            &valid,
            &format!("Key-Id: {}", a.key_id()),
            &format!("Key-Id: {}", b.key_id()),
        ),
        "SignatureInvalid",
        "the Key-Id header names the other trusted key",
    ));
    v.push(Vector::file(
        "changed-key-id-untrusted",
        replace_once(
            &valid,
            &format!("Key-Id: {}", a.key_id()),
            &format!("Key-Id: {}", c.key_id()),
        ),
        "UntrustedKey",
        "the Key-Id header names a key that is not trusted",
    ));

    // ---- signatures ----
    let by_b_claiming_a = {
        let parsed = format::UnverifiedFile::parse(valid.as_bytes()).expect("valid parses");
        let forged = b.sign(parsed.signed_bytes());
        replace_once(&valid, &sig, &base64_encode(&forged))
    };
    v.push(Vector::file(
        "signed-by-other-key",
        by_b_claiming_a,
        "SignatureInvalid",
        "the signed bytes name key A, but key B made the signature",
    ));
    v.push(Vector::file(
        "signed-by-untrusted-key",
        sign(&model, &c).expect("sample signs"),
        "UntrustedKey",
        "properly signed by a key the trust store does not hold",
    ));
    v.push(Vector::file(
        "signature-malleated",
        replace_once(
            &valid,
            &sig,
            &base64_encode(&malleate(&base64_decode(&sig))),
        ),
        "SignatureInvalid",
        "S replaced by S + L (accepted by lax ed25519 checks, refused by verify_strict)",
    ));
    v.push(Vector::file(
        "signature-bad-base64",
        replace_once(&valid, &sig, &sig.replace(&sig[..4], "!!!!")),
        "MalformedSignature",
        "the signature block is not base64",
    ));
    v.push(Vector::file(
        "signature-short",
        replace_once(&valid, &sig, &base64_encode(&base64_decode(&sig)[..63])),
        "MalformedSignature",
        "the signature decodes to 63 bytes",
    ));

    // ---- damaged files ----
    let half = valid.len() / 2;
    v.push(Vector::file(
        "truncated-payload",
        &valid.as_bytes()[..half],
        "Truncated",
        "cut in the middle of the payload",
    ));
    let sig_mid = valid.find(&sig).expect("signature") + 40;
    v.push(Vector::file(
        "truncated-signature",
        &valid.as_bytes()[..sig_mid],
        "Truncated",
        "cut in the middle of the signature",
    ));
    v.push(Vector::file(
        "truncated-end-marker",
        &valid.as_bytes()[..valid.len() - 10],
        "Truncated",
        "cut in the middle of the end marker",
    ));
    v.push(Vector::file(
        "truncated-begin-marker",
        &valid.as_bytes()[..20],
        "Truncated",
        "cut in the middle of the begin marker",
    ));
    let kid_mid = valid.find("Key-Id: ").expect("key id") + 12;
    v.push(Vector::file(
        "truncated-key-id",
        &valid.as_bytes()[..kid_mid],
        "Truncated",
        "cut in the middle of the Key-Id header",
    ));
    v.push(Vector::file("empty", "", "Empty", "zero bytes"));
    v.push(Vector::file(
        "blank",
        " \r\n\n\t\n",
        "Empty",
        "only blank lines",
    ));
    v.push(Vector {
        name: "too-large".into(),
        bytes: None,
        expect: "TooLarge".into(),
        note: format!(
            "valid.i3lic followed by LF bytes up to {} bytes (1 MiB + 1), made by the test",
            MAX_FILE_SIZE + 1
        ),
        extra: vec![
            ("source".into(), "valid.i3lic".into()),
            ("pad-to".into(), (MAX_FILE_SIZE + 1).to_string()),
        ],
    });
    v.push(Vector {
        name: "at-size-limit".into(),
        bytes: None,
        expect: "ok".into(),
        note: format!(
            "valid.i3lic followed by LF bytes up to exactly {MAX_FILE_SIZE} bytes (1 MiB), made by the test"
        ),
        extra: vec![
            ("source".into(), "valid.i3lic".into()),
            ("pad-to".into(), MAX_FILE_SIZE.to_string()),
        ],
    });
    v.push(Vector::file(
        "unknown-version",
        replace_once(&valid, &format_line, "Format: i3lic-activation/4"),
        "UnsupportedVersion",
        "a format version this build does not read",
    ));
    v.push(Vector::file(
        "not-a-format",
        replace_once(&valid, &format_line, "Format: other/1"),
        "MalformedHeader",
        "the Format header names something else",
    ));
    v.push(Vector::file(
        "malformed-key-id",
        replace_once(
            &valid,
            &format!("Key-Id: {}", a.key_id()),
            &format!("Key-Id: {}", a.key_id().to_string().to_uppercase()),
        ),
        "MalformedHeader",
        "the key id in upper case (only lower-case hex is written or read)",
    ));
    let mut not_utf8 = valid.clone().into_bytes();
    let at = valid.find("Genesys").expect("sold_to");
    not_utf8[at + 1] = 0xff;
    v.push(Vector::file(
        "not-utf8",
        not_utf8,
        "NotUtf8",
        "one byte of the payload replaced by 0xFF",
    ));
    let mut latin1 = valid.clone().into_bytes();
    latin1.splice(at..at + 1, [0xc9u8]);
    v.push(Vector::file(
        "not-utf8-latin1",
        latin1,
        "NotUtf8",
        "a Latin-1 byte (0xC9) as a text editor with the wrong encoding would write it",
    ));

    // ---- sections ----
    let sig_block = format!("{}\n{sig}\n", format::SIGNATURE_MARKER);
    v.push(Vector::file(
        "missing-begin-marker",
        replace_once(&valid, &format!("{}\n", format::BEGIN_MARKER), ""),
        "MissingSection",
        "no begin marker",
    ));
    v.push(Vector::file(
        "missing-format-header",
        replace_once(&valid, &format!("{format_line}\n"), ""),
        "MissingSection",
        "no Format header",
    ));
    v.push(Vector::file(
        "missing-key-id-header",
        replace_once(&valid, &format!("Key-Id: {}\n", a.key_id()), ""),
        "MissingSection",
        "no Key-Id header",
    ));
    v.push(Vector::file(
        "missing-payload",
        replace_once(&valid, &json, ""),
        "MissingSection",
        "no payload between the headers and the signature",
    ));
    v.push(Vector::file(
        "missing-signature-block",
        replace_once(&valid, &sig_block, ""),
        "MissingSection",
        "no signature marker and signature",
    ));
    v.push(Vector::file(
        "missing-signature",
        replace_once(&valid, &format!("{sig}\n"), ""),
        "MissingSection",
        "a signature marker with no signature under it",
    ));
    v.push(Vector::file(
        "duplicate-key-id-header",
        replace_once(
            &valid,
            &format!("Key-Id: {}\n", a.key_id()),
            &format!("Key-Id: {0}\nKey-Id: {0}\n", a.key_id()),
        ),
        "DuplicateSection",
        "the Key-Id header twice",
    ));
    v.push(Vector::file(
        "duplicate-format-header",
        replace_once(
            &valid,
            &format!("{format_line}\n"),
            &format!("{format_line}\n{format_line}\n"),
        ),
        "DuplicateSection",
        "the Format header twice",
    ));
    v.push(Vector::file(
        "duplicate-signature-block",
        replace_once(&valid, &sig_block, &format!("{sig_block}{sig_block}")),
        "DuplicateSection",
        "the signature block twice",
    ));
    v.push(Vector::file(
        "duplicate-file",
        format!("{valid}{valid}"),
        "DuplicateSection",
        "two files one after the other",
    ));
    v.push(Vector::file(
        "text-after-end",
        format!("{valid}Thanks for your order!\n"),
        "UnexpectedLine",
        "unsigned text after the end marker",
    ));
    v.push(Vector::file(
        "text-before-begin",
        format!("Thanks for your order!\n{valid}"),
        "MissingSection",
        "unsigned text before the begin marker",
    ));

    // ---- properly signed payloads that the version refuses ----
    let signed = |payload: &str| sign_payload_text_as(payload, &a, version);
    v.push(Vector::file(
        "unknown-field",
        signed(&replace_once(
            &json,
            "\n  \"product\"",
            "\n  \"seats\": 1000,\n  \"product\"",
        )),
        "UnknownField",
        "a properly signed payload with a field the version does not define",
    ));
    v.push(Vector::file(
        "unknown-field-nested",
        signed(&replace_once(
            &json,
            "\"machine\": \"testing\"\n",
            "\"machine\": \"testing\",\n    \"ip\": \"10.0.0.1\"\n",
        )),
        "UnknownField",
        "a properly signed payload with an unknown field inside primary_host",
    ));
    v.push(Vector::file(
        "duplicate-field",
        signed(&replace_once(
            &json,
            "\n  \"product\"",
            "\n  \"grace_days\": 3660,\n  \"product\"",
        )),
        "DuplicateField",
        "a properly signed payload with grace_days twice",
    ));
    v.push(Vector::file(
        "missing-field",
        signed(&replace_once(
            &json,
            "\n  \"supersedes\": \"9d4071aa136e2c05f8315b62d70e8439\",",
            "",
        )),
        "MissingField",
        "a properly signed payload without supersedes (absent values are null, never left out)",
    ));
    v.push(Vector::file(
        "malformed-payload",
        signed(&replace_once(
            &json,
            "\"grace_days\": 30",
            "\"grace_days\": thirty",
        )),
        "MalformedPayload",
        "a properly signed payload that is not valid JSON",
    ));
    v.push(Vector::file(
        "invalid-value",
        signed(&replace_once(
            &json,
            "\"valid_from\": \"2018-08-30T00:00:00Z\"",
            "\"valid_from\": \"2100-01-02T00:00:00Z\"",
        )),
        "InvalidValue",
        "a properly signed payload whose valid_from is after expires_at",
    ));
    match version {
        FormatVersion::V1 => v1_only(&mut v, &json, &signed),
        FormatVersion::V2 => v2_only(&mut v, &json, &signed, ""),
        FormatVersion::V3 => {
            let key_line = format!("\n    \"install_key\": \"{}\",", install_key_hex());
            v2_only(&mut v, &json, &signed, &key_line);
            v3_only(&mut v, &json, &signed, &key_line);
        }
    }
    v
}

/// Properly signed payloads that break a rule every version has, and the version-2 members
/// a version-1 file may not have.
fn v1_only(v: &mut Vec<Vector>, json: &str, signed: &dyn Fn(&str) -> String) {
    v.push(Vector::file(
        "v2-member-in-v1",
        signed(&replace_once(
            json,
            "\n  \"product\"",
            "\n  \"lineage\": \"5e1f0c2b7d9a4410863fe2510bc49728\",\n  \"product\"",
        )),
        "UnknownField",
        "a version-1 payload with the version-2 member lineage",
    ));
    let strong = hostid::HostId::strong_from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D375C".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    })
    .expect("fixed components");
    v.push(Vector::file(
        "v1-strong-host",
        signed(&replace_once(
            json,
            &sample().primary_host.host_id.to_string(),
            &strong.to_string(),
        )),
        "InvalidValue",
        "a version-1 payload binding a strong host-ID code (version 1 has short codes only)",
    ));
    one_spelling(v, json, signed);
}

/// The spellings no writer makes, refused in both versions.
fn one_spelling(v: &mut Vec<Vector>, json: &str, signed: &dyn Fn(&str) -> String) {
    let primary = sample().primary_host.host_id.to_string();
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "spelling-host-id-lower-case",
            primary.clone(),
            primary.to_lowercase(),
            "the primary host ID in lower case (one spelling: as gethostid prints it)",
        ),
        (
            "spelling-host-id-no-dashes",
            primary.clone(),
            primary.replace('-', ""),
            "the primary host ID without its dashes",
        ),
        (
            "spelling-minus-zero",
            "\"pooled\": 0".into(),
            "\"pooled\": -0".into(),
            "a count written -0",
        ),
        (
            "spelling-escape",
            "\"product\": \"CIC\"".into(),
            "\"product\": \"\\u0043IC\"".into(),
            "a character written as a JSON escape (\\u0043 for C)",
        ),
        (
            "invisible-character",
            "\"sold_to\": \"Genesys Customer".into(),
            "\"sold_to\": \"Genesys\u{00AD}Customer".into(),
            "a soft hyphen (U+00AD, category Cf) in a text value",
        ),
        (
            "expires-after-perpetual",
            "\"expires_at\": \"2100-01-01T00:00:00Z\"".into(),
            "\"expires_at\": \"2100-01-01T00:00:01Z\"".into(),
            "an expiry after 2100-01-01T00:00:00Z, which already means perpetual",
        ),
        (
            "count-too-large",
            "\"assigned\": 170".into(),
            "\"assigned\": 4294967296".into(),
            "a count above the limit (and above 32 bits): a right JSON type breaking its range",
        ),
        (
            "license-type-unknown",
            "\"license_type\": \"production\"".into(),
            "\"license_type\": \"Production\"".into(),
            "a license type in another spelling: a string breaking its rule",
        ),
    ];
    for (name, from, to, note) in cases {
        v.push(Vector::file(
            name,
            signed(&json.replacen(&from, &to, 1)),
            "InvalidValue",
            note,
        ));
    }
    // Numbers (FORMAT.md section 9): a minus sign in an exponent does not start a number, and
    // a number is malformed only when it rounds to infinity (at or above 2^1024 - 2^970).
    let bound = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
    let below_bound = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791";
    let numbers: [(&str, String, &str, &str); 6] = [
        (
            "number-exponent-minus-zero",
            "25E-0".into(),
            "InvalidValue",
            "a count written 25E-0: not a number starting with -0, but not an integer",
        ),
        (
            "number-largest-double",
            "1.7976931348623157e308".into(),
            "InvalidValue",
            "a count written as the largest double: a number, but not an integer in range",
        ),
        (
            "number-rounds-to-largest-double",
            "1.7976931348623158e308".into(),
            "InvalidValue",
            "a count that rounds to the largest double (correct rounding, ties to even)",
        ),
        (
            "number-below-double-bound",
            below_bound.into(),
            "InvalidValue",
            "a count written as the integer 2^1024 - 2^970 - 1, which rounds to the largest double",
        ),
        (
            "number-at-double-bound",
            bound.into(),
            "MalformedPayload",
            "a count written as the integer 2^1024 - 2^970, which rounds to infinity",
        ),
        (
            "number-beyond-double",
            "1.7976931348623159e308".into(),
            "MalformedPayload",
            "a count that rounds to infinity",
        ),
    ];
    for (name, number, expect, note) in numbers {
        v.push(Vector::file(
            name,
            signed(&json.replacen("\"pooled\": 0", &format!("\"pooled\": {number}"), 1)),
            expect,
            note,
        ));
    }
    v.push(Vector::file(
        "spelling-bare-date",
        signed(&json.replacen(
            "\"valid_from\": \"2018-08-30T00:00:00Z\"",
            "\"valid_from\": \"2018-08-30\"",
            1,
        )),
        "InvalidValue",
        "a time written as a bare date (one spelling: YYYY-MM-DDTHH:MM:SSZ)",
    ));
    v.push(Vector::file(
        "spelling-object-as-array",
        signed(&json.replacen(
            "{\n      \"name\": \"I3_ACCESS_CLIENT\",\n      \"assigned\": 170,\n      \"pooled\": 0\n    }",
            "[\"I3_ACCESS_CLIENT\", 170, 0]",
            1,
        )),
        "MalformedPayload",
        "a license written as an array of its values (JSON objects only)",
    ));
}

/// Rules only version 2 has: the chain, the rules, the host forms.
fn v2_only(v: &mut Vec<Vector>, json: &str, signed: &dyn Fn(&str) -> String, key_line: &str) {
    one_spelling(v, json, signed);
    // The primary host's form line, with what follows it up to its machine (version 3: the
    // install key line between them).
    let form_short = format!("\"form\": \"short\",{key_line}\n    \"machine\": \"testing\"\n");
    let form_strong = format!("\"form\": \"strong\",{key_line}\n    \"machine\": \"testing\"\n");
    let no_form = format!("{key_line}\n    \"machine\": \"testing\"\n");
    let missing_form_from = format!("\n    {form_short}");
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "missing-generation",
            "\n  \"generation\": 3,",
            "",
            "MissingField",
            "a version-2 payload without generation",
        ),
        (
            "rules-renamed",
            ",\n  \"rules\": {",
            ",\n  \"unused\": {",
            "UnknownField",
            "a version-2 payload whose rules member is renamed",
        ),
        (
            "missing-host-form",
            &missing_form_from,
            &no_form,
            "MissingField",
            "a version-2 host without its form",
        ),
        (
            "host-form-wrong",
            &form_short,
            &form_strong,
            "InvalidValue",
            "a short code described as strong",
        ),
        (
            "generation-zero",
            "\"generation\": 3",
            "\"generation\": 0",
            "InvalidValue",
            "generation 0 (generations start at 1)",
        ),
        (
            "generation-one-other-lineage",
            "\"generation\": 3",
            "\"generation\": 1",
            "InvalidValue",
            "generation 1 whose lineage is not its own file id",
        ),
        (
            "lineage-not-hex",
            "\"lineage\": \"317c",
            "\"lineage\": \"317C",
            "InvalidValue",
            "a lineage in upper-case hex",
        ),
        (
            "rules-unsorted",
            "\"keys\": [\n          \"I3_ACCESS_ACD_MEDIA_1\",\n          \"I3_ACCESS_ACD_MEDIA_2\"",
            "\"keys\": [\n          \"I3_ACCESS_ACD_MEDIA_2\",\n          \"I3_ACCESS_ACD_MEDIA_1\"",
            "InvalidValue",
            "an excludes set out of order (one spelling per set)",
        ),
        (
            "rules-holder-unknown",
            "\"station\"\n        ]",
            "\"kiosk\"\n        ]",
            "InvalidValue",
            "a holder that is neither user nor station",
        ),
        (
            "rules-implies-excluded",
            "\"implied\": \"I3_ACCESS_CLIENT\"",
            "\"implied\": \"I3_ACCESS_ACD_MEDIA_1\"\n    },\n    {\n      \"key\": \"I3_ACCESS_ACD_MEDIA_1\",\n      \"implied\": \"I3_ACCESS_ACD_MEDIA_2\"",
            "InvalidValue",
            "a key that implies a key it excludes",
        ),
        (
            "rules-implies-cycle",
            "\"implied\": \"I3_ACCESS_CLIENT\"",
            "\"implied\": \"I3_ACCESS_CLIENT\"\n    },\n    {\n      \"key\": \"I3_ACCESS_CLIENT\",\n      \"implied\": \"I3_ACCESS_ACD_AGENT\"",
            "InvalidValue",
            "two keys that imply each other",
        ),
        (
            "rules-excludes-repeated",
            "\"excludes\": [\n      {",
            "\"excludes\": [\n      {\n        \"keys\": [\n          \"I3_ACCESS_ACD_MEDIA_1\",\n          \"I3_ACCESS_ACD_MEDIA_2\"\n        ]\n      },\n      {",
            "InvalidValue",
            "the same excludes set twice",
        ),
        (
            "rules-wrong-type",
            "\"holders\": [\n          \"station\"\n        ]",
            "\"holders\": \"station\"",
            "MalformedPayload",
            "holders as a string, not a list (a wrong JSON type)",
        ),
    ];
    for (name, from, to, expect, note) in cases {
        v.push(Vector::file(
            name,
            signed(&replace_once(json, from, to)),
            expect,
            note,
        ));
    }
    // A switchover host that matches the primary under the tolerant rule: same machine id
    // and DMI UUID, another network card.
    let near = hostid::HostId::from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D375C".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x99]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    })
    .expect("fixed components");
    let switchover = sample().switchover_host.expect("sample pair").host_id;
    v.push(Vector::file(
        "switchover-matches-primary",
        signed(&replace_once(
            json,
            &switchover.to_string(),
            &near.to_string(),
        )),
        "InvalidValue",
        "a switchover host whose code matches the primary host's under the tolerant rule",
    ));
}

/// The version-3 member: each host's install key.
fn v3_only(v: &mut Vec<Vector>, json: &str, signed: &dyn Fn(&str) -> String, key_line: &str) {
    let hex = install_key_hex();
    let cases: Vec<(&str, String, String, &str, &str)> = vec![
        (
            "missing-install-key",
            key_line.to_string(),
            String::new(),
            "MissingField",
            "a version-3 host without its install_key member",
        ),
        (
            "install-key-upper-hex",
            hex.clone(),
            hex.to_uppercase(),
            "InvalidValue",
            "an install key in upper-case hex (one spelling: lower case)",
        ),
        (
            "install-key-short",
            hex.clone(),
            hex[..62].to_string(),
            "InvalidValue",
            "an install key of 31 bytes",
        ),
        (
            "install-key-small-order",
            hex.clone(),
            format!("01{}", "0".repeat(62)),
            "InvalidValue",
            "an install key that is a point of small order (anyone could sign for it)",
        ),
        (
            "install-key-wrong-type",
            format!("\"{hex}\""),
            "7".to_string(),
            "MalformedPayload",
            "an install key written as a number",
        ),
        (
            "install-key-unknown-member",
            key_line.to_string(),
            format!("{key_line}\n    \"install_keys\": null,"),
            "UnknownField",
            "a host with a member no version defines next to its install key",
        ),
    ];
    for (name, from, to, expect, note) in cases {
        v.push(Vector::file(
            name,
            signed(&replace_once(json, &from, &to)),
            expect,
            note,
        ));
    }
}

/// `S + L` (the group order) in the upper half of a signature: the same point equation
/// holds, so only a strict check refuses it.
pub fn malleate(sig: &[u8]) -> Vec<u8> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = sig.to_vec();
    let mut carry = 0u16;
    for i in 0..32 {
        let s = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes");
    out
}

pub fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

/// The exit code DESIGN.md gives the outcome named in an `.expect` file.
pub fn exit_code_of(expect: &str) -> i32 {
    match expect {
        "ok" => 0,
        "SignatureInvalid" | "KeyIdMismatch" => 10,
        "UntrustedKey" => 11,
        _ => 3,
    }
}

/// The name of an error's variant, as written in `.expect` files.
pub fn variant(e: &FormatError) -> &'static str {
    match e {
        FormatError::Empty => "Empty",
        FormatError::TooLarge { .. } => "TooLarge",
        FormatError::NotUtf8 { .. } => "NotUtf8",
        FormatError::Truncated { .. } => "Truncated",
        FormatError::MissingSection { .. } => "MissingSection",
        FormatError::DuplicateSection { .. } => "DuplicateSection",
        FormatError::UnexpectedLine { .. } => "UnexpectedLine",
        FormatError::UnsupportedVersion { .. } => "UnsupportedVersion",
        FormatError::MalformedHeader { .. } => "MalformedHeader",
        FormatError::MalformedSignature { .. } => "MalformedSignature",
        FormatError::KeyIdMismatch { .. } => "KeyIdMismatch",
        FormatError::UntrustedKey { .. } => "UntrustedKey",
        FormatError::SignatureInvalid { .. } => "SignatureInvalid",
        FormatError::UnknownField { .. } => "UnknownField",
        FormatError::DuplicateField { .. } => "DuplicateField",
        FormatError::MissingField { .. } => "MissingField",
        FormatError::MalformedPayload { .. } => "MalformedPayload",
        FormatError::InvalidValue { .. } => "InvalidValue",
        FormatError::MalformedKey { .. } => "MalformedKey",
        _ => "unknown variant",
    }
}
