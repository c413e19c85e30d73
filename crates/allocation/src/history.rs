//! Usage history (DESIGN.md "Usage history"): every acquisition, release, denial, load and
//! administrator change, with its time, kept in the allocation store for
//! [`RETENTION_DAYS`].
//!
//! # What is kept, and why so
//!
//! - **Events** (`usage_events`, for `licadmin log`): one row per key an operation concerns
//!   (one without a key when it concerns none), written by [`record`] inside the write
//!   transaction of the change itself: a change rolled back takes its events with it, and
//!   no committed change lacks them. A refused allocation or logon changes nothing, so its
//!   denial is written after the refusal in a small write transaction of its own
//!   ([`Allocator::record_denial`]).
//! - **Peaks** (`usage_peaks`): per-period counters, kept as changes happen, rather than an
//!   in-use figure stored with each event to take a MAX of later. Triggers on
//!   `usage_counts` (the counters every grant and session license already keeps exact)
//!   raise the peak of the change's hour and day and note the level it leaves; the time is
//!   the write transaction's, which [`begin`] sets first in every write transaction (one
//!   UPDATE). So every path that changes what is in use counts, also those without an event
//!   call of their own (a cascade of a removed user or station, a station disabled), and a
//!   report reads at most one row per key, count and hour (or day) of its range: 400 days of
//!   a 500-agent site by day is at most 400 × keys × 2 rows, however many events there were.
//!   A month is folded from its days. A bucket's peak includes the level the period started
//!   with, and a period without a bucket has the level the last one before it left.
//! - **Denials** (`usage_denials`): counted per hour and day, key and reason (the refusal's
//!   [`AllocError::kind`]) by [`record`].
//! - **Licensed counts** (`usage_licensed`): every key of each loaded file, one snapshot per
//!   load.
//!
//! A lapsed lease counts as in use until a write transaction purges it (the license server's
//! reaper does within seconds; otherwise the next change).
//!
//! # Retention
//!
//! [`begin`] purges what is older than [`RETENTION_DAYS`] at most once per
//! [`PURGE_EVERY_SECS`], so an ordinary write pays one UPDATE for it. The newest peak row of
//! each key and count and the newest load's counts stay whatever their age: they give the
//! level and the licensed count of the periods after them.

use std::collections::BTreeSet;

use store::{params, Tx, TxExt, Value};

use crate::allocator::Allocator;
use crate::error::AllocError;
use crate::model::{Method, Session, BASIC_STATION};

type Result<T> = std::result::Result<T, AllocError>;

/// How long history is kept, in days (a year and a renewal's notice).
pub const RETENTION_DAYS: i64 = 400;
/// How often, at most, an ordinary write purges history older than [`RETENTION_DAYS`].
pub const PURGE_EVERY_SECS: i64 = 3600;
/// The periods counters are kept for: an hour and a day.
pub(crate) const SPANS: [i64; 2] = [3600, 86_400];

/// What an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// A license taken: an assignable allocation, a logon's licenses.
    Acquire,
    /// A license given back: a deallocation, a logoff, a lapsed lease, a session ended.
    Release,
    /// An allocation or a logon refused (the key and the reason).
    Deny,
    /// An activation file loaded.
    Load,
    /// Any other administrator change (users, stations, organizations, tokens, the store).
    Change,
}

