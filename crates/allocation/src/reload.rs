//! A server keeps the license it uses when another process loads a file it cannot use
//! (DESIGN.md, "License server": "reloads the file when `licadmin load` changes it, keeping
//! the old one on failure"). The allocator re-reads the stored file whenever its sequence
//! number in the store changes, so a load by any process, on either host of a switchover
//! pair, reaches every server at its next operation. A server opted in with
//! [`Allocator::keep_license_on_failure`] goes on with the license it had when the new file
//! does not verify here (a file that names only the other host of the pair, for one), and
//! says why through [`Allocator::refused_load`]; a command (`licadmin report`) never keeps
//! anything and reports the stored file's error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use format::Timestamp;
use store::TxExt;
use verify::License;

use crate::allocator::Allocator;
use crate::error::AllocError;

/// Whether a newer stored file that fails here is set aside, and the one set aside.
#[derive(Debug, Default)]
pub(crate) struct Keep {
    on: AtomicBool,
    /// The stored file's sequence number and why it is not used.
    refused: Mutex<Option<(i64, String)>>,
}

impl Keep {
    /// `in_use` (the license verified before) when the stored file of sequence `seq` was
    /// refused earlier and `in_use` is still usable.
    pub(crate) fn kept(
        &self,
        seq: i64,
        in_use: &Arc<License>,
        at: Timestamp,
    ) -> Option<Arc<License>> {
        let refused = self.refused.lock().unwrap_or_else(PoisonError::into_inner);
        (refused.as_ref().is_some_and(|(s, _)| *s == seq) && in_use.usable_at(at))
            .then(|| in_use.clone())
    }

    /// The stored file of sequence `seq` failed with `e`: keep `in_use` when keeping is on
    /// and it is still usable, else the error.
    pub(crate) fn refuse(
        &self,
        seq: i64,
        in_use: Option<Arc<License>>,
        at: Timestamp,
        e: AllocError,
    ) -> Result<Arc<License>, AllocError> {
        match in_use.filter(|l| self.on.load(Ordering::Relaxed) && l.usable_at(at)) {
            Some(l) => {
                *self.refused.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some((seq, format!("{e} (exit {}, {})", e.exit_code(), e.kind())));
                Ok(l)
            }
            None => Err(e),
        }
    }

    /// A stored file verified: nothing is set aside.
    pub(crate) fn accepted(&self) {
        *self.refused.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl Allocator {
    /// From now on, when the file in the store changes (`licadmin load` by another process)
    /// and the new one does not verify here, keep using the license verified before, as
    /// long as it is usable, and report why with [`Allocator::refused_load`]. For a server;
    /// a command reports the stored file's error instead.
    pub fn keep_license_on_failure(&self) {
        self.keep.on.store(true, Ordering::Relaxed);
    }

    /// Why the file in the store is not the license in use, when it was refused and the one
    /// before kept ([`Allocator::keep_license_on_failure`]); `None` when the stored file is
    /// the one in use. Up to date as of the last operation that used the license.
    pub fn refused_load(&self) -> Option<String> {
        self.keep
            .refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(_, why)| why.clone())
    }

    /// One round trip to the store (a read of nothing): `Ok` when it answers. A lost
    /// PostgreSQL connection is made again here, as before any operation.
    pub fn ping(&self) -> Result<(), AllocError> {
        self.read(|c, _| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
    }
}
