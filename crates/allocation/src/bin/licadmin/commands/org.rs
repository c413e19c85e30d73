//! `licadmin org ...`: organizations (tenants), their limits per key, and what they use.

use std::fmt::Write as _;

use allocation::Allocator;
use clap::Subcommand;

use crate::output::text::{esc, table};
use crate::output::{out, to_json, Output};
use crate::CliError;

/// `licadmin org ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum OrgCmd {
    /// Add an organization.
    #[command(after_help = "Examples:\n  licadmin org add tenant-a")]
    Add {
        /// The organization's name.
        name: String,
    },
    /// Remove an organization (its limits go with it). Refused, exit 21 (in use), while
    /// users belong to it: the error names them.
    #[command(after_help = "Examples:\n  licadmin org remove tenant-a")]
    Remove {
        /// The organization's name.
        name: String,
    },
    /// Set an organization's minimum (reserved) and maximum (cap) of a key.
    #[command(
        after_help = "Examples:\n  licadmin org limit tenant-a I3_ACCESS_CLIENT --min 5 --max 20"
    )]
    Limit {
        /// The organization.
        org: String,
        /// The key.
        key: String,
        /// Reserved for the organization.
        #[arg(long, value_name = "N")]
        min: Option<u32>,
        /// At most this many for the organization.
        #[arg(long, value_name = "N")]
        max: Option<u32>,
    },
    /// List organizations: users, and per key the minimum, maximum and what it uses.
    #[command(after_help = "Examples:\n  licadmin org list\n  licadmin org list --json")]
    List,
}

/// Run an `org` command.
pub(crate) fn run(a: &Allocator, cmd: &OrgCmd) -> Result<Output, CliError> {
    match cmd {
        OrgCmd::Add { name } => a.add_organization(name)?,
        OrgCmd::Remove { name } => a.remove_organization(name)?,
        OrgCmd::Limit { org, key, min, max } => a.set_organization_limit(org, key, *min, *max)?,
        OrgCmd::List => return list(a),
    }
    Ok(super::ok())
}

/// `licadmin org list`.
fn list(a: &Allocator) -> Result<Output, CliError> {
    let l = a.organizations()?;
    let mut t = String::new();
    let count = l.organizations.len();
    let _ = match l.organizations_allowed {
        Some(n) => writeln!(t, "{count} organization(s), {n} licensed"),
        None => writeln!(t, "{count} organization(s) (no activation file is loaded)"),
    };
    for o in &l.organizations {
        let _ = writeln!(t, "\n{} ({} user(s))", esc(&o.name), o.users);
        if o.keys.is_empty() {
            t.push_str("  no limits set, nothing in use\n");
            continue;
        }
        let rows: Vec<Vec<String>> = o
            .keys
            .iter()
            .map(|k| {
                vec![
                    esc(&k.key),
                    esc(k.description.unwrap_or("-")),
                    k.min.to_string(),
                    k.max.map_or_else(|| "none".into(), |m| m.to_string()),
                    k.used.to_string(),
                ]
            })
            .collect();
        for line in table(
            &["Key", "Name", "Minimum", "Maximum", "Used"],
            &rows,
            &[2, 3, 4],
        )
        .lines()
        {
            let _ = writeln!(t, "  {line}");
        }
    }
    Ok(out(t, to_json(&l)))
}
