//! Any change done once ([`Ledger::done_once`]): the caller's key ([`OnceKey`]) is looked up
//! in the first write transaction the change opens (under the writer lock) and kept in it
//! when it commits, so the change and its key are recorded together or not at all, on
//! every engine, whatever the change is. The change's answer (what the caller made of its
//! result: a page's redirect, an API's status and body) is filled in right after; a
//! repeat that finds the key without it (the process stopped in between) answers
//! [`NOT_KEPT_STATUS`], never the work again.

use std::sync::{Arc, Mutex};

use format::Timestamp;
use store::{params, Connection, Engine, Row, Transaction, Tx, TxExt, Value, WriteTx};

use super::idempotency::{Answered, OnceKey};
use super::Ledger;
use crate::error::IssuerError;

/// The status kept with a key while its change's answer is not yet written: a repeat that
/// finds it knows the change was done, not what was answered.
pub const NOT_KEPT_STATUS: u16 = 0;

/// What a change done once gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Done<T> {
    /// The change was done now: its result.
    First(T),
    /// The key was seen with the same request: what the first one was answered (nothing
    /// was done now).
    Again(Answered),
}

/// Where the keyed transaction is.
#[derive(Debug, Default)]
enum Stage {
    /// No write transaction began yet.
    #[default]
    Waiting,
    /// The key was seen: the change stopped before doing anything.
    Seen(Answered),
    /// The key came with another request.
    Reused,
    /// A transaction carries the key (kept if it commits).
    Open,
    /// It committed with the key.
    Kept,
}

type Shared = Arc<Mutex<Stage>>;

fn stage(s: &Shared) -> std::sync::MutexGuard<'_, Stage> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// The ledger's connection while a change runs: its first write transaction checks and
/// keeps the key.
struct KeyedConnection {
    /// Always `Some` until it is dropped.
    inner: Option<Box<dyn Connection>>,
    back: Slot,
    key: OnceKey,
    now: Timestamp,
    stage: Shared,
}

impl KeyedConnection {
    fn inner(&self) -> &dyn Connection {
        match &self.inner {
            Some(c) => &**c,
            None => &Unset,
        }
    }
}

impl Tx for KeyedConnection {
    fn run(&self, sql: &str, params: &[Value]) -> store::Result<usize> {
        self.inner().run(sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> store::Result<()>,
    ) -> store::Result<()> {
        self.inner().each(sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> store::Result<()> {
        self.inner().run_batch(sql)
    }
}

impl Connection for KeyedConnection {
    fn engine(&self) -> Engine {
        self.inner().engine()
    }
    fn begin_write(&mut self) -> store::Result<WriteTx<'_>> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(unset());
        };
        let tx = inner.begin_write()?;
        let mut st = stage(&self.stage);
        if !matches!(*st, Stage::Waiting) {
            // Only the change's first transaction carries the key.
            return Ok(tx);
        }
        match Ledger::answered_in(&tx, &self.key, self.now) {
            Ok(None) => {}
            Ok(Some(a)) => {
                *st = Stage::Seen(a);
                return Err(stopped());
            }
            Err(IssuerError::KeyReused { .. }) => {
                *st = Stage::Reused;
                return Err(stopped());
            }
            Err(IssuerError::Store(e)) => return Err(e),
            Err(e) => return Err(store::Error::new(store::ErrorKind::Other, e.to_string())),
        }
        *st = Stage::Open;
        drop(st);
        Ok(WriteTx::new(Box::new(KeyedTx {
            inner: tx,
            key: self.key.clone(),
            now: self.now,
            stage: self.stage.clone(),
        })))
    }
    fn begin_read(&self) -> store::Result<()> {
        self.inner().begin_read()
    }
    fn end_read(&self) {
        self.inner().end_read()
    }
    fn change_counter(&self) -> store::Result<i64> {
        self.inner().change_counter()
    }
    fn check_unchanged(&self) -> store::Result<()> {
        self.inner().check_unchanged()
    }
    fn read_without_locks(&self) -> bool {
        self.inner().read_without_locks()
    }
    fn schema_version(&self) -> store::Result<i64> {
        self.inner().schema_version()
    }
}

/// The error that stops a change whose key was seen (the caller answers from the key).
fn stopped() -> store::Error {
    store::Error::new(
        store::ErrorKind::Other,
        "the request was already done (its idempotency key was seen)",
    )
}

/// The change's first write transaction: it keeps the key when it commits.
struct KeyedTx<'a> {
    inner: WriteTx<'a>,
    key: OnceKey,
    now: Timestamp,
    stage: Shared,
}

impl Tx for KeyedTx<'_> {
    fn run(&self, sql: &str, params: &[Value]) -> store::Result<usize> {
        self.inner.run(sql, params)
    }
    fn each(
        &self,
        sql: &str,
        params: &[Value],
        f: &mut dyn FnMut(&Row) -> store::Result<()>,
    ) -> store::Result<()> {
        self.inner.each(sql, params, f)
    }
    fn run_batch(&self, sql: &str) -> store::Result<()> {
        self.inner.run_batch(sql)
    }
}

