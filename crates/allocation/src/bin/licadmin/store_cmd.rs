//! `licadmin store show` and `licadmin store retarget`: the store's identity and history;
//! `licadmin store copy`: the whole store into an empty one.

use std::fmt::Write as _;
use std::path::PathBuf;

use allocation::Allocator;
use hostid::HostId;

use crate::{out, read_key, to_json, CliError, Output};

/// The identity, history and log, one line each.
pub(crate) fn show(a: &Allocator) -> Result<Output, CliError> {
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
pub(crate) fn retarget(
    a: &Allocator,
    hosts: &[String],
    keys: &[PathBuf],
) -> Result<Output, CliError> {
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
