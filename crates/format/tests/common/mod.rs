//! Shared by the integration tests: the fixed test keys, the sample activation, and the
//! generator of the committed test vectors under `tests/vectors/`.
//!
//! Everything here is deterministic (fixed seeds, fixed ids and times; ed25519 signatures are
//! deterministic), so regenerating the vectors gives byte-identical files.
#![allow(dead_code)]

use std::path::PathBuf;

use format::{
    sign, sign_payload_text, Activation, FileId, FormatError, Host, LicenseCount, LicenseType,
    OrderedItem, Restriction, SecretKey, Timestamp, MAX_FILE_SIZE,
};
use hostid::{Components, HostId};

/// The folder holding the committed vectors.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
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

/// The sample activation every vector is built from: every field carries a value, so each
/// can be changed on its own.
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
        },
        switchover_host: Some(Host {
            host_id: host("a0b1c2d3e4f5061728394a5b6c7d8e9f", 0x7e),
            machine: "testing-backup".into(),
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
    }
}

/// A typical larger file: `licenses` license keys and two hosts.
pub fn typical(licenses: usize) -> Activation {
    let mut a = sample();
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

/// Every vector, in a fixed order.
pub fn vectors() -> Vec<Vector> {
    let a = key_a();
    let b = key_b();
    let c = key_c();
    let model = sample();
    let valid = sign(&model, &a).expect("sample signs");
    let json = payload_of(&valid);
    let mut v = Vec::new();

    // ---- accepted ----
    v.push(Vector::file(
        "valid",
        valid.clone(),
        "ok",
        "the sample, as written by sign()",
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
    let changes: &[(&str, &str, &str)] = &[
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
        replace_once(
            &valid,
            "Format: i3lic-activation/1",
            "Format: i3lic-activation/2",
        ),
        "UnsupportedVersion",
        "a format version this build does not read",
    ));
    v.push(Vector::file(
        "not-a-format",
        replace_once(&valid, "Format: i3lic-activation/1", "Format: other/1"),
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
        replace_once(&valid, "Format: i3lic-activation/1\n", ""),
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
            "Format: i3lic-activation/1\n",
            "Format: i3lic-activation/1\nFormat: i3lic-activation/1\n",
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

    // ---- properly signed payloads that version 1 refuses ----
    let signed = |payload: &str| sign_payload_text(payload, &a);
    v.push(Vector::file(
        "unknown-field",
        signed(&replace_once(
            &json,
            "\n  \"product\"",
            "\n  \"seats\": 1000,\n  \"product\"",
        )),
        "UnknownField",
        "a properly signed payload with a field version 1 does not define",
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
    v
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
