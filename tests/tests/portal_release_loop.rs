//! The deactivate-and-reissue loop through the portal's API, with the real binaries: on each of
//! five servers, a certified customer issues a file for the server's request code (`licadmin
//! request`) and deactivates it without a receipt (its units stay used, pending); then issues
//! again, the server loads that file and releases it (`licadmin release`), and the receipt
//! returns the units at once. After every step the ledger shows at least as many units used as
//! files active or pending.

use i3lic_tests::webdriver::http;
use i3lic_tests::{PortalServer, Sandbox, ACCOUNT, SITE};
use serde_json::{json, Value};

/// A strong host-ID code of a constructed machine (a request code needs the strong form).
fn strong_host(n: u8) -> String {
    hostid::HostId::strong_from_components(&hostid::Components {
        machine_id: Some(format!("{n:02x}machine-id of the portal loop")),
        macs: vec![[0x02, 0x5e, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .expect("strong code")
    .to_string()
}

/// One API call with a bearer token: (status, body as JSON, or as a string when not JSON).
fn api(
    p: &PortalServer,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let text = body.map(|b| b.to_string());
    let mut headers = vec![("Authorization", auth.as_str())];
    if text.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    let r = http(
        &p.addr,
        method,
        path,
        &headers,
        text.as_deref().map(str::as_bytes),
    )
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let body = serde_json::from_slice(&r.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).into_owned()));
    (r.status, body)
}

/// Used and pending units of the server part, and the files active and pending deactivation.
struct Counts {
    used: u64,
    pending_units: u64,
    active_files: usize,
    pending_files: usize,
}

fn counts(p: &PortalServer, customer: &str, staff: &str, account: u64) -> Counts {
    let (s, summary) = api(
        p,
        customer,
        "GET",
        &format!("/api/v1/accounts/{account}/summary"),
        None,
    );
    assert_eq!(s, 200, "{summary}");
    let part = summary["parts"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["part"] == "SW-001-4.0-SL03"))
        .unwrap_or_else(|| panic!("no SL03 in {summary}"));
    let (s, files) = api(
        p,
        customer,
        "GET",
        &format!("/api/v1/accounts/{account}/files?active=yes"),
        None,
    );
    assert_eq!(s, 200, "{files}");
    let (s, pending) = api(p, staff, "GET", "/api/v1/deactivations/pending", None);
    assert_eq!(s, 200, "{pending}");
    Counts {
        used: part["used"].as_u64().expect("used"),
        pending_units: part["pending"].as_u64().expect("pending"),
        active_files: files["files"].as_array().map_or(0, Vec::len),
        pending_files: pending["pending"].as_array().map_or(0, Vec::len),
    }
}

#[test]
fn five_servers_release_through_the_portal_api() {
    let sb = Sandbox::new();
    sb.demo_keys();
    sb.account_with_orders(&[("SW-001-4.0-SL03", "10")]);
    sb.portal_user("cert@contoso.example", "customer", &[ACCOUNT], true);
    sb.portal_user("staff@vendor.example", "staff", &[], false);
    let token = |email: &str| {
        sb.ok("portal", ["token", "create", email, "--label", "loop"])
            .stdout
            .trim()
            .to_string()
    };
    let (customer, staff) = (token("cert@contoso.example"), token("staff@vendor.example"));
    let p = sb.serve_portal();
    let (s, accounts) = api(&p, &customer, "GET", "/api/v1/accounts", None);
    assert_eq!(s, 200, "{accounts}");
    let account = accounts["accounts"][0]["id"].as_u64().expect("account id");
    let check = |step: &str| {
        let c = counts(&p, &customer, &staff, account);
        assert!(
            c.used as usize >= c.active_files + c.pending_files,
            "{step}: {} used, {} files active and {} pending",
            c.used,
            c.active_files,
            c.pending_files
        );
        c
    };
    let issue = |code: &str, machine: &str| -> String {
        let body = json!({
            "account": ACCOUNT, "site": SITE, "product": "CIC", "version": "4.0",
            "type": "production", "host_id": code, "machine": machine,
            "server_part": "SW-001-4.0-SL03", "add": [],
        });
        let (s, v) = api(
            &p,
            &customer,
            "POST",
            &format!("/api/v1/accounts/{account}/files"),
            Some(body),
        );
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().expect("issued id").to_string()
    };
    let deactivate = |id: &str, body: Option<Value>| {
        let (s, v) = api(
            &p,
            &customer,
            "POST",
            &format!("/api/v1/files/{id}/deactivate"),
            body,
        );
        (s, v)
    };

    for n in 1..=5u8 {
        let host = strong_host(n);
        let store_db = format!("store{n}.db");
        let store = |args: &[&str]| {
            let mut v = vec![
                "--store",
                &store_db,
                "--trust",
                "demo.pub",
                "--host-id",
                &host,
            ];
            v.extend_from_slice(args);
            sb.run("licadmin", v)
        };
        let code = store(&["request"]).expect_code(0).stdout.trim().to_string();
        let before = check("start");

        // Without a receipt: the file is inactive, its unit stays used, pending.
        let first = issue(&code, &format!("ic{n}"));
        let (s, v) = deactivate(&first, None);
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["deactivated"][0]["how"], "pending", "{v}");
        let c = check("deactivated without a receipt");
        assert_eq!(c.used, before.used + 1, "the unit stays used");
        assert_eq!(c.pending_units, before.pending_units + 1);

        // Reissued, loaded and released on the server: the receipt returns the unit at once.
        let second = issue(&code, &format!("ic{n}"));
        check("reissued");
        let (s, file) = api(
            &p,
            &customer,
            "GET",
            &format!("/api/v1/files/{second}/download"),
            None,
        );
        assert_eq!(s, 200, "{file}");
        std::fs::write(
            sb.file(&format!("ic{n}.i3lic")),
            file.as_str().expect("file text"),
        )
        .unwrap();
        store(&["load", &format!("ic{n}.i3lic")]).expect_code(0);
        let receipt = store(&["release"]).expect_code(0).stdout;
        let (s, v) = deactivate(&second, Some(json!({ "receipt": receipt })));
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["deactivated"][0]["how"], "receipt", "{v}");
        let c = check("deactivated with the receipt");
        assert_eq!(c.used, before.used + 1, "only the pending unit stays used");
        assert_eq!(c.pending_files, n as usize);
        // The same receipt again is refused and changes nothing.
        let (s, v) = deactivate(&second, Some(json!({ "receipt": receipt })));
        assert_eq!(s, 422, "{v}");
        let again = check("receipt used twice");
        assert_eq!(again.used, c.used);
    }
    let end = check("end");
    assert_eq!((end.used, end.pending_units, end.active_files), (5, 5, 0));
}
