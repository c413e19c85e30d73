//! `import users` in bulk: every line is checked against what the store held when the
//! transaction began plus what the lines before it add (kept in memory), then the users,
//! their grants and their events are written with multi-row inserts. One line at a time
//! through `add_user_in` and `allocate_in` cost some sixteen statements a line (an hour for
//! 10,000 users on PostgreSQL, where each is a round trip); this costs a few statements per
//! key and organization, and one insert per hundred rows.
//!
//! The checks are those of [`Allocator::allocate_in`] for a holder that holds nothing yet (a
//! user just added, licensing on): the holder and method rules, excludes and requires, and
//! for an assignable user [`crate::allocator::check_take`]'s counts (licensed, the
//! organization's maximum, the other organizations' reserves), the earlier lines' grants
//! counted in. `tests/import.rs` checks each refusal names the same line, column and error
//! as one line at a time would.

use std::collections::{BTreeSet, HashMap, HashSet};

use store::{OptionalExt, Tx, TxExt, Value};

use crate::allocator::{
    check_holder_method, check_set_rules, consumed, org_id, org_usage, u32_of, Allocator, HolderId,
};
use crate::error::{AllocError, Entity};
use crate::history::{self, Event};
use crate::import::{at, keys_of, Row};
use crate::model::{parse_method, Method, Pool, Target};
use crate::storage::StoreLocation;

type Result<T> = std::result::Result<T, AllocError>;

/// Rows per multi-row insert (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 100;

/// What the lines so far take of the store's counts, beside what it held at the start.
#[derive(Default)]
struct Counts {
    /// Per key: assignable use and concurrent use at the start.
    base: HashMap<String, (u32, u32)>,
    /// Per key: assignable use the lines so far add.
    added: HashMap<String, u32>,
    /// Per organization and key: its use at the start.
    org_base: HashMap<(i64, String), u32>,
    /// Per organization and key: what the lines so far add.
    org_added: HashMap<(i64, String), u32>,
    /// Per organization and key: its maximum, if any.
    max: HashMap<(i64, String), Option<i64>>,
    /// Per key: the organizations with a reserve (minimum) of it.
    mins: HashMap<String, Vec<(i64, i64)>>,
}

impl Counts {
    fn base(&mut self, c: &dyn Tx, key: &str) -> Result<(u32, u32)> {
        if let Some(b) = self.base.get(key) {
            return Ok(*b);
        }
        let b = (
            consumed(c, key, Pool::Assignable)?,
            consumed(c, key, Pool::Concurrent)?,
        );
        self.base.insert(key.to_string(), b);
        Ok(b)
    }

    fn org_use(&mut self, c: &dyn Tx, org: i64, key: &str, now: i64) -> Result<u32> {
        let id = (org, key.to_string());
        let base = match self.org_base.get(&id) {
            Some(b) => *b,
            None => {
                let b = org_usage(c, org, key, now)?;
                self.org_base.insert(id.clone(), b);
                b
            }
        };
        Ok(base.saturating_add(self.org_added.get(&id).copied().unwrap_or(0)))
    }

    /// [`crate::allocator::check_take`] of one assignable license, the earlier lines' in.
    fn take(
        &mut self,
        c: &dyn Tx,
        l: &verify::License,
        now: i64,
        key: &str,
        org: Option<&(i64, String)>,
    ) -> Result<()> {
        let (base_a, conc_in_use) = self.base(c, key)?;
        let assign_used = base_a.saturating_add(self.added.get(key).copied().unwrap_or(0));
        let licensed = l.assigned(key);
        if assign_used >= licensed {
            return Err(AllocError::NoLicenseAvailable {
                key: key.into(),
                pool: Pool::Assignable,
                licensed,
                in_use: assign_used,
                out_of_compliance: assign_used > licensed,
            });
        }
        if let Some((org_id, org_name)) = org {
            let id = (*org_id, key.to_string());
            let max = match self.max.get(&id) {
                Some(m) => *m,
                None => {
                    let m: Option<Option<i64>> = c
                        .prepare_cached(
                            "SELECT max FROM org_limits WHERE org_id = ?1 AND key = ?2",
                        )?
                        .query_row(store::params![org_id, key], |r| r.get(0))
                        .optional()?;
                    let m = m.flatten();
                    self.max.insert(id, m);
                    m
                }
            };
            if let Some(max) = max {
                if i64::from(self.org_use(c, *org_id, key, now)?) >= max {
                    return Err(AllocError::OrganizationCap {
                        org: org_name.clone(),
                        key: key.into(),
                        max: u32_of(max),
                    });
                }
            }
        }
        if !self.mins.contains_key(key) {
            let mins = c.query_map(
                "SELECT org_id, min FROM org_limits WHERE key = ?1 AND min > 0",
                &[Value::Text(key.to_string())],
                |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)),
            )?;
            self.mins.insert(key.to_string(), mins);
        }
        let mins = self.mins.get(key).cloned().unwrap_or_default();
        let mut reserved: u32 = 0;
        for (o, min) in mins {
            if org.is_some_and(|(id, _)| *id == o) {
                continue;
            }
            let used = self.org_use(c, o, key, now)?;
            reserved = reserved.saturating_add(u32_of(min).saturating_sub(used));
        }
        if reserved > 0 {
            let total = l.assigned(key).saturating_add(l.pooled(key));
            let free = total.saturating_sub(assign_used.saturating_add(conc_in_use));
            if free <= reserved {
                return Err(AllocError::Reserved {
                    key: key.into(),
                    reserved,
                    free,
                });
            }
        }
        *self.added.entry(key.to_string()).or_default() += 1;
        if let Some((o, _)) = org {
            *self.org_added.entry((*o, key.to_string())).or_default() += 1;
        }
        Ok(())
    }
}

