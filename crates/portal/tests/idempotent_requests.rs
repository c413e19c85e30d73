//! Activation File Requests and deactivations are done once: the request form (multipart,
//! with an attachment) sent twice makes one request and redirects both times to it; the
//! close form, the deactivate form (pasted or uploaded receipt, or none) and staff approval
//! sent twice do their work once and answer as the first time; API retries with one
//! `Idempotency-Key` answer the first status and body, and the key with another body is
//! refused (422). On both engines.

mod common;

use axum::body::Body;
use axum::http::{header, Request};
use common::*;
use serde_json::json;

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

/// A multipart body (boundary `b`) of `fields` and one file (`field`, name, text).
fn multipart(b: &str, fields: &[(&str, &str)], file: Option<(&str, &str, &str)>) -> String {
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    if let Some((field, name, text)) = file {
        body.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"));
    }
    body.push_str(&format!("--{b}--\r\n"));
    body
}

/// `POST path` of a multipart body with boundary `b`.
async fn send(p: &Portal, c: &str, path: &str, b: &str, body: String) -> Answer {
    let req = Request::post(path)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={b}"),
        )
        .header(header::COOKIE, format!("i3lic_session={c}"))
        .body(Body::from(body))
        .unwrap();
    p.call(req).await
}

/// The request form's values, with its tokens.
fn request_fields<'a>(csrf: &'a str, once: &'a str, account: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("once", once),
        ("account_id", account),
        ("request_type", "Question"),
        ("subject", "Logs"),
        ("description", "five logs"),
        ("date_needed", "2099-12-24"),
    ]
}

fn requests(p: &Portal) -> usize {
    p.on_ledger(|l| l.requests(None).unwrap().len())
}

fn audit(p: &Portal) -> (i64, [u8; 32]) {
    p.on_ledger(|l| l.audit_head().unwrap())
}

#[tokio::test]
async fn a_request_form_with_an_attachment_sent_twice_makes_one_request() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let acct = p.contoso.to_string();
    let f = request_fields(&csrf, "r-1", &acct);
    let file = Some(("attachment", "log.txt", "hello"));
    let first = send(&p, &c, "/requests", "B1", multipart("B1", &f, file)).await;
    assert_eq!(first.status, 303, "{}", first.text());
    // Sent again (a browser picks another boundary): the same redirect, no new request.
    let again = send(&p, &c, "/requests", "B2", multipart("B2", &f, file)).await;
    assert_eq!(again.status, 303, "{}", again.text());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(requests(&p), 1);
    // Another attachment under the same token: refused, nothing recorded.
    let r = send(
        &p,
        &c,
        "/requests",
        "B3",
        multipart("B3", &f, Some(("attachment", "log.txt", "other"))),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    // A new token: a new request.
    let f2 = request_fields(&csrf, "r-2", &acct);
    let r = send(&p, &c, "/requests", "B4", multipart("B4", &f2, file)).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_ne!(r.header("location"), first.header("location"));
    assert_eq!(requests(&p), 2);

    // Staff close it twice with one token: one close, the same redirect.
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let at = format!("{}/close", first.header("location").unwrap());
    let form = [
        ("csrf", scsrf.as_str()),
        ("once", "c-1"),
        ("answer", "Done"),
    ];
    let a = p.post_form(&at, Some(&s), &form).await;
    assert_eq!(a.status, 303, "{}", a.text());
    let before = audit(&p);
    let b = p.post_form(&at, Some(&s), &form).await;
    assert_eq!(
        (b.status, b.header("location")),
        (a.status, a.header("location"))
    );
    assert_eq!(audit(&p), before);
}

