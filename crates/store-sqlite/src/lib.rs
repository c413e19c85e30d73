//! The SQLite engine of i3lic's stores: one file, embedded, the default.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction (the write lock is taken before anything
//! is read, so two writers never both see the same units available), in WAL mode with
//! `synchronous=FULL` (a committed transaction survives a power cut). A store's schema
//! version is `PRAGMA user_version`; its change counter, `PRAGMA data_version`.
//!
//! A connection reads a WAL store through its `-wal` and `-shm` files. Where this user may
//! not create them (a folder this user may not write) and no writer has them open, a
//! read-only open reads the file alone without SQLite's locks, and
//! [`store::Connection::check_unchanged`] tells afterwards whether a writer changed it.
//!
//! ```
//! use store::{Access, Migration, Schema, TxExt};
//! const SCHEMA: Schema = Schema {
//!     what: "example store",
//!     migrations: &[Migration { version: 1, name: "0001.sql", sql: "CREATE TABLE t (n INTEGER NOT NULL);" }],
//!     tables: &["t"],
//!     application_id: None,
//! };
//! let dir = tempfile::tempdir()?;
//! let mut db = store_sqlite::open(&dir.path().join("s.db"), &SCHEMA, Access::Write)?;
//! let tx = db.begin_write()?;
//! tx.execute("INSERT INTO t (n) VALUES (?1)", [41_i64 + 1])?;
//! tx.commit()?;
//! let n: i64 = db.query_row("SELECT n FROM t", [], |r| r.get(0))?;
//! assert_eq!(n, 42);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{ErrorCode, OpenFlags};
use store::{Access, Engine, Error, ErrorKind, Result, Row, Schema, Value, WriteTx};

mod migrate;
mod stamp;

use stamp::FileStamp;

/// How long a writer waits for another one to finish before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Prepared statements kept per connection: every query a page or a command runs more than
/// once stays parsed (SQLite's parser costs more than most of these queries).
const STATEMENT_CACHE: usize = 96;

/// One connection to an SQLite store.
#[derive(Debug)]
pub struct SqliteConnection {
    conn: rusqlite::Connection,
    path: PathBuf,
    what: &'static str,
    /// Opened read-only without SQLite's locks: the file as it was, to tell whether it
    /// changed while being read.
    unlocked: Option<FileStamp>,
}

/// Open the store at `path` (see [`store::Access`]). With [`Access::Write`], a missing file
/// is created (mode 0600) with its schema; its folder must exist. A file of another program
/// is refused ([`ErrorKind::Foreign`]) before anything in it changes.
pub fn open(path: &Path, schema: &Schema, access: Access) -> Result<Box<dyn store::Connection>> {
    Ok(Box::new(match access {
        Access::Write => open_write(path, schema)?,
        Access::Read => open_read(path, schema)?,
    }))
}

/// Open any SQLite file to read and write it as it is: no schema is checked, created or
/// migrated (tools and tests that build or inspect a store directly).
pub fn open_raw(path: impl AsRef<Path>) -> Result<Box<dyn store::Connection>> {
    let path = path.as_ref();
    let conn = rusqlite::Connection::open(path).map_err(open_error)?;
    prepare(&conn)?;
    Ok(Box::new(SqliteConnection {
        conn,
        path: path.to_path_buf(),
        what: "database",
        unlocked: None,
    }))
}

