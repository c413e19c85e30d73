//! The API's errors: every one is JSON, also those the router makes itself.

mod common;

use common::*;
use serde_json::json;

/// Every error under `/api/v1` is JSON `{"error": {"kind", "message"}}`, also those axum
/// makes itself: a method the address does not take, a body over the limit where the body
/// is read as bytes, an address too long.
#[tokio::test]
async fn every_api_error_is_json() {
    let p = Portal::new();
    let t = p.token("staff@vendor.example");
    let kind = |r: &Answer| {
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        r.json()["error"]["kind"].as_str().unwrap().to_string()
    };
    for (m, path) in [("PUT", "/api/v1/accounts"), ("DELETE", "/api/v1/requests")] {
        let r = p.api(m, path, Some(&t), None).await;
        assert_eq!(r.status, 405, "{m} {path}");
        assert_eq!(kind(&r), "method-not-allowed");
        assert!(r.header("allow").is_some());
    }
    let huge = "x".repeat(portal::MAX_BODY + 10);
    let r = p
        .api(
            "POST",
            "/api/v1/files/00000000000000000000000000000000/deactivate",
            Some(&t),
            Some(json!({ "with_recovery": huge })),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(kind(&r), "payload-too-large");
    let long = format!("/api/v1/hostid/check?code={}", "A".repeat(9000));
    let r = p.api("GET", &long, Some(&t), None).await;
    assert_eq!(r.status, 414);
    assert_eq!(kind(&r), "uri-too-long");
    let r = p
        .api("GET", "/api/v1/accounts/1/files?page=x", Some(&t), None)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(kind(&r), "bad-request");
    // The API's base addresses, which no route serves, are the API's too.
    for path in ["/api", "/api/v1", "/api/v1/", "/api/v1/nothing-here"] {
        let r = p.api("GET", path, Some(&t), None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(kind(&r), "not-found", "{path}");
    }
}

postgres_too!(every_api_error_is_json,);
