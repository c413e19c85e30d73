//! The ledger: accounts, install sites, ordered items and issued files, in SQLite.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction (the write lock is taken before anything
//! is read, so two issuers never both see the same units available), in WAL mode with
//! `synchronous=FULL` (a committed transaction survives a power cut). Used and available
//! counts are computed from the active files' usage rows, never stored. What those counts
//! mean, which lines a file draws on and the other rules of the ledger are decided in
//! [`policy`], over rows read here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use format::{FileId, LicenseCount, LicenseType, SecretKey, Timestamp};
use sha2::{Digest, Sha256};
use store::{params, OptionalExt, Tx, TxExt};

use crate::catalog::{Catalog, Grant};
use crate::error::IssuerError;
use crate::fsio::{OutFile, PendingFile};
use crate::location::LedgerLocation;
use crate::rules::{self, IssueRequest, Plan};

mod audit;
pub mod copy;
mod deactivation;
pub mod done_once;
pub mod idempotency;
mod import;
mod lifecycle;
mod lookups;
mod migrations;
pub mod policy;
mod portal;
mod portal_admin;
mod request_check;
mod sessions;
mod switchover;

pub use audit::{format_head, parse_head, AuditProblem, AuditReport};
pub use deactivation::{
    DeactivationHow, DeactivationOutcome, PendingDeactivation, RehostAllowance, ALLOWANCE_WINDOW,
};
pub use done_once::{Done, NOT_KEPT_STATUS};
pub use idempotency::{Answered, OnceKey};
pub use import::ImportedFile;
pub use lifecycle::{
    Activity, ActivityFilter, ActivityRow, Deactivated, FileDetails, UpdateRequest,
    UpgradeSelection, UpgradedLine,
};
pub use lookups::{AuditRow, OrderLine};
pub use policy::MIN_ID_PREFIX;
pub use portal::{
    attachment_type, check_email, parse_request_number, request_number, AccountRef, Attachment,
    AttachmentInfo, NewRequest, PortalUser, RequestRecord, Role, ATTACHMENT_TYPES, MAX_ATTACHMENTS,
    MAX_ATTACHMENT_BYTES, REQUEST_CATEGORIES, REQUEST_FILE_TYPES, REQUEST_TYPES,
};
pub use portal_admin::PortalToken;
pub use request_check::{
    earliest_today, reason_of, RequestProblem, DEPLOYMENT_TYPES, IMPLEMENTATION_TYPES,
};
pub use sessions::{PortalSession, SessionLimits, PURGE_BATCH, TOUCH_INTERVAL_MS};

/// The ledger's schema version: the number of the last migration file (`migrations/sqlite/`,
/// `migrations/postgres/`), applied on open by a writer.
pub const SCHEMA_VERSION: i64 = 10;

/// How long a writer waits for another one to finish before giving up.
pub const BUSY_TIMEOUT: Duration = store_sqlite::BUSY_TIMEOUT;

/// Domain separator of the audit hash chain.
pub const AUDIT_DOMAIN: &[u8] = b"i3lic/audit/v1\0";

/// The hash of one audit row: SHA-256 over the domain, the previous hash, the row's sequence
/// number and time (8 bytes big-endian each) and each text field as an 8-byte big-endian
/// length and its bytes (an absent `before`/`after` is the length `u64::MAX`).
#[allow(clippy::too_many_arguments)]
pub fn audit_hash(
    prev: &[u8],
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(AUDIT_DOMAIN);
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    for f in [Some(actor), Some(action), Some(subject), before, after] {
        match f {
            Some(s) => {
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
            None => h.update(u64::MAX.to_be_bytes()),
        }
    }
    h.finalize().into()
}

/// Address and details of an install site.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SiteDetails {
    /// Up to three address lines.
    pub address: Vec<String>,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Country.
    pub country: String,
    /// Postal code.
    pub postal_code: String,
}

/// An install site as listed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    /// Name.
    pub name: String,
    /// Address and details.
    #[serde(flatten)]
    pub details: SiteDetails,
    /// Whether files may be issued to it.
    pub active: bool,
}

/// One row of the account summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartSummary {
    /// Part number.
    pub part: String,
    /// Product category (`CIC 4.0`).
    pub category: String,
    /// Description.
    pub description: String,
    /// License keys each unit grants.
    pub grants: Vec<Grant>,
    /// Perpetual units ordered by the account (in a site's list too: orders belong to the
    /// account).
    pub perpetual: u64,
    /// Non-perpetual units ordered by the account (in a site's list too).
    pub non_perpetual: u64,
    /// Units ordered; in a site's list, what the site can have: `used` + `available`.
    pub total: u64,
    /// Units used by active files (at the site, in a site's list), pending ones included.
    pub used: u64,
    /// Of `used`, units of deactivated files pending staff approval (docs/DEACTIVATION.md).
    pub pending: u64,
    /// Units still available to the account (and so to each of its sites).
    pub available: u64,
}

/// Use of the account's items at one install site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteSummary {
    /// The site.
    pub site: String,
    /// Whether it is active.
    pub active: bool,
    /// Every ordered part with `used` counting only this site's active files.
    pub parts: Vec<PartSummary>,
}

/// The seed's Account Summary: per part for the account, then per install site.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// The account.
    pub account: String,
    /// Per part, for the whole account.
    pub parts: Vec<PartSummary>,
    /// Per install site.
    pub sites: Vec<SiteSummary>,
}

/// A newly issued file.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its id.
    pub file_id: FileId,
    /// The exact bytes recorded (and written to the output, if any).
    pub bytes: Vec<u8>,
    /// When it expires.
    pub expires_at: Timestamp,
}

/// An existing ledger file whose permissions let group or others open it. It holds
/// customer data, so `issuer` warns (it does not refuse: a vendor may share a ledger with a
/// group on purpose). Its `Display` is the warning, naming the file, its mode and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoosePermissions {
    /// The ledger file.
    pub path: PathBuf,
    /// Its permission bits (`0o644`, ...).
    pub mode: u32,
}

impl std::fmt::Display for LoosePermissions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = match (self.mode & 0o070 != 0, self.mode & 0o007 != 0) {
            (true, true) => "group and others",
            (true, false) => "its group",
            _ => "others",
        };
        write!(
            f,
            "ledger {} has mode {:04o}: {who} can open it, and it holds customer data; \
             `chmod 600 {}` keeps it to its owner (SQLite gives its -wal and -shm files the same mode)",
            self.path.display(),
            self.mode,
            self.path.display()
        )
    }
}

/// An open ledger, on whichever engine holds it.
pub struct Ledger {
    db: Box<dyn store::Connection>,
    /// Where it is, for messages (a PostgreSQL URL shows without its password).
    location: LedgerLocation,
    loose: Option<LoosePermissions>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The error of an engine's `open`, naming the ledger: another program's database or a
/// schema this build cannot read is [`IssuerError::LedgerFormat`] (exit 3); a file, disk,
/// network or credentials failure [`IssuerError::Io`] (exit 4).
fn open_failed(location: &LedgerLocation, action: &'static str, e: store::Error) -> IssuerError {
    let path = PathBuf::from(location.to_string());
    match e.kind() {
        store::ErrorKind::Foreign => IssuerError::LedgerFormat {
            path,
            reason: e.message().to_owned(),
        },
        store::ErrorKind::Io => {
            IssuerError::io(action, &path, std::io::Error::other(e.message().to_owned()))
        }
        _ => IssuerError::Store(e),
    }
}

impl Ledger {
    /// Open (creating it and its schema on first use, mode 0600) the SQLite ledger at
    /// `path`: [`Ledger::open_at`] of [`LedgerLocation::Sqlite`].
    pub fn open(path: &Path) -> Result<Ledger, IssuerError> {
        Ledger::open_at(&LedgerLocation::Sqlite(path.to_path_buf()))
    }

    /// Open an existing SQLite ledger for reading only: [`Ledger::open_read_only_at`].
    pub fn open_read_only(path: &Path) -> Result<Ledger, IssuerError> {
        Ledger::open_read_only_at(&LedgerLocation::Sqlite(path.to_path_buf()))
    }