/// Open an SQLite file to read it exactly as it is on disk, without SQLite's locks or its
/// write-ahead log (`immutable`), so that nothing is created beside it: for a look at a
/// file nobody is writing (no `-wal` file). `None` when there is a `-wal` file or SQLite
/// cannot read the file.
pub fn peek(path: &Path) -> Option<Box<dyn store::Connection>> {
    if stamp::wal_path(path).exists() {
        return None;
    }
    let conn = rusqlite::Connection::open_with_flags(
        format!("{}?mode=ro&immutable=1", stamp::uri_of(path)),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .ok()?;
    prepare(&conn).ok()?;
    Some(Box::new(SqliteConnection {
        conn,
        path: path.to_path_buf(),
        what: "database",
        unlocked: None,
    }))
}

fn open_write(path: &Path, schema: &Schema) -> Result<SqliteConnection> {
    // Never open (and close) the file itself once it exists: closing any descriptor of a
    // file drops every POSIX lock this process holds on it, so another connection of the
    // process would lose its SQLite locks, and another process could then take the store for
    // unused and delete its WAL and shared-memory files under it. So a missing file is made
    // with `create_new` only, and one made meanwhile by another process is left to SQLite.
    if !path.exists() {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        match o.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::new(ErrorKind::Io, format!("creating it: {e}"))),
        }
    }
    let conn = rusqlite::Connection::open(path).map_err(open_error)?;
    // SQLite opens a file this user may not write read-only without saying so; every write
    // would then fail with "attempt to write a readonly database", naming nothing.
    if conn
        .is_readonly(rusqlite::DatabaseName::Main)
        .map_err(err)?
    {
        return Err(Error::new(
            ErrorKind::Io,
            "opening it for writing: this user may only read it (commands that only read still work)",
        ));
    }
    prepare(&conn)?;
    // Identify the file before changing anything in it: another program's file is refused
    // having only been read, and is left byte for byte as it was.
    migrate::identify(&conn, schema).map_err(setup_error)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(err)?;
    let mut c = SqliteConnection {
        conn,
        path: path.to_path_buf(),
        what: schema.what,
        unlocked: None,
    };
    // The schema is made or migrated in one transaction before the switch to WAL: switching
    // a file not yet in WAL mode rewrites its header, so a file found damaged on the way is
    // refused with the transaction rolled back, unchanged.
    migrate::migrate(&mut c.conn, schema).map_err(setup_error)?;
    switch_to_wal(&c.conn).map_err(setup_error)?;
    Ok(c)
}

/// Switch the store to WAL mode. The switch needs the file to itself and SQLite's busy
/// handler does not wait for that: while other processes creating the same new store at
/// once still read it in its first journal mode, it is retried (up to [`BUSY_TIMEOUT`])
/// until one of them has switched it or this one can.
fn switch_to_wal(conn: &rusqlite::Connection) -> std::result::Result<(), migrate::SetupError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn open_read(path: &Path, schema: &Schema) -> Result<SqliteConnection> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "there is no {} there (a command that only reads never creates one)",
                    schema.what
                ),
            ))
        }
        Err(e) => return Err(Error::new(ErrorKind::Io, e.to_string())),
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(open_error)?;
    prepare(&conn)?;
    let mut unlocked = None;
    let conn = match migrate::identify(&conn, schema) {
        Ok(()) => conn,
        // SQLite reads a WAL store through its -wal and -shm files, and a read-only
        // connection cannot create them where this user may not write the folder. With no
        // -wal file, the store file holds every committed change: read it as it is, without
        // locks (`immutable`), and tell afterwards whether it changed (`check_unchanged`).
        Err(e) if e.locked_out && !stamp::wal_path(path).exists() => {
            drop(conn);
            let (conn, stamp) = open_unlocked(path, schema)?;
            unlocked = Some(stamp);
            conn
        }
        Err(e) => return Err(setup_error(e)),
    };
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| setup_error(e.into()))?;
    if v == 0 {
        return Err(Error::new(
            ErrorKind::Foreign,
            format!(
                "an empty database: no {} has been created in it yet",
                schema.what
            ),
        ));
    }
    conn.execute_batch("PRAGMA query_only = ON; PRAGMA foreign_keys = ON;")
        .map_err(err)?;
    Ok(SqliteConnection {
        conn,
        path: path.to_path_buf(),
        what: schema.what,
        unlocked,
    })
}

/// The store file opened read-only without SQLite's locks or its write-ahead log
/// (`immutable`), and how it was just before.
fn open_unlocked(path: &Path, schema: &Schema) -> Result<(rusqlite::Connection, FileStamp)> {
    let stamp = FileStamp::of(path).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
    if stamp.wal {
        // Committed changes may be in the log only: not readable without it.
        return Err(Error::new(
            ErrorKind::Io,
            "a writer started writing it while it was being opened, and this user may not open its -wal and -shm files; try again",
        ));
    }
    let conn = rusqlite::Connection::open_with_flags(
        format!("{}?mode=ro&immutable=1", stamp::uri_of(path)),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(open_error)?;
    prepare(&conn)?;
    migrate::identify(&conn, schema).map_err(setup_error)?;
    Ok((conn, stamp))
}

/// What every connection gets: the busy timeout, the statement cache, and the functions
/// the portable SQL uses that SQLite lacks.
fn prepare(conn: &rusqlite::Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // `nocase(x)`: x with ASCII letters folded, as SQLite's NOCASE compares (PostgreSQL
    // stores define the same function), so one query text compares names without case on
    // both engines.
    conn.create_scalar_function(
        "nocase",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).to_ascii_lowercase()),
                _ => None,
            })
        },
    )
    .map_err(err)?;
    Ok(())
}

