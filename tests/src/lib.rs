//! Harness for the end-to-end tests: finds (and if needed builds) the real `gethostid`,
//! `issuer` and `licverify` binaries, gives each test its own folder and ledger, and redacts
//! the values that change from run to run (file ids, host IDs, dates, paths) so that what a
//! user sees can be snapshot-tested.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The binaries under test.
pub const BINARIES: [&str; 3] = ["gethostid", "issuer", "licverify"];

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

/// Path of one of [`BINARIES`], built first if this test run has not built it.
///
/// A test crate cannot see other packages' binaries through `CARGO_BIN_EXE_*`, so the first
/// call runs `cargo build --bins` for the three packages with the same profile and target
/// folder (cargo releases its lock while tests run, so this nests safely).
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = bin_dir();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let target = dir.parent().expect("target folder");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(workspace_root())
            .args(["build", "--bins", "--quiet"])
            .args(["-p", "i3lic-hostid", "-p", "i3lic-issuer", "-p", "i3lic-verify"])
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

/// A folder of one's own with a ledger in it, removed when dropped.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
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

    /// The sandbox's ledger.
    pub fn db(&self) -> PathBuf {
        self.file("ledger.db")
    }

    /// A command for one of [`BINARIES`], run in the sandbox with its ledger selected and the
    /// demo key's passphrase variables cleared.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.current_dir(self.path())
            .env("I3LIC_DB", self.db())
            .env("USER", "Work Test80")
            .env_remove("I3LIC_KEY_PASSPHRASE")
            .env_remove("RUST_LOG");
        c
    }

    /// Run one of [`BINARIES`] with arguments.
    pub fn run<I, S>(&self, name: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd(name).args(args).output().expect("spawn").into()
    }

    /// Replace what changes between runs by stable placeholders: this sandbox's path,
    /// 32-hex-digit file ids, 16-hex-digit key ids, host-ID codes, timestamps and dates.
    pub fn redact(&self, text: &str) -> String {
        let mut s = text.replace(&self.path().display().to_string(), "[SANDBOX]");
        s = redact_words(&s);
        s
    }
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
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn classify(w: &str) -> String {
    let b = w.as_bytes();
    if w.len() == 32 && is_hex(w) {
        return "[FILE-ID]".into();
    }
    if w.len() == 16 && is_hex(w) && w.bytes().any(|c| c.is_ascii_digit()) {
        return "[KEY-ID]".into();
    }
    // Host-ID codes: five groups of five Crockford symbols.
    let groups: Vec<&str> = w.split('-').collect();
    if groups.len() == 5
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()))
    {
        return "[HOST-ID]".into();
    }
    // 2026-11-23T23:51:24Z and 2026-11-23 (the perpetual date stays visible).
    if w.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z' {
        return if w.starts_with("2100-01-01") { w.into() } else { "[TIME]".into() };
    }
    if w.len() == 10 && b[4] == b'-' && b[7] == b'-' && w.bytes().filter(u8::is_ascii_digit).count() == 8 {
        return if w == "2100-01-01" { w.into() } else { "[DATE]".into() };
    }
    w.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_variable_tokens_only() {
        let s = "file 0123456789abcdef0123456789abcdef host 1H0ZT-4M9QA-8C2KD-XW7PE-R3N5B at \
                 2026-11-23T23:51:24Z until 2100-01-01T00:00:00Z key 7eaf4b54563d793c seats 98";
        assert_eq!(
            redact_words(s),
            "file [FILE-ID] host [HOST-ID] at [TIME] until 2100-01-01T00:00:00Z key [KEY-ID] seats 98"
        );
    }
}
