//! `--out PATH` (`issue`, `update`, `download`) used to rename a temporary file over PATH
//! whatever it was: a FIFO or a character device became a regular file, and run as root,
//! `--out /dev/null` replaced the system's `/dev/null`. A FIFO, a character device or a
//! symbolic link is now written through and never replaced; a socket or a link to nothing is
//! refused before anything is recorded; `keygen --force` replaces key files only.
#![cfg(unix)]

mod common;

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{cli_ledger, current_uid, host, ok, run, unencrypted_key, IssueFlags, Units};

const MS01: &str = "SW-001-4.0-MS01";

struct Setup {
    dir: tempfile::TempDir,
    db: PathBuf,
    key: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(dir.path(), &[(MS01, 20)], Units::Perpetual);
    let key = unencrypted_key(dir.path());
    Setup { dir, db, key }
}

impl Setup {
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `issuer issue` of a media-server file for host `n` to `out`.
    fn issue(&self, n: u8, out: &Path) -> Output {
        let h = host(n);
        let machine = format!("ms{n}");
        let flags = IssueFlags {
            license_type: "media-server",
            host_id: &h,
            machine: &machine,
            server_part: MS01,
            add: None,
            key: self.key.to_str().unwrap(),
            out: out.to_str().unwrap(),
        };
        run(&self.db, &flags.args())
    }

    /// The id a command printed, and the file's recorded bytes.
    fn printed(&self, o: &Output) -> (String, Vec<u8>) {
        let id = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (id.clone(), self.download(&id))
    }

    fn download(&self, id: &str) -> Vec<u8> {
        let o = run(&self.db, &["download", id, "--out", "-"]);
        assert!(o.status.success());
        o.stdout
    }

