//! `issuer deactivate ID [--with-recovery]`.

use std::io::Write;

use format::Timestamp;

use crate::cli::Cli;
use crate::context::{actor, open_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};
use issuer::Deactivated;

/// The files deactivated, the asked one first (JSON: a list of `{id, license_type,
/// returned: [[part, units], ...]}`).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Done(Vec<Deactivated>);

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
            if d.returned.is_empty() {
                writeln!(out, "it used no ordered units")?;
            }
            for (part, n) in &d.returned {
                writeln!(out, "returned {n} x {part}")?;
            }
        }
        Ok(())
    }
}

/// Deactivate the file (and with `with_recovery` its disaster-recovery files); prints what
/// each returned.
pub fn run(cli: &Cli, id: &str, with_recovery: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let mut ledger = open_ledger(cli)?;
    let id = &ledger.resolve_file_id(id)?;
    let done = if with_recovery {
        ledger.deactivate_with_recovery(id, &actor(), Timestamp::now())?
    } else {
        let returned = ledger.deactivate(id, &actor(), Timestamp::now())?;
        vec![Deactivated {
            // Already spelled by the ledger's rule (`resolve_file_id`).
            id: id.clone(),
            license_type: String::new(),
            returned,
        }]
    };
    emit(out, &Done(done), cli.json)?;
    Ok(())
}
