//! What the administrator sees, through the real `licadmin`: `license` (seed 001, "View
//! License Information" and "View Feature Information"), `station list`, `session list`,
//! `org list`, `user list --license`, the report's header and headings, and what `load`
//! changed. Text and JSON of each.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;
use format::{sign, Activation, Host, LicenseType, Restriction, Rules, Timestamp};
use serde_json::Value;
use store::TxExt as _;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const ACD2: &str = "I3_ACCESS_ACD_MEDIA_2";

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
        Cli { dir }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.p(name), text).unwrap();
        self.p(name).display().to_string()
    }

    fn run_as(&self, host_id: &str, args: &[&str]) -> Output {
        Command::new(BIN)
            .env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(self.p("store.db"))
            .args(args)
            .arg("--trust")
            .arg(self.p("vendor.pub"))
            .arg("--host-id")
            .arg(host_id)
            .output()
            .unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_as(&host().to_string(), args)
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

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        let o = self.run(&a);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// A store with `activation` loaded.
    fn loaded(activation: &Activation) -> Cli {
        let c = Cli::new();
        let f = c.write("server.i3lic", &sign(activation, &vendor()).unwrap());
        c.ok(&["load", &f]);
        c
    }
}

fn other_host() -> hostid::HostId {
    hostid::HostId::from_components(&hostid::Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

/// The line of `text` that contains `needle`.
fn line_of<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

fn keys(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap().to_string())
        .collect()
}

/// A development pair: restrictions, a feature, an expiry with grace, a switchover host.
fn development_pair() -> Activation {
    let mut a = activation(
        &[(CLIENT, 5, 2), (BASIC, 5, 3), (ACD1, 0, 0)],
        Rules::default(),
    );
    a.license_type = LicenseType::DevelopmentSmall;
    a.restrictions = vec![Restriction::HourlyDisconnect, Restriction::NotForProduction];
    a.features = vec!["I3_FEATURE_SIP".into()];
    a.expires_at = Timestamp::now().plus_days(100);
    a.grace_days = 30;
    a.switchover_host = Some(Host::new(other_host(), "ic2"));
    a
}

#[test]
fn license_shows_the_file_its_hosts_restrictions_features_and_keys_in_words() {
    // Seed 001: "you can access the Licenses page of the License Management dialog box to
    // view information about their licenses", and the Features page "to view the features
    // included with your licenses".
    let a = development_pair();
    let c = Cli::loaded(&a);
    let t = c.ok(&["license"]);
    assert!(line_of(&t, "File").contains(&a.file_id.to_string()), "{t}");
    assert!(line_of(&t, "Type").contains("Development (small)"), "{t}");
    assert!(line_of(&t, "Product").contains("CIC 4.0"), "{t}");
    assert!(line_of(&t, "Sold to").contains("Contoso"), "{t}");
    assert!(line_of(&t, "Site").contains("HQ"), "{t}");
    assert!(line_of(&t, "Expires").contains("day(s) left"), "{t}");
    assert!(line_of(&t, "Grace").contains("30 day(s), until"), "{t}");
    assert!(line_of(&t, "ic1").ends_with("<- this server"), "{t}");
    assert!(!line_of(&t, "ic2").contains("this server"), "{t}");
    assert!(t.contains("not licensed for production use"), "{t}");
    assert!(
        t.contains("interactions are disconnected every hour"),
        "{t}"
    );
    assert!(
        line_of(&t, "Features").contains("(1)") && t.contains("  I3_FEATURE_SIP"),
        "{t}"
    );
    let client = line_of(&t, CLIENT);
    assert!(
        client.contains("Client Access") && client.contains(" 5 ") && client.ends_with('2'),
        "{client}"
    );
    assert!(
        line_of(&t, BASIC).contains("pooled: dynamic remote stations"),
        "{t}"
    );
    // A key granted with nothing is listed too.
    assert!(line_of(&t, ACD1).contains("ACD Media 1"), "{t}");

    let j = c.json(&["license"]);
    assert_eq!(j["file_id"], a.file_id.to_string());
    assert_eq!(j["type"], "development-small");
    assert_eq!(j["type_label"], "Development (small)");
    assert_eq!(
        (j["product"].as_str(), j["version"].as_str()),
        (Some("CIC"), Some("4.0"))
    );
    assert_eq!(
        (j["sold_to"].as_str(), j["install_site"].as_str()),
        (Some("Contoso"), Some("HQ"))
    );
    assert_eq!(j["perpetual"], false);
    assert_eq!(j["expires_at"], a.expires_at.to_string());
    assert_eq!(j["grace_days"], 30);
    assert_eq!(j["this_server"], "primary");
    assert_eq!(j["hosts"][0]["this_server"], true);
    assert_eq!(j["hosts"][1]["role"], "switchover");
    assert_eq!(j["hosts"][1]["host_id"], other_host().to_string());
    assert_eq!(j["hosts"][1]["this_server"], false);
    assert_eq!(j["restrictions"][0]["kind"], "hourly-disconnect");
    assert_eq!(j["features"], serde_json::json!(["I3_FEATURE_SIP"]));
    let k = j["licenses"].as_array().unwrap();
    let client = k.iter().find(|k| k["name"] == CLIENT).unwrap();
    assert_eq!(client["description"], "Client Access");
    assert_eq!(
        (client["assigned"].as_u64(), client["pooled"].as_u64()),
        (Some(5), Some(2))
    );
    let basic = k.iter().find(|k| k["name"] == BASIC).unwrap();
    assert_eq!(basic["dynamic_remote_pool"], true);

    // The switchover server of the pair sees itself as such.
    let o = c.run_as(&other_host().to_string(), &["license", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["this_server"], "switchover");
    assert_eq!(j["hosts"][0]["this_server"], false);
    assert_eq!(j["hosts"][1]["this_server"], true);
    let o = c.run_as(&other_host().to_string(), &["license"]);
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(line_of(&t, "ic2").ends_with("<- this server"), "{t}");
}

#[test]
fn a_perpetual_production_file_says_so() {
    let c = Cli::loaded(&activation(&[(CLIENT, 1, 0)], Rules::default()));
    let t = c.ok(&["license"]);
    assert!(line_of(&t, "Expires").contains("never (perpetual)"), "{t}");
    assert!(line_of(&t, "Grace").contains("none"), "{t}");
    assert!(line_of(&t, "Restrictions").contains("none"), "{t}");
    assert!(t.contains("Features (0)\n  none"), "{t}");
    let j = c.json(&["license"]);
    assert_eq!(j["expires_at"], Value::Null);
    assert_eq!(j["perpetual"], true);
}

#[test]
fn without_a_loaded_file_the_views_of_the_license_say_so() {
    let c = Cli::new();
    for cmd in [&["license"][..], &["report"][..]] {
        let o = c.run(cmd);
        assert_eq!(o.status.code(), Some(21), "{cmd:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("no activation file is loaded"), "{err}");
        let mut a = cmd.to_vec();
        a.push("--json");
        let j: Value = serde_json::from_slice(&c.run(&a).stdout).unwrap();
        assert_eq!(j["error"]["kind"], "no-license-loaded");
    }
    // What the store holds is listed without a file.
    assert_eq!(c.ok(&["station", "list"]), "no stations\n");
    assert_eq!(c.ok(&["session", "list"]), "no one is logged on\n");
    assert!(c
        .ok(&["org", "list"])
        .contains("no activation file is loaded"));
    assert_eq!(
        c.json(&["org", "list"])["organizations_allowed"],
        Value::Null
    );
}

/// desk-1 (Basic Station, Client Access; alice logged on), fax-1 (Basic Station, licensing
/// off), phone-1 (nothing), and carol, concurrent, on a dynamic remote station.
fn floor() -> (Cli, String, String) {
    let c = Cli::loaded(&activation(
        &[(CLIENT, 3, 2), (BASIC, 3, 2), (ACD1, 2, 0), (ORG, 2, 0)],
        Rules::default(),
    ));
    c.ok(&["station", "add", "desk-1"]);
    c.ok(&["station", "add", "fax-1", "--kind", "fax"]);
    c.ok(&["station", "add", "phone-1", "--kind", "phone"]);
    c.ok(&["allocate", "--station", "desk-1", BASIC, CLIENT]);
    c.ok(&["allocate", "--station", "fax-1", BASIC]);
    c.ok(&["station", "disable", "fax-1"]);
    c.ok(&["user", "add", "alice"]);
    c.ok(&["user", "add", "carol", "--method", "concurrent"]);
    c.ok(&["allocate", "--user", "carol", CLIENT]);
    let alice = c.ok(&["login", "--user", "alice", "--station", "desk-1"]);
    let carol = c.ok(&[
        "login",
        "--user",
        "carol",
        "--remote-number",
        "+13175550100",
    ]);
    (c, alice.trim().to_string(), carol.trim().to_string())
}

#[test]
fn station_list_shows_kind_licensing_licenses_and_who_is_logged_on() {
    let (c, alice, _) = floor();
    let t = c.ok(&["station", "list"]);
    let head = t.lines().next().unwrap();
    for h in ["Station", "Kind", "Licensing", "Licenses", "Logged on"] {
        assert!(head.contains(h), "{t}");
    }
    let desk = line_of(&t, "desk-1");
    assert!(
        desk.contains("workstation") && desk.contains(" on "),
        "{desk}"
    );
    assert!(desk.contains(&format!("{CLIENT}, {BASIC}")), "{desk}");
    assert!(desk.contains(&format!("alice (session {alice})")), "{desk}");
    let fax = line_of(&t, "fax-1");
    assert!(
        fax.contains("fax") && fax.contains(" off ") && fax.ends_with('-'),
        "{fax}"
    );
    assert!(line_of(&t, "phone-1").contains("phone"), "{t}");

    let j = c.json(&["station", "list"]);
    let s = j["stations"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0]["name"], "desk-1");
    assert_eq!(s[0]["licensing"], true);
    assert_eq!(s[0]["licenses"], serde_json::json!([CLIENT, BASIC]));
    assert_eq!(s[0]["logged_on"]["user"], "alice");
    assert_eq!(s[0]["logged_on"]["session"], alice.as_str());
    assert_eq!(
        (s[1]["kind"].as_str(), s[1]["licensing"].as_bool()),
        (Some("fax"), Some(false))
    );
    assert_eq!(s[1]["logged_on"], Value::Null);
    assert_eq!(s[2]["licenses"], serde_json::json!([]));

    // --license: only the stations holding the key; none is said so.
    let j = c.json(&["station", "list", "--license", BASIC]);
    let names: Vec<&str> = j["stations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["desk-1", "fax-1"]);
    assert_eq!(
        c.ok(&["station", "list", "--license", ACD1]),
        format!("no station holds {ACD1}\n")
    );
    assert_eq!(
        c.run(&["station", "list", "--license", "client"])
            .status
            .code(),
        Some(3)
    );
}

#[test]
fn session_list_shows_user_place_licenses_held_and_lease_expiry() {
    let (c, alice, carol) = floor();
    let t = c.ok(&["session", "list"]);
    let head = t.lines().next().unwrap();
    for h in ["User", "Where", "Licenses held", "Lease expires", "Session"] {
        assert!(head.contains(h), "{t}");
    }
    let a = line_of(&t, "alice");
    assert!(
        a.contains("station desk-1")
            && a.contains(&format!("{CLIENT}, {BASIC}"))
            && a.ends_with(&alice),
        "{a}"
    );
    let cl = line_of(&t, "carol");
    assert!(
        cl.contains("remote number +13175550100") && cl.contains(&format!("{CLIENT}, {BASIC}")),
        "{cl}"
    );

    let j = c.json(&["session", "list"]);
    let s = j["sessions"].as_array().unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!(
        (s[0]["user"].as_str(), s[0]["station"].as_str()),
        (Some("alice"), Some("desk-1"))
    );
    // alice holds the station's licenses while logged on there; she acquired nothing.
    assert_eq!(s[0]["licenses"], serde_json::json!([CLIENT, BASIC]));
    assert_eq!(s[0]["acquired"], serde_json::json!([]));
    assert_eq!(s[1]["session"], carol.as_str());
    assert_eq!(s[1]["remote_number"], "+13175550100");
    assert_eq!(s[1]["acquired"], serde_json::json!([CLIENT, BASIC]));
    assert_eq!(s[1]["lease_seconds"], 600);
    let exp: Timestamp = s[1]["lease_expires_at"].as_str().unwrap().parse().unwrap();
    assert!(
        exp > Timestamp::now() && exp <= Timestamp::now().plus_secs(601),
        "{exp}"
    );
    c.ok(&["logout", &alice]);
    c.ok(&["logout", &carol]);
    assert_eq!(
        c.json(&["session", "list"])["sessions"],
        serde_json::json!([])
    );
}

#[test]
fn org_list_shows_limits_and_use_and_an_empty_organization() {
    let (c, _, _) = floor();
    assert!(c
        .ok(&["org", "list"])
        .starts_with("0 organization(s), 2 licensed\n"));
    c.ok(&["org", "add", "tenant-a"]);
    c.ok(&["org", "add", "tenant-b"]);
    c.ok(&[
        "org", "limit", "tenant-a", CLIENT, "--min", "1", "--max", "2",
    ]);
    c.ok(&["user", "add", "bob", "--org", "tenant-a"]);
    c.ok(&["allocate", "--user", "bob", CLIENT, ACD1]);
    let t = c.ok(&["org", "list"]);
    assert!(t.starts_with("2 organization(s), 2 licensed\n"), "{t}");
    assert!(t.contains("tenant-a (1 user(s))"), "{t}");
    let head = line_of(&t, "Minimum");
    for h in ["Key", "Name", "Maximum", "Used"] {
        assert!(head.contains(h), "{t}");
    }
    let client = line_of(&t, CLIENT);
    assert!(client.contains("Client Access"), "{client}");
    let nums: Vec<&str> = client.split_whitespace().rev().take(3).collect();
    assert_eq!(nums, ["1", "2", "1"], "used, max, min: {client}");
    let acd = line_of(&t, ACD1);
    let nums: Vec<&str> = acd.split_whitespace().rev().take(3).collect();
    assert_eq!(nums, ["1", "none", "0"], "a key used without limits: {acd}");
    assert!(
        t.contains("tenant-b (0 user(s))\n  no limits set, nothing in use\n"),
        "{t}"
    );

    let j = c.json(&["org", "list"]);
    assert_eq!(j["organizations_allowed"], 2);
    let o = j["organizations"].as_array().unwrap();
    assert_eq!(o[0]["name"], "tenant-a");
    assert_eq!(o[0]["users"], 1);
    assert_eq!(
        o[0]["keys"][1],
        serde_json::json!({"key": CLIENT, "description": "Client Access", "min": 1, "max": 2, "used": 1})
    );
    assert_eq!(o[1]["name"], "tenant-b");
    assert_eq!(o[1]["keys"], serde_json::json!([]));
}

#[test]
fn user_list_by_license_names_the_stations_that_hold_it() {
    let (c, _, _) = floor();
    let t = c.ok(&["user", "list", "--license", CLIENT]);
    let head = t.lines().next().unwrap();
    for h in ["User", "Method", "Organization", "Licenses", "Session"] {
        assert!(head.contains(h), "{t}");
    }
    assert!(line_of(&t, "carol").contains("concurrent"), "{t}");
    assert!(
        t.contains(&format!("Stations holding {CLIENT} (station licenses):")),
        "{t}"
    );
    assert!(line_of(&t, "  desk-1").contains("alice"), "{t}");
    assert!(!t.contains("fax-1"), "fax-1 holds no Client Access: {t}");
    let j = c.json(&["user", "list", "--license", CLIENT]);
    assert_eq!(j["users"].as_array().unwrap().len(), 1);
    assert_eq!(j["stations"][0]["name"], "desk-1");
    assert_eq!(j["keys"][0]["key"], CLIENT);
    // A key no station holds: said so; without --license no station section.
    let t = c.ok(&["user", "list", "--license", ACD1]);
    assert!(
        t.contains(&format!(
            "Stations holding {ACD1} (station licenses):\n  none\n"
        )),
        "{t}"
    );
    assert_eq!(
        c.json(&["user", "list", "--license", ACD1])["stations"],
        serde_json::json!([])
    );
    assert!(!c.ok(&["user", "list"]).contains("Stations holding"));
    assert_eq!(c.json(&["user", "list"])["stations"], Value::Null);
}

#[test]
fn report_has_a_header_headings_in_words_and_every_licensed_key() {
    let (c, _, _) = floor();
    let j = c.json(&["license"]);
    let t = c.ok(&["report"]);
    let mut lines = t.lines();
    let header = lines.next().unwrap();
    assert_eq!(
        header,
        format!(
            "License file {}: Production, expires never (perpetual)",
            j["file_id"].as_str().unwrap()
        )
    );
    assert_eq!(lines.next(), Some(""));
    let groups = lines.next().unwrap();
    let heads = lines.next().unwrap();
    assert!(
        groups.contains("Assignable") && groups.contains("Concurrent"),
        "{t}"
    );
    assert!(
        heads.starts_with("Key")
            && heads.contains("Name")
            && heads.contains("Configured")
            && heads.contains("In use")
            && heads.contains("Notes"),
        "{t}"
    );
    // The group headings stand over their columns.
    let col = |s: &str, w: &str| s.find(w).unwrap();
    assert!(col(groups, "Assignable") <= col(heads, "Allowed"), "{t}");
    assert!(col(groups, "Concurrent") > col(heads, "Configured"), "{t}");
    // ACD Media 1: licensed, held by nobody, listed.
    let acd = line_of(&t, ACD1);
    assert!(
        acd.starts_with(ACD1) && acd.contains("ACD Media 1"),
        "{acd}"
    );
    let basic = line_of(&t, BASIC);
    assert!(
        basic.contains("Basic Station")
            && basic.contains("concurrent columns: the dynamic remote station pool"),
        "{basic}"
    );
    assert!(
        line_of(&t, "Organizations").contains("0 of 2 licensed"),
        "{t}"
    );

    // JSON: the fields it always had, and the new ones beside them.
    let r = c.json(&["report"]);
    for f in [
        "file_id",
        "keys",
        "organizations",
        "organizations_allowed",
        "license_type",
        "perpetual",
    ] {
        assert!(r.get(f).is_some(), "{f}: {r}");
    }
    assert_eq!(r["license_type"], "production");
    let k = r["keys"].as_array().unwrap();
    let acd = k.iter().find(|k| k["name"] == ACD1).unwrap();
    for f in [
        "assignable_allowed",
        "assignable_configured",
        "assignable_dynamic",
        "concurrent_allowed",
        "concurrent_configured",
        "concurrent_in_use",
        "notes",
    ] {
        assert!(acd.get(f).is_some(), "{f}: {acd}");
    }
    assert_eq!(
        (
            acd["assignable_allowed"].as_u64(),
            acd["assignable_configured"].as_u64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(acd["description"], "ACD Media 1");
    let basic = k.iter().find(|k| k["name"] == BASIC).unwrap();
    assert_eq!(
        (
            basic["dynamic_remote_pool"].as_bool(),
            basic["concurrent_in_use"].as_u64()
        ),
        (Some(true), Some(1))
    );
}

#[test]
fn load_says_what_changed_against_the_file_it_replaced() {
    let c = Cli::new();
    let first = activation(
        &[(CLIENT, 2, 1), (BASIC, 2, 0), (ACD1, 1, 0)],
        Rules::default(),
    );
    let f1 = c.write("v1.i3lic", &sign(&first, &vendor()).unwrap());
    let j = c.json(&["load", &f1]);
    assert_eq!(j["file_id"], first.file_id.to_string());
    assert_eq!(
        (j["changes"].clone(), j["warnings"].clone()),
        (Value::Null, serde_json::json!([]))
    );
    let mut second = activation(
        &[(CLIENT, 5, 0), (BASIC, 2, 0), (ACD2, 3, 0)],
        Rules::default(),
    );
    second.features = vec!["I3_FEATURE_SIP".into()];
    let f2 = c.write("v2.i3lic", &sign(&second, &vendor()).unwrap());
    let o = c.run(&["load", &f2]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "same account, no warning: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains(&format!("replaced {}", first.file_id)), "{t}");
    assert!(
        t.contains(&format!(
            "  added    ACD Media 2 ({ACD2}): 3 assignable, 0 pooled"
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "  removed  ACD Media 1 ({ACD1}): had 1 assignable, 0 pooled"
        )),
        "{t}"
    );
    assert!(
        t.contains(&format!(
            "  changed  Client Access ({CLIENT}): assignable up 2 -> 5, pooled down 1 -> 0"
        )),
        "{t}"
    );
    assert!(t.contains("  added    feature I3_FEATURE_SIP"), "{t}");
    assert!(!t.contains(BASIC), "unchanged keys are not listed: {t}");

    // The same in JSON, for the next file (counts back down).
    let third = activation(
        &[(CLIENT, 4, 0), (BASIC, 2, 0), (ACD2, 3, 0)],
        Rules::default(),
    );
    let f3 = c.write("v3.i3lic", &sign(&third, &vendor()).unwrap());
    let j = c.json(&["load", &f3]);
    assert_eq!(j["replaced"], second.file_id.to_string());
    let ch = &j["changes"];
    assert_eq!(ch["previous_file_id"], second.file_id.to_string());
    assert_eq!((keys(ch, "added"), keys(ch, "removed")), (vec![], vec![]));
    assert_eq!(
        ch["changed"][0],
        serde_json::json!({"key": CLIENT, "description": "Client Access", "assigned_before": 5, "assigned_after": 4, "pooled_before": 0, "pooled_after": 0})
    );
    assert_eq!(
        ch["features_removed"],
        serde_json::json!(["I3_FEATURE_SIP"])
    );
    // The same file again: nothing changed.
    assert!(c
        .ok(&["load", &f3])
        .contains("the same file as before: nothing changed"));
}

#[test]
fn load_warns_when_the_new_file_is_for_another_account_or_site() {
    let c = Cli::new();
    let first = activation(&[(CLIENT, 2, 0)], Rules::default());
    c.ok(&[
        "load",
        &c.write("a.i3lic", &sign(&first, &vendor()).unwrap()),
    ]);
    let mut other_site = activation(&[(CLIENT, 2, 0)], Rules::default());
    other_site.install_site = "Branch".into();
    let o = c.run(&[
        "load",
        &c.write("b.i3lic", &sign(&other_site, &vendor()).unwrap()),
        "--json",
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("licadmin: warning: the new file is for site 'Branch' of account 'Contoso'; the file it replaced was for site 'HQ'"), "{err}");
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["warnings"][0]["kind"], "other-site");
    let mut other_account = activation(&[(CLIENT, 2, 0)], Rules::default());
    other_account.sold_to = "Fabrikam".into();
    let o = c.run(&[
        "load",
        &c.write("c.i3lic", &sign(&other_account, &vendor()).unwrap()),
    ]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning: the new file is for account 'Fabrikam', site 'HQ'; the file it replaced was for account 'Contoso', site 'Branch'"), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("warning: the new file is for account 'Fabrikam'"));
}

#[test]
fn names_stored_with_control_characters_print_escaped_in_every_view() {
    let (c, _, _) = floor();
    c.ok(&["org", "add", "tenant-a"]);
    let conn = store_sqlite::open_raw(c.p("store.db")).unwrap();
    conn.execute(
        "UPDATE stations SET name = ?1 WHERE name = 'desk-1'",
        ["desk\t1\u{1b}[2J\nfake-row"],
    )
    .unwrap();
    conn.execute(
        "UPDATE users SET name = ?1 WHERE name = 'alice'",
        ["al\u{202e}ice"],
    )
    .unwrap();
    conn.execute(
        "UPDATE orgs SET name = ?1 WHERE name = 'tenant-a'",
        ["ten\u{7}ant"],
    )
    .unwrap();
    drop(conn);
    for cmd in [
        &["station", "list"][..],
        &["session", "list"],
        &["org", "list"],
        &["user", "list", "--license", CLIENT],
    ] {
        let t = c.ok(cmd);
        assert!(
            !t.chars()
                .any(|ch| format::text::is_refused_char(ch) && ch != '\n'),
            "{cmd:?} printed a control raw: {t:?}"
        );
        assert!(
            !t.lines().any(|l| l.starts_with("fake-row")),
            "{cmd:?}: {t}"
        );
    }
    assert!(c
        .ok(&["station", "list"])
        .contains("desk\\t1\\u{1b}[2J\\nfake-row"));
    assert!(c.ok(&["session", "list"]).contains("al\\u{202e}ice"));
    assert!(c.ok(&["org", "list"]).contains("ten\\u{7}ant"));
}