impl EventKind {
    /// `acquire`, `release`, `deny`, `load`, `change`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Acquire => "acquire",
            EventKind::Release => "release",
            EventKind::Deny => "deny",
            EventKind::Load => "load",
            EventKind::Change => "change",
        }
    }

    fn parse(s: &str) -> EventKind {
        match s {
            "acquire" => EventKind::Acquire,
            "release" => EventKind::Release,
            "deny" => EventKind::Deny,
            "load" => EventKind::Load,
            _ => EventKind::Change,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded event, as `licadmin log` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UsageEvent {
    /// Its place in the order of events.
    pub id: i64,
    /// When (Unix seconds, the allocator's clock).
    pub at: i64,
    /// What happened.
    pub kind: EventKind,
    /// Who or what it concerns: `user 'alice'`, `station 'desk-1'`, `organization 'o'`,
    /// `token 'softphones'`, `store`, or the file id of a load.
    pub who: String,
    /// The license key, when it concerns one.
    pub key: Option<String>,
    /// What, in words (a denial: its reason and message).
    pub detail: String,
}

/// An event about to be recorded: one row per key (one without a key when `keys` is empty).
#[derive(Debug, Clone)]
pub(crate) struct Event {
    kind: EventKind,
    who: String,
    keys: Vec<String>,
    detail: String,
    /// A denial's reason (the refusal's kind), counted per key.
    reason: Option<&'static str>,
    /// Whether it is recorded when it concerns no key (an allocation of nothing new is not).
    keyless: bool,
}

impl Event {
    /// Keys allocated to `holder`: acquired when they consume (an assignable user, a station
    /// with licensing on), else only configured.
    pub(crate) fn allocated<'a>(
        holder: &str,
        keys: impl IntoIterator<Item = &'a String>,
        consumes: bool,
    ) -> Event {
        let (kind, detail) = if consumes {
            (EventKind::Acquire, "allocated")
        } else {
            (EventKind::Change, "configured (not consumed)")
        };
        Event {
            keyless: false,
            ..Event::new(kind, holder, keys.into_iter().cloned().collect(), detail)
        }
    }

    /// Keys removed from `holder`: released when they were consumed, else unconfigured.
    pub(crate) fn deallocated<'a>(
        holder: &str,
        keys: impl IntoIterator<Item = &'a String>,
        consumed: bool,
    ) -> Event {
        let (kind, detail) = if consumed {
            (EventKind::Release, "deallocated")
        } else {
            (EventKind::Change, "unconfigured")
        };
        Event {
            keyless: false,
            ..Event::new(kind, holder, keys.into_iter().cloned().collect(), detail)
        }
    }

    /// An administrator change of `who`, without a key.
    pub(crate) fn change(who: impl Into<String>, detail: impl Into<String>) -> Event {
        Event::new(EventKind::Change, who, Vec::new(), detail)
    }

    /// A change of the user `name`.
    pub(crate) fn user(name: &str, detail: impl Into<String>) -> Event {
        Event::change(format!("user '{name}'"), detail)
    }

    /// A user added.
    pub(crate) fn user_added(name: &str, method: Method, org: Option<&str>) -> Event {
        let org = org.map(|o| format!(", organization '{o}'"));
        Event::user(name, format!("added ({method}{})", org.unwrap_or_default()))
    }

    /// A change of the station `name`.
    pub(crate) fn station(name: &str, detail: impl Into<String>) -> Event {
        Event::change(format!("station '{name}'"), detail)
    }

    /// A change of the organization `name`.
    pub(crate) fn org(name: &str, detail: impl Into<String>) -> Event {
        Event::change(format!("organization '{name}'"), detail)
    }

    /// An organization's limit of a key set.
    pub(crate) fn org_limit(name: &str, key: &str, min: u32, max: Option<u32>) -> Event {
        let max = max.map_or("none".to_string(), |m| m.to_string());
        Event::org(
            name,
            format!("limit of {key}: minimum {min}, maximum {max}"),
        )
    }

    pub(crate) fn new(
        kind: EventKind,
        who: impl Into<String>,
        keys: Vec<String>,
        detail: impl Into<String>,
    ) -> Event {
        Event {
            kind,
            who: who.into(),
            keys,
            detail: detail.into(),
            reason: None,
            keyless: true,
        }
    }
}

/// Record `e` at `now` in the write transaction `c` (the one making the change).
pub(crate) fn record(c: &dyn Tx, now: i64, e: &Event) -> Result<()> {
    let mut insert = c.prepare_cached(
        "INSERT INTO usage_events (id, at, kind, who, key, detail) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM usage_events), ?1, ?2, ?3, ?4, ?5)",
    )?;
    if e.keys.is_empty() && !e.keyless {
        return Ok(());
    }
    let keys: Vec<Option<&str>> = if e.keys.is_empty() {
        vec![None]
    } else {
        e.keys.iter().map(|k| Some(k.as_str())).collect()
    };
    for key in keys {
        insert.execute(params![now, e.kind.as_str(), e.who, key, e.detail])?;
    }
    count_denials(c, now, e)
}

/// A denial's counts per hour and day, key and reason.
fn count_denials(c: &dyn Tx, now: i64, e: &Event) -> Result<()> {
    if let Some(reason) = e.reason {
        for key in &e.keys {
            for span in SPANS {
                c.prepare_cached(
                    "INSERT INTO usage_denials (span, at, key, reason, n) VALUES (?1, ?2, ?3, ?4, 1)
                     ON CONFLICT (span, key, reason, at) DO UPDATE SET n = usage_denials.n + 1",
                )?
                .execute(params![span, now - now.rem_euclid(span), key, reason])?;
            }
        }
    }
    Ok(())
}

