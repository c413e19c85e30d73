//! The portal's shared state: its configuration, the ledger's readers (a pool of
//! read-only connections, each with what it keeps between requests) and its one writer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use format::SecretKey;
use issuer::{Catalog, Ledger};

use crate::auth::{Sessions, Throttle};
use crate::error::PortalError;
use crate::kept::Kept;
use crate::service::IssueQueue;

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (served over TLS, or behind a proxy that terminates it).
    pub secure_cookies: bool,
    /// Reverse proxies whose header names the client address (for login throttling).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// How long a login of an account under attack waits ([`crate::throttle`]).
    pub login_delay: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            trusted_proxies: Default::default(),
            login_delay: crate::throttle::ACCOUNT_DELAY,
        }
    }
}

/// Everything a request handler reaches: the ledger (one writer, a few readers, and the
/// browser sessions kept in it), the catalog, the signing key and the login throttle.
pub struct AppState {
    writer: Mutex<Ledger>,
    readers: Vec<Mutex<Reader>>,
    next_reader: AtomicUsize,
    /// Whether a read may run on the async thread that asked for it: an SQLite read takes
    /// well under a millisecond. PostgreSQL's client blocks on a runtime of its own, which
    /// may not run on an async thread (and its reads wait for the network anyway).
    inline_reads: bool,
    /// The product catalog.
    pub catalog: Catalog,
    key: SecretKey,
    /// Login attempts.
    pub throttle: Throttle,
    /// Password checks allowed at once.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// How the server was started.
    pub config: Config,
    /// Requests to issue files, waiting for the writer.
    pub(crate) issues: IssueQueue,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("readers", &self.readers.len())
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Readers opened beside the writer, so pages are served while a file is being issued.
pub const READERS: usize = 4;

impl AppState {
    /// Open the ledger at `location` (a path or a [`issuer::location::LedgerLocation`];
    /// created or migrated) with [`READERS`] readers.
    pub fn open(
        location: impl Into<issuer::location::LedgerLocation>,
        catalog: Catalog,
        key: SecretKey,
        config: Config,
    ) -> Result<AppState, issuer::IssuerError> {
        let location = location.into();
        let writer = Ledger::open_at(&location)?;
        let readers = (0..READERS)
            .map(|_| {
                Ledger::open_at(&location).map(|ledger| {
                    Mutex::new(Reader {
                        ledger,
                        kept: Kept::default(),
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AppState {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            inline_reads: matches!(location, issuer::location::LedgerLocation::Sqlite(_)),
            catalog,
            key,
            throttle: Throttle::new(config.login_delay),
            password_checks: Arc::new(tokio::sync::Semaphore::new(crate::auth::PASSWORD_CHECKS)),
            config,
            issues: IssueQueue::default(),
        })
    }

    /// The ledger file's permissions when group or others may open it, as found when the
    /// ledger was opened.
    pub fn loose_permissions(&self) -> Option<issuer::LoosePermissions> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .loose_permissions()
            .cloned()
    }

    /// The browser sessions, kept in the ledger (every portal process on it shares them).
    pub fn sessions(self: &Arc<Self>) -> Sessions<'_> {
        Sessions { state: self }
    }

    /// The public key's id (for the server log; the key itself is never served).
    pub fn key_id(&self) -> String {
        self.key.key_id().to_string()
    }

    /// Run a read on one of the readers, in one read transaction (every query of it sees
    /// the same state of the ledger): right here when one is free (a page's reads take well
    /// under a millisecond, less than handing them to another thread costs), else on a
    /// blocking thread that waits for one. On PostgreSQL a free reader runs as a change does
    /// ([`AppState::write`]: this thread, its async work moved elsewhere).
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&Ledger, &Catalog) -> Result<T, PortalError> + Send + 'static,
    {
        self.read_kept(move |l, _, cat| f(l, cat)).await
    }

    /// [`AppState::read`], with what this reader keeps of its earlier reads at the same
    /// ledger state (see [`crate::kept`]): `f` checks the caller against the ledger, then
    /// takes what does not depend on the caller from [`Kept::get_or`].
    pub async fn read_kept<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&Ledger, &mut Kept, &Catalog) -> Result<T, PortalError> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        {
            let free = (0..self.readers.len())
                .map(|i| (start + i) % self.readers.len())
                .find_map(|k| self.readers[k].try_lock().ok());
            match free {
                Some(mut r) if self.inline_reads => return r.run(&self.catalog, f),
                Some(mut r) if multi_threaded() => {
                    return tokio::task::block_in_place(|| r.run(&self.catalog, f));
                }
                // No free reader (or none may run here): a blocking thread waits for one.
                _ => {}
            }
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let n = me.next_reader.fetch_add(1, Ordering::Relaxed) % me.readers.len();
            let mut r = me.readers[n].lock().unwrap_or_else(|e| e.into_inner());
            r.run(&me.catalog, f)
        })
        .await
        .map_err(PortalError::internal)?
    }

    /// Run a change on the writer, off the async threads.
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, PortalError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Ledger, &Catalog, &SecretKey) -> Result<T, PortalError> + Send + 'static,
    {
        let me = self.clone();
        let run = move || {
            let mut l = me.writer.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut l, &me.catalog, &me.key)
        };
        // On the server's multi-threaded runtime the change runs right here, the runtime
        // moving this thread's other work to another thread while it waits for the disk (no
        // hand-off to a blocking thread and back in the request's way); elsewhere (a test's
        // single-threaded runtime) on a blocking thread.
        if multi_threaded() {
            // A panic is an internal error of this request, as on a blocking thread.
            return tokio::task::block_in_place(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
                    .unwrap_or_else(|_| Err(PortalError::internal("a change panicked")))
            });
        }
        tokio::task::spawn_blocking(run)
            .await
            .map_err(PortalError::internal)?
    }
}

/// Whether this runs on a multi-threaded runtime (the server's), where a blocking call may
/// run right on the async thread through `block_in_place`.
fn multi_threaded() -> bool {
    tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
}

/// A reader of the ledger and what it keeps of its last reads.
struct Reader {
    ledger: Ledger,
    kept: Kept,
}

impl Reader {
    fn run<T>(
        &mut self,
        cat: &Catalog,
        f: impl FnOnce(&Ledger, &mut Kept, &Catalog) -> Result<T, PortalError>,
    ) -> Result<T, PortalError> {
        let Reader { ledger, kept } = self;
        ledger.read_snapshot(|l| {
            kept.at(l.change_counter()?);
            f(l, kept, cat)
        })
    }
}
