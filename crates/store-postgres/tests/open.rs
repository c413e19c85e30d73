//! Opening stores: migrations, foreign databases, schema versions, connection failures.
//! Run against the server I3LIC_TEST_POSTGRES names (./test.sh starts one).

mod common;

use common::{count, fresh, open, OTHER_STORE, SCHEMA, SCHEMA_BROKEN, SCHEMA_V1};
use store::{Access, ErrorKind, TxExt};

fn admin(url: &str) -> postgres::Client {
    // The admin connections use the test server as is: trust authentication, no TLS.
    url.parse::<postgres::Config>()
        .expect("url")
        .connect(postgres::NoTls)
        .expect("connect")
}

#[test]
fn write_on_an_empty_database_applies_every_migration_once() {
    let Some(db) = fresh() else { return };
    let c = open(&db.url);
    assert_eq!(c.schema_version().expect("version"), 2);
    assert_eq!(count(&*c, "items"), 0);
    assert_eq!(count(&*c, "log"), 0);
    c.execute("INSERT INTO log (n) VALUES (?1)", [5_i64])
        .expect("insert");
    let changes = c.change_counter().expect("counter");
    drop(c);
    let c = open(&db.url);
    assert_eq!(c.schema_version().expect("version"), 2);
    assert_eq!(count(&*c, "log"), 1, "the second open kept the data");
    assert_eq!(
        c.change_counter().expect("counter"),
        changes,
        "the second open changed nothing"
    );
    let store: String = c
        .query_row("SELECT store FROM i3lic_store", store::params![], |r| {
            r.get(0)
        })
        .expect("bookkeeping");
    assert_eq!(store, "test store");
}

#[test]
fn an_older_store_gets_the_later_migrations() {
    let Some(db) = fresh() else { return };
    let c = store_postgres::open(&db.url, &SCHEMA_V1, Access::Write).expect("open v1");
    assert_eq!(c.schema_version().expect("version"), 1);
    assert!(
        c.execute("INSERT INTO log (n) VALUES (1)", store::params![])
            .is_err(),
        "no log table in v1"
    );
    let before = c.change_counter().expect("counter");
    drop(c);
    // An older store opens to read, as it is.
    let r = store_postgres::open(&db.url, &SCHEMA, Access::Read).expect("read v1 with v2");
    assert_eq!(r.schema_version().expect("version"), 1);
    drop(r);
    let c = open(&db.url);
    assert_eq!(c.schema_version().expect("version"), 2);
    assert_eq!(count(&*c, "log"), 0);
    assert_ne!(c.change_counter().expect("counter"), before);
}

#[test]
fn a_failing_migration_is_foreign_and_keeps_nothing() {
    let Some(db) = fresh() else { return };
    drop(open(&db.url));
    let e = store_postgres::open(&db.url, &SCHEMA_BROKEN, Access::Write)
        .err()
        .expect("fails");
    assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
    assert!(
        e.message().contains("0003_broken.sql") && e.message().contains("version 3"),
        "{e}"
    );
    let c = open(&db.url);
    assert_eq!(c.schema_version().expect("version"), 2);
    let extra: i64 = c
        .query_row(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'extra'",
            store::params![],
            |r| r.get(0),
        )
        .expect("catalog");
    assert_eq!(
        extra, 0,
        "the first statement of the failed migration was rolled back"
    );
}

#[test]
fn another_programs_database_is_foreign_and_left_unchanged() {
    let Some(db) = fresh() else { return };
    let mut a = admin(&db.url);
    a.batch_execute("CREATE TABLE orders (id INT); INSERT INTO orders VALUES (7)")
        .expect("setup");
    for access in [Access::Write, Access::Read] {
        let e = store_postgres::open(&db.url, &SCHEMA, access)
            .err()
            .expect("refused");
        assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
        assert!(e.message().contains("not an i3lic test store"), "{e}");
    }
    let tables: i64 = a
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .expect("catalog")
        .get(0);
    assert_eq!(tables, 1, "nothing was created");
    let n: i32 = a
        .query_one("SELECT id FROM orders", &[])
        .expect("row")
        .get(0);
    assert_eq!(n, 7);
}

