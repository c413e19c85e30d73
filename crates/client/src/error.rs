//! What can go wrong talking to the license server.

use std::fmt;

/// A refusal the server answered as `{"error": {"kind", "message", "reason"?}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (401, 404, 409, 422, ...).
    pub status: u16,
    /// The server's stable kind (`no-license`, `unknown-user`, `session-ended`, ...).
    pub kind: String,
    /// The server's message, for people.
    pub message: String,
    /// Why a session ended (`logged-off`, `lease-lapsed`, `logged-on-elsewhere`, ...), when the
    /// refusal is about an ended session.
    pub reason: Option<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.kind, self.message)
    }
}

/// An error of a call to the license server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: the token is missing, wrong or revoked.
    #[error("the license server refused the token ({0})")]
    Unauthorized(Refusal),
    /// 409 `no-license`: no license is available; the message says which.
    #[error("no license is available ({0})")]
    NoLicense(Refusal),
    /// 404 for a session that ended or never was; `reason` says why it ended
    /// when the server knows.
    #[error("the session is over ({0})")]
    SessionEnded(Refusal),
    /// Any other refusal: a license rule (422), an unknown user or station (404), a
    /// malformed request (400), a server that cannot reach its store (503), ...
    #[error("the license server refused the request ({0})")]
    Refused(Refusal),
    /// The server answered something that is not what its API promises (a status without a
    /// JSON error body, a body that does not parse).
    #[error("unexpected answer from the license server ({status}): {message}")]
    UnexpectedAnswer {
        /// The HTTP status of the answer.
        status: u16,
        /// What was wrong with it.
        message: String,
    },
    /// The server could not be reached or the exchange broke off: name resolution, connection,
    /// TLS, a timeout.
    #[error("cannot reach the license server at {url}: {message}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What failed.
        message: String,
    },
    /// The client was set up wrong: a base URL that is not http(s), a CA file with no
    /// certificate.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// The server's refusal (status, kind, message, reason), when the server answered one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Unauthorized(r)
            | Error::NoLicense(r)
            | Error::SessionEnded(r)
            | Error::Refused(r) => Some(r),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::UnexpectedAnswer { status, .. } => Some(*status),
            e => e.refusal().map(|r| r.status),
        }
    }

    /// The server's error kind, when it answered a refusal.
    pub fn kind(&self) -> Option<&str> {
        self.refusal().map(|r| r.kind.as_str())
    }

    /// Whether trying again later may succeed: the server was unreachable, timed out or
    /// answered a 5xx.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } => true,
            e => e.status().is_some_and(|s| s >= 500),
        }
    }

    /// Map a refusal to its variant.
    pub(crate) fn from_refusal(r: Refusal) -> Error {
        match (r.status, r.kind.as_str()) {
            (401, _) => Error::Unauthorized(r),
            (409, "no-license") => Error::NoLicense(r),
            (404, "session-ended" | "unknown-session") => Error::SessionEnded(r),
            _ => Error::Refused(r),
        }
    }
}

/// The result of a call to the license server.
pub type Result<T, E = Error> = std::result::Result<T, E>;
