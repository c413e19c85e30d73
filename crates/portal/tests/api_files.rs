//! The files resource of the API: the account comes from the address, refusals say what
//! was asked, and query-string refusals are the API's JSON naming the parameter.

mod common;

use common::*;
use serde_json::json;

/// `account` may be left out (the address names it); if given it must be the address's
/// (400 naming both) and not empty.
#[tokio::test]
async fn the_account_comes_from_the_address() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);

    let mut body = production(&host(1), "ic1", &[]);
    body.as_object_mut().unwrap().remove("account");
    let r = p.api("POST", &files, Some(&t), Some(body.clone())).await;
    assert_eq!(r.status, 201, "{}", r.text());

    let mut empty = production(&host(2), "ic2", &[]);
    empty["account"] = json!("");
    let r = p.api("POST", &files, Some(&t), Some(empty)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.starts_with("account: empty"), "{m}");

    let mut other = production(&host(3), "ic3", &[]);
    other["account"] = json!("Fabrikam");
    let r = p.api("POST", &files, Some(&t), Some(other)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("'Fabrikam'") && m.contains("'Contoso'"), "{m}");

    // Only the first was generated.
    let list = p.api("GET", &files, Some(&t), None).await.json();
    assert_eq!(list["total"], 1, "{list}");
}

/// Adding 100 to a file holding 2 is refused naming the 100 asked, not the 102 the new file
/// would hold.
#[tokio::test]
async fn an_update_refusal_says_what_was_asked() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p
        .api(
            "POST",
            &files,
            Some(&t),
            Some(production(&host(1), "ic1", &[("SW-001-4.0-AL02", 2)])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{id}/update"),
            Some(&t),
            Some(json!({"add": [{"part": "SW-001-4.0-AL02", "quantity": 100}]})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        m.contains("asked 100, available 48 (beyond the 2 the file already holds)"),
        "{m}"
    );
}

/// A query string the API cannot read answers its JSON error, naming the parameter.
#[tokio::test]
async fn query_refusals_are_json_naming_the_parameter() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let r = p
        .api(
            "GET",
            &format!("/api/v1/accounts/{}/files?page=abc", p.contoso),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "bad-request");
    let m = e["message"].as_str().unwrap();
    assert!(m.starts_with("query parameter 'page': "), "{m}");
    assert!(!m.contains("Failed to deserialize"), "{m}");
}

postgres_too!(
    the_account_comes_from_the_address,
    an_update_refusal_says_what_was_asked,
    refusals_name_the_apis_fields,
);

/// A refusal names the API's field, never the issuer's command-line flag.
#[tokio::test]
async fn refusals_name_the_apis_fields() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files = format!("/api/v1/accounts/{}/files", p.contoso);
    let mut body = production(&host(1), "ic1", &[]);
    body["server_part"] = json!("SW-001-4.0-AL02");
    let r = p.api("POST", &files, Some(&t), Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.contains("'server_part'") && !m.contains("--"), "{m}");

    let mut body = production(&host(2), "ic2", &[]);
    body["host_id"] = json!("X");
    let r = p.api("POST", &files, Some(&t), Some(body)).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let m = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(m.starts_with("host_id: "), "{m}");
}
