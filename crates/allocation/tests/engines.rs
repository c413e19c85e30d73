//! `licadmin --store PATH|URL` on both engines and `licadmin store copy`: what a server sees
//! when its store moves from an SQLite file to a PostgreSQL database and back.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const CLIENT: &str = "I3_ACCESS_CLIENT";
const BASIC: &str = "I3_LICENSE_BASIC_STATION";

/// `licadmin --store STORE ARGS --trust vendor.pub --host-id HOST`.
fn licadmin(dir: &Path, store: &str, args: &[&str]) -> Output {
    let key = dir.join("vendor.pub");
    if !key.exists() {
        std::fs::write(&key, vendor().public_key().to_text("vendor")).unwrap();
    }
    Command::new(BIN)
        .env_remove("I3LIC_TRUST")
        .env_remove("I3LIC_STORE")
        .arg("--store")
        .arg(store)
        .args(args)
        .arg("--trust")
        .arg(&key)
        .arg("--host-id")
        .arg(host().to_string())
        .output()
        .unwrap()
}

fn ok(dir: &Path, store: &str, args: &[&str]) -> String {
    let o = licadmin(dir, store, args);
    assert!(
        o.status.success(),
        "{args:?} on {store}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// A store with a loaded file, users, a station, an organization and a live session.
fn populate(dir: &Path, store: &str) {
    let f = dir.join("ic1.i3lic");
    std::fs::write(
        &f,
        file(
            &[
                (CLIENT, 3, 2),
                (BASIC, 2, 1),
                ("I3_TENANT_IWP_ORGANIZATION", 1, 0),
            ],
            Rules::default(),
        ),
    )
    .unwrap();
    ok(dir, store, &["load", f.to_str().unwrap()]);
    ok(dir, store, &["org", "add", "Contoso"]);
    ok(
        dir,
        store,
        &[
            "user",
            "add",
            "alice",
            "--method",
            "assignable",
            "--org",
            "Contoso",
        ],
    );
    ok(
        dir,
        store,
        &["user", "add", "bob", "--method", "concurrent"],
    );
    ok(
        dir,
        store,
        &["station", "add", "desk-1", "--kind", "workstation"],
    );
    ok(
        dir,
        store,
        &["allocate", "--station", "desk-1", BASIC, CLIENT],
    );
    ok(dir, store, &["allocate", "--user", "alice", CLIENT]);
    ok(dir, store, &["allocate", "--user", "bob", CLIENT]);
    ok(
        dir,
        store,
        &["login", "--user", "bob", "--station", "desk-1"],
    );
}

/// What an administrator reads of a store.
fn views(dir: &Path, store: &str) -> Vec<String> {
    ["report", "check", "compliance"]
        .iter()
        .map(|c| ok(dir, store, &[c]))
        .chain([ok(dir, store, &["user", "list"])])
        .collect()
}

/// SQLite to PostgreSQL to SQLite: every view the same; a copy into a store that is not
/// empty is refused (24) and leaves it as it was.
#[test]
fn a_store_copied_to_postgres_and_back_reads_the_same() {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("src.db").display().to_string();
    populate(d, &src);
    let before = views(d, &src);
    ok(d, &src, &["store", "copy", &db.url]);
    assert_eq!(views(d, &db.url), before);
    let back = d.join("back.db").display().to_string();
    ok(d, &db.url, &["store", "copy", &back]);
    assert_eq!(views(d, &back), before);
    // The copy is a working store: a change on it goes on from there.
    ok(
        d,
        &db.url,
        &["user", "add", "carol", "--method", "assignable"],
    );
    // A target that holds anything is refused and left untouched.
    let o = licadmin(d, &src, &["store", "copy", &db.url]);
    assert_eq!(
        o.status.code(),
        Some(24),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = licadmin(d, &db.url, &["store", "copy", &back]);
    assert_eq!(o.status.code(), Some(24));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(views(d, &back), before);
    assert!(ok(d, &db.url, &["user", "list"]).contains("carol"));
}

/// A copy from SQLite to SQLite needs no server; a copy onto itself is refused.
#[test]
fn a_store_copied_between_files_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = d.join("src.db").display().to_string();
    populate(d, &src);
    let before = views(d, &src);
    let dst = d.join("dst.db").display().to_string();
    ok(d, &src, &["store", "copy", &dst]);
    assert_eq!(views(d, &dst), before);
    let o = licadmin(d, &src, &["store", "copy", &dst]);
    assert_eq!(o.status.code(), Some(24));
    let o = licadmin(d, &src, &["store", "copy", &src]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Another scheme than PostgreSQL's is a usage error that creates nothing; an unreachable
/// server is I/O, named without its password.
#[test]
fn a_store_url_of_another_scheme_is_a_usage_error_and_a_password_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = licadmin(d, "mysql://u:s3cret@db.example/alloc", &["report"]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mysql://"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(!d.join("mysql:").exists());
    // Nothing listens on port 1.
    let o = licadmin(
        d,
        "postgres://u:s3cret@127.0.0.1:1/alloc?connect_timeout=2",
        &["report"],
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("127.0.0.1"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

/// A PostgreSQL database that holds another program's tables is not a store (3) and is left
/// as it was.
#[test]
fn another_programs_postgres_database_is_not_a_store() {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    let mut other = postgres_client(&db.url);
    other
        .batch_execute("CREATE TABLE things (x BIGINT); INSERT INTO things VALUES (1);")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = licadmin(dir.path(), &db.url, &["report"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let n: i64 = other
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "nothing was created beside the other program's table");
}

fn postgres_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}
