//! The administrator's commands of `licadmin` as an administrator runs them: the real binary,
//! its output (text and JSON) and exit codes.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    /// A store with `licenses` loaded.
    fn new(licenses: &[(&str, u32, u32)]) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vendor.pub"),
            vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        let c = Cli { dir };
        let f = c.write("server.i3lic", &file(licenses, Rules::default()));
        c.ok(&["load", &f]);
        c
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.p(name), text).unwrap();
        self.p(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(self.p("store.db"))
            .args(args)
            .arg("--trust")
            .arg(self.p("vendor.pub"))
            .arg("--host-id")
            .arg(host().to_string())
            .output()
            .unwrap()
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

    /// Exit code and standard error of a refused command.
    fn fails(&self, args: &[&str]) -> (i32, String) {
        let o = self.run(args);
        assert!(!o.status.success(), "{args:?} succeeded");
        (
            o.status.code().unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        let o = self.run(&a);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&o.stdout)))
    }
}

#[test]
fn org_remove_is_refused_with_exit_21_naming_the_users() {
    let c = Cli::new(&[(ORG, 2, 0)]);
    c.ok(&["org", "add", "tenant-a"]);
    c.ok(&["user", "add", "alice", "--org", "tenant-a"]);
    let (code, err) = c.fails(&["org", "remove", "tenant-a"]);
    assert_eq!(code, 21, "{err}");
    assert!(err.contains("1 user(s): alice"), "{err}");
    let j = c.json(&["org", "remove", "tenant-a"]);
    assert_eq!(j["error"]["kind"], "organization-in-use");
    c.ok(&["user", "remove", "alice"]);
    c.ok(&["org", "remove", "tenant-a"]);
    assert!(
        String::from_utf8(c.run(&["org", "remove", "--help"]).stdout)
            .unwrap()
            .contains("exit 21")
    );
}

#[test]
fn user_edit_method_licensing_and_remote_logon() {
    let c = Cli::new(&[(CLIENT, 1, 0), (BASIC, 0, 1)]);
    c.ok(&["user", "add", "alice", "--license", CLIENT]);
    let (code, err) = c.fails(&["user", "edit", "alice", "--method", "concurrent"]);
    assert_eq!(code, 22, "{err}");
    assert!(err.contains(CLIENT), "{err}");
    let t = c.ok(&["user", "edit", "alice", "--licensing", "off"]);
    assert!(t.contains("licensing off"), "{t}");
    assert!(
        t.contains(&format!("released (kept as settings): {CLIENT}")),
        "{t}"
    );
    c.ok(&["user", "add", "bob", "--license", CLIENT]);
    let t = c.ok(&["user", "edit", "alice", "--licensing", "on"]);
    assert!(
        t.contains(&format!("not restored: {CLIENT}: no assignable license")),
        "{t}"
    );
    let j = c.json(&["user", "edit", "bob", "--remote-logon", "deny"]);
    assert_eq!(j["remote_logon"], false);
    let (code, err) = c.fails(&["login", "--user", "bob", "--remote-number", "+13175550100"]);
    assert_eq!(code, 22, "{err}");
    assert!(
        err.contains("User-defined Telephone Number on Remote Login"),
        "{err}"
    );
    c.ok(&["user", "edit", "bob", "--remote-logon", "allow"]);
    c.ok(&["login", "--user", "bob", "--remote-number", "+13175550100"]);
}

#[test]
fn adding_with_licenses_and_the_basic_station_warning() {
    let c = Cli::new(&[(CLIENT, 1, 0), (BASIC, 1, 0), (ORG, 1, 0)]);
    let j = c.json(&["station", "add", "desk-1", "--license", CLIENT]);
    assert_eq!(j["allocated"], serde_json::json!([CLIENT]));
    let w = j["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("all active stations require a Basic Station license"),
        "{w}"
    );
    let o = c.run(&["allocate", "--station", "desk-1", BASIC]);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = c.run(&["station", "add", "desk-2"]);
    assert!(o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.starts_with("licadmin: warning: station 'desk-2' has no Basic Station"),
        "{err}"
    );
    // A refused key leaves no user behind.
    let (code, err) = c.fails(&["user", "add", "alice", "--license", ORG]);
    assert_eq!(code, 22, "{err}");
    assert!(err.contains("counted by organizations only"), "{err}");
    assert_eq!(c.json(&["user", "list"])["users"], serde_json::json!([]));
}

