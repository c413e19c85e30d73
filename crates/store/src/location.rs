//! What a `--db` / `--store` value names, before any engine is chosen: the one reading both
//! stores share, so the ledger and the allocation store take the same values.

use std::ffi::OsStr;
use std::path::Path;

/// What a store location value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind<'a> {
    /// The value is empty.
    Empty,
    /// A file path (SQLite): anything that does not look like a URL, and any value that is
    /// not UTF-8.
    Path(&'a Path),
    /// A `postgres://` or `postgresql://` URL (any case), whole.
    Postgres(&'a str),
    /// A URL of another scheme (the scheme as given, the whole value): never a file name.
    OtherScheme {
        /// The scheme.
        scheme: &'a str,
        /// The whole value.
        url: &'a str,
    },
}

/// Read a store location value.
///
/// ```
/// use store::{location_kind, LocationKind};
/// use std::ffi::OsStr;
/// assert!(matches!(location_kind(OsStr::new("ledger.db")), LocationKind::Path(_)));
/// assert!(matches!(location_kind(OsStr::new("PostgreSQL://h/db")), LocationKind::Postgres(_)));
/// assert!(matches!(location_kind(OsStr::new("mysql://h/db")), LocationKind::OtherScheme { scheme: "mysql", .. }));
/// ```
pub fn location_kind(value: &OsStr) -> LocationKind<'_> {
    if value.is_empty() {
        return LocationKind::Empty;
    }
    // A value that is not UTF-8 cannot be a URL: it is a path.
    let Some(text) = value.to_str() else {
        return LocationKind::Path(Path::new(value));
    };
    match url_scheme(text) {
        None => LocationKind::Path(Path::new(value)),
        Some(s) if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") => {
            LocationKind::Postgres(text)
        }
        Some(scheme) => LocationKind::OtherScheme { scheme, url: text },
    }
}

/// The scheme of a value that looks like a URL: letters, digits, `+`, `-` and `.` after a
/// leading letter, then `://` (RFC 3986's scheme, followed by an authority).
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}
