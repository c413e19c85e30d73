//! The binary's one error type: what can stop `licadmin`, its exit code (DESIGN.md "Exit
//! codes") and its machine-readable kind.

use std::path::PathBuf;

use allocation::AllocError;

/// What can stop `licadmin`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Alloc(#[from] AllocError),
    #[error("cannot read trusted key {}: {source}", path.display())]
    KeyIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("trusted key {} is not a public key: {reason}", path.display())]
    KeyMalformed { path: PathBuf, reason: String },
    #[error("--host-id: {0}")]
    BadHostId(hostid::CodeError),
    #[error("--host {0:?}: {1}")]
    BadHost(String, hostid::CodeError),
    #[error("no trusted key: give --trust PUB (or I3LIC_TRUST=PUB:PUB...) to use the license")]
    NoTrust,
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Tls(http_server::TlsError),
    /// A refusal worded by the command itself (a session that ended, and why).
    #[error("{message}")]
    Refused {
        kind: &'static str,
        code: i32,
        message: String,
    },
}

impl CliError {
    /// The exit code, decided here and nowhere else.
    pub(crate) fn exit_code(&self) -> i32 {
        match self {
            CliError::Alloc(e) => e.exit_code(),
            CliError::KeyIo { .. } => 4,
            CliError::KeyMalformed { .. } | CliError::BadHostId(_) | CliError::BadHost(..) => 3,
            CliError::NoTrust | CliError::Usage(_) => 2,
            CliError::Tls(e) if e.is_io() => 4,
            CliError::Tls(_) => 3,
            CliError::Refused { code, .. } => *code,
        }
    }

    /// A stable name of the error for `--json`: the library's kind, or the binary's own.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CliError::Alloc(e) => e.kind(),
            CliError::KeyIo { .. } => "trusted-key-io",
            CliError::KeyMalformed { .. } => "trusted-key-malformed",
            CliError::BadHostId(_) | CliError::BadHost(..) => "bad-host-id",
            CliError::NoTrust => "no-trusted-key",
            CliError::Usage(_) => "usage",
            CliError::Tls(e) if e.is_io() => "tls-io",
            CliError::Tls(_) => "tls-malformed",
            CliError::Refused { kind, .. } => kind,
        }
    }
}
