//! Portal users and API tokens are done once: the add, edit and disable forms sent twice
//! with one token change the ledger once and answer the same redirect and message; the
//! create-token form sent again makes no second token and never shows a secret again (it
//! lists the token made the first time). On both engines.

mod common;

use common::*;

fn users(p: &Portal) -> usize {
    p.on_ledger(|l| l.portal_users().unwrap().len())
}

fn audit(p: &Portal) -> (i64, [u8; 32]) {
    p.on_ledger(|l| l.audit_head().unwrap())
}

#[tokio::test]
async fn user_forms_sent_twice_are_done_once() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let n = users(&p);
    let add = |once: &'static str, email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("once", once.to_string()),
            ("email", email.to_string()),
            ("role", "customer".to_string()),
            ("account", "Contoso".to_string()),
            ("password", PASSWORD.to_string()),
            ("password2", PASSWORD.to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let p = &p;
        let c = c.clone();
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            p.post_form("/users", Some(&c), &f).await
        }
    };
    let first = send(add("u-1", "new@contoso.example")).await;
    assert_eq!(first.status, 303, "{}", first.text());
    assert!(flash_of(&first).is_some());
    let again = send(add("u-1", "new@contoso.example")).await;
    same_answer(&first, &again);
    assert_eq!(users(&p), n + 1);
    let r = send(add("u-1", "other@contoso.example")).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = send(add("u-2", "other@contoso.example")).await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(users(&p), n + 2);

    // Edit, twice.
    let id = user_id(&p, "new@contoso.example");
    let at = format!("/users/{id}/edit");
    let form = [
        ("csrf", csrf.as_str()),
        ("once", "e-1"),
        ("role", "partner"),
        ("account", "Contoso"),
        ("account", "Fabrikam"),
    ];
    let first = p.post_form(&at, Some(&c), &form).await;
    assert_eq!(first.status, 303, "{}", first.text());
    let before = audit(&p);
    let again = p.post_form(&at, Some(&c), &form).await;
    same_answer(&first, &again);
    assert_eq!(audit(&p), before);

    // Disable, twice.
    let at = format!("/users/{id}/active");
    let form = [("csrf", csrf.as_str()), ("once", "x-1"), ("active", "no")];
    let first = p.post_form(&at, Some(&c), &form).await;
    assert_eq!(first.status, 303, "{}", first.text());
    let before = audit(&p);
    let again = p.post_form(&at, Some(&c), &form).await;
    same_answer(&first, &again);
    assert_eq!(audit(&p), before);
    assert!(!p.on_ledger(move |l| l.portal_user(id).unwrap().unwrap().active));
}

#[tokio::test]
async fn a_token_form_sent_twice_makes_one_token_and_shows_its_secret_once() {
    let p = Portal::new();
    let (c, csrf) = p.login("plain@contoso.example").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("once", "t-1"),
        ("label", "build server"),
    ];
    let first = p.post_form("/tokens", Some(&c), &form).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.text().contains("id=\"t-secret\""), "{}", first.text());
    let again = p.post_form("/tokens", Some(&c), &form).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let html = again.text();
    assert!(!html.contains("id=\"t-secret\""), "no secret again: {html}");
    assert!(
        html.contains("already created") || html.contains("was created then"),
        "{html}"
    );
    assert!(html.contains("build server"), "the token is listed: {html}");
    assert_eq!(p.on_ledger(|l| l.portal_tokens(None).unwrap().len()), 1);
    // The token with another label: refused; a new token: a second one.
    let r = p
        .post_form(
            "/tokens",
            Some(&c),
            &[("csrf", &csrf), ("once", "t-1"), ("label", "ci")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = p
        .post_form(
            "/tokens",
            Some(&c),
            &[("csrf", &csrf), ("once", "t-2"), ("label", "ci")],
        )
        .await;
    assert!(r.text().contains("id=\"t-secret\""), "{}", r.text());
    assert_eq!(p.on_ledger(|l| l.portal_tokens(None).unwrap().len()), 2);
}

postgres_too!(
    user_forms_sent_twice_are_done_once,
    a_token_form_sent_twice_makes_one_token_and_shows_its_secret_once,
);
