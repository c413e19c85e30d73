//! The failures users hit, run with the real binaries. Each one checks the exit code from
//! DESIGN.md's table, that nothing was half done, and snapshots the message the user reads.

use i3lic_tests::{host_code, set_mode, shift_time, Sandbox, ACCOUNT, SITE};
use serde_json::Value;

/// Used units of `part` for the fixture account, from `issuer summary --json`.
fn used(sb: &Sandbox, part: &str) -> u64 {
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    v["parts"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["part"] == part))
        .and_then(|p| p["used"].as_u64())
        .unwrap_or_else(|| panic!("{part} used in {v}"))
}

/// A sandbox with the fixture account and one production file `ic1.i3lic` (20 business
/// clients) for the constructed machine `ic1`; returns the sandbox and ic1's code.
fn issued() -> (Sandbox, String) {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("ic1");
    sb.issue_production(&host, 20, "ic1.i3lic");
    (sb, host)
}

/// `licverify FILE --trust demo.pub --host-id HOST` plus `extra`.
fn licverify(sb: &Sandbox, file: &str, host: &str, extra: &[&str]) -> i3lic_tests::Run {
    let mut args = vec![file, "--trust", "demo.pub", "--host-id", host];
    args.extend_from_slice(extra);
    sb.run("licverify", args)
}

/// The same check with `--json`: the error's code must equal the exit code.
fn licverify_json_error(sb: &Sandbox, file: &str, host: &str, extra: &[&str], code: i64) {
    let mut e = extra.to_vec();
    e.push("--json");
    let r = licverify(sb, file, host, &e);
    let v = r.json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["license"], Value::Null, "{v}");
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert_eq!(i64::from(r.code), code, "exit code of {}", r.line);
}

/// A valid code with one character (not the version symbol) replaced by another symbol.
fn typo(code: &str) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    let i = 8; // second group, third symbol
    chars[i] = if chars[i] == '7' { 'X' } else { '7' };
    let t: String = chars.into_iter().collect();
    assert_ne!(t, code);
    t
}

#[test]
fn typo_in_host_id_is_caught_by_gethostid_and_issuer() {
    let sb = Sandbox::new();
    sb.with_account();
    let good = host_code("ic1");
    let bad = typo(&good);
    sb.ok("gethostid", ["--check", &good]);

    let r = sb.run("gethostid", ["--check", &bad]).expect_code(3);
    insta::assert_snapshot!("typo_gethostid_check", sb.transcript(&r));

    let r = sb
        .run("issuer", sb.production_args(&bad, 10, "ic1.i3lic"))
        .expect_code(3);
    insta::assert_snapshot!("typo_issuer_issue", sb.transcript(&r));
    assert!(
        !sb.file("ic1.i3lic").exists(),
        "no file for a mistyped host"
    );
    assert_eq!(used(&sb, "SW-001-4.0-SL03"), 0);
    assert_eq!(used(&sb, "SW-001-4.0-AL02"), 0);

    // A missing character and a wrong switchover code are refused the same way.
    let short = &good[..good.len() - 1];
    let r = sb.run("gethostid", ["--check", short]).expect_code(3);
    insta::assert_snapshot!("typo_gethostid_short", sb.transcript(&r));
    let mut args = sb.production_args(&good, 10, "ic1.i3lic");
    args.extend(["--switchover-host-id", &bad, "--switchover-machine", "ic2"].map(String::from));
    args.extend(["--switchover-part", "SW-001-4.0-SS03"].map(String::from));
    let r = sb.run("issuer", args).expect_code(3);
    insta::assert_snapshot!("typo_issuer_switchover", sb.transcript(&r));
    assert!(!sb.file("ic1.i3lic").exists());
}

#[test]
fn asking_for_more_than_available_is_refused_and_uses_nothing() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("ic1");
    let r = sb
        .run("issuer", sb.production_args(&host, 51, "ic1.i3lic"))
        .expect_code(20);
    insta::assert_snapshot!("more_than_available", sb.transcript(&r));
    assert!(!sb.file("ic1.i3lic").exists(), "no file when refused");
    assert_eq!(
        used(&sb, "SW-001-4.0-SL03"),
        0,
        "the server unit was not taken"
    );

    // After using 45 of 50, asking for 6 more is refused with what is left.
    sb.issue_production(&host, 45, "ic1.i3lic");
    sb.ok(
        "issuer",
        [
            "order",
            "add",
            "--account",
            ACCOUNT,
            "--part",
            "SW-001-4.0-SL03",
            "--quantity",
            "1",
        ],
    );
    let r = sb
        .run(
            "issuer",
            sb.production_args(&host_code("ic2"), 6, "ic2.i3lic"),
        )
        .expect_code(20);
    insta::assert_snapshot!("more_than_left", sb.transcript(&r));
    assert_eq!(used(&sb, "SW-001-4.0-AL02"), 45);
    assert_eq!(used(&sb, "SW-001-4.0-SL03"), 1);
    assert!(!sb.file("ic2.i3lic").exists());
}

