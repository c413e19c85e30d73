//! One connection: statements (translated and prepared once), write transactions under the
//! store's advisory lock, read snapshots, the change counter; a lost connection is made
//! again when the next transaction or statement begins (see [`crate::reconnect`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Statement};
use store::{Access, Engine, Error, ErrorKind, Result, Row, Transaction, Tx, Value, WriteTx};

use crate::config::Settings;
use crate::error::{is_lost, map};
use crate::reconnect::Reconnect;
use crate::{sql, value};

/// How long `begin_write` waits for another writer before [`ErrorKind::Busy`].
pub(crate) const WRITER_WAIT: &str = "60s";

/// A connection to one store on a PostgreSQL server.
pub(crate) struct PgConnection {
    /// `None` only while the connection is being dropped.
    client: RefCell<Option<Client>>,
    /// Translated and prepared statements, by their portable SQL.
    statements: RefCell<HashMap<String, Statement>>,
    /// The advisory lock every writer of this store takes.
    lock_key: i64,
    access: Access,
    reading: Cell<bool>,
    /// A write transaction is open ([`store::Connection::begin_write`] until it ends).
    writing: Cell<bool>,
    /// A statement found the connection gone (the client may not know yet).
    lost: Cell<bool>,
    /// Where it connects, to connect again after the connection was lost.
    pub(crate) reconnect: Reconnect,
}

/// The advisory lock key of the store `what`: FNV-1a over a fixed prefix and the name, so
/// every process derives the same key and other programs' keys are unlikely to collide.
pub(crate) fn lock_key(what: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "i3lic store: ".bytes().chain(what.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

fn busy_client() -> Error {
    Error::new(
        ErrorKind::Other,
        "a statement ran on the connection while another's rows were being read",
    )
}

impl PgConnection {
    pub(crate) fn new(
        client: Client,
        what: &str,
        access: Access,
        settings: Settings,
    ) -> PgConnection {
        PgConnection {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            lock_key: lock_key(what),
            access,
            reading: Cell::new(false),
            writing: Cell::new(false),
            lost: Cell::new(false),
            reconnect: Reconnect::new(settings),
        }
    }

    /// The client; a lost one is replaced first, outside a transaction (inside one the
    /// transaction is gone with it, and its statements must fail).
    fn client(&self) -> Result<std::cell::RefMut<'_, Client>> {
        let mut c = self.client.try_borrow_mut().map_err(|_| busy_client())?;
        let gone = self.lost.get() || c.as_ref().is_some_and(Client::is_closed);
        if gone && !self.reading.get() && !self.writing.get() {
            let fresh = self.reconnect.connect()?;
            self.lost.set(false);
            if let Some(old) = c.replace(fresh) {
                close(old);
            }
            // Prepared statements belonged to the old connection.
            self.statements
                .try_borrow_mut()
                .map_err(|_| busy_client())?
                .clear();
        }
        std::cell::RefMut::filter_map(c, Option::as_mut).map_err(|_| busy_client())
    }

    pub(crate) fn fail(&self, e: &postgres::Error, doing: &str) -> Error {
        if is_lost(e) {
            self.lost.set(true);
        }
        map(e, doing, &self.reconnect.settings.target)
    }

    fn statement(&self, client: &mut Client, sql: &str) -> Result<Statement> {
        let mut cache = self
            .statements
            .try_borrow_mut()
            .map_err(|_| busy_client())?;
        if let Some(s) = cache.get(sql) {
            return Ok(s.clone());
        }
        let s = client
            .prepare(&sql::translate(sql))
            .map_err(|e| self.fail(&e, &format!("preparing {}", excerpt(sql))))?;
        cache.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// Run `sql` on the simple protocol (several statements, no parameters).
    pub(crate) fn batch(&self, sql: &str, doing: &str) -> Result<()> {
        self.client()?
            .batch_execute(sql)
            .map_err(|e| self.fail(&e, doing))
    }

    /// Roll back whatever transaction is open, ignoring errors: a lost connection has rolled
    /// back on the server already (and is not made again for this).
    pub(crate) fn rollback(&self) {
        self.writing.set(false);
        if let Ok(mut c) = self.client.try_borrow_mut() {
            if let Some(c) = c.as_mut().filter(|c| !c.is_closed() && !self.lost.get()) {
                let _ = c.batch_execute("ROLLBACK");
            }
        }
    }

    /// Begin a transaction holding the store's writer lock (waiting up to [`WRITER_WAIT`]).
    pub(crate) fn lock_for_write(&self) -> Result<()> {
        let sql = format!(
            "BEGIN; SET LOCAL lock_timeout = '{WRITER_WAIT}'; SELECT pg_advisory_xact_lock({})",
            self.lock_key
        );
        if let Err(e) = self.batch(&sql, "waiting for the store's writer lock") {
            self.rollback();
            return Err(e);
        }
        Ok(())
    }

    fn single(&self, sql: &str, doing: &str) -> Result<i64> {
        let mut n = None;
        self.each(sql, &[], &mut |r| {
            n = Some(r.get::<i64>(0)?);
            Ok(())
        })
        .map_err(|e| Error::new(e.kind(), format!("{doing}: {e}")))?;
        n.ok_or_else(|| {
            Error::new(
                ErrorKind::Foreign,
                format!("{doing}: the i3lic_store table has no row"),
            )
        })
    }
}

/// The start of a statement, for messages.
fn excerpt(sql: &str) -> String {
    let one_line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("`{}…`", &one_line[..i]),
        None => format!("`{one_line}`"),
    }
}

impl Tx for PgConnection {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        let mut client = self.client()?;
        let st = self.statement(&mut client, sql)?;
        let p: Vec<value::Param<'_>> = params.iter().map(value::Param).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = p
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let n = client
            .execute(&st, &refs)
            .map_err(|e| self.fail(&e, &format!("running {}", excerpt(sql))))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let mut client = self.client()?;
        let st = self.statement(&mut client, sql)?;
        let doing = || format!("reading {}", excerpt(sql));
        let mut rows = client
            .query_raw(&st, params.iter().map(value::Param))
            .map_err(|e| self.fail(&e, &doing()))?;
        while let Some(r) = rows.next().map_err(|e| self.fail(&e, &doing()))? {
            f(&value::row(&r)?)?;
        }
        Ok(())
    }

    fn run_batch(&self, sql: &str) -> Result<()> {
        self.batch(sql, &format!("running {}", excerpt(sql)))
    }
}

