//! `issuer ledger copy`: a whole ledger into an empty one, every record as it was; a
//! non-empty target, the source itself and a failed copy leave nothing changed.

mod common;

use std::path::{Path, PathBuf};
use store::TxExt;

use common::*;
use issuer::ledger::copy::{copy, Record};
use issuer::{Attachment, Ledger, NewRequest, Role};

/// A ledger with every kind of row: sites with details, issued, updated, deactivated and
/// upgraded lines and files, a portal user with accounts, a token (one revoked), a new
/// password (sessions epoch), and a closed request with attachments.
fn full_ledger(dir: &Path) -> (PathBuf, Vec<String>) {
    let key = unencrypted_key(dir);
    let k = key.to_str().unwrap();
    let db = cli_ledger(
        dir,
        &[
            (SL03, 2),
            (AL02, 50),
            ("SW-001-3.0-AL04", 9),
            // The switchover host added below needs a switchover item available.
            ("SW-001-4.0-SS03", 1),
        ],
        Units::Perpetual,
    );
    ok(
        &db,
        &[
            "site",
            "add",
            "--account",
            "Contoso",
            "--name",
            "Branch",
            "--address",
            "1 Main St",
            "--city",
            "Springfield",
            "--country",
            "US",
        ],
    );
    let mut ids = Vec::new();
    let (h1, h2, h3) = (host(1), host(2), host(3));
    let out = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let add = format!("{AL02}=20");
    let o1 = out("1.i3lic");
    let id = ok(
        &db,
        &IssueFlags {
            license_type: "production",
            host_id: &h1,
            machine: "ic1",
            server_part: SL03,
            add: Some(&add),
            key: k,
            out: &o1,
        }
        .args(),
    );
    ids.push(id.trim().to_string());
    let o2 = out("2.i3lic");
    let new = ok(
        &db,
        &[
            "update",
            id.trim(),
            "--switchover-host-id",
            &h2,
            "--switchover-machine",
            "ic2",
            "--key",
            k,
            "--out",
            &o2,
        ],
    );
    ids.push(new.trim().to_string());
    let o3 = out("3.i3lic");
    let other = ok(
        &db,
        &IssueFlags {
            license_type: "production",
            host_id: &h3,
            machine: "ic3",
            server_part: SL03,
            add: None,
            key: k,
            out: &o3,
        }
        .args(),
    );
    ids.push(other.trim().to_string());
    ok(&db, &["deactivate", other.trim()]);
    ok(
        &db,
        &[
            "upgrade",
            "--account",
            "Contoso",
            "--from",
            "3.0",
            "--to",
            "4.0",
            "--part",
            "SW-001-3.0-AL04",
        ],
    );
    let mut l = Ledger::open(&db).unwrap();
    l.add_portal_user(
        "Ann@Contoso.example",
        Role::Customer,
        true,
        &["Contoso".to_string()],
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "test",
    )
    .unwrap();
    l.set_portal_password("ann@contoso.example", "$argon2id$new", "test")
        .unwrap();
    let t = l
        .add_portal_token("ann@contoso.example", &[7; 32], "ci", "test")
        .unwrap();
    l.add_portal_token("ann@contoso.example", &[8; 32], "laptop", "test")
        .unwrap();
    l.revoke_portal_token(t, "test").unwrap();
    let n = l
        .add_request(
            &NewRequest {
                account: "Contoso".into(),
                request_type: "Question".into(),
                subject: "Two attachments".into(),
                date_needed: "2099-12-24".into(),
                ..Default::default()
            },
            &[
                Attachment {
                    name: "shot.png".into(),
                    content_type: "image/png".into(),
                    bytes: (0..=255u8).chain([0, 0xff]).collect(),
                },
                Attachment {
                    name: "notes.txt".into(),
                    content_type: "text/plain".into(),
                    bytes: b"line\r\n".to_vec(),
                },
            ],
            "ann@contoso.example",
        )
        .unwrap();
    l.close_request(&n, "Done.", "staff").unwrap();
    l.add_request(
        &NewRequest {
            account: "Contoso".into(),
            request_type: "Question".into(),
            subject: "Still open".into(),
            date_needed: "2099-12-31".into(),
            ..Default::default()
        },
        &[],
        "ann@contoso.example",
    )
    .unwrap();
    (db, ids)
}

