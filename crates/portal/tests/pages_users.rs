//! Portal Users: the add form keeps what was typed after a refusal (the error by its field,
//! in the page's words), staff edit a user, and disabling asks first, saying what follows.
//! Only staff manage users.

mod common;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn a_refused_new_user_keeps_the_values_with_the_error_by_its_field() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "boss2@vendor.example"),
                ("role", "staff"),
                ("certified", "yes"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    assert!(!html.contains("--certified"), "{html}");
    assert!(html.contains("id=\"u-certified-error\""), "{html}");
    assert!(html.contains("href=\"#u-certified\""), "{html}");
    assert!(html.contains("value=\"boss2@vendor.example\""), "{html}");
    assert!(html.contains("<option value=\"staff\" selected>"), "{html}");
    assert!(!html.contains(PASSWORD), "a password is never shown");
    // A customer with no account: the error is by Accounts.
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "new@contoso.example"),
                ("role", "customer"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("id=\"u-account-error\""), "{}", r.text());
    assert!(!r.text().contains("--account"), "{}", r.text());
}

#[tokio::test]
async fn a_new_user_form_with_several_problems_shows_them_all_at_once() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "not an address"),
                ("role", "customer"),
                ("password", "short"),
                ("password2", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let html = r.text();
    // The e-mail address, the missing accounts and the short password, each by its field.
    for id in ["u-email", "u-account", "u-password"] {
        assert!(html.contains(&format!("id=\"{id}-error\"")), "{id}: {html}");
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "{id} in the summary: {html}"
        );
    }
    assert!(html.contains("value=\"not an address\""), "{html}");
    assert!(
        p.on_ledger(|l| l
            .portal_users()
            .unwrap()
            .iter()
            .all(|u| u.email != "not an address")),
        "nothing was saved"
    );
}

#[tokio::test]
async fn staff_edit_a_users_role_accounts_and_certification() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let id = user_id(&p, "plain@contoso.example");
    let form = p.get(&format!("/users/{id}/edit"), Some(&c)).await;
    assert_eq!(form.status, 200);
    assert!(form.text().contains("<option value=\"Contoso\" selected>"));
    let r = p
        .post_form(
            &format!("/users/{id}/edit"),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("role", "partner"),
                ("certified", "yes"),
                ("account", "Contoso"),
                ("account", "Fabrikam"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location").as_deref(), Some("/users"));
    let u = p.on_ledger(move |l| l.portal_user(id).unwrap().unwrap());
    assert_eq!(u.role, issuer::Role::Partner);
    assert!(u.certified);
    assert_eq!(u.accounts.len(), 2);
    // Refused: staff with accounts; the form comes back with the choice kept.
    let r = p
        .post_form(
            &format!("/users/{id}/edit"),
            Some(&c),
            &[("csrf", &csrf), ("role", "staff"), ("account", "Fabrikam")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("<option value=\"Fabrikam\" selected>"));
    assert!(r.text().contains("id=\"u-account-error\""));
    // Only staff edit.
    let (cc, _) = p.login("cert@contoso.example").await;
    let r = p.get(&format!("/users/{id}/edit"), Some(&cc)).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn disabling_a_user_asks_first_and_says_what_follows() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let id = user_id(&p, "plain@contoso.example");
    let _t = p.token("plain@contoso.example");
    let list = p.get("/users", Some(&c)).await.text();
    assert!(
        list.contains(&format!("href=\"/users/{id}/disable\"")),
        "{list}"
    );
    let ask = p.get(&format!("/users/{id}/disable"), Some(&c)).await;
    assert_eq!(ask.status, 200);
    let html = ask.text();
    assert!(
        html.contains("every browser session they have open ends"),
        "{html}"
    );
    assert!(html.contains("API tokens (1 in use) are revoked"), "{html}");
    // Nothing changed until the confirmation is posted.
    assert!(p.on_ledger(move |l| l.portal_user(id).unwrap().unwrap().active));
    let r = p
        .post_form(
            &format!("/users/{id}/active"),
            Some(&c),
            &[("csrf", &csrf), ("active", "no")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(!p.on_ledger(move |l| l.portal_user(id).unwrap().unwrap().active));
}

/// Staff manage portal users from the portal: add one (who can then log in), disable one
/// (their open session ends); nobody else may.
#[tokio::test]
async fn staff_manage_portal_users() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    assert_eq!(p.get("/users", Some(&c)).await.status, 403);
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "x@y.example"),
                ("role", "staff"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let (s, scsrf) = p.login("staff@vendor.example").await;
    let page = p.get("/users", Some(&s)).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("plain@contoso.example"));
    let add_with = |pw: &'static str, pw2: &'static str| {
        let (s, scsrf) = (s.clone(), scsrf.clone());
        let p = &p;
        async move {
            p.post_form(
                "/users",
                Some(&s),
                &[
                    ("csrf", &scsrf),
                    ("email", "new@contoso.example"),
                    ("role", "customer"),
                    ("account", "Contoso"),
                    ("certified", "yes"),
                    ("password", pw),
                    ("password2", pw2),
                ],
            )
            .await
        }
    };
    let add = |pw2: &'static str| add_with(PASSWORD, pw2);
    let differ = add("something else entirely").await;
    assert_eq!(differ.status, 400);
    assert!(differ.text().contains("The two passwords differ."));
    for (weak, why) in [
        ("aaaaaaaaaa", "repeated"),
        ("Password2024!", "most common passwords"),
        ("qwertyuiop", "most common passwords"),
        ("New@Contoso.example", "e-mail"),
        ("new-contoso-1234", "e-mail"),
    ] {
        let r = add_with(weak, weak).await;
        assert_eq!(r.status, 400, "{weak}");
        assert!(r.text().contains(why), "{weak}: {}", r.text());
    }
    assert_eq!(add(PASSWORD).await.status, StatusCode::SEE_OTHER);
    let (nc, _) = p.login("new@contoso.example").await;
    let user = p
        .ledger()
        .portal_user_login("new@contoso.example")
        .unwrap()
        .unwrap()
        .0;
    assert!(user.certified && user.accounts == ["Contoso"]);
    let r = p
        .post_form(
            &format!("/users/{}/active", user.id),
            Some(&s),
            &[("csrf", &scsrf), ("active", "no")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        p.get("/accounts", Some(&nc)).await.status,
        StatusCode::SEE_OTHER,
        "their session ended"
    );
    let audit = p
        .ledger()
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.actor == "portal:staff@vendor.example" && r.action.starts_with("portal-user.")
        })
        .count();
    assert_eq!(
        audit, 2,
        "add and disable are in the audit log with the staff user"
    );
}
