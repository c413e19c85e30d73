//! The license of a batch ([`crate::Allocator::batch`]), verified once for all its
//! operations: the batch is one transaction at one `now`, none of its operations loads a
//! license, and the latest time seen is recorded only at its end, so every operation would
//! read the same stored file and clock check. Saves two statements per operation.

use std::cell::RefCell;
use std::sync::Arc;

use verify::License;

thread_local! {
    /// Set only while a batch runs on this thread (its transaction holds the connection).
    static PINNED: RefCell<Option<Pinned>> = const { RefCell::new(None) };
}

/// What a running batch has of its license: nothing asked yet, or the license verified.
enum Pinned {
    Unknown,
    Known(Arc<License>),
}

/// Marks a batch as running on this thread until dropped.
pub(crate) struct BatchScope(());

impl BatchScope {
    /// Begin pinning: the first license verified in the batch serves the rest of it.
    pub(crate) fn begin() -> BatchScope {
        PINNED.with(|p| *p.borrow_mut() = Some(Pinned::Unknown));
        BatchScope(())
    }
}

impl Drop for BatchScope {
    fn drop(&mut self) {
        PINNED.with(|p| *p.borrow_mut() = None);
    }
}

/// The license the running batch verified already, if any.
pub(crate) fn pinned() -> Option<Arc<License>> {
    PINNED.with(|p| match &*p.borrow() {
        Some(Pinned::Known(l)) => Some(l.clone()),
        _ => None,
    })
}

/// Keep `l` for the rest of the running batch (no batch running: nothing kept).
pub(crate) fn pin(l: &Arc<License>) {
    PINNED.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_some() {
            *p = Some(Pinned::Known(l.clone()));
        }
    });
}
