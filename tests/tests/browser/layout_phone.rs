//! Every page at a phone's width: nothing scrolls sideways.

use i3lic_tests::{host_code, ACCOUNT};

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
