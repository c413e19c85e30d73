//! Session licenses: an application checks out one per connection it opens and returns it
//! when the connection closes (seed 001, License Types: "Session: License that allows a
//! connection with the system for a specific purpose").
//!
//! Which keys are session keys is decided by name, as the catalog spells them
//! ([`session_kind`]): a key ending in [`SESSION_KEY_SUFFIX`] (Basic, Advanced, Conference,
//! Media and Interaction Mobilizer Session) is a session key, never allocated to a user or
//! a station (holder rule, exit 22) and only checked out. Its count is everything the file
//! grants it, assigned plus pooled (the catalog grants session items as assigned).
//!
//! - **Concurrent** session keys ("the maximum number of connections that can occur at one
//!   time"): in use are the open checkouts whose lease has not lapsed.
//! - **Time-based** session keys ([`TIME_BASED_SESSION_KEYS`]: "Only Interaction Mobilizer
//!   licenses are time-based"; "the maximum number of connections that can occur during a
//!   specific time interval"): in use are the connections that occurred during the last
//!   [`TIME_BASED_WINDOW_SECS`] (one hour): every open checkout, and every one that ended
//!   less than an hour ago. Returning a time-based checkout frees its unit an hour later.
//!
//! Every checkout is one write transaction that counts and inserts together, so no number
//! of threads, processes or servers on one store can check out more than is licensed.
//! Checkouts have leases as sessions do; a lapsed lease ends the checkout at the next change
//! (the server's reaper included). An ended checkout is kept for a day, so a late heartbeat
//! or return is told why it ended ([`Allocator::checkout_end`]).

use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};

use crate::allocator::{random_id, u32_of, Allocator, ENDED_KEPT_SECS};
use crate::error::{AllocError, Entity, RuleKind};
use crate::model::{validate_key, validate_name, Pool, DEFAULT_LEASE_SECS, MAX_LEASE_SECS};
use crate::tokens::SessionEnd;

type Result<T> = std::result::Result<T, AllocError>;

/// What the name of every session key ends with.
pub const SESSION_KEY_SUFFIX: &str = "_SESSION_ADDON";
/// The time-based session keys (Interaction Mobilizer); every other session key is
/// concurrent.
pub const TIME_BASED_SESSION_KEYS: &[&str] = &["I3_LICENSE_MOBILIZER_SESSION_ADDON"];
/// The interval a time-based session key's count applies to: one hour, sliding.
pub const TIME_BASED_WINDOW_SECS: i64 = 3600;

/// How a session key is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionKind {
    /// Connections open at one time.
    Concurrent,
    /// Connections during the last [`TIME_BASED_WINDOW_SECS`].
    TimeBased,
}

/// Whether `key` is a session key, and of which kind (see the module documentation).
pub fn session_kind(key: &str) -> Option<SessionKind> {
    if TIME_BASED_SESSION_KEYS.contains(&key) {
        Some(SessionKind::TimeBased)
    } else if key.len() > SESSION_KEY_SUFFIX.len() && key.ends_with(SESSION_KEY_SUFFIX) {
        Some(SessionKind::Concurrent)
    } else {
        None
    }
}

/// One checked-out session license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkout {
    /// The checkout's id (32 lowercase hex digits).
    pub id: String,
    /// The session key.
    pub key: String,
    /// The application that checked it out, if it said.
    pub application: Option<String>,
    /// The lease period (seconds).
    pub lease_secs: u32,
    /// When it was checked out (Unix seconds).
    pub started_at: i64,
    /// When the lease lapses unless renewed (Unix seconds).
    pub expires_at: i64,
}

pub(crate) fn validate_id(id: &str) -> Result<()> {
    if id.len() == 32
        && id
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        Ok(())
    } else {
        Err(AllocError::InvalidInput {
            what: "checkout id",
            reason: format!(
                "{:?} is not a checkout id (32 lowercase hex digits)",
                id.chars().take(40).collect::<String>()
            ),
        })
    }
}

fn unknown_checkout(id: &str) -> AllocError {
    AllocError::Unknown {
        what: Entity::Checkout,
        name: id.into(),
    }
}

/// End the checkouts whose lease has lapsed (recorded as `lease-lapsed` at their expiry) and
/// forget those ended more than a day ago. Every write transaction runs it first.
pub(crate) fn purge_lapsed(c: &dyn Tx, now: i64) -> Result<()> {
    c.prepare_cached("UPDATE checkouts SET ended_at = expires_at, end_reason = 'lease-lapsed' WHERE ended_at IS NULL AND expires_at <= ?1")?
        .execute([now])?;
    c.prepare_cached("DELETE FROM checkouts WHERE ended_at IS NOT NULL AND ended_at <= ?1")?
        .execute([now - ENDED_KEPT_SECS])?;
    Ok(())
}

