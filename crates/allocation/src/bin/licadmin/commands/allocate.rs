//! `licadmin allocate` and `licadmin deallocate`: license keys to or from a user or a
//! station, all or nothing.

use std::fmt::Write as _;

use allocation::{Allocator, InUse, Target};
use clap::Args;
use serde_json::json;

use super::strs;
use crate::output::{lines, out, Output};
use crate::CliError;

/// The holder: `--user U` or `--station S`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct HolderArgs {
    /// A user.
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// A station.
    #[arg(long, value_name = "S")]
    station: Option<String>,
}

/// `licadmin allocate`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin allocate --station desk-1 I3_LICENSE_BASIC_STATION I3_ACCESS_CLIENT\n  licadmin allocate --user alice I3_ACCESS_CLIENT"
)]
pub(crate) struct AllocateArgs {
    #[command(flatten)]
    holder: HolderArgs,
    /// The keys (I3_ACCESS_CLIENT ...).
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

/// `licadmin deallocate`'s arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  licadmin deallocate --user alice I3_ACCESS_CLIENT\n  licadmin deallocate --station desk-1 --force I3_LICENSE_BASIC_STATION"
)]
pub(crate) struct DeallocateArgs {
    #[command(flatten)]
    holder: HolderArgs,
    /// End the session that uses the holder's licenses first (the station's, or the
    /// assignable user's) instead of refusing; the ended session is printed.
    #[arg(long)]
    force: bool,
    /// The keys.
    #[arg(required = true, value_name = "KEY")]
    keys: Vec<String>,
}

fn holder(h: &HolderArgs) -> Target<'_> {
    match (&h.user, &h.station) {
        (Some(u), _) => Target::User(u),
        (None, Some(s)) => Target::Station(s),
        // clap's group makes one of them required.
        (None, None) => Target::User(""),
    }
}

/// `allocate`, warning when a station is left without a Basic Station.
pub(crate) fn allocate(a: &Allocator, args: &AllocateArgs) -> Result<Output, CliError> {
    let target = holder(&args.holder);
    let added = a.allocate(target, &strs(&args.keys))?;
    let warnings = match target {
        Target::Station(s) => a.station_warnings(s)?,
        Target::User(_) => Vec::new(),
    };
    let mut o = out(
        lines(&added),
        json!({ "allocated": added, "warnings": warnings }),
    );
    o.notes = warnings;
    Ok(o)
}

/// `deallocate`: the keys removed, and the session ended for it (`--force`).
pub(crate) fn deallocate(a: &Allocator, args: &DeallocateArgs) -> Result<Output, CliError> {
    let keys = strs(&args.keys);
    let in_use = if args.force {
        InUse::EndSession
    } else {
        InUse::Refuse
    };
    let d = a.deallocate_with(holder(&args.holder), &keys, in_use)?;
    let mut t = lines(&d.removed);
    for s in &d.ended {
        let _ = writeln!(t, "ended session {} of user '{}'", s.id, s.user);
    }
    Ok(out(
        t,
        json!({ "deallocated": d.removed, "ended_sessions": d.ended }),
    ))
}
