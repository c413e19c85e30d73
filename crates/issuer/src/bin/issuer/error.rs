//! The binary's one error type and its exit codes.

use issuer::IssuerError;

/// Everything `issuer` can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Flags that do not make a command.
    #[error("{0}")]
    Usage(String),
    /// Writing to standard output failed.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
    /// `audit verify` found problems (each printed on standard output).
    #[error("the audit log is not intact: {0} problem(s) found")]
    AuditBroken(usize),
    /// The library refused or failed.
    #[error(transparent)]
    Issuer(#[from] IssuerError),
}

impl CliError {
    /// DESIGN.md's exit codes, decided here and nowhere else.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Output(_) => 4,
            // A ledger whose audit log fails its checks is malformed input (DESIGN.md: 3).
            CliError::AuditBroken(_) => 3,
            CliError::Issuer(e) => e.exit_code(),
        }
    }
}

impl From<rusqlite::Error> for CliError {
    fn from(e: rusqlite::Error) -> Self {
        CliError::Issuer(IssuerError::Database(e))
    }
}
