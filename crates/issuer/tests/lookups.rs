//! Lookups and edits through the `issuer` binary: short id prefixes (one match, none, several),
//! `order list`, `audit log`, `account rename` and `site edit` with their audit rows, and the
//! library calls behind them.

mod common;

use common::{issued_production, run, SL03};
use format::Timestamp;
use issuer::SiteDetails;
use store::TxExt;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A ledger holding one issued file and two more rows whose ids share the prefix `abcd`
/// (copies of the first, given chosen ids): the only way to get an ambiguous prefix on purpose.
#[test]
fn id_prefixes_resolve_once_and_an_ambiguous_one_lists_its_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let (l, _, _, id) = issued_production(dir.path(), &[(SL03, 1)], &[], Timestamp::now());
    for fake in [
        "abcd0000000000000000000000000001",
        "abcd0000000000000000000000000002",
    ] {
        l.raw_for_tests()
            .execute(
                "INSERT INTO files (id, account_id, site_id, license_type, product, version,
                    server_part, primary_host, primary_machine, system_type, mail_connector,
                    generated_by, partner, generated_at, expires_at, active, key_id, sha256,
                    bytes, activation)
                 SELECT ?1, account_id, site_id, license_type, product, version, server_part,
                    primary_host, primary_machine, system_type, mail_connector, generated_by,
                    partner, generated_at, expires_at, 0, key_id, sha256, bytes, activation
                 FROM files WHERE id = ?2",
                [fake, id.as_str()],
            )
            .unwrap();
    }
    drop(l);
    let db = dir.path().join("ledger.db");
    // A unique prefix works for show and download, in any case.
    let prefix = id[..6].to_ascii_uppercase();
    let o = run(&db, &["show", &prefix, "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["id"], id.as_str());
    let o = run(&db, &["download", &id[..8], "--out", "-"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Several: exit 2, every candidate named.
    let o = run(&db, &["show", "abcd"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("ambiguous")
            && err.contains("abcd0000000000000000000000000001")
            && err.contains("abcd0000000000000000000000000002"),
        "{err}"
    );
    let o = run(&db, &["deactivate", "abcd", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "ambiguous_id");
    // None, and too short to look up: unknown file (exit 20).
    for p in ["ffff", "abc"] {
        let o = run(&db, &["show", p]);
        assert_eq!(o.status.code(), Some(20), "{p}: {}", text(&o.stderr));
    }
    // The unique prefix deactivates the real file.
    let o = run(&db, &["deactivate", &id[..5]]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&id), "{}", text(&o.stdout));
}

#[test]
fn order_list_audit_log_rename_and_site_edit() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::cli_ledger(dir.path(), &[(SL03, 2)], common::Units::Perpetual);
    let o = run(&db, &["order", "list", "--account", "Contoso", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lines = v.as_array().unwrap();
    assert_eq!(lines[0]["part"], SL03);
    assert_eq!(lines[0]["quantity"], 2);
    assert_eq!(lines[0]["available"], 2);
    assert_eq!(lines[1]["included_with"], lines[0]["id"]);

    let o = run(&db, &["account", "rename", "Contoso", "Contoso Ltd"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&db, &["summary", "--account", "Contoso"]);
    assert_eq!(o.status.code(), Some(20));
    let o = run(
        &db,
        &[
            "site",
            "edit",
            "--account",
            "Contoso Ltd",
            "--name",
            "HQ",
            "--new-name",
            "Head Office",
            "--address1",
            "1 Main St",
            "--city",
            "Indianapolis",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&db, &["site", "list", "--account", "Contoso Ltd", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["name"], "Head Office");
    assert_eq!(v[0]["address"][0], "1 Main St");
    assert_eq!(v[0]["city"], "Indianapolis");

    let o = run(&db, &["audit", "log", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.ends_with(&["account.rename", "site.edit"]),
        "{actions:?}"
    );
    let last = &v.as_array().unwrap()[actions.len() - 1];
    assert_eq!(last["before"]["name"], "HQ");
    assert_eq!(last["after"]["name"], "Head Office");
    let o = run(
        &db,
        &["audit", "log", "--subject", "head office", "--last", "1"],
    );
    let t = text(&o.stdout);
    assert!(
        t.contains("site.edit") && t.contains("Number of rows: 1"),
        "{t}"
    );
    // The chain still checks.
    let o = run(&db, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o.stdout));
}

#[test]
fn edit_site_is_a_library_call_taking_the_details() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, _) = common::ledger(dir.path());
    let d = SiteDetails {
        address: vec!["2 Side St".into()],
        city: "Carmel".into(),
        ..SiteDetails::default()
    };
    assert!(l.edit_site("Contoso", "HQ", None, &d, "t").unwrap());
    // The same details again change nothing and write no audit row.
    let rows = l.audit_log(None, None).unwrap().len();
    assert!(!l.edit_site("Contoso", "HQ", None, &d, "t").unwrap());
    assert_eq!(l.audit_log(None, None).unwrap().len(), rows);
    // A name another site has is refused; too many address lines too.
    assert!(l.edit_site("Contoso", "HQ", Some("Old"), &d, "t").is_err());
    let four = SiteDetails {
        address: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        ..SiteDetails::default()
    };
    assert!(l.edit_site("Contoso", "HQ", None, &four, "t").is_err());
    let sites = l.sites("Contoso").unwrap();
    assert_eq!(sites[0].details, d);
    l.rename_account("Contoso", "Fabrikam", "t").unwrap();
    assert_eq!(l.accounts().unwrap(), ["Fabrikam"]);
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(edit_site_is_a_library_call_taking_the_details,);
