//! The portal in a real browser: headless Chromium, driven over WebDriver by `chromedriver`,
//! clicks through the pages and forms of the real `portal` binary serving a ledger set up
//! with the `issuer` and `portal` commands; downloaded files are checked with `licverify`.
//! Every page visited is checked with axe-core: no violation of impact "serious" or
//! "critical".
//!
//! Needs Chromium, ChromeDriver and axe-core (`bash scripts/browser-tools.sh` installs them);
//! without them each test says so on the terminal and passes, unless
//! `I3LIC_BROWSER_TESTS=required` (as .ci/run sets), where it fails.

use std::cell::RefCell;

use i3lic_tests::webdriver::{Browser, Tools};
use i3lic_tests::{host_code, PortalServer, Sandbox, ACCOUNT, PORTAL_PASSWORD, SITE};
use serde_json::Value;

/// A second install site of the account, for the summary's filter.
const LAB: &str = "Carmel Lab";

/// A sandbox with the example keys, the account with two sites and its orders, the portal's
/// users, the portal serving it, and a browser.
struct World {
    sb: Sandbox,
    portal: PortalServer,
    browser: Browser,
    axe: String,
    /// Accessibility problems found so far, by page.
    problems: RefCell<Vec<String>>,
    /// Pages checked.
    checked: RefCell<Vec<String>>,
}

impl World {
    fn new(test: &str) -> Option<World> {
        let tools = Tools::for_test(test)?;
        let axe = std::fs::read_to_string(&tools.axe).expect("read axe-core");
        let sb = Sandbox::new();
        sb.demo_keys();
        sb.account_with_orders(&[
            ("SW-001-4.0-SL03", "2"),
            ("SW-001-4.0-SS03", "1"),
            ("SW-001-4.0-AL02", "50"),
            ("SW-001-4.0-AL06", "20"),
        ]);
        sb.ok(
            "issuer",
            ["site", "add", "--account", ACCOUNT, "--name", LAB],
        );
        sb.portal_user("staff@vendor.example", "staff", &[], false);
        sb.portal_user("cert@contoso.example", "customer", &[ACCOUNT], true);
        sb.portal_user("plain@contoso.example", "customer", &[ACCOUNT], false);
        sb.portal_user("pat@partner.example", "partner", &[ACCOUNT], true);
        let portal = sb.serve_portal();
        let browser = Browser::start(&tools);
        Some(World {
            sb,
            portal,
            browser,
            axe,
            problems: RefCell::default(),
            checked: RefCell::default(),
        })
    }

    fn goto(&self, path: &str) {
        self.browser.goto(&self.portal.url(path));
    }

    /// The path of the current page (no query).
    fn path(&self) -> String {
        let u = self.browser.url();
        let rest = u.strip_prefix(&self.portal.base).unwrap_or(&u).to_string();
        rest.split('?').next().unwrap_or("").to_string()
    }

    /// Wait until the current page's title starts with `title` (the portal's titles are
    /// "<h1> · i3lic portal").
    #[track_caller]
    fn expect_page(&self, title: &str) {
        self.browser.wait_for(&format!("the page {title:?}"), |b| {
            b.title()
                .strip_suffix(" · i3lic portal")
                .is_some_and(|t| t == title || t.starts_with(&format!("{title} · ")))
                .then_some(())
        });
    }

    /// Run axe-core on the current page and keep what it finds under `page`.
    fn check(&self, page: &str) {
        let found = self.browser.accessibility_problems(&self.axe);
        self.checked.borrow_mut().push(page.to_string());
        for p in found {
            self.problems
                .borrow_mut()
                .push(format!("{page} ({}): {p}", self.path()));
        }
    }

    /// Log in through the form, as `email`, landing on the accounts page.
    fn login(&self, email: &str) {
        self.goto("/login");
        self.expect_page("Log in");
        self.browser.fill("#email", email);
        self.browser.fill("#password", PORTAL_PASSWORD);
        self.browser.click_button("Log in");
        // A user with one account lands on it; the tests start from the list.
        self.browser.wait_for("the page after logging in", |b| {
            (!b.title().starts_with("Log in")).then_some(())
        });
        self.goto("/accounts");
        self.expect_page("Accounts");
    }

    fn logout(&self) {
        self.browser.click_button("Log out");
        self.expect_page("Log in");
    }

    fn text(&self) -> String {
        self.browser.page_text()
    }

    /// Every page checked was free of serious and critical accessibility problems.
    fn assert_accessible(&self) {
        let p = self.problems.borrow();
        assert!(
            p.is_empty(),
            "axe-core found {} serious or critical problem(s) on the pages {:?}:\n{}",
            p.len(),
            self.checked.borrow(),
            p.join("\n")
        );
    }

