//! Install Sites page: a refused site keeps its values with the error next to its field, and
//! deactivating a site with active files asks first, saying what follows.

mod common;

use common::*;

#[tokio::test]
async fn a_refused_new_site_keeps_every_value() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let path = format!("/accounts/{}/sites", p.contoso);
    let r = p
        .post_form(
            &path,
            Some(&c),
            &[
                ("csrf", &csrf),
                ("name", "Lab"),
                ("address1", "1 Main St"),
                ("city", "Bad\u{200B}town"),
                ("postal_code", "46220"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let t = r.text();
    for kept in ["value=\"Lab\"", "value=\"1 Main St\"", "value=\"46220\""] {
        assert!(t.contains(kept), "{kept}: {t}");
    }
    assert!(t.contains("id=\"s-city-error\""), "{t}");
    assert!(t.contains(">City holds"), "{t}");
    assert!(t.contains("href=\"#s-city\""), "{t}");
    // A name already taken: next to the Name, the other values kept.
    let r = p
        .post_form(
            &path,
            Some(&c),
            &[("csrf", &csrf), ("name", "hq"), ("city", "Carmel")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    let t = r.text();
    assert!(
        t.contains("id=\"s-name-error\"") && t.contains("value=\"Carmel\""),
        "{t}"
    );
}

#[tokio::test]
async fn a_refused_edit_keeps_the_values_sent() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let path = format!("/accounts/{}/sites/HQ/edit", p.contoso);
    let r = p
        .post_form(
            &path,
            Some(&c),
            &[("csrf", &csrf), ("name", ""), ("city", "Zionsville")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let t = r.text();
    assert!(t.contains("value=\"Zionsville\""), "{t}");
    assert!(
        t.contains("id=\"e-name-error\"") && t.contains("Name: give the site a name"),
        "{t}"
    );
}

#[tokio::test]
async fn deactivating_a_site_with_active_files_asks_first() {
    let p = Portal::new();
    let t = p.token("cert@contoso.example");
    let r = p
        .api(
            "POST",
            &format!("/api/v1/accounts/{}/files", p.contoso),
            Some(&t),
            Some(production(&host(1), "ic1", &[])),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let path = format!("/accounts/{}/sites/HQ/active", p.contoso);
    let r = p
        .post_form(&path, Some(&c), &[("csrf", &csrf), ("active", "no")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    assert!(text.contains(&id) && text.contains("stay active"), "{text}");
    assert!(text.contains("name=\"confirm\" value=\"yes\""), "{text}");
    assert!(
        text.contains("<title>Deactivate Install Site · Contoso · i3lic portal</title>"),
        "the question names the account, as its other pages do: {text}"
    );
    let active = |p: &Portal| {
        p.ledger()
            .sites("Contoso")
            .unwrap()
            .iter()
            .find(|s| s.name == "HQ")
            .unwrap()
            .active
    };
    assert!(active(&p), "not deactivated before the confirmation");
    let r = p
        .post_form(
            &path,
            Some(&c),
            &[("csrf", &csrf), ("active", "no"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(!active(&p));
}
