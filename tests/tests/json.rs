//! `--json` outputs parse as JSON and have the documented shape, for scripts that depend on
//! them: `licverify --json` (`{valid, error: {code, kind, message} | null, license}`),
//! `issuer summary --json`, `gethostid --json` and `gethostid --check CODE --json`.

use i3lic_tests::{host_code, Sandbox, ACCOUNT, PARTNER, SITE};
use serde_json::Value;

/// The object's keys, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        s.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z'
    })
}

#[test]
fn licverify_json_valid_and_refused() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = host_code("ic1");
    let mut args = sb.production_args(&host, 12, "ic1.i3lic");
    args.extend(
        [
            "--switchover-host-id",
            PARTNER,
            "--switchover-machine",
            "ic2",
            "--switchover-part",
            "SW-001-4.0-SS03",
        ]
        .map(String::from),
    );
    let id = sb.ok("issuer", &args).stdout.trim().to_string();

    let v = sb
        .ok(
            "licverify",
            [
                "ic1.i3lic",
                "--trust",
                "demo.pub",
                "--host-id",
                &host,
                "--json",
            ],
        )
        .json();
    assert_eq!(keys(&v), ["error", "license", "valid"]);
    assert_eq!(v["valid"], true);
    assert!(v["error"].is_null());
    let lic = &v["license"];
    for k in [
        "activation",
        "checked_at",
        "key_id",
        "role",
        "warnings",
        "in_grace",
    ] {
        assert!(lic.get(k).is_some(), "license.{k} missing: {lic}");
    }
    assert_eq!(lic["role"], "primary");
    assert!(is_timestamp(&lic["checked_at"]), "{lic}");
    assert!(lic["key_id"].as_str().is_some_and(|k| k.len() == 16));
    assert!(lic["warnings"].is_array());
    assert_eq!(lic["in_grace"], false);
    let a = &lic["activation"];
    for k in [
        "file_id",
        "supersedes",
        "product",
        "product_version",
        "license_type",
        "issued_at",
        "valid_from",
        "expires_at",
        "generated_by",
        "sold_to",
        "install_site",
        "primary_host",
        "switchover_host",
        "system_type",
        "mail_connector",
        "bundle",
        "description",
        "features",
        "licenses",
        "ordered_items",
        "restrictions",
    ] {
        assert!(a.get(k).is_some(), "activation.{k} missing: {a}");
    }
    assert_eq!(a["file_id"], id.as_str());
    assert!(a["supersedes"].is_null());
    assert_eq!(
        (&a["product"], &a["product_version"]),
        (&"CIC".into(), &"4.0".into())
    );
    assert_eq!(a["sold_to"], ACCOUNT);
    assert_eq!(a["install_site"], SITE);
    assert_eq!(a["generated_by"], "pat.staff");
    assert_eq!(a["expires_at"], "2100-01-01T00:00:00Z");
    assert!(is_timestamp(&a["issued_at"]) && is_timestamp(&a["valid_from"]));
    assert_eq!(a["primary_host"]["host_id"], host.as_str());
    assert_eq!(a["primary_host"]["machine"], "ic1");
    assert_eq!(a["switchover_host"]["host_id"], PARTNER);
    assert_eq!(a["switchover_host"]["machine"], "ic2");
    let features = a["features"].as_array().expect("features array");
    assert!(features
        .iter()
        .all(|f| f.as_str().is_some_and(|f| f.starts_with("I3_FEATURE_"))));
    let licenses = a["licenses"].as_array().expect("licenses array");
    let client = licenses
        .iter()
        .find(|l| l["name"] == "I3_ACCESS_CLIENT")
        .expect("the business clients grant I3_ACCESS_CLIENT");
    assert_eq!(
        (&client["assigned"], &client["pooled"]),
        (&12.into(), &0.into())
    );
    for l in licenses {
        assert_eq!(keys(l), ["assigned", "name", "pooled"]);
        let name = l["name"].as_str().unwrap_or_default();
        assert!(
            name.starts_with("I3_ACCESS_") || name.starts_with("I3_LICENSE_"),
            "{l}"
        );
    }
    let items = a["ordered_items"].as_array().expect("ordered items");
    for it in items {
        assert_eq!(keys(it), ["description", "part", "quantity"]);
    }
    assert!(items
        .iter()
        .any(|it| it["part"] == "SW-001-4.0-AL02" && it["quantity"] == 12));

    // Refused: the same three keys, the error object, no license.
    let r = sb.run(
        "licverify",
        [
            "ic1.i3lic",
            "--trust",
            "demo.pub",
            "--host-id",
            &host_code("ic3"),
            "--json",
        ],
    );
    assert_eq!(r.code, 12);
    let v = r.json();
    assert_eq!(keys(&v), ["error", "license", "valid"]);
    assert_eq!(v["valid"], false);
    assert!(v["license"].is_null());
    assert_eq!(keys(&v["error"]), ["code", "exit_code", "kind", "message"]);
    assert_eq!(v["error"]["code"], 12);
    assert_eq!(v["error"]["exit_code"], 12);
    assert!(v["error"]["kind"].as_str().is_some_and(|k| !k.is_empty()));
    let message = v["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&host),
        "the message names the file's host: {message}"
    );
}

