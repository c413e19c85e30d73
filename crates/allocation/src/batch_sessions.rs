//! Runs of consecutive heartbeats, and of consecutive logoffs, of a batch
//! ([`crate::Allocator::batch`]) done with a few statements for the whole run rather than
//! a few for each: one `UPDATE` (or `DELETE`) and the reads that answer them.
//!
//! Within such a run the operations commute: a heartbeat changes only its own session's
//! expiry, which no other heartbeat reads; logoffs of distinct sessions touch distinct
//! rows. So each answer is what the operation run alone at its place would have given.
//! A run of logoffs naming one session twice is left to the savepoint path (the second
//! must find the session ended).

use std::collections::{BTreeMap, HashSet};

use store::{Tx, Value};

use crate::allocator::{u32_of, unknown};
use crate::batch::BatchDone;
use crate::error::{AllocError, Entity};
use crate::history::{self, Event, EventKind};
use crate::model::Session;
use crate::Allocator;

type Result<T> = std::result::Result<T, AllocError>;

/// How many sessions one statement names at most.
const CHUNK: usize = 256;

/// `IN (?{first}, ...)`: `n` marks (a power of two: the statements stay few and cached)
/// and the ids padded with the first.
fn in_list(ids: &[&str], first: usize) -> (String, Vec<Value>) {
    let n = ids.len().max(1).next_power_of_two();
    let marks: Vec<String> = (first..first + n).map(|i| format!("?{i}")).collect();
    let pad = ids.first().copied().unwrap_or("");
    let params = (0..n)
        .map(|i| Value::Text(ids.get(i).copied().unwrap_or(pad).to_string()))
        .collect();
    (format!("IN ({})", marks.join(", ")), params)
}

/// The sessions `ids` as they are stored (as `session_of` reads each), those found.
fn sessions_of(c: &dyn Tx, ids: &[&str]) -> Result<BTreeMap<String, Session>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        let (list, params) = in_list(chunk, 1);
        c.each(
            &format!("SELECT s.id, u.name, st.name, s.remote_number, s.lease, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN stations st ON st.id = s.station_id WHERE s.id {list}"),
            &params,
            &mut |r| {
                let id: String = r.get(0)?;
                out.insert(
                    id.clone(),
                    Session {
                        id,
                        user: r.get(1)?,
                        station: r.get(2)?,
                        remote_number: r.get(3)?,
                        lease_secs: u32_of(r.get(4)?),
                        expires_at: r.get(5)?,
                        acquired: Vec::new(),
                        reused: true,
                        replaced: None,
                        warnings: Vec::new(),
                    },
                );
                Ok(())
            },
        )?;
        c.each(
            &format!("SELECT session_id, key FROM session_licenses WHERE session_id {list} ORDER BY session_id, key"),
            &params,
            &mut |r| {
                if let Some(s) = out.get_mut(&r.get::<String>(0)?) {
                    s.acquired.push(r.get(1)?);
                }
                Ok(())
            },
        )?;
    }
    Ok(out)
}

/// Heartbeats of the sessions `ids`, each answered as [`Allocator::heartbeat`] would:
/// `None` when the license does not serve (each then runs on its own and is told why).
pub(crate) fn heartbeats(
    alloc: &Allocator,
    c: &dyn Tx,
    now: i64,
    ids: &[&str],
) -> Result<Option<Vec<Result<BatchDone>>>> {
    if alloc.license_in(c).is_err() {
        return Ok(None);
    }
    for chunk in ids.chunks(CHUNK) {
        let (list, mut params) = in_list(chunk, 2);
        params.insert(0, Value::Integer(now));
        c.run(
            &format!("UPDATE sessions SET expires_at = ?1 + lease WHERE id {list}"),
            &params,
        )?;
    }
    let found = sessions_of(c, ids)?;
    Ok(Some(
        ids.iter()
            .map(|id| match found.get(*id) {
                Some(s) => Ok(BatchDone::Session(Box::new(s.clone()))),
                None => Err(unknown(Entity::Session, id)),
            })
            .collect(),
    ))
}

/// Logoffs of the sessions `ids`, each answered as [`Allocator::logout`] would, their
/// events recorded in the order of `ids`: `None` when an id comes twice.
pub(crate) fn logoffs(
    c: &dyn Tx,
    now: i64,
    ids: &[&str],
) -> Result<Option<Vec<Result<BatchDone>>>> {
    let distinct: HashSet<&str> = ids.iter().copied().collect();
    if distinct.len() != ids.len() {
        return Ok(None);
    }
    let found = sessions_of(c, ids)?;
    // What `record_end` records of each, in the order of the logoffs.
    let events: Vec<Event> = ids
        .iter()
        .filter_map(|id| found.get(*id))
        .map(|s| {
            Event::new(
                EventKind::Release,
                format!("user '{}'", s.user),
                s.acquired.clone(),
                format!("session {} ended: logged-off", s.id),
            )
        })
        .collect();
    history::record_many(c, now, &events)?;
    let ended: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| found.contains_key(*id))
        .collect();
    for chunk in ended.chunks(CHUNK) {
        let (list, mut params) = in_list(chunk, 2);
        params.insert(0, Value::Integer(now));
        c.run(
            &format!("INSERT INTO ended_sessions (id, reason, ended_at) SELECT id, 'logged-off', ?1 FROM sessions WHERE id {list} ON CONFLICT (id) DO NOTHING"),
            &params,
        )?;
        let (list, params) = in_list(chunk, 1);
        c.run(&format!("DELETE FROM sessions WHERE id {list}"), &params)?;
    }
    Ok(Some(
        ids.iter()
            .map(|id| {
                if found.contains_key(*id) {
                    Ok(BatchDone::Ended)
                } else {
                    Err(unknown(Entity::Session, id))
                }
            })
            .collect(),
    ))
}
