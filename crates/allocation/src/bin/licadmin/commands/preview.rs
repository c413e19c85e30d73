//! `licadmin preview FILE`: which keys a file would leave out of compliance, without
//! loading it.

use std::fmt::Write as _;
use std::path::PathBuf;

use allocation::Allocator;
use clap::Args;

use crate::output::{out, to_json, Output};
use crate::CliError;

/// `licadmin preview`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin preview next.i3lic\n  licadmin preview next.i3lic --json"
)]
pub(crate) struct PreviewArgs {
    /// The activation file (.i3lic).
    file: PathBuf,
}

/// Each key out of compliance with the file, and by how much.
pub(crate) fn run(a: &Allocator, args: &PreviewArgs) -> Result<Output, CliError> {
    let p = a.preview_file(&args.file)?;
    let mut t = String::new();
    if p.out_of_compliance.is_empty() {
        let _ = writeln!(t, "{}: nothing would be out of compliance", p.file_id);
    }
    for e in &p.out_of_compliance {
        let _ = writeln!(
            t,
            "{} {}: {} licensed, {} in use: out of compliance by {}",
            e.key,
            e.count,
            e.licensed,
            e.in_use,
            e.excess()
        );
    }
    Ok(out(t, to_json(&p)))
}
