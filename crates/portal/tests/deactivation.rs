//! Deactivations that hold, through the portal: the loop of issue → deactivate → reissue
//! leaves the units pending; a release receipt (API, pasted, uploaded) returns them at once,
//! once; staff see the pending list and approve; a customer cannot approve (403).

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use format::receipt::{Receipt, ReleaseFacts};
use format::{FileId, SecretKey, Timestamp};
use hostid::{Components, HostId, RequestCode};
use serde_json::json;

fn strong(n: u8) -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some(format!("{n:02x}").repeat(16)),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .unwrap()
}

fn request_code(n: u8, install: &SecretKey) -> String {
    RequestCode::new(strong(n), install.public_key().to_bytes())
        .unwrap()
        .to_string()
}

fn receipt(install: &SecretKey, n: u8, id: &str) -> String {
    let id: FileId = id.parse().unwrap();
    Receipt::sign(
        &ReleaseFacts {
            file_id: id,
            lineage: id,
            generation: 1,
            host_id: strong(n),
            released_at: Timestamp::now(),
        },
        install,
    )
}

/// (used, pending) of SL03 for Contoso.
fn sl03(p: &Portal) -> (u64, u64) {
    p.on_ledger(|l| {
        let s = l
            .summary(&issuer::Catalog::built_in().unwrap(), "Contoso", None)
            .unwrap();
        let x = s
            .parts
            .iter()
            .find(|x| x.part == "SW-001-4.0-SL03")
            .unwrap();
        (x.used, x.pending)
    })
}

async fn issue(p: &Portal, t: &str, code: &str, machine: &str) -> String {
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(t),
            Some(production(code, machine, &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_api_loop_leaves_units_pending_and_a_receipt_returns_them() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let install = SecretKey::from_seed(&[0x51; 32]);
    // Issue, deactivate without a receipt: the units stay used, pending.
    let first = issue(&p, &t, &request_code(1, &install), "ic1").await;
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{first}/deactivate"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["deactivated"][0]["how"], "pending");
    assert!(r.json()["deactivated"][0]["message"]
        .as_str()
        .unwrap()
        .contains("licadmin release"));
    assert_eq!(sl03(&p), (1, 1));
    let s = p
        .api(
            "GET",
            &format!("/api/v1/accounts/{}/summary", p.contoso),
            Some(&t),
            None,
        )
        .await;
    assert!(s.text().contains("\"pending\":1"), "{}", s.text());

    // The second server: with its receipt the units come back at once.
    let second = issue(&p, &t, &request_code(2, &install), "ic2").await;
    assert_eq!(sl03(&p), (2, 1));
    let bad = receipt(&install, 2, &second).replace("Generation: 1", "Generation: 2");
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{second}/deactivate"),
            Some(&t),
            Some(json!({ "receipt": bad })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("signature"));
    assert_eq!(sl03(&p), (2, 1));
    let good = receipt(&install, 2, &second);
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{second}/deactivate"),
            Some(&t),
            Some(json!({ "receipt": good })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["deactivated"][0]["how"], "receipt");
    assert_eq!(sl03(&p), (1, 1));
    // Used twice: refused.
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{second}/deactivate"),
            Some(&t),
            Some(json!({ "receipt": good })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

    // A customer cannot approve; staff can.
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{first}/approve-deactivation"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let staff = p.token("staff@vendor.example");
    let r = p
        .api("GET", "/api/v1/deactivations/pending", Some(&staff), None)
        .await;
    assert_eq!(r.json()["pending"][0]["id"], first.as_str());
    let r = p
        .api(
            "POST",
            &format!("/api/v1/files/{first}/approve-deactivation"),
            Some(&staff),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sl03(&p), (0, 0));
}

#[tokio::test]
async fn pages_take_a_receipt_and_staff_approve_pending_ones() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let install = SecretKey::from_seed(&[0x52; 32]);
    let (c, csrf) = p.login("cert@contoso.example").await;

    // Pasted receipt (urlencoded form).
    let a = issue(&p, &t, &request_code(3, &install), "ic3").await;
    let form = p.get(&format!("/files/{a}/deactivate"), Some(&c)).await;
    assert!(form.text().contains("licadmin release"));
    assert!(form.text().contains("name=\"receipt_file\""));
    let text = receipt(&install, 3, &a);
    let r = p
        .post_form(
            &format!("/files/{a}/deactivate"),
            Some(&c),
            &[("csrf", &csrf), ("receipt", &text)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("release receipt was verified"),
        "{}",
        r.text()
    );

    // Uploaded receipt (multipart).
    let b = issue(&p, &t, &request_code(4, &install), "ic4").await;
    let text = receipt(&install, 4, &b);
    let boundary = "XbOuNdArYx";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"receipt_file\"; filename=\"receipt.txt\"\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let req = Request::post(format!("/files/{b}/deactivate"))
        .header(header::COOKIE, format!("i3lic_session={c}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let r = p.call(req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("release receipt was verified"),
        "{}",
        r.text()
    );

    // Without a receipt: pending, shown on the Account Summary.
    let d = issue(&p, &t, &host(5), "ic5").await;
    let r = p
        .post_form(
            &format!("/files/{d}/deactivate"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("pending approval"), "{}", r.text());
    let s = p
        .get(&format!("/accounts/{}/summary", p.contoso), Some(&c))
        .await;
    assert!(s.text().contains("Pending"), "{}", s.text());

    // The customer may not see the list nor approve.
    assert_eq!(p.get("/deactivations", Some(&c)).await.status, 403);
    let r = p
        .post_form(
            &format!("/files/{d}/approve-deactivation"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(sl03(&p), (1, 1));

    // Staff see it and approve (CSRF checked).
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let list = p.get("/deactivations", Some(&s)).await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains(&d), "{}", list.text());
    assert!(list.text().contains("Approve"));
    let r = p
        .post_form(
            &format!("/files/{d}/approve-deactivation"),
            Some(&s),
            &[("csrf", "wrong")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(sl03(&p), (1, 1));
    let r = p
        .post_form(
            &format!("/files/{d}/approve-deactivation"),
            Some(&s),
            &[("csrf", &scsrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(sl03(&p), (0, 0));
    let list = p.get("/deactivations", Some(&s)).await;
    assert!(list.text().contains("No deactivation is pending"));
}