#[test]
fn wrong_host_is_refused() {
    let (sb, host) = issued();
    licverify(&sb, "ic1.i3lic", &host, &[]).expect_code(0);
    let other = host_code("somebody else's server");
    let r = licverify(&sb, "ic1.i3lic", &other, &[]).expect_code(12);
    insta::assert_snapshot!("wrong_host", sb.transcript(&r));
    licverify_json_error(&sb, "ic1.i3lic", &other, &[], 12);
}

#[test]
fn expired_trial_is_refused_after_its_60_days() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("trial box");
    let r = sb.ok(
        "issuer",
        [
            "issue",
            "--account",
            ACCOUNT,
            "--site",
            SITE,
            "--product",
            "CIC",
            "--version",
            "4.0",
            "--type",
            "trial",
            "--host-id",
            &host,
            "--machine",
            "trial1",
            "--server-part",
            "SW-001-4.0-TR01",
            "--add",
            "SW-001-4.0-AL02=5",
            "--key",
            "demo.key",
            "--out",
            "trial.i3lic",
        ],
    );
    insta::assert_snapshot!("trial_issue", sb.transcript(&r));
    let v = licverify(&sb, "trial.i3lic", &host, &["--json"])
        .expect_code(0)
        .json();
    let expires = v["license"]["activation"]["expires_at"]
        .as_str()
        .expect("expires_at");
    let issued = v["license"]["activation"]["issued_at"]
        .as_str()
        .expect("issued_at");
    assert!(
        expires > issued && !expires.starts_with("2100"),
        "a trial ends: {expires}"
    );

    // Valid from issuance through its expiry instant; refused one second later (trials have
    // no grace period) and long after.
    licverify(&sb, "trial.i3lic", &host, &["--at", issued]).expect_code(0);
    licverify(&sb, "trial.i3lic", &host, &["--at", expires]).expect_code(0);
    let after = shift_time(expires, 1);
    let r = licverify(&sb, "trial.i3lic", &host, &["--at", &after]).expect_code(13);
    insta::assert_snapshot!("trial_expired", sb.transcript(&r));
    licverify(&sb, "trial.i3lic", &host, &["--at", "2099-01-01"]).expect_code(13);
    licverify_json_error(&sb, "trial.i3lic", &host, &["--at", "2099-01-01"], 13);
}

#[test]
fn untrusted_key_is_refused() {
    let (sb, host) = issued();
    let r = sb.ok(
        "issuer",
        ["keygen", "--kid", "other", "--out", "keys", "--unencrypted"],
    );
    insta::assert_snapshot!("keygen", sb.transcript(&r));
    let r = sb
        .run(
            "licverify",
            ["ic1.i3lic", "--trust", "keys/other.pub", "--host-id", &host],
        )
        .expect_code(11);
    insta::assert_snapshot!("untrusted_key", sb.transcript(&r));
    // Trusting both (a key rotation) accepts it again.
    sb.ok(
        "licverify",
        [
            "ic1.i3lic",
            "--trust",
            "keys/other.pub",
            "--trust",
            "demo.pub",
            "--host-id",
            &host,
        ],
    );
}

#[test]
fn edited_file_is_refused() {
    let (sb, host) = issued();
    let text = std::fs::read_to_string(sb.file("ic1.i3lic")).expect("read");
    // The customer raises the client count by hand.
    let edited = text.replacen("\"assigned\": 20,", "\"assigned\": 200,", 1);
    assert_ne!(edited, text, "the file lists 20 assigned clients");
    std::fs::write(sb.file("edited.i3lic"), edited).expect("write");
    let r = licverify(&sb, "edited.i3lic", &host, &[]).expect_code(10);
    insta::assert_snapshot!("edited_count", sb.transcript(&r));
    licverify_json_error(&sb, "edited.i3lic", &host, &[], 10);

    // Moving the file to another machine by editing its machine name fails the same way.
    let renamed = text.replace("\"machine\": \"ic1\"", "\"machine\": \"ic9\"");
    assert_ne!(renamed, text);
    std::fs::write(sb.file("renamed.i3lic"), renamed).expect("write");
    licverify(&sb, "renamed.i3lic", &host, &[]).expect_code(10);
}

#[test]
fn empty_file_is_malformed() {
    let (sb, host) = issued();
    std::fs::write(sb.file("empty.i3lic"), b"").expect("write");
    let r = licverify(&sb, "empty.i3lic", &host, &[]).expect_code(3);
    insta::assert_snapshot!("empty_file", sb.transcript(&r));
    licverify_json_error(&sb, "empty.i3lic", &host, &[], 3);
    // Half a file (cut off while copying) is malformed too.
    let text = std::fs::read_to_string(sb.file("ic1.i3lic")).expect("read");
    std::fs::write(sb.file("half.i3lic"), &text[..text.len() / 2]).expect("write");
    let r = licverify(&sb, "half.i3lic", &host, &[]).expect_code(3);
    insta::assert_snapshot!("truncated_file", sb.transcript(&r));
}

