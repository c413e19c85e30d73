//! Requests done once: a page form posted twice with its one-time token (a refresh, a
//! double click) generates one file and shows it both times; an API `POST` with an
//! `Idempotency-Key` answers a retry with the first response (status and body) and refuses
//! the key with another body (422); two requests with one key at once, even through two
//! portal processes, issue one file. On both engines.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request};
use common::*;
use format::SecretKey;
use issuer::Catalog;
use portal::service::{AppState, Config};

/// How many files Contoso holds (its activity, as staff see it).
async fn files(p: &Portal) -> u64 {
    let t = p.token("staff@vendor.example");
    let list = p
        .api(
            "GET",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            None,
        )
        .await
        .json();
    list["total"].as_u64().unwrap_or_else(|| panic!("{list}"))
}

/// The value of the form field `name` in a page.
fn field_of(html: &str, name: &str) -> String {
    let pat = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&pat)
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    let rest = &html[at + pat.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// Another portal process on `p`'s ledger.
fn another(p: &Portal) -> Portal {
    // Opened off the test's runtime: PostgreSQL's client runs one of its own.
    let state = Arc::new(off_runtime(|| {
        AppState::open(
            p.location.clone(),
            Catalog::built_in().unwrap(),
            SecretKey::from_seed(&p.key.seed()),
            Config::default(),
        )
        .unwrap()
    }));
    Portal {
        app: portal::router(state.clone()),
        state,
        dir: tempfile::tempdir().unwrap(),
        key: SecretKey::from_seed(&p.key.seed()),
        location: p.location.clone(),
        contoso: p.contoso,
        fabrikam: p.fabrikam,
    }
}

/// The New Activation File form as a browser sends it, with the page's one-time token.
fn new_file_form<'a>(csrf: &'a str, once: &'a str, host: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("once", once),
        ("site", "HQ"),
        ("product", "CIC"),
        ("version", "4.0"),
        ("type", "production"),
        ("host_id", host),
        ("machine", "m1"),
        ("server_part", "SW-001-4.0-SL03"),
    ]
}

/// The New Activation File page once its site, product and type are chosen.
fn chosen(path: &str) -> String {
    format!("{path}?site=HQ&product=CIC+4.0&type=production")
}

/// The file id a Generate answer shows.
fn generated(r: &Answer) -> String {
    let t = r.text();
    assert_eq!(r.status, 200, "{t}");
    let at = t
        .find("/files/")
        .unwrap_or_else(|| panic!("no file in {t}"));
    t[at + 7..].split(['/', '"']).next().unwrap().to_string()
}

#[tokio::test]
async fn a_generate_form_sent_twice_makes_one_file_and_shows_it_both_times() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    let path = format!("/accounts/{}/new", p.contoso);
    let page = p.get(&chosen(&path), Some(&c)).await.text();
    let (csrf, once) = (field_of(&page, "csrf"), field_of(&page, "once"));
    assert_eq!(once.len(), 32, "{page}");
    let h = host(1);
    let form = new_file_form(&csrf, &once, &h);
    let first = generated(&p.post_form(&path, Some(&c), &form).await);
    let again = generated(&p.post_form(&path, Some(&c), &form).await);
    assert_eq!(again, first);
    assert_eq!(files(&p).await, 1);
    // The page again gives a new token: a new form generates a new file.
    let page = p.get(&chosen(&path), Some(&c)).await.text();
    let next = field_of(&page, "once");
    assert_ne!(next, once);
    let h2 = host(2);
    let other = generated(
        &p.post_form(&path, Some(&c), &new_file_form(&csrf, &next, &h2))
            .await,
    );
    assert_ne!(other, first);
    assert_eq!(files(&p).await, 2);
    // The first token with other values is refused, and nothing is generated.
    let h3 = host(3);
    let r = p
        .post_form(&path, Some(&c), &new_file_form(&csrf, &once, &h3))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(files(&p).await, 2);
}

