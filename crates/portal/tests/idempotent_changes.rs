//! Every change a portal user can send twice by accident is done once: a page form posted
//! again with its one-time token makes one record and gets the first redirect back; an
//! API `POST` retried with its `Idempotency-Key` gets the first status and body; the key
//! with another body is refused (422). On both engines.

mod common;

use axum::body::Body;
use axum::http::{header, Request};
use common::*;

/// `POST path` with a JSON body, a token and an `Idempotency-Key`.
async fn keyed(p: &Portal, path: &str, t: &str, key: &str, body: &serde_json::Value) -> Answer {
    let r = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(body.to_string()))
        .unwrap();
    p.call(r).await
}

/// A form with the fields `f`, its anti-forgery token and the one-time token `once`.
fn form<'a>(csrf: &'a str, once: &'a str, f: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("csrf", csrf), ("once", once)];
    v.extend_from_slice(f);
    v
}

/// Contoso's install sites, by name.
fn sites(p: &Portal) -> Vec<(String, String, bool)> {
    p.on_ledger(|l| l.sites("Contoso").unwrap())
        .into_iter()
        .map(|s| (s.name, s.details.city, s.active))
        .collect()
}

#[tokio::test]
async fn site_forms_sent_twice_are_done_once() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let path = format!("/accounts/{}/sites", p.contoso);
    let n = sites(&p).len();
    let add = form(&csrf, "t-add", &[("name", "Lab"), ("city", "Carmel")]);
    let first = p.post_form(&path, Some(&c), &add).await;
    assert_eq!(first.status, 303, "{}", first.text());
    let again = p.post_form(&path, Some(&c), &add).await;
    same_answer(&first, &again);
    assert_eq!(sites(&p).len(), n + 1);
    // Another token: another site (a name taken is refused as before).
    let r = p
        .post_form(&path, Some(&c), &form(&csrf, "t-add2", &[("name", "Lab2")]))
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(sites(&p).len(), n + 2);
    // The token with another form: 422, nothing added.
    let r = p
        .post_form(&path, Some(&c), &form(&csrf, "t-add", &[("name", "Lab3")]))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(sites(&p).len(), n + 2);

    // An edit that renames: sent again, the old name is gone, but it answers as before.
    let edit_at = format!("/accounts/{}/sites/Lab/edit", p.contoso);
    let edit = form(&csrf, "t-edit", &[("name", "Lab9"), ("city", "Fishers")]);
    let first = p.post_form(&edit_at, Some(&c), &edit).await;
    assert_eq!(first.status, 303, "{}", first.text());
    let again = p.post_form(&edit_at, Some(&c), &edit).await;
    same_answer(&first, &again);
    assert!(sites(&p).iter().any(|s| s.0 == "Lab9" && s.1 == "Fishers"));

    // Deactivate, sent twice (the second would be refused or repeated otherwise).
    let active_at = format!("/accounts/{}/sites/Lab9/active", p.contoso);
    let off = form(&csrf, "t-off", &[("active", "no")]);
    let first = p.post_form(&active_at, Some(&c), &off).await;
    assert_eq!(first.status, 303, "{}", first.text());
    let again = p.post_form(&active_at, Some(&c), &off).await;
    same_answer(&first, &again);
    assert!(sites(&p).iter().any(|s| s.0 == "Lab9" && !s.2));
    let audits = p.on_ledger(|l| l.audit_head().unwrap());
    let _ = p.post_form(&active_at, Some(&c), &off).await;
    assert_eq!(p.on_ledger(|l| l.audit_head().unwrap()), audits);
}

#[tokio::test]
async fn an_api_site_retried_with_its_key_is_added_once() {
    let p = Portal::new();
    let t = p.token("staff@vendor.example");
    let at = format!("/api/v1/accounts/{}/sites", p.contoso);
    let n = sites(&p).len();
    let body = serde_json::json!({"name": "Lab", "city": "Carmel"});
    let first = keyed(&p, &at, &t, "s-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = keyed(&p, &at, &t, "s-1", &body).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(sites(&p).len(), n + 1);
    let r = keyed(&p, &at, &t, "s-1", &serde_json::json!({"name": "Lab2"})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["kind"], "key-reused", "{}", r.text());
    let r = keyed(&p, &at, &t, "s-2", &serde_json::json!({"name": "Lab2"})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(sites(&p).len(), n + 2);
}

postgres_too!(
    site_forms_sent_twice_are_done_once,
    an_api_site_retried_with_its_key_is_added_once,
);
