//! Names that would read differently from what they hold: `licadmin` refuses them, naming the
//! character and where it is, and prints any already stored escaped.

mod common;

use std::process::{Command, Output};
use store::TxExt as _;

use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

/// The characters named in the refusal: bidirectional embeddings, overrides and isolates,
/// marks, zero-width characters, the byte-order mark, line and paragraph separators.
const HIDDEN: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
    '\u{FEFF}', '\u{2028}', '\u{2029}',
];

fn licadmin(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(dir.join("store.db"))
        .args(args)
        .arg("--trust")
        .arg(dir.join("vendor.pub"))
        .arg("--host-id")
        .arg(host().to_string())
        .output()
        .unwrap()
}

fn assert_nothing_hidden(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text
            .chars()
            .any(|c| format::text::is_refused_char(c) && c != '\n' && c != '\t'),
        "{what} printed a refused character raw: {text:?}"
    );
}

#[test]
fn hidden_characters_in_names_are_refused_and_named_and_stored_ones_print_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("vendor.pub"),
        vendor().public_key().to_text("vendor"),
    )
    .unwrap();
    std::fs::write(
        d.join("f.i3lic"),
        file(
            &[(CLIENT, 2, 0), (BASIC, 2, 0), (ORG, 2, 0)],
            Rules::default(),
        ),
    )
    .unwrap();
    let f = d.join("f.i3lic").display().to_string();
    assert_eq!(licadmin(d, &["load", &f]).status.code(), Some(0));
    for &c in HIDDEN {
        let name = format!("ad{c}min");
        for args in [
            ["user", "add", &name],
            ["station", "add", &name],
            ["org", "add", &name],
        ] {
            let o = licadmin(d, &args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
            let named = format!("U+{:04X} at character 3 of 6", u32::from(c));
            assert!(err.contains(&named), "{args:?}: {err}");
            assert_nothing_hidden("the refusal", &o.stderr);
        }
    }
    let o = licadmin(d, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(users["users"].as_array().unwrap().len(), 0, "nothing added");
    // A name stored before these were refused prints escaped, not reordered.
    assert_eq!(
        licadmin(d, &["user", "add", "mallory"]).status.code(),
        Some(0)
    );
    let conn = store_sqlite::open_raw(d.join("store.db")).unwrap();
    conn.execute(
        "UPDATE users SET name = ?1 WHERE name = 'mallory'",
        ["mal\u{202E}gnp.exe\u{200B}"],
    )
    .unwrap();
    drop(conn);
    let o = licadmin(d, &["user", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_nothing_hidden("user list", &o.stdout);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("mal\\u{202e}gnp.exe\\u{200b}"), "{out}");
}
