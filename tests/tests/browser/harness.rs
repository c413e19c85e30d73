//! What every browser test uses: the world (a sandbox with its ledger and users, the portal
//! serving it, a headless Chromium), its waits, the axe-core check, and the helpers reading
//! pages and files.

use std::cell::RefCell;

use i3lic_tests::webdriver::{Browser, Tools};
use i3lic_tests::{PortalServer, Sandbox, ACCOUNT, PORTAL_PASSWORD, SITE};
use serde_json::Value;

/// A second install site of the account, for the summary's filter.
pub(crate) const LAB: &str = "Carmel Lab";

/// A sandbox with the example keys, the account with two sites and its orders, the portal's
/// users, the portal serving it, and a browser.
pub(crate) struct World {
    pub(crate) sb: Sandbox,
    pub(crate) portal: PortalServer,
    pub(crate) browser: Browser,
    axe: String,
    /// Accessibility problems found so far, by page.
    problems: RefCell<Vec<String>>,
    /// Pages checked.
    checked: RefCell<Vec<String>>,
}

impl World {
    pub(crate) fn new(test: &str) -> Option<World> {
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

    pub(crate) fn goto(&self, path: &str) {
        self.browser.goto(&self.portal.url(path));
    }

    /// The path of the current page (no query).
    pub(crate) fn path(&self) -> String {
        let u = self.browser.url();
        let rest = u.strip_prefix(&self.portal.base).unwrap_or(&u).to_string();
        rest.split('?').next().unwrap_or("").to_string()
    }

    /// Wait until the current page's title starts with `title` (the portal's titles are
    /// "<h1> · i3lic portal").
    #[track_caller]
    /// New Activation File's first step: the test site, CIC 4.0 and `license_type`, then Go;
    /// waits for the second step's host-ID field.
    pub(crate) fn choose_new_file(&self, license_type: &str) {
        let b = &self.browser;
        b.select("#n-site", SITE);
        b.select("#n-product", "CIC 4.0");
        b.select("#n-type", license_type);
        b.click_button("Go");
        b.find("#host_id");
    }

    pub(crate) fn expect_page(&self, title: &str) {
        self.browser.wait_for(&format!("the page {title:?}"), |b| {
            b.title()
                .strip_suffix(" · i3lic portal")
                .is_some_and(|t| t == title || t.starts_with(&format!("{title} · ")))
                .then_some(())
        });
    }

    /// Run axe-core on the current page and keep what it finds under `page`.
    pub(crate) fn check(&self, page: &str) {
        let found = self.browser.accessibility_problems(&self.axe);
        self.checked.borrow_mut().push(page.to_string());
        for p in found {
            self.problems
                .borrow_mut()
                .push(format!("{page} ({}): {p}", self.path()));
        }
    }

    /// Log in through the form, as `email`, landing on the accounts page.
    pub(crate) fn login(&self, email: &str) {
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

    pub(crate) fn logout(&self) {
        self.browser.click_button("Log out");
        self.expect_page("Log in");
    }

    pub(crate) fn text(&self) -> String {
        self.browser.page_text()
    }

    /// Every page checked was free of serious and critical accessibility problems.
    pub(crate) fn assert_accessible(&self) {
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
    pub(crate) fn licverify(&self, name: &str, bytes: &[u8], host: &str) -> Value {
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
    pub(crate) fn generated_id(&self) -> String {
        let e = self.browser.find("p.ok code");
        self.browser.text(&e)
    }
}

/// How many of a license a verified file assigns (`licverify --json`).
pub(crate) fn assigned(v: &Value, license: &str) -> u64 {
    v["license"]["activation"]["licenses"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["name"] == license))
        .and_then(|x| x["assigned"].as_u64())
        .unwrap_or_else(|| panic!("no {license} in {v}"))
}

/// A host-ID code with one character changed, which its check digits catch.
pub(crate) fn mistyped(code: &str) -> String {
    let mut c: Vec<char> = code.chars().collect();
    let i = c.iter().position(|ch| ch.is_ascii_alphanumeric()).unwrap() + 2;
    c[i] = if c[i] == 'Q' { 'R' } else { 'Q' };
    c.into_iter().collect()
}

/// Type a code into a host-ID field and wait for the live check's message (filled by
/// static/portal.js) to say `valid` or not; the message.
#[track_caller]
pub(crate) fn live_check(w: &World, input: &str, out: &str, code: &str, valid: bool) -> String {
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

/// Whether the element is shown (takes up space on the page).
pub(crate) fn shown(b: &Browser, css: &str) -> bool {
    let e = b.find(css);
    b.script(
        "return arguments[0].getClientRects().length > 0;",
        vec![Browser::arg(&e)],
    ) == Value::Bool(true)
}

/// The width of a phone's screen, in CSS pixels.
pub(crate) const PHONE: u64 = 375;

/// The current page is no wider than a phone's screen (no sideways scrolling) and its
/// screenshot is as wide as the screen (sizes compared, not pixels); checked with axe-core
/// too, as `page`.
#[track_caller]
pub(crate) fn fits_phone(w: &World, page: &str) {
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
    let (shot, _) = w.browser.screenshot_size();
    assert_eq!(
        u64::from(shot),
        PHONE,
        "{page}: the screenshot's width is the phone's"
    );
    w.check(&format!("{page}, phone"));
}

/// The id in the `href` of the link in the row of `row_text` whose `href` ends with `end`.
pub(crate) fn row_link(w: &World, row_text: &str, end: &str) -> String {
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
pub(crate) fn row_of(w: &World, row_text: &str) -> String {
    let v = w.browser.script(
        "const r = [...document.querySelectorAll('tbody tr')] \
           .find(r => r.textContent.includes(arguments[0])); \
         return r ? r.innerText : '';",
        vec![row_text.into()],
    );
    v.as_str().unwrap_or_default().to_string()
}

/// The note of a list page after a change was saved.
pub(crate) const SAVED_NOTE: &str = "Your changes were saved.";
