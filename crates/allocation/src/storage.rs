//! The store behind the storage interface of [`store`]: one SQLite file owned by the server,
//! or a PostgreSQL database that a switchover pair or several servers share. Every rule of
//! the allocator lives above it, in engine-free code.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use store::{Migration, Schema};

use crate::error::AllocError;

/// `PRAGMA application_id` of an allocation store ("i3la"): another program's database is
/// recognised and left alone.
pub const APPLICATION_ID: i32 = 0x6933_6c61;
/// The schema version (SQLite's `PRAGMA user_version`; a PostgreSQL store starts at it). Version 2 added `configured_counts`, version 3
/// the store's identity and history (`store_hosts`, `store_keys`, `store_state`, `lineages`,
/// `superseded`, `admin_log`, and the signer beside the loaded file), version 4 the license
/// server's `tokens` and `ended_sessions`, version 5 the session licenses applications check
/// out (`checkouts`), version 6 the users' settings (licensing, the
/// remote logon right), their kept licenses and the ACD workgroups, version 7 the usage history (`usage_events`,
/// `usage_peaks`, `usage_denials`, `usage_licensed`, `history_state`), version 8 the store's `install_key` and its `released` lineages; an older store is migrated when it is opened (one transaction).
pub const SCHEMA_VERSION: i32 = 8;
/// How long a transaction waits for another process's write lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The default store path: `$I3LIC_STORE`, else `$XDG_DATA_HOME/i3lic/allocation.db`, else
/// `~/.local/share/i3lic/allocation.db`, else `allocation.db` in the current folder.
pub fn default_store_path() -> PathBuf {
    if let Some(p) = std::env::var_os("I3LIC_STORE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(d).join("i3lic").join("allocation.db");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(h)
            .join(".local")
            .join("share")
            .join("i3lic")
            .join("allocation.db");
    }
    PathBuf::from("allocation.db")
}

macro_rules! migration {
    ($engine:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $engine, "/", $name)),
        }
    };
}

/// Tables every schema version has: a database that claims the schema but lacks one is
/// another program's.
const TABLES: &[&str] = &[
    "license",
    "ceilings",
    "orgs",
    "org_limits",
    "users",
    "stations",
    "user_grants",
    "station_grants",
    "sessions",
    "session_licenses",
    "usage_counts",
];

/// The SQLite store: version 1 the allocation tables and the usage counters, 2 the
/// configured counters (filled from the grants), 3 the store's identity and history (seeded
/// from the loaded file), 4 the license server's tokens and ended sessions, 5 checkouts, 6 the users'
/// settings and the ACD workgroups, 7 the usage history. An older store is migrated when it is opened (one transaction).
pub(crate) const SQLITE: Schema = Schema {
    what: "allocation store",
    migrations: &[
        migration!("sqlite", 1, "0001_store.sql"),
        migration!("sqlite", 2, "0002_configured_counts.sql"),
        migration!("sqlite", 3, "0003_identity.sql"),
        migration!("sqlite", 4, "0004_server.sql"),
        migration!("sqlite", 5, "0005_checkouts.sql"),
        migration!("sqlite", 6, "0006_admin.sql"),
        migration!("sqlite", 7, "0007_usage.sql"),
        migration!("sqlite", 8, "0008_install_key.sql"),
    ],
    tables: TABLES,
    application_id: Some(APPLICATION_ID),
};

/// The PostgreSQL store: created at schema 3, the version PostgreSQL stores were added in,
/// then 4 to 7 as SQLite's.
pub(crate) const POSTGRES: Schema = Schema {
    what: "allocation store",
    migrations: &[
        migration!("postgres", 3, "0003_store.sql"),
        migration!("postgres", 4, "0004_server.sql"),
        migration!("postgres", 5, "0005_checkouts.sql"),
        migration!("postgres", 6, "0006_admin.sql"),
        migration!("postgres", 7, "0007_usage.sql"),
        migration!("postgres", 8, "0008_install_key.sql"),
    ],
    tables: TABLES,
    application_id: None,
};

const _: () =
    assert!(SQLITE.migrations[SQLITE.migrations.len() - 1].version == SCHEMA_VERSION as i64);
const _: () =
    assert!(POSTGRES.migrations[POSTGRES.migrations.len() - 1].version == SCHEMA_VERSION as i64);