    fn file_count(&self) -> usize {
        let rows: serde_json::Value =
            serde_json::from_str(&ok(&self.db, &["activity", "--active", "all", "--json"]))
                .unwrap();
        rows.as_array().unwrap().len()
    }
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A `cat` reading the FIFO at `path` into a pipe, as a concurrent reader.
fn reader(path: &Path) -> Child {
    Command::new("cat")
        .arg(path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// What the reader got; killed (and the test failed) when nothing closed the FIFO within
/// 20 s, as when it was replaced instead of written.
fn read_back(mut child: Child, path: &Path) -> Vec<u8> {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nothing was written to the FIFO {} (it is now {:?})",
                path.display(),
                std::fs::symlink_metadata(path).map(|m| m.file_type())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap().stdout
}

fn assert_fifo(path: &Path) {
    let kind = std::fs::symlink_metadata(path).unwrap().file_type();
    assert!(kind.is_fifo(), "{} is now {kind:?}", path.display());
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn issue_update_and_download_write_through_a_fifo_and_leave_it_a_fifo() {
    let s = setup();
    let fifo = s.p("fifo");
    mkfifo(&fifo);

    let cat = reader(&fifo);
    let o = s.issue(1, &fifo);
    let got = read_back(cat, &fifo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_fifo(&fifo);
    let (id, bytes) = s.printed(&o);
    assert_eq!(got, bytes);

    let cat = reader(&fifo);
    let o = run(
        &s.db,
        &[
            "update",
            &id,
            "--machine",
            "ms1b",
            "--key",
            s.key.to_str().unwrap(),
            "--out",
            fifo.to_str().unwrap(),
        ],
    );
    let got = read_back(cat, &fifo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_fifo(&fifo);
    let (new_id, bytes) = s.printed(&o);
    assert_ne!(new_id, id);
    assert_eq!(got, bytes);

    let cat = reader(&fifo);
    let o = run(&s.db, &["download", &id, "--out", fifo.to_str().unwrap()]);
    let got = read_back(cat, &fifo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_fifo(&fifo);
    assert_eq!(got, s.download(&id));
    // No temporary file was left beside it.
    let names: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// A character device: one made in the test's folder when running as root (a copy of
/// `/dev/null`'s numbers, so the system's is never at risk), else `/dev/null` itself, which
/// only root could have replaced. Either stays the same device.
#[test]
fn a_character_device_is_written_through_and_stays_a_device() {
    let s = setup();
    let device = if current_uid() == 0 {
        let d = s.p("null");
        let made = Command::new("mknod")
            .arg(&d)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|st| st.success());
        if !made {
            eprintln!("note: mknod failed; skipping the device case");
            return;
        }
        d
    } else {
        PathBuf::from("/dev/null")
    };
    let before = std::fs::symlink_metadata(&device).unwrap();
    let o = s.issue(2, &device);
    assert!(o.status.success(), "{}", stderr(&o));
    let (id, _) = s.printed(&o);
    let o = run(&s.db, &["download", &id, "--out", device.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after = std::fs::symlink_metadata(&device).unwrap();
    assert!(
        after.file_type().is_char_device(),
        "{:?}",
        after.file_type()
    );
    assert_eq!((after.ino(), after.rdev()), (before.ino(), before.rdev()));
}

/// `/dev/stdout` is a symbolic link: what it names is written (here a FIFO, or a regular file
/// kept in place), the link is kept. Links made in the test's folder, so that the system's
/// `/dev/stdout` is never at risk.
#[test]
fn a_symbolic_link_is_written_through_and_kept() {
    let s = setup();
    let fifo = s.p("fifo");
    mkfifo(&fifo);
    let to_fifo = s.p("stdout");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    let cat = reader(&fifo);
    let o = s.issue(3, &to_fifo);
    let got = read_back(cat, &fifo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&to_fifo).unwrap().is_symlink());
    let (id, bytes) = s.printed(&o);
    assert_eq!(got, bytes);

    let real = s.p("real.i3lic");
    std::fs::write(&real, "an older file, longer than nothing").unwrap();
    let to_real = s.p("link.i3lic");
    std::os::unix::fs::symlink(&real, &to_real).unwrap();
    let o = run(
        &s.db,
        &["download", &id, "--out", to_real.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&to_real).unwrap().is_symlink());
    assert_eq!(std::fs::read(&real).unwrap(), bytes);

    // The real /dev/stdout, to a pipe, where it cannot do harm (not root).
    if current_uid() != 0 && Path::new("/dev/stdout").exists() {
        let o = run(&s.db, &["download", &id, "--out", "/dev/stdout"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(o.stdout, bytes);
    }
}

/// What cannot be written through (a socket, a link to nothing) is refused, exit 4, naming
/// what it is, before anything is recorded, and left as it is.
#[test]
fn a_socket_or_a_link_to_nothing_is_refused_before_anything_is_recorded() {
    let s = setup();
    let socket = s.p("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let dangling = s.p("dangling");
    std::os::unix::fs::symlink(s.p("nowhere"), &dangling).unwrap();
    for (path, what) in [
        (&socket, "it is a socket"),
        (&dangling, "it is a symbolic link to nothing"),
    ] {
        let o = s.issue(4, path);
        assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
        assert!(stderr(&o).contains(what), "{}", stderr(&o));
        assert_eq!(s.file_count(), 0, "nothing recorded");
    }
    assert!(std::fs::symlink_metadata(&socket)
        .unwrap()
        .file_type()
        .is_socket());
    assert!(std::fs::symlink_metadata(&dangling).unwrap().is_symlink());
    assert!(!s.p("nowhere").exists());
}

/// `keygen --force` replaces key files; a FIFO (or any other non-file) at a key's name is
/// refused, exit 4, and left as it is.
#[test]
fn keygen_force_replaces_only_key_files() {
    let s = setup();
    let dir = s.p("keys");
    std::fs::create_dir(&dir).unwrap();
    let fifo = dir.join("k.pub");
    mkfifo(&fifo);
    let o = run(
        &s.db,
        &[
            "keygen",
            "--kid",
            "k",
            "--out",
            dir.to_str().unwrap(),
            "--unencrypted",
            "--force",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    assert_fifo(&fifo);
    assert!(!dir.join("k.key").exists());
}

/// `--out-dir` never replaces anything already at a file's name (it links the name, which
/// fails when it is taken): a FIFO there is refused, exit 4, before anything is recorded.
#[test]
fn a_batch_never_replaces_a_fifo_in_its_folder() {
    let s = setup();
    let out = s.p("out");
    std::fs::create_dir(&out).unwrap();
    mkfifo(&out.join("ms5.i3lic"));
    let body = serde_json::json!({
        "defaults": {
            "account": "Contoso", "site": "HQ", "product": "CIC", "version": "4.0",
            "type": "media-server", "server_part": MS01,
        },
        "requests": [
            {"machine": "ms4", "host_id": host(4)},
            {"machine": "ms5", "host_id": host(5)},
        ],
    });
    let req = s.p("batch.json");
    std::fs::write(&req, body.to_string()).unwrap();
    let o = run(
        &s.db,
        &[
            "issue",
            "--request",
            req.to_str().unwrap(),
            "--key",
            s.key.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_fifo(&out.join("ms5.i3lic"));
    assert_eq!(s.file_count(), 0);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn a_fifo_swapped_for_a_link_after_the_check_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.i3lic");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    mkfifo(&out);
    let pending = issuer::fsio::OutFile::prepare(&out, "t", b"file", 0o644).unwrap();
    // Between the check and the write, the FIFO becomes a link to a regular file.
    std::fs::remove_file(&out).unwrap();
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    let err = pending.persist().unwrap_err().to_string();
    assert!(
        err.contains("another file than when it was checked"),
        "{err}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
}
