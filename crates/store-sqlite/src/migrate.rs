//! Identifying a store and bringing its schema up to date: `PRAGMA user_version` holds the
//! version of the last migration applied.

use rusqlite::{ErrorCode, TransactionBehavior};
use store::{Error, ErrorKind, Migration, Schema};

use crate::err;

/// A failure while a store is identified or migrated.
pub(crate) struct SetupError {
    pub(crate) error: Error,
    /// SQLite could not take its locks (read-only, cannot open the -shm file).
    pub(crate) locked_out: bool,
}

impl From<rusqlite::Error> for SetupError {
    fn from(e: rusqlite::Error) -> SetupError {
        let locked_out = matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)
        );
        let mut error = err(e);
        if matches!(error.kind(), ErrorKind::Io | ErrorKind::Other) && locked_out {
            error = Error::new(ErrorKind::Io, format!("permission denied: {error}"));
        }
        SetupError { error, locked_out }
    }
}

impl From<Error> for SetupError {
    fn from(error: Error) -> SetupError {
        SetupError {
            error,
            locked_out: false,
        }
    }
}

fn foreign(schema: &Schema, detail: &str) -> SetupError {
    Error::new(
        ErrorKind::Foreign,
        format!(
            "an SQLite database that is not an i3lic {}{detail}",
            schema.what
        ),
    )
    .into()
}

/// Whether the database is this store (or empty, to become one), read without writing, in
/// one read transaction: separate reads could see another process's creation of the schema
/// half done and take a store being created for another program's database.
pub(crate) fn identify(conn: &rusqlite::Connection, schema: &Schema) -> Result<(), SetupError> {
    conn.execute_batch("BEGIN DEFERRED")?;
    let verdict = identify_in(conn, schema);
    // Only read: ending it writes nothing.
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    verdict
}

fn identify_in(conn: &rusqlite::Connection, schema: &Schema) -> Result<(), SetupError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if let Some(id) = schema.application_id {
        let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let objects: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        let fresh = app == 0 && v == 0 && objects == 0;
        if !fresh && app != i64::from(id) {
            return Err(Error::new(
                ErrorKind::Foreign,
                format!(
                    "it is another program's SQLite database (its application id is not that of an i3lic {})",
                    schema.what
                ),
            )
            .into());
        }
        if v == 0 && objects != 0 {
            return Err(
                Error::new(ErrorKind::Foreign, "it holds tables but no schema version").into(),
            );
        }
    }
    check_version(conn, schema, v)
}

fn check_version(conn: &rusqlite::Connection, schema: &Schema, v: i64) -> Result<(), SetupError> {
    match v {
        0 => {
            let objects: i64 =
                conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if objects != 0 {
                return Err(foreign(schema, ""));
            }
            Ok(())
        }
        v if v > 0 && v <= schema.version() => require_tables(conn, schema),
        v => Err(Error::new(
            ErrorKind::Foreign,
            format!(
                "schema version {v}; this build reads version {}: a newer release of i3lic \
                 made it, and only such a release can use it",
                schema.version()
            ),
        )
        .into()),
    }
}

/// Refuse a database whose `user_version` claims the schema but that lacks its tables
/// (another program's SQLite file).
fn require_tables(conn: &rusqlite::Connection, schema: &Schema) -> Result<(), SetupError> {
    let mut st = conn.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
    )?;
    for t in schema.tables {
        if !st.query_row([t], |r| r.get::<_, bool>(0))? {
            return Err(foreign(schema, &format!(" (no table '{t}')")));
        }
    }
    Ok(())
}

/// Apply every migration after the store's version in one `BEGIN IMMEDIATE` transaction.
pub(crate) fn migrate(conn: &mut rusqlite::Connection, schema: &Schema) -> Result<(), SetupError> {
    let to = schema.version();
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v == to {
        return require_tables(conn, schema);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another writer may have migrated meanwhile.
    let from: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    check_version(&tx, schema, from)?;
    if from < to {
        // A new store gets every migration, an older one those after its version: all in
        // this one transaction, so a failure leaves the store as it was.
        for m in schema.migrations.iter().filter(|m| m.version > from) {
            tx.execute_batch(m.sql).map_err(|e| {
                let why = engine_message(m, &e);
                let e = err(e);
                if matches!(e.kind(), ErrorKind::Io | ErrorKind::Foreign) {
                    // I/O, a full disk, a corrupt file: reported as such.
                    return SetupError::from(e);
                }
                let reason = if from == 0 {
                    format!("creating schema {to} failed at {why}; nothing was written")
                } else {
                    format!(
                        "migrating schema {from} to {to} failed at {why}; the {} was left at schema {from}",
                        schema.what
                    )
                };
                Error::new(ErrorKind::Foreign, reason).into()
            })?;
        }
        if from == 0 {
            if let Some(id) = schema.application_id {
                tx.pragma_update(None, "application_id", id)?;
            }
        }
        tx.pragma_update(None, "user_version", to)?;
    }
    tx.commit()?;
    Ok(())
}

/// Where and why `m` failed: `0003_portal.sql line 23 (table requests already exists)`,
/// without the SQL text the engine's message carries.
fn engine_message(m: &Migration, e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError {
            msg, sql, offset, ..
        } => {
            // `sql` is what was left of the file when the failing statement began.
            let at = m.sql.len().saturating_sub(sql.len()) + usize::try_from(*offset).unwrap_or(0);
            let line = m.sql.get(..at).map_or(0, |s| s.matches('\n').count()) + 1;
            format!("{} line {line} ({msg})", m.name)
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => format!("{} ({msg})", m.name),
        other => format!("{} ({other})", m.name),
    }
}
