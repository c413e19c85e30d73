//! Harness for the end-to-end tests: finds (and if needed builds) the real `gethostid`,
//! `issuer`, `licverify`, `licadmin` and `portal` binaries, gives each test its own folder and
//! ledger, and redacts the values that change from run to run (file ids, host IDs, dates,
//! paths) so that what a user sees can be snapshot-tested. [`webdriver`] drives headless
//! Chromium for the portal's browser tests.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use std::sync::OnceLock;

pub mod webdriver;

/// The binaries under test.
pub const BINARIES: [&str; 5] = ["gethostid", "issuer", "licverify", "licadmin", "portal"];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// Folder holding the binaries of the profile this test was built with (`target/debug`).
fn bin_dir() -> PathBuf {
    // The test executable lives in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps folder");
    deps.parent().expect("profile folder").to_path_buf()
}

/// The target folder the tests were built in (`target`, or `$CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    bin_dir().parent().expect("target folder").to_path_buf()
}

/// Path of one of [`BINARIES`], built first if this test run has not built it.
///
/// A test crate cannot see other packages' binaries through `CARGO_BIN_EXE_*`, so the first
/// call runs `cargo build --bins --examples` for their five packages with the same profile and
/// target folder (cargo releases its lock while tests run, so this nests safely). Asking for
/// the examples too makes cargo enable the dev-dependencies' features, as `cargo test` does:
/// the binaries `cargo test --workspace` just built are then up to date and nothing is
/// compiled again (a plain `--bins` resolves other features and rebuilt fifteen crates, serde,
/// rusqlite and axum among them: nearly two minutes on a busy two-core machine).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = bin_dir();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let target = dir.parent().expect("target folder");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(workspace_root())
            .args(["build", "--bins", "--examples", "--quiet"])
            .args([
                "-p",
                "i3lic-hostid",
                "-p",
                "i3lic-issuer",
                "-p",
                "i3lic-verify",
                "-p",
                "i3lic-allocation",
                "-p",
                "i3lic-portal",
            ])
            .env("CARGO_TARGET_DIR", target);
        if release {
            cmd.arg("--release");
        }
        let out = cmd.output().expect("run cargo build");
        assert!(
            out.status.success(),
            "building the binaries failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let p = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(p.exists(), "{} was not built", p.display());
    p
}

/// The example switchover partner's host ID (the sample code of the `hostid` documentation).
pub const PARTNER: &str = "1Q2H4-74KMZ-KWXDV-8K000-00KZQ";

/// The account, install site and product the fixtures use.
pub const ACCOUNT: &str = "Contoso Contact Center";
/// The install site of [`ACCOUNT`] the fixtures use.
pub const SITE: &str = "Indianapolis HQ";

/// A valid host-ID code of a constructed machine named `name`: the same name always gives the
/// same code, different names give codes that do not match each other. Lets tests play several
/// machines without depending on the components of the machine they run on.
pub fn host_code(name: &str) -> String {
    let mut mac = [0x02u8, 0, 0, 0, 0, 0];
    for (i, b) in name.bytes().enumerate() {
        mac[1 + i % 5] ^= b.rotate_left(i as u32 % 8);
    }
    let components = hostid::Components {
        machine_id: Some(format!("machine-id of {name}")),
        dmi_uuid: Some(format!("dmi uuid of {name}")),
        macs: vec![mac],
        cpu: Some(format!("cpu of {name}")),
    };
    hostid::HostId::from_components(&components)
        .expect("three strong components make a code")
        .to_string()
}

/// A folder of one's own with a ledger in it, removed when dropped.
pub struct Sandbox {
    dir: tempfile::TempDir,
    /// The ledger's `--db` when it is not the sandbox's file (a `postgres://` URL).
    ledger: Option<String>,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line as typed (binary name and arguments), for messages.
    pub line: String,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn new(line: String, o: Output) -> Run {
        Run {
            line,
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panic (with the whole run in the message) unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "`{}` exited {} (expected {code})\n--- stdout\n{}--- stderr\n{}",
            self.line, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Standard output parsed as JSON (panics with the output when it is not JSON).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("`{}` printed no JSON ({e}):\n{}", self.line, self.stdout),
        }
    }
}

