//! A small WebDriver client for the browser tests: starts `chromedriver`, which starts
//! headless Chromium, and speaks the W3C WebDriver protocol to it over plain HTTP on
//! loopback. Only what the tests use: navigate, find, click, type, read, run a script, read
//! a cookie. Also finds the tools (Chromium, ChromeDriver, axe-core) and says why the
//! browser tests skip — or fail, where `I3LIC_BROWSER_TESTS=required` (as in CI) — when one
//! is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long to wait for an element or a condition before failing.
pub const WAIT: Duration = Duration::from_secs(30);

/// The axe-core version `scripts/browser-tools.sh` installs.
pub const AXE_VERSION: &str = "4.14.1";

/// The programs and the script the browser tests need.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `chromedriver`.
    pub chromedriver: PathBuf,
    /// The Chromium executable.
    pub chromium: PathBuf,
    /// `axe.min.js` of axe-core.
    pub axe: PathBuf,
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn from_env_or(var: &str, fallback: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(v) => Some(PathBuf::from(v)).filter(|p| p.is_file()),
        None => fallback(),
    }
}

/// Where `scripts/browser-tools.sh` puts axe-core: `<target>/browser-tools/`.
pub fn axe_default_path() -> PathBuf {
    crate::target_dir().join("browser-tools/node_modules/axe-core/axe.min.js")
}

impl Tools {
    /// The tools, or what is missing. `I3LIC_CHROMEDRIVER`, `I3LIC_CHROMIUM` and
    /// `I3LIC_AXE_CORE` name them explicitly; otherwise `chromedriver` and `chromium` are
    /// looked up on `PATH`, and axe-core where `scripts/browser-tools.sh` installs it.
    pub fn find() -> Result<Tools, String> {
        let mut missing = Vec::new();
        let chromedriver = from_env_or("I3LIC_CHROMEDRIVER", || on_path(&["chromedriver"]));
        let chromium = from_env_or("I3LIC_CHROMIUM", || {
            on_path(&["chromium", "chromium-browser", "google-chrome"])
        });
        let axe = from_env_or("I3LIC_AXE_CORE", || {
            Some(axe_default_path()).filter(|p| p.is_file())
        });
        if chromedriver.is_none() {
            missing.push("chromedriver (Debian package chromium-driver)".to_string());
        }
        if chromium.is_none() {
            missing.push("chromium (Debian package chromium)".to_string());
        }
        if axe.is_none() {
            missing.push(format!(
                "axe-core (npm package axe-core@{AXE_VERSION}, expected at {})",
                axe_default_path().display()
            ));
        }
        match (chromedriver, chromium, axe) {
            (Some(chromedriver), Some(chromium), Some(axe)) => Ok(Tools {
                chromedriver,
                chromium,
                axe,
            }),
            _ => Err(missing.join(", ")),
        }
    }

    /// The tools for a browser test named `test`, or `None` after saying on the terminal why
    /// it skips. Panics instead when `I3LIC_BROWSER_TESTS=required`.
    pub fn for_test(test: &str) -> Option<Tools> {
        match Tools::find() {
            Ok(t) => Some(t),
            Err(missing) => {
                let required = std::env::var("I3LIC_BROWSER_TESTS").is_ok_and(|v| v == "required");
                assert!(
                    !required,
                    "I3LIC_BROWSER_TESTS=required but the browser tests cannot run: missing {missing}; \
                     `bash scripts/browser-tools.sh` installs them"
                );
                // Straight to the terminal, in one write: the test harness captures print!
                // of passing tests.
                let msg = format!(
                    "SKIPPED browser test {test}: missing {missing}; `bash scripts/browser-tools.sh` \
                     installs them (set I3LIC_BROWSER_TESTS=required to fail instead)\n"
                );
                let _ = std::io::stderr().write_all(msg.as_bytes());
                None
            }
        }
    }
}

/// What an HTTP server answered.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body (chunked transfer decoded).
    pub body: Vec<u8>,
}

/// One HTTP/1.1 exchange on a fresh loopback connection (`Connection: close`).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> std::io::Result<HttpAnswer> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("no HTTP status line"))?;
    let mut hs = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            hs.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |k: &str| hs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut out = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad("bad chunk size"))?;
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            out.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        out.resize(n, 0);
        r.read_exact(&mut out)?;
    } else {
        r.read_to_end(&mut out)?;
    }
    Ok(HttpAnswer {
        status,
        headers: hs,
        body: out,
    })
}

/// An element of the current page (its WebDriver reference).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Element {
    fn json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

