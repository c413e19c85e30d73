//! The Accounts list of a hundred accounts, Portal Users and API Tokens.

use i3lic_tests::{ACCOUNT, PORTAL_PASSWORD};

use crate::harness::*;

/// The Accounts list of 100 accounts (made with the issuer CLI) is searched and paged, and
/// passes axe-core; a customer with one account lands on it after logging in; `GET /logout`
/// shows the logout form, which logs out.
#[test]
fn a_hundred_accounts_are_searched_and_paged_and_one_account_lands_on_it() {
    let Some(w) =
        World::new("a_hundred_accounts_are_searched_and_paged_and_one_account_lands_on_it")
    else {
        return;
    };
    let b = &w.browser;
    // The account of the world and 99 more.
    for i in 1..=99 {
        w.sb.ok("issuer", ["account", "add", &format!("Northwind {i:02}")]);
    }
    w.login("staff@vendor.example");
    assert!(w.text().contains("Number of Total Results # 100"));
    assert!(w.text().contains("Page 1 of 4"));
    w.check("accounts, 100");
    b.click_link("Next");
    b.wait_for("page 2", |b| b.url().contains("page=2").then_some(()));
    assert!(w.text().contains("Page 2 of 4"));
    w.check("accounts, page 2");
    b.fill("#acc-q", "northwind 9");
    b.click_button("Search");
    b.wait_for("the search", |b| b.url().contains("q=").then_some(()));
    assert_eq!(b.all("ul.accounts li").len(), 10, "Northwind 90 to 99");
    w.check("accounts, searched");
    w.goto("/logout");
    w.expect_page("Log out");
    w.check("log out");
    b.click_button("Log out now");
    w.expect_page("Log in");

    // One account: the customer lands on it.
    b.fill("#email", "cert@contoso.example");
    b.fill("#password", PORTAL_PASSWORD);
    b.click_button("Log in");
    w.expect_page("Account Summary");
    assert_eq!(
        b.title(),
        format!("Account Summary · {ACCOUNT} · i3lic portal")
    );
    w.check("landing on the one account");
    w.assert_accessible();
}

/// Staff edit a portal user's role, accounts and certification (a refused edit keeps the
/// choice, the error by its field), the list shows the change and says it was saved once;
/// disabling goes through its confirmation, and enabling brings the user back.
#[test]
fn staff_edit_and_disable_a_portal_user_in_the_browser() {
    let Some(w) = World::new("staff_edit_and_disable_a_portal_user_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    w.sb.ok("issuer", ["account", "add", "Northwind"]);
    let user = "plain@contoso.example";
    w.login("staff@vendor.example");
    w.goto("/users");
    w.expect_page("Portal Users");
    w.check("portal users");
    let edit = row_link(&w, user, "/edit");
    b.click_link(&format!("Edit {user}"));
    w.expect_page(&format!("Edit portal user {user}"));
    assert_eq!(w.path(), edit);
    w.check("edit portal user");
    // Licensing staff with accounts: refused, the error by Accounts.
    b.select("#u-role", "staff");
    b.click_button("Save changes");
    b.find("#u-account-error");
    assert!(w.text().contains("The user was not saved"));
    assert_eq!(
        b.property(&b.find("#u-account"), "ariaInvalid"),
        "true",
        "the field in error is marked"
    );
    assert_eq!(
        b.property(&b.find("#u-role"), "value"),
        "staff",
        "the role chosen is kept"
    );
    w.check("edit portal user, refused");
    b.click_css("div.error-summary a[href=\"#u-account\"]");
    b.select("#u-role", "partner");
    b.click_css("#u-certified");
    b.select("#u-account", "Northwind");
    b.click_button("Save changes");
    w.expect_page("Portal Users");
    assert!(w.text().contains(SAVED_NOTE), "{}", w.text());
    let row = row_of(&w, user);
    for want in ["Partner", "Yes", ACCOUNT, "Northwind"] {
        assert!(row.contains(want), "{want} in {row}");
    }
    w.check("portal users, saved");
    w.goto("/users");
    w.expect_page("Portal Users");
    assert!(!w.text().contains(SAVED_NOTE), "the message is shown once");

    // Disabling asks first.
    b.click_link(&format!("Disable {user}"));
    w.expect_page(&format!("Disable portal user {user}"));
    assert!(w
        .text()
        .contains("every browser session they have open ends now"));
    w.check("disable portal user");
    b.click_button(&format!("Disable {user}"));
    w.expect_page("Portal Users");
    assert!(w.text().contains(SAVED_NOTE));
    assert!(row_of(&w, user).contains("No"), "{}", row_of(&w, user));
    w.check("portal users, disabled");
    b.click_button(&format!("Enable {user}"));
    w.expect_page("Portal Users");
    b.find_text("a", &format!("Disable {user}"));
    b.emulate_width(PHONE as u32);
    w.goto("/users");
    w.expect_page("Portal Users");
    fits_phone(&w, "portal users");
    w.goto(&edit);
    w.expect_page(&format!("Edit portal user {user}"));
    fits_phone(&w, "edit portal user");
    w.logout();
    w.assert_accessible();
}

/// A user creates an API token (its secret shown once), sees it listed without the secret,
/// and revokes it through the confirmation; the list says so once.
#[test]
fn a_user_creates_and_revokes_an_api_token_in_the_browser() {
    let Some(w) = World::new("a_user_creates_and_revokes_an_api_token_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    w.login("cert@contoso.example");
    b.click_link("API Tokens");
    w.expect_page("API Tokens");
    assert!(w.text().contains("No API tokens yet"));
    w.check("api tokens, none");
    // No label: refused by its field.
    b.click_button("Create token");
    b.find("#t-label-error");
    w.check("api tokens, refused");
    b.fill("#t-label", "build server");
    b.click_button("Create token");
    w.expect_page("API token created");
    let secret = b
        .property(&b.find("#t-secret"), "value")
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(secret.len() > 20, "the secret is shown: {secret:?}");
    w.check("api token created");
    b.click_link("Back to API Tokens");
    w.expect_page("API Tokens");
    assert!(row_of(&w, "build server").contains("Active"));
    let html = b
        .script("return document.documentElement.outerHTML", vec![])
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!html.contains(&secret), "the secret is not shown again");
    w.check("api tokens, one");
    b.click_link("Revoke build server");
    w.expect_page("Revoke API token build server");
    assert!(w.text().contains("cannot be undone"));
    w.check("revoke api token");
    b.click_button("Revoke build server");
    w.expect_page("API Tokens");
    assert!(w.text().contains(SAVED_NOTE), "{}", w.text());
    assert!(row_of(&w, "build server").contains("Revoked"));
    w.check("api tokens, revoked");
    // At a phone's width the list's rows are cards: nothing scrolls sideways.
    b.emulate_width(PHONE as u32);
    w.goto("/tokens");
    w.expect_page("API Tokens");
    fits_phone(&w, "api tokens");
    w.logout();
    w.assert_accessible();
}
