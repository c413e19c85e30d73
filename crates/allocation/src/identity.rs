//! What a store remembers about itself, whoever runs a command on it: the hosts it serves and
//! the keys it trusts (its identity), the newest generation accepted per lineage and the
//! files superseded (its rollback history), the latest time seen, and the administrator's
//! log of identity changes.
//!
//! `licadmin` takes trust, host and clock from its command line; without this record a
//! command run with another `--trust` or `--host-id` could load another server's file, and
//! a load of another lineage in between let an older generation back in. The rollback rules
//! are those of `verify`'s state file (docs/FORMAT.md, section 13).

use format::{Activation, FileId, HostId, PublicKey, Rules, Timestamp, UnverifiedFile};
use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};
use verify::{License, TrustStore, VerifyError, DEFAULT_CLOCK_TOLERANCE_SECS};

use crate::error::AllocError;

type Result<T> = std::result::Result<T, AllocError>;

/// Most lineages whose newest generation a store remembers (as `verify`'s state file); beyond
/// this the one updated longest ago is dropped.
pub const MAX_LINEAGES: usize = 100;
/// Most superseded file ids a store remembers; the oldest are dropped beyond this.
pub const MAX_SUPERSEDED: usize = 1000;
/// How far the clock may go back behind the latest time the store saw before the license is
/// refused (exit 14): `verify`'s [`DEFAULT_CLOCK_TOLERANCE_SECS`], 24 hours.
pub const CLOCK_TOLERANCE_SECS: i64 = DEFAULT_CLOCK_TOLERANCE_SECS;

/// A store's identity and history, as `licadmin store show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreIdentity {
    /// The host-ID codes of the machines the store serves (empty until a file is loaded).
    pub hosts: Vec<String>,
    /// The keys the store trusts.
    pub keys: Vec<TrustedKey>,
    /// The latest time the store saw (RFC 3339), if any.
    pub latest_seen: Option<String>,
    /// The newest generation accepted per lineage, the one updated last at the end.
    pub lineages: Vec<AcceptedLineage>,
    /// How many superseded file ids the store remembers.
    pub superseded: usize,
    /// The identity changes, oldest first.
    pub log: Vec<LogEntry>,
}

/// A key the store trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// The key id.
    pub key_id: String,
    /// The public key, in its text form.
    pub public_key: String,
}

/// The newest generation a store accepted from one lineage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedLineage {
    /// The lineage (the id of its first file).
    pub lineage: String,
    /// The highest generation accepted.
    pub generation: u32,
    /// The file accepted at that generation.
    pub file_id: String,
}

/// One entry of the store's administrator log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When (RFC 3339).
    pub at: String,
    /// `identity-recorded`, `identity-adopted` or `retargeted`.
    pub action: String,
    /// What changed.
    pub detail: String,
}

fn ts(secs: i64) -> String {
    Timestamp::from_unix(secs).map_or_else(|| secs.to_string(), |t| t.to_string())
}

