//! Where a ledger lives, as `--db` and `I3LIC_DB` name it: a file path (SQLite) or a
//! `postgres://` / `postgresql://` URL (PostgreSQL).
//!
//! A value that looks like a URL (`scheme://...`) is never taken as a file name: a scheme
//! other than PostgreSQL's is refused, so a mistyped URL cannot create a folder named after
//! its scheme. A PostgreSQL URL is shown without its password ([`PostgresUrl`]'s `Display`).
//!
//! ```
//! use issuer::location::LedgerLocation;
//!
//! let db = LedgerLocation::parse("postgres://vendor:s3cret@db.example/ledger".as_ref())?;
//! assert_eq!(db.to_string(), "postgres://vendor:***@db.example/ledger");
//! assert!(matches!(LedgerLocation::parse("ledger.db".as_ref())?, LedgerLocation::Sqlite(_)));
//! assert!(LedgerLocation::parse("mysql://db.example/ledger".as_ref()).is_err());
//! # Ok::<(), issuer::location::LocationError>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

/// A ledger's place: an SQLite file, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerLocation {
    /// An SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(PostgresUrl),
}

/// A `postgres://` or `postgresql://` connection URL. Its `Display` and `Debug` hide the
/// password; [`PostgresUrl::expose`] gives the whole URL to the client that connects.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

/// A `--db` value that names no ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    /// A URL of another scheme than PostgreSQL's (exit 2).
    #[error(
        "--db {shown}: a {scheme}:// URL names no ledger; --db takes a file path (SQLite) or a \
         postgres:// or postgresql:// URL (PostgreSQL)"
    )]
    UnsupportedScheme {
        /// The scheme as given.
        scheme: String,
        /// The value, without any password.
        shown: String,
    },
    /// The value is empty.
    #[error("--db is empty; it takes a file path (SQLite) or a postgres:// URL (PostgreSQL)")]
    Empty,
}

impl LedgerLocation {
    /// Read a `--db` or `I3LIC_DB` value.
    pub fn parse(value: &OsStr) -> Result<LedgerLocation, LocationError> {
        match store::location_kind(value) {
            store::LocationKind::Empty => Err(LocationError::Empty),
            store::LocationKind::Path(p) => Ok(LedgerLocation::Sqlite(p.to_path_buf())),
            store::LocationKind::Postgres(url) => {
                Ok(LedgerLocation::Postgres(PostgresUrl(url.to_string())))
            }
            store::LocationKind::OtherScheme { scheme, url } => {
                Err(LocationError::UnsupportedScheme {
                    scheme: scheme.to_string(),
                    shown: redact(url),
                })
            }
        }
    }
}

impl From<&std::path::Path> for LedgerLocation {
    fn from(p: &std::path::Path) -> LedgerLocation {
        LedgerLocation::Sqlite(p.to_path_buf())
    }
}

impl From<&PathBuf> for LedgerLocation {
    fn from(p: &PathBuf) -> LedgerLocation {
        LedgerLocation::Sqlite(p.clone())
    }
}

impl From<&LedgerLocation> for LedgerLocation {
    fn from(l: &LedgerLocation) -> LedgerLocation {
        l.clone()
    }
}

impl fmt::Display for LedgerLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerLocation::Sqlite(p) => write!(f, "{}", p.display()),
            LedgerLocation::Postgres(u) => u.fmt(f),
        }
    }
}

impl PostgresUrl {
    /// The whole URL, password included: for the client that connects, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({})", redact(&self.0))
    }
}

/// `text` with the password of its user information (`user:PASSWORD@host`) replaced by `***`,
/// and any `password=` query parameter likewise.
fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<LedgerLocation, LocationError> {
        LedgerLocation::parse(OsStr::new(s))
    }

    #[test]
    fn paths_are_sqlite_files() {
        for p in [
            "ledger.db",
            "/srv/i3lic/ledger.db",
            "./postgres",
            "c:ledger",
            "a:/b",
        ] {
            assert_eq!(
                parse(p),
                Ok(LedgerLocation::Sqlite(PathBuf::from(p))),
                "{p}"
            );
        }
    }

    #[test]
    fn postgres_urls_are_postgres_in_either_spelling_and_any_case() {
        for u in [
            "postgres://u@h/db",
            "postgresql://h/db",
            "PostgreSQL://h:5433/db?sslmode=require",
        ] {
            assert!(matches!(parse(u), Ok(LedgerLocation::Postgres(_))), "{u}");
        }
    }

    #[test]
    fn other_schemes_are_refused_without_their_password() {
        let e = parse("mysql://root:hunter2@db/x").unwrap_err();
        assert_eq!(
            e,
            LocationError::UnsupportedScheme {
                scheme: "mysql".into(),
                shown: "mysql://root:***@db/x".into()
            }
        );
        assert!(!e.to_string().contains("hunter2"));
        assert!(matches!(
            parse("file:///tmp/x"),
            Err(LocationError::UnsupportedScheme { .. })
        ));
        assert_eq!(parse(""), Err(LocationError::Empty));
    }

    #[test]
    fn a_password_is_never_shown() {
        let db =
            parse("postgres://vendor:p@ss:w@rd@db.example:5432/ledger?password=x&sslmode=require")
                .unwrap();
        let shown = format!("{db} {db:?}");
        assert!(
            !shown.contains("p@ss") && !shown.contains("w@rd") && !shown.contains("=x"),
            "{shown}"
        );
        assert_eq!(
            db.to_string(),
            "postgres://vendor:***@db.example:5432/ledger?password=***&sslmode=require"
        );
        let LedgerLocation::Postgres(u) = db else {
            unreachable!()
        };
        assert!(u.expose().contains("p@ss:w@rd"));
    }
}
