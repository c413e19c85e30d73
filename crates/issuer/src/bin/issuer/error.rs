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
    /// The config file is malformed (its path and what is wrong).
    #[error("config file {0}")]
    Config(String),
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
            CliError::Config(_) => 3,
            CliError::Issuer(e) => e.exit_code(),
        }
    }
}

impl CliError {
    /// A stable, machine-readable name of the error: `usage`, `output`, `audit_broken`, or
    /// the library's [`IssuerError::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Output(_) => "output",
            CliError::AuditBroken(_) => "audit_broken",
            CliError::Config(_) => "config",
            CliError::Issuer(e) => e.kind(),
        }
    }

    /// The message printed: the error and each of its causes not already in it.
    pub fn message(&self) -> String {
        let mut msg = self.to_string();
        let mut src = std::error::Error::source(self);
        // thiserror's transparent variants share their inner message; print causes once.
        let mut last = msg.clone();
        while let Some(s) = src {
            let t = s.to_string();
            if !last.contains(&t) {
                msg.push_str(&format!(": {t}"));
            }
            last = t;
            src = s.source();
        }
        msg
    }

    /// `{"error": {"kind", "message", "exit_code"}}`: what `--json` prints on standard output
    /// for a failed command (a shape scripts may rely on; crates/issuer/README.md).
    pub fn to_json(&self) -> serde_json::Value {
        json_error(self.kind(), &self.message(), self.exit_code())
    }
}

/// The `--json` error object.
pub fn json_error(kind: &str, message: &str, exit_code: i32) -> serde_json::Value {
    serde_json::json!({
        "error": { "kind": kind, "message": message, "exit_code": exit_code }
    })
}

impl From<store::Error> for CliError {
    fn from(e: store::Error) -> Self {
        CliError::Issuer(IssuerError::Store(e))
    }
}
