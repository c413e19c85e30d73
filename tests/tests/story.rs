//! The whole story, run with the real binaries as vendor staff and a customer's servers would:
//! host ID → account → install site → order → issue with a switchover partner → verify on both
//! hosts → download again byte-identical.

use i3lic_tests::{host_code, Sandbox, ACCOUNT, PARTNER, SITE};
use serde_json::Value;

/// Units of `part` in an `issuer summary --json` part list: (total, used, available).
fn units(parts: &Value, part: &str) -> (u64, u64, u64) {
    let p = parts
        .as_array()
        .expect("parts is an array")
        .iter()
        .find(|p| p["part"] == part)
        .unwrap_or_else(|| panic!("{part} is not in the summary: {parts}"));
    let n = |k: &str| {
        p[k].as_u64()
            .unwrap_or_else(|| panic!("{k} of {part}: {p}"))
    };
    (n("total"), n("used"), n("available"))
}

#[test]
fn full_story_issue_verify_on_both_hosts_download() {
    let sb = Sandbox::new();

    // 1. The customer runs gethostid on the server and types the code into the order.
    //    On a machine with too few stable components, a constructed machine stands in.
    let (host, real) = sb.this_host();
    sb.ok("gethostid", ["--check", &host]);
    assert_ne!(host, PARTNER, "the two servers of the pair differ");

    // 2. Vendor staff record the account, its install site and the order.
    sb.demo_keys();
    let r = sb.ok("issuer", ["account", "add", ACCOUNT]);
    insta::assert_snapshot!("account_add", sb.transcript(&r));
    let r = sb.ok(
        "issuer",
        [
            "site",
            "add",
            "--account",
            ACCOUNT,
            "--name",
            SITE,
            "--address",
            "7601 Interactive Way",
            "--city",
            "Indianapolis",
            "--state",
            "IN",
            "--country",
            "US",
            "--postal-code",
            "46278",
        ],
    );
    insta::assert_snapshot!("site_add", sb.transcript(&r));
    let mut order = String::new();
    for (part, qty) in [
        ("SL03", "1"),
        ("SS03", "1"),
        ("AL02", "50"),
        ("PL04", "100"),
    ] {
        let part = format!("SW-001-4.0-{part}");
        let r = sb.ok(
            "issuer",
            [
                "order",
                "add",
                "--account",
                ACCOUNT,
                "--part",
                &part,
                "--quantity",
                qty,
            ],
        );
        order.push_str(&sb.transcript(&r));
    }
    insta::assert_snapshot!("order_add", order);
    let before = sb.ok("issuer", ["summary", "--account", ACCOUNT]);
    insta::assert_snapshot!("summary_before_issue", sb.transcript(&before));

    // 3. The production file for the pair: this server and its switchover partner.
    let issue = sb.ok(
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
            "production",
            "--host-id",
            &host,
            "--machine",
            "ic1",
            "--switchover-host-id",
            PARTNER,
            "--switchover-machine",
            "ic2",
            "--switchover-part",
            "SW-001-4.0-SS03",
            "--server-part",
            "SW-001-4.0-SL03",
            "--add",
            "SW-001-4.0-AL02=40",
            "--add",
            "SW-001-4.0-PL04=100",
            "--system-type",
            "Media Server Based (4.0+ only)",
            "--mail-connector",
            "Microsoft Exchange Server",
            "--key",
            "demo.key",
            "--out",
            "ic1.i3lic",
        ],
    );
    insta::assert_snapshot!("issue_production", sb.transcript(&issue));
    let id = issue.stdout.trim().to_string();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "issue prints the new file id, got {id:?}"
    );
    let issued = std::fs::read(sb.file("ic1.i3lic")).expect("the file was written");
    let text = String::from_utf8(issued.clone()).expect("activation files are UTF-8 text");
    assert!(text.contains(&id), "the file carries its id");
    assert!(
        text.contains(&host) && text.contains(PARTNER),
        "both hosts are in the file"
    );

    // 4. Both servers of the pair accept the file, each in its own role.
    for (code, role, machine) in [
        (&host[..], "primary", "ic1"),
        (PARTNER, "switchover", "ic2"),
    ] {
        let r = sb.ok(
            "licverify",
            [
                "ic1.i3lic",
                "--trust",
                "demo.pub",
                "--host-id",
                code,
                "--product",
                "CIC",
                "--version",
                "4.0",
                "--json",
            ],
        );
        let v = r.json();
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["error"], Value::Null, "{v}");
        assert_eq!(v["license"]["role"], role, "checked as {machine}: {v}");
        assert_eq!(v["license"]["activation"]["file_id"], id.as_str());
        assert_eq!(v["license"]["activation"]["license_type"], "production");
    }
    // What the primary's administrator reads.
    let r = sb.ok(
        "licverify",
        [
            "ic1.i3lic",
            "--trust",
            "demo.pub",
            "--host-id",
            &host,
            "--product",
            "CIC",
            "--version",
            "4.0",
        ],
    );
    insta::assert_snapshot!("licverify_primary", sb.transcript(&r));
    // Checked as this very machine (no --host-id), where it has a host ID of its own.
    if real {
        let v = sb
            .ok("licverify", ["ic1.i3lic", "--trust", "demo.pub", "--json"])
            .json();
        assert_eq!(v["license"]["role"], "primary", "{v}");
    }
    // A third machine is refused (the file is bound to the pair).
    sb.run(
        "licverify",
        [
            "ic1.i3lic",
            "--trust",
            "demo.pub",
            "--host-id",
            &host_code("ic3"),
        ],
    )
    .expect_code(12);

    // 5. The summary shows the units as used, for the account and for the site.
    let after = sb.ok("issuer", ["summary", "--account", ACCOUNT]);
    insta::assert_snapshot!("summary_after_issue", sb.transcript(&after));
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(units(&v["parts"], "SW-001-4.0-AL02"), (50, 40, 10));
    assert_eq!(units(&v["parts"], "SW-001-4.0-PL04"), (100, 100, 0));
    assert_eq!(units(&v["parts"], "SW-001-4.0-SL03"), (1, 1, 0));
    assert_eq!(units(&v["parts"], "SW-001-4.0-SS03"), (1, 1, 0));
    let site = v["sites"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["site"] == SITE))
        .unwrap_or_else(|| panic!("site {SITE} in summary: {v}"));
    assert_eq!(units(&site["parts"], "SW-001-4.0-AL02"), (50, 40, 10));

    // 6. Months later the customer lost the file: download gives the very same bytes.
    let r = sb.ok("issuer", ["download", &id, "--out", "again.i3lic"]);
    insta::assert_snapshot!("download", sb.transcript(&r));
    let again = std::fs::read(sb.file("again.i3lic")).expect("downloaded file");
    assert!(
        again == issued,
        "download is byte-identical to the issued file"
    );
    let to_stdout = sb
        .cmd("issuer")
        .args(["download", &id, "--out", "-"])
        .output()
        .expect("spawn");
    assert!(to_stdout.status.success());
    assert!(
        to_stdout.stdout == issued,
        "download to stdout is byte-identical"
    );
    // Downloading changes nothing in the ledger.
    let v2 = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(v, v2);

    // 7. The customer buys more clients: the file is updated with 5 more seats. The new file
    //    supersedes the old one, which becomes inactive; used never counts both.
    let r = sb.ok(
        "issuer",
        [
            "update",
            &id,
            "--add",
            "SW-001-4.0-AL02=5",
            "--key",
            "demo.key",
            "--out",
            "ic1-v2.i3lic",
        ],
    );
    insta::assert_snapshot!("update_add_seats", sb.transcript(&r));
    let new_id = r.stdout.trim().to_string();
    assert!(
        new_id.len() == 32 && new_id != id,
        "update prints the new file's id"
    );
    let updated = std::fs::read(sb.file("ic1-v2.i3lic")).expect("updated file");
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(units(&v["parts"], "SW-001-4.0-AL02"), (50, 45, 5));
    assert_eq!(units(&v["parts"], "SW-001-4.0-SL03"), (1, 1, 0));
    assert_eq!(units(&v["parts"], "SW-001-4.0-SS03"), (1, 1, 0));
    assert_eq!(units(&v["parts"], "SW-001-4.0-PL04"), (100, 100, 0));

    // Both servers accept the new file; it names the file it replaces.
    for (code, role) in [(&host[..], "primary"), (PARTNER, "switchover")] {
        let v = sb
            .ok(
                "licverify",
                [
                    "ic1-v2.i3lic",
                    "--trust",
                    "demo.pub",
                    "--host-id",
                    code,
                    "--json",
                ],
            )
            .json();
        assert_eq!(v["license"]["role"], role, "{v}");
        let a = &v["license"]["activation"];
        assert_eq!(a["file_id"], new_id.as_str());
        assert_eq!(a["supersedes"], id.as_str());
        let clients = a["licenses"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["name"] == "I3_ACCESS_CLIENT"))
            .unwrap_or_else(|| panic!("clients in {a}"));
        assert_eq!(clients["assigned"], 45);
    }
    // A server that accepted the new file refuses the old one afterwards (exit 16, rollback).
    let state = [
        "--trust",
        "demo.pub",
        "--host-id",
        &host,
        "--state",
        "server-state",
    ];
    sb.ok("licverify", [&["ic1-v2.i3lic"][..], &state].concat());
    let r = sb
        .run("licverify", [&["ic1.i3lic"][..], &state].concat())
        .expect_code(16);
    insta::assert_snapshot!("licverify_superseded", sb.transcript(&r));
    // The old file can no longer be updated.
    let r = sb
        .run(
            "issuer",
            [
                "update",
                &id,
                "--add",
                "SW-001-4.0-AL02=1",
                "--key",
                "demo.key",
                "--out",
                "x.i3lic",
            ],
        )
        .expect_code(20);
    insta::assert_snapshot!("update_superseded", sb.transcript(&r));
    assert!(!sb.file("x.i3lic").exists());

    // 8. What staff see: the file's page and the account's activity (old and new).
    let r = sb.ok("issuer", ["show", &new_id]);
    insta::assert_snapshot!("show_updated", sb.transcript(&r));
    let r = sb.ok(
        "issuer",
        ["activity", "--account", ACCOUNT, "--active", "all"],
    );
    insta::assert_snapshot!("activity_after_update", sb.transcript(&r));
    let act = sb
        .ok(
            "issuer",
            [
                "activity",
                "--account",
                ACCOUNT,
                "--active",
                "all",
                "--json",
            ],
        )
        .json();
    let rows = act.as_array().expect("activity rows");
    assert_eq!(rows.len(), 2, "{act}");
    let row = |fid: &str| {
        rows.iter()
            .find(|r| r["id"] == fid)
            .unwrap_or_else(|| panic!("{fid} in {act}"))
    };
    assert_eq!(row(&id)["active"], false);
    assert_eq!(row(&id)["superseded_by"], new_id.as_str());
    assert_eq!(row(&new_id)["active"], true);
    assert_eq!(row(&new_id)["supersedes"], id.as_str());

    // 9. The pair is decommissioned: deactivating returns every unit, once.
    let r = sb.ok("issuer", ["deactivate", &new_id, "--approve"]);
    insta::assert_snapshot!("deactivate", sb.transcript(&r));
    let r = sb.ok("issuer", ["summary", "--account", ACCOUNT]);
    insta::assert_snapshot!("summary_after_deactivate", sb.transcript(&r));
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    for (part, total) in [("AL02", 50), ("PL04", 100), ("SL03", 1), ("SS03", 1)] {
        let part = format!("SW-001-4.0-{part}");
        assert_eq!(
            units(&v["parts"], &part),
            (total, 0, total),
            "{part} returned"
        );
    }
    let r = sb.run("issuer", ["deactivate", &new_id]).expect_code(20);
    insta::assert_snapshot!("deactivate_twice", sb.transcript(&r));
    let again = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(again, v, "a second deactivation returns nothing");
    assert!(sb
        .ok("issuer", ["activity", "--account", ACCOUNT, "--json"])
        .json()
        .as_array()
        .is_some_and(|a| a.is_empty()));

    // 10. Every file ever issued still downloads byte-identical, active or not.
    sb.ok("issuer", ["download", &id, "--out", "old-again.i3lic"]);
    sb.ok("issuer", ["download", &new_id, "--out", "new-again.i3lic"]);
    assert!(std::fs::read(sb.file("old-again.i3lic")).expect("old") == issued);
    assert!(std::fs::read(sb.file("new-again.i3lic")).expect("new") == updated);

    // 11. The audit log holds every change, unbroken.
    let r = sb.ok("issuer", ["audit", "verify"]);
    insta::assert_snapshot!("audit_verify", sb.transcript(&r));
}

