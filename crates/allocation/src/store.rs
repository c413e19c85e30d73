//! The store: one SQLite file owned by the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::AllocError;

/// `PRAGMA application_id` of an allocation store ("i3la"): another program's database is
/// recognised and left alone.
pub const APPLICATION_ID: i32 = 0x6933_6c61;
/// The schema version (`PRAGMA user_version`). Version 2 added `configured_counts`, version 3
/// the store's identity and history (`store_hosts`, `store_keys`, `store_state`, `lineages`,
/// `superseded`, `admin_log`, and the signer beside the loaded file); an older store is
/// migrated when it is opened (one transaction).
pub const SCHEMA_VERSION: i32 = 3;
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

const SCHEMA: &str = "
CREATE TABLE license (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    file_id TEXT NOT NULL,
    product TEXT NOT NULL,
    lineage TEXT NOT NULL,
    generation INTEGER,
    issued_at TEXT NOT NULL,
    supersedes TEXT,
    loaded_at INTEGER NOT NULL
);
CREATE TABLE ceilings (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent', 'organizations')),
    ceiling INTEGER NOT NULL,
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE org_limits (
    org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    min INTEGER NOT NULL CHECK (min >= 0),
    max INTEGER CHECK (max IS NULL OR max >= min),
    PRIMARY KEY (org_id, key)
) WITHOUT ROWID;
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL CHECK (method IN ('assignable', 'concurrent')),
    org_id INTEGER REFERENCES orgs(id)
);
CREATE INDEX users_org ON users(org_id);
CREATE TABLE stations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('workstation', 'remote', 'phone', 'fax')),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
);
CREATE TABLE user_grants (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    explicit INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    consumes INTEGER NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX user_grants_key ON user_grants(key);
CREATE TABLE station_grants (
    station_id INTEGER NOT NULL REFERENCES stations(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    explicit INTEGER NOT NULL CHECK (explicit IN (0, 1)),
    consumes INTEGER NOT NULL CHECK (consumes IN (0, 1)),
    PRIMARY KEY (station_id, key)
) WITHOUT ROWID;
CREATE INDEX station_grants_key ON station_grants(key);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    station_id INTEGER UNIQUE REFERENCES stations(id) ON DELETE CASCADE,
    remote_number TEXT,
    lease INTEGER NOT NULL CHECK (lease > 0),
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE session_licenses (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    PRIMARY KEY (session_id, key)
) WITHOUT ROWID;
CREATE INDEX session_licenses_key ON session_licenses(key);
CREATE INDEX org_limits_key ON org_limits(key);
-- What is consumed of each count, kept by triggers so that an availability check is one
-- lookup: grants that consume (assignable users, stations with licensing enabled) and the
-- licenses of sessions not yet purged (every change purges lapsed sessions first).
CREATE TABLE usage_counts (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TRIGGER user_grants_ins AFTER INSERT ON user_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_grants_del AFTER DELETE ON user_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_ins AFTER INSERT ON station_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER station_grants_del AFTER DELETE ON station_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_upd AFTER UPDATE OF consumes ON station_grants
    WHEN NEW.consumes != OLD.consumes BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, 'assignable', NEW.consumes)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + NEW.consumes - OLD.consumes;
END;
CREATE TRIGGER stations_enabled AFTER UPDATE OF enabled ON stations
    WHEN NEW.enabled != OLD.enabled BEGIN
    UPDATE station_grants SET consumes = NEW.enabled WHERE station_id = NEW.id;
END;
CREATE TRIGGER session_licenses_ins AFTER INSERT ON session_licenses BEGIN
    INSERT INTO usage_counts (key, pool, n) VALUES (NEW.key, NEW.pool, 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER session_licenses_del AFTER DELETE ON session_licenses BEGIN
    UPDATE usage_counts SET n = n - 1 WHERE key = OLD.key AND pool = OLD.pool;
END;
";

/// Version 2: what is configured of each key, kept by triggers like `usage_counts`, so that
/// the report and the compliance check read counters instead of counting every grant.
/// `assignable`: grants that consume (assignable users, stations with licensing enabled);
/// `concurrent`: concurrent users' grants.
const SCHEMA_V2: &str = "
CREATE TABLE configured_counts (
    key TEXT NOT NULL,
    pool TEXT NOT NULL CHECK (pool IN ('assignable', 'concurrent')),
    n INTEGER NOT NULL CHECK (n >= 0),
    PRIMARY KEY (key, pool)
) WITHOUT ROWID;
CREATE TRIGGER user_grants_cfg_ins AFTER INSERT ON user_grants BEGIN
    INSERT INTO configured_counts (key, pool, n)
        VALUES (NEW.key, CASE NEW.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END, 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_grants_cfg_del AFTER DELETE ON user_grants BEGIN
    UPDATE configured_counts SET n = n - 1
        WHERE key = OLD.key AND pool = CASE OLD.consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END;
END;
CREATE TRIGGER station_grants_cfg_ins AFTER INSERT ON station_grants WHEN NEW.consumes = 1 BEGIN
    INSERT INTO configured_counts (key, pool, n) VALUES (NEW.key, 'assignable', 1)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER station_grants_cfg_del AFTER DELETE ON station_grants WHEN OLD.consumes = 1 BEGIN
    UPDATE configured_counts SET n = n - 1 WHERE key = OLD.key AND pool = 'assignable';
END;
CREATE TRIGGER station_grants_cfg_upd AFTER UPDATE OF consumes ON station_grants
    WHEN NEW.consumes != OLD.consumes BEGIN
    INSERT INTO configured_counts (key, pool, n) VALUES (NEW.key, 'assignable', NEW.consumes)
        ON CONFLICT (key, pool) DO UPDATE SET n = n + NEW.consumes - OLD.consumes;
END;
INSERT INTO configured_counts (key, pool, n)
    SELECT key, pool, COUNT(*) FROM (
        SELECT key, CASE consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END AS pool FROM user_grants
        UNION ALL SELECT key, 'assignable' FROM station_grants WHERE consumes = 1)
    GROUP BY key, pool;
";

/// Version 3: what the store remembers whoever runs a command on it (`identity.rs`): the
/// hosts it serves and the keys it trusts, the latest time seen, the newest generation per
/// lineage and the superseded files, the log of identity changes, and the key that signed
/// the loaded file. The history starts from the loaded file; its identity is adopted from
/// that file when it is next verified.
const SCHEMA_V3: &str = "
ALTER TABLE license ADD COLUMN signer_key TEXT;
CREATE TABLE store_hosts (
    code TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE store_keys (
    key_id TEXT PRIMARY KEY,
    public_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE store_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    latest_seen INTEGER NOT NULL CHECK (latest_seen >= 0),
    newest_file TEXT,
    newest_issued_at TEXT
);
CREATE TABLE lineages (
    lineage TEXT PRIMARY KEY,
    generation INTEGER NOT NULL CHECK (generation >= 1),
    file_id TEXT NOT NULL,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE superseded (
    file_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE admin_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO store_state (id, latest_seen, newest_file, newest_issued_at)
    VALUES (1, 0, (SELECT file_id FROM license WHERE id = 1), (SELECT issued_at FROM license WHERE id = 1));
INSERT INTO lineages (lineage, generation, file_id, seq)
    SELECT lineage, generation, file_id, 1 FROM license WHERE generation IS NOT NULL;
INSERT INTO superseded (file_id, seq)
    SELECT supersedes, 1 FROM license WHERE supersedes IS NOT NULL;
";

fn not_a_store(path: &Path, reason: impl Into<String>) -> AllocError {
    AllocError::NotAStore {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Open (creating it, mode 0600, and its folder on first use) the store at `path`.
pub(crate) fn open(path: &Path) -> Result<Connection, AllocError> {
    // Anything but a regular file (a folder, a FIFO, a device) is refused before SQLite
    // opens it: SQLite would block on a FIFO and leave a `-journal` file beside a device.
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
    // Never open (and close) the file itself once it exists: closing any descriptor of a
    // file drops every POSIX lock this process holds on it, so another allocator of the
    // process on the same store would lose its SQLite locks, and another process could then
    // take the store for unused and delete its WAL and shared-memory files under it. A file
    // SQLite cannot open is reported by the open below.
    if !path.exists() {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        match o.open(path) {
            Ok(_) => {}
            // Made by another process or thread in the meantime: opened below.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(AllocError::Io {
                    action: "create the store",
                    path: path.to_owned(),
                    source,
                })
            }
        }
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::CannotOpen
                || f.code == rusqlite::ErrorCode::PermissionDenied
                || f.code == rusqlite::ErrorCode::ReadOnly =>
        {
            AllocError::Io {
                action: "open the store",
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, e.to_string()),
            }
        }
        other => not_a_store(path, other.to_string()),
    })?;
    if conn.is_readonly(rusqlite::DatabaseName::Main)? {
        return Err(AllocError::Io {
            action: "open the store for writing",
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "this user may only read it",
            ),
        });
    }
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Every statement of the allocator stays prepared (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(128);
    // Identify the file before changing anything in it: a file that is not a store (another
    // program's database, a newer or unknown schema, tables without a schema version) is
    // refused here, having only been read, and is left byte for byte as it was.
    identify(&conn, path)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    // The schema is made or migrated in one transaction, before the switch to WAL: a file
    // found damaged on the way is refused with the transaction rolled back, so unchanged.
    migrate(&conn, path)?;
    // Last, once the file is known to be a store: switching a file that is not yet in WAL
    // mode rewrites its header (the format versions and the change counter), so it is not
    // done to a file that may still be refused.
    switch_to_wal(&conn, path)?;
    Ok(conn)
}

/// Switch the store to WAL mode. The switch needs the file to itself: SQLite's busy handler
/// does not wait for that, so while other processes creating the same new store at once
/// still read it in its first journal mode, it is retried (for up to [`BUSY_TIMEOUT`]) until
/// one of them has switched it or it can.
fn switch_to_wal(conn: &Connection, path: &Path) -> Result<(), AllocError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(damaged(path, e)),
        }
    }
}

/// Whether the file at `path` is a store (or an empty database, to become one), read
/// without writing anything.
fn identify(conn: &Connection, path: &Path) -> Result<(), AllocError> {
    // One read transaction: three separate reads could see another process's creation of
    // the schema half done (an application id of 0, then a schema version and tables) and
    // take a store being created for another program's database.
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Deferred)
        .map_err(|e| not_a_store(path, e.to_string()))?;
    let read = |sql: &str| -> Result<i64, AllocError> {
        tx.query_row(sql, [], |r| r.get(0))
            .map_err(|e| match e.sqlite_error_code() {
                // Locked past the busy timeout: a failure of the store, not a verdict on it.
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                    AllocError::Store(e)
                }
                _ => not_a_store(path, e.to_string()),
            })
    };
    let app = read("PRAGMA application_id")?;
    let version = read("PRAGMA user_version")?;
    let tables = read("SELECT COUNT(*) FROM sqlite_master")?;
    // Only read: ending it writes nothing.
    drop(tx);
    let fresh = app == 0 && version == 0 && tables == 0;
    if !fresh && app != i64::from(APPLICATION_ID) {
        return Err(not_a_store(
            path,
            "it is another program's SQLite database (its application id is not i3lic's)",
        ));
    }
    if !(0..=i64::from(SCHEMA_VERSION)).contains(&version) {
        return Err(not_a_store(
            path,
            format!("schema version {version}; this build knows versions 1 to {SCHEMA_VERSION}"),
        ));
    }
    if version == 0 && tables != 0 {
        return Err(not_a_store(path, "it holds tables but no schema version"));
    }
    Ok(())
}

