//! The pages' one form extractor: repeated keys fill a list (a multi-select, the add-on
//! rows), a form that cannot be read answers the page's 400 error page (HTML, never plain
//! text), and the token is checked before the form is read as the page's.

mod common;

use common::*;

fn is_page(a: &Answer) -> bool {
    a.header("content-type").as_deref() == Some("text/html; charset=utf-8")
        && a.text().contains("<h1>This cannot be done</h1>")
}

#[tokio::test]
async fn a_form_that_cannot_be_read_answers_the_400_page() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let sites = format!("/accounts/{}/sites", p.contoso);
    // A bad %-escape, and a field given twice that holds one value.
    for body in [
        format!("csrf={}&name=%ZZ", enc(&csrf)),
        format!("csrf={}&active=yes&active=no", enc(&csrf)),
    ] {
        let r = p
            .call(
                axum::http::Request::post(format!("{sites}/HQ/active"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("cookie", format!("i3lic_session={c}"))
                    .body(axum::body::Body::from(body.clone()))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(is_page(&r), "{body}: {}", r.text());
        assert!(!r.text().contains("Failed to deserialize"), "{}", r.text());
    }
}

#[tokio::test]
async fn repeated_keys_fill_a_list() {
    let p = Portal::new();
    let (c, csrf) = p.login("staff@vendor.example").await;
    let r = p
        .post_form(
            "/users",
            Some(&c),
            &[
                ("csrf", &csrf),
                ("email", "two@both.example"),
                ("role", "customer"),
                ("account", "Contoso"),
                ("account", "Fabrikam"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let u = p
        .ledger()
        .portal_users()
        .unwrap()
        .into_iter()
        .find(|u| u.email == "two@both.example")
        .unwrap();
    let mut accounts = u.accounts.clone();
    accounts.sort();
    assert_eq!(accounts, ["Contoso", "Fabrikam"]);
}

#[tokio::test]
async fn add_on_rows_need_their_part_and_quantity() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p
        .post_form(
            &format!("/accounts/{}/new", p.contoso),
            Some(&c),
            &[
                ("csrf", &csrf),
                ("site", "HQ"),
                ("product", "CIC"),
                ("version", "4.0"),
                ("type", "production"),
                ("host_id", &host(70)),
                ("machine", "m70"),
                ("server_part", "SW-001-4.0-SL03"),
                ("add_part", "SW-001-4.0-AL02"),
                ("add_part", "SW-001-4.0-AL06"),
                ("add_quantity", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text()
            .contains("every add-on row needs its part and its quantity"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn the_token_is_checked_before_the_form_is_read() {
    let p = Portal::new();
    let (c, _) = p.login("staff@vendor.example").await;
    let r = p
        .post_form(
            &format!("/accounts/{}/sites/HQ/active", p.contoso),
            Some(&c),
            &[("csrf", "wrong"), ("active", "maybe")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("This form has expired"), "{}", r.text());
}
