//! The `issuer` binary: the contract flow, exit codes, and bad input leaving the ledger as it was.

mod common;

use std::path::Path;

use common::{
    cli_order, command, host, ok, passphrase, run, set_mode, summary_part, summary_text,
    unencrypted_key, IssueFlags, Units,
};

/// Contoso with a detailed site "HQ", an inactive site "Old", SL03 ×1 and AL02 ×50.
fn setup(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("ledger.db");
    ok(&db, &["account", "add", "Contoso"]);
    ok(
        &db,
        &[
            "site",
            "add",
            "--account",
            "Contoso",
            "--name",
            "HQ",
            "--address",
            "112 Test St",
            "--city",
            "Test City",
            "--state",
            "Test State",
            "--country",
            "Test County",
            "--postal-code",
            "88888",
        ],
    );
    ok(
        &db,
        &["site", "add", "--account", "Contoso", "--name", "Old"],
    );
    ok(
        &db,
        &[
            "site",
            "deactivate",
            "--account",
            "Contoso",
            "--name",
            "Old",
        ],
    );
    cli_order(&db, "SW-001-4.0-SL03", 1, Units::Perpetual);
    cli_order(&db, "SW-001-4.0-AL02", 50, Units::Perpetual);
    db
}

/// A production file for SL03 on machine "ic1".
fn issue_args<'a>(h: &'a str, key: &'a str, out: &'a str, add: &'a str) -> Vec<&'a str> {
    IssueFlags {
        license_type: "production",
        host_id: h,
        machine: "ic1",
        server_part: "SW-001-4.0-SL03",
        add: Some(add),
        key,
        out,
    }
    .args()
}

