//! Partners (seed 001, "Who Can Generate Licenses"): only a certified individual generates.
//! An uncertified partner gets 403 before the request is read any further, in the API and
//! on the pages, whose generating forms are not offered to them; a certified partner
//! generates as a certified customer may, plus non-ordered development files.

mod common;

use common::*;
use serde_json::json;

fn development(n: u8) -> serde_json::Value {
    json!({
        "site": "HQ", "product": "CIC", "version": "4.0",
        "type": "development-small", "host_id": host(40 + n), "machine": format!("dev{n}"),
        "server_part": "SW-001-4.0-IDS1",
    })
}

#[tokio::test]
async fn an_uncertified_partner_generates_nothing_through_the_api() {
    let p = Portal::new();
    let t = p.token("una@partner.example");
    let path = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p.api("POST", &path, Some(&t), Some(development(0))).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("certified"), "{}", r.text());
    let r = p
        .api(
            "POST",
            &path,
            Some(&t),
            Some(production("not a host id", "m", &[])),
        )
        .await;
    assert_eq!(r.status, 403, "before the host id is read: {}", r.text());
    let files = p.api("GET", &path, Some(&t), None).await;
    assert_eq!(files.status, 200);
    assert_eq!(files.json()["total"], 0, "{}", files.text());
}

#[tokio::test]
async fn a_certified_partner_generates_development_and_production_files() {
    let p = Portal::new();
    let t = p.token("pat@partner.example");
    let path = format!("/api/v1/accounts/{}/files", p.contoso);
    let r = p.api("POST", &path, Some(&t), Some(development(1))).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = p
        .api(
            "POST",
            &path,
            Some(&t),
            Some(production(&host(50), "prod1", &[])),
        )
        .await;
    assert_eq!(r.status, 201, "as a certified customer may: {}", r.text());
}

#[tokio::test]
async fn an_uncertified_partner_is_not_offered_the_generating_forms() {
    let p = Portal::new();
    let (c, csrf) = p.login("una@partner.example").await;
    let new = p
        .get(
            &format!(
                "/accounts/{}/new?site=HQ&product=CIC+4.0&type=development-small",
                p.contoso
            ),
            Some(&c),
        )
        .await;
    assert_eq!(new.status, 200);
    let html = new.text();
    assert!(html.contains("Only certified users generate activation files."));
    assert!(!html.contains("Please select a product"), "no step 1");
    assert!(!html.contains("Generate Activation File"), "no step 2");
    let up = p
        .get(&format!("/accounts/{}/upgrade", p.contoso), Some(&c))
        .await;
    assert!(up
        .text()
        .contains("Only certified users generate activation files."));
    assert!(!up.text().contains("Upgrade Selected"));
    // The form's own fields are not read: an unknown type is still a 403.
    let r = p
        .post_form(
            &format!("/accounts/{}/new", p.contoso),
            Some(&c),
            &[("csrf", &csrf), ("type", "no such type")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
}

#[tokio::test]
async fn an_uncertified_partner_is_not_offered_the_update_form() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(60), "m60", &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (c, csrf) = p.login("una@partner.example").await;
    let page = p.get(&format!("/files/{id}/update"), Some(&c)).await;
    assert_eq!(page.status, 200);
    assert!(page
        .text()
        .contains("Only certified users generate activation files."));
    assert!(!page.text().contains("Update Activation File</button>"));
    let r = p
        .post_form(
            &format!("/files/{id}/update"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("add_part", "nothing"),
                ("add_quantity", "x"),
            ],
        )
        .await;
    assert_eq!(
        r.status,
        403,
        "before the quantities are read: {}",
        r.text()
    );
}

#[tokio::test]
async fn a_certified_partner_is_offered_unlimited_development_files() {
    let p = Portal::new();
    let (c, _) = p.login("pat@partner.example").await;
    let page = p
        .get(
            &format!(
                "/accounts/{}/new?site=HQ&product=CIC+4.0&type=development-small",
                p.contoso
            ),
            Some(&c),
        )
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Unlimited for partners (30 days)"));
    assert!(page.text().contains("Generate Activation File"));
}
