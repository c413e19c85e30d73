//! The PostgreSQL engine of i3lic's stores: the storage interface of [`store`] over a
//! PostgreSQL server, for a store that several processes or machines share (portal processes
//! behind a load balancer, both servers of a switchover pair).
//!
//! ```no_run
//! use store::{Access, Connection, Migration, Schema, TxExt};
//!
//! static SCHEMA: Schema = Schema {
//!     what: "ledger",
//!     migrations: &[Migration {
//!         version: 1,
//!         name: "0001_customers.sql",
//!         sql: "CREATE TABLE customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
//!     }],
//!     tables: &["customers"],
//!     application_id: None,
//! };
//!
//! let mut db = store_postgres::open("postgres://i3lic@db.example.com/ledger", &SCHEMA, Access::Write)?;
//! let tx = db.begin_write()?;
//! tx.execute("INSERT INTO customers (id, name) VALUES (?1, ?2)", store::params![1_i64, "Contoso"])?;
//! tx.commit()?;
//! let name: String = db.query_row("SELECT name FROM customers WHERE id = ?1", [1_i64], |r| r.get(0))?;
//! assert_eq!(name, "Contoso");
//! # Ok::<(), store::Error>(())
//! ```
//!
//! # Connecting
//! The URL (`postgres://` or `postgresql://`, as libpq reads it) says where; what it leaves
//! out comes from libpq's environment: `PGHOST`, `PGPORT`, `PGUSER` (default: the user this
//! runs as), `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGCONNECT_TIMEOUT`
//! (default 10 s) and `PGAPPNAME` (default `i3lic`). No message ever holds the password
//! ([`redact`] gives a URL fit for messages).
//!
//! Several hosts (`postgres://db1,db2/alloc` or `host=db1,db2`) are tried in order; with
//! `target_session_attrs=read-write` a host that only reads (a standby) is skipped, so the
//! store follows the primary after a failover.
//!
//! A lost connection (the server restarted, a standby took over, the backend was ended) fails
//! the statement that meets it ([`store::ErrorKind::Io`]; what was not committed is rolled
//! back by the server) and is made again, as the URL says, when the next transaction or
//! statement outside one begins: a long-running process needs no restart. A failed attempt is
//! not repeated for [`RECONNECT_PAUSE`]; meanwhile its error is returned at once.
//!
//! TLS (rustls): `sslmode=disable`, `prefer` (the default: TLS when the server offers it),
//! `require` (TLS, the certificate unchecked, unless a root certificate is given, which makes
//! it `verify-ca`), `verify-ca` (the certificate chains to `sslrootcert`) and `verify-full`
//! (and names the host). `sslrootcert=FILE` (PEM) or `sslrootcert=system` (the system's
//! roots); default `~/.postgresql/root.crt`. Client certificates are not supported.
//!
//! # Writers: one at a time per store
//! Every write transaction takes a transaction-scoped advisory lock
//! (`pg_advisory_xact_lock`) whose key is derived from the store's name, before its first
//! statement, and holds it until it commits or rolls back. So all writers of one store, in
//! every process and on every machine, run one after the other: the ledger's audit chain
//! stays one chain (each entry hashes the one before it), and a check such as "never sell
//! more than there is" reads a state no other writer changes before the commit. Readers never
//! wait for it. A writer waits up to 60 s for the lock, then fails as
//! [`store::ErrorKind::Busy`].
//!
//! A statement that fails inside a write transaction aborts it (PostgreSQL's rule, unlike
//! SQLite's): a caller that wants to go on after an error wraps the statement in a savepoint
//! (`SAVEPOINT x` … `ROLLBACK TO x` through `execute_batch`).
//!
//! # Bookkeeping
//! The engine keeps a table `i3lic_store` (one row: which store, its schema version, a change
//! counter), created with the first migration. Every committed write transaction adds one to
//! its counter, which is what [`store::Connection::change_counter`] reads.
//!
//! # Statements and values
//! Statements use SQLite's placeholders (`?1` or `?`), rewritten as `$1`; each connection
//! prepares a statement once. A parameter takes the type the server infers for it (an
//! integer can be an `INT2`/`INT4`/`INT8`, `BOOL` (0 or 1), a float or text); columns read
//! back as integers (`INT2`/`INT4`/`INT8`, `OID`, `BOOL` as 0/1), reals, text and bytes. A
//! `NUMERIC` column (such as `SUM` over a `BIGINT`) must be cast: `CAST(SUM(x) AS BIGINT)`.

mod config;
mod conn;
mod error;
mod reconnect;
mod schema;
mod sql;
#[doc(hidden)]
pub mod testing;
mod value;

pub use reconnect::RECONNECT_PAUSE;
use store::{Access, Connection, Result, Schema};

/// Open the store at `url` (`postgres://` or `postgresql://`): with [`Access::Write`] an
/// empty database gets `schema` and an older one its later migrations (in one transaction
/// under the writer lock); with [`Access::Read`] nothing is changed. A database that holds
/// something else, or a newer schema, is [`store::ErrorKind::Foreign`].
pub fn open(url: &str, schema: &Schema, access: Access) -> Result<Box<dyn Connection>> {
    let s = config::settings(url)?;
    let client = s
        .config
        .connect(s.tls.clone())
        .map_err(|e| error::map(&e, error::CONNECTING, &s.target))?;
    let conn = conn::PgConnection::new(client, schema.what, access, s);
    schema::prepare(&conn, schema, access)?;
    Ok(Box::new(conn))
}

/// The URL with its password removed, for messages.
pub fn redact(url: &str) -> String {
    config::redact(url)
}

/// A client connected as `url` and the environment say.
fn connect(url: &str) -> Result<(postgres::Client, error::Target)> {
    let s = config::settings(url)?;
    let client = s
        .config
        .connect(s.tls)
        .map_err(|e| error::map(&e, error::CONNECTING, &s.target))?;
    Ok((client, s.target))
}