/// A failure of `Connection::open`: a file SQLite cannot open is an I/O error.
fn open_error(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::CannotOpen) => Error::new(ErrorKind::Io, e.to_string()),
        _ => err(e),
    }
}

/// A failure while a store is identified, switched to WAL or migrated: a file that is not a
/// database is another program's, one that cannot be read or written (its folder, its
/// `-wal` or `-shm` file) an I/O error.
fn setup_error(e: migrate::SetupError) -> Error {
    e.error
}

/// The store error of an SQLite error, classified.
pub(crate) fn err(e: rusqlite::Error) -> Error {
    let kind = match &e {
        rusqlite::Error::QueryReturnedNoRows => ErrorKind::NoRows,
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::InvalidColumnIndex(..) => ErrorKind::Conversion,
        e => match e.sqlite_error_code() {
            Some(ErrorCode::ConstraintViolation) => ErrorKind::Constraint,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorKind::Busy,
            Some(
                ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::ReadOnly
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull,
            ) => ErrorKind::Io,
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => ErrorKind::Foreign,
            _ => ErrorKind::Other,
        },
    };
    let message = match (&e, kind) {
        (_, ErrorKind::Foreign) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            "not an SQLite database".to_owned()
        }
        _ => e.to_string(),
    };
    Error::new(kind, message)
}

/// A parameter as SQLite takes it, borrowed.
struct Param<'a>(&'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

fn value_of(v: ValueRef<'_>) -> Result<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Conversion,
                        format!("text that is not UTF-8: {e}"),
                    )
                })?
                .to_owned(),
        ),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    })
}

fn run(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<usize> {
    let mut st = conn.prepare_cached(sql).map_err(err)?;
    st.execute(rusqlite::params_from_iter(params.iter().map(Param)))
        .map_err(err)
}

fn each(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    f: &mut dyn FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare_cached(sql).map_err(err)?;
    let n = st.column_count();
    let mut rows = st
        .query(rusqlite::params_from_iter(params.iter().map(Param)))
        .map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(value_of(r.get_ref(i).map_err(err)?)?);
        }
        f(&Row::new(values))?;
    }
    Ok(())
}

impl store::Tx for SqliteConnection {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        run(&self.conn, sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        each(&self.conn, sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(err)
    }
}

/// A write transaction: `BEGIN IMMEDIATE` … `COMMIT`, rolled back when dropped uncommitted.
struct SqliteTx<'a> {
    conn: &'a rusqlite::Connection,
    done: Cell<bool>,
}

impl store::Tx for SqliteTx<'_> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        run(self.conn, sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        each(self.conn, sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(err)
    }
}

impl store::Transaction for SqliteTx<'_> {
    fn defer_foreign_keys(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA defer_foreign_keys = ON")
            .map_err(err)
    }
    fn commit(self: Box<Self>) -> Result<()> {
        run(self.conn, "COMMIT", &[])?;
        self.done.set(true);
        Ok(())
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.done.get() && !self.conn.is_autocommit() {
            let _ = run(self.conn, "ROLLBACK", &[]);
        }
    }
}

