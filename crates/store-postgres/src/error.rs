//! The server's and the client's errors as the store's kinds, with messages that name what
//! failed and never the password.

use store::{Error, ErrorKind};

use crate::value::ParamError;

/// Where a connection goes, for messages (never the password).
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port` (or the socket folder) tried first.
    pub(crate) server: String,
    pub(crate) database: String,
    pub(crate) user: String,
    /// The password (as written and decoded), only to scrub it from any message that might
    /// echo it.
    pub(crate) secrets: Vec<String>,
}

impl Target {
    fn describe(&self) -> String {
        format!(
            "the PostgreSQL server at {} (database \"{}\", user \"{}\")",
            self.server, self.database, self.user
        )
    }

    /// The server and database, for messages about what the database holds.
    pub(crate) fn server_and_database(&self) -> String {
        format!(
            "database \"{}\" on the PostgreSQL server at {}",
            self.database, self.server
        )
    }

    /// `message` with the password, should it appear, replaced.
    pub(crate) fn scrub(&self, message: String) -> String {
        let mut message = message;
        for p in &self.secrets {
            if !p.is_empty() && message.contains(p.as_str()) {
                message = message.replace(p.as_str(), "***");
            }
        }
        message
    }
}

/// What [`map`] is told while a connection is being made.
pub(crate) const CONNECTING: &str = "connecting";

/// The store error for `e`, which happened while `doing` (a few words: "connecting",
/// "running a statement").
pub(crate) fn map(e: &postgres::Error, doing: &str, target: &Target) -> Error {
    let (kind, message) = classify(e, doing, target);
    // A failure to connect is what opening the store means; the caller says "opening ...".
    let message = match message.strip_prefix("connecting: ") {
        Some(rest) if doing == CONNECTING => rest.to_owned(),
        _ => message,
    };
    Error::new(kind, target.scrub(message))
}

/// Whether `e` means the connection is gone (closed, reset, or ended by the server), so the
/// client must not be used again.
pub(crate) fn is_lost(e: &postgres::Error) -> bool {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return code.starts_with("08") || code.starts_with("57P");
    }
    e.is_closed()
        || std::error::Error::source(e)
            .is_some_and(|c| c.downcast_ref::<std::io::Error>().is_some())
}

fn classify(e: &postgres::Error, doing: &str, target: &Target) -> (ErrorKind, String) {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let server = db.message();
        let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        return match code {
            "28P01" | "28000" => (
                ErrorKind::Io,
                format!("{doing}: wrong user or password for {}: {server}", target.describe()),
            ),
            "3D000" => (
                ErrorKind::Io,
                format!(
                    "{doing}: the database \"{}\" does not exist on the PostgreSQL server at {}",
                    target.database, target.server
                ),
            ),
            "P0001" => (ErrorKind::Constraint, format!("{doing}: {server}{detail}")),
            "40001" | "40P01" | "55P03" => (
                ErrorKind::Busy,
                format!("{doing}: another writer held the store too long: {server}"),
            ),
            c if c.starts_with("23") => (ErrorKind::Constraint, format!("{doing}: {server}{detail}")),
            c if c.starts_with("08") || c.starts_with("57P") => (
                ErrorKind::Io,
                format!(
                    "{doing}: the connection to {} was lost ({server}); the server rolls back whatever was not committed",
                    target.describe()
                ),
            ),
            c if c.starts_with("53") => (ErrorKind::Io, format!("{doing} on {}: {server}", target.describe())),
            _ => (ErrorKind::Other, format!("{doing}: {server}{detail}")),
        };
    }
    let cause = std::error::Error::source(e);
    if let Some(p) = cause.and_then(|c| c.downcast_ref::<ParamError>()) {
        return (ErrorKind::Conversion, format!("{doing}: {p}"));
    }
    if e.is_closed() {
        return (
            ErrorKind::Io,
            format!(
                "{doing}: the connection to {} was lost; the server rolls back whatever was not committed",
                target.describe()
            ),
        );
    }
    if let Some(io) = cause.and_then(|c| c.downcast_ref::<std::io::Error>()) {
        if doing != CONNECTING {
            return (
                ErrorKind::Io,
                format!(
                    "{doing}: the connection to {} was lost ({io}); the server rolls back whatever was not committed",
                    target.describe()
                ),
            );
        }
        let what = match io.kind() {
            std::io::ErrorKind::TimedOut => "timed out".to_owned(),
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is the server running, on that port?)".to_owned()
            }
            _ => io.to_string(),
        };
        return (
            ErrorKind::Io,
            format!("{doing}: cannot reach {}: {what}", target.describe()),
        );
    }
    (
        ErrorKind::Other,
        format!("{doing} on {}: {e}", target.describe()),
    )
}