/// The latest time seen (Unix seconds; 0 before any).
fn latest_seen(c: &dyn Tx) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT latest_seen FROM store_state WHERE id = 1")?
            .query_row([], |r| r.get::<i64>(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// Refuse a clock more than the tolerance behind the latest time seen (exit 14); else the
/// effective time, `max(now, latest seen)`, at which the validity window is checked.
pub(crate) fn effective_time(
    c: &dyn Tx,
    now: Timestamp,
    path: &std::path::Path,
) -> Result<Timestamp> {
    let latest = latest_seen(c)?;
    if now.unix().saturating_add(CLOCK_TOLERANCE_SECS) < latest {
        return Err(AllocError::ClockSetBack {
            now: now.to_string(),
            latest_seen: ts(latest),
            tolerance_secs: CLOCK_TOLERANCE_SECS,
            path: path.to_owned(),
        });
    }
    Ok(Timestamp::from_unix(latest).map_or(now, |l| l.max(now)))
}

/// Record `now` as seen (the latest time never goes back).
pub(crate) fn record_time(c: &dyn Tx, now: Timestamp) -> Result<()> {
    c.prepare_cached("UPDATE store_state SET latest_seen = CASE WHEN latest_seen < ?1 THEN ?1 ELSE latest_seen END WHERE id = 1")?
        .execute([now.unix()])?;
    Ok(())
}

fn hosts(c: &dyn Tx) -> Result<Vec<HostId>> {
    let mut st = c.prepare_cached("SELECT code FROM store_hosts ORDER BY code")?;
    let codes = st
        .query_map([], |r| r.get::<String>(0))?
        .collect::<store::Result<Vec<_>>>()?;
    codes
        .iter()
        .map(|code| {
            code.parse().map_err(|e| {
                AllocError::Internal(format!("the store's host {code:?} does not parse: {e}"))
            })
        })
        .collect()
}

fn key_ids(c: &dyn Tx) -> Result<Vec<String>> {
    let mut st = c.prepare_cached("SELECT key_id FROM store_keys ORDER BY key_id")?;
    let ids = st
        .query_map([], |r| r.get::<String>(0))?
        .collect::<store::Result<Vec<_>>>()?;
    Ok(ids)
}

/// Whether the store has recorded the hosts it serves.
fn has_identity(c: &dyn Tx) -> Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM store_hosts LIMIT 1")?
        .query_row([], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The hosts a file names: its primary host and its switchover host, if any.
fn file_hosts(a: &Activation) -> Vec<HostId> {
    std::iter::once(a.primary_host.host_id)
        .chain(a.switchover_host.as_ref().map(|h| h.host_id))
        .collect()
}

/// Whether two codes are the same machine: the tolerant rule, in whichever direction the
/// forms allow (a short code is compared with the short code a strong one contains).
fn same_machine(a: &HostId, b: &HostId) -> bool {
    hostid::match_codes(a, b).is_match() || hostid::match_codes(b, a).is_match()
}

pub(crate) fn log(c: &dyn Tx, at: Timestamp, action: &str, detail: &str) -> Result<()> {
    c.execute(
        "INSERT INTO admin_log (id, at, action, detail) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM admin_log), ?1, ?2, ?3)",
        params![at.unix(), action, detail],
    )?;
    Ok(())
}

fn describe(hosts: &[HostId], keys: &[PublicKey]) -> String {
    format!(
        "hosts {}; keys {}",
        hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        keys.iter()
            .map(|k| k.key_id().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Replace the store's identity, and log it.
fn set_identity(
    c: &dyn Tx,
    hosts: &[HostId],
    keys: &[PublicKey],
    at: Timestamp,
    action: &str,
) -> Result<()> {
    let before = if has_identity(c)? {
        let keys: Vec<String> = key_ids(c)?;
        let hosts: Vec<String> = self::hosts(c)?.iter().map(ToString::to_string).collect();
        format!(
            " (was: hosts {}; keys {})",
            hosts.join(", "),
            keys.join(", ")
        )
    } else {
        String::new()
    };
    c.execute("DELETE FROM store_hosts", [])?;
    c.execute("DELETE FROM store_keys", [])?;
    for h in hosts {
        c.execute(
            "INSERT INTO store_hosts (code) VALUES (?1) ON CONFLICT DO NOTHING",
            [h.to_string()],
        )?;
    }
    for k in keys {
        let id = k.key_id().to_string();
        c.execute(
            "INSERT INTO store_keys (key_id, public_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, k.to_text(&id)],
        )?;
    }
    log(c, at, action, &format!("{}{before}", describe(hosts, keys)))
}

/// A store without an identity that holds a file (made by an earlier release) adopts the
/// identity of that file: the hosts it names and the key that signed it, which must be among
/// `trust` (its signature is checked; host, product and time are not, as they say nothing
/// about which file the store held). Returns whether the store has an identity afterwards.
pub(crate) fn adopt(c: &dyn Tx, trust: &TrustStore, at: Timestamp) -> Result<bool> {
    if has_identity(c)? {
        return Ok(true);
    }
    let bytes: Option<Vec<u8>> = c
        .query_row("SELECT bytes FROM license WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    let Some(bytes) = bytes else {
        return Ok(false);
    };
    let Ok((a, key)) = verify_with(&bytes, |id| trust.get(id).cloned()) else {
        return Ok(false);
    };
    c.execute(
        "UPDATE license SET signer_key = ?1 WHERE id = 1",
        [key.to_text(&key.key_id().to_string())],
    )?;
    set_identity(c, &file_hosts(&a), &[key], at, "identity-adopted")?;
    Ok(true)
}

/// Parse `bytes` and check their signature with the key `key_for` gives for the key id the
/// file names; the activation and that key.
fn verify_with(
    bytes: &[u8],
    key_for: impl FnOnce(format::KeyId) -> Option<PublicKey>,
) -> Result<(Activation, PublicKey)> {
    let u = UnverifiedFile::parse(bytes).map_err(VerifyError::Malformed)?;
    let key = key_for(u.key_id()).ok_or_else(|| VerifyError::UntrustedKey {
        key_id: u.key_id(),
        trusted: Vec::new(),
    })?;
    let v = u.verify(&key).map_err(|_| VerifyError::SignatureInvalid {
        key_id: key.key_id(),
    })?;
    Ok((v.into_activation(), key))
}

/// The rules of the stored file, from its bytes checked against the key that signed it
/// (recorded when it was loaded), whatever the command's trust, host or clock: what
/// deallocation obeys. No file loaded: no rules (nothing can be held).
pub(crate) fn stored_rules(c: &dyn Tx, trust: &TrustStore, at: Timestamp) -> Result<Rules> {
    let row: Option<(Vec<u8>, Option<String>)> = c
        .query_row(
            "SELECT bytes, signer_key FROM license WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((bytes, signer)) = row else {
        return Ok(Rules::default());
    };
    let signer = match signer {
        Some(s) => s,
        None => {
            // A store of an earlier release: adopt first (the signer is recorded then).
            adopt(c, trust, at)?;
            c.query_row("SELECT signer_key FROM license WHERE id = 1", [], |r| {
                r.get::<Option<String>>(0)
            })?
            .ok_or_else(|| {
                let key_id = UnverifiedFile::parse(&bytes)
                    .map(|u| u.key_id())
                    .unwrap_or(format::KeyId([0; 8]));
                AllocError::License(VerifyError::UntrustedKey {
                    key_id,
                    trusted: trust.key_ids(),
                })
            })?
        }
    };
    let key = PublicKey::from_text(&signer)
        .map_err(|e| AllocError::Internal(format!("the stored file's signer key: {e}")))?;
    let (a, _) = verify_with(&bytes, |id| (id == key.key_id()).then_some(key.clone()))?;
    Ok(a.rules)
}

/// Refuse a file the store may not load: one that does not name every host the store serves
/// (exit 12), signed by a key the store does not trust (exit 11), or a rollback against the
/// store's history (exit 16: superseded, an older generation of a lineage, a version-1 file
/// older than the newest accepted). A store without an identity yet accepts any verified file.
pub(crate) fn check_new(c: &dyn Tx, l: &License, bytes: &[u8]) -> Result<()> {
    let a = l.activation();
    if has_identity(c)? {
        let named = file_hosts(a);
        let served = hosts(c)?;
        if let Some(missing) = served
            .iter()
            .find(|h| !named.iter().any(|n| same_machine(n, h)))
        {
            return Err(AllocError::StoreHostMismatch {
                store_host: missing.to_string(),
                file_hosts: named.iter().map(ToString::to_string).collect(),
            });
        }
        // The signature is checked again with the whole key the store holds under the
        // signer's id: a key that only shares the 8-byte id is not trusted.
        let signer = l.key_id().to_string();
        let stored: Option<String> = c
            .prepare_cached("SELECT public_key FROM store_keys WHERE key_id = ?1")?
            .query_row([&signer], |r| r.get(0))
            .optional()?;
        let signed_by_stored_key = stored
            .and_then(|text| PublicKey::from_text(&text).ok())
            .is_some_and(|key| {
                verify_with(bytes, |id| (id == key.key_id()).then_some(key.clone())).is_ok()
            });
        if !signed_by_stored_key {
            return Err(AllocError::StoreUntrustedKey {
                key_id: signer,
                trusted: key_ids(c)?,
            });
        }
    }
    check_rollback(c, a)
}

/// The rollback checks of docs/FORMAT.md section 13.2, against the store's history.
fn check_rollback(c: &dyn Tx, a: &Activation) -> Result<()> {
    let id = a.file_id.to_string();
    if let Some(chain) = a.chain {
        let accepted: Option<(i64, String)> = c
            .query_row(
                "SELECT generation, file_id FROM lineages WHERE lineage = ?1",
                [chain.lineage.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((g, accepted_id)) = accepted {
            let g = u32::try_from(g).unwrap_or(u32::MAX);
            if chain.generation < g || (chain.generation == g && id != accepted_id) {
                return Err(VerifyError::OlderGeneration {
                    file_id: a.file_id,
                    lineage: chain.lineage,
                    generation: chain.generation,
                    accepted_generation: g,
                    accepted_id: accepted_id.parse().unwrap_or(FileId([0; 16])),
                }
                .into());
            }
        }
    }
    let superseded = c
        .query_row("SELECT 1 FROM superseded WHERE file_id = ?1", [&id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    if superseded {
        return Err(VerifyError::Superseded { file_id: a.file_id }.into());
    }
    if a.chain.is_some() {
        return Ok(());
    }
    let newest: Option<(String, String)> = c
        .query_row(
            "SELECT newest_file, newest_issued_at FROM store_state WHERE id = 1 AND newest_file IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((newest_id, issued)) = newest {
        let issued: Timestamp = issued
            .parse()
            .map_err(|_| AllocError::Internal("the store's newest issuance".into()))?;
        if newest_id != id && a.issued_at < issued {
            return Err(VerifyError::OlderFile {
                file_id: a.file_id,
                issued_at: a.issued_at,
                newest_id: newest_id.parse().unwrap_or(FileId([0; 16])),
                newest_issued_at: issued,
            }
            .into());
        }
    }
    Ok(())
}

/// Record a loaded file (checked with [`check_new`]): its signer beside it, the store's
/// identity when it has none yet (the hosts the file names, the keys `trust` holds), and the
/// history of docs/FORMAT.md section 13.3.
pub(crate) fn record_load(
    c: &dyn Tx,
    l: &License,
    trust: &TrustStore,
    at: Timestamp,
) -> Result<()> {
    let a = l.activation();
    let signer = trust
        .get(l.key_id())
        .ok_or_else(|| AllocError::Internal("the signer is not in the trust store".into()))?;
    c.execute(
        "UPDATE license SET signer_key = ?1 WHERE id = 1",
        [signer.to_text(&signer.key_id().to_string())],
    )?;
    if !has_identity(c)? {
        set_identity(c, &file_hosts(a), trust.keys(), at, "identity-recorded")?;
    }
    let seq: i64 = c.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM (SELECT seq FROM lineages UNION ALL SELECT seq FROM superseded) AS t",
        [],
        |r| r.get(0),
    )?;
    let supersede = |old: FileId| -> Result<()> {
        c.execute(
            "INSERT INTO superseded (file_id, seq) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![old.to_string(), seq],
        )?;
        Ok(())
    };
    if let Some(chain) = a.chain {
        c.execute(
            "INSERT INTO lineages (lineage, generation, file_id, seq) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (lineage) DO UPDATE SET generation = excluded.generation,
               file_id = excluded.file_id, seq = excluded.seq",
            params![
                chain.lineage.to_string(),
                chain.generation,
                a.file_id.to_string(),
                seq
            ],
        )?;
        if let Some(old) = a.supersedes {
            supersede(old)?;
        }
    }
    let newest: Option<String> = c.query_row(
        "SELECT newest_issued_at FROM store_state WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    let newer = match newest.map(|s| s.parse::<Timestamp>()) {
        None => true,
        Some(Ok(n)) => a.issued_at >= n,
        Some(Err(_)) => return Err(AllocError::Internal("the store's newest issuance".into())),
    };
    if newer {
        if let Some(old) = a.supersedes {
            supersede(old)?;
        }
        c.execute(
            "UPDATE store_state SET newest_file = ?1, newest_issued_at = ?2 WHERE id = 1",
            params![a.file_id.to_string(), a.issued_at.to_string()],
        )?;
    }
    c.execute(
        &format!(
            "DELETE FROM lineages WHERE lineage NOT IN (SELECT lineage FROM lineages ORDER BY seq DESC LIMIT {MAX_LINEAGES})"
        ),
        [],
    )?;
    c.execute(
        &format!(
            "DELETE FROM superseded WHERE file_id NOT IN (SELECT file_id FROM superseded ORDER BY seq DESC, file_id LIMIT {MAX_SUPERSEDED})"
        ),
        [],
    )?;
    record_time(c, at)
}

/// Re-target the store: it serves `hosts` and trusts `keys` from now on (its history stays,
/// so no older generation comes back). Logged.
pub(crate) fn retarget(
    c: &dyn Tx,
    hosts: &[HostId],
    keys: &[PublicKey],
    at: Timestamp,
) -> Result<()> {
    if hosts.is_empty() || hosts.len() > 2 {
        return Err(AllocError::InvalidInput {
            what: "hosts",
            reason: format!(
                "{} given; a store serves one host, or the two hosts of a switchover pair",
                hosts.len()
            ),
        });
    }
    if keys.is_empty() {
        return Err(AllocError::InvalidInput {
            what: "keys",
            reason: "at least one trusted key is needed".into(),
        });
    }
    set_identity(c, hosts, keys, at, "retargeted")
}

/// The store's identity, history and log.
pub(crate) fn show(c: &dyn Tx) -> Result<StoreIdentity> {
    let hosts = hosts(c)?.iter().map(ToString::to_string).collect();
    let mut st = c.prepare("SELECT key_id, public_key FROM store_keys ORDER BY key_id")?;
    let keys = st
        .query_map([], |r| {
            Ok(TrustedKey {
                key_id: r.get(0)?,
                public_key: r.get(1)?,
            })
        })?
        .collect::<store::Result<Vec<_>>>()?;
    let mut st = c.prepare("SELECT lineage, generation, file_id FROM lineages ORDER BY seq")?;
    let lineages = st
        .query_map([], |r| {
            Ok(AcceptedLineage {
                lineage: r.get(0)?,
                generation: u32::try_from(r.get::<i64>(1)?).unwrap_or(u32::MAX),
                file_id: r.get(2)?,
            })
        })?
        .collect::<store::Result<Vec<_>>>()?;
    let superseded: i64 = c.query_row("SELECT COUNT(*) FROM superseded", [], |r| r.get(0))?;
    let mut st = c.prepare("SELECT at, action, detail FROM admin_log ORDER BY id")?;
    let log = st
        .query_map([], |r| {
            Ok(LogEntry {
                at: ts(r.get(0)?),
                action: r.get(1)?,
                detail: r.get(2)?,
            })
        })?
        .collect::<store::Result<Vec<_>>>()?;
    let latest = latest_seen(c)?;
    Ok(StoreIdentity {
        hosts,
        keys,
        latest_seen: (latest > 0).then(|| ts(latest)),
        lineages,
        superseded: usize::try_from(superseded).unwrap_or(0),
        log,
    })
}

/// Whether the store holds a file but no identity yet (made by an earlier release).
pub(crate) fn needs_adoption(c: &dyn Tx) -> Result<bool> {
    let loaded = c
        .query_row("SELECT 1 FROM license WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(loaded && !has_identity(c)?)
}

/// The invariants of [`crate::Allocator::check`] about the identity and history: the signer
/// recorded beside the stored file signed it, the stored file is its lineage's newest
/// generation accepted, and the clock record is there.
pub(crate) fn check(c: &dyn Tx, l: &License, problems: &mut Vec<String>) -> Result<()> {
    let signer: Option<String> =
        c.query_row("SELECT signer_key FROM license WHERE id = 1", [], |r| {
            r.get(0)
        })?;
    if let Some(s) = signer {
        if PublicKey::from_text(&s).map(|k| k.key_id()) != Ok(l.key_id()) {
            problems.push("the signer recorded beside the stored file did not sign it".into());
        }
    }
    if let Some(g) = l.generation() {
        let accepted: Option<i64> = c
            .query_row(
                "SELECT generation FROM lineages WHERE lineage = ?1",
                [l.lineage().to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if accepted.is_some_and(|a| a > i64::from(g)) {
            problems.push(format!(
                "the stored file is generation {g} of lineage {}, below the generation {} accepted",
                l.lineage(),
                accepted.unwrap_or(0)
            ));
        }
    }
    if c.query_row("SELECT COUNT(*) FROM store_state", [], |r| r.get::<i64>(0))? != 1 {
        problems.push("the store's clock record is missing".into());
    }
    Ok(())
}
