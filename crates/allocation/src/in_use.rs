//! Licenses in use by live sessions. While a user is logged on, the licenses of the user
//! (assignable) and of the station are in use by the session: taking one away would let it
//! be allocated again while the session goes on with it (two stations, or two clients, on
//! one license). A deallocation is refused then, or ends the session first when asked to
//! ([`InUse`]). Should a session ever run on licenses no longer allocated (a store changed
//! behind the allocator's back), [`unheld`] finds it for the consistency and compliance
//! checks.

use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};

use crate::error::AllocError;
use crate::model::{Method, Session, BASIC_STATION, CLIENT_KEYS};

/// What a change does when it would take a license from a live session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InUse {
    /// Refuse the change (exit 21, kind `in-use`), naming the session.
    #[default]
    Refuse,
    /// End the session first (its licenses come back, as at a logoff), in the same
    /// transaction as the change: when the change is refused, the session goes on.
    EndSession,
}

/// What [`crate::Allocator::deallocate_with`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deallocation {
    /// Every key removed, sorted (those that came only by implication included).
    pub removed: Vec<String>,
    /// The sessions ended first (with [`InUse::EndSession`]), as they were.
    pub ended: Vec<Session>,
}

/// The live session that uses a holder's licenses, if any (id, user): for a station, the
/// session at it; for an assignable user, the user's session. A concurrent user's keys are
/// only configured: the session keeps what it acquired until it ends.
pub(crate) fn session_using(
    c: &dyn Tx,
    station: Option<i64>,
    user: Option<(i64, Method)>,
    now: i64,
) -> Result<Option<(String, String)>, AllocError> {
    let row = |sql: &str, id: i64| -> Result<Option<(String, String)>, AllocError> {
        Ok(c.prepare_cached(sql)?
            .query_row(params![id, now], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    };
    match (station, user) {
        (Some(id), _) => row(
            "SELECT s.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.station_id = ?1 AND s.expires_at > ?2",
            id,
        ),
        (None, Some((id, Method::Assignable))) => row(
            "SELECT s.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.user_id = ?1 AND s.expires_at > ?2",
            id,
        ),
        _ => Ok(None),
    }
}

/// A license a live session at a station runs on that nobody holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unheld {
    /// The session's id.
    pub session: String,
    /// Its user.
    pub user: String,
    /// Its station.
    pub station: String,
    /// The key: [`BASIC_STATION`], or the first of [`CLIENT_KEYS`] when neither the user
    /// nor the station holds any of them (nor the session acquired one).
    pub key: &'static str,
}

/// Every live session at a station whose Basic Station (the station's, licensing enabled)
/// or Client / ACD Access (the station's, the assignable user's, or acquired by the
/// session) is missing. A logon needs both and a change that would take one away refuses or
/// ends the session, so this is empty unless the store was changed by other means.
pub(crate) fn unheld(c: &dyn Tx, now: i64) -> Result<Vec<Unheld>, AllocError> {
    let mut st = c.prepare_cached(
        "SELECT s.id, u.name, st.name,
                st.enabled = 1 AND EXISTS (SELECT 1 FROM station_grants g WHERE g.station_id = st.id AND g.key = ?2),
                (st.enabled = 1 AND EXISTS (SELECT 1 FROM station_grants g WHERE g.station_id = st.id AND g.key IN (?3, ?4, ?5, ?6)))
                OR (u.method = 'assignable' AND EXISTS (SELECT 1 FROM user_grants g WHERE g.user_id = u.id AND g.key IN (?3, ?4, ?5, ?6)))
                OR EXISTS (SELECT 1 FROM session_licenses l WHERE l.session_id = s.id AND l.key IN (?3, ?4, ?5, ?6))
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN stations st ON st.id = s.station_id
         WHERE s.expires_at > ?1 ORDER BY s.id",
    )?;
    let rows = st.query_map(
        params![
            now,
            BASIC_STATION,
            CLIENT_KEYS[0],
            CLIENT_KEYS[1],
            CLIENT_KEYS[2],
            CLIENT_KEYS[3]
        ],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<bool>(3)?,
                r.get::<bool>(4)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (session, user, station, basic, client) = row?;
        for (held, key) in [(basic, BASIC_STATION), (client, CLIENT_KEYS[0])] {
            if !held {
                out.push(Unheld {
                    session: session.clone(),
                    user: user.clone(),
                    station: station.clone(),
                    key,
                });
            }
        }
    }
    Ok(out)
}
