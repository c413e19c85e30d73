//! Whole journeys through the portal: generating, downloading, updating and deactivating
//! files, a partner's development file, a request answered, the double click on Generate,
//! and Upgrade Software.

use i3lic_tests::{host_code, ACCOUNT};
use serde_json::Value;

use crate::harness::*;

/// A certified customer reads the Account Summary (a filter, then Clear Filters) and every
/// tab, generates a production file for a switchover pair through New Activation File (the
/// live host-ID check explains a typo, then accepts the code), downloads it — both servers
/// of the pair verify it with `licverify` — updates it to add seats, deactivates another
/// file, and meets the error page.
#[test]
fn certified_customer_generates_updates_and_deactivates_in_the_browser() {
    let Some(w) = World::new("certified_customer_generates_updates_and_deactivates_in_the_browser")
    else {
        return;
    };
    let b = &w.browser;
    // Another production file of the account, issued by the licensing team with the CLI.
    let lab = host_code("lab server");
    let mut args = w.sb.production_args(&lab, 0, "lab.i3lic");
    let m = args.iter().position(|a| a == "ic1").unwrap();
    args[m] = "lab".into();
    let other = w.sb.ok("issuer", &args).stdout.trim().to_string();

    // A wrong password first: the login page says so.
    w.goto("/login");
    w.check("login");
    b.fill("#email", "cert@contoso.example");
    b.fill("#password", "not the password");
    b.click_button("Log in");
    b.wait_for("the refusal", |b| {
        b.all("p.error").first().map(|e| b.text(e))
    });
    assert!(w.text().contains("Wrong e-mail address or password."));
    w.check("login, wrong password");
    w.login("cert@contoso.example");
    w.check("accounts");
    assert!(w.text().contains("Number of Total Results # 1"));

    // Account Summary: a filter, then Clear Filters.
    b.click_link(ACCOUNT);
    w.expect_page("Account Summary");
    w.check("account summary");
    let all = b.text(&b.find("table caption"));
    assert_eq!(all, "Ordered items");
    let rows = b.all("table tbody tr").len();
    assert!(
        w.text().contains("SW-001-4.0-AL02"),
        "the orders are listed"
    );
    b.select("#f-site", LAB);
    b.click_button("Apply Filters");
    b.wait_for("the filtered summary", |b| {
        b.url().contains("site=Carmel").then_some(())
    });
    assert_eq!(
        b.text(&b.find("table caption")),
        format!("Ordered items used at {LAB}")
    );
    w.check("account summary, filtered");
    b.click_link("Clear Filters");
    b.wait_for("the summary without filters", |b| {
        (!b.url().contains('?')).then_some(())
    });
    assert_eq!(b.text(&b.find("table caption")), "Ordered items");
    assert_eq!(b.all("table tbody tr").len(), rows);
    assert_eq!(b.property(&b.find("#f-site"), "value"), "");

    // The other tabs.
    for (tab, title) in [
        ("Software Details", "Software Details"),
        ("Activation File Activity", "Activation File Activity"),
        ("Upgrade Software", "Upgrade Software"),
        ("Install Sites", "Install Sites"),
    ] {
        b.click_link(tab);
        w.expect_page(title);
        w.check(&format!("tab {tab}"));
    }
    assert!(w.text().contains(LAB));

    // New Activation File, step 1: site, product, type.
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    w.check("new activation file, step 1");
    w.choose_new_file("production");
    w.check("new activation file, step 2");

    // Step 2: machine details. The live check explains a typo, then accepts the code.
    let (h1, h2) = (host_code("ic1 of the pair"), host_code("ic2 of the pair"));
    let why = live_check(&w, "#host_id", "#host_id-check", &mistyped(&h1), false);
    assert!(why.contains("check"), "the check says why: {why}");
    let ok = live_check(&w, "#host_id", "#host_id-check", &h1, true);
    assert!(ok.starts_with("Valid ") && ok.ends_with(&h1), "{ok}");
    w.check("new activation file, host ID checked");
    b.fill("#machine", "ic1");
    b.select("#system_type", "Media Server Based (4.0+ only)");
    b.select("#mail_connector", "Microsoft Exchange Server");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-SL03\"]");
    b.click_css("#switchover_now");
    assert_eq!(b.property(&b.find("#switchover_later"), "checked"), false);
    live_check(&w, "#switchover_host_id", "#switchover-check", &h2, true);
    b.fill("#switchover_machine", "ic2");
    b.select("#switchover_part", "SW-001-4.0-SS03");
    b.fill("[id=\"q-SW-001-4.0-AL02\"]", "12");
    b.click_button("Generate Activation File");
    w.expect_page("Activation file generated");
    w.check("activation file generated");
    let id = w.generated_id();

    // Download it, as the browser saves it; both servers of the pair accept it.
    b.click_link("Download");
    let bytes = b.downloaded("ic1.i3lic");
    let v = w.licverify("ic1.i3lic", &bytes, &h1);
    assert_eq!(v["license"]["role"], "primary", "{v}");
    assert_eq!(v["license"]["activation"]["file_id"], id.as_str());
    assert_eq!(v["license"]["activation"]["license_type"], "production");
    assert_eq!(assigned(&v, "I3_ACCESS_CLIENT"), 12);
    let v = w.licverify("ic1.i3lic", &bytes, &h2);
    assert_eq!(v["license"]["role"], "switchover", "{v}");

    // View License, then Update from the activity list: add 3 seats.
    b.click_link("View License");
    w.expect_page("View License");
    w.check("view license");
    assert!(w
        .text()
        .contains("I3_ACCESS_CLIENT (12 assigned, 0 pooled)"));
    b.click_link(ACCOUNT);
    w.expect_page("Activation File Activity");
    let activity = w.path();
    assert!(
        w.text().contains("Multiple Servers: ic2"),
        "the pair marker"
    );
    b.click_css(&format!("a[href=\"/files/{id}/update\"]"));
    w.expect_page("Update Activation File");
    w.check("update activation file");
    b.fill("[id=\"u-SW-001-4.0-AL02\"]", "3");
    b.click_button("Update Activation File");
    w.expect_page("Activation file updated");
    w.check("activation file updated");
    assert!(w.text().contains(&format!("replaces {id}")), "{}", w.text());
    let new_id = w.generated_id();
    b.click_link("Download");
    let bytes = b.downloaded("ic1.i3lic");
    let v = w.licverify("ic1-v2.i3lic", &bytes, &h1);
    assert_eq!(v["license"]["activation"]["file_id"], new_id.as_str());
    assert_eq!(assigned(&v, "I3_ACCESS_CLIENT"), 15);

    // Deactivate the other file from the activity list, through its confirmation page: without
    // a release receipt its units stay pending until staff approve.
    w.goto(&activity);
    b.click_css(&format!("a[href=\"/files/{other}/deactivate\"]"));
    w.expect_page("Deactivate Activation File");
    w.check("deactivate confirm");
    b.click_css("form.card button[type=submit]");
    w.expect_page("Activation file deactivated");
    w.check("activation file deactivated");
    let t = w.text();
    assert!(
        t.contains(&format!("Deactivated {other}."))
            && t.contains("SW-001-4.0-SL03 pending approval")
            && t.contains("licadmin release"),
        "{t}"
    );
    b.click_link("Back to Activation File Activity");
    w.expect_page("Activation File Activity");
    b.select("#a-active", "no");
    b.click_button("Apply Filters");
    b.wait_for("the inactive files", |b| {
        b.url().contains("active=no").then_some(())
    });
    assert!(
        w.text().contains("lab"),
        "the deactivated file is listed as inactive"
    );

    // The error page: a file that does not exist.
    w.goto("/files/00000000000000000000000000000000");
    w.expect_page("Not found");
    w.check("error page");

    w.goto("/accounts");
    w.logout();
    w.assert_accessible();
}