impl Transaction for KeyedTx<'_> {
    fn commit(self: Box<Self>) -> store::Result<()> {
        let pending = Answered {
            status: NOT_KEPT_STATUS,
            body: Vec::new(),
        };
        match Ledger::remember_in(&self.inner, &self.key, &pending, self.now) {
            Ok(()) => {}
            Err(IssuerError::Store(e)) => return Err(e),
            Err(e) => return Err(store::Error::new(store::ErrorKind::Other, e.to_string())),
        }
        let KeyedTx { inner, stage, .. } = *self;
        inner.commit()?;
        *self::stage(&stage) = Stage::Kept;
        Ok(())
    }
    fn defer_foreign_keys(&self) -> store::Result<()> {
        self.inner.defer_foreign_keys()
    }
}

impl Ledger {
    /// Do `work` once for `once` (without a key: every time). A key seen with the same
    /// request answers what its first request was answered, and `work` does nothing (it is
    /// stopped when it opens its write transaction, or before it begins when the key is
    /// seen already); a key seen with another request is refused
    /// ([`IssuerError::KeyReused`]). Otherwise the key is kept in the first write
    /// transaction `work` commits, and `answer` (what the caller answers for its result)
    /// is kept with it for the repeats. `work` should do its change in one transaction.
    pub fn done_once<T, E>(
        &mut self,
        once: Option<&OnceKey>,
        now: Timestamp,
        work: impl FnOnce(&mut Ledger) -> Result<T, E>,
        answer: impl FnOnce(&T) -> Answered,
    ) -> Result<Done<T>, E>
    where
        E: From<IssuerError>,
    {
        let Some(k) = once else {
            return work(self).map(Done::First);
        };
        // A quick answer for a repeat, before checks of `work` that would refuse it.
        if let Some(a) = Self::answered_in(self.tx(), k, now)? {
            return Ok(Done::Again(a));
        }
        let shared: Shared = Arc::default();
        let slot: Slot = Arc::default();
        let inner = std::mem::replace(&mut self.db, Box::new(Unset));
        self.db = Box::new(KeyedConnection {
            inner: Some(inner),
            back: slot.clone(),
            key: k.clone(),
            now,
            stage: shared.clone(),
        });
        let got = work(self);
        self.unwrap_keyed(&slot);
        let st = std::mem::take(&mut *stage(&shared));
        match (st, got) {
            (Stage::Seen(a), _) => Ok(Done::Again(a)),
            (Stage::Reused, _) => Err(IssuerError::KeyReused { key: k.key.clone() }.into()),
            (Stage::Kept, Ok(t)) => {
                let a = answer(&t);
                self.tx().execute(
                    "UPDATE idempotency SET status = ?3, body = ?4 WHERE actor = ?1 AND key = ?2",
                    params![k.actor, k.key, i64::from(a.status), a.body.as_slice()],
                )
                .map_err(IssuerError::from)?;
                Ok(Done::First(t))
            }
            (_, got) => got.map(Done::First),
        }
    }

    /// Put back the connection [`Ledger::done_once`] wrapped: dropped, the wrapper hands
    /// it back through `slot`.
    fn unwrap_keyed(&mut self, slot: &Slot) {
        drop(std::mem::replace(&mut self.db, Box::new(Unset)));
        if let Some(db) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.db = db;
        }
    }
}

/// Where a [`KeyedConnection`] leaves the connection it wrapped when it is dropped.
type Slot = Arc<Mutex<Option<Box<dyn Connection>>>>;

impl Drop for KeyedConnection {
    fn drop(&mut self) {
        if let Some(c) = self.inner.take() {
            *self.back.lock().unwrap_or_else(|e| e.into_inner()) = Some(c);
        }
    }
}

/// A placeholder connection for the instant the real one is moved: every use fails.
struct Unset;

fn unset() -> store::Error {
    store::Error::new(store::ErrorKind::Io, "the ledger's connection was lost")
}

impl Tx for Unset {
    fn run(&self, _: &str, _: &[Value]) -> store::Result<usize> {
        Err(unset())
    }
    fn each(
        &self,
        _: &str,
        _: &[Value],
        _: &mut dyn FnMut(&Row) -> store::Result<()>,
    ) -> store::Result<()> {
        Err(unset())
    }
    fn run_batch(&self, _: &str) -> store::Result<()> {
        Err(unset())
    }
}

impl Connection for Unset {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
    fn begin_write(&mut self) -> store::Result<WriteTx<'_>> {
        Err(unset())
    }
    fn begin_read(&self) -> store::Result<()> {
        Err(unset())
    }
    fn end_read(&self) {}
    fn change_counter(&self) -> store::Result<i64> {
        Err(unset())
    }
    fn schema_version(&self) -> store::Result<i64> {
        Err(unset())
    }
}
