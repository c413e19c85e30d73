//! One module per `issuer` command, as `src/bin/cargo/commands/`: each parses nothing (clap
//! did, in [`crate::cli`]), does its work through the library, and hands what it prints to
//! [`crate::output`].

mod account;
mod activity;
mod audit;
mod catalog;
mod deactivate;
mod download;
pub(crate) mod issue;
mod keygen;
mod ledger;
mod order;
mod show;
mod site;
mod summary;
mod update;
mod upgrade;

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::error::CliError;
use crate::output::Out;
use issuer::PartQuantity;

/// Run the command `cli` names, printing on standard output.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    let mut out = Out::stdout();
    match &cli.command {
        Command::Keygen {
            kid,
            out: dir,
            unencrypted,
            force,
        } => keygen::run(kid, dir, *unencrypted, *force, cli.json, &mut out)?,
        Command::Account(c) => account::run(cli, c, &mut out)?,
        Command::Site(c) => site::run(cli, c, &mut out)?,
        Command::Order(c) => order::run(cli, c, &mut out)?,
        Command::Summary {
            account,
            site,
            category,
        } => summary::run(cli, account, site.as_deref(), category.as_deref(), &mut out)?,
        Command::Issue(args) => issue::run(cli, args, &mut out)?,
        Command::Download { id, out: path } => download::run(cli, id, path, &mut out)?,
        Command::Catalog(c) => catalog::run(cli, c, &mut out)?,
        Command::Update(args) => update::run(cli, args, &mut out)?,
        Command::Deactivate {
            id,
            with_recovery,
            receipt,
            approve,
        } => deactivate::run(
            cli,
            id,
            *with_recovery,
            receipt.as_deref(),
            *approve,
            &mut out,
        )?,
        Command::Activity(args) => activity::run(cli, args, &mut out)?,
        Command::Show { id } => show::run(cli, id, &mut out)?,
        Command::Upgrade(args) => upgrade::run(cli, args, &mut out)?,
        Command::Audit(c) => audit::run(cli, c, &mut out)?,
        Command::Ledger(c) => ledger::run(cli, c, &mut out)?,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "issuer", &mut script);
            out.write_raw(&script)?;
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            out.write_raw(&page)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A part number as the catalog spells it (`sw-001-4.0-al02` is `SW-001-4.0-AL02`); one the
/// catalog does not know is kept as given, for the library to refuse with its suggestions.
pub(crate) fn canonical_part(catalog: &issuer::Catalog, part: &str) -> String {
    issuer::ledger::policy::canonical_part(catalog, part)
}

/// `PART=QTY` values of a repeatable flag (`--add`, `--set`), each quantity from `min` to
/// [`format::MAX_COUNT`] ([`crate::cli::quantity_in`]).
pub(crate) fn parse_pairs(
    flag: &str,
    values: &[String],
    min: u32,
) -> Result<Vec<PartQuantity>, CliError> {
    values
        .iter()
        .map(|s| {
            let (part, q) = s
                .split_once('=')
                .ok_or_else(|| CliError::Usage(format!("{flag} '{s}': expected PART=QUANTITY")))?;
            let quantity = crate::cli::quantity_in(q, min)
                .map_err(|e| CliError::Usage(format!("{flag} '{s}': '{}' is {e}", q.trim())))?;
            Ok(PartQuantity {
                part: part.trim().to_string(),
                quantity,
            })
        })
        .collect()
}
