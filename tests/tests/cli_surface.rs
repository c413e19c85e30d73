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

/// Every `issuer` command takes `--json` (before or after it) and prints one JSON document on
/// standard output, success or failure; a failure is `{"error": {kind, message, exit_code}}`
/// with the process's exit code.
#[test]
fn every_issuer_command_prints_json_success_or_error() {
    let sb = Sandbox::new();
    sb.with_account();
    let id = sb.issue_production(&host_code("ic1"), 5, "ic1.i3lic");
    let host2 = host_code("ic9");
    let mut issue = sb.production_args(&host2, 1, "ic9.i3lic");
    let m = issue.iter().position(|a| a == "ic1").expect("machine");
    issue[m] = "ic9".into();
    let lines: Vec<Vec<String>> = [
        vec!["keygen", "--kid", "k2", "--out", "keys2", "--unencrypted"],
        vec!["account", "add", "Fabrikam"],
        vec!["account", "list"],
        vec!["site", "add", "--account", "Fabrikam", "--name", "Main"],
        vec!["site", "list", "--account", "Fabrikam"],
        vec![
            "site",
            "deactivate",
            "--account",
            "Fabrikam",
            "--name",
            "Main",
        ],
        vec![
            "site",
            "activate",
            "--account",
            "Fabrikam",
            "--name",
            "Main",
        ],
        vec![
            "order",
            "add",
            "--account",
            "Fabrikam",
            "--part",
            "SW-001-4.0-AL02",
            "--quantity",
            "3",
        ],
        vec!["summary", "--account", ACCOUNT],
        vec!["catalog", "list"],
        vec!["catalog", "show", "SW-001-4.0-AL02"],
        vec!["catalog", "rules"],
        vec!["activity"],
        vec!["show", &id],
        vec!["download", &id, "--out", "again.i3lic"],
        vec!["audit", "head"],
        vec!["audit", "verify"],
        vec![
            "upgrade",
            "--account",
            ACCOUNT,
            "--from",
            "3.0",
            "--to",
            "4.0",
            "--mirror",
            "--dry-run",
        ],
        vec!["deactivate", &id],
        // Failures: unknown account (20), usage (2), unknown file (20), missing key (4).
        vec!["summary", "--account", "Nobody"],
        vec![
            "order",
            "add",
            "--account",
            ACCOUNT,
            "--part",
            "SW-001-4.0-AL02",
            "--quantity",
            "-5",
        ],
        vec!["show", "0123456789abcdef0123456789abcdef"],
        vec!["no-such-command"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .chain([issue])
    .collect();
    for (i, mut args) in lines.into_iter().enumerate() {
        if i % 2 == 0 {
            args.push("--json".into());
        } else {
            args.insert(0, "--json".into());
        }
        let r = sb.run("issuer", &args);
        let v = r.json();
        if r.code == 0 {
            assert!(v.get("error").is_none(), "`{}`: {v}", r.line);
        } else {
            let e = &v["error"];
            assert_eq!(e["exit_code"], r.code, "`{}`: {v}", r.line);
            assert!(e["kind"].as_str().is_some_and(|k| !k.is_empty()), "{v}");
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        }
    }
}

#[test]
fn json_errors_of_every_binary_have_one_shape() {
    let sb = Sandbox::new();
    let mut all = String::new();
    for (bin, args, code) in [
        // No ledger in this folder yet: a command that reads never creates one (exit 4).
        (
            "issuer",
            vec!["summary", "--account", "Nobody", "--json"],
            4,
        ),
        ("issuer", vec!["--json", "activity", "--from", "x"], 2),
        ("issuer", vec!["summary", "--json", "--bogus"], 2),
        ("gethostid", vec!["--check", "1Q2H4", "--json"], 3),
        ("gethostid", vec!["--json", "--bogus"], 2),
        ("licadmin", vec!["--json", "--bogus"], 2),
        ("licverify", vec!["missing.i3lic", "--json", "--bogus"], 2),
    ] {
        let r = sb.run(bin, &args).expect_code(code);
        let v = r.json();
        let e = &v["error"];
        assert_eq!(e["exit_code"], code, "`{}`: {v}", r.line);
        assert!(e["kind"].is_string() && e["message"].is_string(), "{v}");
        all.push_str(&format!("$ {}\n{}\n", r.line, sb.redact(&r.stdout)));
    }
    insta::assert_snapshot!("json_errors", all);
}

#[test]
fn catalog_list_filters_and_summary_category() {
    let sb = Sandbox::new();
    let r = sb.ok(
        "issuer",
        [
            "catalog",
            "list",
            "--kind",
            "server",
            "--version",
            "4.0",
            "--search",
            "SWITCHOVER",
        ],
    );
    insta::assert_snapshot!("catalog_list_filtered", sb.transcript(&r));
    assert!(!r.stdout.is_empty());
    for line in r.stdout.lines() {
        assert!(
            line.contains("CIC 4.0") && line.contains("server"),
            "{line}"
        );
        assert!(line.to_lowercase().contains("switchover"), "{line}");
    }
    sb.run("issuer", ["catalog", "list", "--kind", "robot"])
        .expect_code(2);
    sb.with_account();
    let v = sb
        .ok(
            "issuer",
            [
                "summary",
                "--account",
                ACCOUNT,
                "--category",
                "cic 4.0",
                "--json",
            ],
        )
        .json();
    assert!(!v["parts"].as_array().expect("parts").is_empty());
    let v = sb
        .ok(
            "issuer",
            [
                "summary",
                "--account",
                ACCOUNT,
                "--category",
                "CIC 3.0",
                "--json",
            ],
        )
        .json();
    assert!(v["parts"].as_array().expect("parts").is_empty(), "{v}");
    assert!(v["sites"][0]["parts"].as_array().expect("parts").is_empty());
}

#[test]
fn names_and_parts_match_without_case_and_unknown_ones_get_suggestions() {
    let sb = Sandbox::new();
    sb.with_account();
    let mut all = String::new();
    // The same account in another case is refused (exit 20), naming the existing one.
    let r = sb
        .run("issuer", ["account", "add", &ACCOUNT.to_lowercase()])
        .expect_code(20);
    assert!(r.stderr.contains(ACCOUNT), "{}", r.stderr);
    all.push_str(&sb.transcript(&r));
    // Any case finds the account, the site and the part; what is recorded is the ledger's
    // and the catalog's own spelling.
    let r = sb.ok(
        "issuer",
        [
            "order",
            "add",
            "--account",
            &ACCOUNT.to_uppercase(),
            "--part",
            "sw-001-4.0-al02",
            "--quantity",
            "5",
        ],
    );
    all.push_str(&sb.transcript(&r));
    let mut args = sb.production_args(&host_code("ic1"), 5, "ic1.i3lic");
    for a in args.iter_mut() {
        if a == ACCOUNT || a == SITE || a.starts_with("SW-") {
            *a = a.to_lowercase();
        }
    }
    sb.ok("issuer", &args);
    let file = std::fs::read_to_string(sb.file("ic1.i3lic")).expect("file");
    assert!(
        file.contains(&format!("\"sold_to\": \"{ACCOUNT}\"")),
        "{file}"
    );
    assert!(
        file.contains(&format!("\"install_site\": \"{SITE}\"")),
        "{file}"
    );
    // Unknown ones: the closest existing names.
    for args in [
        vec!["summary", "--account", "Contoso Contact Centre"],
        vec!["summary", "--account", ACCOUNT, "--site", "Indianapolis"],
        vec!["catalog", "show", "SW-001-4.0-AL2"],
    ] {
        let r = sb.run("issuer", &args);
        assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
        all.push_str(&sb.transcript(&r));
    }
    insta::assert_snapshot!("did_you_mean", all);
}

#[test]
fn key_trust_and_config_defaults() {
    let sb = Sandbox::new();
    sb.with_account();
    // No --key, no $I3LIC_KEY, no config: a usage error that says where a key may come from.
    let mut args = sb.production_args(&host_code("ic1"), 5, "ic1.i3lic");
    let k = args.iter().position(|a| a == "--key").expect("--key");
    args.drain(k..k + 2);
    let r = sb.run("issuer", &args).expect_code(2);
    assert!(
        r.stderr.contains("missing --key") && r.stderr.contains("I3LIC_KEY"),
        "{}",
        r.stderr
    );
    // $I3LIC_KEY.
    let out = sb
        .cmd("issuer")
        .args(&args)
        .env("I3LIC_KEY", sb.file("demo.key"))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // $I3LIC_TRUST for licverify, colon-separated.
    let trust = format!(
        "{}:{}",
        sb.file("missing.pub").display(),
        sb.file("demo.pub").display()
    );
    let out = sb
        .cmd("licverify")
        .args(["ic1.i3lic", "--host-id", &host_code("ic1")])
        .env("I3LIC_TRUST", &trust)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(4),
        "a missing trusted key is an I/O error"
    );
    let out = sb
        .cmd("licverify")
        .args(["ic1.i3lic", "--host-id", &host_code("ic1")])
        .env("I3LIC_TRUST", sb.file("demo.pub"))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = sb
        .run("licverify", ["ic1.i3lic", "--host-id", &host_code("ic1")])
        .expect_code(2);
    assert!(r.stderr.contains("I3LIC_TRUST"), "{}", r.stderr);

    // The config file: ledger, key and generated-by name; relative paths from its folder.
    // (The first file gives its server unit back first.)
    let first = sb.ok("issuer", ["activity", "--json"]).json()[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    sb.ok("issuer", ["deactivate", &first, "--approve"]);
    std::fs::create_dir_all(sb.file("config/i3lic")).expect("mkdir");
    std::fs::write(
        sb.file("config/i3lic/config.toml"),
        "ledger = \"../../ledger.db\"\nkey = \"../../demo.key\"\ngenerated_by = \"Config Person\"\n",
    )
    .expect("write config");
    let mut args2 = args.clone();
    let m = args2.iter().position(|a| a == "ic1.i3lic").expect("out");
    args2[m] = "ic2.i3lic".into();
    let h = args2.iter().position(|a| a == "--host-id").expect("host");
    args2[h + 1] = host_code("ic2");
    let out = sb
        .cmd("issuer")
        .args(&args2)
        .env_remove("I3LIC_DB")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = sb.ok("issuer", ["activity", "--json"]).json();
    assert_eq!(v[0]["generated_by"], "Config Person", "{v}");
    // A typo in the config is malformed input naming the file.
    std::fs::write(sb.file("config/i3lic/config.toml"), "ledgr = \"x\"\n").expect("write");
    let r = sb.run("issuer", &args2).expect_code(3);
    assert!(
        r.stderr.contains("config.toml") && r.stderr.contains("ledgr"),
        "{}",
        r.stderr
    );
}

#[test]
fn every_subcommand_help_has_examples() {
    let sb = Sandbox::new();
    let issuer: &[&[&str]] = &[
        &["keygen"],
        &["account", "add"],
        &["account", "list"],
        &["account", "rename"],
        &["site", "add"],
        &["site", "list"],
        &["site", "edit"],
        &["site", "deactivate"],
        &["site", "activate"],
        &["order", "add"],
        &["order", "list"],
        &["summary"],
        &["issue"],
        &["download"],
        &["catalog", "list"],
        &["catalog", "show"],
        &["catalog", "rules"],
        &["update"],
        &["deactivate"],
        &["activity"],
        &["show"],
        &["upgrade"],
        &["audit", "verify"],
        &["audit", "head"],
        &["audit", "log"],
        &["completions"],
        &["man"],
    ];
    let licadmin: &[&[&str]] = &[
        &["load"],
        &["preview"],
        &["user", "add"],
        &["user", "remove"],
        &["user", "list"],
        &["station", "add"],
        &["station", "remove"],
        &["station", "disable"],
        &["station", "enable"],
        &["org", "add"],
        &["org", "limit"],
        &["allocate"],
        &["deallocate"],
        &["login"],
        &["heartbeat"],
        &["logout"],
        &["report"],
        &["compliance"],
        &["check"],
        &["store", "show"],
        &["store", "retarget"],
        &["usage"],
        &["log"],
        &["completions"],
        &["man"],
    ];
    let others: &[(&str, &[&str])] = &[
        ("gethostid", &[]),
        ("gethostid", &["completions"]),
        ("licverify", &[]),
        ("licverify", &["inspect"]),
        ("licverify", &["completions"]),
    ];
    let all = issuer
        .iter()
        .map(|a| ("issuer", *a))
        .chain(licadmin.iter().map(|a| ("licadmin", *a)))
        .chain(others.iter().copied());
    for (bin, path) in all {
        let mut args: Vec<&str> = path.to_vec();
        args.push("--help");
        let r = sb.ok(bin, &args);
        assert!(
            r.stdout.contains("Examples:\n"),
            "`{}` has no examples:\n{}",
            r.line,
            r.stdout
        );
    }
}

#[test]
fn completions_and_man_pages_for_every_binary() {
    let sb = Sandbox::new();
    for bin in ["issuer", "gethostid", "licverify", "licadmin"] {
        for shell in ["bash", "zsh", "fish"] {
            let r = sb.ok(bin, ["completions", shell]);
            assert!(r.stdout.contains(bin), "{bin} {shell}: {}", r.stdout);
        }
        let r = sb.ok(bin, ["man"]);
        assert!(
            r.stdout.contains(&format!(".TH {bin} 1")),
            "{bin}: {}",
            r.stdout
        );
        sb.run(bin, ["completions", "tcsh"]).expect_code(2);
    }
}

#[test]
fn control_characters_in_names_are_refused_naming_them() {
    let sb = Sandbox::new();
    let mut all = String::new();
    for name in [
        "Bad\u{1b}]0;x\u{7}",
        "Tab\there",
        "Ok\u{85}",
        "Rev\u{202e}esrever",
        "Zero\u{200b}width",
        "Line\u{2028}separator",
    ] {
        let r = sb.run("issuer", ["account", "add", name]).expect_code(3);
        assert!(r.stderr.contains("U+"), "{}", r.stderr);
        // The name as Rust escapes it: the snapshot holds no control character itself.
        all.push_str(&format!(
            "$ issuer account add \"{}\"\nexit code: {}\n{}",
            name.escape_debug(),
            r.code,
            r.stderr
        ));
    }
    assert!(all.contains("U+001B at character 4 of 9"), "{all}");
    assert!(all.contains("U+0009 at character 4 of 8"), "{all}");
    assert!(all.contains("U+202E at character 4 of 11"), "{all}");
    insta::assert_snapshot!("control_characters", all);
}

#[test]
fn cjk_and_emoji_names_line_up_in_tables() {
    let sb = Sandbox::new();
    sb.ok("issuer", ["account", "add", "東京コンタクト"]);
    for (site, city) in [("本社", "東京"), ("HQ", "Indy"), ("Café ☕", "Paris")] {
        sb.ok(
            "issuer",
            [
                "site",
                "add",
                "--account",
                "東京コンタクト",
                "--name",
                site,
                "--city",
                city,
            ],
        );
    }
    let r = sb.ok("issuer", ["site", "list", "--account", "東京コンタクト"]);
    insta::assert_snapshot!("cjk_site_list", sb.transcript(&r));
    // Every row's city starts at the same display column.
    let col = |line: &str| -> usize {
        let (i, _) = line
            .char_indices()
            .find(|(i, _)| {
                ["東京", "Indy", "Paris", "City"]
                    .iter()
                    .any(|c| line[*i..].starts_with(c))
            })
            .expect("city");
        line[..i]
            .chars()
            .map(|c| {
                if ('\u{1100}'..).contains(&c) && c != 'é' {
                    2
                } else {
                    1
                }
            })
            .sum()
    };
    let cols: Vec<usize> = r.stdout.lines().map(col).collect();
    assert!(
        cols.windows(2).all(|w| w[0] == w[1]),
        "{cols:?}\n{}",
        r.stdout
    );
}
