//! Copying a whole store into an empty one, of either engine (`licadmin store copy`): a
//! server moving from its SQLite file to a PostgreSQL database a switchover pair shares, or
//! back.

use store::{Connection, Tx, TxExt, Value};

use crate::error::AllocError;
use crate::storage::{self, StoreLocation};

/// The tables copied, parents before children, with their columns. The counters
/// (`usage_counts`, `configured_counts`) are not copied: the target's triggers count the
/// grants and session licenses as they arrive, so its counters agree with its rows.
const TABLES: &[(&str, &str)] = &[
    ("license", "id, seq, bytes, file_id, product, lineage, generation, issued_at, supersedes, loaded_at, signer_key"),
    ("ceilings", "key, pool, ceiling"),
    ("orgs", "id, name"),
    ("org_limits", "org_id, key, min, max"),
    ("users", "id, name, method, org_id"),
    ("stations", "id, name, kind, enabled"),
    ("user_grants", "user_id, key, explicit, consumes"),
    ("station_grants", "station_id, key, explicit, consumes"),
    ("sessions", "id, user_id, station_id, remote_number, lease, started_at, expires_at"),
    ("session_licenses", "session_id, key, pool"),
    ("store_hosts", "code"),
    ("store_keys", "key_id, public_key"),
    ("store_state", "id, latest_seen, newest_file, newest_issued_at"),
    ("lineages", "lineage, generation, file_id, seq"),
    ("superseded", "file_id, seq"),
    ("admin_log", "id, at, action, detail"),
    ("tokens", "name, digest, created_at, revoked_at"),
    ("ended_sessions", "id, reason, ended_at"),
    ("checkouts", "id, key, application, lease, started_at, expires_at, ended_at, end_reason"),
    ("user_settings", "user_id, licensing, remote_logon"),
    ("user_kept_grants", "user_id, key, explicit"),
    ("workgroups", "id, name, media"),
    ("workgroup_members", "workgroup_id, user_id"),
    ("usage_events", "id, at, kind, who, key, detail"),
    ("usage_peaks", "span, at, key, pool, peak, level"),
    ("usage_denials", "span, at, key, reason, n"),
    ("usage_licensed", "load_id, at, key, assigned, pooled"),
    // The install key goes with the store (the files issued for it bind it), and so do the
    // lineages it released.
    ("install_key", "id, seed, public_key, created_at"),
    ("released", "lineage, file_id, generation, released_at, receipt"),
];

/// What [`copy_store`] copied: rows per table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopyReport {
    /// Each table and how many rows it received.
    pub tables: Vec<(String, u64)>,
}

/// Copy the whole store at `from` into the store at `to` (created, with its schema, when it
/// does not exist), in one transaction on the target while the source is read in one
/// snapshot. A target that holds anything is refused ([`AllocError::NotEmpty`], exit 24)
/// and left as it was; the same store as source and target is [`AllocError::InvalidInput`].
pub fn copy_store(from: &StoreLocation, to: &StoreLocation) -> Result<CopyReport, AllocError> {
    if from == to {
        return Err(AllocError::InvalidInput {
            what: "store copy",
            reason: format!("{to} is the store being copied"),
        });
    }
    let src = storage::open(from)?;
    let mut dst = storage::open(to)?;
    src.begin_read()?;
    let out = copy_into(&*src, &mut *dst, to);
    src.end_read();
    out
}

fn copy_into(
    src: &dyn Connection,
    dst: &mut dyn Connection,
    to: &StoreLocation,
) -> Result<CopyReport, AllocError> {
    let tx = dst.begin_write()?;
    refuse_non_empty(&tx, to)?;
    tx.execute("DELETE FROM store_state", [])?;
    // The new target's own install key gives way to the source's.
    tx.execute("DELETE FROM install_key", [])?;
    let mut report = Vec::new();
    for (table, columns) in TABLES {
        let n = columns.split(',').count();
        let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({columns}) VALUES ({})",
            marks.join(", ")
        );
        let mut rows = 0u64;
        src.each(&format!("SELECT {columns} FROM {table}"), &[], &mut |r| {
            let values: Vec<Value> = (0..n)
                .map(|i| r.get::<Value>(i))
                .collect::<store::Result<_>>()?;
            tx.run(&insert, &values)?;
            rows += 1;
            Ok(())
        })?;
        report.push(((*table).to_string(), rows));
    }
    tx.commit()?;
    Ok(CopyReport { tables: report })
}

/// Refuse a target that holds anything but what a new store has (its one clock record at
/// zero).
fn refuse_non_empty(tx: &dyn Tx, to: &StoreLocation) -> Result<(), AllocError> {
    for (table, _) in TABLES
        .iter()
        .chain([("usage_counts", ""), ("configured_counts", "")].iter())
    {
        let any = if *table == "install_key" {
            // Every store has one from its creation: not content.
            false
        } else if *table == "store_state" {
            tx.prepare_cached(
                "SELECT 1 FROM store_state WHERE latest_seen != 0 OR newest_file IS NOT NULL",
            )?
            .exists([])?
        } else {
            tx.prepare_cached(&format!("SELECT 1 FROM {table} LIMIT 1"))?
                .exists([])?
        };
        if any {
            return Err(AllocError::NotEmpty {
                target: to.to_string(),
                table,
            });
        }
    }
    Ok(())
}