    /// Open the ledger at `location` to read and write, creating its schema on first use and
    /// migrating an older one (in one transaction). An SQLite file is created with mode 0600
    /// (and its folder, 0700); a path that is not a regular file (a folder, a FIFO, a device)
    /// is refused before SQLite opens it ([`IssuerError::Io`], exit 4). Another program's
    /// database, or a schema newer than this build, is [`IssuerError::LedgerFormat`] (exit 3).
    pub fn open_at(location: &LedgerLocation) -> Result<Ledger, IssuerError> {
        if let LedgerLocation::Sqlite(path) = location {
            crate::fsio::check_ledger_path(path, "opening the ledger")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::fsio::create_private_dir(dir, "creating the ledger folder")?;
            }
        }
        let db = Self::engine(location, store::Access::Write)?;
        Ok(Ledger {
            db,
            loose: Self::loose_permissions_of(location),
            location: location.clone(),
        })
    }

    /// Open an existing ledger for reading only: what the commands that only read use
    /// (`account list`, `summary`, `show`, `activity`, `audit verify`, `download`, ...).
    /// Nothing is created or written: a missing SQLite file is [`IssuerError::Io`] naming
    /// the path (no file and no folder is made), and a user who may read the ledger but not
    /// write it (nor its folder) can use it.
    ///
    /// SQLite reads a ledger in WAL mode through its `-wal` and `-shm` files. When they do
    /// not exist and this user may not create them, the ledger file alone holds every
    /// committed change: it is read as it is, without SQLite's locks, and
    /// [`Ledger::check_unchanged`] tells afterwards whether a writer changed it meanwhile,
    /// in which case the caller reads again.
    ///
    /// A ledger of an older schema is opened with [`Ledger::open_at`] once, to be migrated; a
    /// user who may only read it gets [`IssuerError::LedgerFormat`] saying so.
    pub fn open_read_only_at(location: &LedgerLocation) -> Result<Ledger, IssuerError> {
        let action = "reading the ledger";
        match location {
            LedgerLocation::Sqlite(path) => {
                crate::fsio::check_ledger_path(path, action)?;
                if let Err(e) = std::fs::metadata(path) {
                    let e = if e.kind() == std::io::ErrorKind::NotFound {
                        std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            "there is no ledger there (a command that only reads never creates one; give --db or $I3LIC_DB, or create it with `issuer account add`)",
                        )
                    } else {
                        e
                    };
                    return Err(IssuerError::io(action, path, e));
                }
            }
            LedgerLocation::Postgres(_) => {}
        }
        let db = Self::engine(location, store::Access::Read)?;
        let v = db.schema_version()?;
        if v < SCHEMA_VERSION {
            drop(db);
            return Ledger::open_at(location).map_err(|e| match e {
                IssuerError::Io { .. } => IssuerError::LedgerFormat {
                    path: PathBuf::from(location.to_string()),
                    reason: format!(
                        "schema version {v}: it is migrated to version {SCHEMA_VERSION} the first time a user who may write it runs any issuer command ({e})"
                    ),
                },
                other => other,
            });
        }
        Ok(Ledger {
            db,
            loose: Self::loose_permissions_of(location),
            location: location.clone(),
        })
    }

    /// The engine's connection to the ledger at `location`, opened as `access` says (a
    /// read-only one neither creates nor migrates anything).
    pub(crate) fn engine(
        location: &LedgerLocation,
        access: store::Access,
    ) -> Result<Box<dyn store::Connection>, IssuerError> {
        let action = match access {
            store::Access::Write => "opening the ledger",
            store::Access::Read => "reading the ledger",
        };
        match location {
            LedgerLocation::Sqlite(path) => store_sqlite::open(path, &migrations::SQLITE, access),
            LedgerLocation::Postgres(url) => {
                store_postgres::open(url.expose(), &migrations::POSTGRES, access)
            }
        }
        .map_err(|e| open_failed(location, action, e))
    }

    /// Where the ledger is (a PostgreSQL URL displays without its password).
    pub fn location(&self) -> &LedgerLocation {
        &self.location
    }

    /// After reading from a ledger opened with [`Ledger::open_read_only`]: whether what was
    /// read is one consistent ledger. Always so when the engine's locks were used; when an
    /// SQLite ledger was read without them (this user may not create its -wal and -shm
    /// files), an error if the file changed or its write-ahead log appeared since it was
    /// opened: a writer was active, and the reads may mix two states. Read again then.
    pub fn check_unchanged(&self) -> Result<(), IssuerError> {
        self.db.check_unchanged().map_err(|e| {
            IssuerError::io(
                "reading the ledger",
                PathBuf::from(self.location.to_string()),
                std::io::Error::other(e.message().to_owned()),
            )
        })
    }

    /// Whether this ledger was opened read-only without SQLite's locks
    /// ([`Ledger::open_read_only`] where this user may not create the -wal and -shm files).
    pub fn read_without_locks(&self) -> bool {
        self.db.read_without_locks()
    }

    /// Run `f`'s reads against one consistent view of the ledger: every read in it sees the
    /// same committed state, however many changes other connections or processes commit
    /// meanwhile (one read transaction of the engine). `f` must only read; the view ends
    /// when `f` returns, whatever it returns (a panic included).
    pub fn read_snapshot<T, E>(&self, f: impl FnOnce(&Ledger) -> Result<T, E>) -> Result<T, E>
    where
        E: From<IssuerError>,
    {
        /// Ends the read transaction however `f` ends, a panic included (a transaction left
        /// open would fail every later `BEGIN` on this connection and hold the log).
        struct End<'a>(&'a dyn store::Connection);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                self.0.end_read();
            }
        }
        self.db
            .begin_read()
            .map_err(|e| E::from(IssuerError::Store(e)))?;
        let _end = End(&*self.db);
        f(self)
    }

    /// The ledger's change counter: a number that changes whenever any other open
    /// [`Ledger`] (in this process or another) commits a change to the ledger; changes
    /// committed through this one need not change it. Compare it, never interpret it: only
    /// equality means something, and only between readings of one open [`Ledger`]. Read
    /// inside [`Ledger::read_snapshot`] it names the state that view reads, so a reader
    /// can keep results and know exactly when they are stale.
    pub fn change_counter(&self) -> Result<i64, IssuerError> {
        Ok(self.db.change_counter()?)
    }

    /// The ledger file's permissions when group or others may open it (any of the bits
    /// `0o077`), as found when it was opened; `None` when only its owner may (always `None`
    /// off Unix, and for a PostgreSQL ledger, whose access the server controls).
    pub fn loose_permissions(&self) -> Option<&LoosePermissions> {
        self.loose.as_ref()
    }

    #[cfg(unix)]
    fn loose_permissions_of(location: &LedgerLocation) -> Option<LoosePermissions> {
        use std::os::unix::fs::PermissionsExt;
        let LedgerLocation::Sqlite(path) = location else {
            return None;
        };
        // The file the path leads to (a symbolic link is followed, as SQLite follows it).
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then(|| LoosePermissions {
            path: path.to_path_buf(),
            mode,
        })
    }

    #[cfg(not(unix))]
    fn loose_permissions_of(_location: &LedgerLocation) -> Option<LoosePermissions> {
        None
    }

    /// The statements of the ledger's engine, for the ledger's own tests that read tables
    /// directly. Not part of the interface: callers use the methods of [`Ledger`].
    #[doc(hidden)]
    pub fn raw_for_tests(&self) -> &dyn Tx {
        &*self.db
    }

    /// The engine's statements outside a transaction.
    fn tx(&self) -> &dyn Tx {
        &*self.db
    }

    fn append_audit(
        tx: &dyn Tx,
        at: i64,
        actor: &str,
        action: &str,
        subject: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<(), IssuerError> {
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (seq, prev) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, vec![0u8; 32]),
        };
        // Every change passes here in its transaction, so this one check covers each place
        // the actor is stored (the audit row, `orders.added_by`, `files.deactivated_by`):
        // a refusal rolls the whole change back.
        check_name("the name recorded as who made the change", actor)?;
        let hash = audit_hash(&prev, seq, at, actor, action, subject, before, after);
        tx.execute(
            "INSERT INTO audit (seq, at, actor, action, subject, before, after, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![seq, at, actor, action, subject, before, after, prev, hash.as_slice()],
        )?;
        Ok(())
    }

    /// The account `name` names, compared without case (an exact match first). Not found:
    /// [`IssuerError::UnknownAccount`] with the closest names.
    /// [`IssuerError::Duplicate`] naming the account that already has `name`, compared
    /// without case (`contoso` beside `Contoso` is the same account), other than `except`.
    fn refuse_taken_account_name(
        conn: &dyn Tx,
        name: &str,
        except: Option<i64>,
    ) -> Result<(), IssuerError> {
        let taken: Option<String> = conn
            .query_row(
                "SELECT name FROM accounts WHERE nocase(name) = nocase(?1)
                 AND (CAST(?2 AS BIGINT) IS NULL OR id <> ?2) LIMIT 1",
                params![name, except],
                |r| r.get(0),
            )
            .optional()?;
        match taken {
            Some(name) => Err(IssuerError::Duplicate {
                what: "account",
                name,
            }),
            None => Ok(()),
        }
    }

    /// The account `name` names (id and stored name), compared without case (an exact
    /// match first); `None` when there is none.
    fn find_account(conn: &dyn Tx, name: &str) -> Result<Option<(i64, String)>, IssuerError> {
        // The name as spelled first (through the unique index), then in any case (a scan).
        let exact = conn
            .prepare_cached("SELECT id, name FROM accounts WHERE name = ?1")?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match exact {
            Some(found) => Some(found),
            None => conn
                .prepare_cached(
                    "SELECT id, name FROM accounts WHERE nocase(name) = nocase(?1) ORDER BY id LIMIT 1",
                )?
                .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
        })
    }

    fn account_id(conn: &dyn Tx, name: &str) -> Result<i64, IssuerError> {
        match Self::find_account(conn, name)? {
            Some((id, _)) => Ok(id),
            None => {
                let mut st = conn.prepare_cached("SELECT name FROM accounts")?;
                let names = st
                    .query_map([], |r| r.get::<String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Err(IssuerError::UnknownAccount {
                    name: name.to_string(),
                    suggestions: crate::suggest::closest(name, names.iter().map(String::as_str)),
                })
            }
        }
    }

    /// The account's name as the ledger spells it, for a name given in any case.
    pub fn account_name(&self, given: &str) -> Result<String, IssuerError> {
        let id = Self::account_id(self.tx(), given)?;
        Ok(self
            .db
            .query_row("SELECT name FROM accounts WHERE id = ?1", [id], |r| {
                r.get(0)
            })?)
    }

    /// An install site's name as the ledger spells it, for a name given in any case.
    pub fn site_name(&self, account: &str, given: &str) -> Result<String, IssuerError> {
        let a = Self::account_id(self.tx(), account)?;
        let (id, _) = Self::site_id(self.tx(), account, a, given)?;
        Ok(self
            .db
            .query_row("SELECT name FROM sites WHERE id = ?1", [id], |r| r.get(0))?)
    }

    fn site_id(
        conn: &dyn Tx,
        account: &str,
        account_id: i64,
        name: &str,
    ) -> Result<(i64, bool), IssuerError> {
        match Self::find_site(conn, account_id, name)? {
            Some((id, active, _)) => Ok((id, active)),
            None => {
                let mut st = conn.prepare_cached("SELECT name FROM sites WHERE account_id = ?1")?;
                let names = st
                    .query_map([account_id], |r| r.get::<String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Err(IssuerError::UnknownSite {
                    account: account.to_string(),
                    name: name.to_string(),
                    suggestions: crate::suggest::closest(name, names.iter().map(String::as_str)),
                })
            }
        }
    }

    /// The install site `name` names in an account (id, whether it is active, stored name),
    /// compared without case (an exact match first); `None` when there is none.
    fn find_site(
        conn: &dyn Tx,
        account_id: i64,
        name: &str,
    ) -> Result<Option<(i64, bool, String)>, IssuerError> {
        // The name as spelled first (through the unique index), then in any case.
        let row = |r: &store::Row| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
        let exact = conn
            .prepare_cached(
                "SELECT id, active, name FROM sites WHERE account_id = ?1 AND name = ?2",
            )?
            .query_row(params![account_id, name], row)
            .optional()?;
        Ok(match exact {
            Some(f) => Some(f),
            None => conn
                .prepare_cached(
                    "SELECT id, active, name FROM sites WHERE account_id = ?1 AND nocase(name) = nocase(?2)
                     ORDER BY id LIMIT 1",
                )?
                .query_row(params![account_id, name], row)
                .optional()?,
        })
    }

    /// `req` spelled as recorded ([`policy::canonical_request`]): the account and install
    /// site as the ledger spells them, part numbers as the catalog does. What is signed and
    /// recorded always comes from here, whatever case a caller typed.
    fn spelled(
        conn: &dyn Tx,
        catalog: &Catalog,
        req: &IssueRequest,
    ) -> Result<IssueRequest, IssuerError> {
        let (account, site) = match Self::find_account(conn, &req.account)? {
            Some((id, name)) => (
                Some(name),
                Self::find_site(conn, id, &req.site)?.map(|s| s.2),
            ),
            None => (None, None),
        };
        Ok(policy::canonical_request(catalog, req, account, site))
    }

    fn active_site(conn: &dyn Tx, account: &str, site: &str) -> Result<(i64, i64), IssuerError> {
        let a = Self::account_id(conn, account)?;
        let (s, active) = Self::site_id(conn, account, a, site)?;
        if !active {
            return Err(IssuerError::InactiveSite {
                account: account.to_string(),
                name: site.to_string(),
            });
        }
        Ok((a, s))
    }

    /// Add an account.
    pub fn add_account(&mut self, name: &str, actor: &str) -> Result<(), IssuerError> {
        check_name("account name", name)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        Self::refuse_taken_account_name(&tx, name, None)?;
        tx.query_row(
            "INSERT INTO accounts (id, name, created_at) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM accounts), ?1, ?2) RETURNING id",
            params![name, now], |r| r.get::<i64>(0))?;
        Self::append_audit(
            &tx,
            now,
            actor,
            "account.add",
            name,
            None,
            Some(&serde_json::json!({ "name": name }).to_string()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every account name, sorted.
    pub fn accounts(&self) -> Result<Vec<String>, IssuerError> {
        let mut st = self
            .db
            .prepare_cached("SELECT name FROM accounts ORDER BY name")?;
        let names = st
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(names)
    }

    /// Add an install site to an account.
    pub fn add_site(
        &mut self,
        account: &str,
        name: &str,
        d: &SiteDetails,
        actor: &str,
    ) -> Result<(), IssuerError> {
        check_name("site name", name)?;
        let d = &policy::site_details(d)?;
        let line = |i: usize| d.address.get(i).map(String::as_str).unwrap_or("");
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        // Compared without case, as account names.
        if let Ok((s, _)) = Self::site_id(&tx, account, a, name) {
            let existing: String =
                tx.query_row("SELECT name FROM sites WHERE id = ?1", [s], |r| r.get(0))?;
            return Err(IssuerError::Duplicate {
                what: "install site",
                name: existing,
            });
        }
        tx.query_row(
            "INSERT INTO sites (id, account_id, name, address1, address2, address3, city, state, country, postal_code, created_at)
             VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM sites), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
            params![a, name, line(0), line(1), line(2), d.city, d.state, d.country, d.postal_code, now], |r| r.get::<i64>(0))?;
        let after =
            serde_json::json!({ "account": account, "name": name, "details": d }).to_string();
        Self::append_audit(
            &tx,
            now,
            actor,
            "site.add",
            &format!("{account}/{name}"),
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Activate or deactivate an install site (no file can be issued to an inactive site).
    pub fn set_site_active(
        &mut self,
        account: &str,
        name: &str,
        active: bool,
        actor: &str,
    ) -> Result<(), IssuerError> {
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        let (s, was) = Self::site_id(&tx, account, a, name)?;
        if was != active {
            tx.execute(
                "UPDATE sites SET active = ?1 WHERE id = ?2",
                params![active, s],
            )?;
            let j = |v: bool| serde_json::json!({ "active": v }).to_string();
            Self::append_audit(
                &tx,
                now,
                actor,
                "site.set-active",
                &format!("{account}/{name}"),
                Some(&j(was)),
                Some(&j(active)),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The install sites of an account, by name.
    pub fn sites(&self, account: &str) -> Result<Vec<Site>, IssuerError> {
        let a = Self::account_id(self.tx(), account)?;
        let mut st = self.db.prepare_cached(
            "SELECT name, address1, address2, address3, city, state, country, postal_code, active
             FROM sites WHERE account_id = ?1 ORDER BY name",
        )?;
        let rows = st
            .query_map([a], |r| {
                let address = [r.get::<String>(1)?, r.get(2)?, r.get(3)?]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                Ok(Site {
                    name: r.get(0)?,
                    details: SiteDetails {
                        address,
                        city: r.get(4)?,
                        state: r.get(5)?,
                        country: r.get(6)?,
                        postal_code: r.get(7)?,
                    },
                    active: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Record an order line. A server part that includes a development system adds it too
    /// (quantity 1 per server unit, at no cost); the included part is returned.
    pub fn add_order(
        &mut self,
        catalog: &Catalog,
        account: &str,
        part: &str,
        quantity: u32,
        perpetual: bool,
        actor: &str,
    ) -> Result<Option<String>, IssuerError> {
        let p = catalog.lookup_part(part)?;
        // Recorded as the catalog spells it, whatever case it was given in.
        let part = p.number.as_str();
        if quantity == 0 {
            return Err(IssuerError::MalformedRequest {
                reason: format!("quantity of {part} is zero"),
            });
        }
        if quantity > format::MAX_COUNT {
            return Err(IssuerError::MalformedRequest {
                reason: format!("quantity of {part} is above {}", format::MAX_COUNT),
            });
        }
        let includes = p.server.as_ref().and_then(|s| s.includes.clone());
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        let id: i64 = tx.query_row(
            "INSERT INTO orders (id, account_id, part, quantity, perpetual, added_at, added_by) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM orders), ?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![a, part, quantity, perpetual, now, actor], |r| r.get(0))?;
        let after = serde_json::json!({ "order": id, "account": account, "part": part, "quantity": quantity, "perpetual": perpetual });
        Self::append_audit(
            &tx,
            now,
            actor,
            "order.add",
            &format!("{account}/{part}"),
            None,
            Some(&after.to_string()),
        )?;
        if let Some(inc) = &includes {
            let included: i64 = tx.query_row(
                "INSERT INTO orders (id, account_id, part, quantity, perpetual, included_with, added_at, added_by) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM orders), ?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                params![a, inc, quantity, perpetual, id, now, actor], |r| r.get(0))?;
            let after = serde_json::json!({ "order": included, "account": account, "part": inc, "quantity": quantity, "perpetual": perpetual, "included_with": id });
            Self::append_audit(
                &tx,
                now,
                actor,
                "order.add",
                &format!("{account}/{inc}"),
                None,
                Some(&after.to_string()),
            )?;
        }
        tx.commit()?;
        Ok(includes)
    }

    /// The account summary, optionally for one install site only.
    pub fn summary(
        &self,
        catalog: &Catalog,
        account: &str,
        site: Option<&str>,
    ) -> Result<Summary, IssuerError> {
        self.summary_of(catalog, account, site, true)
    }

    /// The rows of the account summary alone: account-wide, or with `site` the rows of that
    /// site (`used` counting its files only), as [`Ledger::summary`] gives them, without
    /// adding up the other sites.
    pub fn summary_parts(
        &self,
        catalog: &Catalog,
        account: &str,
        site: Option<&str>,
    ) -> Result<Vec<PartSummary>, IssuerError> {
        let mut s = self.summary_of(catalog, account, site, site.is_some())?;
        Ok(match site {
            Some(_) => s.sites.pop().map(|x| x.parts).unwrap_or_default(),
            None => s.parts,
        })
    }

    fn summary_of(
        &self,
        catalog: &Catalog,
        account: &str,
        site: Option<&str>,
        with_sites: bool,
    ) -> Result<Summary, IssuerError> {
        let a = Self::account_id(self.tx(), account)?;
        // Every line of the account, by part (parts in byte order, whatever the engine's
        // collation); the counts come from the rules ([`policy::part_totals`]).
        let mut parts: std::collections::BTreeMap<String, Vec<policy::Line>> = Default::default();
        for (part, line) in Self::order_lines(self.tx(), a, None)? {
            parts.entry(part).or_default().push(line);
        }
        // A part listed has an active line (one only upgraded away is not the account's).
        let totals: Vec<(String, policy::PartTotals)> = parts
            .into_iter()
            .filter(|(_, lines)| lines.iter().any(|l| l.active))
            .map(|(p, lines)| {
                let t = policy::part_totals(&lines);
                (p, t)
            })
            .collect();
        let used_by = |site_id: i64| -> Result<Vec<(String, i64)>, IssuerError> {
            let mut st = self.db.prepare_cached(&format!(
                "SELECT o.part, CAST(SUM(u.quantity) AS BIGINT) FROM file_usage u
                 JOIN files f ON f.seq = u.file_seq JOIN orders o ON o.id = u.order_id
                 WHERE o.account_id = ?1 AND {} AND f.site_id = ?2
                 GROUP BY o.part",
                deactivation::COUNTS_AS_USED
            ))?;
            let v = st
                .query_map(params![a, site_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(v)
        };
        let pending_all = Self::pending_units(self.tx(), a, None)?;
        let row = |part: &str, t: &policy::PartTotals, pending: &[(String, u64)]| {
            let c = catalog.part(part);
            PartSummary {
                part: part.to_string(),
                category: c.map(|c| c.category.clone()).unwrap_or_default(),
                description: c
                    .map(|c| c.description.clone())
                    .unwrap_or_else(|| "(not in this catalog)".into()),
                grants: c.map(|c| c.grants.clone()).unwrap_or_default(),
                perpetual: t.perpetual,
                non_perpetual: t.non_perpetual,
                total: t.total,
                used: t.used,
                pending: pending
                    .iter()
                    .find(|(p, _)| p == part)
                    .map_or(0, |(_, n)| *n),
                available: t.available,
            }
        };
        // One site asked for: found without case, or refused with the closest names.
        let only = site
            .filter(|_| with_sites)
            .map(|n| -> Result<i64, IssuerError> { Ok(Self::site_id(self.tx(), account, a, n)?.0) })
            .transpose()?;
        let mut sites = Vec::new();
        for s in self.sites(account)?.into_iter().filter(|_| with_sites) {
            let (sid, _) = Self::site_id(self.tx(), account, a, &s.name)?;
            if only.is_some_and(|o| o != sid) {
                continue;
            }
            let used = used_by(sid)?;
            let pending = Self::pending_units(self.tx(), a, Some(sid))?;
            let at_site = |part: &str| {
                used.iter()
                    .find(|(p, _)| p == part)
                    .map_or(0, |(_, n)| to_u64(*n))
            };
            sites.push(SiteSummary {
                site: s.name,
                active: s.active,
                parts: totals
                    .iter()
                    .map(|(p, t)| row(p, &policy::site_totals(t, at_site(p)), &pending))
                    .collect(),
            });
        }
        Ok(Summary {
            account: account.to_string(),
            parts: totals
                .iter()
                .map(|(p, t)| row(p, t, &pending_all))
                .collect(),
            sites,
        })
    }

    /// The order lines of an account (of one part only, when given) as the rules read
    /// them ([`policy::Line`]), each with its part, in the order they were recorded.
    pub(crate) fn order_lines(
        conn: &dyn Tx,
        account_id: i64,
        part: Option<&str>,
    ) -> Result<Vec<(String, policy::Line)>, IssuerError> {
        let mut st = conn.prepare_cached(
            "SELECT part, id, quantity, used, perpetual, active FROM orders
             WHERE account_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR part = ?2) ORDER BY id",
        )?;
        let v = st
            .query_map(params![account_id, part], |r| {
                Ok((
                    r.get::<String>(0)?,
                    policy::Line {
                        id: r.get(1)?,
                        quantity: to_u64(r.get(2)?),
                        used: to_u64(r.get(3)?),
                        perpetual: r.get(4)?,
                        active: r.get(5)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        Ok(v)
    }

    /// Order lines whose `used` counter differs from the sum of their active files' usage, as
    /// `(order id, part, counter, recomputed)`. Empty on a healthy ledger.
    pub fn verify_usage(&self) -> Result<Vec<(i64, String, u64, u64)>, IssuerError> {
        let mut st = self.db.prepare(&format!(
            "SELECT o.id, o.part, o.used, COALESCE((SELECT CAST(SUM(u.quantity) AS BIGINT) FROM file_usage u
                 JOIN files f ON f.seq = u.file_seq WHERE u.order_id = o.id AND {}), 0)
             FROM orders o ORDER BY o.id",
            deactivation::COUNTS_AS_USED
        ))?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, to_u64(r.get(2)?), to_u64(r.get(3)?)))
            })?
            .collect::<Result<Vec<(i64, String, u64, u64)>, _>>()?;
        // The comparison is made here, not in the query: one rule whatever the engine.
        Ok(rows
            .into_iter()
            .filter(|(_, _, counter, real)| counter != real)
            .collect())
    }

    /// The exact bytes of an issued file.
    pub fn file_bytes(&self, id: &str) -> Result<Vec<u8>, IssuerError> {
        let fid = policy::file_id(id)?;
        self.db
            .query_row(
                "SELECT bytes FROM files WHERE id = ?1",
                [fid.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| IssuerError::UnknownFile { id: id.to_string() })
    }

    /// Check a request without changing anything: the catalog, the type's rules, and that
    /// the account and an active install site exist (availability is checked when issuing).
    pub fn check(&self, catalog: &Catalog, req: &IssueRequest) -> Result<Plan, IssuerError> {
        let plan = rules::plan(catalog, req)?;
        Self::active_site(self.tx(), &req.account, &req.site)?;
        Ok(plan)
    }

    /// Issue a file: check the request against the catalog and the type's rules, sign it, and
    /// record it with the units it uses in one transaction. The account, install site and
    /// part numbers are signed and recorded as the ledger and catalog spell them, in whatever
    /// case they were given ([`policy::canonical_request`]). With `out`, the file is also
    /// written there ([`OutFile`]: a new or regular file atomically; a FIFO, a character
    /// device or a symbolic link written through after the commit, never replaced).
    ///
    /// Crash ordering: (1) the signed bytes are written and synced to a temporary file beside
    /// `out`; (2) the ledger transaction checks availability and commits the record with those
    /// bytes (durable on return, `synchronous=FULL`); (3) the temporary file is renamed onto
    /// `out`. Killed before (2) commits: the ledger is unchanged and `out` untouched (at most a
    /// `.NAME.ID.tmp` file is left). Killed between (2) and (3): the record is complete and the
    /// complete bytes are in the temporary file; `issuer download ID` writes them again.
    /// `out` itself never holds a partial file (a path written through is written at (3)).
    pub fn issue(
        &mut self,
        catalog: &Catalog,
        req: &IssueRequest,
        key: &SecretKey,
        out: Option<&Path>,
        now: Timestamp,
    ) -> Result<Issued, IssuerError> {
        let req = &Self::spelled(self.tx(), catalog, req)?;
        let plan = self.check(catalog, req)?;
        let file_id = FileId::random();
        let activation = rules::activation(req, &plan, file_id, now);
        let text = format::sign(&activation, key)?;
        let bytes = text.into_bytes();
        let pending = match out {
            Some(p) => Some(OutFile::prepare(p, &file_id.to_string(), &bytes, 0o644)?),
            None => None,
        };
        self.record(req, &plan, &activation, key, &bytes)?;
        if let Some(p) = pending {
            p.persist().map_err(|e| IssuerError::RecordedNotWritten {
                id: file_id.to_string(),
                source: Box::new(e),
            })?;
        }
        Ok(Issued {
            file_id,
            bytes,
            expires_at: activation.expires_at,
        })
    }

    /// Issue files for independent requests in one durable transaction (group commit, as
    /// a server does for requests that arrive together): each request is checked, signed
    /// and recorded as [`Ledger::issue`] would (without an output file), each inside its own
    /// savepoint, so one refused request changes nothing and does not stop the others (a
    /// request later in the list sees the units an earlier one took); then one commit for
    /// all. The results are in request order. The outer error (the transaction could not
    /// start or commit) means nothing was recorded.
    pub fn issue_each(
        &mut self,
        catalog: &Catalog,
        reqs: &[IssueRequest],
        key: &SecretKey,
        now: Timestamp,
    ) -> Result<Vec<Result<Issued, IssuerError>>, IssuerError> {
        self.issue_each_once(catalog, reqs, &[], key, now)
    }

    /// Check a batch without changing anything: each request as [`Ledger::check`] does, and
    /// with `out_dir`, that the folder exists and each request's output file
    /// ([`batch_file_name`]) is a usable name that no other request of the batch shares and
    /// no existing file holds. Availability is checked when the batch is recorded. A refusal
    /// is [`IssuerError::Batch`], naming the request.
    pub fn check_batch(
        &self,
        catalog: &Catalog,
        reqs: &[IssueRequest],
        out_dir: Option<&Path>,
    ) -> Result<Vec<Plan>, IssuerError> {
        if reqs.is_empty() {
            return Err(IssuerError::MalformedRequest {
                reason: "the batch holds no requests".into(),
            });
        }
        if reqs.len() > MAX_BATCH {
            return Err(IssuerError::MalformedRequest {
                reason: format!(
                    "the batch holds {} requests; at most {MAX_BATCH} are issued at once",
                    reqs.len()
                ),
            });
        }
        if let Some(dir) = out_dir {
            if !dir.is_dir() {
                let e = std::fs::metadata(dir)
                    .err()
                    .unwrap_or_else(|| std::io::Error::other("not a folder"));
                return Err(IssuerError::io("writing into", dir, e));
            }
        }
        let mut names: Vec<String> = Vec::with_capacity(reqs.len());
        let mut plans = Vec::with_capacity(reqs.len());
        for (i, req) in reqs.iter().enumerate() {
            let mut one = || -> Result<Plan, IssuerError> {
                let plan = self.check(catalog, req)?;
                if let Some(dir) = out_dir {
                    let name = batch_file_name(&req.machine)?;
                    let folded = name.to_lowercase();
                    if let Some(j) = names.iter().position(|n| *n == folded) {
                        return Err(IssuerError::MalformedRequest {
                            reason: format!(
                                "its output file {name} would also be request {}'s: machine names in a batch must differ",
                                j + 1
                            ),
                        });
                    }
                    let path = dir.join(&name);
                    if path.symlink_metadata().is_ok() {
                        return Err(IssuerError::OutputExists { path });
                    }
                    names.push(folded);
                }
                Ok(plan)
            };
            plans.push(one().map_err(|e| batch_error(i, reqs, e))?);
        }
        Ok(plans)
    }

    /// Issue several files at once, all or nothing: every request is checked
    /// ([`Ledger::check_batch`]) and signed, then one `BEGIN IMMEDIATE` transaction checks
    /// availability request after request (units taken by an earlier request of the batch
    /// are no longer available to a later one), records every file with its usage and audit
    /// row, and commits once (`synchronous=FULL`: one durable commit for the whole batch).
    /// If any request is refused nothing is recorded and no output file is left; the error
    /// is [`IssuerError::Batch`], naming the request (position and machine) and why.
    ///
    /// With `out_dir`, each file is written to `out_dir/<machine>.i3lic` with the crash
    /// ordering of [`Ledger::issue`]: every file is written under its temporary name and
    /// synced before the commit, linked into place after it (never replacing a file that
    /// took its name meanwhile: [`IssuerError::RecordedNotWritten`] names the recorded file),
    /// and the folder is synced once at the end. Returns the files in request order.
    pub fn issue_batch(
        &mut self,
        catalog: &Catalog,
        reqs: &[IssueRequest],
        key: &SecretKey,
        out_dir: Option<&Path>,
        now: Timestamp,
    ) -> Result<Vec<Issued>, IssuerError> {
        let reqs = &reqs
            .iter()
            .map(|r| Self::spelled(self.tx(), catalog, r))
            .collect::<Result<Vec<_>, _>>()?;
        let plans = self.check_batch(catalog, reqs, out_dir)?;
        let mut signed = Vec::with_capacity(reqs.len());
        for (i, (req, plan)) in reqs.iter().zip(&plans).enumerate() {
            let a = rules::activation(req, plan, FileId::random(), now);
            let bytes = format::sign(&a, key)
                .map_err(|e| batch_error(i, reqs, e.into()))?
                .into_bytes();
            signed.push((a, bytes));
        }
        let mut pending = Vec::new();
        if let Some(dir) = out_dir {
            for (i, (req, (a, bytes))) in reqs.iter().zip(&signed).enumerate() {
                let path = dir.join(batch_file_name(&req.machine)?);
                let p = PendingFile::write_unsynced(&path, &a.file_id.to_string(), bytes, 0o644)
                    .map_err(|e| batch_error(i, reqs, e))?;
                pending.push(p);
            }
            crate::fsio::sync_all(&pending)?;
        }
        let tx = self.db.begin_write()?;
        for (i, ((req, plan), (a, bytes))) in reqs.iter().zip(&plans).zip(&signed).enumerate() {
            Self::record_in(&tx, req, plan, a, key, bytes).map_err(|e| batch_error(i, reqs, e))?;
        }
        tx.commit()?;
        if let Some(dir) = out_dir {
            // Every file is recorded now: place them all even if one fails, and name the
            // first that could not be written (the others are in place). A name taken since
            // the check (another issuer writing the same machine's file) is never replaced.
            let mut first_error = None;
            for (p, (a, _)) in pending.into_iter().zip(&signed) {
                if let Err(e) = p.link_new() {
                    first_error.get_or_insert(IssuerError::RecordedNotWritten {
                        id: a.file_id.to_string(),
                        source: Box::new(e),
                    });
                }
            }
            crate::fsio::sync_dir(dir);
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        Ok(signed
            .into_iter()
            .map(|(a, bytes)| Issued {
                file_id: a.file_id,
                bytes,
                expires_at: a.expires_at,
            })
            .collect())
    }

    /// Record a signed file in one transaction: availability (after returning the units of
    /// the file it supersedes, if any), the file row with its bytes, usage, licenses, the
    /// order counters and the audit row. Nothing is changed unless everything is.
    pub(crate) fn record(
        &mut self,
        req: &IssueRequest,
        plan: &Plan,
        a: &format::Activation,
        key: &SecretKey,
        bytes: &[u8],
    ) -> Result<(), IssuerError> {
        let tx = self.db.begin_write()?;
        Self::record_in(&tx, req, plan, a, key, bytes)?;
        tx.commit()?;
        Ok(())
    }

    /// [`Ledger::record`]'s work inside a transaction the caller opened (`BEGIN IMMEDIATE`)
    /// and commits: availability is read from the order counters as this transaction has
    /// changed them so far, so several files recorded in one transaction never share units.
    fn record_in(
        tx: &dyn Tx,
        req: &IssueRequest,
        plan: &Plan,
        a: &format::Activation,
        key: &SecretKey,
        bytes: &[u8],
    ) -> Result<(), IssuerError> {
        let (account_id, site_id) = Self::active_site(tx, &req.account, &req.site)?;
        // An update: the old file must still be active; its units return before the new
        // file's are taken, in this same transaction, so `used` never counts both.
        let mut touched: Vec<i64> = Vec::new();
        let superseded = match a.supersedes {
            Some(old) => {
                let old = lifecycle::FileRow::load(tx, &old.to_string())?;
                if old.account_id != account_id {
                    return Err(IssuerError::UnknownFile { id: old.id.clone() });
                }
                old.require_active(tx)?;
                touched.extend(Self::file_orders(tx, old.seq)?);
                Some(old)
            }
            None => None,
        };
        let had_switchover = superseded
            .as_ref()
            .is_some_and(|o| o.switchover_host.is_some());
        Self::require_switchover_item(tx, req, plan, account_id, had_switchover)?;
        let related = match plan.related {
            Some(id) => Some(Self::check_disaster_recovery(
                tx,
                account_id,
                id,
                &plan.licenses,
            )?),
            None => None,
        };
        let mut usage: Vec<(i64, u32)> = Vec::new();
        let before_orders = |tx: &dyn Tx, ids: &[i64]| Self::order_counters(tx, ids);
        // Counters before anything moves (the allocation below may touch more lines; they
        // are read again for the audit row, with the ones already read).
        let mut before = before_orders(tx, &touched)?;
        let mut held: Vec<(String, u64)> = Vec::new();
        if let Some(old) = &superseded {
            held = Self::release(tx, old.seq, a.issued_at.unix(), &a.generated_by)?;
        }
        for c in &plan.consume {
            let got = Self::allocate(
                tx,
                &req.account,
                account_id,
                &c.part,
                c.quantity,
                plan.perpetual_only,
                a.license_type,
            );
            usage.extend(got.map_err(|e| policy::beyond_held(e, &held))?);
        }
        let fresh: Vec<i64> = usage
            .iter()
            .map(|(o, _)| *o)
            .filter(|o| !touched.contains(o))
            .collect();
        // Lines only the new file touches have not changed yet: read them now.
        before.extend(before_orders(tx, &fresh)?);
        touched.extend(fresh);
        touched.sort_unstable();
        touched.dedup();
        before.sort_by_key(|v| v["order"].as_i64());
        let host = |h: &Option<format::Host>| {
            h.as_ref()
                .map(|h| (h.host_id.to_string(), h.machine.clone()))
        };
        let sw = host(&a.switchover_host);
        let payload = serde_json::to_string(a).map_err(|e| IssuerError::MalformedRequest {
            reason: format!("encoding the payload: {e}"),
        })?;
        // Recorded in the row and in its audit entry (which `audit verify` checks it against).
        let sha256 = hex(&Sha256::digest(bytes));
        let seq: i64 = tx.query_row(
            "INSERT INTO files (seq, id, account_id, site_id, license_type, product, version, server_part, primary_host,
                 primary_machine, switchover_host, switchover_machine, system_type, mail_connector, generated_by,
                 partner, generated_at, expires_at, related_production, key_id, sha256, bytes, supersedes, activation)
             VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM files), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)
             RETURNING seq",
            params![
                a.file_id.to_string(),
                account_id,
                site_id,
                a.license_type.as_str(),
                a.product,
                a.product_version,
                req.server_part,
                a.primary_host.host_id.to_string(),
                a.primary_host.machine,
                sw.as_ref().map(|s| s.0.clone()),
                sw.as_ref().map(|s| s.1.clone()),
                a.system_type,
                a.mail_connector,
                a.generated_by,
                req.partner,
                a.issued_at.unix(),
                a.expires_at.unix(),
                related,
                key.key_id().to_string(),
                sha256,
                bytes,
                superseded.as_ref().map(|o| o.seq),
                payload,
            ],
            |r| r.get(0),
        )?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO file_usage (file_seq, order_id, quantity) VALUES (?1, ?2, ?3)",
            )?;
            let mut up = tx.prepare_cached("UPDATE orders SET used = used + ?2 WHERE id = ?1")?;
            for (order, q) in &usage {
                ins.execute(params![seq, order, q])?;
                up.execute(params![order, q])?;
            }
            let mut ins = tx.prepare_cached("INSERT INTO file_licenses (file_seq, name, assigned, pooled) VALUES (?1, ?2, ?3, ?4)")?;
            for l in &a.licenses {
                ins.execute(params![seq, l.name, l.assigned, l.pooled])?;
            }
        }
        // Disaster-recovery files of a production file follow it to the file that
        // supersedes it (refused if one would then be above its production file).
        let recovery_moved = match &superseded {
            Some(old) if old.license_type == LicenseType::Production.as_str() => {
                Self::move_recovery_files(tx, old.seq, seq, &a.licenses)?
            }
            _ => Vec::new(),
        };
        let file_json = |id: &str, active: bool, items: Vec<(String, u32)>, sha: &str| {
            serde_json::json!({
                "id": id,
                "active": active,
                "type": a.license_type.as_str(),
                "account": req.account,
                "site": req.site,
                "product": format!("{} {}", a.product, a.product_version),
                "machine": a.primary_host.machine,
                "switchover_machine": a.switchover_host.as_ref().map(|h| h.machine.clone()),
                "ordered_items": items,
                "sha256": sha,
            })
        };
        let new_file = {
            let mut f = file_json(
                &a.file_id.to_string(),
                true,
                a.ordered_items
                    .iter()
                    .map(|o| (o.part.clone(), o.quantity))
                    .collect(),
                &sha256,
            );
            f["expires_at"] = a.expires_at.to_string().into();
            f["supersedes"] = superseded.as_ref().map(|o| o.id.clone()).into();
            f
        };
        let after_orders = Self::order_counters(tx, &touched)?;
        let (action, subject, before, after) = match &superseded {
            None => (
                "file.issue",
                a.file_id.to_string(),
                serde_json::json!({ "orders": before }),
                serde_json::json!({ "file": new_file, "orders": after_orders }),
            ),
            Some(old) => (
                "file.update",
                a.file_id.to_string(),
                serde_json::json!({ "file": old.audit_json(true), "orders": before }),
                {
                    let mut after = serde_json::json!({
                        "file": new_file,
                        "superseded": old.audit_json(false),
                        "orders": after_orders,
                    });
                    if !recovery_moved.is_empty() {
                        after["disaster_recovery_moved"] = recovery_moved.into();
                    }
                    after
                },
            ),
        };
        Self::append_audit(
            tx,
            a.issued_at.unix(),
            &a.generated_by,
            action,
            &subject,
            Some(&before.to_string()),
            Some(&after.to_string()),
        )?;
        Ok(())
    }

    /// Point the active disaster-recovery files related to production file `old_seq` at
    /// `new_seq`, the file that supersedes it, whose licenses are `licenses`. Refuses
    /// ([`IssuerError::RecoveryAboveProduction`]) when one of them has a count above the new
    /// file's. Returns the ids moved.
    fn move_recovery_files(
        tx: &dyn Tx,
        old_seq: i64,
        new_seq: i64,
        licenses: &[LicenseCount],
    ) -> Result<Vec<String>, IssuerError> {
        let mut st = tx.prepare_cached(
            "SELECT seq, id FROM files WHERE related_production = ?1 AND active = 1 ORDER BY seq",
        )?;
        let recovery: Vec<(i64, String)> = st
            .query_map([old_seq], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut counts = tx.prepare_cached(
            "SELECT name, assigned, pooled FROM file_licenses WHERE file_seq = ?1 ORDER BY name",
        )?;
        let mut up =
            tx.prepare_cached("UPDATE files SET related_production = ?2 WHERE seq = ?1")?;
        for (seq, id) in &recovery {
            let rows: Vec<(String, i64, i64)> = counts
                .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            for (name, assigned, pooled) in rows {
                let new = licenses.iter().find(|l| l.name == name);
                let (na, np) = new.map_or((0, 0), |l| (l.assigned, l.pooled));
                for (what, has, allowed) in [("assigned", assigned, na), ("pooled", pooled, np)] {
                    if to_u64(has) > u64::from(allowed) {
                        return Err(IssuerError::RecoveryAboveProduction {
                            recovery: id.clone(),
                            what: format!("{name} {what}"),
                            has: to_u64(has),
                            allowed: allowed.into(),
                        });
                    }
                }
            }
            up.execute(params![seq, new_seq])?;
        }
        Ok(recovery.into_iter().map(|(_, id)| id).collect())
    }

    /// The order lines a file's usage rows point at.
    pub(crate) fn file_orders(tx: &dyn Tx, file_seq: i64) -> Result<Vec<i64>, IssuerError> {
        let mut st =
            tx.prepare_cached("SELECT order_id FROM file_usage WHERE file_seq = ?1 ORDER BY 1")?;
        let v = st
            .query_map([file_seq], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        Ok(v)
    }

    /// `{order, part, quantity, used}` of each order line, for audit rows.
    pub(crate) fn order_counters(
        tx: &dyn Tx,
        ids: &[i64],
    ) -> Result<Vec<serde_json::Value>, IssuerError> {
        let mut st =
            tx.prepare_cached("SELECT part, quantity, used, active FROM orders WHERE id = ?1")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (part, quantity, used, active): (String, i64, i64, bool) =
                st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            out.push(serde_json::json!({
                "order": id, "part": part, "quantity": quantity, "used": used, "active": active,
            }));
        }
        Ok(out)
    }

    /// Mark a file inactive and return its units to the order lines it used.
    pub(crate) fn release(
        tx: &dyn Tx,
        file_seq: i64,
        at: i64,
        actor: &str,
    ) -> Result<Vec<(String, u64)>, IssuerError> {
        let returned = Self::return_units(tx, file_seq)?;
        let changed = tx.execute(
            "UPDATE files SET active = 0, deactivated_at = ?2, deactivated_by = ?3 WHERE seq = ?1 AND active = 1",
            params![file_seq, at, actor],
        )?;
        if changed != 1 {
            // Checked by the caller inside this same transaction; never reached.
            return Err(IssuerError::Store(store::Error::new(
                store::ErrorKind::Other,
                format!("deactivating a file changed {changed} rows, not 1"),
            )));
        }
        Ok(returned)
    }

    /// Take `quantity` units of `part` from the account's order lines, as the rules choose
    /// them ([`policy::allocate`]), or refuse naming what is available.
    fn allocate(
        tx: &dyn Tx,
        account: &str,
        account_id: i64,
        part: &str,
        quantity: u32,
        perpetual_only: bool,
        t: LicenseType,
    ) -> Result<Vec<(i64, u32)>, IssuerError> {
        let lines: Vec<policy::Line> = Self::order_lines(tx, account_id, Some(part))?
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        policy::allocate(account, part, &lines, quantity, perpetual_only, t)
    }

    /// A disaster-recovery file's related production file must be this account's, active and
    /// of type production, and no license count may exceed it. Returns its row.
    fn check_disaster_recovery(
        tx: &dyn Tx,
        account_id: i64,
        id: FileId,
        licenses: &[LicenseCount],
    ) -> Result<i64, IssuerError> {
        let ids = id.to_string();
        let row: Option<(i64, i64, String, bool)> = tx
            .query_row(
                "SELECT seq, account_id, license_type, active FROM files WHERE id = ?1",
                [&ids],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (seq, _, t, active) = match row {
            Some(r) if r.1 == account_id => r,
            _ => return Err(IssuerError::UnknownFile { id: ids }),
        };
        if !active {
            return Err(IssuerError::InactiveFile { id: ids });
        }
        if t != LicenseType::Production.as_str() {
            return Err(IssuerError::Rule {
                license_type: LicenseType::DisasterRecovery,
                reason: format!("the related file {ids} is a {t} file, not a production file"),
            });
        }
        let mut st = tx.prepare_cached(
            "SELECT assigned, pooled FROM file_licenses WHERE file_seq = ?1 AND name = ?2",
        )?;
        for l in licenses {
            let (pa, pp): (i64, i64) = st
                .query_row(params![seq, l.name], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .unwrap_or((0, 0));
            for (what, asked, allowed) in [("assigned", l.assigned, pa), ("pooled", l.pooled, pp)] {
                if u64::from(asked) > to_u64(allowed) {
                    return Err(IssuerError::ExceedsProduction {
                        production: ids,
                        what: format!("{} {what}", l.name),
                        asked: asked.into(),
                        allowed: to_u64(allowed),
                    });
                }
            }
        }
        Ok(seq)
    }
}

/// The most requests one batch may hold.
pub const MAX_BATCH: usize = 10_000;

/// The output file name of a request in a batch: `<machine>.i3lic`. Refused (malformed
/// request) when the machine name cannot be a file name: empty, starting with `.`, holding
/// `/`, a backslash or a refused character ([`format::text::is_refused_char`]), or longer
/// than 200 bytes.
pub fn batch_file_name(machine: &str) -> Result<String, IssuerError> {
    const MAX_NAME: usize = 200;
    if machine.is_empty()
        || machine.starts_with('.')
        || machine.len() > MAX_NAME
        || machine
            .chars()
            .any(|c| c == '/' || c == '\\' || format::text::is_refused_char(c))
    {
        return Err(IssuerError::MalformedRequest {
            reason: format!(
                "machine name '{}' cannot name its output file (<machine>.i3lic): it must be 1 to {MAX_NAME} bytes, not start with '.', and hold no '/', '\\', control or invisible formatting character",
                machine.escape_debug()
            ),
        });
    }
    Ok(format!("{machine}.i3lic"))
}

/// Run the query `sql` and call `f` with each row as it streams (a whole table is never
/// held in memory); an error of `f` stops the query and is returned as it is.
pub(crate) fn for_each_row(
    tx: &dyn Tx,
    sql: &str,
    f: &mut dyn FnMut(&store::Row) -> Result<(), IssuerError>,
) -> Result<(), IssuerError> {
    let mut failed = None;
    let streamed = tx.each(sql, &[], &mut |row| match f(row) {
        Ok(()) => Ok(()),
        Err(e) => {
            failed = Some(e);
            Err(store::Error::new(store::ErrorKind::Other, "stopped"))
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(streamed?),
    }
}

/// Wrap a refusal of request `i` of a batch.
fn batch_error(i: usize, reqs: &[IssueRequest], e: IssuerError) -> IssuerError {
    IssuerError::Batch {
        position: i + 1,
        count: reqs.len(),
        machine: reqs.get(i).map(|r| r.machine.clone()).unwrap_or_default(),
        source: Box::new(e),
    }
}

/// The one check of a text the ledger stores (names, addresses, who made a change): at most
/// [`format::MAX_TEXT_LEN`] bytes, no refused character ([`format::text::is_refused_char`]: a
/// control character, so no terminal escape sequence reaches the ledger, a bidirectional
/// override, a zero-width character, a line separator ...), no blanks at either end. A
/// refusal is [`IssuerError::MalformedRequest`] naming `what`.
pub fn check_text(what: &str, v: &str) -> Result<(), IssuerError> {
    // The character is named (as U+XXXX, never printed) with its position, counted in
    // characters from 1, so that the one to remove can be found.
    if let Some(why) = format::text::refused_char_reason(v) {
        return Err(IssuerError::MalformedRequest {
            reason: format!("{what} {why}: names and addresses must be printable"),
        });
    }
    if v.len() > format::MAX_TEXT_LEN || v != v.trim() {
        return Err(IssuerError::MalformedRequest {
            reason: format!(
                "{what} must be at most {} printable characters without leading or trailing blanks",
                format::MAX_TEXT_LEN
            ),
        });
    }
    Ok(())
}

fn check_name(what: &str, v: &str) -> Result<(), IssuerError> {
    if v.is_empty() {
        return Err(IssuerError::MalformedRequest {
            reason: format!("{what} is empty"),
        });
    }
    check_text(what, v)
}

/// What the ledger's tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::{IssueRequest, PartQuantity};

    /// A production request for a CIC 4.0 server (`SW-001-4.0-SL03`) with `seats` client
    /// seats (`SW-001-4.0-AL02`), on a host made from the byte `n`.
    pub(crate) fn request(
        account: &str,
        site: &str,
        machine: &str,
        seats: u32,
        n: u8,
    ) -> IssueRequest {
        let host = hostid::HostId::from_components(&hostid::Components {
            machine_id: Some(format!("{n:02x}").repeat(16)),
            macs: vec![[0, 0x1b, 0x21, n, n, n]],
            ..Default::default()
        })
        .unwrap();
        IssueRequest {
            account: account.into(),
            site: site.into(),
            product: "CIC".into(),
            version: "4.0".into(),
            license_type: format::LicenseType::Production,
            host_id: host.to_string(),
            machine: machine.into(),
            switchover_host_id: None,
            switchover_machine: None,
            switchover_part: None,
            server_part: "SW-001-4.0-SL03".into(),
            add: vec![PartQuantity {
                part: "SW-001-4.0-AL02".into(),
                quantity: seats,
            }],
            system_type: None,
            mail_connector: None,
            generated_by: "t".into(),
            partner: false,
            related: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `body` on an SQLite ledger, then on a fresh PostgreSQL one (where a test server
    /// is given: `store_postgres::testing`).
    fn on_both_engines(body: fn(&LedgerLocation)) {
        let dir = tempfile::tempdir().unwrap();
        body(&LedgerLocation::Sqlite(dir.path().join("ledger.db")));
        if let Some(db) = store_postgres::testing::fresh_database() {
            body(&LedgerLocation::parse(std::ffi::OsStr::new(&db.url)).unwrap());
        }
    }

    /// Requests issued together in one transaction: each is recorded or refused on its
    /// own, later ones see the units earlier ones took, and a refusal leaves no row behind.
    #[test]
    fn requests_issued_together_are_each_recorded_or_refused_alone() {
        on_both_engines(issued_together);
    }

    fn issued_together(location: &LedgerLocation) {
        use crate::Catalog;
        let cat = Catalog::built_in().unwrap();
        let mut l = Ledger::open_at(location).unwrap();
        l.add_account("A", "t").unwrap();
        l.add_site("A", "HQ", &SiteDetails::default(), "t").unwrap();
        l.add_order(&cat, "A", "SW-001-4.0-SL03", 5, true, "t")
            .unwrap();
        l.add_order(&cat, "A", "SW-001-4.0-AL02", 10, true, "t")
            .unwrap();
        let req = |machine: &str, seats: u32, site: &str| {
            test_support::request("A", site, machine, seats, 0xef)
        };
        let reqs = [
            req("m1", 6, "HQ"),
            req("m2", 6, "HQ"),      // only 4 seats left after m1
            req("m3", 4, "Nowhere"), // no such site
            req("m4", 4, "HQ"),      // takes the last 4
        ];
        let key = format::SecretKey::generate();
        let out = l.issue_each(&cat, &reqs, &key, Timestamp::now()).unwrap();
        assert!(out[0].is_ok() && out[3].is_ok(), "{out:?}");
        assert!(
            matches!(out[1], Err(IssuerError::NotEnough { .. })),
            "{:?}",
            out[1]
        );
        assert!(
            matches!(out[2], Err(IssuerError::UnknownSite { .. })),
            "{:?}",
            out[2]
        );
        let listed = l.activity(&Default::default()).unwrap();
        let machines: Vec<&str> = listed.iter().map(|r| r.machine.as_str()).collect();
        assert_eq!(listed.len(), 2, "{machines:?}");
        for r in out.iter().flatten() {
            assert_eq!(l.file_bytes(&r.file_id.to_string()).unwrap(), r.bytes);
        }
        assert!(
            l.verify_usage().unwrap().is_empty(),
            "the counters match the files"
        );
        assert!(l.verify_audit(None).unwrap().problems.is_empty());
    }

    /// A read snapshot sees one state however many commits land during it, and the change
    /// counter tells a reader that another connection committed since it last read.
    #[test]
    fn a_snapshot_is_one_state_and_the_change_counter_tells_of_other_commits() {
        on_both_engines(snapshot_and_counter);
    }

    fn snapshot_and_counter(location: &LedgerLocation) {
        let mut writer = Ledger::open_at(location).unwrap();
        writer.add_account("A", "t").unwrap();
        let reader = Ledger::open_at(location).unwrap();
        let v0 = reader.change_counter().unwrap();
        assert_eq!(
            reader.change_counter().unwrap(),
            v0,
            "nothing committed meanwhile"
        );
        let (before, during, inner_version) = reader
            .read_snapshot(|l| -> Result<_, IssuerError> {
                let before = l.accounts()?;
                writer.add_account("B", "t")?;
                Ok((before, l.accounts()?, l.change_counter()?))
            })
            .unwrap();
        assert_eq!(before, ["A"]);
        assert_eq!(
            during,
            ["A"],
            "a commit during the snapshot is not seen in it"
        );
        assert_eq!(inner_version, v0, "nor counted in it");
        assert_eq!(reader.accounts().unwrap(), ["A", "B"], "it is seen after");
        assert_ne!(reader.change_counter().unwrap(), v0, "and counted");
        // The reader's own snapshot ended: the writer can go on, and a failed read ends it too.
        let e = reader.read_snapshot(|l| l.sites("nobody")).unwrap_err();
        assert!(matches!(e, IssuerError::UnknownAccount { .. }), "{e}");
        writer.add_account("C", "t").unwrap();
        assert_eq!(reader.accounts().unwrap(), ["A", "B", "C"]);
        // A read that panics ends its transaction too: the next one sees new commits.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reader.read_snapshot(|_| -> Result<(), IssuerError> { panic!("a read panics") })
        }));
        assert!(panicked.is_err());
        writer.add_account("D", "t").unwrap();
        let seen = reader
            .read_snapshot(|l| -> Result<_, IssuerError> { l.accounts() })
            .unwrap();
        assert_eq!(seen, ["A", "B", "C", "D"]);
    }
}
