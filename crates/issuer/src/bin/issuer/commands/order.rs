//! `issuer order add --account A --part P --quantity Q`.

use std::io::Write;

use crate::cli::{Cli, OrderCommand};
use crate::context::{actor, load_catalog, open_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};

/// An order line added (JSON: `{account, part, quantity, perpetual, included}`, `included`
/// naming the development system a server part brought with it, or null).
#[derive(serde::Serialize)]
struct Ordered<'a> {
    account: &'a str,
    part: &'a str,
    quantity: u32,
    perpetual: bool,
    included: Option<String>,
}

impl Render for Ordered<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (q, a) = (self.quantity, self.account);
        writeln!(out, "added {q} x {} to {a}", self.part)?;
        if let Some(inc) = &self.included {
            writeln!(out, "added {q} x {inc} to {a} (included with the server)")?;
        }
        Ok(())
    }
}

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
            let v = Ordered {
                account,
                part,
                quantity: *quantity,
                perpetual: !non_perpetual,
                included,
            };
            emit(out, &v, cli.json)?;
        }
    }
    Ok(())
}