#[test]
fn a_store_of_another_kind_is_foreign() {
    let Some(db) = fresh() else { return };
    drop(store_postgres::open(&db.url, &OTHER_STORE, Access::Write).expect("other store"));
    let e = store_postgres::open(&db.url, &SCHEMA, Access::Write)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
    assert!(e.message().contains("other store"), "{e}");
}

#[test]
fn a_store_that_lost_a_table_is_foreign() {
    let Some(db) = fresh() else { return };
    drop(open(&db.url));
    admin(&db.url)
        .batch_execute("DROP TABLE log")
        .expect("drop");
    let e = store_postgres::open(&db.url, &SCHEMA, Access::Write)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
    assert!(e.message().contains("log"), "{e}");
}

#[test]
fn a_newer_schema_is_foreign() {
    let Some(db) = fresh() else { return };
    drop(open(&db.url));
    for access in [Access::Write, Access::Read] {
        let e = store_postgres::open(&db.url, &SCHEMA_V1, access)
            .err()
            .expect("refused");
        assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
        assert!(
            e.message()
                .contains("schema version 2; this build reads version 1"),
            "{e}"
        );
    }
}

#[test]
fn read_on_an_empty_database_is_foreign_and_creates_nothing() {
    let Some(db) = fresh() else { return };
    let e = store_postgres::open(&db.url, &SCHEMA, Access::Read)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Foreign, "{e}");
    assert!(
        e.message()
            .contains("an empty database: no test store has been created in it yet"),
        "{e}"
    );
    let tables: i64 = admin(&db.url)
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .expect("catalog")
        .get(0);
    assert_eq!(tables, 0);
}

#[test]
fn a_store_opened_to_read_refuses_to_write() {
    let Some(db) = fresh() else { return };
    drop(open(&db.url));
    let mut r = store_postgres::open(&db.url, &SCHEMA, Access::Read).expect("read");
    assert_eq!(r.engine(), store::Engine::Postgres);
    let e = r.begin_write().err().expect("refused");
    assert!(e.message().contains("read only"), "{e}");
}

#[test]
fn a_missing_database_is_io_naming_it() {
    let Some(db) = fresh() else { return };
    let url = format!("{}_missing", db.url);
    let e = store_postgres::open(&url, &SCHEMA, Access::Write)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("_missing\" does not exist"), "{e}");
}

#[test]
fn a_wrong_password_is_io_and_never_shown() {
    let Some(db) = fresh() else { return };
    let mut a = admin(&db.url);
    // The test cluster checks this role's password (scram); every other role is trusted.
    let _ = a.batch_execute("CREATE ROLE i3lic_password_test LOGIN");
    a.batch_execute("ALTER ROLE i3lic_password_test PASSWORD 'Right-Passw0rd'")
        .expect("role");
    let hba: i64 = a
        .query_one(
            "SELECT count(*) FROM pg_hba_file_rules WHERE 'i3lic_password_test' = ANY(user_name) \
             AND auth_method = 'scram-sha-256'",
            &[],
        )
        .expect("hba")
        .get(0);
    assert_eq!(
        hba, 1,
        "the test server must check i3lic_password_test's password (see scripts/postgres-test.sh)"
    );
    let config: postgres::Config = db.url.parse().expect("url");
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("the test server is reached over TCP, not {other:?}"),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let secret = "Wr0ng-Secret-42";
    let url =
        format!("postgres://i3lic_password_test:{secret}@{host}:{port}/postgres?sslmode=disable");
    let e = store_postgres::open(&url, &SCHEMA, Access::Read)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("wrong user or password"), "{e}");
    assert!(!e.message().contains(secret), "{e}");
    assert!(!format!("{e:?}").contains(secret), "{e:?}");
}

#[test]
fn an_unreachable_server_is_io_and_never_shows_the_password() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let secret = "Unseen-Secret-99";
    let url = format!("postgres://someone:{secret}@127.0.0.1:{port}/db?sslmode=disable");
    let e = store_postgres::open(&url, &SCHEMA, Access::Write)
        .err()
        .expect("refused");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.message().contains(secret), "{e}");
    assert!(!store_postgres::redact(&url).contains(secret));
}
