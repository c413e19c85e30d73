//! `licadmin` as an administrator runs it: the real binary, its output and exit codes.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vendor.pub"),
            vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("other.pub"),
            other_vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        Cli { dir }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.p(name), text).unwrap();
        self.p(name).display().to_string()
    }

    /// `licadmin --store S ARGS --trust vendor.pub --host-id HOST` (globals after the command).
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_remove("I3LIC_TRUST").env_remove("I3LIC_STORE");
        c.arg("--store").arg(self.p("store.db")).args(args);
        c.arg("--trust").arg(self.p("vendor.pub"));
        c.arg("--host-id").arg(host().to_string());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn code(&self, args: &[&str]) -> i32 {
        self.run(args).status.code().unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let o = self.run(&a);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stdout)))
    }
}

fn code_of(o: &Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn a_day_at_the_console() {
    let c = Cli::new();
    let f = c.write(
        "server.i3lic",
        &file(&[(CLIENT, 2, 1), (BASIC, 2, 0)], Rules::default()),
    );
    assert!(c.ok(&["load", &f]).starts_with("loaded "));
    c.ok(&["user", "add", "alice", "--method", "assignable"]);
    c.ok(&["user", "add", "carol", "--method", "concurrent"]);
    c.ok(&["station", "add", "desk-1", "--kind", "workstation"]);
    assert_eq!(
        c.ok(&["allocate", "--station", "desk-1", BASIC]),
        format!("{BASIC}\n")
    );
    c.ok(&["allocate", "--user", "alice", CLIENT]);
    c.ok(&["allocate", "--user", "carol", CLIENT]);
    let session = c.ok(&[
        "login",
        "--user",
        "alice",
        "--station",
        "desk-1",
        "--lease",
        "60",
    ]);
    let session = session.trim();
    assert_eq!(session.len(), 32, "{session}");
    let s2 = c.ok(&["login", "--user", "carol"]);
    c.ok(&["heartbeat", session]);
    let r = c.json(&["report"]);
    let client = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == CLIENT)
        .unwrap();
    assert_eq!(client["assignable_allowed"], 2);
    assert_eq!(client["assignable_configured"], 1);
    assert_eq!(client["concurrent_configured"], 1);
    assert_eq!(client["concurrent_in_use"], 1);
    let text = c.ok(&["report"]);
    assert!(text.contains("Name") && text.contains(CLIENT), "{text}");
    let users = c.json(&["user", "list", "--license", CLIENT]);
    assert_eq!(users["users"].as_array().unwrap().len(), 2);
    assert_eq!(c.ok(&["compliance"]), "");
    assert_eq!(c.ok(&["check"]), "consistent\n");
    c.ok(&["logout", session]);
    c.ok(&["logout", s2.trim()]);
    c.ok(&["deallocate", "--user", "alice", CLIENT]);
    c.ok(&["station", "disable", "desk-1"]);
    c.ok(&["station", "enable", "desk-1"]);
    c.ok(&["station", "remove", "desk-1"]);
    c.ok(&["user", "remove", "alice"]);
}

