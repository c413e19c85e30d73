//! The portal's browser sessions, kept in the ledger (table `portal_sessions`) so that every
//! portal process on one ledger knows every session, and a restart keeps them.
//!
//! A session is found by the SHA-256 digest of its cookie's random bytes: the cookie itself
//! is never kept, so the ledger (a copy, a backup) gives no usable cookie. Times are Unix
//! milliseconds, given by the caller (so a test can say what time it is).
//!
//! These are session bookkeeping, not changes to the business record: creating, touching
//! and ending a session add no audit row (the audit log says who changed accounts, orders,
//! files and users; a row per login and per minute of use would bury that, and a session
//! holds nothing to account for). Each write is still one write transaction, serialised with
//! every other writer. A write that would change nothing is rolled back instead of
//! committed, so it does not change the ledger's change counter (which drops what the
//! portal's readers keep).

use std::time::Duration;

use store::{params, OptionalExt, Tx, TxExt};

use super::Ledger;
use crate::error::IssuerError;

/// A session's `last_seen` is written again only once it is this old (a busy user does not
/// make a write per request); a session's idle timeout is therefore this much less exact.
pub const TOUCH_INTERVAL_MS: i64 = 60_000;

/// The most expired sessions one [`Ledger::create_portal_session`] removes while the ledger
/// is under its cap (so a login never waits for a long clean-up).
pub const PURGE_BATCH: i64 = 1_000;

/// How long sessions last and how many may exist, as the portal sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session ends after this long without being touched.
    pub idle: Duration,
    /// A session ends this long after it began, whatever happens.
    pub absolute: Duration,
    /// The most sessions kept at once (anonymous ones included).
    pub max: u64,
}

impl SessionLimits {
    /// The oldest `last_seen` and `created_at` a session live at `now` may have: it is
    /// live when both are later than these.
    fn cutoffs(&self, now: i64) -> (i64, i64) {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        (
            now.saturating_sub(ms(self.idle)),
            now.saturating_sub(ms(self.absolute)),
        )
    }
}

/// One session as the ledger keeps it (beside its digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSession {
    /// The portal user's id; `None` for an anonymous session (the login form).
    pub user_id: Option<i64>,
    /// The user's `sessions_epoch` at login (the session is over once the user's differs).
    pub epoch: i64,
    /// The anti-forgery token of the session's forms.
    pub csrf: String,
    /// When it began (Unix milliseconds).
    pub created_at: i64,
    /// When it was last touched (Unix milliseconds).
    pub last_seen: i64,
}

/// Remove up to `bound` sessions expired at `now` (all of them with `None`); how many.
fn purge(
    tx: &dyn Tx,
    now: i64,
    limits: &SessionLimits,
    bound: Option<i64>,
) -> Result<usize, IssuerError> {
    let (seen, created) = limits.cutoffs(now);
    Ok(tx.execute(
        "DELETE FROM portal_sessions WHERE digest IN (
             SELECT digest FROM portal_sessions WHERE last_seen <= ?1 OR created_at <= ?2
             ORDER BY last_seen LIMIT ?3)",
        params![seen, created, bound.unwrap_or(i64::MAX)],
    )?)
}

