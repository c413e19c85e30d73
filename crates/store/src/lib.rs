//! The storage interface of i3lic's stores: what the ledger (and the allocation store) ask
//! of a database engine, and nothing of any one engine.
//!
//! An engine (`store-sqlite`, embedded; `store-postgres`, shared) gives a [`Connection`]: it
//! runs statements of the portable SQL both engines understand (numbered `?1` or plain `?`
//! placeholders; types integer, text, blob), opens write transactions that are serialised
//! against every other writer of the same store (one writer order, in every process), and
//! read snapshots. A store's own rules and schema live above it: the ledger's in `issuer`.
//!
//! ```
//! use store::{params, Row, Value};
//! // Values go in through `params!` and come out through `Row::get`.
//! let row = Row::new(vec![Value::Integer(7), Value::Text("Contoso".into()), Value::Null]);
//! let (n, name, gone): (i64, String, Option<i64>) = (row.get(0)?, row.get(1)?, row.get(2)?);
//! assert_eq!((n, name.as_str(), gone), (7, "Contoso", None));
//! let p = params![7_i64, "Contoso", None::<i64>];
//! assert_eq!(p.len(), 3);
//! # Ok::<(), store::Error>(())
//! ```

mod error;
mod location;
mod value;

pub use error::{Error, ErrorKind, OptionalExt, Result};
pub use location::{location_kind, LocationKind};
pub use value::{FromValue, Params, Row, ToValue, Value};

/// Statements of one connection or transaction. What an engine implements; callers use the
/// methods of [`TxExt`].
pub trait Tx {
    /// Run one statement that returns no rows; how many rows it changed.
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize>;
    /// Run one query, calling `f` with each row in order (rows are streamed where the engine
    /// can: a query over a whole table is never held in memory at once).
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()>;
    /// Run several statements without parameters (schema changes, savepoints).
    fn run_batch(&self, sql: &str) -> Result<()>;
}

impl<T: Tx + ?Sized> Tx for Box<T> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        (**self).run(sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        (**self).each(sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> Result<()> {
        (**self).run_batch(sql)
    }
}

/// The methods callers use on any [`Tx`], shaped as the SQLite crates' so a query reads the
/// same in every engine: `execute`, `query_row`, `prepare_cached(..).query_map(..)`.
pub trait TxExt: Tx {
    /// Run one statement that returns no rows; how many rows it changed.
    fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.run(sql, &params.values())
    }
    /// The first row of a query, through `f`; [`ErrorKind::NoRows`] when there is none
    /// (see [`OptionalExt::optional`]).
    fn query_row<T, P: Params, F: FnOnce(&Row) -> Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> Result<T> {
        let mut first = None;
        self.each(sql, &params.values(), &mut |r| {
            if first.is_none() {
                first = Some(r.clone());
            }
            Ok(())
        })?;
        match first {
            Some(r) => f(&r),
            None => Err(Error::new(ErrorKind::NoRows, "the query returned no rows")),
        }
    }
    /// Every row of a query, through `f`.
    fn query_map<T, P: Params, F: FnMut(&Row) -> Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> Result<Vec<T>> {
        // The rows are read to the end before `f` sees any, so `f` may run statements of its
        // own (an engine that streams, as PostgreSQL's, runs one statement at a time). A query
        // over a whole table streams through `Tx::each` instead.
        let mut rows = Vec::new();
        self.each(sql, &params.values(), &mut |r| {
            rows.push(r.clone());
            Ok(())
        })?;
        rows.iter().map(f).collect()
    }
    /// Several statements without parameters.
    fn execute_batch(&self, sql: &str) -> Result<()> {
        self.run_batch(sql)
    }
    /// A statement to run once or many times (engines cache what they prepare).
    fn prepare_cached(&self, sql: &str) -> Result<Statement<'_, Self>> {
        Ok(Statement {
            tx: self,
            sql: sql.to_owned(),
        })
    }
    /// Same as [`TxExt::prepare_cached`].
    fn prepare(&self, sql: &str) -> Result<Statement<'_, Self>> {
        self.prepare_cached(sql)
    }
}

impl<T: Tx + ?Sized> TxExt for T {}

/// The rows [`Statement::query_map`] gives, each already mapped.
pub type Rows<R> = std::iter::Map<std::vec::IntoIter<R>, fn(R) -> Result<R>>;

/// A statement bound to a connection or transaction ([`TxExt::prepare_cached`]).
pub struct Statement<'a, T: ?Sized> {
    tx: &'a T,
    sql: String,
}

impl<T: Tx + ?Sized> Statement<'_, T> {
    /// Run it; how many rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.tx.execute(&self.sql, params)
    }
    /// Its first row, through `f` ([`ErrorKind::NoRows`] when none).
    pub fn query_row<R, P: Params, F: FnOnce(&Row) -> Result<R>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<R> {
        self.tx.query_row(&self.sql, params, f)
    }
    /// Every row, through `f`, as an iterator of results (collect it with
    /// `collect::<Result<Vec<_>, _>>()`).
    pub fn query_map<R, P: Params, F: FnMut(&Row) -> Result<R>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<Rows<R>> {
        let rows = self.tx.query_map(&self.sql, params, f)?;
        Ok(rows.into_iter().map(Ok as fn(R) -> Result<R>))
    }
    /// Whether it returns any row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        let mut any = false;
        self.tx.each(&self.sql, &params.values(), &mut |_| {
            any = true;
            Ok(())
        })?;
        Ok(any)
    }
}

