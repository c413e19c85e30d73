//! `issuer upgrade`: Upgrade Software.

use std::io::Write;

use issuer::UpgradeSelection;

use crate::cli::{Cli, UpgradeArgs};
use crate::context::{actor, load_catalog, open_ledger};
use crate::error::CliError;
use crate::output::print_table;

/// Move ordered items to the newer version (or show what would move).
pub fn run(cli: &Cli, args: &UpgradeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let catalog = load_catalog(cli.catalog.as_deref())?;
    let selection = if args.mirror {
        UpgradeSelection::Mirror
    } else {
        UpgradeSelection::Parts(
            args.part
                .iter()
                .map(|p| super::canonical_part(&catalog, p.trim()))
                .collect(),
        )
    };
    let moved = open_ledger(cli)?.upgrade(
        &catalog,
        &args.account,
        &args.product,
        &args.from,
        &args.to,
        &selection,
        args.dry_run,
        &actor(),
    )?;
    if cli.json {
        serde_json::to_writer_pretty(&mut *out, &moved).map_err(std::io::Error::from)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = moved
        .iter()
        .map(|m| {
            vec![
                m.from_part.clone(),
                m.to_part.clone(),
                m.description.clone(),
                m.quantity.to_string(),
                m.used.to_string(),
                if m.perpetual { "Yes" } else { "No" }.into(),
            ]
        })
        .collect();
    print_table(
        out,
        &["From", "To", "Description", "Quantity", "Used", "Perpetual"],
        &rows,
        &[3, 4],
    )?;
    writeln!(
        out,
        "{} {} order line(s) {} {} {} -> {}{}",
        if args.dry_run {
            "would upgrade"
        } else {
            "upgraded"
        },
        moved.len(),
        if args.mirror {
            "(mirrored)"
        } else {
            "(selected parts)"
        },
        args.product,
        args.from,
        args.to,
        if args.dry_run {
            "; nothing was changed"
        } else {
            ""
        }
    )?;
    Ok(())
}
