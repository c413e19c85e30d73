//! Every page at a phone's width: nothing scrolls sideways.

use i3lic_tests::{host_code, ACCOUNT, SITE};

use crate::harness::*;

/// At 375 px every main page fits the screen; the activity list's rows become cards with
/// their actions on screen, and Update is reached from there.
#[test]
fn every_main_page_fits_a_phone_screen() {
    let Some(w) = World::new("every_main_page_fits_a_phone_screen") else {
        return;
    };
    let b = &w.browser;
    let id =
        w.sb.issue_production(&host_code("lab server"), 5, "lab.i3lic");
    b.emulate_width(PHONE as u32);
    w.goto("/login");
    w.expect_page("Log in");
    fits_phone(&w, "login");
    w.login("staff@vendor.example");
    fits_phone(&w, "accounts");
    b.click_link(ACCOUNT);
    w.expect_page("Account Summary");
    fits_phone(&w, "account summary");
    for tab in [
        "Software Details",
        "Upgrade Software",
        "New Activation File",
        "Install Sites",
        "Activation File Activity",
    ] {
        b.click_link(tab);
        w.expect_page(tab);
        fits_phone(&w, tab);
    }
    let (shot, _) = b.screenshot_size();
    assert_eq!(
        u64::from(shot),
        PHONE,
        "the activity page's screenshot width"
    );
    // The row's actions are inside the screen, and work.
    let update = b.find(&format!("a[href=\"/files/{id}/update\"]"));
    let inside = b.script(
        "const r = arguments[0].getBoundingClientRect(); \
         return r.width > 0 && r.left >= 0 && r.right <= arguments[1];",
        vec![i3lic_tests::webdriver::Browser::arg(&update), PHONE.into()],
    );
    assert_eq!(inside, true, "the Update action is on screen");
    b.click(&update);
    w.expect_page("Update Activation File");
    fits_phone(&w, "update");
    for (path, title) in [
        (format!("/files/{id}"), "View License"),
        (
            format!("/files/{id}/deactivate"),
            "Deactivate Activation File",
        ),
        ("/requests".to_string(), "Activation File Requests"),
        ("/users".to_string(), "Portal Users"),
        ("/deactivations".to_string(), "Pending Deactivations"),
        ("/tokens".to_string(), "API Tokens"),
    ] {
        w.goto(&path);
        b.wait_for(&format!("the page {title:?}"), |b| {
            b.title().starts_with(title).then_some(())
        });
        fits_phone(&w, title);
    }
    w.assert_accessible();
}

/// At 375 px the forms, their refusals and what follows them fit the screen too: a refused
/// login, both steps of New Activation File (switchover shown) and its refusal, the file
/// generated, a request (refused, then sent), the error and logout pages, a refused Install
/// Sites form and its deactivation question, a user's disable question and a new API token.
#[test]
fn forms_refusals_and_results_fit_a_phone_screen() {
    let Some(w) = World::new("forms_refusals_and_results_fit_a_phone_screen") else {
        return;
    };
    let b = &w.browser;
    b.emulate_width(PHONE as u32);
    w.goto("/login");
    w.expect_page("Log in");
    b.fill("#email", "cert@contoso.example");
    b.fill("#password", "not the password");
    b.click_button("Log in");
    b.wait_for("the refusal", |b| {
        b.all("p.error").first().map(|e| b.text(e))
    });
    fits_phone(&w, "login, refused");
    w.login("cert@contoso.example");
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    fits_phone(&w, "new activation file, step 1");
    w.choose_new_file("production");
    b.click_css("#switchover_now");
    fits_phone(&w, "new activation file, step 2");
    b.fill("#host_id", &host_code("phone ic1"));
    b.fill("#machine", "phone1");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-SL03\"]");
    b.fill("#switchover_host_id", &host_code("phone ic2"));
    b.fill("#switchover_machine", "phone2");
    b.select("#switchover_part", "SW-001-4.0-SS03");
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "999");
    b.click_button("Generate Activation File");
    b.wait_for("the refused file", |b| {
        (!b.all(".error-summary").is_empty()).then_some(())
    });
    fits_phone(&w, "new activation file, refused");
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "2");
    b.click_button("Generate Activation File");
    w.expect_page("Activation file generated");
    fits_phone(&w, "activation file generated");

    w.goto("/requests/new");
    w.expect_page("Activation File Request");
    fits_phone(&w, "new request");
    b.select("#r-type", "Activation File Request");
    b.select("#r-cat", "Activation File");
    b.select("#r-ft", "Upgrade");
    b.fill("#r-subject", "Move phone1 to new hardware");
    b.fill("#r-desc", "The old server died.");
    b.fill("#r-reason", "cut-over weekend");
    b.fill("#r-date", "01012020");
    b.click_button("Submit");
    b.wait_for("the refused request", |b| {
        (!b.all(".error-summary").is_empty()).then_some(())
    });
    fits_phone(&w, "request, refused");
    b.fill("#r-date", "12242099");
    b.click_button("Submit");
    w.expect_page("Request AFR-0000001");
    fits_phone(&w, "request detail");
    w.goto("/files/00000000000000000000000000000000");
    w.expect_page("Not found");
    fits_phone(&w, "error page");
    w.goto("/logout");
    w.expect_page("Log out");
    fits_phone(&w, "log out");
    b.click_button("Log out now");
    w.expect_page("Log in");

    w.login("staff@vendor.example");
    b.click_link(ACCOUNT);
    b.click_link("Install Sites");
    w.expect_page("Install Sites");
    b.fill("#s-name", SITE);
    b.click_button("Save");
    b.wait_for("the refused site", |b| {
        (!b.all(".error-summary").is_empty()).then_some(())
    });
    fits_phone(&w, "install sites, refused");
    b.click_button(&format!("Deactivate site {SITE}"));
    w.expect_page("Deactivate Install Site");
    fits_phone(&w, "deactivate site");
    w.goto("/users");
    w.expect_page("Portal Users");
    b.click_link("Disable plain@contoso.example");
    w.expect_page("Disable portal user plain@contoso.example");
    fits_phone(&w, "disable portal user");
    w.goto("/tokens");
    w.expect_page("API Tokens");
    b.fill("#t-label", "phone");
    b.click_button("Create token");
    w.expect_page("API token created");
    fits_phone(&w, "api token created");
    w.logout();
    w.assert_accessible();
}
