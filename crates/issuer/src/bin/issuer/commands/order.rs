//! `issuer order add --account A --part P --quantity Q`.

use std::io::Write;

use crate::cli::{Cli, OrderCommand};
use crate::context::{actor, load_catalog, open_ledger};
use crate::error::CliError;

/// Run an `order` command.
pub fn run(cli: &Cli, command: &OrderCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        OrderCommand::Add {
            account,
            part,
            quantity,
            perpetual: _,
            non_perpetual,
        } => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let included = open_ledger(cli)?.add_order(
                &catalog,
                account,
                part,
                *quantity,
                !non_perpetual,
                &actor(),
            )?;
            writeln!(out, "added {quantity} x {part} to {account}")?;
            if let Some(inc) = included {
                writeln!(
                    out,
                    "added {quantity} x {inc} to {account} (included with the server)"
                )?;
            }
        }
    }
    Ok(())
}
