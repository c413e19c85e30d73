//! One state file shared by several processes: a server and administrators running
//! `licverify --state FILE` at the same time. Every update must see the one before it, or
//! an accepted file (and the id it superseded) is forgotten and could be loaded again.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use format::{Activation, Timestamp};
use verify::{StateFile, VerifyError};

use common::*;

/// Processes loading files at the same time.
const WORKERS: u8 = 4;
/// Files in the chain; file n supersedes file n - 1 and is issued one second after it.
const FILES: u8 = 32;

struct Setup {
    dir: tempfile::TempDir,
    vendor: PathBuf,
    state: PathBuf,
    host: String,
}

impl Setup {
    fn new() -> Setup {
        // In the target folder rather than a RAM disk: the fsyncs of each write take real
        // time there, as on a server, which widens the window an unlocked update loses in.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let vendor = dir.path().join("vendor.pub");
        std::fs::write(&vendor, vendor_key().public_key().to_text("vendor")).unwrap();
        let first = Timestamp::now().plus_secs(-86_400);
        for n in 1..=FILES {
            let issued = first.plus_secs(i64::from(n));
            let a = Activation {
                file_id: file_id(n),
                supersedes: (n > 1).then(|| file_id(n - 1)),
                issued_at: issued,
                valid_from: issued,
                expires_at: Timestamp::PERPETUAL,
                ..base()
            };
            std::fs::write(Self::file_in(dir.path(), n), signed(&a, &vendor_key())).unwrap();
        }
        Setup {
            state: dir.path().join("state.json"),
            vendor,
            host: host_a().to_string(),
            dir,
        }
    }

    fn file_in(dir: &Path, n: u8) -> PathBuf {
        dir.join(format!("f{n:02}.i3lic"))
    }

    fn file(&self, n: u8) -> PathBuf {
        Self::file_in(self.dir.path(), n)
    }

    /// `licverify` on file `n` with the shared state file; `extra` adds arguments.
    fn licverify(&self, n: u8, extra: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_licverify"))
            .arg(self.file(n))
            .arg("--trust")
            .arg(&self.vendor)
            .args([
                "--host-id",
                &self.host,
                "--product",
                "CIC",
                "--version",
                "4.0",
            ])
            .arg("--state")
            .arg(&self.state)
            .args(extra)
            .output()
            .unwrap()
    }
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}: {}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn concurrent_licverify_processes_never_lose_an_accepted_file() {
    let s = Setup::new();
    let accepted = Mutex::new(Vec::new());
    let loading = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let loaders: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (s, accepted) = (&s, &accepted);
                scope.spawn(move || {
                    // Worker w loads files w, w + WORKERS, ... in order, one process each;
                    // the workers move up the chain side by side.
                    for n in (1..=FILES).filter(|n| n % WORKERS == w) {
                        let o = s.licverify(n, &[]);
                        match o.status.code() {
                            Some(0) => accepted.lock().unwrap().push(n),
                            // Another worker's newer file got in first: a rollback refusal.
                            Some(16) => {}
                            _ => panic!("file {n}: {}", describe(&o)),
                        }
                    }
                })
            })
            .collect();
        // Meanwhile an administrator checks (read-only, with --at): never a torn or
        // corrupt state, only valid or refused as a rollback.
        let checker = scope.spawn(|| {
            let mut checks = 0;
            while loading.load(Ordering::Relaxed) {
                let at = Timestamp::now().to_string();
                let o = s.licverify(FILES / 2, &["--at", &at]);
                assert!(matches!(o.status.code(), Some(0 | 16)), "{}", describe(&o));
                checks += 1;
            }
            checks
        });
        for l in loaders {
            l.join().unwrap();
        }
        loading.store(false, Ordering::Relaxed);
        assert!(checker.join().unwrap() > 0);
    });

    let accepted = accepted.into_inner().unwrap();
    let st = StateFile::new(&s.state).read().unwrap().unwrap();
    // The last file of the chain is newer than every other, so it is always accepted, and
    // it is the newest recorded.
    assert!(accepted.contains(&FILES), "{accepted:?}");
    assert_eq!(st.newest().unwrap().file_id, file_id(FILES));
    // Every accepted file was the newest when it was recorded, so the file it superseded is
    // remembered: none was lost to a concurrent write.
    let lost: Vec<u8> = accepted
        .iter()
        .filter(|&&n| n > 1 && !st.superseded().contains(&file_id(n - 1)))
        .map(|n| n - 1)
        .collect();
    assert!(
        lost.is_empty(),
        "superseded ids lost: {lost:?} (accepted {accepted:?}, state {st:?})"
    );

    // A superseded file is refused, by its own error, and nothing is recorded.
    let before = std::fs::read(&s.state).unwrap();
    let o = s.licverify(FILES - 1, &["--json"]);
    assert_eq!(o.status.code(), Some(16), "{}", describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "superseded", "{v}");
    assert_eq!(std::fs::read(&s.state).unwrap(), before);
}

#[test]
fn a_licverify_update_waits_for_a_server_holding_the_lock() {
    let s = Setup::new();
    let o = s.licverify(1, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    // Another process is mid-update: it holds the lock file, as a server's load does.
    let lock = std::fs::File::open(StateFile::new(&s.state).lock_path()).unwrap();
    lock.lock().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_licverify"))
        .arg(s.file(2))
        .arg("--trust")
        .arg(&s.vendor)
        .args(["--host-id", &s.host, "--state"])
        .arg(&s.state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    // It has not written while the lock was held.
    let st = StateFile::new(&s.state).read().unwrap().unwrap();
    assert_eq!(st.newest().unwrap().file_id, file_id(1));
    lock.unlock().unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let st = StateFile::new(&s.state).read().unwrap().unwrap();
    assert_eq!(st.newest().unwrap().file_id, file_id(2));
    assert_eq!(st.superseded(), &[file_id(1)]);
}

#[test]
fn a_lock_never_released_is_a_clear_io_error() {
    let s = Setup::new();
    let sf = StateFile::new(&s.state).with_lock_timeout(std::time::Duration::from_millis(300));
    let lock = std::fs::File::create(sf.lock_path()).unwrap();
    lock.lock().unwrap();
    let v = verify::Verifier::for_product(
        verify::TrustStore::new([vendor_key().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(verify::HostSource::Code(host_a()))
    .state_file(sf.clone());
    let e = v.load_file(s.file(1)).unwrap_err();
    assert!(matches!(e, VerifyError::StateLocked { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 4);
    assert_eq!(e.kind(), "state-locked");
    assert!(e.to_string().contains("state.json.lock"), "{e}");
    assert!(!s.state.exists(), "nothing may be written without the lock");
}