#[test]
fn upgrade_from_3_0_then_issue_a_4_0_file() {
    let sb = Sandbox::new();
    sb.demo_keys();
    sb.account_with_orders(&[("SW-001-3.0-SL03", "1"), ("SW-001-3.0-AL02", "20")]);
    let r = sb.ok(
        "issuer",
        [
            "upgrade",
            "--account",
            ACCOUNT,
            "--from",
            "3.0",
            "--to",
            "4.0",
            "--mirror",
        ],
    );
    insta::assert_snapshot!("upgrade_mirror", sb.transcript(&r));
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(units(&v["parts"], "SW-001-4.0-SL03"), (1, 0, 1));
    assert_eq!(units(&v["parts"], "SW-001-4.0-AL02"), (20, 0, 20));
    assert!(
        v["parts"]
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["total"] == 0
                || !p["part"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("SW-001-3.0-"))),
        "no 3.0 units left: {v}"
    );
    let r = sb
        .run(
            "issuer",
            [
                "upgrade",
                "--account",
                ACCOUNT,
                "--from",
                "3.0",
                "--to",
                "4.0",
                "--mirror",
            ],
        )
        .expect_code(20);
    insta::assert_snapshot!("upgrade_twice", sb.transcript(&r));

    // The upgraded items make a 4.0 file that a 4.0 server accepts and a 3.0 server refuses.
    let host = host_code("ic1");
    sb.issue_production(&host, 20, "ic1.i3lic");
    let check = |version: &str| {
        sb.run(
            "licverify",
            [
                "ic1.i3lic",
                "--trust",
                "demo.pub",
                "--host-id",
                &host,
                "--product",
                "CIC",
                "--version",
                version,
            ],
        )
    };
    check("4.0").expect_code(0);
    check("3.0").expect_code(15);
}