/// A headless Chromium driven through its own `chromedriver`; both end when this is dropped.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    chromium_pid: Option<u32>,
    _profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Browser {
    /// Start `chromedriver` on a free loopback port and open a session: a new headless
    /// Chromium with an empty profile, downloads going to [`Browser::downloads`].
    pub fn start(tools: &Tools) -> Browser {
        let mut driver = Command::new(&tools.chromedriver)
            .args(["--port=0", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", tools.chromedriver.display()));
        let mut out = BufReader::new(driver.stdout.take().expect("piped stdout"));
        let mut port = None;
        let mut seen = String::new();
        let mut line = String::new();
        while port.is_none() && out.read_line(&mut line).unwrap_or(0) > 0 {
            seen.push_str(&line);
            port = line
                .trim()
                .strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|p| p.trim_end_matches('.').parse::<u16>().ok());
            line.clear();
        }
        let Some(port) = port else {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver printed no port:\n{seen}");
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        let profile = tempfile::Builder::new()
            .prefix("i3lic-chromium-")
            .tempdir()
            .expect("profile folder");
        let downloads = tempfile::Builder::new()
            .prefix("i3lic-downloads-")
            .tempdir()
            .expect("downloads folder");
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tools.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--lang=en-US", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                },
            },
            "timeouts": { "implicit": 0, "pageLoad": 30000, "script": 30000 },
        } } });
        let addr = format!("127.0.0.1:{port}");
        let mut b = Browser {
            driver,
            addr,
            session: String::new(),
            chromium_pid: None,
            _profile: profile,
            downloads,
        };
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"))
            .to_string();
        b.chromium_pid = v["capabilities"]["goog:processID"]
            .as_u64()
            .and_then(|p| u32::try_from(p).ok());
        b
    }

    /// Where Chromium saves downloads.
    pub fn downloads(&self) -> &Path {
        self.downloads.path()
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(v) => v,
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        }
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string());
        let HttpAnswer {
            status,
            body: bytes,
            ..
        } = http(
            &self.addr,
            method,
            path,
            &[("Content-Type", "application/json; charset=utf-8")],
            body.as_deref().map(str::as_bytes),
        )
        .map_err(|e| format!("talking to chromedriver: {e}"))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "chromedriver answered {status} with no JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if status != 200 {
            return Err(format!(
                "{status} {}: {}",
                value["error"].as_str().unwrap_or("?"),
                value["message"].as_str().unwrap_or("")
            ));
        }
        Ok(value)
    }

    fn cmd(&self, method: &str, what: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{what}", self.session), body)
    }

    /// Open an address and wait for the page to load.
    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// The address of the current page.
    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The title of the current page.
    pub fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn elements(&self, using: &str, value: &str) -> Vec<Element> {
        let v = self.cmd(
            "POST",
            "/elements",
            Some(json!({ "using": using, "value": value })),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|s| Element(s.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Wait until `f` gives a value (polling), or fail with `what` and the page's text.
    #[track_caller]
    pub fn wait_for<T>(&self, what: &str, mut f: impl FnMut(&Browser) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if start.elapsed() > WAIT {
                let body = self.try_call(
                    "POST",
                    &format!("/session/{}/execute/sync", self.session),
                    Some(json!({ "script": "return document.body ? document.body.innerText : ''", "args": [] })),
                );
                panic!(
                    "waited {WAIT:?} for {what} on {} ({}); the page says:\n{}",
                    self.url(),
                    self.title(),
                    body.ok()
                        .and_then(|b| b.as_str().map(String::from))
                        .unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// All elements matching a CSS selector (none is fine).
    pub fn all(&self, css: &str) -> Vec<Element> {
        self.elements("css selector", css)
    }

    /// The first element matching a CSS selector, waiting for it to appear.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        self.wait_for(&format!("an element `{css}`"), |b| {
            b.all(css).into_iter().next()
        })
    }

    /// The first `tag` element (`a`, `button`) whose text, spaces normalised, is exactly
    /// `text`, waiting for it. Text hidden for sight only (a screen reader's extra words)
    /// counts, so "Download" does not match a link read as "Download file 1f2e...".
    #[track_caller]
    pub fn find_text(&self, tag: &str, text: &str) -> Element {
        assert!(!text.contains('"'), "no double quote in {text:?}");
        let xpath = format!("//{tag}[normalize-space(.)=\"{text}\"]");
        self.wait_for(&format!("a `{tag}` reading {text:?}"), |b| {
            b.elements("xpath", &xpath).into_iter().next()
        })
    }

    /// Click an element (and, where it follows a link or sends a form, wait for the page).
    pub fn click(&self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Click the first element matching a CSS selector.
    #[track_caller]
    pub fn click_css(&self, css: &str) {
        let e = self.find(css);
        self.click(&e);
    }

    /// Click the link reading exactly `text`.
    #[track_caller]
    pub fn click_link(&self, text: &str) {
        let e = self.find_text("a", text);
        self.click(&e);
    }

    /// Click the button reading exactly `text` (its visible text).
    #[track_caller]
    pub fn click_button(&self, text: &str) {
        let e = self.find_text("button", text);
        self.click(&e);
    }

    /// Type into an element (a file input takes a path).
    pub fn type_into(&self, e: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        );
    }

    /// Clear an input, then type into it.
    #[track_caller]
    pub fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
        self.type_into(&e, text);
    }

    /// Choose the option with `value` of the `select` matching `css`.
    #[track_caller]
    pub fn select(&self, css: &str, value: &str) {
        let sel = format!("{css} option[value=\"{value}\"]");
        self.click_css(&sel);
    }

    /// The visible text of an element.
    pub fn text(&self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.0), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The text of an element, or `None` when it is gone (the page was replaced meanwhile):
    /// for `wait_for` conditions that read a page about to change.
    pub fn text_if_present(&self, e: &Element) -> Option<String> {
        let path = format!("/session/{}/element/{}/text", self.session, e.0);
        self.try_call("GET", &path, None)
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_string())
    }

    /// A property of an element (`value`, `checked`, `className`...).
    pub fn property(&self, e: &Element, name: &str) -> Value {
        self.cmd("GET", &format!("/element/{}/property/{name}", e.0), None)
    }

    /// The visible text of the whole page.
    pub fn page_text(&self) -> String {
        self.script("return document.body.innerText", vec![])
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Run a script in the page (its `return` value comes back).
    pub fn script(&self, source: &str, args: Vec<Value>) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": source, "args": args })),
        )
    }

    /// Run an asynchronous script: it ends by calling its last argument with the result.
    pub fn script_async(&self, source: &str, args: Vec<Value>) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({ "script": source, "args": args })),
        )
    }

    /// An element as a script argument.
    pub fn arg(e: &Element) -> Value {
        e.json()
    }

    /// The value of a cookie of the current page (HttpOnly ones too).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let v = self
            .try_call(
                "GET",
                &format!("/session/{}/cookie/{name}", self.session),
                None,
            )
            .ok()?;
        v["value"].as_str().map(String::from)
    }

    /// Wait for a download named `name` to be complete in [`Browser::downloads`]; its bytes.
    /// The file is removed, so the next download of that name keeps it.
    #[track_caller]
    pub fn downloaded(&self, name: &str) -> Vec<u8> {
        let p = self.downloads().join(name);
        let bytes = self.wait_for(&format!("the download {name}"), |_| {
            let partial = std::fs::read_dir(self.downloads())
                .map(|d| {
                    d.filter_map(Result::ok)
                        .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
                })
                .unwrap_or(true);
            if partial {
                return None;
            }
            std::fs::read(&p).ok().filter(|b| !b.is_empty())
        });
        let _ = std::fs::remove_file(&p);
        bytes
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_call("DELETE", &format!("/session/{}", self.session), None);
        }
        // Chromium outlives a killed chromedriver: end it by its own process id if the
        // session's end did not.
        if let Some(pid) = self.chromium_pid {
            if Path::new(&format!("/proc/{pid}")).exists() {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The script that runs axe-core on the page and hands back its violations, each as
/// `{id, impact, help, nodes: [selector...]}`.
const RUN_AXE: &str = r#"
var done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"], runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }).then(function (r) {
  done(r.violations.map(function (v) {
    return { id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map(function (n) { return n.target.join(" "); }) };
  }));
}, function (e) { done({ error: String(e) }); });
"#;

