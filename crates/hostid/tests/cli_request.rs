//! `gethostid --check` with a request code (`licadmin request`): intact, or exit 3 naming why.

use std::process::{Command, Output};

use hostid::{Components, HostId, RequestCode};

const BIN: &str = env!("CARGO_BIN_EXE_gethostid");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn sample() -> RequestCode {
    let host = HostId::strong_from_components(&Components {
        machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    RequestCode::new(host, [7u8; 32]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn check_recognises_an_intact_request_code() {
    let code = sample();
    let out = run(&["--check", &code.to_string().to_lowercase()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("valid request code"), "{text}");
    assert!(text.contains(&code.host().to_string()), "{text}");

    let out = run(&["--check", &code.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["form"], "request");
    assert_eq!(v["host_id"], code.host().to_string());
}

#[test]
fn check_names_a_typo_in_a_request_code() {
    let text = sample().to_string();
    // One character changed near the end (in the install key).
    let mut bytes = text.clone().into_bytes();
    let at = bytes.len() - 4;
    bytes[at] = if bytes[at] == b'X' { b'Y' } else { b'X' };
    let typo = String::from_utf8(bytes).expect("ascii");
    let out = run(&["--check", &typo]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("request code") && err.contains("check character"),
        "{err}"
    );

    let out = run(&["--check", &text[..text.len() - 4]]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("request code has"), "{err}");
}
