//! API Tokens: each user creates (the secret shown once), lists and revokes their own;
//! staff see and revoke everyone's; nobody revokes another user's token.

mod common;

use common::*;

/// The secret shown on the "created" page.
fn secret_of(html: &str) -> String {
    let at = html.find("id=\"t-secret\"").expect("the secret field");
    let v = &html[at..];
    let v = &v[v.find("value=\"").unwrap() + 7..];
    v[..v.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_user_creates_uses_and_revokes_their_own_token() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form(
            "/tokens",
            Some(&c),
            &[("csrf", &csrf), ("label", "build server")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let secret = secret_of(&r.text());
    assert!(r.text().contains("shown only this once"));
    let ok = p.api("GET", "/api/v1/accounts", Some(&secret), None).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let list = p.get("/tokens", Some(&c)).await.text();
    assert!(list.contains("build server"), "{list}");
    assert!(!list.contains(&secret), "the secret is never listed");
    let id = p.on_ledger(|l| l.portal_tokens(None).unwrap()[0].id);
    let ask = p.get(&format!("/tokens/{id}/revoke"), Some(&c)).await;
    assert_eq!(ask.status, 200);
    assert!(ask.text().contains("cannot be undone"));
    let r = p
        .post_form(
            &format!("/tokens/{id}/revoke"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let gone = p.api("GET", "/api/v1/accounts", Some(&secret), None).await;
    assert_eq!(gone.status, 401);
}

#[tokio::test]
async fn a_token_without_a_label_is_refused_by_its_field() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form("/tokens", Some(&c), &[("csrf", &csrf), ("label", "  ")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("id=\"t-label-error\""), "{}", r.text());
    assert!(p.on_ledger(|l| l.portal_tokens(None).unwrap().is_empty()));
}

#[tokio::test]
async fn staff_see_every_token_and_others_only_their_own() {
    let p = Portal::new();
    p.on_ledger(|l| {
        l.add_portal_token("fab@fabrikam.example", &[7; 32], "fabrikam ci", "t")
            .unwrap()
    });
    let id = p.on_ledger(|l| l.portal_tokens(None).unwrap()[0].id);
    let (s, _) = p.login("staff@vendor.example").await;
    let all = p.get("/tokens", Some(&s)).await.text();
    assert!(all.contains("fabrikam ci") && all.contains("fab@fabrikam.example"));
    let (c, csrf) = p.login("cert@contoso.example").await;
    assert!(!p
        .get("/tokens", Some(&c))
        .await
        .text()
        .contains("fabrikam ci"));
    assert_eq!(
        p.get(&format!("/tokens/{id}/revoke"), Some(&c))
            .await
            .status,
        403
    );
    let r = p
        .post_form(
            &format!("/tokens/{id}/revoke"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(p.on_ledger(|l| l.portal_tokens(None).unwrap()[0].revoked_at.is_none()));
}
