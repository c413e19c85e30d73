//! The `portal` binary's command line: where the ledger is.

use std::process::Command;

/// As the issuer: a `--db` or `I3LIC_DB` that looks like a URL is never a file name (another
/// scheme than PostgreSQL's is exit 2; a PostgreSQL server that does not answer, exit 4), and
/// a password in it is never printed; nothing is created in the working directory.
#[test]
fn a_url_given_as_the_ledger_is_never_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for (db, code) in [
        ("mysql://root:hunter2@db.example/x", 2),
        ("http://root:hunter2@db.example/x", 2),
        ("postgresql://vendor:hunter2@127.0.0.1:1/ledger", 4),
    ] {
        for via_env in [false, true] {
            let mut c = Command::new(env!("CARGO_BIN_EXE_portal"));
            c.current_dir(dir.path()).env_remove("I3LIC_DB");
            if via_env {
                c.env("I3LIC_DB", db);
            } else {
                c.args(["--db", db]);
            }
            let out = c.args(["user", "list"]).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{db}: {err}");
            assert!(err.contains("://") && !err.contains("hunter2"), "{err}");
            assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
            if code == 4 {
                assert!(
                    err.contains("postgresql://vendor:***@127.0.0.1:1/ledger"),
                    "{err}"
                );
            }
        }
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "created {left:?}");
}