impl store::Connection for SqliteConnection {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
    fn begin_write(&mut self) -> Result<WriteTx<'_>> {
        self.end_read();
        run(&self.conn, "BEGIN IMMEDIATE", &[])?;
        Ok(WriteTx::new(Box::new(SqliteTx {
            conn: &self.conn,
            done: Cell::new(false),
        })))
    }
    fn begin_read(&self) -> Result<()> {
        // Whatever an earlier caller left open ends first.
        self.end_read();
        run(&self.conn, "BEGIN DEFERRED", &[]).map(|_| ())
    }
    fn end_read(&self) {
        if !self.conn.is_autocommit() {
            let _ = run(&self.conn, "ROLLBACK", &[]);
        }
    }
    fn change_counter(&self) -> Result<i64> {
        self.conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(err)
    }
    fn check_unchanged(&self) -> Result<()> {
        let Some(before) = &self.unlocked else {
            return Ok(());
        };
        let now =
            FileStamp::of(&self.path).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        if now == *before {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Io,
            format!(
                "the {} changed while being read without locks (a writer was active, and this user may not create its -wal and -shm files); try again",
                self.what
            ),
        ))
    }
    fn read_without_locks(&self) -> bool {
        self.unlocked.is_some()
    }
    fn schema_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{Connection as _, Migration, TxExt};

    const SCHEMA: Schema = Schema {
        what: "test store",
        migrations: &[Migration {
            version: 1,
            name: "0001.sql",
            sql: "CREATE TABLE t (name TEXT NOT NULL);",
        }],
        tables: &["t"],
        application_id: None,
    };

    fn add(path: &Path, name: &str) {
        let mut db = open(path, &SCHEMA, Access::Write).unwrap();
        let tx = db.begin_write().unwrap();
        tx.execute("INSERT INTO t (name) VALUES (?1)", [name])
            .unwrap();
        tx.commit().unwrap();
    }

    fn names(db: &dyn store::Connection) -> Vec<String> {
        db.query_map("SELECT name FROM t ORDER BY name", [], |r| r.get(0))
            .unwrap()
    }

    /// A store read without SQLite's locks (as where this user may not create its -wal and
    /// -shm files) tells when a writer changed it while it was being read.
    #[test]
    fn a_read_without_locks_notices_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        add(&path, "Contoso");
        assert!(
            !stamp::wal_path(&path).exists(),
            "the last writer removes the log"
        );
        let unlocked = |path: &Path| {
            let (conn, stamp) = open_unlocked(path, &SCHEMA).unwrap();
            SqliteConnection {
                conn,
                path: path.to_path_buf(),
                what: SCHEMA.what,
                unlocked: Some(stamp),
            }
        };
        let reader = unlocked(&path);
        assert!(reader.read_without_locks());
        assert_eq!(names(&reader), ["Contoso"]);
        assert!(reader.check_unchanged().is_ok());
        assert!(
            !stamp::wal_path(&path).exists(),
            "an unlocked read creates no log"
        );
        // A writer's log appears while it runs; its changes reach the file when it closes
        // (and removes the log).
        let mut writer = open(&path, &SCHEMA, Access::Write).unwrap();
        let tx = writer.begin_write().unwrap();
        tx.execute("INSERT INTO t (name) VALUES ('Fabrikam')", [])
            .unwrap();
        tx.commit().unwrap();
        assert!(reader.check_unchanged().is_err());
        // Not opened without locks while the log exists: committed changes may be in it only.
        assert!(open_unlocked(&path, &SCHEMA).is_err());
        drop(writer);
        assert!(!stamp::wal_path(&path).exists());
        assert!(reader.check_unchanged().is_err(), "the file changed");
        let reader = unlocked(&path);
        assert_eq!(names(&reader), ["Contoso", "Fabrikam"]);
        assert!(reader.check_unchanged().is_ok());
    }

    /// A write transaction dropped without a commit keeps nothing; a committed one is seen
    /// by another connection, whose change counter moves.
    #[test]
    fn a_dropped_transaction_keeps_nothing_and_a_commit_moves_the_counter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut a = open(&path, &SCHEMA, Access::Write).unwrap();
        let b = open(&path, &SCHEMA, Access::Read).unwrap();
        let before = b.change_counter().unwrap();
        {
            let tx = a.begin_write().unwrap();
            tx.execute("INSERT INTO t (name) VALUES ('x')", []).unwrap();
        }
        assert!(names(&*b).is_empty());
        let tx = a.begin_write().unwrap();
        tx.execute("INSERT INTO t (name) VALUES ('y')", []).unwrap();
        tx.commit().unwrap();
        assert_eq!(names(&*b), ["y"]);
        assert_ne!(b.change_counter().unwrap(), before);
    }

    /// `nocase` folds ASCII letters only, as SQLite's NOCASE compares.
    #[test]
    fn nocase_folds_ascii_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(&dir.path().join("s.db"), &SCHEMA, Access::Write).unwrap();
        let v: String = db
            .query_row("SELECT nocase('ÉCOLE Contoso')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, "École contoso");
    }
}