#[test]
fn import_is_all_or_nothing_and_names_the_line_and_column() {
    let c = Cli::new(&[(CLIENT, 2, 0), (BASIC, 2, 0)]);
    let bad = c.write(
        "bad.csv",
        &format!("name,method,organization,licenses\nalice,,,{CLIENT}\nbob,,,{CLIENT};NOPE!\n"),
    );
    let (code, err) = c.fails(&["import", "users", &bad]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("line 3, column licenses"), "{err}");
    assert_eq!(c.json(&["user", "list"])["users"], serde_json::json!([]));
    let good = c.write(
        "good.csv",
        &format!("name,method,organization,licenses\r\n\"Smith, Bob\",,,{CLIENT}\r\n"),
    );
    let t = c.ok(&["import", "users", &good]);
    assert!(t.starts_with("imported 1 user(s) with 1 license(s)"), "{t}");
    let st = c.write("st.csv", "name,kind,licenses\ndesk-1,,\n");
    let j = c.json(&["import", "stations", &st]);
    assert_eq!(j["added"], 1);
    assert!(j["warnings"][0].as_str().unwrap().contains("desk-1"));
}

#[test]
fn workgroups_and_the_logon_warning_in_text_and_json() {
    let c = Cli::new(&[(CLIENT, 2, 0), (ACD1, 2, 0)]);
    let (code, _) = c.fails(&["workgroup", "add", "support", "--media", "call,fax"]);
    assert_eq!(code, 3);
    c.ok(&["workgroup", "add", "support", "--media", "call,email,chat"]);
    c.ok(&["user", "add", "alice", "--license", CLIENT, ACD1]);
    c.ok(&["workgroup", "member", "add", "support", "alice"]);
    let j = c.json(&["workgroup", "list"]);
    assert_eq!(
        j["workgroups"][0]["media"],
        serde_json::json!(["call", "chat", "email"])
    );
    assert_eq!(j["workgroups"][0]["members"], serde_json::json!(["alice"]));
    assert!(c.ok(&["workgroup", "list"]).contains("support"));
    let o = c.run(&["login", "--user", "alice"]);
    assert!(o.status.success());
    let id = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        id.trim().len(),
        32,
        "only the session id on standard output: {id}"
    );
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains("until you resolve the licensing problem"),
        "{err}"
    );
    assert!(err.contains("it will not receive chat, email"), "{err}");
    let j = c.json(&["login", "--user", "alice"]);
    assert!(
        j["warnings"][0].as_str().unwrap().contains("chat, email"),
        "{j}"
    );
    c.ok(&["workgroup", "member", "remove", "support", "alice"]);
    let (code, _) = c.fails(&["workgroup", "member", "remove", "support", "alice"]);
    assert_eq!(code, 3);
}

#[test]
fn login_reports_the_session_it_replaced_and_heartbeat_says_why_a_session_ended() {
    let c = Cli::new(&[(CLIENT, 1, 0), (BASIC, 1, 0)]);
    c.ok(&["user", "add", "alice", "--license", CLIENT]);
    c.ok(&["station", "add", "desk-1", "--license", BASIC]);
    let first = c.ok(&["login", "--user", "alice"]).trim().to_string();
    let o = c.run(&["login", "--user", "alice", "--station", "desk-1"]);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.contains(&format!(
            "ended session {first} of user 'alice': logged on elsewhere"
        )),
        "{err}"
    );
    let second = String::from_utf8(o.stdout).unwrap().trim().to_string();
    let (code, err) = c.fails(&["heartbeat", &first]);
    assert_eq!(code, 20, "{err}");
    assert!(err.contains(&format!("session {first} ended at ")), "{err}");
    assert!(err.trim_end().ends_with("logged on elsewhere"), "{err}");
    let j = c.json(&["heartbeat", &first]);
    assert_eq!(j["error"]["kind"], "session-ended");
    let j = c.json(&["login", "--user", "alice"]);
    assert_eq!(j["replaced"], second.as_str());
    // A session never started is still unknown.
    let (code, err) = c.fails(&["heartbeat", &"0".repeat(32)]);
    assert_eq!(code, 20);
    assert!(err.contains("unknown session"), "{err}");
}
