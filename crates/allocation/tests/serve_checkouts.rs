//! `licadmin serve`'s `/v1/checkouts`: session licenses checked out per connection over HTTP.

mod common;

use std::sync::Arc;

use common::server::*;
use common::*;
use format::Rules;
use serde_json::json;

const BASIC_SESSION: &str = "I3_LICENSE_BASIC_SESSION_ADDON";

/// A server whose file grants `n` Basic Sessions and one Client Access.
fn sessions(n: u32) -> Server {
    server(
        Some(&file(
            &[(BASIC_SESSION, n, 0), (CLIENT, 1, 0)],
            Rules::default(),
        )),
        |_| {},
    )
}

#[test]
fn check_out_heartbeat_list_and_return() {
    let s = sessions(1);
    let r = s.post(
        "/v1/checkouts",
        json!({"key": BASIC_SESSION, "application": "web chat", "lease_seconds": 60}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let c = r.json();
    assert_eq!(c["key"], BASIC_SESSION);
    assert!(c["lease_expires_at"].as_str().unwrap().ends_with('Z'));
    let id = c["checkout"].as_str().unwrap().to_string();

    let list = s.get("/v1/checkouts").json();
    assert_eq!(list["checkouts"][0]["checkout"], id.as_str());
    assert_eq!(list["checkouts"][0]["application"], "web chat");

    let h = s.post(&format!("/v1/checkouts/{id}/heartbeat"), json!({}));
    assert_eq!(h.status, 200, "{}", h.body);
    assert!(h.json()["lease_expires_at"].is_string());

    assert_eq!(s.delete(&format!("/v1/checkouts/{id}")).status, 204);
    // Returned: a heartbeat or a second return is told why it ended.
    let h = s.post(&format!("/v1/checkouts/{id}/heartbeat"), json!({}));
    assert_eq!(h.status, 404);
    assert_eq!(h.kind(), "checkout-ended");
    assert_eq!(h.json()["error"]["reason"], "returned");
    let d = s.delete(&format!("/v1/checkouts/{id}"));
    assert_eq!(
        (d.status, d.json()["error"]["reason"].clone()),
        (404, json!("returned"))
    );
    assert_eq!(s.get("/v1/checkouts").json()["checkouts"], json!([]));
    // Its license is free again.
    assert_eq!(
        s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
            .status,
        201
    );
}

#[test]
fn every_checkout_refusal_has_its_status_and_kind() {
    let s = sessions(1);
    assert_eq!(
        s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
            .status,
        201
    );
    let none = s.post("/v1/checkouts", json!({"key": BASIC_SESSION}));
    assert_eq!((none.status, none.kind().as_str()), (409, "no-license"));
    assert!(
        none.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(BASIC_SESSION),
        "{}",
        none.body
    );
    let unknown = s.post(
        "/v1/checkouts",
        json!({"key": "I3_LICENSE_MEDIA_SESSION_ADDON"}),
    );
    assert_eq!(
        (unknown.status, unknown.kind().as_str()),
        (404, "unknown-license-key")
    );
    let not_session = s.post("/v1/checkouts", json!({"key": CLIENT}));
    assert_eq!(
        (not_session.status, not_session.kind().as_str()),
        (422, "rule-holder")
    );
    for bad in [
        json!({}),
        json!({"key": BASIC_SESSION, "extra": 1}),
        json!({"key": BASIC_SESSION, "lease_seconds": 0}),
        json!({"key": 7}),
    ] {
        let r = s.post("/v1/checkouts", bad.clone());
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let missing = s.post(
        "/v1/checkouts/0123456789abcdef0123456789abcdef/heartbeat",
        json!({}),
    );
    assert_eq!(
        (missing.status, missing.kind().as_str()),
        (404, "unknown-checkout")
    );
    let unauthorized = s.request("GET", "/v1/checkouts", None, None);
    assert_eq!(unauthorized.status, 401);
}

#[test]
fn session_keys_show_in_the_metrics_and_the_report() {
    let s = sessions(2);
    assert_eq!(
        s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
            .status,
        201
    );
    assert_eq!(
        s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
            .status,
        201
    );
    assert_eq!(
        s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
            .status,
        409
    );
    let m = s.request("GET", "/metrics", None, None).body;
    for line in [
        "i3lic_license_allowed{key=\"I3_LICENSE_BASIC_SESSION_ADDON\",method=\"session\"} 2",
        "i3lic_license_in_use{key=\"I3_LICENSE_BASIC_SESSION_ADDON\",method=\"session\"} 2",
        "i3lic_license_denials_total{key=\"I3_LICENSE_BASIC_SESSION_ADDON\",reason=\"no-license-available\"} 1",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} in\n{m}");
    }
    assert!(
        !m.contains("BASIC_SESSION_ADDON\",method=\"assignable\""),
        "{m}"
    );
    let report = s.get("/v1/report").json();
    let k = report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == BASIC_SESSION)
        .unwrap()
        .clone();
    assert_eq!(k["checkouts_in_use"], 2);
}

#[test]
fn clients_racing_for_one_session_key_get_exactly_its_count() {
    const LICENSED: u32 = 3;
    const CLIENTS: usize = 12;
    let s = Arc::new(sessions(LICENSED));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                s.post("/v1/checkouts", json!({"key": BASIC_SESSION}))
                    .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|st| **st == 201).count(),
        LICENSED as usize,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|st| *st == 201 || *st == 409));
    assert_eq!(s.alloc().checkouts().unwrap().len(), LICENSED as usize);
}
