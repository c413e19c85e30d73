//! What `--db` may point at: a new ledger is private, and anything that is not an i3lic
//! ledger is refused with a clear error (exit 3), never an engine failure, and left as it was.

mod common;

use std::path::Path;
use store::TxExt;

use issuer::{IssuerError, Ledger};

/// Opening `path` must be refused as [`IssuerError::LedgerFormat`] (exit 3 through the
/// binary) and leave its bytes unchanged.
fn refused(path: &Path, why: &str) {
    let before = std::fs::read(path).unwrap();
    match Ledger::open(path) {
        Err(e @ IssuerError::LedgerFormat { .. }) => {
            assert_eq!(e.exit_code(), 3);
            assert!(e.to_string().contains(why), "{e}");
        }
        other => panic!("{}: expected LedgerFormat, got {other:?}", path.display()),
    }
    let o = common::run(path, &["account", "list"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains(why));
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{} was changed",
        path.display()
    );
}

/// Another program's SQLite database with `user_version` set to `version`.
fn other_database(path: &Path, version: i64) {
    let c = store_sqlite::open_raw(path).unwrap();
    c.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');")
        .unwrap();
    c.execute_batch(&format!("PRAGMA user_version = {}", version))
        .unwrap();
}

#[test]
fn a_text_file_is_not_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.db");
    std::fs::write(&p, "not a database at all\n".repeat(200)).unwrap();
    refused(&p, "not an SQLite database");
}

#[test]
fn another_programs_database_is_not_a_ledger_whatever_its_user_version() {
    let dir = tempfile::tempdir().unwrap();
    for version in [0, 1, issuer::ledger::SCHEMA_VERSION] {
        let p = dir.path().join(format!("other-{version}.db"));
        other_database(&p, version);
        refused(&p, "not an i3lic ledger");
    }
}

#[test]
fn a_ledger_of_a_later_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ledger.db");
    drop(Ledger::open(&p).unwrap());
    let c = store_sqlite::open_raw(&p).unwrap();
    c.execute_batch(&format!("PRAGMA user_version = {}", 99))
        .unwrap();
    drop(c);
    refused(&p, "schema version 99");
}

#[cfg(unix)]
#[test]
fn a_new_ledger_and_its_folder_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("new").join("ledger.db");
    let mut l = Ledger::open(&p).unwrap();
    l.add_account("Contoso", "t").unwrap();
    assert_eq!(common::mode(&p), 0o600);
    assert_eq!(common::mode(p.parent().unwrap()), 0o700);
    // SQLite gives its WAL and shared-memory files the database file's mode.
    for side in ["ledger.db-wal", "ledger.db-shm"] {
        assert_eq!(common::mode(&p.with_file_name(side)), 0o600, "{side}");
    }
}

/// `issuer summary` against `db`; returns (exit code, stderr).
#[cfg(unix)]
fn summary_stderr(db: &Path) -> (Option<i32>, String) {
    let r = common::run(db, &["summary", "--account", "Contoso"]);
    (
        r.status.code(),
        String::from_utf8_lossy(&r.stderr).into_owned(),
    )
}

#[cfg(unix)]
#[test]
fn a_ledger_open_to_group_or_others_is_used_with_one_warning_naming_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::cli_ledger(dir.path(), &[(common::AL02, 5)], common::Units::Perpetual);
    let (code, err) = summary_stderr(&db);
    assert_eq!(code, Some(0));
    assert!(!err.contains("warning"), "a private ledger warns: {err}");
    assert!(Ledger::open(&db).unwrap().loose_permissions().is_none());

    for (mode, who) in [
        (0o644, "group and others"),
        (0o640, "its group"),
        (0o604, "others"),
        (0o620, "its group"),
    ] {
        common::set_mode(&db, mode);
        let loose = Ledger::open(&db).unwrap().loose_permissions().cloned();
        assert_eq!(loose.as_ref().map(|l| l.mode), Some(mode));
        let (code, err) = summary_stderr(&db);
        assert_eq!(code, Some(0), "a loose ledger is used, not refused: {err}");
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(warnings.len(), 1, "once per command: {err}");
        let w = warnings[0];
        for s in [
            db.to_str().unwrap(),
            &format!("{mode:04o}"),
            who,
            &format!("chmod 600 {}", db.display()),
        ] {
            assert!(w.contains(s), "{s:?} missing from {w}");
        }
        // The mode is reported, never changed.
        assert_eq!(common::mode(&db), mode);
    }

    // A command that writes warns the same way and still succeeds.
    common::set_mode(&db, 0o644);
    let r = common::run(&db, &["account", "add", "Fabrikam"]);
    assert_eq!(r.status.code(), Some(0));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.matches("warning").count(), 1, "{err}");

    common::set_mode(&db, 0o600);
    let (_, err) = summary_stderr(&db);
    assert!(!err.contains("warning"), "{err}");
}