impl Sandbox {
    /// A new, empty sandbox.
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("i3lic-e2e-")
                .tempdir()
                .expect("tempdir"),
            ledger: None,
        }
    }

    /// A new, empty sandbox whose commands use the ledger at `ledger` (what `--db` takes: a
    /// `postgres://` URL) instead of its own file.
    pub fn with_ledger(ledger: &str) -> Sandbox {
        Sandbox {
            ledger: Some(ledger.to_string()),
            ..Sandbox::new()
        }
    }

    /// The sandbox folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the sandbox.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The sandbox's ledger file (see [`Sandbox::with_ledger`] for one elsewhere).
    pub fn db(&self) -> PathBuf {
        self.file("ledger.db")
    }

    /// A command for one of [`BINARIES`], run in the sandbox with its ledger selected, a fixed
    /// `$USER` (recorded as "generated by"), the key passphrase, key, trust and config
    /// variables cleared and the config folder (`$XDG_CONFIG_HOME`) inside the sandbox.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.current_dir(self.path())
            .env(
                "I3LIC_DB",
                self.ledger
                    .as_ref()
                    .map_or(self.db().into_os_string(), |l| l.into()),
            )
            .env("USER", "pat.staff")
            .env_remove("I3LIC_KEY_PASSPHRASE")
            // Defaults a user may have set would change what the commands do: the tests
            // give everything they use, and a config file only where they write one.
            .env_remove("I3LIC_KEY")
            .env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_CONFIG")
            .env("XDG_CONFIG_HOME", self.file("config"))
            .env_remove("RUST_LOG");
        c
    }

    /// Run one of [`BINARIES`] with arguments (relative paths resolve in the sandbox).
    pub fn run<I, S>(&self, name: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let mut line = name.to_string();
        for a in &args {
            let a = a.as_ref().to_string_lossy();
            if a.is_empty() || a.contains(' ') {
                line.push_str(&format!(" '{a}'"));
            } else {
                line.push(' ');
                line.push_str(&a);
            }
        }
        let out = self.cmd(name).args(&args).output().expect("spawn");
        Run::new(self.redact(&line), out)
    }

    /// [`Sandbox::run`], panicking unless it exits 0.
    #[track_caller]
    pub fn ok<I, S>(&self, name: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.run(name, args).expect_code(0)
    }

    /// Copy the public example key pair (`keys-example/demo.key` and `.pub`) into the sandbox
    /// as `demo.key` (mode 0600, as `issuer` demands) and `demo.pub`.
    pub fn demo_keys(&self) {
        let src = workspace_root().join("keys-example");
        for f in ["demo.key", "demo.pub"] {
            std::fs::copy(src.join(f), self.file(f)).expect("copy example key");
        }
        set_mode(&self.file("demo.key"), 0o600);
    }

    /// This machine's host ID from `gethostid`, or — when this machine has too few stable
    /// components for a code (exit 4) — the code of a constructed machine. The second value
    /// says whether the code really is this machine's.
    pub fn this_host(&self) -> (String, bool) {
        let r = self.run("gethostid", [] as [&str; 0]);
        match r.code {
            0 => (r.stdout.trim().to_string(), true),
            4 => (host_code("this machine"), false),
            _ => panic!("gethostid exited {}: {}", r.code, r.stderr),
        }
    }

    /// The usual starting point: the example keys, and an account with an install site and
    /// an order of one intermediate server (SL03, which brings its development system IDS1),
    /// one switchover server (SS03), 50 business clients (AL02) and one trial server (TR01).
    pub fn with_account(&self) {
        self.demo_keys();
        self.account_with_orders(&[
            ("SW-001-4.0-SL03", "1"),
            ("SW-001-4.0-SS03", "1"),
            ("SW-001-4.0-AL02", "50"),
            ("SW-001-4.0-TR01", "1"),
        ]);
    }

    /// The account [`ACCOUNT`] with its install site [`SITE`] and the given ordered items
    /// (full part number, quantity), each command required to succeed.
    pub fn account_with_orders(&self, orders: &[(&str, &str)]) {
        self.ok("issuer", ["account", "add", ACCOUNT]);
        self.ok(
            "issuer",
            ["site", "add", "--account", ACCOUNT, "--name", SITE],
        );
        for &(part, qty) in orders {
            self.ok(
                "issuer",
                [
                    "order",
                    "add",
                    "--account",
                    ACCOUNT,
                    "--part",
                    part,
                    "--quantity",
                    qty,
                ],
            );
        }
    }

    /// Arguments of an `issuer issue` of a production file for `host` (machine `ic1`) with the
    /// given business clients, signed with the example key, written to `out`.
    pub fn production_args(&self, host: &str, clients: u32, out: &str) -> Vec<String> {
        let mut v: Vec<String> = [
            "issue",
            "--account",
            ACCOUNT,
            "--site",
            SITE,
            "--product",
            "CIC",
            "--version",
            "4.0",
            "--type",
            "production",
            "--host-id",
            host,
            "--machine",
            "ic1",
            "--server-part",
            "SW-001-4.0-SL03",
            "--key",
            "demo.key",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if clients > 0 {
            v.push("--add".into());
            v.push(format!("SW-001-4.0-AL02={clients}"));
        }
        v
    }

    /// Issue a production file for `host` with `clients` business clients to `out`; returns
    /// the new file id.
    #[track_caller]
    pub fn issue_production(&self, host: &str, clients: u32, out: &str) -> String {
        let r = self.ok("issuer", self.production_args(host, clients, out));
        r.stdout.trim().to_string()
    }

    /// What a user sees of a run, with run-dependent values redacted: the command line, the
    /// exit code, then standard output and standard error. Meant for snapshots.
    pub fn transcript(&self, r: &Run) -> String {
        let mut s = format!("$ {}\nexit code: {}\n", r.line, r.code);
        for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            if !text.is_empty() {
                s.push_str(&format!("--- {name}\n{}", self.redact(text)));
                if !text.ends_with('\n') {
                    s.push('\n');
                }
            }
        }
        s
    }

    /// Replace what changes between runs by stable placeholders: this sandbox's path,
    /// 32-hex-digit file ids, 16-hex-digit key ids, host-ID codes, timestamps and dates.
    pub fn redact(&self, text: &str) -> String {
        let mut s = text.replace(&self.path().display().to_string(), "[SANDBOX]");
        s = redact_words(&s);
        s
    }
}

