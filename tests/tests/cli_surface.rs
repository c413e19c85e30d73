//! The command line as vendor staff meet it (issue 13): date bounds, the account summary's
//! site tables, the key given by mistake, out-of-range numbers, `-` for standard output, and
//! the other lookups and messages, each through the real binaries.

use i3lic_tests::{host_code, Sandbox, ACCOUNT, SITE};

/// The date (`YYYY-MM-DD`) the newest file of the activity list was generated.
fn newest_date(sb: &Sandbox) -> String {
    let v = sb.ok("issuer", ["activity", "--json"]).json();
    v[0]["generated_at"].as_str().expect("generated_at")[..10].to_string()
}

#[test]
fn activity_to_a_bare_date_includes_that_whole_day_and_from_after_to_is_refused() {
    let sb = Sandbox::new();
    sb.with_account();
    let id = sb.issue_production(&host_code("ic1"), 5, "ic1.i3lic");
    let today = newest_date(&sb);
    for args in [
        vec!["activity", "--to", &today, "--json"],
        vec!["activity", "--from", &today, "--to", &today, "--json"],
    ] {
        let v = sb.ok("issuer", &args).json();
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{args:?}: {v}");
        assert_eq!(v[0]["id"], id.as_str());
    }
    let r = sb
        .run(
            "issuer",
            ["activity", "--from", "2026-12-02", "--to", "2026-12-01"],
        )
        .expect_code(2);
    insta::assert_snapshot!("activity_from_after_to", sb.transcript(&r));
    assert!(
        r.stderr.contains("--from 2026-12-02") && r.stderr.contains("--to 2026-12-01"),
        "{}",
        r.stderr
    );
}

#[test]
fn summary_site_tables_show_the_sites_own_numbers_and_the_split() {
    let sb = Sandbox::new();
    sb.with_account();
    sb.ok(
        "issuer",
        ["site", "add", "--account", ACCOUNT, "--name", "Branch"],
    );
    sb.ok(
        "issuer",
        [
            "order",
            "add",
            "--account",
            ACCOUNT,
            "--part",
            "SW-001-4.0-AL02",
            "--quantity",
            "10",
            "--non-perpetual",
        ],
    );
    sb.issue_production(&host_code("ic1"), 20, "ic1.i3lic");
    let r = sb.ok("issuer", ["summary", "--account", ACCOUNT]);
    insta::assert_snapshot!("summary_two_sites", sb.transcript(&r));
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    for site in v["sites"].as_array().expect("sites") {
        let al02 = site["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .find(|p| p["part"] == "SW-001-4.0-AL02")
            .expect("AL02")
            .clone();
        let n = |k: &str| al02[k].as_u64().expect(k);
        // 60 ordered, 20 used at HQ: 40 available to each site.
        assert_eq!(n("available"), 40, "{site}");
        assert_eq!(n("used") + n("available"), n("total"), "{site}");
        let used = if site["site"] == SITE { 20 } else { 0 };
        assert_eq!(n("used"), used, "{site}");
    }
    let al02 = &v["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .find(|p| p["part"] == "SW-001-4.0-AL02")
        .expect("AL02")
        .clone();
    assert_eq!(
        (&al02["perpetual"], &al02["non_perpetual"]),
        (&50.into(), &10.into())
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("SW-001-4.0-AL02"))
        .expect("AL02 line");
    let numbers: Vec<&str> = line.split_whitespace().rev().take(5).collect();
    assert_eq!(numbers, ["40", "20", "10", "50", "60"], "{line}");
}

#[test]
fn a_public_key_given_as_the_secret_key_is_named_as_such_first() {
    let sb = Sandbox::new();
    sb.with_account();
    let mut args = sb.production_args(&host_code("ic1"), 5, "ic1.i3lic");
    let k = args.iter().position(|a| a == "demo.key").expect("--key");
    args[k] = "demo.pub".into();
    i3lic_tests::set_mode(&sb.file("demo.pub"), 0o644);
    let r = sb.run("issuer", &args).expect_code(3);
    insta::assert_snapshot!("public_key_as_secret_key", sb.transcript(&r));
    assert!(r.stderr.contains("not a secret key"), "{}", r.stderr);
    assert!(!r.stderr.contains("chmod"), "{}", r.stderr);
}

#[test]
fn every_out_of_range_quantity_is_one_usage_error() {
    let sb = Sandbox::new();
    sb.with_account();
    let mut all = String::new();
    for q in ["-5", "99999999999999999999", "4294967295", "0"] {
        let r = sb
            .run(
                "issuer",
                [
                    "order",
                    "add",
                    "--account",
                    ACCOUNT,
                    "--part",
                    "SW-001-4.0-AL02",
                    "--quantity",
                    q,
                ],
            )
            .expect_code(2);
        assert!(
            r.stderr
                .contains("out of range (expected a whole number from 1 to 10000000)"),
            "{q}: {}",
            r.stderr
        );
        all.push_str(&sb.transcript(&r));
    }
    for q in ["-5", "99999999999999999999", "4294967295"] {
        let mut args = sb.production_args(&host_code("ic1"), 0, "x.i3lic");
        args.push("--add".into());
        args.push(format!("SW-001-4.0-AL02={q}"));
        let r = sb.run("issuer", &args).expect_code(2);
        assert!(r.stderr.contains("out of range"), "{q}: {}", r.stderr);
        all.push_str(&sb.transcript(&r));
    }
    insta::assert_snapshot!("quantity_out_of_range", all);
}

#[test]
fn issue_out_dash_writes_the_file_on_standard_output() {
    let sb = Sandbox::new();
    sb.with_account();
    let r = sb.ok("issuer", sb.production_args(&host_code("ic1"), 5, "-"));
    assert!(
        r.stdout
            .starts_with("-----BEGIN I3LIC ACTIVATION FILE-----"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("written to standard output"),
        "{}",
        r.stderr
    );
    assert!(!sb.file("-").exists());
    let id = sb.ok("issuer", ["activity", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let again = sb.ok("issuer", ["download", &id, "--out", "-"]);
    assert_eq!(again.stdout, r.stdout);
}