/// What is in use of session key `key` of kind `kind` at `now` (lapsed leases not yet
/// purged count as ended at their expiry).
fn in_use(c: &dyn Tx, key: &str, kind: SessionKind, now: i64) -> Result<u32> {
    let n: i64 = match kind {
        SessionKind::Concurrent => c
            .prepare_cached("SELECT COUNT(*) FROM checkouts WHERE key = ?1 AND ended_at IS NULL AND expires_at > ?2")?
            .query_row(params![key, now], |r| r.get(0))?,
        SessionKind::TimeBased => c
            .prepare_cached("SELECT COUNT(*) FROM checkouts WHERE key = ?1 AND COALESCE(ended_at, CASE WHEN expires_at <= ?2 THEN expires_at ELSE ?2 END) > ?3")?
            .query_row(params![key, now, now - TIME_BASED_WINDOW_SECS], |r| r.get(0))?,
    };
    Ok(u32_of(n))
}

/// What is in use of every session key that has checkouts, by key.
pub(crate) fn in_use_all(c: &dyn Tx, now: i64) -> Result<std::collections::BTreeMap<String, u32>> {
    let keys: Vec<String> =
        c.query_map("SELECT DISTINCT key FROM checkouts ORDER BY key", [], |r| {
            r.get(0)
        })?;
    let mut out = std::collections::BTreeMap::new();
    for k in keys {
        if let Some(kind) = session_kind(&k) {
            let n = in_use(c, &k, kind, now)?;
            if n > 0 {
                out.insert(k, n);
            }
        }
    }
    Ok(out)
}

