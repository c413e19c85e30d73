//! The deactivate-and-reissue loop with the real binaries: a file issued for a request code
//! (`licadmin request`), loaded and released on the server (`licadmin release`), returns its
//! units with the printed receipt, once; a file deactivated without a receipt keeps its units
//! used, pending, until staff approve.

use i3lic_tests::{Sandbox, ACCOUNT};
use serde_json::Value;

/// A strong host-ID code of a constructed machine (a request code needs the strong form).
fn strong_host(n: u8) -> String {
    hostid::HostId::strong_from_components(&hostid::Components {
        machine_id: Some(format!("{n:02x}machine-id of the release test")),
        macs: vec![[0x02, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .expect("strong code")
    .to_string()
}

/// (used, pending) of AL02 in `issuer summary --json`.
fn al02(sb: &Sandbox) -> (u64, u64) {
    let v: Value = sb
        .ok("issuer", ["summary", "--account", ACCOUNT, "--json"])
        .json();
    let p = v["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == "SW-001-4.0-AL02")
        .unwrap()
        .clone();
    (p["used"].as_u64().unwrap(), p["pending"].as_u64().unwrap())
}

fn issue(sb: &Sandbox, host: &str, out: &str) -> String {
    let args = sb.production_args(host, 10, out);
    let v = sb
        .ok("issuer", args.iter().chain(&["--json".to_string()]))
        .json();
    v["id"]
        .as_str()
        .expect("issue --json names the id")
        .to_string()
}

#[test]
fn units_come_back_only_with_the_release_receipt() {
    let sb = Sandbox::new();
    sb.with_account();
    let host = strong_host(1);
    let store = |args: &[&str]| {
        let mut v = vec![
            "--store",
            "store.db",
            "--trust",
            "demo.pub",
            "--host-id",
            &host,
        ];
        v.extend_from_slice(args);
        sb.run("licadmin", v)
    };

    // The loop without a receipt: the units stay used, pending.
    let first = issue(&sb, &host, "first.i3lic");
    assert_eq!(al02(&sb), (10, 0));
    let r = sb.ok("issuer", ["deactivate", &first]);
    assert!(r.stdout.contains("pending"), "{}", r.stdout);
    assert_eq!(al02(&sb), (10, 10));
    let r = sb.ok("issuer", ["deactivate", &first, "--approve"]);
    assert!(r.stdout.contains("staff approval"), "{}", r.stdout);
    assert_eq!(al02(&sb), (0, 0));

    // Request code → file bound to the store's install key → load → release → receipt.
    let code = store(&["request"]).expect_code(0).stdout.trim().to_string();
    let id = issue(&sb, &code, "ic1.i3lic");
    store(&["load", "ic1.i3lic"]).expect_code(0);
    let receipt = store(&["release"]).expect_code(0).stdout;
    std::fs::write(sb.file("receipt.txt"), &receipt).unwrap();
    assert_eq!(al02(&sb), (10, 0));
    let r = sb.ok("issuer", ["deactivate", &id, "--receipt", "receipt.txt"]);
    assert!(
        r.stdout.contains("deactivated with receipt"),
        "{}",
        r.stdout
    );
    assert_eq!(al02(&sb), (0, 0));

    // The same receipt again: refused (exit 20), nothing changed.
    let r = sb.run("issuer", ["deactivate", &id, "--receipt", "receipt.txt"]);
    assert_eq!(r.code, 20, "{}", r.stderr);
    assert!(r.stderr.contains("already used"), "{}", r.stderr);

    // Altered: its signature fails (exit 10), and the next file is untouched.
    let next = issue(&sb, &code, "ic1-next.i3lic");
    let altered = receipt.replacen(&format!("File-Id: {id}"), &format!("File-Id: {next}"), 1);
    std::fs::write(sb.file("altered.txt"), altered).unwrap();
    let r = sb.run("issuer", ["deactivate", &next, "--receipt", "altered.txt"]);
    assert_eq!(r.code, 10, "{}", r.stderr);
    assert!(r.stderr.contains("signature"), "{}", r.stderr);
    assert_eq!(al02(&sb), (10, 0));
    // The receipt of another file: refused (exit 3).
    let r = sb.run("issuer", ["deactivate", &next, "--receipt", "receipt.txt"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("another file"), "{}", r.stderr);
    assert_eq!(al02(&sb), (10, 0));
    sb.ok("issuer", ["audit", "verify"]);
}
