//! docs/FORMAT.md's complete examples (version 2 in section 17, version 1 in section 18, version 3
//! in section 19) verify
//! with the public key printed beside them, are exactly what this crate writes for those
//! contents with the demo key, and the figures the specification quotes about them
//! (signed-message length, prefix, hash, key id, file size) hold. Also: the member tables of
//! section 8 list exactly what a writer writes, in its order, and the error table of section
//! 15.1 gives each error the exit code the crate does.

mod common;

use std::fs;
use std::path::PathBuf;

use format::{Activation, FormatError, FormatVersion, KeyId, PublicKey, SecretKey, UnverifiedFile};
use sha2::{Digest, Sha256};

fn repo_file(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn doc() -> String {
    repo_file("docs/FORMAT.md")
}

/// The text of the section whose heading starts with `heading` (`## 5.`, `### 15.1`), up to
/// the next heading of the same or a higher level (outside code blocks).
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let level = heading.chars().take_while(|&c| c == '#').count();
    let start = doc
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("no section {heading:?}"))
        + 1;
    let rest = &doc[start..];
    let mut offset = 0;
    let mut in_code = false;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if i > 0 && !in_code && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            return &rest[..offset];
        }
        offset += line.len();
    }
    rest
}

/// The first two ```text blocks of a section: the file, then the public key.
fn example_blocks(section: &str) -> (String, String) {
    let mut blocks = section
        .split("```text\n")
        .skip(1)
        .map(|b| b.split_once("```").expect("a closed block").0.to_owned());
    let file = blocks.next().expect("the example file");
    let key = blocks.next().expect("the example public key");
    (file, key)
}

/// `text` with every run of white space made one space, so prose checks do not depend on where
/// lines break.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The demo key pair of `keys-example/`.
fn demo() -> (PublicKey, SecretKey) {
    let public = PublicKey::from_text(&repo_file("keys-example/demo.pub")).expect("demo.pub");
    let secret = SecretKey::from_text(&repo_file("keys-example/demo.key")).expect("demo.key");
    assert_eq!(secret.public_key(), &public);
    (public, secret)
}

/// The contents of each example: the test sample of its version without restrictions.
fn contents(version: FormatVersion) -> Activation {
    let mut a = common::sample_for(version);
    a.restrictions.clear();
    a
}

fn check_example(version: FormatVersion, number: u8) {
    let doc = doc();
    let heading = format!(
        "## {number}. Complete example, version {}",
        version.number()
    );
    let sec = section(&doc, &heading);
    let (file, key_text) = example_blocks(sec);
    let key = PublicKey::from_text(&key_text).expect("the example key parses");

    let verified = UnverifiedFile::parse(file.as_bytes())
        .expect("the example parses")
        .verify(&key)
        .expect("the example verifies with its key");
    assert_eq!(verified.version(), version);
    let crlf = file.replace('\n', "\r\n");
    let again = format::verify_bytes(crlf.as_bytes(), [&key]).expect("CRLF copy verifies");
    assert_eq!(again, verified);

    // The key is the published demo key, and the file is what the writer makes with it.
    let (demo_pub, demo) = demo();
    assert_eq!(key, demo_pub);
    let contents = contents(version);
    assert_eq!(verified.activation(), &contents);
    let written = match version {
        FormatVersion::V1 => format::sign_v1(&contents, &demo),
        FormatVersion::V2 => format::sign_v2(&contents, &demo),
        FormatVersion::V3 => format::sign(&contents, &demo),
    }
    .expect("sign");
    assert_eq!(written, file, "FORMAT.md's {heading} is stale");
    assert!(
        flat(sec).contains(&format!("The file ({} bytes, LF line endings)", file.len())),
        "{heading}: the file size"
    );

    // Section 5's figures about the signed message.
    let parsed = UnverifiedFile::parse(file.as_bytes()).expect("parse");
    let m = parsed.signed_bytes();
    let row = format!(
        "| version {} (section {number}) | {} bytes | `{}` | `{}` | `{}` |",
        version.number(),
        m.len(),
        hex(&m[..19]),
        hex(&m[19..27]),
        hex(&Sha256::digest(m))
    );
    assert!(
        section(&doc, "## 5. The signed bytes").contains(&row),
        "section 5 lacks {row}"
    );
    assert_eq!(&m[..19], format!("{}\0", version.as_str()).as_bytes());
    assert_eq!(&m[19..27], &key.key_id().0);
}

#[test]
fn the_version_3_example_verifies_and_is_what_sign_writes() {
    check_example(FormatVersion::V3, 19);
}

#[test]
fn the_version_2_example_verifies_and_is_what_sign_v2_writes() {
    check_example(FormatVersion::V2, 17);
}

#[test]
fn the_version_1_example_verifies_and_is_what_sign_v1_writes() {
    check_example(FormatVersion::V1, 18);
}

#[test]
fn the_key_id_example_holds() {
    let doc = doc();
    let (key, _) = demo();
    let raw = key.to_bytes();
    let derived = Sha256::new()
        .chain_update(b"i3lic/key-id/v1\0")
        .chain_update(raw)
        .finalize();
    assert_eq!(&derived[..8], &key.key_id().0);
    assert_eq!(KeyId::derive(&raw), key.key_id());
    assert!(flat(&doc).contains(&format!("`{}` has the id `{}`", hex(&raw), key.key_id())));
}

/// The member names of a JSON object's text as the writer lays it out, at one indentation.
fn members_at(json: &str, indent: usize) -> Vec<String> {
    let lead = " ".repeat(indent);
    let mut out: Vec<String> = Vec::new();
    for l in json.lines() {
        let Some(rest) = l.strip_prefix(&lead) else {
            continue;
        };
        if let Some(name) = rest.strip_prefix('"').and_then(|r| r.split_once("\": ")) {
            if !out.iter().any(|m| m == name.0) {
                out.push(name.0.to_owned());
            }
        }
    }
    out
}

