//! Creating a store: many `licadmin` processes, or threads each with its own connection,
//! creating the same new store at once all succeed (they used to see another's creation half
//! done and take the store for another program's database, or fail to switch it to WAL), and a store path that is not a regular file (a FIFO, a device, a folder) is
//! refused before SQLite opens it (exit 4, naming the path), leaving nothing beside it.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use store::TxExt as _;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const PROCESSES: usize = 30;

fn licadmin(store: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(store)
        .args(args);
    c
}

#[test]
fn thirty_processes_creating_the_same_new_store_all_succeed() {
    for round in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("new").join("store.db");
        let children: Vec<_> = (0..PROCESSES)
            .map(|i| {
                licadmin(&store, &["user", "add", &format!("u{i}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(
                o.status.success(),
                "round {round}: exit {:?}: {}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        // (Listing users needs a license; the store is read directly.)
        let users: i64 = store_sqlite::open_raw(&store)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, PROCESSES as i64);
        let o = licadmin(&store, &["check"]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

/// Run `licadmin` on `store`, killed if it has not returned within 20 seconds (a FIFO opened
/// as a database blocks).
fn run_bounded(store: &Path, args: &[&str]) -> Output {
    let mut child = licadmin(store, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("licadmin --store {} did not return", store.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused(store: &Path) -> Output {
    let o = run_bounded(store, &["user", "add", "alice"]);
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&store.display().to_string()), "{err}");
    for ext in ["-journal", "-wal", "-shm"] {
        let beside = format!("{}{ext}", store.display());
        assert!(!Path::new(&beside).exists(), "{beside} was made");
    }
    o
}

#[cfg(unix)]
#[test]
fn a_store_path_that_is_a_fifo_a_device_or_a_folder_is_refused_before_it_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.db");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // (Opening a FIFO would block until a writer appears: this returns at once.)
    let o = refused(&fifo);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("FIFO"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = refused(Path::new("/dev/null"));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("character device"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = refused(dir.path());
    assert!(String::from_utf8_lossy(&o.stderr).contains("folder"));
    // --json: the error names the path too.
    let o = run_bounded(&fifo, &["user", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["exit_code"], 4);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&fifo.display().to_string()));
}

#[test]
fn thirty_threads_opening_the_same_new_store_at_once_all_succeed() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.db");
        let start = std::sync::Barrier::new(PROCESSES);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..PROCESSES)
                .map(|i| {
                    let (store, start) = (&store, &start);
                    s.spawn(move || {
                        start.wait();
                        let a = allocation::Allocator::open(store, common::verifier())?;
                        a.add_user(&format!("u{i}"), allocation::Method::Assignable, None)
                    })
                })
                .collect();
            for h in handles {
                if let Err(e) = h.join().unwrap() {
                    panic!("round {round}: {e}");
                }
            }
        });
    }
}
