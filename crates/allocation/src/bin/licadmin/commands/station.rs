//! `licadmin station ...`: add (with licenses, warning without a Basic Station), remove,
//! disable, enable and list stations.

use allocation::{Allocator, StationEntry, StationKind};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::strs;
use crate::output::text::{esc, or_dash, table};
use crate::output::{lines, out, Output};
use crate::CliError;

/// `--kind`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KindArg {
    Workstation,
    Remote,
    Phone,
    Fax,
}

/// `licadmin station ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum StationCmd {
    /// Add a station.
    #[command(
        after_help = "Examples:\n  licadmin station add desk-1 --license I3_LICENSE_BASIC_STATION I3_ACCESS_CLIENT\n  licadmin station add fax-1 --kind fax\nA station added without a Basic Station license is warned about: all active stations require one."
    )]
    Add {
        /// The station's name.
        name: String,
        /// Its kind.
        #[arg(long, value_enum, default_value = "workstation")]
        kind: KindArg,
        /// Allocate these keys too, in the same transaction (a refused key adds no station).
        #[arg(long = "license", value_name = "KEY", num_args = 1..)]
        licenses: Vec<String>,
    },
    /// Remove a station (its licenses are released, a session at it ends).
    #[command(after_help = "Examples:\n  licadmin station remove desk-1")]
    Remove {
        /// The station's name.
        name: String,
    },
    /// Turn the station's licensing off (licenses released, settings kept, a session at it ends).
    #[command(after_help = "Examples:\n  licadmin station disable desk-1")]
    Disable {
        /// The station's name.
        name: String,
    },
    /// Turn the station's licensing on again.
    #[command(after_help = "Examples:\n  licadmin station enable desk-1")]
    Enable {
        /// The station's name.
        name: String,
    },
    /// List stations: kind, licensing on or off, licenses, who is logged on.
    #[command(
        after_help = "Examples:\n  licadmin station list\n  licadmin station list --license I3_LICENSE_BASIC_STATION --json"
    )]
    List {
        /// Only stations holding this key.
        #[arg(long, value_name = "KEY")]
        license: Option<String>,
    },
}

/// Run a `station` command.
pub(crate) fn run(a: &Allocator, cmd: &StationCmd) -> Result<Output, CliError> {
    match cmd {
        StationCmd::Add {
            name,
            kind,
            licenses,
        } => {
            let k = match kind {
                KindArg::Workstation => StationKind::Workstation,
                KindArg::Remote => StationKind::Remote,
                KindArg::Phone => StationKind::Phone,
                KindArg::Fax => StationKind::Fax,
            };
            add(a, name, k, licenses)
        }
        StationCmd::Remove { name } => {
            a.remove_station(name)?;
            Ok(super::ok())
        }
        StationCmd::Disable { name } => {
            a.disable_station(name)?;
            Ok(super::ok())
        }
        StationCmd::Enable { name } => enable(a, name),
        StationCmd::List { license } => list(a, license.as_deref()),
    }
}

/// `station add NAME [--license KEY...]`, warning when the station has no Basic Station.
fn add(
    a: &Allocator,
    name: &str,
    kind: StationKind,
    licenses: &[String],
) -> Result<Output, CliError> {
    let r = a.add_station_with(name, kind, &strs(licenses))?;
    let mut o = out(
        lines(&r.allocated),
        json!({ "ok": true, "allocated": r.allocated, "warnings": r.warnings }),
    );
    o.notes = r.warnings;
    Ok(o)
}

/// `station enable NAME`, warning when the station has no Basic Station.
fn enable(a: &Allocator, name: &str) -> Result<Output, CliError> {
    a.enable_station(name)?;
    let warnings = a.station_warnings(name)?;
    let mut o = out(String::new(), json!({ "ok": true, "warnings": warnings }));
    o.notes = warnings;
    Ok(o)
}

/// One row per station under [`STATION_HEADERS`] (each value escaped).
pub(crate) fn station_rows(list: &[StationEntry]) -> Vec<Vec<String>> {
    list.iter()
        .map(|s| {
            vec![
                esc(&s.name),
                s.kind.to_string(),
                if s.licensing { "on" } else { "off" }.into(),
                or_dash(esc(&s.licenses.join(", "))),
                match &s.logged_on {
                    Some(l) => format!("{} (session {})", esc(&l.user), esc(&l.session)),
                    None => "-".into(),
                },
            ]
        })
        .collect()
}

/// The columns of a station list.
pub(crate) const STATION_HEADERS: [&str; 5] =
    ["Station", "Kind", "Licensing", "Licenses", "Logged on"];

/// `licadmin station list [--license KEY]`.
fn list(a: &Allocator, license: Option<&str>) -> Result<Output, CliError> {
    let list = a.stations(license)?;
    let t = if list.is_empty() {
        match license {
            Some(k) => format!("no station holds {}\n", esc(k)),
            None => "no stations\n".into(),
        }
    } else {
        table(&STATION_HEADERS, &station_rows(&list), &[])
    };
    Ok(out(t, serde_json::json!({ "stations": list })))
}
