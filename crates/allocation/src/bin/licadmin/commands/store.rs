//! `licadmin store show` and `licadmin store retarget`: the store's identity and history;
//! `licadmin store copy`: the whole store into an empty one.

use std::fmt::Write as _;
use std::path::PathBuf;

use allocation::Allocator;
use clap::Subcommand;
use hostid::HostId;

use crate::context::read_key;
use crate::output::{out, to_json, Output};
use crate::CliError;

/// `licadmin store ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum StoreCmd {
    /// Show the hosts the store serves, the keys it trusts, the latest time it saw, the newest
    /// generation per lineage, and the log of identity changes.
    #[command(after_help = "Examples:\n  licadmin store show\n  licadmin store show --json")]
    Show,
    /// Re-target the store: the hosts it serves and the keys it trusts from now on (logged).
    /// Files that do not name every one of those hosts (exit 12) or are signed by another key
    /// (exit 11) are refused until then. Allocations and the rollback history stay.
    #[command(
        after_help = "Examples:\n  licadmin store retarget --host 1Q2H4-74KMZ-KWXDV-8K000-00KZQ --key keys/vendor-2026.pub\n  licadmin store retarget --host CODE1 --host CODE2 --key old.pub --key new.pub"
    )]
    Retarget {
        /// A host-ID code the store serves: one, or the two hosts of a switchover pair.
        #[arg(long = "host", value_name = "CODE", required = true)]
        hosts: Vec<String>,
        /// A public key (.pub) the store trusts; repeat for several.
        #[arg(long = "key", value_name = "PUB", required = true)]
        keys: Vec<PathBuf>,
    },
    /// Copy the whole store into an empty one, of either engine (an SQLite file or a
    /// postgres:// URL), in one transaction; a target that is not empty is refused (exit 24)
    /// and left as it was.
    #[command(
        after_help = "Examples:\n  licadmin --store /var/lib/i3lic/allocation.db store copy postgres://i3lic@db.example/alloc\n  licadmin --store postgres://i3lic@db.example/alloc store copy backup.db"
    )]
    Copy {
        /// The target store: a file path or a postgres:// URL.
        #[arg(value_name = "DST")]
        target: PathBuf,
    },
}

/// Run `store show` or `store retarget` (`store copy` opens no store of its own: [`copy`]).
pub(crate) fn run(a: &Allocator, cmd: &StoreCmd) -> Result<Output, CliError> {
    match cmd {
        StoreCmd::Show => show(a),
        StoreCmd::Retarget { hosts, keys } => retarget(a, hosts, keys),
        // Run before the store is opened (it opens two stores): see `crate::run`.
        StoreCmd::Copy { .. } => Ok(out(String::new(), serde_json::json!({}))),
    }
}

/// The identity, history and log, one line each.
fn show(a: &Allocator) -> Result<Output, CliError> {
    let id = a.identity()?;
    let mut t = String::new();
    let or_none = |v: Vec<&str>| {
        if v.is_empty() {
            "(none yet: recorded at the first load)".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        t,
        "hosts: {}",
        or_none(id.hosts.iter().map(String::as_str).collect())
    );
    let _ = writeln!(
        t,
        "trusted keys: {}",
        or_none(id.keys.iter().map(|k| k.key_id.as_str()).collect())
    );
    let _ = writeln!(
        t,
        "latest time seen: {}",
        id.latest_seen.as_deref().unwrap_or("-")
    );
    for l in &id.lineages {
        let _ = writeln!(
            t,
            "lineage {}: generation {} (file {})",
            l.lineage, l.generation, l.file_id
        );
    }
    let _ = writeln!(t, "superseded files remembered: {}", id.superseded);
    for e in &id.log {
        let _ = writeln!(t, "{} {}: {}", e.at, e.action, e.detail);
    }
    Ok(out(t, to_json(&id)))
}

/// Parse the codes and read the keys first: nothing changes when any is wrong.
fn retarget(a: &Allocator, hosts: &[String], keys: &[PathBuf]) -> Result<Output, CliError> {
    let hosts = hosts
        .iter()
        .map(|c| {
            c.trim()
                .parse::<HostId>()
                .map_err(|e| CliError::BadHost(c.clone(), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let keys = keys
        .iter()
        .map(|p| read_key(p))
        .collect::<Result<Vec<_>, _>>()?;
    a.retarget(&hosts, &keys)?;
    let id = a.identity()?;
    let key_ids: Vec<&str> = id.keys.iter().map(|k| k.key_id.as_str()).collect();
    Ok(out(
        format!(
            "the store serves {} and trusts {}\n",
            id.hosts.join(", "),
            key_ids.join(", ")
        ),
        to_json(&id),
    ))
}

/// Copy the store at `from` into the empty store at `to`: rows per table.
pub(crate) fn copy(
    from: &allocation::StoreLocation,
    to: &allocation::StoreLocation,
) -> Result<Output, CliError> {
    let r = allocation::copy_store(from, to)?;
    let mut t = String::new();
    let total: u64 = r.tables.iter().map(|(_, n)| n).sum();
    let _ = writeln!(t, "copied {from} to {to}: {total} rows");
    for (table, n) in &r.tables {
        let _ = writeln!(t, "  {table}: {n}");
    }
    Ok(out(t, to_json(&r)))
}
