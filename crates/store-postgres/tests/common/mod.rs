//! Schemas and helpers shared by the PostgreSQL engine's tests.
#![allow(dead_code)]

use store::{Access, Connection, Migration, Schema};

const M1: Migration = Migration {
    version: 1,
    name: "0001_items.sql",
    sql: "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BYTEA, \
          score DOUBLE PRECISION, small INT2, mid INT4, flag BOOLEAN, label VARCHAR(20), \
          code CHAR(3), ratio REAL)",
};
const M2: Migration = Migration {
    version: 2,
    name: "0002_log.sql",
    sql: "CREATE TABLE log (n BIGINT NOT NULL);\n\
          CREATE FUNCTION no_negative() RETURNS trigger LANGUAGE plpgsql AS $$\n\
          BEGIN IF NEW.n < 0 THEN RAISE EXCEPTION 'negative: %', NEW.n; END IF; RETURN NEW; END $$;\n\
          CREATE TRIGGER log_no_negative BEFORE INSERT ON log FOR EACH ROW EXECUTE FUNCTION no_negative();",
};

/// Version 2: two migrations.
pub static SCHEMA: Schema = Schema {
    what: "test store",
    migrations: &[M1, M2],
    tables: &["items", "log"],
    application_id: None,
};

/// Version 1 of the same store.
pub static SCHEMA_V1: Schema = Schema {
    what: "test store",
    migrations: &[M1],
    tables: &["items"],
    application_id: None,
};

/// Version 3, whose migration fails halfway.
pub static SCHEMA_BROKEN: Schema = Schema {
    what: "test store",
    migrations: &[
        M1,
        M2,
        Migration {
            version: 3,
            name: "0003_broken.sql",
            sql: "CREATE TABLE extra (x INT); INSERT INTO no_such_table VALUES (1);",
        },
    ],
    tables: &["items", "log"],
    application_id: None,
};

/// Another store, same tables.
pub static OTHER_STORE: Schema = Schema {
    what: "other store",
    migrations: &[M1, M2],
    tables: &["items", "log"],
    application_id: None,
};

/// A fresh database, or `None` (the test then returns: no server outside CI).
pub fn fresh() -> Option<store_postgres::testing::TestDatabase> {
    store_postgres::testing::fresh_database()
}

/// Open `url` with [`SCHEMA`] to write.
pub fn open(url: &str) -> Box<dyn Connection> {
    store_postgres::open(url, &SCHEMA, Access::Write).expect("open")
}

/// How many rows `table` has.
pub fn count<T: store::Tx + ?Sized>(c: &T, table: &str) -> i64 {
    use store::TxExt;
    c.query_row(
        &format!("SELECT count(*) FROM {table}"),
        store::params![],
        |r| r.get(0),
    )
    .expect("count")
}