fn checkout_of(c: &dyn Tx, id: &str) -> Result<Checkout> {
    c.query_row(
        "SELECT id, key, application, lease, started_at, expires_at FROM checkouts WHERE id = ?1",
        [id],
        |r| {
            Ok(Checkout {
                id: r.get(0)?,
                key: r.get(1)?,
                application: r.get(2)?,
                lease_secs: u32_of(r.get(3)?),
                started_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        },
    )
    .map_err(AllocError::from)
}

/// The checks of [`Allocator::checkout`]'s input made before any transaction: the lease
/// it asks for (the default when none).
pub(crate) fn check_checkout(
    key: &str,
    application: Option<&str>,
    lease_secs: Option<u32>,
) -> Result<u32> {
    validate_key(key)?;
    if let Some(a) = application {
        validate_name("application", a)?;
    }
    let lease = lease_secs.unwrap_or(DEFAULT_LEASE_SECS);
    if lease == 0 || lease > MAX_LEASE_SECS {
        return Err(AllocError::InvalidInput {
            what: "lease",
            reason: format!("{lease} seconds; a lease is 1 to {MAX_LEASE_SECS} seconds"),
        });
    }
    Ok(lease)
}

/// [`Allocator::return_checkout`] inside a write transaction the caller opened.
pub(crate) fn return_checkout_in(c: &dyn Tx, now: i64, id: &str) -> Result<()> {
    let n = c.execute(
        "UPDATE checkouts SET ended_at = ?1, end_reason = 'returned' WHERE id = ?2 AND ended_at IS NULL",
        params![now, id],
    )?;
    if n == 0 {
        return Err(unknown_checkout(id));
    }
    Ok(())
}

impl Allocator {
    /// Check out one license of session key `key` for one connection of `application`,
    /// with a lease of `lease_secs` (default [`DEFAULT_LEASE_SECS`], at most
    /// [`MAX_LEASE_SECS`]). Refused: a key that is not a session key (rule, exit 22), one the
    /// file does not grant (unknown, exit 3 from `licadmin`, 404 from the server), none free
    /// (exit 21).
    pub fn checkout(
        &self,
        key: &str,
        application: Option<&str>,
        lease_secs: Option<u32>,
    ) -> Result<Checkout> {
        let lease = check_checkout(key, application, lease_secs)?;
        self.tx(|c, now| self.checkout_in(c, now, key, application, lease))
    }

    /// [`Allocator::checkout`] inside a write transaction the caller opened, its input
    /// checked by [`check_checkout`].
    pub(crate) fn checkout_in(
        &self,
        c: &dyn Tx,
        now: i64,
        key: &str,
        application: Option<&str>,
        lease: u32,
    ) -> Result<Checkout> {
        {
            let l = self.license_in(c)?;
            if !l.licenses().iter().any(|k| k.name == key) {
                return Err(AllocError::Unknown {
                    what: Entity::LicenseKey,
                    name: key.into(),
                });
            }
            let Some(kind) = session_kind(key) else {
                return Err(AllocError::Rule {
                    rule: RuleKind::Holder,
                    holder: "checkout".into(),
                    key: key.into(),
                    detail: format!(
                        "{key} is not a session license (a session key's name ends in {SESSION_KEY_SUFFIX}); allocate it to a user or a station"
                    ),
                });
            };
            let licensed = l.assigned(key).saturating_add(l.pooled(key));
            let used = in_use(c, key, kind, now)?;
            if used >= licensed {
                return Err(AllocError::NoLicenseAvailable {
                    key: key.into(),
                    pool: Pool::Session,
                    licensed,
                    in_use: used,
                    out_of_compliance: used > licensed,
                });
            }
            let id = random_id();
            c.execute(
                "INSERT INTO checkouts (id, key, application, lease, started_at, expires_at, ended_at, end_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL)",
                params![id, key, application, lease, now, now + i64::from(lease)],
            )?;
            checkout_of(c, &id)
        }
    }

    /// Renew an open checkout's lease for another lease period. An ended one is unknown;
    /// [`Allocator::checkout_end`] says why it ended.
    pub fn renew_checkout(&self, id: &str) -> Result<Checkout> {
        validate_id(id)?;
        self.tx(|c, now| self.renew_checkout_in(c, now, id))
    }

    /// [`Allocator::renew_checkout`] inside a write transaction the caller opened.
    pub(crate) fn renew_checkout_in(&self, c: &dyn Tx, now: i64, id: &str) -> Result<Checkout> {
        // Renewing uses the license: not with an expired file or a clock set back.
        self.license_in(c)?;
        let n = c.execute(
            "UPDATE checkouts SET expires_at = ?1 + lease WHERE id = ?2 AND ended_at IS NULL",
            params![now, id],
        )?;
        if n == 0 {
            return Err(unknown_checkout(id));
        }
        checkout_of(c, id)
    }

    /// Return an open checkout: a concurrent key's license is free at once, a time-based
    /// key's when the return leaves the window. An ended one is unknown.
    pub fn return_checkout(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        self.tx(|c, now| return_checkout_in(c, now, id))
    }

    /// The open checkouts whose lease has not lapsed, by key, then start.
    pub fn checkouts(&self) -> Result<Vec<Checkout>> {
        self.read(|c, now| {
            let ids: Vec<String> = c.query_map(
                "SELECT id FROM checkouts WHERE ended_at IS NULL AND expires_at > ?1 ORDER BY key, started_at, id",
                [now],
                |r| r.get(0),
            )?;
            ids.iter().map(|id| checkout_of(c, id)).collect()
        })
    }

    /// Why checkout `id` ended (`returned`, `lease-lapsed`), if it ended within the last day.
    pub fn checkout_end(&self, id: &str) -> Result<Option<SessionEnd>> {
        self.read(|c, now| {
            Ok(c.query_row(
                "SELECT end_reason, ended_at, expires_at FROM checkouts WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<Option<String>>(0)?,
                        r.get::<Option<i64>>(1)?,
                        r.get::<i64>(2)?,
                    ))
                },
            )
            .optional()?
            .and_then(|(reason, ended_at, expires_at)| match (reason, ended_at) {
                (Some(reason), Some(ended_at)) => Some(SessionEnd { reason, ended_at }),
                // Lapsed, not yet purged.
                _ if expires_at <= now => Some(SessionEnd {
                    reason: "lease-lapsed".into(),
                    ended_at: expires_at,
                }),
                _ => None,
            }))
        })
    }

    /// Whether any checkout's lease has lapsed and is not yet ended (the reaper then writes).
    pub(crate) fn checkouts_lapsed(&self) -> Result<bool> {
        self.read(|c, now| {
            Ok(c.query_row(
                "SELECT 1 FROM checkouts WHERE ended_at IS NULL AND expires_at <= ?1",
                [now],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_keys_are_known_by_name() {
        assert_eq!(
            session_kind("I3_LICENSE_BASIC_SESSION_ADDON"),
            Some(SessionKind::Concurrent)
        );
        assert_eq!(
            session_kind("I3_LICENSE_MOBILIZER_SESSION_ADDON"),
            Some(SessionKind::TimeBased)
        );
        assert_eq!(session_kind("I3_ACCESS_CLIENT"), None);
        assert_eq!(session_kind("_SESSION_ADDON"), None);
    }
}
