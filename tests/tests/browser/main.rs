//! The portal in a real browser: headless Chromium, driven over WebDriver by `chromedriver`,
//! clicks through the pages and forms of the real `portal` binary serving a ledger set up
//! with the `issuer` and `portal` commands; downloaded files are checked with `licverify`.
//! Every page visited is checked with axe-core: no violation of impact "serious" or
//! "critical".
//!
//! Needs Chromium, ChromeDriver and axe-core (`bash scripts/browser-tools.sh` installs them);
//! without them each test says so on the terminal and passes, unless
//! `I3LIC_BROWSER_TESTS=required` (as .ci/run sets), where it fails.

mod flows;
mod forms;
mod harness;
mod layout_phone;
mod users;
