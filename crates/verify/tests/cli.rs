//! `licverify` as a user runs it: the contract's cases and the usage errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

fn licverify(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_licverify"));
    for a in args {
        c.arg(a);
    }
    c.output().unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    file: PathBuf,
    vendor: PathBuf,
    other: PathBuf,
    host: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("server.i3lic");
    let mut a = base();
    a.issued_at = ts("2024-01-01T00:00:00Z");
    a.expires_at = format::Timestamp::PERPETUAL;
    std::fs::write(&file, signed(&a, &vendor_key())).unwrap();
    let vendor = dir.path().join("vendor.pub");
    std::fs::write(&vendor, vendor_key().public_key().to_text("vendor")).unwrap();
    let other = dir.path().join("other.pub");
    std::fs::write(&other, other_key().public_key().to_text("other")).unwrap();
    Setup {
        _dir: dir,
        file,
        vendor,
        other,
        host: host_a().to_string(),
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn valid_file_prints_what_it_licenses() {
    let s = setup();
    let o = licverify(&[&s.file, &"--trust", &s.vendor, &"--host-id", &s.host]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "VALID",
        "CIC 4.0",
        "Development (large)",
        "Contoso",
        "HQ",
        "never (perpetual)",
        "ic1",
        "<- matched",
        "switchover host",
        "ic2",
        "I3_FEATURE_SIP",
        "I3_ACCESS_CLIENT_00",
        "SW-001-4.0-AL02",
        "disconnected every hour",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
}

#[test]
fn contract_cases_give_their_exit_codes() {
    let s = setup();
    let h = ["--host-id", s.host.as_str()];
    let run = |extra: &[&str], file: &Path, trust: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_licverify"));
        c.arg(file).arg("--trust").arg(trust).args(h).args(extra);
        code(&c.output().unwrap())
    };
    assert_eq!(run(&[], &s.file, &s.vendor), 0);
    assert_eq!(run(&[], &s.file, &s.other), 11);
    assert_eq!(
        run(
            &["--product", "XYZ", "--version", "4.0"],
            &s.file,
            &s.vendor
        ),
        15
    );
    assert_eq!(
        run(
            &["--product", "CIC", "--version", "4.0"],
            &s.file,
            &s.vendor
        ),
        0
    );
    assert_eq!(
        run(&["--at", "2001-01-01T00:00:00Z"], &s.file, &s.vendor),
        14
    );
    let data = std::fs::read_to_string(&s.file).unwrap();
    let t = s.file.with_file_name("edited.i3lic");
    std::fs::write(&t, data.replace("ic1", "ic2")).unwrap();
    assert_eq!(run(&[], &t, &s.vendor), 10);
    std::fs::write(&t, data.replace('\n', "\r\n")).unwrap();
    assert_eq!(run(&[], &t, &s.vendor), 0);
    std::fs::write(&t, b"").unwrap();
    assert_eq!(run(&[], &t, &s.vendor), 3);
    // Another host, and a clone.
    let mut c = Command::new(env!("CARGO_BIN_EXE_licverify"));
    c.arg(&s.file).arg("--trust").arg(&s.vendor);
    c.args(["--host-id", &host_a_clone().to_string()]);
    assert_eq!(code(&c.output().unwrap()), 12);
}

#[test]
fn missing_or_malformed_inputs_are_named() {
    let s = setup();
    let missing = s.file.with_file_name("nope.i3lic");
    let o = licverify(&[&missing, &"--trust", &s.vendor, &"--host-id", &s.host]);
    assert_eq!(code(&o), 4);
    assert!(stderr(&o).contains("nope.i3lic"), "{}", stderr(&o));

    let nopub = s.file.with_file_name("nope.pub");
    let o = licverify(&[&s.file, &"--trust", &nopub, &"--host-id", &s.host]);
    assert_eq!(code(&o), 4);
    assert!(stderr(&o).contains("nope.pub"), "{}", stderr(&o));

    let badpub = s.file.with_file_name("bad.pub");
    std::fs::write(&badpub, "i3lic-public-key-v1 not-base64!\n").unwrap();
    let o = licverify(&[&s.file, &"--trust", &badpub, &"--host-id", &s.host]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("bad.pub"), "{}", stderr(&o));

    // A secret key given as --trust is refused as malformed, and never echoed.
    let key = s.file.with_file_name("vendor.key");
    std::fs::write(&key, &*vendor_key().to_text("vendor")).unwrap();
    let o = licverify(&[&s.file, &"--trust", &key, &"--host-id", &s.host]);
    assert_eq!(code(&o), 3);
    let seed = vendor_key().to_text("vendor");
    let secret_line = seed.lines().last().unwrap();
    assert!(!stderr(&o).contains(secret_line));

    // The same key twice.
    let o = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &s.host,
    ]);
    assert_eq!(code(&o), 3);

    // A mistyped host-ID code is malformed input.
    let mut typo = s.host.clone().into_bytes();
    typo[3] = if typo[3] == b'X' { b'Y' } else { b'X' };
    let typo = String::from_utf8(typo).unwrap();
    let o = licverify(&[&s.file, &"--trust", &s.vendor, &"--host-id", &typo]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));

    // Usage errors.
    assert_eq!(code(&licverify(&[&s.file])), 2);
    assert_eq!(
        code(&licverify(&[
            &s.file,
            &"--trust",
            &s.vendor,
            &"--product",
            &"CIC"
        ])),
        2
    );
    assert_eq!(
        code(&licverify(&[
            &s.file,
            &"--trust",
            &s.vendor,
            &"--at",
            &"yesterday"
        ])),
        2
    );
}

