//! What a ledger reader keeps between requests: the results of its last reads, valid for
//! exactly as long as the ledger is unchanged.
//!
//! Every read runs in one consistent view of the ledger ([`issuer::Ledger::read_snapshot`])
//! that starts with the ledger's change counter ([`issuer::Ledger::change_counter`]). That
//! number changes whenever any other connection (the portal's writer, an `issuer` command
//! beside it, anything) has committed since this reader last looked, so the kept results
//! are dropped at the first read after any change, and a result is never served from a
//! state older than the one the reader sees. What is kept is what does not depend on the
//! caller (a user's record, a page's rows, the HTML of a table of them); who may see it is
//! checked against the ledger on every request before anything kept is used.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::error::PortalError;
use crate::service::ActivityQuery;

/// Results kept per reader. Each is small (a page holds at most
/// [`crate::service::PAGE_SIZE`] rows), so a reader holds a few MiB at most.
pub const KEPT: usize = 64;

/// What a kept result answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// The portal user with this id, as the ledger has them.
    User(i64),
    /// The active user whose API token has this SHA-256, if the token is not revoked.
    Token([u8; 32]),
    /// An account's summary page: its rows, categories and sites, by filter.
    Summary {
        /// Account id.
        account: i64,
        /// The install site filter.
        site: Option<String>,
        /// The product category filter.
        category: Option<String>,
    },
    /// A page of an account's activity list, by filter.
    Activity {
        /// Account id.
        account: i64,
        /// The filters and page, as given.
        query: ActivityQuery,
    },
    /// That page's table as HTML (escaped), with or without the actions that change files.
    ActivityTable {
        /// Account id.
        account: i64,
        /// The filters and page, as given.
        query: ActivityQuery,
        /// Whether the Update and Deactivate links are shown.
        may_change: bool,
    },
}

/// The results one reader keeps, and the ledger state they were read at.
#[derive(Default)]
pub struct Kept {
    version: Option<i64>,
    map: HashMap<Key, Arc<dyn Any + Send + Sync>>,
    order: VecDeque<Key>,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("version", &self.version)
            .field("results", &self.map.len())
            .finish()
    }
}

impl Kept {
    /// Start a read at ledger state `version` (the reader's change counter inside the read's
    /// snapshot): everything kept from another state is dropped.
    pub fn at(&mut self, version: i64) {
        if self.version != Some(version) {
            self.map.clear();
            self.order.clear();
            self.version = Some(version);
        }
    }

    /// The result for `key`, computed by `f` (and kept) when there is none. Errors are not
    /// kept. When [`KEPT`] results are kept already, the oldest one goes.
    pub fn get_or<T, F>(&mut self, key: Key, f: F) -> Result<Arc<T>, PortalError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Result<T, PortalError>,
    {
        if let Some(v) = self
            .map
            .get(&key)
            .and_then(|v| v.clone().downcast::<T>().ok())
        {
            return Ok(v);
        }
        let v = Arc::new(f()?);
        if self.map.len() >= KEPT {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        if self.map.insert(key.clone(), v.clone()).is_none() {
            self.order.push_back(key);
        }
        Ok(v)
    }

    /// How many results are kept now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_ledger_state_drops_everything_kept() {
        let mut k = Kept::default();
        k.at(1);
        let mut runs = 0;
        for _ in 0..3 {
            let v = k
                .get_or(Key::User(7), || {
                    runs += 1;
                    Ok(format!("read {runs}"))
                })
                .unwrap();
            assert_eq!(*v, "read 1");
        }
        k.at(1);
        assert_eq!(k.len(), 1, "the same state keeps what it read");
        k.at(2);
        assert!(k.is_empty());
        let v = k
            .get_or(Key::User(7), || Ok("read again".to_string()))
            .unwrap();
        assert_eq!(*v, "read again");
    }

    #[test]
    fn errors_are_not_kept_and_the_oldest_result_goes_first() {
        let mut k = Kept::default();
        k.at(1);
        let e = k.get_or::<String, _>(Key::User(1), || Err(PortalError::not_found()));
        assert!(e.is_err());
        assert!(k.is_empty());
        for i in 0..KEPT as i64 + 1 {
            k.get_or(Key::User(i), || Ok(i)).unwrap();
        }
        assert_eq!(k.len(), KEPT);
        let v = k.get_or(Key::User(0), || Ok(-1i64)).unwrap();
        assert_eq!(*v, -1, "the oldest result was dropped and read again");
        let v = k.get_or(Key::User(KEPT as i64), || Ok(-1i64)).unwrap();
        assert_eq!(*v, KEPT as i64, "the newest stayed");
    }

    #[test]
    fn a_key_kept_as_another_type_is_read_again() {
        let mut k = Kept::default();
        k.at(1);
        k.get_or(Key::User(1), || Ok(1u8)).unwrap();
        let v = k.get_or(Key::User(1), || Ok("text")).unwrap();
        assert_eq!(*v, "text");
    }
}
