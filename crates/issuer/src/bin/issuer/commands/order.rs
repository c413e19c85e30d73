//! `issuer order add --account A --part P --quantity Q`.

use std::io::Write;

use crate::cli::{Cli, OrderCommand};
use crate::context::{actor, load_catalog, open_ledger, read_ledger};
use crate::error::CliError;
use crate::output::{emit, print_table, Render};
use issuer::OrderLine;

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

/// An account's order lines (JSON: a list of the library's [`OrderLine`]).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Lines(Vec<OrderLine>);

impl Render for Lines {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let rows: Vec<Vec<String>> = self
            .0
            .iter()
            .map(|o| {
                let mut notes = Vec::new();
                if let Some(f) = o.upgraded_from {
                    notes.push(format!("upgraded from line {f}"));
                }
                if let Some(s) = o.included_with {
                    notes.push(format!("included with line {s}"));
                }
                vec![
                    o.id.to_string(),
                    o.part.clone(),
                    o.quantity.to_string(),
                    o.used.to_string(),
                    o.available.to_string(),
                    if o.perpetual { "Yes" } else { "No" }.into(),
                    if o.active { "Yes" } else { "No" }.into(),
                    o.added_at.date(),
                    o.added_by.clone(),
                    notes.join("; "),
                ]
            })
            .collect();
        print_table(
            out,
            &[
                "Line",
                "Part",
                "Quantity",
                "Used",
                "Available",
                "Perpetual",
                "Active",
                "Added",
                "Added By",
                "Notes",
            ],
            &rows,
            &[0, 2, 3, 4],
        )
    }
}

/// Run an `order` command.
pub fn run(cli: &Cli, command: &OrderCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        OrderCommand::List { account } => {
            let lines = read_ledger(cli, |l| l.orders(account))?;
            emit(out, &Lines(lines), cli.json)?;
        }
        OrderCommand::Add {
            account,
            part,
            quantity,
            perpetual: _,
            non_perpetual,
        } => {
            let catalog = load_catalog(cli.catalog.as_deref())?;
            let mut ledger = open_ledger(cli)?;
            let included =
                ledger.add_order(&catalog, account, part, *quantity, !non_perpetual, &actor())?;
            // Said as the ledger and catalog spell them (matched without case).
            let account = &ledger.account_name(account)?;
            let part = &super::canonical_part(&catalog, part);
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
