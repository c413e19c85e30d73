//! The Accounts list (searched and paged), where `/` and a login lead, the logout page and
//! what every page's frame offers (the skip link).

mod common;

use common::*;

/// An answer that is the portal's 400 page (HTML in the portal's frame, not plain text).
fn is_400_page(a: &Answer) -> bool {
    a.status == 400
        && a.header("content-type").as_deref() == Some("text/html; charset=utf-8")
        && a.text().contains("<h1>This cannot be done</h1>")
}

/// How many accounts the page lists.
fn listed(html: &str) -> usize {
    html.matches("<li><a href=\"/accounts/").count()
}

#[tokio::test]
async fn the_accounts_list_is_searched_and_paged() {
    let p = Portal::new();
    p.on_ledger(|l| {
        for i in 1..=28 {
            l.add_account(&format!("Northwind {i:02}"), "t").unwrap();
        }
    });
    let (c, _) = p.login("staff@vendor.example").await;
    // 30 accounts: 25 on the first page, 5 on the second.
    let first = p.get("/accounts", Some(&c)).await.text();
    assert_eq!(listed(&first), 25, "{first}");
    assert!(first.contains("Number of Total Results # 30"));
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("href=\"?page=2\""), "{first}");
    assert!(first.contains("role=\"search\""));
    // Past the last page: the last page.
    let last = p.get("/accounts?page=9", Some(&c)).await;
    assert_eq!(last.status, 200);
    assert_eq!(listed(&last.text()), 5);
    assert!(last.text().contains("Page 2 of 2"));
    // A search, case-blind, on part of the name.
    let found = p.get("/accounts?q=northwind+0", Some(&c)).await.text();
    assert_eq!(listed(&found), 9, "{found}");
    assert!(found.contains("Northwind 09") && !found.contains("Northwind 10"));
    // Nothing found says what to do.
    let none = p.get("/accounts?q=zzz", Some(&c)).await.text();
    assert_eq!(listed(&none), 0);
    assert!(none.contains("Check the spelling"), "{none}");
    // A page that is no number: the 400 page, naming the field.
    let bad = p.get("/accounts?page=abc", Some(&c)).await;
    assert!(is_400_page(&bad), "{}", bad.text());
    assert!(bad.text().contains("Page"), "{}", bad.text());
}

#[tokio::test]
async fn a_user_with_one_account_lands_on_it() {
    let p = Portal::new();
    // The login's default is `/`.
    let r = p.try_login("cert@contoso.example", PASSWORD, None).await;
    assert_eq!(r.header("location").as_deref(), Some("/"));
    let (one, _) = p.login("cert@contoso.example").await;
    let r = p.get("/", Some(&one)).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("/accounts/{}/summary", p.contoso))
    );
    // The list is still there for them.
    assert_eq!(p.get("/accounts", Some(&one)).await.status, 200);
    let (staff, _) = p.login("staff@vendor.example").await;
    let r = p.get("/", Some(&staff)).await;
    assert_eq!(r.header("location").as_deref(), Some("/accounts"));
}

#[tokio::test]
async fn get_logout_shows_the_logout_form() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p.get("/logout", Some(&c)).await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("<h1>Log out</h1>"), "{html}");
    assert!(html.contains("method=\"post\" action=\"/logout\""));
    assert_eq!(csrf_of(&html), csrf);
    // Without a session: to the login page.
    let r = p.get("/logout", None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/login"));
}

#[tokio::test]
async fn every_page_has_a_skip_link_to_its_main_content() {
    let p = Portal::new();
    let login = p.get("/login", None).await.text();
    let (c, _) = p.login("cert@contoso.example").await;
    let accounts = p.get("/accounts", Some(&c)).await.text();
    for html in [login, accounts] {
        assert!(
            html.contains("<a class=\"skip\" href=\"#main\">Skip to main content</a>"),
            "{html}"
        );
        assert!(html.contains("<main id=\"main\""));
    }
}

#[tokio::test]
async fn account_pages_name_the_account_in_their_title() {
    let p = Portal::new();
    let (c, _) = p.login("cert@contoso.example").await;
    for (tab, title) in [
        ("summary", "Account Summary"),
        ("software", "Software Details"),
        ("activity", "Activation File Activity"),
    ] {
        let html = p
            .get(&format!("/accounts/{}/{tab}", p.contoso), Some(&c))
            .await
            .text();
        assert!(
            html.contains(&format!("<title>{title} · Contoso · i3lic portal</title>")),
            "{html}"
        );
        assert!(html.contains(&format!("<h1>{title}</h1>")));
    }
}

#[tokio::test]
async fn a_message_left_by_a_redirect_is_shown_once() {
    let p = Portal::new();
    let (c, csrf) = p.login("cert@contoso.example").await;
    let r = p.post_form("/logout", Some(&c), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);
    let flash = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("i3lic_flash="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("the redirect leaves a message");
    let shown = p
        .call(
            axum::http::Request::get("/login")
                .header("cookie", flash)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        shown
            .text()
            .contains("<p class=\"ok\" role=\"status\">You are logged out.</p>"),
        "{}",
        shown.text()
    );
    // Its answer removes it: the next page has no message.
    let gone = shown
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("i3lic_flash=;") && v.contains("Max-Age=0"));
    assert!(gone, "the message's cookie is removed");
    assert!(!p
        .get("/login", None)
        .await
        .text()
        .contains("You are logged out."));
}
