//! `issuer account add NAME`, `issuer account list [--json]`, `issuer account edit NAME
//! [--rehosts-per-year N]`.

use std::io::Write;

use crate::cli::{AccountCommand, Cli};
use crate::context::{actor, open_ledger, read_ledger};
use crate::error::CliError;
use crate::output::{emit, Render};

/// The account names, one a line (JSON: a list of strings).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Names(Vec<String>);

impl Render for Names {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for n in &self.0 {
            writeln!(out, "{n}")?;
        }
        Ok(())
    }
}

/// An account added (JSON: `{"account": NAME}`).
#[derive(serde::Serialize)]
struct Added<'a> {
    account: &'a str,
}

impl Render for Added<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "added account {}", self.account)
    }
}

/// An account renamed (JSON: `{"old": NAME, "new": NAME}`).
#[derive(serde::Serialize)]
struct Renamed<'a> {
    old: &'a str,
    new: &'a str,
}

impl Render for Renamed<'_> {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "renamed account {} to {}", self.old, self.new)
    }
}

/// An account's rehost allowance (JSON: `{"per_year", "used"}`).
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Allowance(issuer::RehostAllowance);

impl Render for Allowance {
    fn text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "rehosts per year: {} ({} used in the last 365 days)",
            self.0.per_year, self.0.used
        )
    }
}

/// Run an `account` command.
pub fn run(cli: &Cli, command: &AccountCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        AccountCommand::Add { name } => {
            open_ledger(cli)?.add_account(name, &actor())?;
            emit(out, &Added { account: name }, cli.json)?;
        }
        AccountCommand::Rename { old, new } => {
            open_ledger(cli)?.rename_account(old, new, &actor())?;
            emit(out, &Renamed { old, new }, cli.json)?;
        }
        AccountCommand::Edit {
            name,
            rehosts_per_year,
        } => {
            let mut ledger = open_ledger(cli)?;
            if let Some(n) = rehosts_per_year {
                ledger.set_rehosts_per_year(name, *n, &actor())?;
            }
            let a = ledger.rehost_allowance(name, format::Timestamp::now())?;
            emit(out, &Allowance(a), cli.json)?;
        }
        AccountCommand::List => {
            let names = read_ledger(cli, |l| l.accounts())?;
            emit(out, &Names(names), cli.json)?;
        }
    }
    Ok(())
}
