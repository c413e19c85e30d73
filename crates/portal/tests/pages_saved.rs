//! "Your changes were saved.": an edit on Portal Users or API Tokens that ends in a redirect
//! leaves the message for the next page, which shows it once; their lists are cards on a
//! phone.

mod common;

use common::*;

/// Follow a 303 as a browser does (session and message cookies); the page shows the
/// message, and the same page asked again does not.
async fn shows_saved_once(p: &Portal, session: &str, r: &Answer) {
    let to = follow_saved(p, session, r).await;
    let again = p.get(&to, Some(session)).await;
    assert!(!again.text().contains(SAVED), "{}", again.text());
}

#[tokio::test]
async fn editing_adding_disabling_and_enabling_a_user_say_saved() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let id = user_id(&p, "plain@contoso.example");
    let r = p
        .post_form(
            &format!("/users/{id}/edit"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("role", "customer"),
                ("certified", "yes"),
                ("account", "Contoso"),
            ],
        )
        .await;
    shows_saved_once(&p, &c, &r).await;
    // The list names the role as the form does, each cell labelled for a phone's cards.
    let list = p.get("/users", Some(&c)).await.text();
    assert!(list.contains("<table class=\"cards\">"), "{list}");
    assert!(
        list.contains("<td data-label=\"Role\">Customer</td>"),
        "{list}"
    );
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "new@contoso.example"),
                ("role", "customer"),
                ("account", "Contoso"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    shows_saved_once(&p, &c, &r).await;
    for active in ["no", "yes"] {
        let r = p
            .post_form(
                &format!("/users/{id}/active"),
                Some(&c),
                &[("csrf", &csrf), ("active", active)],
            )
            .await;
        shows_saved_once(&p, &c, &r).await;
    }
    // A refused edit is the form again, with no message.
    let r = p
        .post_form(
            &format!("/users/{id}/edit"),
            Some(&c),
            &[("csrf", &csrf), ("role", "staff"), ("account", "Contoso")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(flash_of(&r).is_none());
}

#[tokio::test]
async fn revoking_a_token_says_saved() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form("/tokens", Some(&c), &[("csrf", &csrf), ("label", "ci")])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let id = p.on_ledger(|l| l.portal_tokens(None).unwrap()[0].id);
    let r = p
        .post_form(
            &format!("/tokens/{id}/revoke"),
            Some(&c),
            &[("csrf", &csrf)],
        )
        .await;
    shows_saved_once(&p, &c, &r).await;
    let list = p.get("/tokens", Some(&c)).await.text();
    assert!(list.contains("<table class=\"cards\">"), "{list}");
    assert!(list.contains("<td data-label=\"Label\">ci</td>"), "{list}");
}