#[test]
fn wrong_product_or_version_is_refused() {
    let (sb, host) = issued();
    licverify(
        &sb,
        "ic1.i3lic",
        &host,
        &["--product", "CIC", "--version", "4.0"],
    )
    .expect_code(0);
    let r = licverify(
        &sb,
        "ic1.i3lic",
        &host,
        &["--product", "EIC", "--version", "4.0"],
    )
    .expect_code(15);
    insta::assert_snapshot!("wrong_product", sb.transcript(&r));
    let r = licverify(
        &sb,
        "ic1.i3lic",
        &host,
        &["--product", "CIC", "--version", "5.0"],
    )
    .expect_code(15);
    insta::assert_snapshot!("wrong_version", sb.transcript(&r));
    licverify_json_error(
        &sb,
        "ic1.i3lic",
        &host,
        &["--product", "EIC", "--version", "4.0"],
        15,
    );
}

#[test]
fn not_yet_valid_before_issuance() {
    let (sb, host) = issued();
    let r = licverify(&sb, "ic1.i3lic", &host, &["--at", "2001-01-01T00:00:00Z"]).expect_code(14);
    insta::assert_snapshot!("before_issuance", sb.transcript(&r));
    licverify_json_error(&sb, "ic1.i3lic", &host, &["--at", "2001-01-01"], 14);
}

#[test]
fn unknown_account_and_site_are_refused() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("ic1");
    let mut args = sb.production_args(&host, 1, "ic1.i3lic");
    let i = args
        .iter()
        .position(|a| a == ACCOUNT)
        .expect("account argument");
    args[i] = "Contoso Contact Centre".into();
    let r = sb.run("issuer", &args).expect_code(20);
    insta::assert_snapshot!("unknown_account", sb.transcript(&r));

    let mut args = sb.production_args(&host, 1, "ic1.i3lic");
    let i = args.iter().position(|a| a == SITE).expect("site argument");
    args[i] = "Indianapolis".into();
    let r = sb.run("issuer", &args).expect_code(20);
    insta::assert_snapshot!("unknown_site", sb.transcript(&r));

    let r = sb
        .run("issuer", ["summary", "--account", "Nobody Inc"])
        .expect_code(20);
    insta::assert_snapshot!("unknown_account_summary", sb.transcript(&r));
    let r = sb
        .run(
            "issuer",
            [
                "order",
                "add",
                "--account",
                "Nobody Inc",
                "--part",
                "SW-001-4.0-AL02",
                "--quantity",
                "1",
            ],
        )
        .expect_code(20);
    insta::assert_snapshot!("unknown_account_order", sb.transcript(&r));
    assert!(!sb.file("ic1.i3lic").exists());
    assert_eq!(used(&sb, "SW-001-4.0-AL02"), 0);
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("ic1");
    for mode in [0o644, 0o640, 0o604] {
        set_mode(&sb.file("demo.key"), mode);
        let r = sb
            .run("issuer", sb.production_args(&host, 1, "ic1.i3lic"))
            .expect_code(4);
        if mode == 0o644 {
            insta::assert_snapshot!("key_too_open", sb.transcript(&r));
        }
        assert!(!r.stderr.contains("PRIVATE") && !r.stdout.contains("PRIVATE"));
    }
    assert!(!sb.file("ic1.i3lic").exists());
    assert_eq!(
        used(&sb, "SW-001-4.0-SL03"),
        0,
        "refused before anything was used"
    );
    set_mode(&sb.file("demo.key"), 0o600);
    sb.issue_production(&host, 1, "ic1.i3lic");
}

#[test]
fn missing_files_are_io_errors() {
    let (sb, host) = issued();
    let r = licverify(&sb, "nowhere.i3lic", &host, &[]).expect_code(4);
    insta::assert_snapshot!("missing_activation_file", sb.transcript(&r));
    licverify_json_error(&sb, "nowhere.i3lic", &host, &[], 4);

    let r = sb
        .run(
            "licverify",
            ["ic1.i3lic", "--trust", "nowhere.pub", "--host-id", &host],
        )
        .expect_code(4);
    insta::assert_snapshot!("missing_trust_key", sb.transcript(&r));

    let mut args = sb.production_args(&host, 1, "ic2.i3lic");
    let i = args
        .iter()
        .position(|a| a == "demo.key")
        .expect("key argument");
    args[i] = "nowhere.key".into();
    let r = sb.run("issuer", &args).expect_code(4);
    insta::assert_snapshot!("missing_secret_key", sb.transcript(&r));
    assert!(!sb.file("ic2.i3lic").exists());

    let args = sb.production_args(&host, 1, "no/such/folder/ic2.i3lic");
    sb.ok(
        "issuer",
        [
            "order",
            "add",
            "--account",
            ACCOUNT,
            "--part",
            "SW-001-4.0-SL03",
            "--quantity",
            "1",
        ],
    );
    let r = sb.run("issuer", &args).expect_code(4);
    insta::assert_snapshot!("missing_out_folder", sb.transcript(&r));
    assert_eq!(
        used(&sb, "SW-001-4.0-SL03"),
        1,
        "only the first file uses a server"
    );
}
