//! Opening a store: a new database gets the whole schema, an older one its later migrations,
//! both in one transaction under the writer lock; anything else is refused unchanged.

use store::{Access, Connection, Error, ErrorKind, OptionalExt, Result, Schema, Tx, TxExt};

use crate::conn::PgConnection;

/// The engine's bookkeeping table, made with the first migration.
const BOOKKEEPING: &str = "CREATE TABLE i3lic_store (\
    id INT PRIMARY KEY CHECK (id = 1), \
    store TEXT NOT NULL, \
    schema_version BIGINT NOT NULL, \
    changes BIGINT NOT NULL)";

fn foreign(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Foreign, message)
}

/// What the database holds in its current schema.
enum Found {
    Empty,
    NotOurs(String),
    Store { version: i64 },
}

fn look(conn: &PgConnection, schema: &Schema) -> Result<Found> {
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        store::params![],
        |r| r.get(0),
    )?;
    if tables == 0 {
        return Ok(Found::Empty);
    }
    let has_ours: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pg_catalog.pg_tables \
         WHERE schemaname = current_schema() AND tablename = 'i3lic_store'",
        store::params![],
        |r| r.get(0),
    )?;
    if !has_ours {
        let tables = match tables {
            1 => "its one table is not i3lic_store".to_owned(),
            n => format!("{n} tables, none of them i3lic_store"),
        };
        return Ok(Found::NotOurs(tables));
    }
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT store, schema_version FROM i3lic_store WHERE id = 1",
            store::params![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(Found::NotOurs("its i3lic_store table is empty".to_owned())),
        Some((store, _)) if store != schema.what => {
            Ok(Found::NotOurs(format!("it holds an i3lic {store}")))
        }
        Some((_, version)) => Ok(Found::Store { version }),
    }
}

fn not_ours(conn: &PgConnection, schema: &Schema, why: &str) -> Error {
    foreign(format!(
        "{} is a PostgreSQL database that is not an i3lic {} ({why})",
        conn.reconnect.settings.target.server_and_database(),
        schema.what
    ))
}

fn newer(version: i64, schema: &Schema) -> Error {
    foreign(format!(
        "the {} has schema version {version}; this build reads version {}: a newer release of \
         i3lic made it, and only such a release can use it",
        schema.what,
        schema.version()
    ))
}

/// Check the store in `conn` and, for [`Access::Write`], create or migrate it.
pub(crate) fn prepare(conn: &PgConnection, schema: &Schema, access: Access) -> Result<()> {
    match access {
        Access::Read => {
            conn.begin_read()?;
            let found = look(conn, schema);
            conn.end_read();
            match found? {
                Found::Empty => Err(foreign(format!(
                    "{} is an empty database: no {} has been created in it yet",
                    conn.reconnect.settings.target.server_and_database(),
                    schema.what
                ))),
                Found::NotOurs(why) => Err(not_ours(conn, schema, &why)),
                Found::Store { version } if version > schema.version() => {
                    Err(newer(version, schema))
                }
                Found::Store { .. } => Ok(()),
            }
        }
        Access::Write => {
            conn.lock_for_write()?;
            let r = write(conn, schema);
            match r {
                Ok(()) => conn.batch("COMMIT", "committing the schema"),
                Err(e) => {
                    conn.rollback();
                    Err(e)
                }
            }
        }
    }
}

fn write(conn: &PgConnection, schema: &Schema) -> Result<()> {
    let from = match look(conn, schema)? {
        Found::Empty => None,
        Found::NotOurs(why) => return Err(not_ours(conn, schema, &why)),
        Found::Store { version } if version > schema.version() => {
            return Err(newer(version, schema))
        }
        Found::Store { version } => Some(version),
    };
    let mut applied = 0;
    for m in schema
        .migrations
        .iter()
        .filter(|m| from.is_none_or(|v| m.version > v))
    {
        conn.run_batch(m.sql).map_err(|e| {
            foreign(format!(
                "migration {} (schema version {}) failed, nothing was changed: {}",
                m.name,
                m.version,
                e.message()
            ))
        })?;
        applied += 1;
    }
    match from {
        None => {
            conn.run_batch(BOOKKEEPING)?;
            conn.execute(
                "INSERT INTO i3lic_store (id, store, schema_version, changes) VALUES (1, ?1, ?2, 1)",
                store::params![schema.what, schema.version()],
            )?;
        }
        Some(_) if applied > 0 => {
            conn.execute(
                "UPDATE i3lic_store SET schema_version = ?1, changes = changes + 1 WHERE id = 1",
                [schema.version()],
            )?;
        }
        Some(_) => {}
    }
    for table in schema.tables {
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1",
            [*table],
            |r| r.get(0),
        )?;
        if !exists {
            return Err(not_ours(conn, schema, &format!("it has no table {table}")));
        }
    }
    Ok(())
}
