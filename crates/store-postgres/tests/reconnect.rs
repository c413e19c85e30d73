//! A lost connection is made again: the statement or transaction that met the loss fails
//! (what it had not committed is gone), and the next one on the same connection runs on a
//! new one, also after the server refused connections for a while.

mod common;

use std::time::{Duration, Instant};

use common::{count, fresh, open};
use store::{Connection, ErrorKind, TxExt};

/// The name of the database at `url`.
fn database(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap_or_default();
    path.split('?').next().unwrap_or_default().to_owned()
}

/// Ends every other connection to `db` (as an administrator, a restart or a failover would).
fn terminate(admin: &dyn Connection, db: &str) {
    admin
        .query_row(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?1 AND pid <> pg_backend_pid()",
            [db],
            |r| r.get::<i64>(0),
        )
        .expect("terminate");
}

#[test]
fn a_lost_connection_is_made_again_at_the_next_transaction() {
    let Some(db) = fresh() else { return };
    let mut c = open(&db.url);
    let admin = open(&db.url);
    let name = database(&db.url);
    let tx = c.begin_write().expect("begin");
    tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
        .expect("insert");
    terminate(&*admin, &name);
    let e = tx
        .execute("INSERT INTO log (n) VALUES (2)", store::params![])
        .expect_err("lost inside the transaction");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    drop(tx);
    // The next transaction runs on a new connection; the lost one left nothing.
    let tx = c.begin_write().expect("begin again");
    tx.execute("INSERT INTO log (n) VALUES (3)", store::params![])
        .expect("insert again");
    tx.commit().expect("commit");
    let ns: Vec<i64> = c
        .query_map("SELECT n FROM log ORDER BY n", store::params![], |r| {
            r.get(0)
        })
        .expect("read");
    assert_eq!(ns, [3]);
    // Outside a transaction: the statement that meets the loss fails, the next runs (its
    // statement prepared again on the new connection).
    terminate(&*admin, &name);
    let e = c
        .query_map("SELECT n FROM log ORDER BY n", store::params![], |r| {
            r.get::<i64>(0)
        })
        .expect_err("lost");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert_eq!(count(&*c, "log"), 1);
    c.begin_read().expect("snapshot");
    assert!(c.change_counter().is_ok());
    c.end_read();
}

#[test]
fn while_the_server_refuses_connections_statements_fail_as_io_then_work_again() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    // The database is told to refuse connections from the server's own.
    let server = store_postgres::testing::test_server().expect("a test server");
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("admin");
    let name = database(&db.url);
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .expect("refuse connections");
    for _ in 0..3 {
        let e = c
            .query_row("SELECT 1", store::params![], |r| r.get::<i64>(0))
            .expect_err("no connection");
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(!e.message().contains("panic"), "{e}");
    }
    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .expect("allow connections");
    // The next attempt after the pause connects.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match c.query_row("SELECT 1", store::params![], |r| r.get::<i64>(0)) {
            Ok(n) => {
                assert_eq!(n, 1);
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Io, "{e}");
                assert!(Instant::now() < deadline, "never connected again: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A URL naming several hosts connects to the first that takes connections and, with
/// `target_session_attrs=read-write`, writes (the primary after a failover); the store
/// follows it on reconnection too.
#[test]
fn several_hosts_are_tried_in_order_for_a_read_write_session() {
    let Some(db) = fresh() else { return };
    // The hosts are between the user (or the scheme) and the database.
    let start = db
        .url
        .find('@')
        .map_or_else(|| db.url.find("://").unwrap() + 3, |i| i + 1);
    let end = start + db.url[start..].find('/').unwrap();
    let host = &db.url[start..end];
    // Nothing listens on port 1: refused at once, the next host is tried.
    let url = format!(
        "{}127.0.0.1:1,{host}{}?target_session_attrs=read-write",
        &db.url[..start],
        &db.url[end..]
    );
    let mut c = open(&url);
    let tx = c.begin_write().expect("begin");
    tx.execute("INSERT INTO log (n) VALUES (1)", store::params![])
        .expect("insert");
    tx.commit().expect("commit");
    terminate(&*open(&db.url), &database(&db.url));
    assert!(count_or_io(&*c).is_err());
    assert_eq!(count(&*c, "log"), 1);
}

/// The rows of `log`, or the error of a lost connection.
fn count_or_io(c: &dyn Connection) -> Result<i64, store::Error> {
    c.query_row("SELECT count(*) FROM log", store::params![], |r| r.get(0))
        .inspect_err(|e| assert_eq!(e.kind(), ErrorKind::Io, "{e}"))
}