/// An error of SQLite while a store is migrated or switched to WAL: a damaged file is not a
/// store; anything else (busy past the timeout, disk full, ...) a failure of the store.
fn damaged(path: &Path, e: rusqlite::Error) -> AllocError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
            not_a_store(path, e.to_string())
        }
        _ => AllocError::Store(e),
    }
}

fn migrate(conn: &Connection, path: &Path) -> Result<(), AllocError> {
    // Two processes opening a new (or older) store at once: the second waits for the
    // first's transaction and then finds the schema in place. Any error drops the
    // transaction, rolling back whatever it wrote.
    let conn_tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        .map_err(|e| damaged(path, e))?;
    let mut version: i32 = conn_tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| damaged(path, e))?;
    let start = version;
    if version == 0 {
        let tables: i64 = conn_tx
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| damaged(path, e))?;
        if tables != 0 {
            return Err(not_a_store(path, "it holds tables but no schema version"));
        }
        conn_tx
            .execute_batch(SCHEMA)
            .and_then(|()| conn_tx.pragma_update(None, "application_id", APPLICATION_ID))
            .map_err(|e| damaged(path, e))?;
        version = 1;
    }
    if version == 1 {
        // Version 1 to 2: the configured counters, filled from the grants.
        conn_tx
            .execute_batch(SCHEMA_V2)
            .map_err(|e| damaged(path, e))?;
        version = 2;
    }
    if version == 2 {
        // Version 2 to 3: identity and history, the history seeded from the loaded file.
        conn_tx
            .execute_batch(SCHEMA_V3)
            .map_err(|e| damaged(path, e))?;
        version = 3;
    }
    if version != start {
        conn_tx
            .pragma_update(None, "user_version", version)
            .map_err(|e| damaged(path, e))?;
    }
    conn_tx.commit().map_err(|e| damaged(path, e))?;
    Ok(())
}
