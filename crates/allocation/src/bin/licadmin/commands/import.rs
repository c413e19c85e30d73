//! `licadmin import users|stations FILE.csv`: a whole site at once, all or nothing.

use std::path::PathBuf;

use allocation::{Allocator, ImportKind};
use clap::{Args, ValueEnum};

use crate::output::{out, to_json, Output};
use crate::CliError;

/// `import`'s help after the options: the columns and an example.
const HELP: &str = "A header row names the columns, in any order:
  users:    name,method,organization,licenses
  stations: name,kind,licenses
licenses are keys separated by ';'; an empty method is assignable, an empty kind workstation,
an empty organization none. Fields may be quoted (RFC 4180); CRLF line ends and a byte order
mark are fine. Nothing is imported when any line is refused: the error names its line and
column, and the exit code is the refusal's (3 malformed, 20 unknown organization, 21 no
license available, 22 a license rule).

Examples:
  licadmin import users site-users.csv
  licadmin import stations site-stations.csv --json

site-users.csv:
  name,method,organization,licenses
  alice,assignable,,I3_ACCESS_CLIENT
  \"Smith, Bob\",concurrent,tenant-a,I3_ACCESS_CLIENT;I3_ACCESS_ACD_MEDIA_2";

/// `users` or `stations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportKindArg {
    Users,
    Stations,
}

/// `licadmin import`'s arguments.
#[derive(Debug, Args)]
#[command(after_help = HELP)]
pub(crate) struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    kind: ImportKindArg,
    /// The CSV file (RFC 4180; a header row names the columns).
    file: PathBuf,
}

/// Import the file; text: how many were added, and any warning.
pub(crate) fn run(a: &Allocator, args: &ImportArgs) -> Result<Output, CliError> {
    let file = &args.file;
    let kind = match args.kind {
        ImportKindArg::Users => ImportKind::Users,
        ImportKindArg::Stations => ImportKind::Stations,
    };
    let r = a.import_file(kind, file)?;
    let what = match kind {
        ImportKind::Users => "user(s)",
        ImportKind::Stations => "station(s)",
    };
    let mut o = out(
        format!(
            "imported {} {what} with {} license(s) from {}\n",
            r.added,
            r.allocated,
            file.display()
        ),
        to_json(&r),
    );
    o.notes = r.warnings;
    Ok(o)
}