/// Everything a reader sees of a ledger, through the CLI and the library.
fn view(db: &Path, ids: &[String]) -> Vec<String> {
    let mut v = vec![
        ok(db, &["activity", "--active", "all", "--json"]),
        ok(db, &["summary", "--account", "Contoso", "--json"]),
        ok(db, &["audit", "verify", "--json"]),
        ok(db, &["audit", "head"]),
        ok(db, &["audit", "log", "--json"]),
        ok(db, &["site", "list", "--account", "Contoso", "--json"]),
        ok(db, &["order", "list", "--account", "Contoso", "--json"]),
    ];
    for id in ids {
        v.push(ok(db, &["show", id, "--json"]));
    }
    let at = issuer::location::LedgerLocation::parse(db.as_os_str()).unwrap();
    let l = Ledger::open_read_only_at(&at).unwrap();
    v.push(format!("{:?}", l.portal_users().unwrap()));
    v.push(format!("{:?}", l.portal_token_user(&[8; 32]).unwrap()));
    v.push(format!("{:?}", l.portal_token_user(&[7; 32]).unwrap()));
    let requests = l.requests(None).unwrap();
    v.push(format!("{requests:?}"));
    for r in &requests {
        for p in 1..=r.attachments.len() as i64 {
            v.push(format!("{:?}", l.request_attachment(&r.number, p).unwrap()));
        }
    }
    let login = l.portal_user_login("ann@contoso.example").unwrap();
    v.push(format!("{login:?}"));
    v
}