impl store::Connection for PgConnection {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn begin_write(&mut self) -> Result<WriteTx<'_>> {
        if self.access == Access::Read {
            return Err(Error::new(
                ErrorKind::Other,
                "the store was opened to read only",
            ));
        }
        if self.reading.get() {
            return Err(Error::new(
                ErrorKind::Other,
                "a read snapshot is open on this connection: end it before writing",
            ));
        }
        self.lock_for_write()?;
        self.writing.set(true);
        Ok(WriteTx::new(Box::new(PgWrite {
            conn: self,
            done: false,
        })))
    }

    fn begin_read(&self) -> Result<()> {
        if self.reading.get() {
            return Ok(());
        }
        self.batch(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            "beginning a read snapshot",
        )?;
        self.reading.set(true);
        Ok(())
    }

    fn end_read(&self) {
        if self.reading.replace(false) {
            self.rollback();
        }
    }

    fn change_counter(&self) -> Result<i64> {
        self.single(
            "SELECT changes FROM i3lic_store WHERE id = 1",
            "reading the change counter",
        )
    }

    fn schema_version(&self) -> Result<i64> {
        self.single(
            "SELECT schema_version FROM i3lic_store WHERE id = 1",
            "reading the schema version",
        )
    }
}

/// A write transaction: the writer lock is held until it commits or rolls back.
struct PgWrite<'a> {
    conn: &'a PgConnection,
    done: bool,
}

impl Tx for PgWrite<'_> {
    fn run(&self, sql: &str, params: &[Value]) -> Result<usize> {
        self.conn.run(sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.conn.each(sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> Result<()> {
        self.conn.run_batch(sql)
    }
}

impl Transaction for PgWrite<'_> {
    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn.batch(
            "UPDATE i3lic_store SET changes = changes + 1 WHERE id = 1",
            "committing",
        )?;
        self.done = true;
        let r = self.conn.batch("COMMIT", "committing");
        if r.is_err() {
            // A COMMIT that failed leaves nothing open; a ROLLBACK now only warns.
            self.conn.rollback();
        }
        self.conn.writing.set(false);
        r
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        // A server may drop its state on an async thread ([`close`]).
        if let Some(client) = self.client.get_mut().take() {
            close(client);
        }
    }
}

/// Close `client` on a thread of its own: it closes by blocking on a runtime of its own,
/// which panics on a thread that drives an async runtime.
fn close(client: Client) {
    let _ = std::thread::spawn(move || drop(client)).join();
}

impl Drop for PgWrite<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.rollback();
        }
    }
}