#[test]
fn issuer_summary_json() {
    let sb = Sandbox::new();
    sb.with_account();
    sb.issue_production(&host_code("ic1"), 30, "ic1.i3lic");
    let v = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    assert_eq!(v["account"], ACCOUNT);
    let check_parts = |parts: &Value| {
        let parts = parts.as_array().expect("parts array");
        assert!(!parts.is_empty());
        for p in parts {
            for k in ["part", "category", "description"] {
                assert!(p[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {p}");
            }
            let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k}: {p}"));
            assert_eq!(n("used") + n("available"), n("total"), "{p}");
            for g in p["grants"].as_array().expect("grants") {
                assert_eq!(keys(g), ["assigned", "key", "pooled"]);
            }
        }
        parts.clone()
    };
    let parts = check_parts(&v["parts"]);
    let al02 = parts
        .iter()
        .find(|p| p["part"] == "SW-001-4.0-AL02")
        .expect("AL02 ordered");
    assert_eq!(
        (&al02["total"], &al02["used"], &al02["available"]),
        (&50.into(), &30.into(), &20.into())
    );
    assert_eq!(al02["category"], "CIC 4.0");
    assert_eq!(al02["description"], "Business Client");
    let sites = v["sites"].as_array().expect("sites array");
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0]["site"], SITE);
    assert_eq!(sites[0]["active"], true);
    check_parts(&sites[0]["parts"]);
}

#[test]
fn gethostid_json_on_this_machine() {
    let sb = Sandbox::new();
    let r = sb.run("gethostid", ["--json"]);
    match r.code {
        0 => {
            let v = r.json();
            for k in ["code", "components", "environment", "warnings"] {
                assert!(v.get(k).is_some(), "{k} missing: {v}");
            }
            let code = v["code"].as_str().expect("code");
            // Same code as the plain form, and it passes --check.
            assert_eq!(sb.ok("gethostid", [] as [&str; 0]).stdout.trim(), code);
            sb.ok("gethostid", ["--check", code]);
            let kinds = v["components"].as_array().expect("components");
            assert!(kinds.len() >= 2, "at least two components: {v}");
            for k in kinds {
                let k = k.as_str().expect("component kind");
                assert!(["machine-id", "dmi-uuid", "mac", "cpu"].contains(&k), "{k}");
            }
            assert!(v["environment"].as_str().is_some());
            assert!(v["warnings"].as_array().is_some());
        }
        // Too few components here: a clear message and nothing on stdout to mistake for a code.
        4 => {
            assert!(r.stdout.is_empty(), "{}", r.stdout);
            assert!(
                r.stderr.contains("cannot make a safe host ID"),
                "{}",
                r.stderr
            );
        }
        c => panic!("gethostid --json exited {c}: {}", r.stderr),
    }
}

#[test]
fn gethostid_json_for_a_given_machine_tree() {
    let sb = Sandbox::new();
    let root = sb.file("machine");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir");
    std::fs::create_dir_all(root.join("sys/class/dmi/id")).expect("mkdir");
    std::fs::write(
        root.join("etc/machine-id"),
        "0123456789abcdef0123456789abcdef\n",
    )
    .expect("write");
    let root_arg = root.display().to_string();

    // One component only: refused with exit 4, what was found, and no code on stdout: only
    // the error object every binary prints under --json.
    let r = sb
        .run("gethostid", ["--root", &root_arg, "--json"])
        .expect_code(4);
    let e = r.json();
    assert_eq!(e["error"]["exit_code"], 4, "{e}");
    assert!(e.get("code").is_none(), "{e}");
    insta::assert_snapshot!("gethostid_too_few", sb.transcript(&r));

    std::fs::write(
        root.join("sys/class/dmi/id/product_uuid"),
        "4c4c4544-0042-3610-8056-b4c04f4d4e32\n",
    )
    .expect("write");
    let v = sb.ok("gethostid", ["--root", &root_arg, "--json"]).json();
    assert_eq!(
        keys(&v),
        ["code", "components", "environment", "form", "warnings"]
    );
    assert_eq!(
        v["components"],
        serde_json::json!(["machine-id", "dmi-uuid"])
    );
    let code = v["code"].as_str().expect("code");
    // Stable: the same tree gives the same code, in both output forms.
    let plain = sb.ok("gethostid", ["--root", &root_arg]).stdout;
    assert_eq!(plain.trim(), code);

    let c = sb
        .ok("gethostid", ["--check", &code.to_lowercase(), "--json"])
        .json();
    assert_eq!(keys(&c), ["code", "components", "form", "valid"]);
    assert_eq!(c["valid"], true);
    assert_eq!(
        c["code"], code,
        "a lower-case code is checked in its canonical form"
    );
    assert_eq!(c["components"], v["components"]);
}