/// The password of every portal user [`Sandbox::portal_user`] adds.
pub const PORTAL_PASSWORD: &str = "correct horse battery staple";

/// A `portal serve` over a sandbox's ledger on a free loopback port, signing with the example
/// key; stopped when dropped. Its log is `portal.log` in the sandbox.
pub struct PortalServer {
    child: std::process::Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
}

impl PortalServer {
    /// The address of a page: `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl PortalServer {
    /// Stop it as a service manager does (SIGTERM) and wait for it to end; its exit status.
    #[cfg(unix)]
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        self.child.wait().expect("wait for portal serve")
    }
}

impl Drop for PortalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// Add a portal user (`portal user add`) with the password [`PORTAL_PASSWORD`].
    #[track_caller]
    pub fn portal_user(&self, email: &str, role: &str, accounts: &[&str], certified: bool) {
        let mut args = vec!["user", "add", email, "--role", role];
        for a in accounts {
            args.extend(["--account", a]);
        }
        if certified {
            args.push("--certified");
        }
        let out = self
            .cmd("portal")
            .args(&args)
            .env("I3LIC_PORTAL_PASSWORD", PORTAL_PASSWORD)
            .output()
            .expect("spawn portal");
        Run::new(format!("portal {}", args.join(" ")), out).expect_code(0);
    }

    /// Start `portal serve --key demo.key --listen 127.0.0.1:0` (call [`Sandbox::demo_keys`]
    /// first) and wait for the address it prints.
    pub fn serve_portal(&self) -> PortalServer {
        self.serve_portal_logging_to("portal.log")
    }

    /// [`Sandbox::serve_portal`] with its log in `log` (for several portals at once).
    pub fn serve_portal_logging_to(&self, log_name: &str) -> PortalServer {
        use std::io::BufRead;
        let log = std::fs::File::create(self.file(log_name)).expect("portal log");
        let mut child = self
            .cmd("portal")
            .args(["serve", "--key", "demo.key", "--listen", "127.0.0.1:0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn portal serve");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let addr = line
            .trim()
            .strip_prefix("portal listening on http://")
            .map(|a| a.trim_end_matches('/').to_string());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "portal serve printed {line:?}; its log:\n{}",
                std::fs::read_to_string(self.file(log_name)).unwrap_or_default()
            );
        };
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut out, &mut std::io::sink());
        });
        PortalServer {
            child,
            base: format!("http://{addr}"),
            addr,
        }
    }
}

/// `ts` (`YYYY-MM-DDTHH:MM:SSZ`, UTC) moved by `secs` seconds, in the same form. For `--at`
/// times just before or after a file's dates.
pub fn shift_time(ts: &str, secs: i64) -> String {
    let num = |r: std::ops::Range<usize>| -> i64 {
        ts.get(r)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not a UTC timestamp: {ts:?}"))
    };
    assert!(
        ts.len() == 20 && ts.ends_with('Z'),
        "not a UTC timestamp: {ts:?}"
    );
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y0 = if m <= 2 { y - 1 } else { y };
    let era = y0.div_euclid(400);
    let yoe = y0 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19) + secs;
    // And back (civil_from_days).
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Set a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