/// A partner generates a development file (no ordered item needed) and it verifies.
#[test]
fn partner_generates_a_development_file_in_the_browser() {
    let Some(w) = World::new("partner_generates_a_development_file_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    w.login("pat@partner.example");
    w.check("accounts (partner)");
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    w.choose_new_file("development-small");
    w.check("new development file (partner)");
    assert!(w.text().contains("Unlimited for partners (30 days)"));
    let dev = host_code("partner dev box");
    live_check(&w, "#host_id", "#host_id-check", &dev, true);
    b.fill("#machine", "dev1");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-IDS1\"]");
    b.click_button("Generate Activation File");
    w.expect_page("Activation file generated");
    let id = w.generated_id();
    b.click_link("Download");
    let v = w.licverify("dev1.i3lic", &b.downloaded("dev1.i3lic"), &dev);
    assert_eq!(v["license"]["activation"]["file_id"], id.as_str());
    assert_eq!(
        v["license"]["activation"]["license_type"],
        "development-small"
    );
    b.click_link("Activation File Activity");
    w.expect_page("Activation File Activity");
    assert!(w.text().contains("dev1"));
    w.check("activity (partner)");
    w.logout();
    w.assert_accessible();
}

/// A customer sends an Activation File Request with an attachment; staff open it, fetch
/// the attachment and close it with an answer; the customer reads the answer.
#[test]
fn activation_file_request_is_sent_answered_and_read_in_the_browser() {
    let Some(w) = World::new("activation_file_request_is_sent_answered_and_read_in_the_browser")
    else {
        return;
    };
    let b = &w.browser;
    let notes = w.sb.file("notes.txt");
    std::fs::write(&notes, "ic1 died; old file attached\n").unwrap();

    // Not certified: New Activation File points to a request instead.
    w.login("plain@contoso.example");
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    assert!(w
        .text()
        .contains("Only certified users generate activation files."));
    w.check("new activation file (not certified)");
    b.click_link("Send an activation file request");
    w.expect_page("Activation File Request");
    w.check("new request");
    b.select("#r-type", "Activation File Request");
    b.select("#r-cat", "Activation File");
    b.select("#r-ft", "Upgrade");
    b.fill("#r-subject", "Move ic1 to new hardware");
    b.fill("#r-desc", "The old server died.\nPlease move the file.");
    b.fill("#r-date", "12242099");
    assert_eq!(b.property(&b.find("#r-date"), "value"), "2099-12-24");
    b.fill("#r-reason", "cut-over weekend");
    let files = b.find("#r-files");
    b.type_into(&files, &notes.display().to_string());
    b.click_button("Submit");
    w.expect_page("Request AFR-0000001");
    w.check("request detail (customer)");
    let t = w.text();
    assert!(
        t.contains("Move ic1 to new hardware") && t.contains("notes.txt"),
        "{t}"
    );
    b.click_link("All requests");
    w.expect_page("Activation File Requests");
    assert!(w.text().contains("AFR-0000001"));
    w.check("requests list (customer)");
    w.logout();

    w.login("staff@vendor.example");
    b.click_link("Portal Users");
    w.expect_page("Portal Users");
    assert!(w.text().contains("plain@contoso.example"));
    w.check("portal users (staff)");
    b.click_link("Activation File Requests");
    w.expect_page("Activation File Requests");
    w.check("requests list (staff)");
    b.click_link("AFR-0000001");
    w.expect_page("Request AFR-0000001");
    w.check("request detail (staff)");
    b.click_link("notes.txt");
    assert_eq!(
        b.downloaded("notes.txt"),
        std::fs::read(&notes).unwrap(),
        "the attachment as sent"
    );
    b.fill("#answer", "New file sent: see Activation File Activity.");
    b.click_button("Close request");
    w.expect_page("Request AFR-0000001");
    assert!(w.text().contains("staff@vendor.example"), "{}", w.text());
    w.check("request closed (staff)");
    w.logout();

    w.login("plain@contoso.example");
    b.click_link("Activation File Requests");
    b.click_link("AFR-0000001");
    w.expect_page("Request AFR-0000001");
    let t = w.text();
    assert!(
        t.contains("New file sent: see Activation File Activity.") && t.contains("closed"),
        "{t}"
    );
    w.check("request answered (customer)");
    w.logout();
    w.assert_accessible();
}