fn download(db: &Path, id: &str) -> Vec<u8> {
    let o = run(db, &["download", id, "--out", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn a_copy_reads_as_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let (src, ids) = full_ledger(dir.path());
    let dst = dir.path().join("new/copy.db");
    let o = run(&src, &["ledger", "copy", dst.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.starts_with("copied 3 files"), "{said}");
    // Not a terminal: plain progress lines, ending at 100%.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.lines().count() <= 11, "{err}");
    assert!(err.contains("copied 100%: 3/3 files"), "{err}");
    assert_eq!(mode(&dst), 0o600);
    for id in &ids {
        assert_eq!(download(&src, id), download(&dst, id), "file {id}");
    }
    assert_eq!(view(&src, &ids), view(&dst, &ids));
    // The copy is a working ledger: it takes new changes, and its chain goes on.
    ok(&dst, &["account", "add", "Fabrikam"]);
    ok(&dst, &["audit", "verify"]);
}

/// SQLite into PostgreSQL and back into SQLite through `issuer ledger copy`: all three read
/// the same, file for file and view for view; the PostgreSQL copy refuses a second copy into
/// it (exit 20, left as it was) and takes new records after the copied ones.
#[test]
fn a_ledger_copied_into_postgres_and_back_reads_as_its_source() {
    let Some(pg) = store_postgres::testing::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (src, ids) = full_ledger(dir.path());
    let url = Path::new(&pg.url);
    let o = run(&src, &["ledger", "copy", &pg.url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("copied 100%: 3/3 files"), "{err}");
    let back = dir.path().join("back.db");
    let o = run(url, &["ledger", "copy", back.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("copied 100%: 3/3 files"), "{err}");
    for id in &ids {
        let bytes = download(&src, id);
        assert_eq!(bytes, download(url, id), "file {id} on PostgreSQL");
        assert_eq!(bytes, download(&back, id), "file {id} copied back");
    }
    let source = view(&src, &ids);
    for (copy, what) in [
        (view(url, &ids), "on PostgreSQL"),
        (view(&back, &ids), "copied back"),
    ] {
        assert_eq!(copy.len(), source.len());
        for (i, (a, b)) in source.iter().zip(&copy).enumerate() {
            assert_eq!(a, b, "view {i}, {what}");
        }
    }
    // A PostgreSQL target holding anything is refused and left as it was.
    let before = (
        ok(url, &["audit", "head"]),
        ok(url, &["activity", "--active", "all", "--json"]),
    );
    let o = run(&back, &["ledger", "copy", &pg.url]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(20), "{err}");
    assert!(err.contains("not empty"), "{err}");
    let after = (
        ok(url, &["audit", "head"]),
        ok(url, &["activity", "--active", "all", "--json"]),
    );
    assert_eq!(before, after);
    // New records take ids after the copied ones.
    ok(url, &["account", "add", "Fabrikam"]);
    ok(
        url,
        &["site", "add", "--account", "Fabrikam", "--name", "Main"],
    );
    cli_order(url, SL03, 2, Units::Perpetual);
    let key = unencrypted_key(dir.path());
    let (h, out) = (host(9), dir.path().join("new.i3lic"));
    let flags = IssueFlags {
        license_type: "production",
        host_id: &h,
        machine: "new",
        server_part: SL03,
        add: None,
        key: key.to_str().unwrap(),
        out: out.to_str().unwrap(),
    };
    let id = ok(url, &flags.args()).trim().to_string();
    assert_eq!(download(url, &id), std::fs::read(&out).unwrap());
    ok(url, &["audit", "verify"]);
    assert_eq!(
        open_db(url).verify_usage().unwrap(),
        vec![],
        "usage adds up after the copy and the new file"
    );
}

#[test]
fn quiet_and_json_print_no_progress() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    let dst = dir.path().join("copy.db");
    let o = run(
        &src,
        &["ledger", "copy", dst.to_str().unwrap(), "--quiet", "--json"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["files"], 0);
    assert!(j["records"].as_u64().unwrap() >= 4, "{j}");
}

/// The SHA-256 of each file of a ledger (it, and any -wal, -shm file beside it).
fn bytes_of(db: &Path) -> Vec<(PathBuf, String)> {
    use sha2::Digest;
    ledger_files(db)
        .into_iter()
        .map(|p| {
            let h = sha2::Sha256::digest(std::fs::read(&p).unwrap());
            let hex = h.iter().map(|b| format!("{b:02x}")).collect();
            (p, hex)
        })
        .collect()
}

#[test]
fn a_target_holding_anything_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    // A target with one account only; then one with a portal user only.
    let dst = other.join("one-account.db");
    ok(&dst, &["account", "add", "Fabrikam"]);
    let mut l = Ledger::open(&other.join("one-user.db")).unwrap();
    l.add_portal_user("s@v.example", Role::Staff, false, &[], "$h", "t")
        .unwrap();
    drop(l);
    for dst in [dst, other.join("one-user.db")] {
        let before = bytes_of(&dst);
        let o = run(&src, &["ledger", "copy", dst.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(20),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("not empty") && err.contains(dst.to_str().unwrap()),
            "{err}"
        );
        assert_eq!(bytes_of(&dst), before, "{}", dst.display());
    }
    // An empty ledger (schema only) is a fine target.
    let empty = other.join("empty.db");
    drop(Ledger::open(&empty).unwrap());
    ok(&src, &["ledger", "copy", empty.to_str().unwrap()]);
    assert_eq!(summary_text(&src), summary_text(&empty));
}

#[test]
fn a_ledger_is_not_copied_into_itself() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    let before = summary_text(&src);
    let same = dir.path().join(".").join("ledger.db");
    let o = run(&src, &["ledger", "copy", same.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(20),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("into itself"));
    assert_eq!(summary_text(&src), before);
    ok(&src, &["audit", "verify"]);
}

/// A target URL of another scheme is a usage error (exit 2); a PostgreSQL target whose server
/// does not answer is exit 4 naming it without its password. Neither creates anything.
#[test]
fn an_other_url_target_is_a_usage_error_and_an_unreachable_postgres_one_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[], Units::Perpetual);
    for (url, code) in [
        ("mysql://u:secret@db.example/l", 2),
        ("http://u:secret@db.example/l", 2),
        ("postgres://u:secret@127.0.0.1:1/l", 4),
    ] {
        let o = run(&src, &["ledger", "copy", url]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{url}: {err}");
        assert!(err.contains("u:***@"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        assert!(!String::from_utf8_lossy(&o.stdout).contains("secret"));
    }
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with("ledger.db"))
        .collect();
    names.sort();
    assert!(names.is_empty(), "{names:?}");
}

/// The files a ledger at `db` would leave: it, its log, its shared memory.
fn ledger_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| {
            let mut p = db.as_os_str().to_os_string();
            p.push(s);
            PathBuf::from(p)
        })
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn a_copy_that_fails_midway_leaves_no_target() {
    let dir = tempfile::tempdir().unwrap();
    let (src, _) = full_ledger(dir.path());
    let source = Ledger::open_read_only(&src).unwrap();
    let dst = dir.path().join("copy.db");
    let total = source.record_counts().unwrap();
    assert!(total.records > 20 && total.files == 3, "{total:?}");
    // Stopped after half of the records (the files among them): no target is left.
    let e = copy(&source, &dst, &mut |p| {
        if p.records == total.records / 2 {
            return Err(issuer::IssuerError::MalformedRequest {
                reason: "simulated failure".into(),
            });
        }
        Ok(())
    })
    .unwrap_err();
    assert!(e.to_string().contains("simulated"), "{e}");
    assert_eq!(ledger_files(&dst), Vec::<PathBuf>::new());
    // The folders it made for a target are removed too.
    let deep = dir.path().join("a/b/copy.db");
    copy(&source, &deep, &mut |_| {
        Err(issuer::IssuerError::MalformedRequest {
            reason: "simulated failure".into(),
        })
    })
    .unwrap_err();
    assert!(!dir.path().join("a").exists());
    // An existing empty target stays an empty ledger.
    drop(Ledger::open(&dst).unwrap());
    copy(&source, &dst, &mut |p| {
        if p.files == 2 {
            return Err(issuer::IssuerError::MalformedRequest {
                reason: "simulated failure".into(),
            });
        }
        Ok(())
    })
    .unwrap_err();
    assert_eq!(
        Ledger::open(&dst).unwrap().record_counts().unwrap().records,
        0
    );
    // Every record went in, but they do not hold together (a site of no account): refused
    // at commit, nothing kept.
    let mut to = Ledger::open(&dst).unwrap();
    let e = to
        .receive_copy(|sink| {
            source.for_each_record(&mut |mut r| {
                if let Record::Site(s) = &mut r {
                    s.account_id = 99;
                }
                sink(r)
            })
        })
        .unwrap_err();
    assert_eq!(e.exit_code(), 1, "{e}");
    assert_eq!(
        to.record_counts().unwrap().records,
        0,
        "nothing half-written"
    );
    // And then the copy goes through.
    drop(to);
    let done = copy(&source, &dst, &mut |_| Ok(())).unwrap();
    assert_eq!(done.records, total.records);
    assert_eq!(done.total, total);
}

/// Run as a user file modes bind (`nobody` when the test runs as root): the source may only
/// be read, the target's folder not written. The copy is an I/O error naming the target
/// (exit 4), and nothing is left there.
#[cfg(unix)]
#[test]
fn a_target_folder_that_cannot_be_written_is_an_io_error_leaving_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut other) = as_other_user(dir.path(), &bin()) else {
        return;
    };
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    set_mode(&src, 0o644);
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    let dst = locked.join("copy.db");
    let o = other
        .arg("--db")
        .arg(&src)
        .args(["ledger", "copy", "--quiet"])
        .arg(&dst)
        .output()
        .unwrap();
    set_mode(&locked, 0o700);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("copy.db"), "{err}");
    assert_eq!(ledger_files(&dst), Vec::<PathBuf>::new());
}

/// A target another writer has open (its write-ahead log beside it) is checked inside the
/// copy's own transaction: refused, and what it holds stays as it was.
#[test]
fn a_target_in_use_is_checked_in_the_copy_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    let source = Ledger::open_read_only(&src).unwrap();
    let dst = dir.path().join("busy.db");
    let mut writer = Ledger::open(&dst).unwrap();
    writer.add_account("Fabrikam", "t").unwrap();
    let before = writer.record_counts().unwrap();
    let e = copy(&source, &dst, &mut |_| Ok(())).unwrap_err();
    assert_eq!(e.exit_code(), 20, "{e}");
    assert!(e.to_string().contains("not empty"), "{e}");
    assert_eq!(writer.record_counts().unwrap(), before);
    assert_eq!(writer.accounts().unwrap(), ["Fabrikam"]);
}

/// A non-empty target of an older schema is refused before anything opens it for writing:
/// it is not migrated, its bytes stay as they were.
#[test]
fn an_older_target_holding_records_is_refused_unmigrated() {
    let dir = tempfile::tempdir().unwrap();
    let src = cli_ledger(dir.path(), &[(SL03, 1)], Units::Perpetual);
    let dst = dir.path().join("old.db");
    let sql = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shipped/ledger-2.sql"),
    )
    .unwrap();
    let c = store_sqlite::open_raw(&dst).unwrap();
    c.execute_batch(&sql).unwrap();
    c.execute_batch("PRAGMA user_version = 2").unwrap();
    c.execute(
        "INSERT INTO accounts (name, created_at) VALUES ('Fabrikam', 0)",
        [],
    )
    .unwrap();
    drop(c);
    let before = bytes_of(&dst);
    let o = run(&src, &["ledger", "copy", dst.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(20), "{err}");
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(bytes_of(&dst), before);
}