/// The backquoted member names of the rows of a section-8 table (of the nested table: the rows
/// of one object), with their v1, v2 and v3 columns.
fn table_members(sec: &str, object: Option<&str>) -> Vec<(String, bool, bool, bool)> {
    sec.lines()
        .filter(|l| l.starts_with("| "))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let cells = match object {
                Some(o) if cells.get(1) == Some(&o) => &cells[2..],
                Some(_) => return None,
                None => &cells[1..],
            };
            let name = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            Some((
                name.to_owned(),
                cells[1] == "yes",
                cells[2] == "yes",
                cells[3] == "yes",
            ))
        })
        .collect()
}

#[test]
fn the_member_tables_are_what_the_writer_writes() {
    let doc = doc();
    let sec = section(&doc, "## 8. Payload members");
    let top = sec
        .split("Nested objects")
        .next()
        .expect("the top-level table");
    let nested = sec
        .split("Nested objects")
        .nth(1)
        .and_then(|s| s.split("### 8.1").next())
        .expect("the nested table");
    for (version, column) in [
        (FormatVersion::V1, 1),
        (FormatVersion::V2, 2),
        (FormatVersion::V3, 3),
    ] {
        let json = common::payload_of(&common::sign_for(
            version,
            &common::sample_for(version),
            &common::key_a(),
        ));
        let pick = |rows: Vec<(String, bool, bool, bool)>| -> Vec<String> {
            rows.into_iter()
                .filter(|(_, v1, v2, v3)| [*v1, *v2, *v3][column - 1])
                .map(|(n, ..)| n)
                .collect()
        };
        assert_eq!(
            pick(table_members(top, None)),
            members_at(&json, 2),
            "{version}"
        );
        let host = members_at(
            json.split("\"primary_host\": {")
                .nth(1)
                .and_then(|s| s.split('}').next())
                .expect("primary host"),
            4,
        );
        assert_eq!(host.len(), 1 + column, "{version}: {host:?}");
        assert_eq!(pick(table_members(nested, Some("host"))), host, "{version}");
        let license = members_at(
            json.split("\"licenses\": [")
                .nth(1)
                .and_then(|s| s.split('}').next())
                .expect("a license"),
            6,
        );
        assert_eq!(
            pick(table_members(nested, Some("license"))),
            license,
            "{version}"
        );
        let item = members_at(
            json.split("\"ordered_items\": [")
                .nth(1)
                .and_then(|s| s.split('}').next())
                .expect("an item"),
            6,
        );
        assert_eq!(pick(table_members(nested, Some("item"))), item, "{version}");
        assert_eq!((license.len(), item.len()), (3, 3), "{version}");
    }
    let v1 = members_at(
        &common::payload_of(&common::sign_for(
            FormatVersion::V1,
            &common::sample(),
            &common::key_a(),
        )),
        2,
    );
    let v2 = members_at(
        &common::payload_of(&common::sign_for(
            FormatVersion::V2,
            &common::sample_v2(),
            &common::key_a(),
        )),
        2,
    );
    assert_eq!((v1.len(), v2.len()), (22, 25));
    assert!(doc.contains("| payload members (section 8) | 22 | 25:"));
}

#[test]
fn the_error_table_gives_the_crates_exit_codes() {
    let doc = doc();
    let sec = section(&doc, "### 15.1");
    let kid = KeyId([0; 8]);
    let s = String::new;
    let errors = [
        ("Empty", FormatError::Empty),
        ("TooLarge", FormatError::TooLarge { size: 0, max: 0 }),
        ("NotUtf8", FormatError::NotUtf8 { offset: 0 }),
        ("Truncated", FormatError::Truncated { expected: "" }),
        (
            "MissingSection",
            FormatError::MissingSection { section: "" },
        ),
        (
            "DuplicateSection",
            FormatError::DuplicateSection {
                section: "",
                line: 0,
            },
        ),
        (
            "UnexpectedLine",
            FormatError::UnexpectedLine {
                line: 0,
                reason: s(),
            },
        ),
        (
            "UnsupportedVersion",
            FormatError::UnsupportedVersion {
                found: s(),
                supported: "",
            },
        ),
        (
            "MalformedHeader",
            FormatError::MalformedHeader {
                line: 0,
                reason: s(),
            },
        ),
        (
            "MalformedSignature",
            FormatError::MalformedSignature { reason: s() },
        ),
        ("UntrustedKey", FormatError::UntrustedKey { key_id: kid }),
        (
            "KeyIdMismatch",
            FormatError::KeyIdMismatch {
                file: kid,
                key: kid,
            },
        ),
        (
            "SignatureInvalid",
            FormatError::SignatureInvalid { key_id: kid },
        ),
        ("UnknownField", FormatError::UnknownField { field: s() }),
        ("DuplicateField", FormatError::DuplicateField { field: s() }),
        ("MissingField", FormatError::MissingField { field: s() }),
        (
            "MalformedPayload",
            FormatError::MalformedPayload {
                line: 0,
                column: 0,
                reason: s(),
            },
        ),
        (
            "InvalidValue",
            FormatError::InvalidValue {
                field: s(),
                reason: s(),
            },
        ),
        (
            "MalformedKey",
            FormatError::MalformedKey {
                kind: "public",
                reason: s(),
            },
        ),
    ];
    let rows: Vec<&str> = sec.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(rows.len(), errors.len(), "one row per error");
    for (name, e) in errors {
        assert_eq!(common::variant(&e), name);
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for {name}"));
        assert!(
            row.ends_with(&format!("| {} |", e.exit_code())),
            "{name}: {row}"
        );
    }
}
