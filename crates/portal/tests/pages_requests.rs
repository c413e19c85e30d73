//! Activation File Request page: a refused request shows the form again with every value
//! kept and each error next to its field; the contact and order details are stored and shown.

mod common;

use axum::http::StatusCode;
use common::*;

const BOUNDARY: &str = "XBOUNDARYX";

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str)>) -> String {
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    if let Some((name, text)) = file {
        body.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n"));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    body
}

async fn send(p: &Portal, c: &str, body: String) -> Answer {
    let req = axum::http::Request::post("/requests")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header("cookie", format!("i3lic_session={c}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    p.call(req).await
}

fn fields<'a>(
    csrf: &'a str,
    account: &'a str,
    date: &'a str,
    host: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("account_id", account),
        ("request_type", "Activation File Request"),
        ("category", "Activation File"),
        ("file_type", "Upgrade"),
        ("subject", "Move ic1"),
        ("description", "The old server died."),
        ("date_needed", date),
        ("date_reason", "cut-over weekend"),
        ("contact_name", "Ann Smith"),
        ("contact_email", "ann@contoso.example"),
        ("host_id", host),
        ("deployment_type", "Lab"),
        ("implementation_type", "Migration"),
        ("order_number", "PO-4711"),
    ]
}

#[tokio::test]
async fn a_refused_request_keeps_every_value_and_names_its_fields() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let acct = p.contoso.to_string();
    let mut wrong = host(1);
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'V' { 'W' } else { 'V' });
    let r = send(
        &p,
        &c,
        multipart(
            &fields(&csrf, &acct, "2020-01-01", &wrong),
            Some(("notes.txt", "x")),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let t = r.text();
    for kept in [
        "value=\"Move ic1\"",
        "The old server died.",
        "value=\"cut-over weekend\"",
        "value=\"Ann Smith\"",
        "value=\"PO-4711\"",
        "value=\"2020-01-01\"",
    ] {
        assert!(t.contains(kept), "{kept} not kept: {t}");
    }
    assert!(t.contains("<option value=\"Lab\" selected"), "{t}");
    assert!(t.contains("<option value=\"Upgrade\" selected"), "{t}");
    assert!(t.contains("id=\"r-date-error\""), "{t}");
    assert!(t.contains("Date Needed: 2020-01-01 is in the past"), "{t}");
    assert!(t.contains("id=\"r-host-error\""), "{t}");
    assert!(t.contains("check character"), "{t}");
    assert!(
        t.contains("href=\"#r-date\""),
        "the summary links the field: {t}"
    );
    assert!(t.contains("Choose the files again"), "{t}");
    assert!(!t.contains("--host-id"), "{t}");
    assert!(p.ledger().requests(None).unwrap().is_empty());
}

#[tokio::test]
async fn an_attachment_refusal_stays_on_the_form() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let acct = p.contoso.to_string();
    let h = host(1);
    let r = send(
        &p,
        &c,
        multipart(
            &fields(&csrf, &acct, "2099-12-24", &h),
            Some(("tool.exe", "x")),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let t = r.text();
    assert!(t.contains("id=\"r-files-error\""), "{t}");
    assert!(t.contains(">Attachments: attachment"), "{t}");
    assert!(t.contains("value=\"Move ic1\""), "{t}");
    assert!(p.ledger().requests(None).unwrap().is_empty());
}

#[tokio::test]
async fn the_contact_and_order_details_are_stored_and_shown() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let acct = p.contoso.to_string();
    let h = host(1);
    let r = send(
        &p,
        &c,
        multipart(&fields(&csrf, &acct, "2099-12-24", &h), None),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let rec = p.ledger().request("AFR-0000001").unwrap();
    assert_eq!(rec.request.contact_email, "ann@contoso.example");
    assert_eq!(rec.request.deployment_type, "Lab");
    assert_eq!(rec.request.implementation_type, "Migration");
    assert_eq!(rec.request.order_number, "PO-4711");
    let t = p.get("/requests/AFR-0000001", Some(&c)).await.text();
    assert!(
        t.contains("Ann Smith") && t.contains("PO-4711") && t.contains("Migration"),
        "{t}"
    );
    let tok = p.token("plain@contoso.example");
    let a = p
        .api("GET", "/api/v1/requests/AFR-0000001", Some(&tok), None)
        .await;
    assert_eq!(a.json()["contact_name"], "Ann Smith", "{}", a.text());
}

#[tokio::test]
async fn the_api_refuses_a_past_date_naming_its_field() {
    let p = Portal::new();
    let tok = p.token("plain@contoso.example");
    let body = serde_json::json!({"account_id": p.contoso, "request": {"request_type": "Question", "subject": "Why", "date_needed": "2020-01-01"}});
    let a = p
        .api("POST", "/api/v1/requests", Some(&tok), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let m = a.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        m.contains("date_needed") && m.contains("in the past"),
        "{m}"
    );
}
