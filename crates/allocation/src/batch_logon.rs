//! The logons of a batch ([`crate::Allocator::batch`]) decided from one read of the pool.
//!
//! On PostgreSQL each statement is a network round trip, and a logon run alone costs about
//! ten. Here the batch reads once, under the writer lock it already holds, what the rules
//! of its logons need: the users and their keys (one `IN (...)` query each), which of them
//! have a session, their workgroups, the usage counters and the organizations' limits and
//! usage. Each logon is then decided in memory by the same rule functions as
//! [`crate::allocator::check_take`], the state updated as it is decided (the next logon
//! sees its take), and the logons' rows are written together: one multi-row insert per
//! table.
//!
//! Only the plain case is decided here: a known user logging on without a station with no
//! session open. Anything else (a station, a remote number, a session to reuse or end, an
//! unknown user) and any logon the rules would refuse runs as before, under its own
//! savepoint, after what was decided here is written; the state is then read again. So a
//! refusal is answered and recorded exactly as before and touches nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use store::{Tx, Value};
use verify::License;

use crate::allocator::{cap_rule, count_rule, random_id, reserve_rule, u32_of, UserRow};
use crate::batch::{BatchDone, Logon};
use crate::error::AllocError;
use crate::history::{self, Event};
use crate::model::{Method, Pool, Session};
use crate::Allocator;

type Result<T> = std::result::Result<T, AllocError>;

/// An organization's limits on one key.
#[derive(Debug, Clone, Copy, Default)]
struct Limit {
    min: Option<i64>,
    max: Option<i64>,
}

/// What the batch's logons need of the store, read once and kept up to date in memory.
#[derive(Default)]
pub(crate) struct PoolState {
    users: HashMap<String, UserRow>,
    /// Users with a session (stored, or logged on in this batch).
    with_session: HashSet<i64>,
    grants: HashMap<i64, BTreeMap<String, bool>>,
    groups: HashMap<i64, Vec<(String, String)>>,
    /// `usage_counts`: (key, pool) → consumed.
    used: HashMap<(String, Pool), u32>,
    /// (organization, key) → its limits.
    limits: BTreeMap<(i64, String), Limit>,
    /// (organization, key) → what its users use (only read when there are limits).
    org_used: HashMap<(i64, String), u32>,
    /// Decided and not yet written.
    sessions: Vec<Value>,
    licenses: Vec<Value>,
    events: Vec<Event>,
}

/// The batch's pool state: none until a logon needs it, dropped after anything else ran.
#[derive(Default)]
pub(crate) struct FastLogons {
    state: Option<PoolState>,
}

/// `IN (?1, ..., ?n)` with `n` a power of two (the statements stay few and cached), the
/// names padded with the first.
fn in_list(names: &[&str]) -> (String, Vec<Value>) {
    let n = names.len().max(1).next_power_of_two();
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    let first = names.first().copied().unwrap_or("");
    let params = (0..n)
        .map(|i| Value::Text(names.get(i).copied().unwrap_or(first).to_string()))
        .collect();
    (format!("IN ({})", marks.join(", ")), params)
}

fn pool_of(s: &str) -> Option<Pool> {
    match s {
        "assignable" => Some(Pool::Assignable),
        "concurrent" => Some(Pool::Concurrent),
        _ => None,
    }
}