#[test]
fn global_options_go_before_or_after_the_command_and_come_from_the_environment() {
    let c = Cli::new();
    let f = c.write("server.i3lic", &file(&[(CLIENT, 2, 0)], Rules::default()));
    let host = host().to_string();
    let o = Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .args(["--host-id", &host, "--trust"])
        .arg(c.p("vendor.pub"))
        .arg("load")
        .arg(&f)
        .arg("--store")
        .arg(c.p("store.db"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let trust = std::env::join_paths([c.p("other.pub"), c.p("vendor.pub")]).unwrap();
    let o = Command::new(BIN)
        .env("I3LIC_STORE", c.p("store.db"))
        .env("I3LIC_TRUST", &trust)
        .args(["report", "--json", "--host-id", &host])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains(CLIENT));
    // Without any trusted key, what needs the license is a usage error; the rest works.
    let o = Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env("I3LIC_STORE", c.p("store.db"))
        .args(["user", "add", "bob"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env("I3LIC_STORE", c.p("store.db"))
        .args(["allocate", "--user", "bob", CLIENT])
        .output()
        .unwrap();
    assert_eq!(code_of(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--trust"));
}

#[test]
fn every_bad_input_has_its_exit_code_and_changes_nothing() {
    let c = Cli::new();
    let (mut chain, first) = Chain_::first(
        &[(CLIENT, 1, 1), (BASIC, 1, 0), (ORG, 1, 0)],
        Rules::default(),
    );
    let f1 = c.write("v1.i3lic", &first);
    c.ok(&["load", &f1]);
    c.ok(&["user", "add", "alice"]);
    c.ok(&["user", "add", "bob"]);
    // Usage (2).
    assert_eq!(c.code(&[]), 2);
    assert_eq!(c.code(&["user", "add", "x", "--method", "sometimes"]), 2);
    assert_eq!(
        c.code(&["allocate", "--user", "alice", "--station", "s", CLIENT]),
        2
    );
    assert_eq!(c.code(&["allocate", CLIENT]), 2);
    assert_eq!(c.code(&["login", "--user", "alice", "--lease", "soon"]), 2);
    assert_eq!(c.code(&["station", "add", "s", "--kind", "teapot"]), 2);
    // Malformed input (3).
    assert_eq!(c.code(&["user", "add", " padded"]), 3);
    assert_eq!(c.code(&["user", "add", "alice"]), 3, "exists");
    assert_eq!(c.code(&["allocate", "--user", "alice", "not_a_key"]), 3);
    assert_eq!(c.code(&["login", "--user", "alice", "--lease", "0"]), 3);
    assert_eq!(
        c.code(&["login", "--user", "alice", "--remote-number", "call me"]),
        3
    );
    assert_eq!(c.code(&["heartbeat", "xyz"]), 3);
    let junk = c.write("junk.i3lic", "hello");
    assert_eq!(c.code(&["load", &junk]), 3);
    let mut bad_host = Command::new(BIN);
    bad_host
        .arg("--store")
        .arg(c.p("store.db"))
        .args(["report", "--host-id", "NOT-A-CODE", "--trust"])
        .arg(c.p("vendor.pub"));
    assert_eq!(code_of(&bad_host.output().unwrap()), 3);
    // I/O (4).
    assert_eq!(
        c.code(&["load", &c.p("missing.i3lic").display().to_string()]),
        4
    );
    let mut no_key = Command::new(BIN);
    no_key
        .arg("--store")
        .arg(c.p("store.db"))
        .args(["report", "--trust"])
        .arg(c.p("nokey.pub"));
    assert_eq!(code_of(&no_key.output().unwrap()), 4);
    // The file refused (10, 11, 12, 16).
    let next = chain.next(&[(CLIENT, 5, 5)], Rules::default());
    let tampered = c.write(
        "tampered.i3lic",
        &next.replace("\"assigned\": 5", "\"assigned\": 50"),
    );
    assert_eq!(c.code(&["load", &tampered]), 10);
    let foreign = format::sign(
        &activation(&[(CLIENT, 9, 0)], Rules::default()),
        &other_vendor(),
    )
    .unwrap();
    let foreign = c.write("foreign.i3lic", &foreign);
    assert_eq!(c.code(&["load", &foreign]), 11);
    let mut other_host = activation(&[(CLIENT, 9, 0)], Rules::default());
    other_host.primary_host.host_id = hostid::HostId::from_components(&hostid::Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap();
    let elsewhere = c.write(
        "elsewhere.i3lic",
        &format::sign(&other_host, &vendor()).unwrap(),
    );
    assert_eq!(c.code(&["load", &elsewhere]), 12);
    let f2 = c.write("v2.i3lic", &next);
    c.ok(&["load", &f2]);
    assert_eq!(c.code(&["load", &f1]), 16, "rollback");
    // Unknown (20).
    assert_eq!(c.code(&["allocate", "--user", "nobody", CLIENT]), 20);
    assert_eq!(c.code(&["station", "remove", "nowhere"]), 20);
    assert_eq!(c.code(&["user", "add", "dave", "--org", "Nope"]), 20);
    assert_eq!(c.code(&["logout", &"0".repeat(32)]), 20);
    // No license (21) and a rule (22).
    c.ok(&["allocate", "--user", "alice", CLIENT]);
    for _ in 0..4 {
        c.ok(&[
            "user",
            "add",
            &format!("u{}", c.ok(&["user", "list", "--json"]).len()),
        ]);
    }
    assert_eq!(c.code(&["allocate", "--user", "alice", BASIC]), 22);
    assert_eq!(
        c.code(&["org", "add", "O"]),
        21,
        "v2 grants no organization"
    );
    // Nothing changed by any of it.
    let users = c.json(&["user", "list"]);
    assert_eq!(users["users"].as_array().unwrap().len(), 6);
    let r = c.json(&["report"]);
    let client = r["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == CLIENT)
        .unwrap();
    assert_eq!(
        (
            client["assignable_allowed"].as_u64(),
            client["assignable_configured"].as_u64()
        ),
        (Some(5), Some(1))
    );
    assert_eq!(c.ok(&["check"]), "consistent\n");
}

#[test]
fn errors_are_json_on_stdout_with_json() {
    let c = Cli::new();
    let f = c.write("server.i3lic", &file(&[(BASIC, 1, 0)], Rules::default()));
    c.ok(&["load", &f]);
    c.ok(&["user", "add", "alice"]);
    let v = c.json(&["allocate", "--user", "alice", BASIC]);
    assert_eq!(v["error"]["kind"], "rule-holder");
    assert_eq!(v["error"]["exit_code"], 22);
    assert!(v["error"]["message"].as_str().unwrap().contains(BASIC));
    let v = c.json(&["allocate", "--user", "nobody", BASIC]);
    assert_eq!(v["error"]["kind"], "unknown-user");
}

#[test]
fn preview_and_compliance_report_what_a_smaller_file_leaves_out_of_compliance() {
    let c = Cli::new();
    let (mut chain, first) = Chain_::first(&[(CLIENT, 3, 0)], Rules::default());
    c.ok(&["load", &c.write("v1.i3lic", &first)]);
    for u in ["a", "b", "c"] {
        c.ok(&["user", "add", u]);
        c.ok(&["allocate", "--user", u, CLIENT]);
    }
    let smaller = c.write("v2.i3lic", &chain.next(&[(CLIENT, 1, 0)], Rules::default()));
    let p = c.ok(&["preview", &smaller]);
    assert!(p.contains("out of compliance by 2"), "{p}");
    let v = c.json(&["preview", &smaller]);
    assert_eq!(v["out_of_compliance"][0]["key"], CLIENT);
    assert_eq!(c.ok(&["compliance"]), "", "preview loaded nothing");
    let l = c.ok(&["load", &smaller]);
    assert!(l.contains("out of compliance by 2"), "{l}");
    let o = c.run(&["compliance"]);
    assert_eq!(code_of(&o), 23);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("licensed 1, in use 3"), "{text}");
    let v = c.json(&["compliance"]);
    assert_eq!(v["compliant"], false);
    assert_eq!(v["events"].as_array().unwrap().len(), 1);
    let r = c.ok(&["report"]);
    assert!(r.contains("assignable out of compliance by 2"), "{r}");
    c.ok(&["user", "add", "d"]);
    assert_eq!(c.code(&["allocate", "--user", "d", CLIENT]), 21);
}

#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let c = Cli::new();
    // Enough keys for the report to overflow a pipe buffer.
    let names: Vec<String> = (0..1500)
        .map(|i| format!("I3_ACCESS_GENERATED_KEY_{i:05}"))
        .collect();
    let lic: Vec<(&str, u32, u32)> = names.iter().map(|n| (n.as_str(), 1, 1)).collect();
    c.ok(&["load", &c.write("big.i3lic", &file(&lic, Rules::default()))]);
    let mut child = c
        .cmd(&["report"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(code_of(&o), 0, "{err}");
}

/// A malformed `--host-id` is reported before any key file is read (docs/FORMAT.md 15.3), so
/// a missing `--trust` file does not hide the typo.
#[test]
fn a_malformed_host_id_is_reported_before_the_trusted_keys_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(dir.path().join("store.db"))
        .args(["--host-id", "1Q2H4-NOT-A-CODE", "--trust"])
        .arg(dir.path().join("missing.pub"))
        .args(["--json", "report"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("bad-host-id"), "{stdout}");
}
