//! Activation File Requests: sent through the API or the browser's multipart form, answered
//! by staff, read by the customer, hidden from other accounts.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

/// Requests: a customer sends one with an attachment; staff see it and close it; the
/// customer reads the answer. Another account's request answers 404.
#[tokio::test]
async fn activation_file_requests_are_numbered_answered_and_kept() {
    let p = Portal::new();
    let t = p.token("plain@contoso.example");
    let body = json!({
        "account_id": p.contoso,
        "request": {"request_type": "Activation File Request", "category": "Activation File", "file_type": "Upgrade",
                    "subject": "Move to 4.0", "date_needed": "2099-12-24", "date_reason": "cut-over"},
        "attachments": [{"name": "old.i3lic", "content_base64": "aGVsbG8="}],
    });
    let r = p
        .api("POST", "/api/v1/requests", Some(&t), Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["number"], "AFR-0000001");
    let mut bad = body.clone();
    bad["attachments"][0]["name"] = json!("run.exe");
    let r = p.api("POST", "/api/v1/requests", Some(&t), Some(bad)).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not an accepted type"));

    let (sc, scsrf) = p.login("staff@vendor.example").await;
    let list = p.get("/requests", Some(&sc)).await.text();
    assert!(list.contains("AFR-0000001") && list.contains("Move to 4.0"));
    let att = p
        .get("/requests/AFR-0000001/attachments/1", Some(&sc))
        .await;
    assert_eq!(
        (att.status.as_u16(), att.body.as_slice()),
        (200, b"hello".as_slice())
    );
    assert_eq!(
        att.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    let close = p
        .post_form(
            "/requests/AFR-0000001/close",
            Some(&sc),
            &[("csrf", &scsrf), ("answer", "Done <b>now</b>")],
        )
        .await;
    assert_eq!(close.status, StatusCode::SEE_OTHER);
    let (cc, _) = p.login("plain@contoso.example").await;
    let page = p.get("/requests/AFR-0000001", Some(&cc)).await.text();
    assert!(
        page.contains("Done &lt;b&gt;now&lt;/b&gt;"),
        "escaped answer: {page}"
    );
    let (fc, _) = p.login("fab@fabrikam.example").await;
    assert_eq!(p.get("/requests/AFR-0000001", Some(&fc)).await.status, 404);
    assert_eq!(
        p.get("/requests/AFR-0000001/attachments/1", Some(&fc))
            .await
            .status,
        404
    );
}

/// The request form through the browser path: multipart with a file.
#[tokio::test]
async fn the_request_form_takes_multipart_attachments() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let b = "XBOUNDARYX";
    let mut body = String::new();
    for (k, v) in [
        ("csrf", csrf.as_str()),
        ("account_id", &p.contoso.to_string()),
        ("request_type", "Question"),
        ("subject", "How many seats?"),
        ("date_needed", "2099-12-31"),
    ] {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nsome notes\r\n--{b}--\r\n"));
    let req = axum::http::Request::post("/requests")
        .header("content-type", format!("multipart/form-data; boundary={b}"))
        .header("cookie", format!("i3lic_session={c}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let r = p.call(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location").as_deref(),
        Some("/requests/AFR-0000001")
    );
    let rec = p.ledger().request("AFR-0000001").unwrap();
    assert_eq!(rec.attachments[0].name, "notes.txt");
}

postgres_too!(activation_file_requests_are_numbered_answered_and_kept,);