#[test]
fn contract_flow_issue_refuse_download() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let keys = dir.path().join("keys");
    ok(
        &db,
        &[
            "keygen",
            "--kid",
            "vendor",
            "--out",
            keys.to_str().unwrap(),
            "--unencrypted",
        ],
    );
    let key = keys.join("vendor.key");
    let h = host(1);
    let out = dir.path().join("server.i3lic");
    let stdout = ok(
        &db,
        &issue_args(
            &h,
            key.to_str().unwrap(),
            out.to_str().unwrap(),
            "SW-001-4.0-AL02=50",
        ),
    );
    let id = stdout.trim();
    assert_eq!(id.len(), 32, "{stdout}");
    let bytes = std::fs::read(&out).unwrap();
    let pubkey =
        format::PublicKey::from_text(&std::fs::read_to_string(keys.join("vendor.pub")).unwrap())
            .unwrap();
    let a = format::UnverifiedFile::parse(&bytes)
        .unwrap()
        .verify(&pubkey)
        .unwrap()
        .activation()
        .clone();
    assert_eq!(a.file_id.to_string(), id);
    assert_eq!(a.generated_by, "tester");

    let before = summary_text(&db);
    let out2 = dir.path().join("server2.i3lic");
    let o = run(
        &db,
        &issue_args(
            &h,
            key.to_str().unwrap(),
            out2.to_str().unwrap(),
            "SW-001-4.0-AL02=1",
        ),
    );
    assert_eq!(o.status.code(), Some(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("SW-001-4.0-SL03") && err.contains("asked 1") && err.contains("available 0"),
        "{err}"
    );
    assert!(!out2.exists());
    assert_eq!(summary_text(&db), before);

    let again = dir.path().join("again.i3lic");
    ok(&db, &["download", id, "--out", again.to_str().unwrap()]);
    assert_eq!(std::fs::read(&again).unwrap(), bytes);
    let o = run(
        &db,
        &[
            "download",
            &"0".repeat(32),
            "--out",
            again.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(20));

    let s: serde_json::Value = serde_json::from_str(&before).unwrap();
    let al02 = summary_part(&s, "SW-001-4.0-AL02");
    assert_eq!(
        (
            al02["total"].as_u64(),
            al02["used"].as_u64(),
            al02["available"].as_u64()
        ),
        (Some(50), Some(50), Some(0))
    );
    let hq = s["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["site"] == "HQ")
        .unwrap();
    let hq_al02 = summary_part(hq, "SW-001-4.0-AL02");
    assert_eq!(hq_al02["used"].as_u64(), Some(50));
}

#[test]
fn bad_input_is_refused_with_its_exit_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let key = unencrypted_key(dir.path());
    let k = key.to_str().unwrap();
    let h = host(1);
    let out = dir.path().join("x.i3lic");
    let o = out.to_str().unwrap();
    let open_key = dir.path().join("open.key");
    std::fs::copy(&key, &open_key).unwrap();
    set_mode(&open_key, 0o644);
    let garbage_key = dir.path().join("garbage.key");
    std::fs::write(&garbage_key, "hello\n").unwrap();
    set_mode(&garbage_key, 0o600);
    let bad_catalog = dir.path().join("bad.catalog");
    std::fs::write(&bad_catalog, "license | I3_ACCESS_CLIENT | C\nversion | CIC | 4.0 | features=I3_FEATURE_SIP\naccess | SW-1 | CIC 4.0 | X | grants=I3_ACCESS_CLIENT:0/0\n").unwrap();
    let bad_request = dir.path().join("req.json");
    std::fs::write(&bad_request, "{\"account\": \"Contoso\", \"colour\": 1}").unwrap();

    let with = |change: &[(&str, &str)]| -> Vec<String> {
        let mut v: Vec<String> = issue_args(&h, k, o, "SW-001-4.0-AL02=5")
            .iter()
            .map(|s| s.to_string())
            .collect();
        for (flag, value) in change {
            let i = v.iter().position(|a| a == flag).unwrap();
            v[i + 1] = value.to_string();
        }
        v
    };
    let missing_key = dir.path().join("missing.key");
    let cases: Vec<(&str, Vec<String>, i32, &str)> = vec![
        (
            "unknown account",
            with(&[("--account", "Nobody")]),
            20,
            "unknown account 'Nobody'",
        ),
        (
            "unknown site",
            with(&[("--site", "Mars")]),
            20,
            "no install site 'Mars'",
        ),
        ("inactive site", with(&[("--site", "Old")]), 20, "inactive"),
        (
            "malformed host id",
            with(&[("--host-id", "1NKRG-23000-002B3-BW000-00GGK")]),
            3,
            "--host-id",
        ),
        (
            "garbage host id",
            with(&[("--host-id", "hello")]),
            3,
            "--host-id",
        ),
        (
            "unknown part",
            with(&[("--add", "SW-001-4.0-ZZ99=1")]),
            3,
            "SW-001-4.0-ZZ99",
        ),
        (
            "zero quantity",
            with(&[("--add", "SW-001-4.0-AL02=0")]),
            2,
            "out of range",
        ),
        (
            "quantity not a number",
            with(&[("--add", "SW-001-4.0-AL02=lots")]),
            2,
            "not a whole number",
        ),
        (
            "more than available",
            with(&[("--add", "SW-001-4.0-AL02=51")]),
            20,
            "asked 51, available 50",
        ),
        ("unknown type", with(&[("--type", "forever")]), 2, "--type"),
        (
            "key missing",
            with(&[("--key", missing_key.to_str().unwrap())]),
            4,
            "missing.key",
        ),
        (
            "key too open",
            with(&[("--key", open_key.to_str().unwrap())]),
            4,
            "0644",
        ),
        (
            "key is not a key",
            with(&[("--key", garbage_key.to_str().unwrap())]),
            3,
            "not a secret key",
        ),
        (
            "output folder missing",
            with(&[(
                "--out",
                dir.path().join("no/such/dir/x.i3lic").to_str().unwrap(),
            )]),
            4,
            "no/such/dir",
        ),
    ];
    let before = summary_text(&db);
    for (name, args, code, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(&db, &args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(!out.exists(), "{name} left an output file");
        assert_eq!(summary_text(&db), before, "{name} changed the ledger");
    }
    // Request and catalog problems.
    let mut args: Vec<&str> = issue_args(&h, k, o, "SW-001-4.0-AL02=5");
    args.extend(["--request", bad_request.to_str().unwrap()]);
    let r = run(&db, &args);
    assert_eq!(
        r.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let mut args = vec!["--catalog", bad_catalog.to_str().unwrap()];
    args.extend(issue_args(&h, k, o, "SW-001-4.0-AL02=5"));
    let r = run(&db, &args);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{err}");
    assert!(err.contains("line 3") && err.contains("zero"), "{err}");
    let mut args = vec!["--catalog", "/nonexistent/cic.catalog"];
    args.extend(issue_args(&h, k, o, "SW-001-4.0-AL02=5"));
    assert_eq!(run(&db, &args).status.code(), Some(4));
    // Orders and sites.
    for (args, code) in [
        (
            vec![
                "order",
                "add",
                "--account",
                "Contoso",
                "--part",
                "SW-001-4.0-AL02",
                "--quantity",
                "0",
            ],
            // Out of range (1 to 10000000): a usage error, as every out-of-range number.
            2,
        ),
        (
            vec![
                "order",
                "add",
                "--account",
                "Contoso",
                "--part",
                "SW-9",
                "--quantity",
                "1",
            ],
            3,
        ),
        (
            vec![
                "order",
                "add",
                "--account",
                "Nobody",
                "--part",
                "SW-001-4.0-AL02",
                "--quantity",
                "1",
            ],
            20,
        ),
        (
            vec![
                "order",
                "add",
                "--account",
                "Contoso",
                "--part",
                "SW-001-4.0-AL02",
            ],
            2,
        ),
        (vec!["account", "add", "Contoso"], 20),
        (
            vec!["site", "add", "--account", "Contoso", "--name", "HQ"],
            20,
        ),
        (vec!["frobnicate"], 2),
    ] {
        assert_eq!(run(&db, &args).status.code(), Some(code), "{args:?}");
        assert_eq!(summary_text(&db), before, "{args:?} changed the ledger");
    }
    assert!(!out.exists());
}

#[test]
fn request_file_issues_like_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let key = unencrypted_key(dir.path());
    let req = dir.path().join("req.json");
    let body = serde_json::json!({
        "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0", "type": "production",
        "host_id": host(3), "machine": "ic3", "server_part": "SW-001-4.0-SL03",
        "add": [{"part": "SW-001-4.0-AL02", "quantity": 7}], "mail_connector": "Microsoft Exchange Server"
    });
    std::fs::write(&req, body.to_string()).unwrap();
    let out = dir.path().join("r.i3lic");
    ok(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--machine",
            "override",
            "--key",
            key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\"machine\": \"override\"") && text.contains("\"quantity\": 7"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn encrypted_keygen_and_issue_with_the_passphrase() {
    use common::mode;
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let keys = dir.path().join("keys");
    let k = keys.to_str().unwrap();
    // As the user running the tests (no USER override), with stdin closed.
    let with_passphrase = |args: &[&str], pass: Option<&str>| {
        passphrase(command(&db).args(args), pass)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let gen = |extra: &[&str], pass: Option<&str>| {
        let mut args = vec!["keygen", "--kid", "v", "--out", k];
        args.extend(extra);
        with_passphrase(&args, pass)
    };
    let g = gen(&[], Some("s3cret"));
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let text = std::fs::read_to_string(keys.join("v.key")).unwrap();
    assert!(
        text.contains("i3lic-encrypted-secret-key-v1") && !text.contains("i3lic-secret-key-v1")
    );
    assert_eq!(mode(&keys.join("v.key")), 0o600);
    assert_eq!(mode(&keys.join("v.pub")), 0o644);
    // No overwrite without --force.
    assert_eq!(gen(&[], Some("s3cret")).status.code(), Some(4));
    assert_eq!(std::fs::read_to_string(keys.join("v.key")).unwrap(), text);

    let h = host(4);
    let key = keys.join("v.key");
    let out = dir.path().join("e.i3lic");
    let issue = |pass: Option<&str>| {
        with_passphrase(
            &issue_args(
                &h,
                key.to_str().unwrap(),
                out.to_str().unwrap(),
                "SW-001-4.0-AL02=5",
            ),
            pass,
        )
    };
    let before = summary_text(&db);
    let wrong = issue(Some("nope"));
    assert_eq!(
        wrong.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"));
    assert_eq!(summary_text(&db), before);
    let right = issue(Some("s3cret"));
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    assert!(!String::from_utf8_lossy(&right.stdout).contains("s3cret"));
    assert!(out.exists());
}

/// A keygen killed while writing (here by the file-size limit: SIGXFSZ at the first byte)
/// leaves no truncated key under the final names, so the next keygen is not refused and no
/// empty or partial `.key` is mistaken for a key.
#[cfg(unix)]
#[test]
fn keygen_killed_while_writing_leaves_no_partial_key() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 0 && exec \"$0\" keygen --kid v --out \"$1\" --unencrypted")
        .arg(common::bin())
        .arg(&keys)
        .output()
        .unwrap();
    assert!(!o.status.success(), "keygen succeeded under ulimit -f 0");
    assert_eq!(o.status.signal(), Some(25), "not killed by SIGXFSZ: {o:?}");
    for name in ["v.key", "v.pub"] {
        assert!(
            keys.join(name).symlink_metadata().is_err(),
            "{name} exists after a keygen killed while writing"
        );
    }
    let db = dir.path().join("ledger.db");
    ok(
        &db,
        &[
            "keygen",
            "--kid",
            "v",
            "--out",
            keys.to_str().unwrap(),
            "--unencrypted",
        ],
    );
    assert!(
        format::SecretKey::from_text(&std::fs::read_to_string(keys.join("v.key")).unwrap()).is_ok()
    );
}

/// A secret key owned by another user (here `nobody`, mode 0600) used to be used. It is
/// refused, as OpenSSH refuses one, naming its owner and the user running the issuer (exit
/// 4), before the passphrase is asked and before anything is recorded.
#[cfg(unix)]
#[test]
fn a_secret_key_owned_by_another_user_is_refused() {
    let me = common::current_uid();
    if me != 0 {
        eprintln!("note: skipped: giving the key to another user needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let key = common::unencrypted_key(dir.path());
    std::os::unix::fs::chown(&key, Some(common::NOBODY), Some(common::NOBODY)).unwrap();
    assert_eq!(common::mode(&key), 0o600);
    let head = ok(&db, &["audit", "head"]);
    let h = host(4);
    let out = dir.path().join("ic1.i3lic");
    let o = run(
        &db,
        &issue_args(
            &h,
            key.to_str().unwrap(),
            out.to_str().unwrap(),
            "SW-001-4.0-AL02=5",
        ),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(key.to_str().unwrap())
            && err.contains(&format!("owned by uid {}", common::NOBODY))
            && err.contains(&format!("not by uid {me}")),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(ok(&db, &["audit", "head"]), head, "something was recorded");
    // The library refuses it the same way.
    match issuer::keys::load_secret_key(&key, &mut || {
        panic!("the passphrase must not be asked for a key that is refused")
    }) {
        Err(e @ issuer::IssuerError::KeyNotOwned { .. }) => assert_eq!(e.exit_code(), 4),
        other => panic!("{other:?}"),
    }
    // Given back to this user, it works.
    std::os::unix::fs::chown(&key, Some(me), None).unwrap();
    let o = run(
        &db,
        &issue_args(
            &h,
            key.to_str().unwrap(),
            out.to_str().unwrap(),
            "SW-001-4.0-AL02=5",
        ),
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `--db` (and `I3LIC_DB`) that look like a URL are never file names: another scheme is a
/// usage error (exit 2), a PostgreSQL URL is a ledger on that server (here none answers:
/// exit 4, naming the ledger), nothing is created in the working directory for either, and a
/// password in the URL is never printed.
#[test]
fn a_url_given_as_the_ledger_is_never_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let run_in = |db: &str, via_env: bool| {
        let mut c = std::process::Command::new(common::bin());
        c.current_dir(dir.path()).env_remove("I3LIC_DB");
        if via_env {
            c.env("I3LIC_DB", db);
        } else {
            c.args(["--db", db]);
        }
        c.args(["account", "add", "X"]).output().unwrap()
    };
    for via_env in [false, true] {
        for (db, scheme) in [
            ("mysql://root:hunter2@db.example/x", "mysql"),
            ("http://root:hunter2@db.example/x", "http"),
            ("file:///tmp/ledger.db", "file"),
            ("sqlite://ledger.db", "sqlite"),
        ] {
            let out = run_in(db, via_env);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{db}: {err}");
            assert!(err.contains(&format!("{scheme}://")), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        // Port 1 of the loopback address: no server listens there.
        let out = run_in("postgres://vendor:hunter2@127.0.0.1:1/ledger", via_env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{err}");
        assert!(
            err.contains("postgres://vendor:***@127.0.0.1:1/ledger")
                && err.contains("cannot reach"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "created {left:?}");
}