#[test]
fn json_output_has_valid_error_and_license() {
    let s = setup();
    let o = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &s.host,
        &"--json",
    ]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert!(v["error"].is_null());
    assert_eq!(v["license"]["role"], "primary");
    assert_eq!(v["license"]["activation"]["product"], "CIC");
    assert_eq!(v["license"]["hourly_disconnect"], true);
    assert_eq!(v["license"]["activation"]["licenses"][1]["assigned"], 11);

    let o = licverify(&[
        &s.file,
        &"--trust",
        &s.other,
        &"--host-id",
        &s.host,
        &"--json",
    ]);
    assert_eq!(code(&o), 11);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], 11);
    assert_eq!(v["error"]["kind"], "untrusted-key");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&vendor_key().key_id().to_string()));
    assert!(v["license"].is_null());
}

#[test]
fn demo_key_and_grace_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.i3lic");
    std::fs::write(&file, signed(&base(), &demo_key())).unwrap();
    let demo = dir.path().join("demo.pub");
    std::fs::write(&demo, verify::DEMO_PUBLIC_KEY).unwrap();
    let host = host_a().to_string();
    let o = licverify(&[
        &file,
        &"--trust",
        &demo,
        &"--host-id",
        &host,
        &"--at",
        &"2025-01-10",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("warning: signed with the public demo key"),
        "{out}"
    );
    assert!(out.contains("grace period until 2025-01-31"), "{out}");
    let o = licverify(&[
        &file,
        &"--trust",
        &demo,
        &"--host-id",
        &host,
        &"--at",
        &"2024-12-15",
    ]);
    assert!(
        stdout(&o).contains("expires at 2025-01-01T00:00:00Z (17 day(s) left)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn without_host_id_it_checks_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = dir.path().join("vendor.pub");
    std::fs::write(&vendor, vendor_key().public_key().to_text("vendor")).unwrap();
    let file = dir.path().join("here.i3lic");
    let mut a = base();
    a.expires_at = format::Timestamp::PERPETUAL;
    match hostid::current() {
        Ok(here) => {
            a.primary_host.host_id = here;
            a.switchover_host = None;
            std::fs::write(&file, signed(&a, &vendor_key())).unwrap();
            let o = licverify(&[&file, &"--trust", &vendor]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            // The same file refused when checked as another machine.
            let c = host_c().to_string();
            assert_eq!(
                code(&licverify(&[&file, &"--trust", &vendor, &"--host-id", &c])),
                12
            );
        }
        Err(e) => {
            // A machine with too few readable components cannot be bound to at all.
            std::fs::write(&file, signed(&a, &vendor_key())).unwrap();
            let o = licverify(&[&file, &"--trust", &vendor]);
            assert_eq!(code(&o), 12, "{e}: {}", stderr(&o));
        }
    }
}

#[test]
fn state_file_is_checked_and_recorded() {
    let s = setup();
    let state = s.file.with_file_name("state.json");
    let o = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &s.host,
        &"--state",
        &state,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(recorded["newest"]["file_id"], file_id(1).to_string());
    // A corrupt state file is an error, and is left as it is.
    std::fs::write(&state, "{ not json").unwrap();
    let o = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &s.host,
        &"--state",
        &state,
    ]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("state.json"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "{ not json");
}