impl Ledger {
    /// Keep a new session under `digest` (the SHA-256 of its cookie's bytes), begun at
    /// `session.created_at`. Up to [`PURGE_BATCH`] expired sessions go first; when
    /// `limits.max` sessions exist even so, every expired one goes, then the least recently
    /// used until there is room. A digest already kept is an error (it cannot happen by
    /// chance: the bytes are random).
    pub fn create_portal_session(
        &mut self,
        digest: &[u8; 32],
        session: &PortalSession,
        limits: &SessionLimits,
    ) -> Result<(), IssuerError> {
        let now = session.created_at;
        let tx = self.db.begin_write()?;
        purge(&*tx, now, limits, Some(PURGE_BATCH))?;
        let count = |tx: &dyn Tx| -> Result<u64, IssuerError> {
            let n: i64 = tx.query_row("SELECT count(*) FROM portal_sessions", [], |r| r.get(0))?;
            Ok(super::to_u64(n))
        };
        let mut n = count(&*tx)?;
        if n >= limits.max {
            purge(&*tx, now, limits, None)?;
            n = count(&*tx)?;
        }
        if n >= limits.max {
            let over = i64::try_from(n - limits.max + 1).unwrap_or(i64::MAX);
            tx.execute(
                "DELETE FROM portal_sessions WHERE digest IN (
                     SELECT digest FROM portal_sessions ORDER BY last_seen, created_at LIMIT ?1)",
                [over],
            )?;
        }
        tx.execute(
            "INSERT INTO portal_sessions (digest, user_id, epoch, csrf, created_at, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                digest.as_slice(),
                session.user_id,
                session.epoch,
                session.csrf.as_str(),
                session.created_at,
                session.last_seen
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session kept under `digest`, if it is live at `now` (touched within
    /// `limits.idle`, begun within `limits.absolute`). Only reads: an expired session is
    /// removed by a later [`Ledger::create_portal_session`] or
    /// [`Ledger::purge_portal_sessions`].
    pub fn portal_session(
        &self,
        digest: &[u8; 32],
        now: i64,
        limits: &SessionLimits,
    ) -> Result<Option<PortalSession>, IssuerError> {
        let (seen, created) = limits.cutoffs(now);
        Ok(self
            .tx()
            .query_row(
                "SELECT user_id, epoch, csrf, created_at, last_seen FROM portal_sessions
                 WHERE digest = ?1 AND last_seen > ?2 AND created_at > ?3",
                params![digest.as_slice(), seen, created],
                |r| {
                    Ok(PortalSession {
                        user_id: r.get(0)?,
                        epoch: r.get(1)?,
                        csrf: r.get(2)?,
                        created_at: r.get(3)?,
                        last_seen: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Mark the live session under `digest` as used at `now`, when its `last_seen` is at
    /// least [`TOUCH_INTERVAL_MS`] older (else nothing is written). Whether it was written.
    pub fn touch_portal_session(
        &mut self,
        digest: &[u8; 32],
        now: i64,
        limits: &SessionLimits,
    ) -> Result<bool, IssuerError> {
        let (seen, created) = limits.cutoffs(now);
        let tx = self.db.begin_write()?;
        let n = tx.execute(
            "UPDATE portal_sessions SET last_seen = ?2
             WHERE digest = ?1 AND last_seen <= ?3 AND last_seen > ?4 AND created_at > ?5",
            params![
                digest.as_slice(),
                now,
                now.saturating_sub(TOUCH_INTERVAL_MS),
                seen,
                created
            ],
        )?;
        if n == 0 {
            tx.rollback();
            return Ok(false);
        }
        tx.commit()?;
        Ok(true)
    }

    /// End the session under `digest`; whether there was one.
    pub fn end_portal_session(&mut self, digest: &[u8; 32]) -> Result<bool, IssuerError> {
        self.delete_sessions(
            "DELETE FROM portal_sessions WHERE digest = ?1",
            params![digest.as_slice()],
        )
        .map(|n| n > 0)
    }

    /// End every session of the portal user `user_id` (after they are disabled or given a
    /// new password); how many there were.
    pub fn end_portal_user_sessions(&mut self, user_id: i64) -> Result<usize, IssuerError> {
        self.delete_sessions(
            "DELETE FROM portal_sessions WHERE user_id = ?1",
            params![user_id],
        )
    }

    /// Remove up to `bound` sessions expired at `now`; how many.
    pub fn purge_portal_sessions(
        &mut self,
        now: i64,
        limits: &SessionLimits,
        bound: u64,
    ) -> Result<usize, IssuerError> {
        let tx = self.db.begin_write()?;
        let n = purge(
            &*tx,
            now,
            limits,
            Some(i64::try_from(bound).unwrap_or(i64::MAX)),
        )?;
        if n == 0 {
            tx.rollback();
        } else {
            tx.commit()?;
        }
        Ok(n)
    }

    /// How many sessions the ledger keeps, live or not.
    pub fn portal_session_count(&self) -> Result<u64, IssuerError> {
        let n: i64 = self
            .tx()
            .query_row("SELECT count(*) FROM portal_sessions", [], |r| r.get(0))?;
        Ok(super::to_u64(n))
    }

    /// Run one `DELETE` of sessions in a write transaction, committed only when it removed
    /// something; how many rows it removed.
    fn delete_sessions(
        &mut self,
        sql: &str,
        p: &[&dyn store::ToValue],
    ) -> Result<usize, IssuerError> {
        let tx = self.db.begin_write()?;
        let n = tx.execute(sql, p)?;
        if n == 0 {
            tx.rollback();
        } else {
            tx.commit()?;
        }
        Ok(n)
    }
}