/// Where a store is, as `--store` and `I3LIC_STORE` name it: a file path (SQLite) or a
/// `postgres://` / `postgresql://` URL (PostgreSQL). A value that looks like a URL is never
/// taken for a file name: another scheme is refused, so a mistyped URL creates nothing.
/// `Display` hides a URL's password.
///
/// ```
/// use allocation::StoreLocation;
/// let s = StoreLocation::parse("postgres://srv:s3cret@db.example/alloc".as_ref())?;
/// assert_eq!(s.to_string(), "postgres://srv@db.example/alloc");
/// assert!(matches!(StoreLocation::parse("alloc.db".as_ref())?, StoreLocation::Sqlite(_)));
/// assert!(StoreLocation::parse("mysql://db.example/alloc".as_ref()).is_err());
/// # Ok::<(), allocation::AllocError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// An SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL (password included: never shown).
    Postgres(String),
}

impl StoreLocation {
    /// Read a `--store` or `I3LIC_STORE` value: a URL of another scheme than PostgreSQL's,
    /// or an empty value, is [`AllocError::InvalidInput`] (exit 2 from `licadmin`).
    pub fn parse(value: &OsStr) -> Result<StoreLocation, AllocError> {
        match store::location_kind(value) {
            store::LocationKind::Empty => Err(AllocError::InvalidInput {
                what: "store",
                reason: "empty; it takes a file path (SQLite) or a postgres:// URL (PostgreSQL)"
                    .into(),
            }),
            store::LocationKind::Path(p) => Ok(StoreLocation::Sqlite(p.to_path_buf())),
            store::LocationKind::Postgres(url) => Ok(StoreLocation::Postgres(url.to_string())),
            store::LocationKind::OtherScheme { scheme, url } => Err(AllocError::InvalidInput {
                what: "store",
                reason: format!(
                    "{}: a {scheme}:// URL names no store; --store takes a file path (SQLite) or a postgres:// or postgresql:// URL (PostgreSQL)",
                    store_postgres::redact(url)
                ),
            }),
        }
    }

    /// The location as a path for messages and [`crate::Allocator::path`] (a URL without
    /// its password).
    pub fn display_path(&self) -> PathBuf {
        match self {
            StoreLocation::Sqlite(p) => p.clone(),
            StoreLocation::Postgres(_) => PathBuf::from(self.to_string()),
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(p) => write!(f, "{}", p.display()),
            StoreLocation::Postgres(u) => f.write_str(&store_postgres::redact(u)),
        }
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(p) => write!(f, "Sqlite({p:?})"),
            StoreLocation::Postgres(_) => write!(f, "Postgres({:?})", self.to_string()),
        }
    }
}

/// The error of a store that could not be opened: another program's database (or a schema
/// this build cannot read) is not a store; unreachable, wrong credentials or a file that
/// cannot be opened, I/O; anything else a failure of the store.
pub(crate) fn open_failed(
    location: &StoreLocation,
    action: &'static str,
    e: store::Error,
) -> AllocError {
    let path = location.display_path();
    match e.kind() {
        store::ErrorKind::Foreign => AllocError::NotAStore {
            path,
            reason: e.message().to_owned(),
        },
        store::ErrorKind::Io => AllocError::Io {
            action,
            path,
            source: std::io::Error::other(e.message().to_owned()),
        },
        _ => AllocError::Store(e),
    }
}

/// Open (creating it, mode 0600, and its folder on first use, for SQLite) the store at
/// `location`, its schema created or migrated.
pub(crate) fn open(location: &StoreLocation) -> Result<Box<dyn store::Connection>, AllocError> {
    match location {
        StoreLocation::Sqlite(path) => {
            prepare_path(path)?;
            store_sqlite::open(path, &SQLITE, store::Access::Write)
        }
        StoreLocation::Postgres(url) => store_postgres::open(url, &POSTGRES, store::Access::Write),
    }
    .map_err(|e| open_failed(location, "open the store", e))
    .and_then(|mut conn| {
        crate::install_key::ensure(&mut *conn)?;
        Ok(conn)
    })
}

/// Refuse anything but a regular file (a folder, a FIFO, a device) before SQLite opens it
/// (SQLite would block on a FIFO and leave a `-journal` file beside a device), and create
/// the store's folder on first use.
fn prepare_path(path: &Path) -> Result<(), AllocError> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(AllocError::Io {
                action: "open the store",
                path: path.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "it is {}, not a regular file",
                        verify::describe_file_type(&meta)
                    ),
                ),
            });
        }
        _ => {}
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(dir).map_err(|source| AllocError::Io {
                action: "create the store's folder",
                path: dir.to_owned(),
                source,
            })?;
        }
    }
    Ok(())
}