#[tokio::test]
async fn one_form_sent_twice_at_once_through_two_processes_makes_one_file() {
    let p = Portal::new();
    let q = another(&p);
    let (c, _) = p.login("cert@contoso.example").await;
    let path = format!("/accounts/{}/new", p.contoso);
    let page = p.get(&chosen(&path), Some(&c)).await.text();
    let (csrf, once) = (field_of(&page, "csrf"), field_of(&page, "once"));
    let h = host(1);
    let form = new_file_form(&csrf, &once, &h);
    let (a, b, d) = tokio::join!(
        p.post_form(&path, Some(&c), &form),
        q.post_form(&path, Some(&c), &form),
        p.post_form(&path, Some(&c), &form),
    );
    let first = generated(&a);
    assert_eq!(generated(&b), first);
    assert_eq!(generated(&d), first);
    assert_eq!(files(&p).await, 1);
}

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

#[tokio::test]
async fn an_api_retry_with_its_key_answers_the_first_response() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files_at = format!("/api/v1/accounts/{}/files", p.contoso);
    let body = production(&host(1), "ic1", &[]);
    let first = keyed(&p, &files_at, &t, "retry-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = keyed(&p, &files_at, &t, "retry-1", &body).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(files(&p).await, 1);
    // The key with another body: 422 naming the key, nothing issued.
    let r = keyed(
        &p,
        &files_at,
        &t,
        "retry-1",
        &production(&host(2), "ic2", &[]),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("retry-1"));
    assert_eq!(files(&p).await, 1);
    // Another user's key of the same name is theirs.
    let t2 = p.token("staff@vendor.example");
    let r = keyed(&p, &files_at, &t2, "retry-1", &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_ne!(r.body, first.body);
    assert_eq!(files(&p).await, 2);
    // A key that is not printable ASCII, or too long, is refused naming the header.
    let r = keyed(&p, &files_at, &t, &"k".repeat(256), &body).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("Idempotency-Key"), "{}", r.text());
}

#[tokio::test]
async fn an_api_update_retried_with_its_key_supersedes_the_file_once() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let files_at = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p
        .api(
            "POST",
            &files_at,
            Some(&t),
            Some(production(&host(1), "ic1", &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let at = format!("/api/v1/files/{id}/update");
    let body = serde_json::json!({"add": [{"part": "SW-001-4.0-AL02", "quantity": 2}]});
    let first = keyed(&p, &at, &t, "u-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = keyed(&p, &at, &t, "u-1", &body).await;
    assert_eq!((again.status, &again.body), (first.status, &first.body));
    assert_eq!(files(&p).await, 2);
}

/// The OpenAPI document offers the header on every route that changes the ledger.
#[tokio::test]
async fn the_document_offers_the_idempotency_key() {
    let p = Portal::new();
    let doc = p.get("/api/v1/openapi.json", None).await.json();
    for (path, op) in [
        ("/api/v1/accounts/{id}/files", "post"),
        ("/api/v1/files/{file}/update", "post"),
        ("/api/v1/accounts/{id}/sites", "post"),
        ("/api/v1/requests", "post"),
        ("/api/v1/files/{file}/deactivate", "post"),
        ("/api/v1/files/{file}/approve-deactivation", "post"),
    ] {
        let params = doc["paths"][path][op]["parameters"].as_array().unwrap();
        assert!(
            params
                .iter()
                .any(|x| x["name"] == "Idempotency-Key" && x["in"] == "header"),
            "{path}: {params:?}"
        );
    }
}

#[tokio::test]
async fn two_api_requests_with_one_key_at_once_issue_one_file() {
    let p = Portal::new();
    let q = another(&p);
    let t = p.token("cert@contoso.example");
    let files_at = format!("/api/v1/accounts/{}/files", p.contoso);
    let body = production(&host(1), "ic1", &[]);
    let (a, b) = tokio::join!(
        keyed(&p, &files_at, &t, "together", &body),
        keyed(&q, &files_at, &t, "together", &body),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    assert_eq!((b.status, &b.body), (a.status, &a.body));
    assert_eq!(files(&p).await, 1);
}

postgres_too!(
    a_generate_form_sent_twice_makes_one_file_and_shows_it_both_times,
    one_form_sent_twice_at_once_through_two_processes_makes_one_file,
    an_api_retry_with_its_key_answers_the_first_response,
    two_api_requests_with_one_key_at_once_issue_one_file,
    an_api_update_retried_with_its_key_supersedes_the_file_once,
);
