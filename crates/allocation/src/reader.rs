//! A connection of its own for reads ([`Allocator::read_on_own_connection`]): a server's
//! reports, session lists and metrics then never wait for the writer's connection, and a
//! slow read never delays a logon. SQLite reads a WAL snapshot beside the writer;
//! PostgreSQL reads a repeatable-read snapshot on a second connection.

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::error::AllocError;
use crate::{storage, Allocator};

/// The read connection, once opened.
#[derive(Default)]
pub(crate) struct Reader(Mutex<Option<Box<dyn store::Connection>>>);

impl Reader {
    /// The read connection, locked, when there is one.
    pub(crate) fn lock(&self) -> Option<MutexGuard<'_, Option<Box<dyn store::Connection>>>> {
        let g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        g.is_some().then_some(g)
    }
}

impl Allocator {
    /// Read on a second connection to the store from now on, so reads never wait for the
    /// connection changes are made on (a server calls this once at start).
    pub fn read_on_own_connection(&self) -> Result<(), AllocError> {
        let conn = storage::open(self.location())?;
        *self.reader.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn);
        Ok(())
    }

    /// Run `f` while a read snapshot is open on the connection reads use (held across `f`,
    /// as a slow report holds it): to show what a read in progress does not block.
    pub fn while_reading<T>(&self, f: impl FnOnce() -> T) -> Result<T, AllocError> {
        self.read(|_, _| Ok(f()))
    }
}