/// [`record`] of many events at `now` with multi-row inserts (a bulk import's): their rows
/// in order, ids following the last. A denial among them is counted as [`record`] does.
pub(crate) fn record_many(c: &dyn Tx, now: i64, events: &[Event]) -> Result<()> {
    let mut id: i64 = c.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM usage_events",
        params![],
        |r| r.get(0),
    )?;
    let mut rows = Vec::new();
    for e in events {
        if e.keys.is_empty() && !e.keyless {
            continue;
        }
        let keys: Vec<Value> = if e.keys.is_empty() {
            vec![Value::Null]
        } else {
            e.keys.iter().map(|k| Value::Text(k.clone())).collect()
        };
        for key in keys {
            rows.extend([
                Value::Integer(id),
                Value::Integer(now),
                Value::Text(e.kind.as_str().to_string()),
                Value::Text(e.who.clone()),
                key,
                Value::Text(e.detail.clone()),
            ]);
            id += 1;
        }
    }
    crate::import_users::insert_rows(c, "usage_events (id, at, kind, who, key, detail)", 6, &rows)?;
    for e in events {
        count_denials(c, now, e)?;
    }
    Ok(())
}

/// The first statement of every write transaction: its time, for the peak triggers; and,
/// at most once per [`PURGE_EVERY_SECS`], the purge of history past [`RETENTION_DAYS`].
pub(crate) fn begin(c: &dyn Tx, now: i64) -> Result<()> {
    let purged_at: i64 = c
        .prepare_cached("UPDATE history_state SET tx_time = ?1 WHERE id = 1 RETURNING purged_at")?
        .query_row([now], |r| r.get(0))?;
    if now.saturating_sub(purged_at) >= PURGE_EVERY_SECS || purged_at > now {
        purge(c, now)?;
    }
    Ok(())
}

fn purge(c: &dyn Tx, now: i64) -> Result<()> {
    let cutoff = now.saturating_sub(RETENTION_DAYS * 86_400);
    c.prepare_cached("DELETE FROM usage_events WHERE at < ?1")?
        .execute([cutoff])?;
    c.prepare_cached("DELETE FROM usage_denials WHERE span IN (3600, 86400) AND at < ?1")?
        .execute([cutoff])?;
    // The newest row of each key and count stays: the level of the periods after it.
    c.prepare_cached(
        "DELETE FROM usage_peaks WHERE span IN (3600, 86400) AND at < ?1
           AND at < (SELECT MAX(p.at) FROM usage_peaks p WHERE p.span = usage_peaks.span AND p.key = usage_peaks.key AND p.pool = usage_peaks.pool)",
    )?
    .execute([cutoff])?;
    // So does the newest load's snapshot: the counts licensed since.
    c.prepare_cached(
        "DELETE FROM usage_licensed WHERE at < ?1 AND load_id < (SELECT MAX(load_id) FROM usage_licensed)",
    )?
    .execute([cutoff])?;
    c.prepare_cached("UPDATE history_state SET purged_at = ?1 WHERE id = 1")?
        .execute([now])?;
    Ok(())
}

/// The sessions `filter` selects (a `WHERE` clause on `sessions` with `?1`) end for
/// `reason`: one release per license each held (one without a key when it held none).
pub(crate) fn sessions_end(
    c: &dyn Tx,
    filter: &str,
    arg: &Value,
    reason: &str,
    now: i64,
) -> Result<()> {
    let rows = c.query_map(
        &format!(
            "SELECT s.id, u.name, l.key FROM (SELECT id, user_id FROM sessions WHERE {filter}) s
             JOIN users u ON u.id = s.user_id LEFT JOIN session_licenses l ON l.session_id = s.id
             ORDER BY s.id, l.key"
        ),
        std::slice::from_ref(arg),
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<Option<String>>(2)?,
            ))
        },
    )?;
    let mut sessions: Vec<(String, String, Vec<String>)> = Vec::new();
    for (id, user, key) in rows {
        match sessions.last_mut() {
            Some((last, _, keys)) if *last == id => keys.extend(key),
            _ => sessions.push((id, user, key.into_iter().collect())),
        }
    }
    for (id, user, keys) in sessions {
        record(
            c,
            now,
            &Event::new(
                EventKind::Release,
                format!("user '{user}'"),
                keys,
                format!("session {id} ended: {reason}"),
            ),
        )?;
    }
    Ok(())
}

