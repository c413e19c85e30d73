//! A PostgreSQL ledger that cannot be used, through the `issuer` binary against the test
//! server: each case is one error that names the ledger without its password, with its own
//! exit code (4: the server, the network or the credentials; 3: not a ledger this release
//! reads), never a panic; and nothing is changed.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use store_postgres::testing::{fresh_database, test_server};

/// The password put in every URL here: it must never be printed.
const SECRET: &str = "hunter2-not-shown";

/// The test server's URL with its user, password and database replaced.
fn url_as(server: &str, user: &str, database: &str) -> String {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("postgres://{user}:{SECRET}@{host}/{database}")
}

/// `url` as messages show it.
fn shown(url: &str) -> String {
    url.replace(SECRET, "***")
}

/// A plain client of the test database at `url` (trusted: its password is not checked).
fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connect to the test database")
}

/// Run `issuer --db url args`; insist on exit `code`, a message naming the ledger without its
/// password and holding each of `says`; returns standard error.
#[track_caller]
fn refused(url: &str, args: &[&str], code: i32, says: &[&str]) -> String {
    let o = run(Path::new(url), args);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(code), "issuer {args:?}: {err}");
    assert!(!err.contains(SECRET) && !out.contains(SECRET), "{out}{err}");
    assert!(err.contains(&shown(url)), "names the ledger: {err}");
    for s in says {
        assert!(err.contains(s), "says {s:?}: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    eprintln!("{}", err.trim_end());
    err.into_owned()
}

#[test]
fn a_server_that_does_not_answer_is_exit_4() {
    // Port 1 of the loopback address: nothing listens there; no test server is needed.
    let url = format!("postgres://i3lic:{SECRET}@127.0.0.1:1/ledger");
    refused(
        &url,
        &["account", "list"],
        4,
        &["reading the ledger", "cannot reach"],
    );
    refused(
        &url,
        &["account", "add", "X"],
        4,
        &["opening the ledger", "cannot reach"],
    );
}

#[test]
fn a_wrong_password_is_exit_4() {
    let Some(server) = test_server() else { return };
    // scripts/postgres-test.sh makes this role, alone, need a password.
    let url = url_as(&server, "i3lic_password_test", "postgres");
    refused(&url, &["account", "list"], 4, &["wrong user or password"]);
    refused(
        &url,
        &["account", "add", "X"],
        4,
        &["wrong user or password"],
    );
}

#[test]
fn a_database_that_does_not_exist_is_exit_4_and_not_created() {
    let Some(server) = test_server() else { return };
    let url = url_as(&server, "postgres", "i3lic_no_such_database");
    refused(&url, &["account", "list"], 4, &["does not exist"]);
    refused(&url, &["account", "add", "X"], 4, &["does not exist"]);
    let n: i64 = client(&server)
        .query_one(
            "SELECT COUNT(*) FROM pg_database WHERE datname = 'i3lic_no_such_database'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[test]
fn another_programs_database_is_exit_3_and_left_unchanged() {
    let Some(db) = fresh_database() else { return };
    let mut c = client(&db.url);
    c.batch_execute(
        "CREATE TABLE inventory (sku TEXT PRIMARY KEY, quantity INTEGER NOT NULL);
         INSERT INTO inventory VALUES ('A-1', 7);",
    )
    .unwrap();
    let url = url_as(&db.url, "postgres", db.url.rsplit('/').next().unwrap());
    refused(&url, &["account", "list"], 3, &[]);
    refused(&url, &["account", "add", "X"], 3, &[]);
    refused(&url, &["ledger", "copy", "x.db"], 3, &[]);
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["inventory"]);
    let q: i32 = c
        .query_one("SELECT quantity FROM inventory WHERE sku = 'A-1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(q, 7);
}

#[test]
fn a_schema_newer_than_this_release_is_exit_3_and_left_unchanged() {
    let Some(db) = fresh_database() else { return };
    let url = url_as(&db.url, "postgres", db.url.rsplit('/').next().unwrap());
    ok(Path::new(&url), &["account", "add", "Contoso"]);
    let mut c = client(&db.url);
    c.batch_execute("UPDATE i3lic_store SET schema_version = schema_version + 1")
        .unwrap();
    let before: (i64, i64) = {
        let r = c
            .query_one("SELECT schema_version, changes FROM i3lic_store", &[])
            .unwrap();
        (r.get(0), r.get(1))
    };
    refused(
        &url,
        &["account", "list"],
        3,
        &["schema version", "newer release"],
    );
    refused(
        &url,
        &["account", "add", "Fabrikam"],
        3,
        &["schema version", "newer release"],
    );
    let r = c
        .query_one("SELECT schema_version, changes FROM i3lic_store", &[])
        .unwrap();
    assert_eq!((r.get(0), r.get(1)), before);
    let n: i64 = c
        .query_one("SELECT COUNT(*) FROM accounts", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

/// Wait (up to a minute) until a backend of `database` waits on a lock for a statement that
/// starts with `statement`; its process id.
fn backend_waiting(c: &mut postgres::Client, database: &str, statement: &str) -> i32 {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = c
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE $2",
                &[&database, &format!("{statement}%")],
            )
            .unwrap();
        if let Some(r) = rows.first() {
            return r.get(0);
        }
        assert!(Instant::now() < until, "no backend waits for {statement}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `issuer issue` whose connection is terminated in the middle of its write transaction (all
/// its rows written, its commit waiting): exit 4 saying the connection was lost, no file, and
/// nothing of it in the ledger: usage adds up and the audit chain verifies.
#[test]
fn a_connection_lost_in_the_middle_of_a_change_is_exit_4_and_keeps_nothing() {
    let Some(db) = fresh_database() else { return };
    let dir = tempfile::tempdir().unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let url = url_as(&db.url, "postgres", &name);
    let at = Path::new(&url);
    cli_ledger_at(at, &[(SL03, 5), (AL02, 20)], Units::Perpetual);
    let key = unencrypted_key(dir.path());
    let out = dir.path().join("f.i3lic");
    let h = host(3);
    let flags = IssueFlags {
        license_type: "production",
        host_id: &h,
        machine: "m1",
        server_part: SL03,
        add: Some("SW-001-4.0-AL02=4"),
        key: key.to_str().unwrap(),
        out: out.to_str().unwrap(),
    };
    // Every commit updates the engine's bookkeeping row: holding that row stops the issue
    // after its statements ran, just before it commits.
    let mut holder = client(&db.url);
    let mut hold = holder.transaction().unwrap();
    hold.query("SELECT changes FROM i3lic_store FOR UPDATE", &[])
        .unwrap();
    let child = tester(at)
        .args(flags.args())
        .env_remove(issuer::keys::PASSPHRASE_ENV)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut admin = client(&db.url);
    let pid = backend_waiting(&mut admin, &name, "UPDATE i3lic_store");
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    let o = child.wait_with_output().unwrap();
    hold.rollback().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("{}", err.trim_end());
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("connection") && err.contains("lost"), "{err}");
    assert!(!err.contains(SECRET) && !err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no file for a change that was not kept");
    // Nothing of it remains.
    let activity = ok(at, &["activity", "--account", "Contoso", "--json"]);
    assert_eq!(activity.trim(), "[]");
    let al02 = summary_json(at);
    assert_eq!(summary_part(&al02, AL02)["used"].as_u64(), Some(0));
    ok(at, &["audit", "verify"]);
    let l = open_db(at);
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    // The same issue goes through once nothing holds it.
    ok(at, &flags.args());
    assert_eq!(
        summary_part(&summary_json(at), AL02)["used"].as_u64(),
        Some(4)
    );
}

/// An open ledger whose backend is terminated between two changes: the next change fails as
/// I/O (exit 4) saying the connection was lost; the ledger holds the first change only.
#[test]
fn a_ledger_whose_connection_was_terminated_fails_its_next_change_as_io() {
    let Some(db) = fresh_database() else { return };
    let at = issuer::location::LedgerLocation::parse(db.url.as_ref()).unwrap();
    let mut l = issuer::Ledger::open_at(&at).unwrap();
    l.add_account("Contoso", "t").unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let n: i64 = client(&db.url)
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "the ledger's one connection");
    let e = l.add_account("Fabrikam", "t").unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.exit_code(), 4, "{e}");
    assert!(
        e.to_string().contains("connection") && e.to_string().contains("lost"),
        "{e}"
    );
    drop(l);
    let l = issuer::Ledger::open_at(&at).unwrap();
    let names: Vec<String> = l
        .account_refs()
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Contoso"]);
    assert!(l.verify_audit(None).unwrap().intact());
}