    /// `licverify FILE --trust demo.pub --host-id CODE --product CIC --version 4.0 --json` of
    /// bytes saved in the sandbox as `name`.
    fn licverify(&self, name: &str, bytes: &[u8], host: &str) -> Value {
        std::fs::write(self.sb.file(name), bytes).expect("save the download");
        let r = self.sb.ok(
            "licverify",
            [
                name,
                "--trust",
                "demo.pub",
                "--host-id",
                host,
                "--product",
                "CIC",
                "--version",
                "4.0",
                "--json",
            ],
        );
        let v = r.json();
        assert_eq!(v["valid"], true, "{v}");
        v
    }

    /// The file id in the `code` of the page's success message.
    fn generated_id(&self) -> String {
        let e = self.browser.find("p.ok code");
        self.browser.text(&e)
    }
}

/// How many of a license a verified file assigns (`licverify --json`).
fn assigned(v: &Value, license: &str) -> u64 {
    v["license"]["activation"]["licenses"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["name"] == license))
        .and_then(|x| x["assigned"].as_u64())
        .unwrap_or_else(|| panic!("no {license} in {v}"))
}

/// A host-ID code with one character changed, which its check digits catch.
fn mistyped(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let i = c.iter().position(|ch| ch.is_ascii_alphanumeric()).unwrap() + 2;
    c[i] = if c[i] == 'Q' { 'R' } else { 'Q' };
    c.into_iter().collect()
}

/// Type a code into a host-ID field and wait for the live check's message (filled by
/// static/portal.js) to say `valid` or not; the message.
#[track_caller]
fn live_check(w: &World, input: &str, out: &str, code: &str, valid: bool) -> String {
    w.browser.fill(input, code);
    let want = if valid {
        "check valid"
    } else {
        "check invalid"
    };
    let e = w.browser.find(out);
    w.browser
        .wait_for(&format!("the host-ID check of {input} to be {want}"), |b| {
            (b.property(&e, "className") == want).then(|| b.text(&e))
        })
}

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
    b.select("#n-site", SITE);
    b.select("#n-product", "CIC 4.0");
    b.select("#n-type", "production");
    b.click_button("Go");
    b.find("#host_id");
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
    b.select("#n-site", SITE);
    b.select("#n-product", "CIC 4.0");
    b.select("#n-type", "development-small");
    b.click_button("Go");
    b.find("#host_id");
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

// ---------------------------------------------------------------------------------------------
// New Activation File: the switchover section and a refused form.

/// Whether the element is shown (takes up space on the page).
fn shown(b: &Browser, css: &str) -> bool {
    let e = b.find(css);
    b.script(
        "return arguments[0].getClientRects().length > 0;",
        vec![Browser::arg(&e)],
    ) == Value::Bool(true)
}

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
    b.select("#n-site", SITE);
    b.select("#n-product", "CIC 4.0");
    b.select("#n-type", "production");
    b.click_button("Go");
    b.find("#host_id");
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
    b.select("#n-site", SITE);
    b.select("#n-product", "CIC 4.0");
    b.select("#n-type", "development-small");
    b.click_button("Go");
    b.find("#host_id");
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

// Phone widths and the accounts list (issue 24, fixes 9 and 13).

/// The width of a phone's screen, in CSS pixels.
const PHONE: u64 = 375;

/// The current page is no wider than a phone's screen (no sideways scrolling); checked with
/// axe-core too, as `page`.
#[track_caller]
fn fits_phone(w: &World, page: &str) {
    let wide = w
        .browser
        .script("return document.documentElement.scrollWidth", vec![])
        .as_u64()
        .unwrap_or(u64::MAX);
    if wide > PHONE {
        let beyond = w.browser.script(
            "return [...document.querySelectorAll('body *')] \
             .filter(e => e.getBoundingClientRect().right > arguments[0]) \
             .map(e => e.tagName + '.' + e.className + '#' + e.id).slice(-8);",
            vec![PHONE.into()],
        );
        panic!(
            "{page} ({}) is {wide} px wide on a {PHONE} px screen; beyond it: {beyond}",
            w.path()
        );
    }
    w.check(&format!("{page}, phone"));
}

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

/// The id in the `href` of the link in the row of `row_text` whose `href` ends with `end`.
fn row_link(w: &World, row_text: &str, end: &str) -> String {
    let v = w.browser.script(
        "const r = [...document.querySelectorAll('tbody tr')] \
           .find(r => r.textContent.includes(arguments[0])); \
         const a = r && r.querySelector('a[href$=\"' + arguments[1] + '\"]'); \
         return a ? a.getAttribute('href') : null;",
        vec![row_text.into(), end.into()],
    );
    v.as_str()
        .unwrap_or_else(|| panic!("no {end} link in the row of {row_text}"))
        .to_string()
}

/// The text of the table row holding `row_text`.
fn row_of(w: &World, row_text: &str) -> String {
    let v = w.browser.script(
        "const r = [...document.querySelectorAll('tbody tr')] \
           .find(r => r.textContent.includes(arguments[0])); \
         return r ? r.innerText : '';",
        vec![row_text.into()],
    );
    v.as_str().unwrap_or_default().to_string()
}

const SAVED_NOTE: &str = "Your changes were saved.";

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
