//! `issuer deactivate ID [--receipt FILE | --approve] [--with-recovery]`.

use std::io::{Read, Write};
use std::path::Path;

use format::receipt::MAX_RECEIPT_SIZE;
use format::Timestamp;

use crate::cli::Cli;
use crate::context::{actor, open_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};
use issuer::{DeactivationHow, DeactivationOutcome, IssuerError};

/// The files deactivated, the asked one first (JSON: a list of `{id, license_type, how,
/// returned: [[part, units], ...], pending: [[part, units], ...]}`).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Done(Vec<DeactivationOutcome>);

impl Render for Done {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let done = &self.0;
        for (i, d) in done.iter().enumerate() {
            if i == 0 {
                writeln!(out, "deactivated {}", d.id)?;
            } else {
                writeln!(
                    out,
                    "deactivated {} (disaster recovery, with {})",
                    d.id, done[0].id
                )?;
            }
            writeln!(out, "{}", d.how.describe())?;
            if d.returned.is_empty() && d.pending.is_empty() {
                writeln!(out, "it used no ordered units")?;
            }
            for (part, n) in &d.returned {
                writeln!(out, "returned {n} x {part}")?;
            }
            for (part, n) in &d.pending {
                writeln!(out, "pending {n} x {part} (still used)")?;
            }
            if d.how == DeactivationHow::Pending {
                writeln!(
                    out,
                    "its units stay used until vendor staff approve (issuer deactivate {} --approve) or its release receipt is given (licadmin release on the server, then issuer deactivate {} --receipt FILE)",
                    d.id, d.id
                )?;
            }
        }
        Ok(())
    }
}

/// Read a receipt from `path` (`-`: standard input), at most a little over the largest
/// receipt so that a wrong file is refused without reading all of it.
fn read_receipt(path: &Path) -> Result<String, IssuerError> {
    let io = |source| IssuerError::Io {
        action: "reading the receipt",
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    let limit = (MAX_RECEIPT_SIZE + 1) as u64;
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    } else {
        std::fs::File::open(path)
            .map_err(io)?
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    // Not UTF-8 or too large: the receipt parser says so.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Deactivate the file (and with `with_recovery` its disaster-recovery files), with a
/// receipt, with staff approval, or pending; prints what each returned or keeps pending.
pub fn run(
    cli: &Cli,
    id: &str,
    with_recovery: bool,
    receipt: Option<&Path>,
    approve: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let text = receipt.map(read_receipt).transpose()?;
    let mut ledger = open_ledger(cli)?;
    let id = &ledger.resolve_file_id(id)?;
    let done = if approve {
        ledger.approve_deactivation(id, with_recovery, &actor(), Timestamp::now())?
    } else {
        ledger.deactivate_held(
            id,
            text.as_deref(),
            with_recovery,
            &actor(),
            Timestamp::now(),
        )?
    };
    emit(out, &Done(done), cli.json)?;
    Ok(())
}