impl Browser {
    /// Run axe-core (`axe` is the text of `axe.min.js`) on the current page: every
    /// violation of impact "serious" or "critical", one line each naming the rule, what it
    /// asks and the elements.
    pub fn accessibility_problems(&self, axe: &str) -> Vec<String> {
        let loaded = self.script(&format!("{axe}\n;return typeof axe;"), vec![]);
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let v = self.script_async(RUN_AXE, vec![]);
        let list = v
            .as_array()
            .unwrap_or_else(|| panic!("axe-core failed: {v}"));
        list.iter()
            .filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical")))
            .map(|x| {
                format!(
                    "{} ({}): {} — {}",
                    x["id"].as_str().unwrap_or("?"),
                    x["impact"].as_str().unwrap_or("?"),
                    x["help"].as_str().unwrap_or(""),
                    x["nodes"]
                        .as_array()
                        .map(|n| n
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default()
                )
            })
            .collect()
    }
}

/// A phone's screen: the page laid out at a given width, and what it looks like.
impl Browser {
    /// Lay pages out as a phone `width` CSS pixels wide (device scale 1), through the
    /// DevTools protocol: a headless window cannot be made that narrow.
    pub fn emulate_width(&self, width: u32) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": { "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true },
            })),
        );
    }

    /// Stop the pages from running their own scripts (as a browser with JavaScript turned
    /// off) or let them run again, through the DevTools protocol; WebDriver's own commands
    /// work either way, but axe-core needs scripts on.
    pub fn scripts_off(&self, off: bool) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({
                "cmd": "Emulation.setScriptExecutionDisabled",
                "params": { "value": off },
            })),
        );
    }

    /// The width and height, in pixels, of a screenshot of the visible page (read from the
    /// PNG's header).
    pub fn screenshot_size(&self) -> (u32, u32) {
        let v = self.cmd("GET", "/screenshot", None);
        let b64 = v.as_str().unwrap_or_default();
        let png = base64_prefix(b64, 24);
        assert!(
            png.len() == 24 && png.starts_with(b"\x89PNG"),
            "the screenshot is no PNG"
        );
        let be = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
        (be(16), be(20))
    }
}

/// The first `n` bytes of standard base64 text (enough for a PNG's header).
fn base64_prefix(text: &str, n: usize) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::with_capacity(n), 0u32, 0u32);
    for v in text.bytes().map_while(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
            if out.len() == n {
                break;
            }
        }
    }
    out
}