/// Redact variable tokens word by word (no regex dependency needed for these shapes).
fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(&classify(word));
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == ':' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn is_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn classify(word: &str) -> String {
    // A word may end in a ':' or '-' of the sentence around it ("at 2026-11-24T00:28:45Z: the").
    let w = word.trim_end_matches([':', '-']);
    let tail = &word[w.len()..];
    let mut out = if w.contains(':') && !is_timestamp(w) {
        // "SEQ:HASH" (the audit head) and the like: each part on its own.
        w.split(':')
            .map(classify_token)
            .collect::<Vec<_>>()
            .join(":")
    } else {
        classify_token(w)
    };
    out.push_str(tail);
    out
}

fn is_timestamp(w: &str) -> bool {
    let b = w.as_bytes();
    w.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z'
}

fn is_code_symbol(c: u8) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase()
}

fn classify_token(w: &str) -> String {
    let b = w.as_bytes();
    if w.len() == 64 && is_hex(w) {
        return "[SHA-256]".into();
    }
    if w.len() == 32 && is_hex(w) {
        return "[FILE-ID]".into();
    }
    if w.len() == 16 && is_hex(w) && w.bytes().any(|c| c.is_ascii_digit()) {
        return "[KEY-ID]".into();
    }
    // Host-ID codes: five groups of five symbols; also a code with a symbol missing or extra
    // (as typed by a user), at least 20 symbols in four or more groups. Part numbers
    // ("SW-001-4.0-AL02") are cut at the '.' and never reach this length.
    let groups: Vec<&str> = w.split('-').collect();
    let symbols: usize = groups.iter().map(|g| g.len()).sum();
    if groups.len() >= 4
        && symbols >= 20
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.len() <= 6 && g.bytes().all(is_code_symbol))
    {
        return "[HOST-ID]".into();
    }
    // 2026-11-23T23:51:24Z and 2026-11-23 (the perpetual date stays visible).
    if is_timestamp(w) {
        return if w.starts_with("2100-01-01") {
            w.into()
        } else {
            "[TIME]".into()
        };
    }
    if w.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && w.bytes().filter(u8::is_ascii_digit).count() == 8
    {
        return if w == "2100-01-01" {
            w.into()
        } else {
            "[DATE]".into()
        };
    }
    w.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_variable_tokens_only() {
        let s = "file 0123456789abcdef0123456789abcdef host 1H0ZT-4M9QA-8C2KD-XW7PE-R3N5B at \
                 2026-11-23T23:51:24Z until 2100-01-01T00:00:00Z key 7eaf4b54563d793c seats 98 \
                 issued at 2026-11-24T00:28:45Z: key 7eaf4b54563d793c: typed 1QG7B-XQR3G-5ZVT4-5C000-00YH \
                 part SW-001-4.0-AL02 until 2026-11-24. \
                 head 9:78112744b8a698fabc990beb477284ec8a225e8afc42edf31fd47bec0d4a51f9 \
                 SHA-256 cd57152791a4d95ea28ed6bbd2031d2725bd6a4896b31cbe65788b8e2b43e7f1";
        assert_eq!(
            redact_words(s),
            "file [FILE-ID] host [HOST-ID] at [TIME] until 2100-01-01T00:00:00Z key [KEY-ID] seats 98 \
             issued at [TIME]: key [KEY-ID]: typed [HOST-ID] part SW-001-4.0-AL02 until [DATE]. \
             head 9:[SHA-256] SHA-256 [SHA-256]"
        );
    }

    #[test]
    fn shifts_times_across_days_months_years_and_leap_days() {
        assert_eq!(
            shift_time("2026-11-23T23:59:59Z", 1),
            "2026-11-24T00:00:00Z"
        );
        assert_eq!(
            shift_time("2026-12-31T23:59:59Z", 1),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            shift_time("2028-03-01T00:00:00Z", -1),
            "2028-02-29T23:59:59Z"
        );
        assert_eq!(
            shift_time("2100-01-01T00:00:00Z", 0),
            "2100-01-01T00:00:00Z"
        );
        assert_eq!(
            shift_time("1970-01-01T00:00:00Z", 86_400 * 365),
            "1971-01-01T00:00:00Z"
        );
    }
}
