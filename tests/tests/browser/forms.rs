//! Refused forms keep what was typed, each error by its field; the switchover section of
//! New Activation File.

use i3lic_tests::webdriver::Browser;
use i3lic_tests::{host_code, ACCOUNT, SITE};
use serde_json::Value;

use crate::harness::*;

/// The switchover machine's fields are hidden while "at another time" is chosen (the
/// default) and shown for "now", without script; a form with both is refused naming the
/// conflict, a refusal keeps every value typed, and once corrected the file is generated.
#[test]
fn new_file_switchover_section_and_refused_form_keep_what_was_typed_in_the_browser() {
    let Some(w) = World::new(
        "new_file_switchover_section_and_refused_form_keep_what_was_typed_in_the_browser",
    ) else {
        return;
    };
    let b = &w.browser;
    w.login("cert@contoso.example");
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    w.choose_new_file("production");
    assert_eq!(b.property(&b.find("#switchover_later"), "checked"), true);
    assert!(!shown(b, "#switchover-fields"), "hidden while later");
    w.check("new activation file, switchover later");
    b.click_css("#switchover_now");
    assert!(shown(b, "#switchover-fields"), "shown for now");
    w.check("new activation file, switchover now");

    let (h1, h2) = (host_code("retained ic1"), host_code("retained ic2"));
    b.fill("#host_id", &h1);
    b.fill("#machine", "ic1");
    b.select("#system_type", "Standard");
    b.select("#mail_connector", "IMAP");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-SL03\"]");
    b.fill("#switchover_host_id", &h2);
    b.fill("#switchover_machine", "ic2");
    b.select("#switchover_part", "SW-001-4.0-SS03");
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "4");
    // Back to "later" with the switchover fields filled in: refused, naming the conflict.
    b.click_css("#switchover_later");
    assert!(!shown(b, "#switchover-fields"));
    b.click_button("Generate Activation File");
    let summary = b.wait_for("the error summary", |b| {
        b.all(".error-summary")
            .first()
            .and_then(|e| b.text_if_present(e))
    });
    assert!(
        summary.contains("You chose to provide switchover information at another time"),
        "{summary}"
    );
    w.check("new activation file, switchover both refused");
    let value = |css: &str| b.property(&b.find(css), "value");
    assert_eq!(value("#host_id"), h1.as_str());
    assert_eq!(value("#machine"), "ic1");
    assert_eq!(value("#system_type"), "Standard");
    assert_eq!(value("#mail_connector"), "IMAP");
    assert_eq!(value("#switchover_host_id"), h2.as_str());
    assert_eq!(value("#switchover_machine"), "ic2");
    assert_eq!(value("#switchover_part"), "SW-001-4.0-SS03");
    assert_eq!(value("[id=\"q-SW-001-4.0-AL02\"]"), "4");
    assert_eq!(
        b.property(
            &b.find("input[name=server_part][value=\"SW-001-4.0-SL03\"]"),
            "checked"
        ),
        true
    );

    // "Now", but more seats than the account has: the refusal is on the seat row.
    b.click_css("#switchover_now");
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "999");
    b.click_button("Generate Activation File");
    let summary = b.wait_for("the seats refusal", |b| {
        b.all(".error-summary")
            .first()
            .and_then(|e| b.text_if_present(e))
            .filter(|t| t.contains("not enough"))
    });
    assert!(summary.contains("SW-001-4.0-AL02"), "{summary}");
    assert_eq!(
        b.property(&b.find("[id=\"q-SW-001-4.0-AL02\"]"), "ariaInvalid"),
        "true"
    );
    assert_eq!(b.property(&b.find("#switchover_now"), "checked"), true);
    assert!(shown(b, "#switchover-fields"));
    assert_eq!(value("#switchover_machine"), "ic2");
    w.check("new activation file, seats refused");

    // Corrected: generated, a pair.
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "4");
    b.click_button("Generate Activation File");
    w.expect_page("Activation file generated");
    w.goto("/accounts");
    w.logout();
    w.assert_accessible();
}

