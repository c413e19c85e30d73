//! The `issuer` binary and the catalog's license rules: a file that breaks a rule is refused
//! with exit 22 naming the rule and the counts, and nothing is recorded (issue, batch, update,
//! and files issued after an upgrade); `catalog show` and `catalog rules`; catalogs with bad
//! rules, and key files given as a catalog, refused naming the line and quoting nothing of
//! the key.

mod common;

use std::path::{Path, PathBuf};

use common::{cli_ledger, host, ok, passphrase, run, summary_text, tester, unencrypted_key, Units};

const SL03: &str = "SW-001-4.0-SL03";

fn catalog_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("catalog")
        .join(name)
}

fn keys_example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../keys-example")
        .join(name)
}

/// Everything the ledger says about Contoso: summary, activity (all), audit head.
fn ledger_state(db: &Path) -> (String, String, String) {
    (
        summary_text(db),
        ok(db, &["activity", "--active", "all", "--json"]),
        ok(db, &["audit", "head"]),
    )
}

fn issue_args<'a>(key: &'a str, out: &'a str, h: &'a str, adds: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "issue",
        "--account",
        "Contoso",
        "--site",
        "HQ",
        "--product",
        "CIC",
        "--version",
        "4.0",
        "--type",
        "production",
        "--host-id",
        h,
        "--machine",
        "ic1",
        "--server-part",
        SL03,
    ];
    for a in adds {
        v.extend(["--add", a]);
    }
    v.extend(["--key", key, "--out", out]);
    v
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// "Interaction Analyzer Access ... Requires ... Interaction Recorder add-on access licenses":
/// an Analyzer file without enough Recorder access is refused with exit 22 naming the rule
/// and the counts, before the key is read; no file is written and the ledger is unchanged.
#[test]
fn issue_breaking_a_rule_exits_22_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[
            (SL03, 2),
            ("SW-001-4.0-AA03", 10),
            ("SW-001-4.0-AL06", 10),
            ("SW-001-4.0-RS01", 1),
            ("SW-001-4.0-AZ01", 1),
        ],
        Units::Perpetual,
    );
    let before = ledger_state(&db);
    let out = dir.path().join("ic1.i3lic");
    let h = host(1);
    // The key does not even exist: the rule is checked before it is read.
    let o = run(
        &db,
        &issue_args(
            "/nonexistent/vendor.key",
            out.to_str().unwrap(),
            &h,
            &[
                "SW-001-4.0-AA03=10",
                "SW-001-4.0-AL06=4",
                "SW-001-4.0-RS01=1",
                "SW-001-4.0-AZ01=1",
            ],
        ),
    );
    assert_eq!(o.status.code(), Some(22), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("license rule requires | I3_ACCESS_INTERACTION_ANALYZER | I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT (catalog line")
            && err.contains("10 assigned I3_ACCESS_INTERACTION_ANALYZER but only 4 assigned"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    assert!(!out.exists());
    assert_eq!(ledger_state(&db), before);
    // With the key, the same request is refused the same way; a file that keeps the rule
    // is issued.
    let key = unencrypted_key(dir.path());
    let k = key.to_str().unwrap();
    let o = run(
        &db,
        &issue_args(
            k,
            out.to_str().unwrap(),
            &h,
            &["SW-001-4.0-AA03=10", "SW-001-4.0-AL06=4"],
        ),
    );
    assert_eq!(o.status.code(), Some(22), "{}", stderr(&o));
    assert_eq!(ledger_state(&db), before);
    // Recorder access, but not the servers: "needs".
    let o = run(
        &db,
        &issue_args(
            k,
            out.to_str().unwrap(),
            &h,
            &["SW-001-4.0-AA03=10", "SW-001-4.0-AL06=10"],
        ),
    );
    assert_eq!(o.status.code(), Some(22));
    assert!(
        stderr(&o).contains(
            "needs | I3_ACCESS_INTERACTION_ANALYZER | I3_FEATURE_ANALYZER_REAL_TIME_SERVER"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(ledger_state(&db), before);
    ok(
        &db,
        &issue_args(
            k,
            out.to_str().unwrap(),
            &h,
            &[
                "SW-001-4.0-AA03=10",
                "SW-001-4.0-AL06=10",
                "SW-001-4.0-RS01=1",
                "SW-001-4.0-AZ01=1",
            ],
        ),
    );
    assert!(out.exists());
}

#[test]
fn batch_and_update_breaking_a_rule_exit_22_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[(SL03, 3), ("SW-001-4.0-AL06", 20), ("SW-001-4.0-AL07", 10)],
        Units::Perpetual,
    );
    let key = unencrypted_key(dir.path());
    let k = key.to_str().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // A batch whose second request has ACD Social Media without an ACD level.
    let body = serde_json::json!({
        "defaults": {"account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
                     "type": "production", "server_part": SL03},
        "requests": [
            {"machine": "ic1", "host_id": host(1), "add": [{"part": "SW-001-4.0-AL06", "quantity": 10}]},
            {"machine": "ic2", "host_id": host(2), "add": [{"part": "SW-001-4.0-AL07", "quantity": 10}]},
        ],
    });
    let req = dir.path().join("batch.json");
    std::fs::write(&req, body.to_string()).unwrap();
    let before = ledger_state(&db);
    let o = run(
        &db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            k,
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(22), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("request 2 of 2 (machine 'ic2')")
            && err.contains("requires | I3_ACCESS_ACD_SOCIAL_MEDIA |")
            && err.contains("nothing of the batch was issued"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert_eq!(ledger_state(&db), before);

    // An update that adds Social Media beyond the ACD levels of the file.
    let file = dir.path().join("ic1.i3lic");
    let h = host(1);
    let id = ok(
        &db,
        &issue_args(k, file.to_str().unwrap(), &h, &["SW-001-4.0-AL06=5"]),
    );
    let id = id.trim();
    let before = ledger_state(&db);
    let new = dir.path().join("ic1-new.i3lic");
    let o = run(
        &db,
        &[
            "update",
            id,
            "--add",
            "SW-001-4.0-AL07=6",
            "--key",
            k,
            "--out",
            new.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(22), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("6 assigned I3_ACCESS_ACD_SOCIAL_MEDIA but only 5 assigned"),
        "{}",
        stderr(&o)
    );
    assert!(!new.exists());
    assert_eq!(ledger_state(&db), before);
    ok(
        &db,
        &[
            "update",
            id,
            "--add",
            "SW-001-4.0-AL07=5",
            "--key",
            k,
            "--out",
            new.to_str().unwrap(),
        ],
    );
}

/// Upgrade moves order lines and writes no file; a 4.0 file issued from the upgraded lines
/// goes through the same rules.
#[test]
fn files_issued_after_an_upgrade_keep_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[
            ("SW-001-3.0-SL03", 1),
            ("SW-001-3.0-AL04", 10),
            ("SW-001-4.0-AA05", 20),
        ],
        Units::Perpetual,
    );
    ok(
        &db,
        &[
            "upgrade",
            "--account",
            "Contoso",
            "--from",
            "3.0",
            "--to",
            "4.0",
            "--mirror",
        ],
    );
    let key = unencrypted_key(dir.path());
    let k = key.to_str().unwrap();
    let out = dir.path().join("ic1.i3lic");
    let h = host(1);
    let before = ledger_state(&db);
    // 20 Dialer add-ons for the 10 ACD users of the upgraded Contact Center Level 1 lines.
    let o = run(
        &db,
        &issue_args(
            k,
            out.to_str().unwrap(),
            &h,
            &["SW-001-4.0-AL04=10", "SW-001-4.0-AA05=20"],
        ),
    );
    assert_eq!(o.status.code(), Some(22), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("20 assigned I3_ACCESS_DIALER_ADDON but only 10 assigned"),
        "{}",
        stderr(&o)
    );
    assert_eq!(ledger_state(&db), before);
    ok(
        &db,
        &issue_args(
            k,
            out.to_str().unwrap(),
            &h,
            &["SW-001-4.0-AL04=10", "SW-001-4.0-AA05=10"],
        ),
    );
}

#[test]
fn catalog_show_prints_grants_features_types_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let text = ok(&db, &["catalog", "show", "SW-001-4.0-AA03"]);
    for want in [
        "Interaction Analyzer Access",
        "Licenses per unit",
        "I3_ACCESS_INTERACTION_ANALYZER  1 assigned, 0 pooled",
        "requires | I3_ACCESS_INTERACTION_ANALYZER | I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT",
        "needs | I3_ACCESS_INTERACTION_ANALYZER | I3_FEATURE_RECORDER_SERVER",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // A server item: its types, features, and a development system's each=N spelled out.
    let text = ok(&db, &["catalog", "show", "SW-001-4.0-IDS1"]);
    for want in [
        "Types        development-small",
        "Each         8 assigned of every access and session key of CIC 4.0",
        "Licenses per file",
        "I3_LICENSE_BASIC_STATION",
        "holders: station; methods: assignable",
        "I3_FEATURE_IWP_SERVER",
        "excludes | I3_ACCESS_ACD_MEDIA_1,I3_ACCESS_ACD_MEDIA_2,I3_ACCESS_ACD_MEDIA_3_PLUS",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // A server add-on enables a feature; the rules naming it show.
    let text = ok(&db, &["catalog", "show", "SW-001-4.0-WP01"]);
    assert!(text.contains("I3_FEATURE_IWP_SERVER"), "{text}");
    // JSON.
    let v: serde_json::Value =
        serde_json::from_str(&ok(&db, &["catalog", "show", "SW-001-4.0-AL01", "--json"])).unwrap();
    assert_eq!(v["part"]["number"], "SW-001-4.0-AL01");
    assert_eq!(v["per"], "unit");
    assert_eq!(v["licenses"][0]["key"], "I3_LICENSE_BASIC_STATION");
    assert_eq!(v["licenses"][0]["pooled"], 1);
    assert_eq!(v["licenses"][0]["holders"], serde_json::json!(["station"]));
    assert_eq!(
        v["rules"]["keys"][0]["methods"],
        serde_json::json!(["assignable"])
    );
    assert!(v["rules"]["keys"][0]["line"].as_u64().unwrap() > 0);
    // An unknown part is malformed input.
    let o = run(&db, &["catalog", "show", "SW-999"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("unknown part number 'SW-999'"));
}

#[test]
fn catalog_rules_lists_every_rule_grouped_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let text = ok(&db, &["catalog", "rules"]);
    for want in [
        "Key attributes",
        "license | I3_LICENSE_BASIC_STATION | holders=station | methods=assignable",
        "Requires",
        "requires | I3_ACCESS_INTERACTION_ANALYZER |",
        "Implies",
        "Excludes",
        "Needs",
        "needs | I3_TENANT_IWP_ORGANIZATION | I3_FEATURE_IWP_SERVER",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let v: serde_json::Value =
        serde_json::from_str(&ok(&db, &["catalog", "rules", "--json"])).unwrap();
    for group in ["keys", "requires", "implies", "excludes", "needs"] {
        assert!(v[group].is_array(), "{group}");
    }
    let implies = &v["implies"];
    assert_eq!(
        implies.as_array().unwrap().len(),
        0,
        "the CIC catalog has no implies rule"
    );
    // The example catalogs load through --catalog; the Natterbox one has an implies rule.
    let nb = catalog_file("natterbox.catalog");
    let v: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &[
            "--catalog",
            nb.to_str().unwrap(),
            "catalog",
            "rules",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(v["implies"][0]["key"], "NB_FREEDOM");
    assert_eq!(v["implies"][0]["implied"], "NB_CTI");
    let vcc = catalog_file("vcc.catalog");
    let text = ok(
        &db,
        &[
            "--catalog",
            vcc.to_str().unwrap(),
            "catalog",
            "show",
            "VCC-HA-VIEWER",
        ],
    );
    assert!(
        text.contains("requires | VCC_HA_VIEWER | VCC_ADMIN,VCC_SUPERVISOR,VCC_WALLBOARD"),
        "{text}"
    );
    assert!(
        text.contains("excludes | VCC_AGENT,VCC_HA_VIEWER"),
        "{text}"
    );
}

#[test]
fn a_catalog_with_a_bad_rule_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let base = std::fs::read_to_string(catalog_file("natterbox.catalog")).unwrap();
    let lines = base.lines().count();
    for (extra, what) in [
        (
            "implies | NB_CTI | NB_FREEDOM\n",
            "cycle: NB_CTI implies NB_FREEDOM implies NB_CTI",
        ),
        (
            "implies | NB_FREEDOM | NB_SERVICE_CLOUD_VOICE\n",
            "NB_FREEDOM implies NB_SERVICE_CLOUD_VOICE",
        ),
        (
            "requires | NB_RECORD | NB_NOPE\n",
            "unknown license key 'NB_NOPE'",
        ),
    ] {
        let p = dir.path().join("bad.catalog");
        std::fs::write(&p, format!("{base}{extra}")).unwrap();
        let o = run(&db, &["--catalog", p.to_str().unwrap(), "catalog", "list"]);
        assert_eq!(o.status.code(), Some(3), "{extra}");
        let err = stderr(&o);
        let at = if extra.starts_with("implies | NB_FREEDOM") {
            // Implying an excluded key is reported at the excludes record.
            base.lines()
                .position(|l| l.starts_with("excludes | NB_FREEDOM"))
                .unwrap()
                + 1
        } else {
            lines + 1
        };
        assert!(
            err.contains(&format!("line {at}: ")) && err.contains(what),
            "{extra}: {err}"
        );
    }
}

/// `issuer --catalog keys/demo.key catalog list` printed the key's line ("unknown record
/// kind 'i3lic-secret-key-v1 <the seed>'"), and the sealed line of an encrypted key: a key
/// file is now named as such, and no error quotes more than a short escaped excerpt.
#[test]
fn a_key_file_given_as_catalog_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    // An encrypted key pair made by the binary.
    let keys = dir.path().join("keys");
    let o = passphrase(
        tester(&db).args(["keygen", "--kid", "vendor", "--out", keys.to_str().unwrap()]),
        Some("a passphrase for the test"),
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for path in [
        keys_example("demo.key"),
        keys_example("demo.pub"),
        keys.join("vendor.key"),
        keys.join("vendor.pub"),
    ] {
        let content = std::fs::read_to_string(&path).unwrap();
        let key_line = content.lines().find(|l| l.starts_with("i3lic-")).unwrap();
        let secret_part = key_line.rsplit(' ').next().unwrap();
        let o = run(
            &db,
            &["--catalog", path.to_str().unwrap(), "catalog", "list"],
        );
        assert_eq!(o.status.code(), Some(3), "{}", path.display());
        let err = stderr(&o);
        assert!(err.contains("this is a key file, not a catalog"), "{err}");
        assert!(!err.contains("i3lic-"), "{err}");
        assert!(!err.contains(&secret_part[..8]), "{err}");
        assert!(o.stdout.is_empty());
    }
    // A long bad line is quoted by a short escaped excerpt only.
    let p = dir.path().join("long.catalog");
    let long = format!("Bogus{}\t{}", "A".repeat(30), "z".repeat(300));
    std::fs::write(&p, format!("# a catalog\n{long}\n")).unwrap();
    let o = run(&db, &["--catalog", p.to_str().unwrap(), "catalog", "list"]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    let quoted = format!("line 2: unknown record kind 'Bogus{}…'", "A".repeat(27));
    assert!(err.contains(&quoted), "{err}");
    assert!(!err.contains("zzzz"), "{err}");
}

/// `issuer --catalog FILE` issues from the example catalogs. Needs format version 2 (names
/// without the I3_ prefixes).
#[test]
fn files_are_issued_from_the_example_catalogs() {
    for (catalog, product, server, adds) in [
        (
            "vcc.catalog",
            "VCC",
            "VCC-PLATFORM",
            &["VCC-SUPERVISOR=35", "VCC-AGENT=250", "VCC-HA-CREATOR=20"][..],
        ),
        (
            "natterbox.catalog",
            "NB",
            "NB-PLATFORM",
            &["NB-FREEDOM=40", "NB-PBX=40", "NB-CC=20"][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cat = catalog_file(catalog);
        let c = cat.to_str().unwrap();
        let db = dir.path().join("ledger.db");
        ok(&db, &["account", "add", "Contoso"]);
        ok(
            &db,
            &["site", "add", "--account", "Contoso", "--name", "HQ"],
        );
        ok(
            &db,
            &[
                "--catalog",
                c,
                "order",
                "add",
                "--account",
                "Contoso",
                "--part",
                server,
                "--quantity",
                "1",
            ],
        );
        for a in adds {
            let (p, q) = a.split_once('=').unwrap();
            ok(
                &db,
                &[
                    "--catalog",
                    c,
                    "order",
                    "add",
                    "--account",
                    "Contoso",
                    "--part",
                    p,
                    "--quantity",
                    q,
                ],
            );
        }
        let key = unencrypted_key(dir.path());
        let out = dir.path().join("f.i3lic");
        let h = host(1);
        let mut args = vec![
            "--catalog",
            c,
            "issue",
            "--account",
            "Contoso",
            "--site",
            "HQ",
            "--product",
            product,
            "--version",
            "2022",
            "--type",
            "production",
            "--host-id",
            &h,
            "--machine",
            "cloud1",
            "--server-part",
            server,
        ];
        for a in adds {
            args.extend(["--add", a]);
        }
        args.extend([
            "--key",
            key.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let o = run(&db, &args);
        assert!(o.status.success(), "{catalog}: {}", stderr(&o));
        let id = String::from_utf8(o.stdout).unwrap();
        let shown = ok(&db, &["--catalog", c, "show", id.trim()]);
        assert!(shown.contains(product), "{shown}");
    }
}