impl PoolState {
    /// Read what the logons of `users` need.
    fn read(c: &dyn Tx, now: i64, users: &[&str]) -> Result<PoolState> {
        let mut st = PoolState::default();
        for chunk in users.chunks(256) {
            let (list, params) = in_list(chunk);
            c.each(
                &format!("SELECT u.id, u.name, u.method, u.org_id, o.name, (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id) FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.name {list}"),
                &params,
                &mut |r| {
                    let org_id: Option<i64> = r.get(3)?;
                    let org_name: Option<String> = r.get(4)?;
                    let row = UserRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        method: if r.get::<String>(2)? == "concurrent" {
                            Method::Concurrent
                        } else {
                            Method::Assignable
                        },
                        org: org_id.zip(org_name),
                    };
                    if r.get::<i64>(5)? > 0 {
                        st.with_session.insert(row.id);
                    }
                    st.users.insert(row.name.clone(), row);
                    Ok(())
                },
            )?;
            c.each(
                &format!("SELECT g.user_id, g.key, g.explicit FROM user_grants g JOIN users u ON u.id = g.user_id WHERE u.name {list}"),
                &params,
                &mut |r| {
                    st.grants
                        .entry(r.get(0)?)
                        .or_default()
                        .insert(r.get(1)?, r.get::<i64>(2)? != 0);
                    Ok(())
                },
            )?;
            c.each(
                &format!("SELECT m.user_id, w.name, w.media FROM workgroups w JOIN workgroup_members m ON m.workgroup_id = w.id JOIN users u ON u.id = m.user_id WHERE u.name {list} ORDER BY m.user_id, w.name"),
                &params,
                &mut |r| {
                    st.groups
                        .entry(r.get(0)?)
                        .or_default()
                        .push((r.get(1)?, r.get(2)?));
                    Ok(())
                },
            )?;
        }
        c.each("SELECT key, pool, n FROM usage_counts", &[], &mut |r| {
            if let Some(p) = pool_of(&r.get::<String>(1)?) {
                st.used.insert((r.get(0)?, p), u32_of(r.get(2)?));
            }
            Ok(())
        })?;
        c.each(
            "SELECT org_id, key, min, max FROM org_limits",
            &[],
            &mut |r| {
                st.limits.insert(
                    (r.get(0)?, r.get(1)?),
                    Limit {
                        min: r.get(2)?,
                        max: r.get(3)?,
                    },
                );
                Ok(())
            },
        )?;
        if !st.limits.is_empty() {
            // What `org_usage` counts, for every organization and key at once.
            let mut add = |r: &store::Row| -> store::Result<()> {
                *st.org_used.entry((r.get(0)?, r.get(1)?)).or_default() += u32_of(r.get(2)?);
                Ok(())
            };
            c.each(
                "SELECT u.org_id, g.key, COUNT(*) FROM user_grants g JOIN users u ON u.id = g.user_id WHERE u.org_id IS NOT NULL AND u.method = 'assignable' GROUP BY u.org_id, g.key",
                &[],
                &mut add,
            )?;
            c.each(
                "SELECT u.org_id, l.key, COUNT(*) FROM session_licenses l JOIN sessions s ON s.id = l.session_id JOIN users u ON u.id = s.user_id WHERE u.org_id IS NOT NULL AND s.expires_at > ?1 GROUP BY u.org_id, l.key",
                &[Value::Integer(now)],
                &mut add,
            )?;
        }
        Ok(st)
    }

    fn used(&self, key: &str, pool: Pool) -> u32 {
        self.used
            .get(&(key.to_string(), pool))
            .copied()
            .unwrap_or(0)
    }

    fn org_used(&self, org: i64, key: &str) -> u32 {
        self.org_used
            .get(&(org, key.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// [`crate::allocator::check_take`] of one concurrent license of `key`, against the
    /// state in memory.
    fn check_take(&self, l: &License, key: &str, org: Option<&(i64, String)>) -> Result<()> {
        crate::granted::require_granted(l, key)?;
        let (a, p) = (
            self.used(key, Pool::Assignable),
            self.used(key, Pool::Concurrent),
        );
        count_rule(l, key, Pool::Concurrent, a, p)?;
        if let Some((org_id, org_name)) = org {
            if let Some(max) = self
                .limits
                .get(&(*org_id, key.to_string()))
                .and_then(|x| x.max)
            {
                cap_rule(org_name, key, max, self.org_used(*org_id, key))?;
            }
        }
        let mut reserved: u32 = 0;
        for ((o, k), limit) in &self.limits {
            let Some(min) = limit.min.filter(|m| *m > 0) else {
                continue;
            };
            if k != key || org.is_some_and(|(id, _)| id == o) {
                continue;
            }
            reserved = reserved.saturating_add(u32_of(min).saturating_sub(self.org_used(*o, k)));
        }
        reserve_rule(l, key, reserved, a + p)
    }

    /// Decide the logon of `user` without a station, or `None` when it is not the plain
    /// case or a rule would refuse it (then it runs on its own).
    fn logon(&mut self, l: &License, now: i64, user: &str, lease: u32) -> Option<Logon> {
        let u = self.users.get(user)?;
        if self.with_session.contains(&u.id) {
            return None;
        }
        let keys = self.grants.get(&u.id).cloned().unwrap_or_default();
        let mut acquire: Vec<String> = Vec::new();
        if u.method == Method::Concurrent {
            // Distinct keys: each check is independent of the others' takes.
            for k in keys.keys() {
                self.check_take(l, k, u.org.as_ref()).ok()?;
                acquire.push(k.clone());
            }
        }
        let (uid, name, org) = (u.id, u.name.clone(), u.org.as_ref().map(|o| o.0));
        for k in &acquire {
            *self.used.entry((k.clone(), Pool::Concurrent)).or_default() += 1;
            if let Some(o) = org {
                *self.org_used.entry((o, k.clone())).or_default() += 1;
            }
        }
        self.with_session.insert(uid);
        let id = random_id();
        let expires_at = now + i64::from(lease);
        self.sessions.extend([
            Value::Text(id.clone()),
            Value::Integer(uid),
            Value::Null,
            Value::Null,
            Value::Integer(i64::from(lease)),
            Value::Integer(now),
            Value::Integer(expires_at),
        ]);
        for k in &acquire {
            self.licenses.extend([
                Value::Text(id.clone()),
                Value::Text(k.clone()),
                Value::Text(Pool::Concurrent.as_str().to_string()),
            ]);
        }
        acquire.sort();
        acquire.dedup();
        let mut session = Session {
            id,
            user: name,
            station: None,
            remote_number: None,
            lease_secs: lease,
            expires_at,
            acquired: acquire,
            reused: false,
            replaced: None,
            warnings: Vec::new(),
        };
        self.events.push(history::logged_on_event(&session));
        let groups = self.groups.get(&uid).map(Vec::as_slice).unwrap_or(&[]);
        session.warnings = crate::workgroups::warnings_of(&session.user, groups, |k| {
            keys.contains_key(k) || session.acquired.iter().any(|a| a == k)
        });
        let mut licenses: Vec<String> = keys.into_keys().collect();
        licenses.extend(session.acquired.iter().cloned());
        licenses.sort();
        licenses.dedup();
        Some(Logon {
            session,
            licenses,
            days_left: l.days_left(),
        })
    }

    /// Write what was decided: one insert per table (and one for the events' ids).
    fn write(&mut self, c: &dyn Tx, now: i64) -> Result<()> {
        if !self.sessions.is_empty() {
            crate::import_users::insert_rows(
                c,
                "sessions (id, user_id, station_id, remote_number, lease, started_at, expires_at)",
                7,
                &std::mem::take(&mut self.sessions),
            )?;
        }
        if !self.licenses.is_empty() {
            crate::import_users::insert_rows(
                c,
                "session_licenses (session_id, key, pool)",
                3,
                &std::mem::take(&mut self.licenses),
            )?;
        }
        if !self.events.is_empty() {
            history::record_many(c, now, &std::mem::take(&mut self.events))?;
        }
        Ok(())
    }
}

impl FastLogons {
    /// Decide the logon of `user` without a station from the pool state (read first, for
    /// `users`, when there is none): `None` when it must run on its own.
    pub(crate) fn logon(
        &mut self,
        alloc: &Allocator,
        c: &dyn Tx,
        now: i64,
        user: &str,
        lease: u32,
        users: &[&str],
    ) -> Result<Option<BatchDone>> {
        // A license that does not verify: the logon runs on its own and is refused there.
        let Ok(l): std::result::Result<Arc<License>, _> = alloc.license_in(c) else {
            return Ok(None);
        };
        if self.state.is_none() {
            self.state = Some(PoolState::read(c, now, users)?);
        }
        let Some(st) = self.state.as_mut() else {
            return Ok(None);
        };
        Ok(st
            .logon(&l, now, user, lease)
            .map(|x| BatchDone::Login(Box::new(x))))
    }

    /// Write what was decided and forget the state (something else is about to change the
    /// store).
    pub(crate) fn flush(&mut self, c: &dyn Tx, now: i64) -> Result<()> {
        if let Some(mut st) = self.state.take() {
            st.write(c, now)?;
        }
        Ok(())
    }
}