#[tokio::test]
async fn an_api_request_retried_with_its_key_is_recorded_once() {
    let p = Portal::new();
    let t = p.token("plain@contoso.example");
    let body = json!({
        "account_id": p.contoso,
        "request": { "request_type": "Question", "subject": "Logs", "description": "five logs", "date_needed": "2099-12-24" },
        "attachments": [{"name": "log.txt", "content_base64": "aGVsbG8="}],
    });
    let first = keyed(&p, "/api/v1/requests", &t, "q-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = keyed(&p, "/api/v1/requests", &t, "q-1", &body).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(again.header("location"), first.header("location"));
    assert!(first.header("location").is_some());
    assert_eq!(requests(&p), 1);
    let mut other = body.clone();
    other["request"]["subject"] = json!("Other");
    let r = keyed(&p, "/api/v1/requests", &t, "q-1", &other).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = keyed(&p, "/api/v1/requests", &t, "q-2", &other).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(requests(&p), 2);
}

/// A file issued to Contoso through the API.
async fn issue(p: &Portal, t: &str, n: u8) -> String {
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(t),
            Some(production(&host(n), &format!("ic{n}"), &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn deactivate_and_approve_forms_sent_twice_are_done_once() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let (c, csrf) = p.login("cert@contoso.example").await;
    // Without a receipt, urlencoded: the same page twice, one deactivation.
    let a = issue(&p, &t, 1).await;
    let at = format!("/files/{a}/deactivate");
    let form = [("csrf", csrf.as_str()), ("once", "d-1")];
    let first = p.post_form(&at, Some(&c), &form).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let before = audit(&p);
    let again = p.post_form(&at, Some(&c), &form).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(
        again.text().contains("pending approval"),
        "{}",
        again.text()
    );
    assert_eq!(audit(&p), before);
    // The token with another form: refused.
    let r = p
        .post_form(
            &at,
            Some(&c),
            &[("csrf", &csrf), ("once", "d-1"), ("with_recovery", "on")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());

    // A receipt upload (multipart) sent twice: one deactivation.
    let b = issue(&p, &t, 2).await;
    let bat = format!("/files/{b}/deactivate");
    let f = [("csrf", csrf.as_str()), ("once", "d-2")];
    let file = Some(("receipt_file", "receipt.txt", "not a receipt"));
    let first = send(&p, &c, &bat, "X1", multipart("X1", &f, file)).await;
    let again = send(&p, &c, &bat, "X2", multipart("X2", &f, file)).await;
    // A bad receipt is refused and not kept: the repeat is refused the same way.
    assert_eq!(first.status, 422, "{}", first.text());
    assert_eq!(again.status, first.status, "{}", again.text());
    let f = [("csrf", csrf.as_str()), ("once", "d-3")];
    let first = send(&p, &c, &bat, "X3", multipart("X3", &f, None)).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let before = audit(&p);
    let again = send(&p, &c, &bat, "X4", multipart("X4", &f, None)).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(audit(&p), before);

    // Staff approve twice with one token: approved once, the same redirect.
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let ap = format!("/files/{a}/approve-deactivation");
    let form = [("csrf", scsrf.as_str()), ("once", "ap-1")];
    let x = p.post_form(&ap, Some(&s), &form).await;
    assert_eq!(x.status, 303, "{}", x.text());
    let before = audit(&p);
    let y = p.post_form(&ap, Some(&s), &form).await;
    assert_eq!(
        (y.status, y.header("location")),
        (x.status, x.header("location"))
    );
    assert_eq!(audit(&p), before);
}

#[tokio::test]
async fn api_deactivations_retried_with_their_key_answer_the_first_body() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let a = issue(&p, &t, 1).await;
    let at = format!("/api/v1/files/{a}/deactivate");
    let first = keyed(&p, &at, &t, "k-1", &json!({})).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let before = audit(&p);
    let again = keyed(&p, &at, &t, "k-1", &json!({})).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(audit(&p), before);
    let r = keyed(&p, &at, &t, "k-1", &json!({"with_recovery": true})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Staff approval, retried.
    let st = p.token("staff@vendor.example");
    let ap = format!("/api/v1/files/{a}/approve-deactivation");
    let first = keyed(&p, &ap, &st, "k-2", &json!({})).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let before = audit(&p);
    let again = keyed(&p, &ap, &st, "k-2", &json!({})).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(audit(&p), before);
}

postgres_too!(
    a_request_form_with_an_attachment_sent_twice_makes_one_request,
    an_api_request_retried_with_its_key_is_recorded_once,
    deactivate_and_approve_forms_sent_twice_are_done_once,
    api_deactivations_retried_with_their_key_answer_the_first_body,
);