/// `INSERT INTO {head} VALUES (...), (...)` of `rows`, `CHUNK` rows per statement.
pub(crate) fn insert_rows(c: &dyn Tx, head: &str, width: usize, rows: &[Value]) -> Result<()> {
    for chunk in rows.chunks(CHUNK * width) {
        let n = chunk.len() / width;
        let values: Vec<String> = (0..n)
            .map(|r| {
                let cols: Vec<String> =
                    (1..=width).map(|i| format!("?{}", r * width + i)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        c.prepare_cached(&format!("INSERT INTO {head} VALUES {}", values.join(", ")))?
            .execute(chunk)?;
    }
    Ok(())
}

/// On PostgreSQL, switch off the row trigger that counts each grant, for this transaction:
/// a counter row updated once per grant gets a new row version each time, all of them kept
/// until the transaction ends and walked by every next update, so 20,000 grants in one
/// transaction took minutes (quadratic). `ALTER TABLE` is transactional: a rollback
/// switches it back on; it also locks `user_grants` against readers until the commit (an
/// import takes seconds). `false` (the trigger left on, each grant counted by it) when this
/// role may not alter the table.
fn pg_counter_trigger_off(c: &dyn Tx) -> Result<bool> {
    c.run_batch("SAVEPOINT import_grants")?;
    match c.run_batch("ALTER TABLE user_grants DISABLE TRIGGER user_grants_count") {
        Ok(()) => {
            c.run_batch("RELEASE SAVEPOINT import_grants")?;
            Ok(true)
        }
        Err(_) => {
            c.run_batch("ROLLBACK TO SAVEPOINT import_grants; RELEASE SAVEPOINT import_grants")?;
            Ok(false)
        }
    }
}

/// What the switched-off trigger would have counted for `grants` (user, key, explicit,
/// consumes), once per key and count through the schema's own counting function; then the
/// trigger is on again. The peak trigger on the counters sees each counter rise once, to
/// the level the grants one by one would have left (the peak of a rise is its end).
fn pg_count_grants(c: &dyn Tx, grants: &[Value]) -> Result<()> {
    let mut n: std::collections::BTreeMap<(String, bool), i64> = Default::default();
    for g in grants.chunks(4) {
        if let (Value::Text(key), Value::Integer(consumes)) = (&g[1], &g[3]) {
            *n.entry((key.clone(), *consumes == 1)).or_default() += 1;
        }
    }
    for ((key, consumes), d) in n {
        let pool = if consumes { "assignable" } else { "concurrent" };
        if consumes {
            c.execute(
                "SELECT i3la_count('usage', CAST(?1 AS TEXT), 'assignable', CAST(?2 AS BIGINT))",
                store::params![key, d],
            )?;
        }
        c.execute(
            "SELECT i3la_count('configured', CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS BIGINT))",
            store::params![key, pool, d],
        )?;
    }
    c.run_batch("ALTER TABLE user_grants ENABLE TRIGGER user_grants_count")?;
    Ok(())
}

impl Allocator {
    /// The users of checked `rows` (name, method, organization, licenses), added with their
    /// licenses in the write transaction `c`; returns how many licenses were allocated.
    pub(crate) fn import_users_in(&self, c: &dyn Tx, now: i64, rows: &[Row]) -> Result<usize> {
        let mut names: HashSet<String> = c
            .query_map("SELECT name FROM users", store::params![], |r| {
                r.get::<String>(0)
            })?
            .into_iter()
            .collect();
        let first_id: i64 = c.query_row(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM users",
            store::params![],
            |r| r.get(0),
        )?;
        let mut orgs: HashMap<String, i64> = HashMap::new();
        let mut license = None;
        let mut counts = Counts::default();
        let (mut users, mut grants, mut events) = (Vec::new(), Vec::new(), Vec::new());
        let mut allocated = 0;
        for (i, row) in rows.iter().enumerate() {
            let f = &row.fields;
            let (name, id) = (f[0].as_str(), first_id + i as i64);
            let method = parse_method(&f[1]).unwrap_or(Method::Assignable);
            let org_name = Some(f[2].as_str()).filter(|o| !o.is_empty());
            let org = match org_name {
                Some(o) => Some(match orgs.get(o) {
                    Some(id) => (*id, o.to_string()),
                    None => {
                        let id = org_id(c, o).map_err(|e| at(row.line, Some("organization"), e))?;
                        orgs.insert(o.to_string(), id);
                        (id, o.to_string())
                    }
                }),
                None => None,
            };
            if !names.insert(name.to_string()) {
                return Err(at(
                    row.line,
                    Some("name"),
                    AllocError::AlreadyExists {
                        what: Entity::User,
                        name: name.into(),
                    },
                ));
            }
            users.extend([
                Value::Integer(id),
                Value::Text(name.to_string()),
                Value::Text(method.as_str().to_string()),
                org.as_ref()
                    .map_or(Value::Null, |(o, _)| Value::Integer(*o)),
            ]);
            events.push(Event::user_added(name, method, org_name));
            let keys = keys_of(&f[3])?;
            if keys.is_empty() {
                continue;
            }
            let new = self
                .user_keys(
                    c,
                    now,
                    name,
                    id,
                    method,
                    org.as_ref(),
                    &keys,
                    &mut license,
                    &mut counts,
                )
                .map_err(|e| at(row.line, Some("licenses"), e))?;
            let consumes = method == Method::Assignable;
            for (k, explicit) in &new {
                grants.extend([
                    Value::Integer(id),
                    Value::Text(k.clone()),
                    Value::Integer(i64::from(*explicit)),
                    Value::Integer(i64::from(consumes)),
                ]);
            }
            let holder = Target::User(name).to_string();
            let keys: BTreeSet<String> = new.into_iter().map(|(k, _)| k).collect();
            allocated += keys.len();
            events.push(Event::allocated(&holder, &keys, consumes));
        }
        insert_rows(c, "users (id, name, method, org_id)", 4, &users)?;
        let counted_here =
            matches!(self.location(), StoreLocation::Postgres(_)) && pg_counter_trigger_off(c)?;
        insert_rows(
            c,
            "user_grants (user_id, key, explicit, consumes)",
            4,
            &grants,
        )?;
        if counted_here {
            pg_count_grants(c, &grants)?;
        }
        history::record_many(c, now, &events)?;
        Ok(allocated)
    }

    /// The keys a new user `name` (licensing on, holding nothing) gets for `keys`, each with
    /// whether it was asked for (else implied), checked as [`Allocator::allocate_in`] does.
    #[allow(clippy::too_many_arguments)]
    fn user_keys(
        &self,
        c: &dyn Tx,
        now: i64,
        name: &str,
        id: i64,
        method: Method,
        org: Option<&(i64, String)>,
        keys: &[&str],
        license: &mut Option<std::sync::Arc<verify::License>>,
        counts: &mut Counts,
    ) -> Result<Vec<(String, bool)>> {
        let l = match license {
            Some(l) => l.clone(),
            None => license.insert(self.license_in(c)?).clone(),
        };
        let rules = &*self.rules_of(&l);
        let holder = Target::User(name).to_string();
        let mut wanted: BTreeSet<String> = keys.iter().map(|k| (*k).to_string()).collect();
        wanted.extend(
            rules
                .closure(keys.iter().copied())
                .into_iter()
                .map(String::from),
        );
        for k in &wanted {
            check_holder_method(rules, &holder, HolderId::User(id), method, k)?;
        }
        check_set_rules(rules, &holder, &wanted, &wanted)?;
        for k in &wanted {
            match method {
                Method::Assignable => counts.take(c, &l, now, k, org)?,
                Method::Concurrent if l.pooled(k) == 0 => {
                    return Err(AllocError::NoLicenseAvailable {
                        key: k.clone(),
                        pool: Pool::Concurrent,
                        licensed: 0,
                        in_use: 0,
                        out_of_compliance: false,
                    })
                }
                Method::Concurrent => {}
            }
        }
        Ok(wanted
            .into_iter()
            .map(|k| {
                let explicit = keys.contains(&k.as_str());
                (k, explicit)
            })
            .collect())
    }
}