/// A ledger this user may only read, in a folder this user may not write (so SQLite cannot
/// create the -wal and -shm files): every command that only read used to exit 4 ("attempt
/// to write a readonly database"). They work, change nothing and create nothing; a command
/// that writes fails clearly, naming the ledger. Run as `nobody` when the test runs as root.
#[cfg(unix)]
#[test]
fn commands_that_only_read_work_on_a_ledger_this_user_may_only_read() {
    let dir = tempfile::tempdir().unwrap();
    let Some(base) = common::as_other_user(dir.path(), &common::bin()) else {
        return;
    };
    let folder = dir.path().join("ro");
    std::fs::create_dir(&folder).unwrap();
    let db = common::cli_ledger(
        &folder,
        &[(common::AL02, 5), (common::SL03, 1)],
        common::Units::Perpetual,
    );
    let key = common::unencrypted_key(dir.path());
    let out = dir.path().join("ic1.i3lic");
    let h = common::host(1);
    let id = common::ok(
        &db,
        &common::IssueFlags {
            license_type: "production",
            host_id: &h,
            machine: "ic1",
            server_part: common::SL03,
            add: Some("SW-001-4.0-AL02=2"),
            key: key.to_str().unwrap(),
            out: out.to_str().unwrap(),
        }
        .args(),
    );
    let id = id.trim();
    let names = |f: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(f)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&folder),
        ["ledger.db"],
        "the writer left -wal/-shm files"
    );
    let before = std::fs::read(&db).unwrap();
    common::set_mode(&db, 0o444);
    common::set_mode(&folder, 0o555);

    let db_arg = db.to_str().unwrap();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(base.get_program())
            .args(base.get_args())
            .args(["--db", db_arg])
            .args(args)
            .env("USER", "reader")
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let reads = |when: &str| {
        for (args, expect) in [
            (&["account", "list"][..], "Contoso"),
            (&["site", "list", "--account", "Contoso"], "HQ"),
            (&["summary", "--account", "Contoso"], common::AL02),
            (&["activity"], id),
            (&["show", id], "ic1"),
            (&["audit", "verify"], "audit log intact"),
            (&["audit", "head"], ":"),
            (&["download", id, "--out", "-"], "i3lic"),
        ] {
            let (code, stdout, stderr) = run(args);
            assert_eq!(code, Some(0), "{when}: {args:?}: {stderr}");
            assert!(stdout.contains(expect), "{when}: {args:?}: {stdout}");
        }
        // A command that writes is refused, naming the ledger, and writes nothing.
        let (code, _, stderr) = run(&["account", "add", "Fabrikam"]);
        assert_eq!(code, Some(4), "{when}: {stderr}");
        assert!(
            stderr.contains(db_arg) && stderr.contains("may only read"),
            "{when}: {stderr}"
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{when}");
    };
    // No -wal or -shm file: the ledger file alone is read.
    reads("without -wal and -shm files");
    assert_eq!(names(&folder), ["ledger.db"]);
    // With the -wal and -shm files that a reader allowed to create them leaves behind (this
    // user may not write them).
    common::set_mode(&folder, 0o755);
    common::ok(&db, &["account", "list"]);
    common::set_mode(&folder, 0o555);
    assert_eq!(
        names(&folder),
        ["ledger.db", "ledger.db-shm", "ledger.db-wal"]
    );
    reads("with -wal and -shm files");
    // Let the temporary folder be removed by a test that does not run as root.
    common::set_mode(&folder, 0o755);
}

/// A command that only reads used to create the ledger (and its folders) it was pointed at.
/// It names the missing ledger instead (exit 4) and creates nothing.
#[test]
fn a_command_that_only_reads_never_creates_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new").join("sub").join("ledger.db");
    for args in [
        &["account", "list"][..],
        &["summary", "--account", "Contoso"],
        &["activity"],
        &["audit", "verify"],
        &["download", "0123456789abcdef0123456789abcdef", "--out", "-"],
    ] {
        let o = common::run(&db, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {err}");
        assert!(
            err.contains(db.to_str().unwrap()) && err.contains("no ledger there"),
            "{args:?}: {err}"
        );
    }
    assert!(!dir.path().join("new").exists(), "a folder was created");
    // A command that writes still creates it.
    common::ok(&db, &["account", "add", "Contoso"]);
    assert_eq!(common::ok(&db, &["account", "list"]), "Contoso\n");
}

/// A `--db` path that is not a regular file is refused (exit 4, naming what it is) before
/// SQLite opens it: a FIFO used to block every command forever, and a device to get a
/// `-journal` file beside it (`--db /dev/null` as root: `/dev/null-journal`).
#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_before_sqlite_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ledger.db");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let check = |e: IssuerError, what: &str| {
        assert_eq!(e.exit_code(), 4, "{e}");
        assert!(e.to_string().contains(what), "{e}");
    };
    // In a thread: without the check, opening the FIFO never returns.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send((
            Ledger::open(&path).err(),
            Ledger::open_read_only(&path).err(),
        ));
    });
    let (rw, ro) = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("opening a FIFO as the ledger returned");
    check(rw.expect("refused"), "it is a FIFO (named pipe)");
    check(ro.expect("refused"), "it is a FIFO (named pipe)");
    let o = common::run(&fifo, &["account", "add", "Contoso"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("FIFO"));
    // Read only, so that nothing is ever made beside /dev/null.
    check(
        Ledger::open_read_only(Path::new("/dev/null")).unwrap_err(),
        "it is a character device",
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing beside the FIFO"
    );
}