/// A refused Activation File Request shows the form again with every value kept and each
/// error next to its field; deactivating a site with an active file asks first.
#[test]
fn refused_request_form_keeps_its_values_in_the_browser() {
    let Some(w) = World::new("refused_request_form_keeps_its_values_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    w.login("plain@contoso.example");
    w.goto("/requests/new");
    w.expect_page("Activation File Request");
    b.select("#r-type", "Activation File Request");
    b.select("#r-cat", "Activation File");
    b.select("#r-ft", "Upgrade");
    b.fill("#r-subject", "Move ic1 to new hardware");
    b.fill("#r-date", "01012020");
    b.fill("#r-contact", "Ann Smith");
    b.fill("#r-host", &mistyped(&host_code("ic1")));
    b.select("#r-deploy", "Lab");
    b.fill("#r-order", "PO-4711");
    b.click_button("Submit");
    // The refused form has the same title as the empty one: wait for its error summary, so
    // nothing below reads an element of the page being replaced.
    b.wait_for("the refused request form", |b| {
        (!b.all(".error-summary").is_empty()).then_some(())
    });
    w.expect_page("Activation File Request");
    let value = |css: &str| b.property(&b.find(css), "value");
    assert_eq!(value("#r-subject"), "Move ic1 to new hardware");
    assert_eq!(value("#r-contact"), "Ann Smith");
    assert_eq!(value("#r-order"), "PO-4711");
    assert_eq!(value("#r-deploy"), "Lab");
    assert_eq!(value("#r-date"), "2020-01-01");
    let t = w.text();
    assert!(t.contains("Date Needed: 2020-01-01 is in the past"), "{t}");
    assert!(t.contains("Primary Host Id:"), "{t}");
    assert_eq!(
        b.property(&b.find("#r-date"), "ariaInvalid"),
        "true",
        "the field is marked"
    );
    w.check("request refused (values kept)");
    w.logout();

    // A site with an active file: the confirmation says what follows.
    w.sb.issue_production(&host_code("ic1"), 0, "ic1.i3lic");
    w.login("staff@vendor.example");
    b.click_link(ACCOUNT);
    b.click_link("Install Sites");
    w.expect_page("Install Sites");
    b.click_button(&format!("Deactivate site {SITE}"));
    w.expect_page("Deactivate Install Site");
    assert!(w.text().contains("stay active"), "{}", w.text());
    w.check("deactivate site (confirmation)");
    b.click_button(&format!("Deactivate {SITE}"));
    w.expect_page("Install Sites");
    w.logout();
    w.assert_accessible();
}

/// Wait for the error summary of a refused form (its page has the title of the form it
/// replaces, so the title alone does not tell); its text.
#[track_caller]
fn refused(b: &Browser, what: &str) -> String {
    b.wait_for(what, |b| {
        b.all(".error-summary")
            .first()
            .and_then(|e| b.text_if_present(e))
    })
}

/// A refused Update Activation File keeps the new host ID, machine details and seats typed,
/// the error on the seat row; once corrected the file is updated with them.
#[test]
fn refused_update_form_keeps_what_was_typed_in_the_browser() {
    let Some(w) = World::new("refused_update_form_keeps_what_was_typed_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    let id =
        w.sb.issue_production(&host_code("update ic1"), 5, "ic1.i3lic");
    let moved = host_code("update ic1 moved");
    w.login("cert@contoso.example");
    w.goto(&format!("/files/{id}/update"));
    w.expect_page("Update Activation File");
    b.fill("#host_id", &moved);
    b.fill("#machine", "ic1-new");
    b.select("#system_type", "Standard");
    b.select("#mail_connector", "IMAP");
    let seats = "[id=\"u-SW-001-4.0-AL02\"]";
    b.fill(seats, "999");
    b.click_button("Update Activation File");
    let summary = refused(b, "the refused update");
    assert!(summary.contains("SW-001-4.0-AL02"), "{summary}");
    w.expect_page("Update Activation File");
    let value = |css: &str| b.property(&b.find(css), "value");
    assert_eq!(value("#host_id"), moved.as_str());
    assert_eq!(value("#machine"), "ic1-new");
    assert_eq!(value("#system_type"), "Standard");
    assert_eq!(value("#mail_connector"), "IMAP");
    assert_eq!(value(seats), "999");
    assert_eq!(b.property(&b.find(seats), "ariaInvalid"), "true");
    w.check("update activation file, refused");
    b.fill(seats, "3");
    b.click_button("Update Activation File");
    w.expect_page("Activation file updated");
    assert!(w.text().contains(&format!("replaces {id}")), "{}", w.text());
    let new_id = w.generated_id();
    b.click_link("Download");
    let v = w.licverify("ic1-v2.i3lic", &b.downloaded("ic1-new.i3lic"), &moved);
    assert_eq!(v["license"]["activation"]["file_id"], new_id.as_str());
    assert_eq!(assigned(&v, "I3_ACCESS_CLIENT"), 8);
    w.logout();
    w.assert_accessible();
}

/// A refused New Install Site (a site of that name exists) keeps the address typed, the
/// error by the Name; a refused new portal user (the passwords differ) keeps the e-mail
/// address, role, certification and accounts but never a password.
#[test]
fn refused_install_site_and_portal_user_forms_keep_what_was_typed_in_the_browser() {
    let Some(w) =
        World::new("refused_install_site_and_portal_user_forms_keep_what_was_typed_in_the_browser")
    else {
        return;
    };
    let b = &w.browser;
    w.login("staff@vendor.example");
    b.click_link(ACCOUNT);
    b.click_link("Install Sites");
    w.expect_page("Install Sites");
    let address = [
        ("#s-a1", "1 Harbour Road"),
        ("#s-city", "Haifa"),
        ("#s-country", "Israel"),
        ("#s-postal", "3100001"),
    ];
    b.fill("#s-name", SITE);
    for (css, v) in address {
        b.fill(css, v);
    }
    b.click_button("Save");
    let summary = refused(b, "the refused site");
    assert!(summary.contains("Name"), "{summary}");
    w.expect_page("Install Sites");
    let value = |css: &str| b.property(&b.find(css), "value");
    assert_eq!(value("#s-name"), SITE);
    for (css, v) in address {
        assert_eq!(value(css), v, "{css}");
    }
    assert_eq!(b.property(&b.find("#s-name"), "ariaInvalid"), "true");
    w.check("install sites, refused");
    b.fill("#s-name", "Harbour Office");
    b.click_button("Save");
    b.wait_for("the new site listed", |b| {
        (b.all(".error-summary").is_empty() && b.page_text().contains("Harbour Office"))
            .then_some(())
    });
    w.check("install sites, added");

    w.goto("/users");
    w.expect_page("Portal Users");
    b.fill("#u-email", "new@contoso.example");
    b.select("#u-role", "partner");
    b.click_css("#u-certified");
    b.select("#u-account", ACCOUNT);
    b.fill("#u-password", "a long enough password");
    b.fill("#u-password2", "another long password");
    b.click_button("Add user");
    let summary = refused(b, "the refused user");
    assert!(summary.contains("The two passwords differ"), "{summary}");
    w.expect_page("Portal Users");
    assert_eq!(value("#u-email"), "new@contoso.example");
    assert_eq!(value("#u-role"), "partner");
    assert_eq!(b.property(&b.find("#u-certified"), "checked"), true);
    let chosen = b.script(
        "return [...arguments[0].selectedOptions].map(o => o.value);",
        vec![Browser::arg(&b.find("#u-account"))],
    );
    assert_eq!(chosen, Value::from(vec![ACCOUNT]));
    assert_eq!(value("#u-password"), "", "a password is never sent back");
    assert_eq!(value("#u-password2"), "");
    w.check("portal users, add refused");
    w.logout();
    w.assert_accessible();
}

/// Whether the current page runs scripts: the HTML parser reads what is inside `noscript`
/// as markup only when they are off (the portal's Content-Security-Policy would block a
/// test script, so running one would prove nothing).
fn scripting(b: &Browser) -> bool {
    let markup = b.script(
        "const f = document.createRange() \
           .createContextualFragment('<noscript><p></p></noscript>'); \
         return f.firstChild.firstChild.nodeType === Node.ELEMENT_NODE;",
        vec![],
    );
    markup != Value::Bool(true)
}

/// With scripts off in the browser the switchover section still works: hidden for "at
/// another time", shown for "now", and the pair is generated.
#[test]
fn new_file_switchover_section_works_without_script_in_the_browser() {
    let Some(w) = World::new("new_file_switchover_section_works_without_script_in_the_browser")
    else {
        return;
    };
    let b = &w.browser;
    w.login("cert@contoso.example");
    assert!(scripting(b), "scripts run until turned off");
    b.scripts_off(true);
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    assert!(!scripting(b), "the page runs no script");
    w.choose_new_file("production");
    assert!(!shown(b, "#switchover-fields"), "hidden while later");
    b.click_css("#switchover_now");
    assert!(shown(b, "#switchover-fields"), "shown for now");
    let check = |page: &str| {
        // axe-core runs on the page as it is; the page itself stays without its scripts.
        b.scripts_off(false);
        w.check(page);
        b.scripts_off(true);
    };
    check("new activation file, no script, switchover now");
    let (h1, h2) = (host_code("no script ic1"), host_code("no script ic2"));
    b.fill("#host_id", &h1);
    b.fill("#machine", "ns1");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-SL03\"]");
    b.fill("#switchover_host_id", &h2);
    b.fill("#switchover_machine", "ns2");
    b.select("#switchover_part", "SW-001-4.0-SS03");
    b.click_button("Generate Activation File");
    w.expect_page("Activation file generated");
    check("activation file generated, no script");
    b.click_link("Download");
    let v = w.licverify("ns1.i3lic", &b.downloaded("ns1.i3lic"), &h2);
    assert_eq!(v["license"]["role"], "switchover", "{v}");
    w.goto("/accounts");
    w.logout();
    w.assert_accessible();
}