/// Which engine holds a store, for messages and the few choices that differ (never for a
/// rule of the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite, embedded: one file.
    Sqlite,
    /// PostgreSQL, shared by every process that reaches the server.
    Postgres,
}

/// A write transaction ([`Connection::begin_write`]): its statements see every change
/// committed before it began and no other writer runs until it ends. Dropped without
/// [`WriteTx::commit`], it rolls back and nothing of it is kept.
pub struct WriteTx<'a> {
    inner: Box<dyn Transaction + 'a>,
}

impl<'a> WriteTx<'a> {
    /// Wrap an engine's transaction.
    pub fn new(inner: Box<dyn Transaction + 'a>) -> WriteTx<'a> {
        WriteTx { inner }
    }
    /// Make every change of the transaction durable, or none of them.
    pub fn commit(self) -> Result<()> {
        self.inner.commit()
    }
    /// Undo every change of the transaction (what dropping it does, said explicitly).
    pub fn rollback(self) {}
    /// Check foreign keys when the transaction commits rather than at each statement, for
    /// rows that name each other in both directions (a whole store copied in).
    pub fn defer_foreign_keys(&self) -> Result<()> {
        self.inner.defer_foreign_keys()
    }
}

thread_local! {
    static WRITE_STATEMENTS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many statements write transactions ran on this thread so far (a `run_batch` of
/// several counts once: one round trip): what a change costs on an engine where each is a
/// network round trip.
pub fn write_statements() -> u64 {
    WRITE_STATEMENTS.with(std::cell::Cell::get)
}

fn count_statement() {
    WRITE_STATEMENTS.with(|n| n.set(n.get().wrapping_add(1)));
}

impl Tx for WriteTx<'_> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        count_statement();
        self.inner.run(sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        count_statement();
        self.inner.each(sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> Result<()> {
        count_statement();
        self.inner.run_batch(sql)
    }
}

impl<'a> std::ops::Deref for WriteTx<'a> {
    type Target = dyn Tx + 'a;
    fn deref(&self) -> &Self::Target {
        &*self.inner
    }
}

/// An engine's write transaction. Dropping it rolls back.
pub trait Transaction: Tx {
    /// Commit it.
    fn commit(self: Box<Self>) -> Result<()>;
    /// Check foreign keys at commit from now on (PostgreSQL's `SET CONSTRAINTS ALL
    /// DEFERRED`, the default here, needs the keys declared `DEFERRABLE`).
    fn defer_foreign_keys(&self) -> Result<()> {
        self.run_batch("SET CONSTRAINTS ALL DEFERRED")
    }
}

/// One open connection to a store: statements run on it outside a transaction each commit
/// on their own; [`Connection::begin_write`] and [`Connection::begin_read`] group them.
pub trait Connection: Tx + Send {
    /// The engine behind it.
    fn engine(&self) -> Engine;
    /// Begin a write transaction, waiting for any other writer of the store to finish (up to
    /// the engine's busy timeout, then [`ErrorKind::Busy`]).
    fn begin_write(&mut self) -> Result<WriteTx<'_>>;
    /// Begin a read snapshot on this connection: the statements that follow, until
    /// [`Connection::end_read`], all read one committed state.
    fn begin_read(&self) -> Result<()>;
    /// End the read snapshot, if one is open (never fails: a snapshot that cannot end
    /// cleanly is rolled back).
    fn end_read(&self);
    /// A number that changes whenever another connection commits a change to the store.
    /// Only equality means something, and only between readings on this connection; read
    /// in a snapshot, it names the state the snapshot reads.
    fn change_counter(&self) -> Result<i64>;
    /// After reads on a connection opened without the engine's locks (SQLite, where this
    /// user may not create the log files): an error if the store changed meanwhile.
    fn check_unchanged(&self) -> Result<()> {
        Ok(())
    }
    /// Whether this connection reads without the engine's locks.
    fn read_without_locks(&self) -> bool {
        false
    }
    /// The schema version the store has (what its last migration made).
    fn schema_version(&self) -> Result<i64>;
}

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// To read and write: an empty database (or, for SQLite, a missing file) gets the whole
    /// schema, an older schema is migrated, both in one transaction under the writer lock.
    Write,
    /// To read only: nothing is created or changed; an empty database, a missing file and a
    /// newer schema are errors, an older schema opens as it is (the caller decides).
    Read,
}

/// A store's schema: the migrations that build it, one per version, for one engine.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// What the store is, in messages: "ledger", "allocation store".
    pub what: &'static str,
    /// The migrations in order, versions 1, 2, 3 … (an engine may start later: a PostgreSQL
    /// store starts at the version it was added in).
    pub migrations: &'static [Migration],
    /// Tables every version has: a database that claims the schema but lacks one is
    /// another program's.
    pub tables: &'static [&'static str],
    /// SQLite's `PRAGMA application_id` the store's file carries, set when it is created:
    /// a file with another id (another program's database) is refused before anything in
    /// it changes. `None`: the file is recognised by its schema version and tables only.
    /// PostgreSQL ignores it (its bookkeeping table names the store).
    pub application_id: Option<i32>,
}

impl Schema {
    /// The version this build writes: the last migration's.
    pub fn version(&self) -> i64 {
        self.migrations.last().map_or(0, |m| m.version)
    }
}

/// One schema step: takes a store from `version - 1` to `version`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version this step produces.
    pub version: i64,
    /// Its file name, for messages.
    pub name: &'static str,
    /// Its SQL, in the engine's own dialect.
    pub sql: &'static str,
}