/// A logon made `s`: one acquisition per license it took from the pools (one without a
/// key when it took none). Returns `s`.
pub(crate) fn logged_on(c: &dyn Tx, now: i64, s: Session) -> Result<Session> {
    record(c, now, &logged_on_event(&s))?;
    Ok(s)
}

/// The event of the logon of `s` (as [`logged_on`] records it).
pub(crate) fn logged_on_event(s: &Session) -> Event {
    let place = match (&s.station, &s.remote_number) {
        (Some(st), _) => format!("at station '{st}'"),
        (None, Some(n)) => format!("as remote number {n}"),
        (None, None) => "without a station".into(),
    };
    Event::new(
        EventKind::Acquire,
        format!("user '{}'", s.user),
        s.acquired.clone(),
        format!("session {} logged on {place}", s.id),
    )
}

/// A file loaded: the event, and the counts of every key it grants (keys of the previous
/// file that it lacks at zero).
pub(crate) fn loaded(
    c: &dyn Tx,
    now: i64,
    l: &verify::License,
    replaced: Option<&str>,
) -> Result<()> {
    let id = l.file_id().to_string();
    let detail = match replaced {
        Some(old) if *old != id => format!("loaded, replacing {old}"),
        Some(_) => "loaded again".to_string(),
        None => "loaded".to_string(),
    };
    record(c, now, &Event::new(EventKind::Load, id, Vec::new(), detail))?;
    let load_id: i64 = c.query_row(
        "SELECT COALESCE(MAX(load_id), 0) + 1 FROM usage_licensed",
        [],
        |r| r.get(0),
    )?;
    let mut keys: BTreeSet<String> = l.licenses().iter().map(|k| k.name.clone()).collect();
    keys.extend(c.query_map(
        "SELECT key FROM usage_licensed WHERE load_id = ?1",
        &[Value::Integer(load_id - 1)],
        |r| r.get::<String>(0),
    )?);
    let mut insert = c.prepare_cached(
        "INSERT INTO usage_licensed (load_id, at, key, assigned, pooled) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for k in &keys {
        insert.execute(params![load_id, now, k, l.assigned(k), l.pooled(k)])?;
    }
    Ok(())
}

/// The key and reason of a refusal that is a denial (no license left, an organization's
/// cap or reserve, a license rule, a station in use); `None` for any other error.
pub(crate) fn denial(e: &AllocError) -> Option<(Option<&str>, &'static str)> {
    use AllocError as A;
    let key = match e {
        A::Implied { source, .. } => return denial(source),
        A::NoLicenseAvailable { key, .. }
        | A::NotLicensed { key }
        | A::OrganizationCap { key, .. }
        | A::Reserved { key, .. }
        | A::Rule { key, .. } => Some(key.as_str()),
        A::OrganizationsExhausted { key, .. } => Some(*key),
        A::StationInUse { .. } => Some(BASIC_STATION),
        _ => return None,
    };
    Some((key, e.kind()))
}

/// Record a refused allocation or logon of `who` (a denial, [`denial`]) in the caller's
/// write transaction; nothing for an error that is not a denial.
pub(crate) fn record_denial_in(c: &dyn Tx, now: i64, who: &str, e: &AllocError) -> Result<()> {
    let Some((key, reason)) = denial(e) else {
        return Ok(());
    };
    let event = Event {
        reason: Some(reason),
        ..Event::new(
            EventKind::Deny,
            who,
            key.map(str::to_string).into_iter().collect(),
            format!("{reason}: {e}"),
        )
    };
    record(c, now, &event)
}

impl Allocator {
    /// Record a refused allocation or logon of `who` (a denial, [`denial`]) in a write
    /// transaction of its own, after the refusal. Best effort: the refusal is what the
    /// caller is told, whether or not its record could be written.
    pub(crate) fn record_denial(&self, who: &str, e: &AllocError) {
        if denial(e).is_some() {
            let _ = self.tx(|c, now| record_denial_in(c, now, who, e));
        }
    }

    /// The last `last` recorded events, oldest first (newest last).
    pub fn events(&self, last: u32) -> Result<Vec<UsageEvent>> {
        self.read(|c, _| {
            let mut rows = c.query_map(
                "SELECT id, at, kind, who, key, detail FROM usage_events ORDER BY id DESC LIMIT ?1",
                &[Value::Integer(i64::from(last))],
                |r| {
                    Ok(UsageEvent {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        kind: EventKind::parse(&r.get::<String>(2)?),
                        who: r.get(3)?,
                        key: r.get(4)?,
                        detail: r.get(5)?,
                    })
                },
            )?;
            rows.reverse();
            Ok(rows)
        })
    }
}
