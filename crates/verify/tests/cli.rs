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

/// `licverify` with `args`, killed (and the test failed) if it has not ended within 20 s:
/// a regression that blocks on a FIFO fails instead of hanging the test run.
fn licverify_within_limit(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    use std::process::Stdio;
    let mut c = Command::new(env!("CARGO_BIN_EXE_licverify"));
    for a in args {
        c.arg(a);
    }
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "licverify blocked for 20 s (killed): {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Make a FIFO at `path` with `mkfifo`; false (with a note) where there is no `mkfifo`.
fn mkfifo(path: &Path) -> bool {
    match Command::new("mkfifo").arg(path).status() {
        Ok(s) if s.success() => true,
        r => {
            eprintln!("note: skipping the FIFO cases: mkfifo is not available ({r:?})");
            false
        }
    }
}

/// A FIFO as the file, as `--trust` or as `--state` used to block `licverify` (with
/// `--state`, while holding the exclusive state lock); `/dev/zero` as the file read as
/// "too large", `/dev/null` as the state file as "corrupt". Each is refused at once as not a
/// regular file, exit 4, naming what it is.
#[test]
fn fifos_devices_and_folders_are_refused_as_not_regular_files() {
    let s = setup();
    let fifo = s.file.with_file_name("fifo");
    let state = s.file.with_file_name("state.json");
    let folder = s.file.with_file_name("folder");
    std::fs::create_dir(&folder).unwrap();
    let h = &s.host;
    let refused = |o: &Output, what: &str, path: &Path, kind: &str| {
        let err = stderr(o);
        assert_eq!(code(o), 4, "{err}");
        assert!(
            err.contains(&format!(
                "{what} {} is not a regular file (it is {kind}",
                path.display()
            )),
            "{err}"
        );
    };
    let mut cases: Vec<(Output, &str, PathBuf, &str)> = Vec::new();
    if mkfifo(&fifo) {
        let fifo_kind = "a FIFO";
        cases.push((
            licverify_within_limit(&[&fifo, &"--trust", &s.vendor, &"--host-id", h]),
            "activation file",
            fifo.clone(),
            fifo_kind,
        ));
        cases.push((
            licverify_within_limit(&[&s.file, &"--trust", &fifo, &"--host-id", h]),
            "trusted key",
            fifo.clone(),
            fifo_kind,
        ));
        // Twice: the first no longer holds the state lock while blocked, so the second is
        // not refused as locked either.
        for _ in 0..2 {
            cases.push((
                licverify_within_limit(&[
                    &s.file,
                    &"--trust",
                    &s.vendor,
                    &"--host-id",
                    h,
                    &"--state",
                    &fifo,
                ]),
                "state file",
                fifo.clone(),
                fifo_kind,
            ));
        }
        // A FIFO where the state lock file goes.
        let lock = s.file.with_file_name("state.json.lock");
        if mkfifo(&lock) {
            for extra in [&[][..], &["--at", "2025-01-01"][..]] {
                let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
                    &s.file,
                    &"--trust",
                    &s.vendor,
                    &"--host-id",
                    h,
                    &"--state",
                    &state,
                ];
                for a in extra {
                    args.push(a);
                }
                cases.push((
                    licverify_within_limit(&args),
                    "state lock file",
                    lock.clone(),
                    fifo_kind,
                ));
            }
        }
    }
    let zero = Path::new("/dev/zero");
    let null = Path::new("/dev/null");
    if zero.exists() && null.exists() {
        cases.push((
            licverify_within_limit(&[&zero, &"--trust", &s.vendor, &"--host-id", h]),
            "activation file",
            zero.to_path_buf(),
            "a character device",
        ));
        cases.push((
            licverify_within_limit(&[
                &s.file,
                &"--trust",
                &s.vendor,
                &"--host-id",
                h,
                &"--state",
                &null,
            ]),
            "state file",
            null.to_path_buf(),
            "a character device",
        ));
    } else {
        eprintln!("note: skipping the device cases: no /dev/zero or /dev/null");
    }
    cases.push((
        licverify_within_limit(&[&folder, &"--trust", &s.vendor, &"--host-id", h]),
        "activation file",
        folder.clone(),
        "a folder",
    ));
    for (o, what, path, kind) in &cases {
        refused(o, what, path, kind);
        assert!(!stderr(o).contains("at most 1048576"), "{}", stderr(o));
        assert!(!stderr(o).contains("corrupt"), "{}", stderr(o));
    }
    // The kind scripts see.
    let o = licverify_within_limit(&[&folder, &"--trust", &s.vendor, &"--host-id", h, &"--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "not-regular-file");
    assert_eq!(v["error"]["code"], 4);
    // Nothing was written in place of the state FIFO or device.
    assert!(!state.exists());
}

/// A standard output whose reader is already gone: writing to it fails with a broken pipe.
fn closed_stdout() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// `licverify F --json | head -1` used to panic (exit 101, a backtrace). A reader that went
/// away ends the output quietly, and the exit status stays the verdict on the file.
#[test]
fn a_closed_output_pipe_keeps_the_verdict_and_prints_nothing_else() {
    let s = setup();
    for (trust, expected) in [(&s.vendor, 0), (&s.other, 11)] {
        for json in [false, true] {
            let mut c = Command::new(env!("CARGO_BIN_EXE_licverify"));
            c.arg(&s.file)
                .arg("--trust")
                .arg(trust)
                .args(["--host-id", &s.host]);
            if json {
                c.arg("--json");
            }
            let o = c.stdout(closed_stdout()).output().unwrap();
            assert_eq!(code(&o), expected, "json {json}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(
                !err.contains("panicked") && !err.contains("Broken pipe"),
                "{err}"
            );
            if expected == 0 || json {
                assert_eq!(err, "", "json {json}");
            }
        }
    }
}

/// Any other failure to write the output (a full disk) is an I/O error, exit 4.
#[cfg(target_os = "linux")]
#[test]
fn an_output_that_cannot_be_written_is_exit_4() {
    let Ok(full) = std::fs::File::create("/dev/full") else {
        eprintln!("note: skipping: no /dev/full");
        return;
    };
    let s = setup();
    let o = Command::new(env!("CARGO_BIN_EXE_licverify"))
        .arg(&s.file)
        .arg("--trust")
        .arg(&s.vendor)
        .args(["--host-id", &s.host, "--json"])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write the output"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dash_v_prints_the_program_version_and_version_stays_the_product_version() {
    let out = licverify(&[&"-V"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("licverify {}\n", env!("CARGO_PKG_VERSION"))
    );
    // --version still names the product version the file must license.
    let s = setup();
    let out = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &s.host,
        &"--product",
        &"CIC",
        &"--version",
        &"4.1",
    ]);
    assert_eq!(out.status.code(), Some(15), "{out:?}");
}

#[test]
fn a_dash_reads_the_file_from_standard_input() {
    use std::io::Write as _;
    let s = setup();
    let bytes = std::fs::read(&s.file).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_licverify"))
        .args(["-", "--trust"])
        .arg(&s.vendor)
        .args(["--host-id", &s.host, "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
}

#[test]
fn a_tolerant_host_match_says_which_components_matched() {
    let s = setup();
    // Host A with its network card replaced: one component differs.
    let nic = host_a_new_nic().to_string();
    let out = licverify(&[&s.file, &"--trust", &s.vendor, &"--host-id", &nic]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("host match       tolerant match: 1 component(s) differ")
            && text.contains("mac DIFFERENT")
            && text.contains("machine-id equal"),
        "{text}"
    );
    let out = licverify(&[
        &s.file,
        &"--trust",
        &s.vendor,
        &"--host-id",
        &nic,
        &"--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["license"]["host_match"];
    assert_eq!(m["differing"], 1, "{m}");
    assert!(m["strong_equal"].as_u64().unwrap() >= 2, "{m}");
    // The exact host: no component differs.
    let out = licverify(&[&s.file, &"--trust", &s.vendor, &"--host-id", &s.host]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("host match       exact match"));
}

#[test]
fn inspect_shows_what_a_file_says_labelled_unverified() {
    let s = setup();
    // An altered copy: its signature fails, and inspect still shows what it claims.
    let text = std::fs::read_to_string(&s.file).unwrap();
    let altered = s.file.with_file_name("altered.i3lic");
    std::fs::write(
        &altered,
        text.replace("\"sold_to\": \"Contoso\"", "\"sold_to\": \"Fabrikam\""),
    )
    .unwrap();
    assert_eq!(
        licverify(&[&altered, &"--trust", &s.vendor, &"--host-id", &s.host])
            .status
            .code(),
        Some(10)
    );
    let out = licverify(&[&"inspect", &altered]);
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.starts_with("UNVERIFIED: "), "{shown}");
    assert!(
        shown.contains("NOT checked") && shown.contains("Fabrikam"),
        "{shown}"
    );
    let out = licverify(&[&"inspect", &altered, &"--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["activation"]["sold_to"], "Fabrikam");
    // What cannot be read at all keeps its exit code.
    let empty = s.file.with_file_name("empty.i3lic");
    std::fs::write(&empty, "").unwrap();
    let out = licverify(&[&"inspect", &empty, &"--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["exit_code"], 3);
}

/// A file name holding a bidirectional override or a zero-width character used to be printed
/// raw in the error (the line read reordered); it is escaped as control characters are.
#[test]
fn hidden_characters_in_what_is_printed_are_escaped() {
    let s = setup();
    let missing = s
        .file
        .with_file_name("evil\u{202E}fdp.\u{200B}i3lic\u{2028}");
    let o = licverify(&[&missing, &"--trust", &s.vendor, &"--host-id", &s.host]);
    assert_eq!(code(&o), 4);
    let err = stderr(&o);
    assert!(
        !err.chars()
            .any(|c| format::text::is_refused_char(c) && c != '\n'),
        "{err:?}"
    );
    assert!(
        err.contains("evil\\u{202e}fdp.\\u{200b}i3lic\\u{2028}"),
        "{err}"
    );
}

/// A malformed `--host-id` is reported before any file is read (FORMAT.md 12.3): with a
/// missing trusted key, a missing file and a missing state file too, the host-ID error
/// (exit 3, `bad-host-id`) is what is reported.
#[test]
fn a_malformed_host_id_is_reported_before_any_file_is_read() {
    let s = setup();
    let missing_key = s.file.with_file_name("nope.pub");
    let missing_file = s.file.with_file_name("nope.i3lic");
    let state = s.file.with_file_name("state.json");
    for file in [&s.file, &missing_file] {
        let o = licverify(&[
            file,
            &"--trust",
            &missing_key,
            &"--host-id",
            &"NOT-A-CODE",
            &"--state",
            &state,
            &"--json",
        ]);
        assert_eq!(code(&o), 3, "{}", stdout(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["error"]["kind"], "bad-host-id", "{v}");
        assert!(!state.exists(), "nothing was written");
    }
}