/// The Generate button clicked twice (and the same form sent once more beside it, as a
/// refresh would): the portal generates one file, and the page shows that file.
#[test]
fn a_double_click_on_generate_makes_one_file_in_the_browser() {
    let Some(w) = World::new("a_double_click_on_generate_makes_one_file_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    w.login("pat@partner.example");
    b.click_link(ACCOUNT);
    b.click_link("New Activation File");
    w.expect_page("New Activation File");
    w.choose_new_file("development-small");
    b.fill("#host_id", &host_code("double click box"));
    b.fill("#machine", "twice1");
    b.click_css("input[name=server_part][value=\"SW-001-4.0-IDS1\"]");
    let button = b.find_text("button", "Generate Activation File");
    // The form as the browser would send it, sent first (its answer kept), then the button
    // clicked twice in a row.
    let first = b.script_async(
        "const done = arguments[arguments.length - 1];
         const form = arguments[0].form;
         fetch(form.action, { method: 'POST', credentials: 'same-origin',
                              body: new URLSearchParams(new FormData(form)) })
           .then(r => r.text()).then(done, e => done('failed: ' + e));",
        vec![i3lic_tests::webdriver::Browser::arg(&button)],
    );
    b.script(
        "arguments[0].click(); arguments[0].click();",
        vec![i3lic_tests::webdriver::Browser::arg(&button)],
    );
    w.expect_page("Activation file generated");
    w.check("generated after a double click");
    let id = w.generated_id();
    let first = first.as_str().unwrap_or_default();
    assert!(first.contains(&id), "the first answer names {id}: {first}");
    b.click_link("Activation File Activity");
    w.expect_page("Activation File Activity");
    let rows: Vec<String> = b
        .all("table tbody tr")
        .iter()
        .map(|r| b.text(r))
        .filter(|t| t.contains("twice1"))
        .collect();
    assert_eq!(rows.len(), 1, "one file for the machine: {rows:?}");
    w.logout();
    w.assert_accessible();
}

/// Upgrade Software with one part unchecked: the confirmation lists only the checked part,
/// and after confirming the unchecked part is still offered and still ordered.
#[test]
fn upgrade_software_moves_only_the_checked_parts_in_the_browser() {
    let Some(w) = World::new("upgrade_software_moves_only_the_checked_parts_in_the_browser") else {
        return;
    };
    let b = &w.browser;
    for (part, q) in [("SW-001-3.0-AL01", "30"), ("SW-001-3.0-AL02", "35")] {
        w.sb.ok(
            "issuer",
            [
                "order",
                "add",
                "--account",
                ACCOUNT,
                "--part",
                part,
                "--quantity",
                q,
            ],
        );
    }
    w.login("staff@vendor.example");
    b.click_link(ACCOUNT);
    b.click_link("Upgrade Software");
    w.expect_page("Upgrade Software");
    assert_eq!(b.all("input[name=part]").len(), 2);
    w.check("upgrade software");
    b.click_css("input[name=part][value=\"SW-001-3.0-AL01\"]");
    b.click_button("Upgrade Selected");
    w.expect_page("Confirm the upgrade");
    let table = b.text(&b.find("table"));
    assert!(
        table.contains("SW-001-3.0-AL02") && !table.contains("SW-001-3.0-AL01"),
        "{table}"
    );
    w.check("confirm the upgrade");
    b.click_button("Upgrade this part");
    w.expect_page("Software upgraded");
    assert!(w.text().contains("1 ordered items moved"), "{}", w.text());
    w.check("software upgraded");
    b.click_link("Account Summary");
    w.expect_page("Account Summary");
    let summary = w.text();
    assert!(summary.contains("SW-001-3.0-AL01"), "{summary}");
    assert!(!summary.contains("SW-001-3.0-AL02"), "{summary}");
    b.click_link("Upgrade Software");
    w.expect_page("Upgrade Software");
    let left: Vec<Value> = b
        .all("input[name=part]")
        .iter()
        .map(|e| b.property(e, "value"))
        .collect();
    assert_eq!(left, vec![Value::from("SW-001-3.0-AL01")]);
    w.logout();
    w.assert_accessible();
}
