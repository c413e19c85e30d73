//! The allocator: every operation is one `BEGIN IMMEDIATE` transaction on the store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use format::{Holder, Method};
use store::{params, OptionalExt, Tx, TxExt};
use verify::{License, Verifier, VerifyError};

use crate::error::{AllocError, Entity, RuleKind};
use crate::history::{self, Event};
use crate::identity::{self, StoreIdentity};
use crate::in_use::{self, Deallocation, InUse};
use crate::model::{
    validate_key, validate_name, validate_phone, Clock, ComplianceEvent, KeyCount, KeyReport,
    LoadReport, Place, Pool, Preview, Report, Session, StationKind, SystemClock, Target, UserEntry,
    UserFilter, UserList, BASIC_STATION, CLIENT_KEYS, DEFAULT_LEASE_SECS, MAX_LEASE_SECS,
    ORGANIZATION_KEY,
};
use crate::rules::RuleIndex;
use crate::storage::{self, StoreLocation};

type Result<T> = std::result::Result<T, AllocError>;
/// A holder, its method, organization (id, name), and whether its licensing is on.
type HolderInfo = (HolderId, Method, Option<(i64, String)>, bool);
/// The stored file's id, product, lineage, generation, issuance and the file it superseded.
type StoredFile = (String, String, String, Option<i64>, String, Option<String>);

/// What a licensed server does with its license: users, stations, organizations, allocation,
/// sessions, reports and compliance, kept in a store it owns. See the crate documentation.
///
/// An `Allocator` is `Send + Sync`; threads may share one, and any number of processes may
/// open the same store: every change is one `BEGIN IMMEDIATE` transaction that checks and
/// writes together.
pub struct Allocator {
    conn: Mutex<Box<dyn store::Connection>>,
    engine: store::Engine,
    location: StoreLocation,
    path: PathBuf,
    verifier: Verifier,
    clock: Arc<dyn Clock>,
    cache: Mutex<Option<(i64, Arc<License>)>>,
    /// The rules of the license last used, indexed once ([`RuleIndex`]).
    rule_index: Mutex<Option<(Arc<License>, Arc<RuleIndex>)>>,
    /// A server's license kept when a newer stored file fails here ([`crate::reload`]).
    pub(crate) keep: crate::reload::Keep,
    /// Reads' own connection, when opened ([`Allocator::read_on_own_connection`]).
    pub(crate) reader: crate::reader::Reader,
}

impl std::fmt::Debug for Allocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Allocator")
            .field("location", &self.location)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

// Threads may share one allocator.
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Allocator>();
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HolderId {
    User(i64),
    Station(i64),
}

impl HolderId {
    fn table(self) -> (&'static str, &'static str, i64) {
        match self {
            HolderId::User(id) => ("user_grants", "user_id", id),
            HolderId::Station(id) => ("station_grants", "station_id", id),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) method: Method,
    pub(crate) org: Option<(i64, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct StationRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) enabled: bool,
}

/// Per-key usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Usage {
    assign_cfg: u32,
    assign_dyn: u32,
    conc_cfg: u32,
    conc_in_use: u32,
}

impl Usage {
    fn assign_used(&self) -> u32 {
        self.assign_cfg + self.assign_dyn
    }
}

fn method_str(m: Method) -> &'static str {
    m.as_str()
}

fn parse_method_col(s: &str) -> Method {
    if s == "concurrent" {
        Method::Concurrent
    } else {
        Method::Assignable
    }
}

pub(crate) fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

pub(crate) fn unknown(what: Entity, name: &str) -> AllocError {
    AllocError::Unknown {
        what,
        name: name.chars().take(64).collect(),
    }
}

pub(crate) fn rule(rule: RuleKind, holder: &str, key: &str, detail: String) -> AllocError {
    AllocError::Rule {
        rule,
        holder: holder.to_string(),
        key: key.to_string(),
        detail,
    }
}

pub(crate) fn random_id() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn validate_session_id(id: &str) -> Result<()> {
    if id.len() == 32
        && id
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        Ok(())
    } else {
        Err(AllocError::InvalidInput {
            what: "session id",
            reason: format!(
                "{:?} is not a session id (32 lowercase hex digits)",
                id.chars().take(40).collect::<String>()
            ),
        })
    }
}

// ---- reads shared by the operations ----------------------------------------------------

pub(crate) fn user_row(c: &dyn Tx, name: &str) -> Result<UserRow> {
    c.query_row(
        "SELECT u.id, u.name, u.method, u.org_id, o.name FROM users u LEFT JOIN orgs o ON o.id = u.org_id WHERE u.name = ?1",
        [name],
        |r| {
            let org_id: Option<i64> = r.get(3)?;
            let org_name: Option<String> = r.get(4)?;
            Ok(UserRow {
                id: r.get(0)?,
                name: r.get(1)?,
                method: parse_method_col(&r.get::<String>(2)?),
                org: org_id.zip(org_name),
            })
        },
    )
    .optional()?
    .ok_or_else(|| unknown(Entity::User, name))
}

pub(crate) fn station_row(c: &dyn Tx, name: &str) -> Result<StationRow> {
    c.query_row(
        "SELECT id, name, enabled FROM stations WHERE name = ?1",
        [name],
        |r| {
            Ok(StationRow {
                id: r.get(0)?,
                name: r.get(1)?,
                enabled: r.get::<i64>(2)? != 0,
            })
        },
    )
    .optional()?
    .ok_or_else(|| unknown(Entity::Station, name))
}

pub(crate) fn org_id(c: &dyn Tx, name: &str) -> Result<i64> {
    c.query_row("SELECT id FROM orgs WHERE name = ?1", [name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| unknown(Entity::Organization, name))
}

/// The keys a holder holds, with whether each was allocated explicitly (else it came by
/// implication only).
pub(crate) fn grants(c: &dyn Tx, h: HolderId) -> Result<BTreeMap<String, bool>> {
    let (table, col, id) = h.table();
    let mut st = c.prepare_cached(&format!(
        "SELECT key, explicit FROM {table} WHERE {col} = ?1"
    ))?;
    let rows = st.query_map([id], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)? != 0)))?;
    Ok(rows.collect::<store::Result<_>>()?)
}

/// What is consumed of one count of a key (the trigger-kept counter; exact in a write
/// transaction, after the purge of lapsed sessions).
pub(crate) fn consumed(c: &dyn Tx, key: &str, pool: Pool) -> Result<u32> {
    let n: Option<i64> = c
        .prepare_cached("SELECT n FROM usage_counts WHERE key = ?1 AND pool = ?2")?
        .query_row(params![key, pool.as_str()], |r| r.get(0))
        .optional()?;
    Ok(n.map_or(0, u32_of))
}

/// What is consumed of a key's assignable and concurrent counts, in one statement (as
/// [`consumed`] of each).
fn consumed_both(c: &dyn Tx, key: &str) -> Result<(u32, u32)> {
    let (mut a, mut p) = (0, 0);
    c.each(
        "SELECT pool, n FROM usage_counts WHERE key = ?1 AND pool IN ('assignable', 'concurrent')",
        &[store::Value::Text(key.into())],
        &mut |r| {
            let n = u32_of(r.get::<i64>(1)?);
            if r.get::<String>(0)? == Pool::Assignable.as_str() {
                a = n;
            } else {
                p = n;
            }
            Ok(())
        },
    )?;
    Ok((a, p))
}

/// Per-key usage, from the trigger-kept counters: `configured_counts` (grants),
/// `usage_counts` (what is consumed: consuming grants plus the licenses of sessions not yet
/// purged), less the licenses of lapsed sessions still in the store (found through the
/// expiry index). A handful of rows whatever the number of users, stations and sessions.
fn usage_all(c: &dyn Tx, now: i64) -> Result<BTreeMap<String, Usage>> {
    #[derive(Default)]
    struct Raw {
        cfg_a: i64,
        cfg_c: i64,
        used_a: i64,
        used_c: i64,
        lapsed_a: i64,
        lapsed_c: i64,
    }
    let mut raw: BTreeMap<String, Raw> = BTreeMap::new();
    let mut run = |sql: &str, params: &[store::Value], f: fn(&mut Raw, bool, i64)| -> Result<()> {
        c.each(sql, params, &mut |r| {
            let key: String = r.get(0)?;
            let assignable = r.get::<String>(1)? == "assignable";
            let n: i64 = r.get(2)?;
            f(raw.entry(key).or_default(), assignable, n);
            Ok(())
        })?;
        Ok(())
    };
    run(
        "SELECT key, pool, n FROM configured_counts WHERE n > 0",
        &[],
        |e, a, n| if a { e.cfg_a += n } else { e.cfg_c += n },
    )?;
    run(
        "SELECT key, pool, n FROM usage_counts WHERE n > 0",
        &[],
        |e, a, n| if a { e.used_a += n } else { e.used_c += n },
    )?;
    run(
        "SELECT l.key, l.pool, COUNT(*) FROM sessions s JOIN session_licenses l ON l.session_id = s.id WHERE s.expires_at <= ?1 GROUP BY l.key, l.pool",
        &[store::Value::Integer(now)],
        |e, a, n| if a { e.lapsed_a += n } else { e.lapsed_c += n },
    )?;
    Ok(raw
        .into_iter()
        .map(|(k, r)| {
            let dynamic = (r.used_a - r.cfg_a - r.lapsed_a).max(0);
            let u = Usage {
                assign_cfg: u32_of(r.cfg_a),
                assign_dyn: u32_of(dynamic),
                conc_cfg: u32_of(r.cfg_c),
                conc_in_use: u32_of((r.used_c - r.lapsed_c).max(0)),
            };
            (k, u)
        })
        .filter(|(_, u)| *u != Usage::default())
        .collect())
}

/// What an organization's users use of a key: assignable allocations plus licenses held by
/// live sessions.
pub(crate) fn org_usage(c: &dyn Tx, org: i64, key: &str, now: i64) -> Result<u32> {
    let a: i64 = c.prepare_cached(
        "SELECT COUNT(*) FROM user_grants g JOIN users u ON u.id = g.user_id WHERE u.org_id = ?1 AND u.method = 'assignable' AND g.key = ?2",
    )?
    .query_row(params![org, key], |r| r.get(0))?;
    let b: i64 = c.prepare_cached(
        "SELECT COUNT(*) FROM session_licenses l JOIN sessions s ON s.id = l.session_id JOIN users u ON u.id = s.user_id WHERE u.org_id = ?1 AND l.key = ?2 AND s.expires_at > ?3",
    )?
    .query_row(params![org, key, now], |r| r.get(0))?;
    Ok(u32_of(a + b))
}

fn org_count(c: &dyn Tx) -> Result<u32> {
    Ok(u32_of(c.query_row(
        "SELECT COUNT(*) FROM orgs",
        [],
        |r| r.get(0),
    )?))
}

fn organizations_allowed(l: &License) -> u32 {
    l.assigned(ORGANIZATION_KEY)
        .saturating_add(l.pooled(ORGANIZATION_KEY))
}

/// Check that one more license of `key` may be taken from `pool` by a consumer in `org`
/// (None: a station, or a user without organization).
pub(crate) fn check_take(
    c: &dyn Tx,
    l: &License,
    now: i64,
    key: &str,
    pool: Pool,
    org: Option<&(i64, String)>,
) -> Result<()> {
    crate::granted::require_granted(l, key)?;
    // In a write transaction, after the purge of lapsed sessions: the counters are exact.
    let (assign_used, conc_in_use) = consumed_both(c, key)?;
    count_rule(l, key, pool, assign_used, conc_in_use)?;
    if let Some((org_id, org_name)) = org {
        let max: Option<Option<i64>> = c
            .prepare_cached("SELECT max FROM org_limits WHERE org_id = ?1 AND key = ?2")?
            .query_row(params![org_id, key], |r| r.get(0))
            .optional()?;
        if let Some(Some(max)) = max {
            cap_rule(org_name, key, max, org_usage(c, *org_id, key, now)?)?;
        }
    }
    // Reservations of the other organizations, on the key's whole count.
    let mut reserved: u32 = 0;
    let mut st =
        c.prepare_cached("SELECT org_id, min FROM org_limits WHERE key = ?1 AND min > 0")?;
    let mins = st
        .query_map([key], |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)))?
        .collect::<store::Result<Vec<_>>>()?;
    for (o, min) in mins {
        if org.is_some_and(|(id, _)| *id == o) {
            continue;
        }
        reserved = reserved.saturating_add(u32_of(min).saturating_sub(org_usage(c, o, key, now)?));
    }
    reserve_rule(l, key, reserved, assign_used + conc_in_use)
}

/// The count rule of [`check_take`]: one more of `key` from `pool`, given what is consumed
/// of its assignable and concurrent counts.
pub(crate) fn count_rule(
    l: &License,
    key: &str,
    pool: Pool,
    assign_used: u32,
    conc_in_use: u32,
) -> Result<()> {
    let (licensed, used) = match pool {
        Pool::Assignable => (l.assigned(key), assign_used),
        Pool::Concurrent => (l.pooled(key), conc_in_use),
        Pool::Session => (
            l.assigned(key).saturating_add(l.pooled(key)),
            assign_used + conc_in_use,
        ),
    };
    if used >= licensed {
        return Err(AllocError::NoLicenseAvailable {
            key: key.into(),
            pool,
            licensed,
            in_use: used,
            out_of_compliance: used > licensed,
        });
    }
    Ok(())
}

/// The organization's maximum of [`check_take`], given what its users use of `key`.
pub(crate) fn cap_rule(org: &str, key: &str, max: i64, used: u32) -> Result<()> {
    if i64::from(used) >= max {
        return Err(AllocError::OrganizationCap {
            org: org.to_string(),
            key: key.into(),
            max: u32_of(max),
        });
    }
    Ok(())
}

/// The other organizations' reservations of [`check_take`]: `reserved` of `key` still
/// unused by them, `used` of its whole count consumed.
pub(crate) fn reserve_rule(l: &License, key: &str, reserved: u32, used: u32) -> Result<()> {
    if reserved > 0 {
        let total = l.assigned(key).saturating_add(l.pooled(key));
        let free = total.saturating_sub(used);
        if free <= reserved {
            return Err(AllocError::Reserved {
                key: key.into(),
                reserved,
                free,
            });
        }
    }
    Ok(())
}

/// Holder and method rules of one key for one holder.
pub(crate) fn check_holder_method(
    rules: &RuleIndex,
    holder: &str,
    h: HolderId,
    method: Method,
    key: &str,
) -> Result<()> {
    let kind = match h {
        HolderId::User(_) => Holder::User,
        HolderId::Station(_) => Holder::Station,
    };
    if crate::checkouts::session_kind(key).is_some() {
        return Err(rule(
            RuleKind::Holder,
            holder,
            key,
            format!("{key} is a session license: applications check it out per connection, no user or station holds it"),
        ));
    }
    let station_only = key == BASIC_STATION;
    if key == ORGANIZATION_KEY {
        // Counted by the organizations that exist: held by a user or station too, one
        // license would serve two.
        return Err(rule(
            RuleKind::Holder,
            holder,
            key,
            format!("{key} is counted by organizations only (licadmin org add), never allocated to a user or station"),
        ));
    }
    if !rules.holders(key).contains(&kind) || (station_only && kind == Holder::User) {
        return Err(rule(
            RuleKind::Holder,
            holder,
            key,
            format!(
                "{key} may be held by {} only",
                if station_only {
                    "stations"
                } else {
                    rules.holders(key).first().map_or("nobody", |h| h.as_str())
                }
            ),
        ));
    }
    if !rules.methods(key).contains(&method) || (station_only && method != Method::Assignable) {
        return Err(rule(
            RuleKind::Method,
            holder,
            key,
            format!("{key} may not be allocated as {method}"),
        ));
    }
    Ok(())
}

/// Excludes and requires over a holder's final set of keys, for the keys in `changed`.
pub(crate) fn check_set_rules(
    rules: &RuleIndex,
    holder: &str,
    set: &BTreeSet<String>,
    changed: &BTreeSet<String>,
) -> Result<()> {
    for k in changed {
        if let Some(other) = rules.excluded_in(k, set) {
            return Err(rule(
                RuleKind::Excludes,
                holder,
                k,
                format!("{k} and {other} exclude each other"),
            ));
        }
        for any_of in rules.requires(k) {
            if !any_of.iter().any(|y| set.contains(y)) {
                return Err(rule(
                    RuleKind::Requires,
                    holder,
                    k,
                    format!("{k} requires one of {}", any_of.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

/// How long why a session ended is kept (a client's heartbeat after the end is told).
pub(crate) const ENDED_KEPT_SECS: i64 = 86_400;

fn purge_lapsed(c: &dyn Tx, now: i64) -> Result<()> {
    history::sessions_end(
        c,
        "expires_at <= ?1",
        &store::Value::Integer(now),
        "lease-lapsed",
        now,
    )?;
    c.prepare_cached("INSERT INTO ended_sessions (id, reason, ended_at) SELECT id, 'lease-lapsed', expires_at FROM sessions WHERE expires_at <= ?1 ON CONFLICT (id) DO NOTHING")?
        .execute([now])?;
    c.prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
        .execute([now])?;
    c.prepare_cached("DELETE FROM ended_sessions WHERE ended_at <= ?1")?
        .execute([now - ENDED_KEPT_SECS])?;
    crate::checkouts::purge_lapsed(c, now)
}

/// Record why the sessions `filter` selects (a `WHERE` clause on `sessions` with `?1`) end,
/// before they are deleted.
pub(crate) fn record_end(
    c: &dyn Tx,
    filter: &str,
    arg: store::Value,
    reason: &str,
    now: i64,
) -> Result<()> {
    history::sessions_end(c, filter, &arg, reason, now)?;
    c.prepare_cached(&format!("INSERT INTO ended_sessions (id, reason, ended_at) SELECT id, ?2, ?3 FROM sessions WHERE {filter} ON CONFLICT (id) DO NOTHING"))?
        .execute(params![arg, reason, now])?;
    Ok(())
}

pub(crate) fn session_of(c: &dyn Tx, id: &str, reused: bool) -> Result<Session> {
    let (user, station, remote_number, lease, expires_at): (String, Option<String>, Option<String>, i64, i64) = c
        .query_row(
            "SELECT u.name, st.name, s.remote_number, s.lease, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN stations st ON st.id = s.station_id WHERE s.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    let mut st =
        c.prepare_cached("SELECT key FROM session_licenses WHERE session_id = ?1 ORDER BY key")?;
    let acquired = st
        .query_map([id], |r| r.get(0))?
        .collect::<store::Result<Vec<String>>>()?;
    Ok(Session {
        id: id.into(),
        user,
        station,
        remote_number,
        lease_secs: u32_of(lease),
        expires_at,
        acquired,
        reused,
        replaced: None,
        warnings: Vec::new(),
    })
}

/// Add a user inside a transaction the caller opened (the names checked).
pub(crate) fn add_user_in(
    c: &dyn Tx,
    now: i64,
    name: &str,
    method: Method,
    org: Option<&str>,
) -> Result<()> {
    let org_id = org.map(|o| org_id(c, o)).transpose()?;
    if c.query_row("SELECT 1 FROM users WHERE name = ?1", [name], |_| Ok(()))
        .optional()?
        .is_some()
    {
        return Err(AllocError::AlreadyExists {
            what: Entity::User,
            name: name.into(),
        });
    }
    c.execute(
        "INSERT INTO users (id, name, method, org_id) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM users), ?1, ?2, ?3)",
        params![name, method_str(method), org_id],
    )?;
    history::record(c, now, &Event::user_added(name, method, org))
}

/// Add a station inside a transaction the caller opened (the name checked).
pub(crate) fn add_station_in(c: &dyn Tx, now: i64, name: &str, kind: StationKind) -> Result<()> {
    if c.query_row("SELECT 1 FROM stations WHERE name = ?1", [name], |_| Ok(()))
        .optional()?
        .is_some()
    {
        return Err(AllocError::AlreadyExists {
            what: Entity::Station,
            name: name.into(),
        });
    }
    c.execute(
        "INSERT INTO stations (id, name, kind, enabled) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM stations), ?1, ?2, 1)",
        params![name, kind.as_str()],
    )?;
    history::record(c, now, &Event::station(name, format!("added ({kind})")))
}

/// The checks of [`Allocator::login`]'s input made before any transaction: the lease it
/// asks for (the default when none).
pub(crate) fn check_login(user: &str, place: &Place, lease_secs: Option<u32>) -> Result<u32> {
    validate_name("user name", user)?;
    match place {
        Place::Station(s) => validate_name("station name", s)?,
        Place::Remote(n) => validate_phone(n)?,
        Place::Nowhere => {}
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

/// [`Allocator::logout`] inside a write transaction the caller opened (the id checked).
pub(crate) fn logout_in(c: &dyn Tx, now: i64, session: &str) -> Result<()> {
    record_end(
        c,
        "id = ?1",
        store::Value::Text(session.into()),
        "logged-off",
        now,
    )?;
    if c.execute("DELETE FROM sessions WHERE id = ?1", [session])? == 0 {
        return Err(unknown(Entity::Session, session));
    }
    Ok(())
}

impl Allocator {
    /// Open (creating it on first use) the store at `path`, checking activation files with
    /// `verifier` and timing leases with the system clock. The stored file, if any, is
    /// re-verified when first needed (with the state file, if the verifier keeps one, only
    /// read).
    pub fn open(path: impl AsRef<Path>, verifier: Verifier) -> Result<Allocator> {
        Allocator::open_with_clock(path, verifier, Arc::new(SystemClock))
    }

    /// [`Allocator::open`] with another clock for leases (tests make leases lapse with a
    /// [`crate::ManualClock`]).
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        verifier: Verifier,
        clock: Arc<dyn Clock>,
    ) -> Result<Allocator> {
        Allocator::open_at(
            &StoreLocation::Sqlite(path.as_ref().to_path_buf()),
            verifier,
            clock,
        )
    }

    /// [`Allocator::open_with_clock`] of a store at `location`: an SQLite file (created on
    /// first use) or a PostgreSQL database (its schema created on first use), which several
    /// servers may share.
    pub fn open_at(
        location: &StoreLocation,
        verifier: Verifier,
        clock: Arc<dyn Clock>,
    ) -> Result<Allocator> {
        let conn = storage::open(location)?;
        let a = Allocator {
            engine: conn.engine(),
            conn: Mutex::new(conn),
            path: location.display_path(),
            location: location.clone(),
            verifier,
            clock,
            cache: Mutex::new(None),
            rule_index: Mutex::new(None),
            keep: crate::reload::Keep::default(),
            reader: crate::reader::Reader::default(),
        };
        // A store of an earlier release adopts the identity of its loaded file as soon as
        // a command can check that file's signature. Best effort: a failure here is met
        // again by the command (and a load or deallocation adopts first).
        if let Ok(true) = a.read(|c, _| identity::needs_adoption(c)) {
            let _ = a.tx(|c, _| identity::adopt(c, a.verifier.trust(), a.verifier.now()));
        }
        Ok(a)
    }

    /// The store's path (for a PostgreSQL store, its URL without the password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the store is.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The time leases are measured with (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub(crate) fn tx<T>(&self, f: impl FnOnce(&dyn Tx, i64) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.begin_write()?;
        let now = self.clock.now();
        history::begin(&tx, now)?;
        purge_lapsed(&tx, now)?;
        let out = f(&tx, now)?;
        // The time the license is checked at, recorded for the clock check.
        identity::record_time(&tx, self.verifier.now())?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Tx, i64) -> Result<T>) -> Result<T> {
        if let Some(reader) = self.reader.lock() {
            if let Some(conn) = reader.as_ref() {
                return Self::read_on(&**conn, &*self.clock, f);
            }
        }
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        Self::read_on(&**conn, &*self.clock, f)
    }

    fn read_on<T>(
        conn: &dyn store::Connection,
        clock: &dyn Clock,
        f: impl FnOnce(&dyn Tx, i64) -> Result<T>,
    ) -> Result<T> {
        // One consistent snapshot for the whole read.
        conn.begin_read()?;
        let now = clock.now();
        let out = f(conn, now);
        conn.end_read();
        out
    }

    /// The stored license, verified (cached while the stored file is unchanged and usable).
    pub(crate) fn license_in(&self, c: &dyn Tx) -> Result<Arc<License>> {
        if let Some(l) = crate::batch_license::pinned() {
            return Ok(l);
        }
        let l = self.license_verified(c)?;
        crate::batch_license::pin(&l);
        Ok(l)
    }

    fn license_verified(&self, c: &dyn Tx) -> Result<Arc<License>> {
        let seq: Option<i64> = c
            .query_row("SELECT seq FROM license WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        let Some(seq) = seq else {
            return Err(AllocError::NoLicenseLoaded);
        };
        // A clock set back behind the store's latest time seen is refused; within the
        // tolerance the file is checked at that latest time.
        let at = identity::effective_time(c, self.verifier.now(), &self.path)?;
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((s, l)) = cache.as_ref() {
                if *s == seq && l.usable_at(at) {
                    return Ok(l.clone());
                }
                if let Some(l) = self.keep.kept(seq, l, at) {
                    return Ok(l);
                }
            }
        }
        let bytes: Vec<u8> =
            c.query_row("SELECT bytes FROM license WHERE id = 1", [], |r| r.get(0))?;
        let l = match self.verifier.clone().state_read_only().at(at).load(&bytes) {
            Ok(l) => Arc::new(l),
            Err(e) => {
                let in_use = self
                    .cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                    .map(|(_, l)| l.clone());
                return self.keep.refuse(seq, in_use, at, e.into());
            }
        };
        self.keep.accepted();
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, l.clone()));
        Ok(l)
    }

    /// The license the store holds, verified now.
    pub fn license(&self) -> Result<Arc<License>> {
        self.read(|c, _| self.license_in(c))
    }

    /// The rules of `l`, indexed once per license (kept while `l` is the license in use).
    pub(crate) fn rules_of(&self, l: &Arc<License>) -> Arc<RuleIndex> {
        let mut slot = self
            .rule_index
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match slot.as_ref() {
            Some((cached, ix)) if Arc::ptr_eq(cached, l) => ix.clone(),
            _ => {
                let ix = Arc::new(RuleIndex::new(l.rules()));
                *slot = Some((l.clone(), ix.clone()));
                ix
            }
        }
    }

    // ---- users, stations, organizations -----------------------------------------------

    /// Add a user with its allocation method (all its licenses are of that method), in an
    /// organization if given.
    pub fn add_user(&self, name: &str, method: Method, org: Option<&str>) -> Result<()> {
        validate_name("user name", name)?;
        if let Some(o) = org {
            validate_name("organization name", o)?;
        }
        self.tx(|c, now| add_user_in(c, now, name, method, org))
    }

    /// Delete a user: its assignable licenses are released and its session ends.
    pub fn remove_user(&self, name: &str) -> Result<()> {
        validate_name("user name", name)?;
        self.tx(|c, now| {
            let u = user_row(c, name)?;
            record_end(
                c,
                "user_id = ?1",
                store::Value::Integer(u.id),
                "user-removed",
                now,
            )?;
            c.execute("DELETE FROM users WHERE id = ?1", [u.id])?;
            history::record(c, now, &Event::user(name, "removed"))
        })
    }

    /// Add a station (licensing enabled, no license allocated).
    pub fn add_station(&self, name: &str, kind: StationKind) -> Result<()> {
        validate_name("station name", name)?;
        self.tx(|c, now| add_station_in(c, now, name, kind))
    }

    /// Delete a station: its licenses are released and a session at it ends.
    pub fn remove_station(&self, name: &str) -> Result<()> {
        validate_name("station name", name)?;
        self.tx(|c, now| {
            let s = station_row(c, name)?;
            record_end(
                c,
                "station_id = ?1",
                store::Value::Integer(s.id),
                "station-removed",
                now,
            )?;
            c.execute("DELETE FROM stations WHERE id = ?1", [s.id])?;
            history::record(c, now, &Event::station(name, "removed"))
        })
    }

    /// Turn a station's licensing off: its licenses are released (no longer counted) but its
    /// settings are kept; a session at it ends.
    pub fn disable_station(&self, name: &str) -> Result<()> {
        validate_name("station name", name)?;
        self.tx(|c, now| {
            let s = station_row(c, name)?;
            c.execute("UPDATE stations SET enabled = 0 WHERE id = ?1", [s.id])?;
            record_end(
                c,
                "station_id = ?1",
                store::Value::Integer(s.id),
                "station-disabled",
                now,
            )?;
            c.execute("DELETE FROM sessions WHERE station_id = ?1", [s.id])?;
            history::record(c, now, &Event::station(name, "licensing disabled"))
        })
    }

    /// Turn a station's licensing on again: its kept licenses are consumed again, all or
    /// nothing (refused when any is no longer available).
    pub fn enable_station(&self, name: &str) -> Result<()> {
        validate_name("station name", name)?;
        self.tx(|c, now| {
            let s = station_row(c, name)?;
            if s.enabled {
                return Ok(());
            }
            let held = grants(c, HolderId::Station(s.id))?;
            if !held.is_empty() {
                let l = self.license_in(c)?;
                for k in held.keys() {
                    check_take(c, &l, now, k, Pool::Assignable, None)?;
                }
            }
            c.execute("UPDATE stations SET enabled = 1 WHERE id = ?1", [s.id])?;
            history::record(c, now, &Event::station(name, "licensing enabled"))
        })
    }

    /// Add an organization; the organization license's count (assigned plus pooled of
    /// [`ORGANIZATION_KEY`]) limits how many may exist.
    pub fn add_organization(&self, name: &str) -> Result<()> {
        validate_name("organization name", name)?;
        self.tx(|c, now| {
            if c.query_row("SELECT 1 FROM orgs WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Err(AllocError::AlreadyExists {
                    what: Entity::Organization,
                    name: name.into(),
                });
            }
            let l = self.license_in(c)?;
            let licensed = organizations_allowed(&l);
            let existing = org_count(c)?;
            if existing >= licensed {
                return Err(AllocError::OrganizationsExhausted {
                    key: ORGANIZATION_KEY,
                    licensed,
                    existing,
                });
            }
            c.execute("INSERT INTO orgs (id, name) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM orgs), ?1)", [name])?;
            history::record(c, now, &Event::org(name, "added"))
        })
    }

    /// Set an organization's minimum (reserved for its users) and maximum (cap) of a key.
    /// `None` leaves a bound as it was (a new limit starts at minimum 0, no maximum). The
    /// maximum may not exceed the system's count of the key nor be below what the
    /// organization uses already; the minimums of all organizations together may not exceed
    /// the system's count.
    pub fn set_organization_limit(
        &self,
        org: &str,
        key: &str,
        min: Option<u32>,
        max: Option<u32>,
    ) -> Result<()> {
        validate_name("organization name", org)?;
        validate_key(key)?;
        self.tx(|c, now| {
            let o = org_id(c, org)?;
            let l = self.license_in(c)?;
            crate::granted::require_granted(&l, key)?;
            let old: Option<(i64, Option<i64>)> = c
                .query_row("SELECT min, max FROM org_limits WHERE org_id = ?1 AND key = ?2", params![o, key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let min = min.unwrap_or_else(|| old.map_or(0, |(m, _)| u32_of(m)));
            let max = match max {
                Some(m) => Some(m),
                None => old.and_then(|(_, m)| m).map(u32_of),
            };
            let system = l.assigned(key).saturating_add(l.pooled(key));
            let org_s = format!("organization '{org}'");
            if let Some(max) = max {
                if min > max {
                    return Err(rule(RuleKind::Limit, &org_s, key, format!("minimum {min} is above maximum {max}")));
                }
                if max > system {
                    return Err(rule(RuleKind::Limit, &org_s, key, format!("maximum {max} is above the {system} licensed")));
                }
                let used = org_usage(c, o, key, now)?;
                if max < used {
                    return Err(rule(RuleKind::Limit, &org_s, key, format!("maximum {max} is below the {used} the organization uses")));
                }
            }
            let others: i64 = c.query_row(
                "SELECT CAST(COALESCE(SUM(min), 0) AS BIGINT) FROM org_limits WHERE key = ?1 AND org_id != ?2",
                params![key, o],
                |r| r.get(0),
            )?;
            let total_min = u32_of(others).saturating_add(min);
            if total_min > system {
                return Err(rule(RuleKind::Limit, &org_s, key, format!("the organizations' minimums would total {total_min}, above the {system} licensed")));
            }
            c.execute(
                "INSERT INTO org_limits (org_id, key, min, max) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, key) DO UPDATE SET min = excluded.min, max = excluded.max",
                params![o, key, min, max],
            )?;
            history::record(c, now, &Event::org_limit(org, key, min, max))
        })
    }

    // ---- allocation -------------------------------------------------------------------

    /// Allocate keys to a user or a station, all or nothing. Returns the keys newly held,
    /// including those that came by implication, sorted. See the crate documentation for
    /// the rules applied.
    pub fn allocate(&self, target: Target<'_>, keys: &[&str]) -> Result<Vec<String>> {
        self.check_target(target)?;
        for k in keys {
            validate_key(k)?;
        }
        self.tx(|c, now| self.allocate_in(c, now, target, keys))
            .inspect_err(|e| self.record_denial(&target.to_string(), e))
    }

    /// [`Allocator::allocate`] inside a transaction the caller opened (the names checked).
    pub(crate) fn allocate_in(
        &self,
        c: &dyn Tx,
        now: i64,
        target: Target<'_>,
        keys: &[&str],
    ) -> Result<Vec<String>> {
        let (h, method, org, enabled) = self.holder(c, target)?;
        let holder = target.to_string();
        if let HolderId::User(id) = h {
            crate::admin::require_licensing(
                c,
                id,
                &holder,
                keys.first().copied().unwrap_or_default(),
            )?;
        }
        let l = self.license_in(c)?;
        let rules = &*self.rules_of(&l);
        let held = grants(c, h)?;
        // The keys and everything they bring: one walk over the implies rules.
        let mut wanted: BTreeSet<String> = keys.iter().map(|k| (*k).to_string()).collect();
        wanted.extend(
            rules
                .closure(keys.iter().copied())
                .into_iter()
                .map(String::from),
        );
        let new: BTreeSet<String> = wanted
            .iter()
            .filter(|k| !held.contains_key(*k))
            .cloned()
            .collect();
        // A refusal of a key that came with one asked for names that key too.
        let checked = || -> Result<()> {
            for k in &new {
                check_holder_method(rules, &holder, h, method, k)?;
            }
            let mut set: BTreeSet<String> = held.keys().cloned().collect();
            set.extend(new.iter().cloned());
            check_set_rules(rules, &holder, &set, &new)?;
            for k in &new {
                match method {
                    Method::Assignable if enabled => {
                        check_take(c, &l, now, k, Pool::Assignable, org.as_ref())?
                    }
                    Method::Assignable => {}
                    Method::Concurrent => crate::granted::check_concurrent(&l, k)?,
                }
            }
            Ok(())
        };
        checked().map_err(|e| crate::granted::name_implier(e, keys, rules))?;
        let (table, col, id) = h.table();
        for k in &wanted {
            let explicit = keys.contains(&k.as_str());
            if held.contains_key(k) {
                if explicit {
                    c.execute(
                        &format!("UPDATE {table} SET explicit = 1 WHERE {col} = ?1 AND key = ?2"),
                        params![id, k],
                    )?;
                }
            } else {
                let consumes = method == Method::Assignable && enabled;
                c.execute(
                    &format!("INSERT INTO {table} ({col}, key, explicit, consumes) VALUES (?1, ?2, ?3, ?4)"),
                    params![id, k, i64::from(explicit), i64::from(consumes)],
                )?;
            }
        }
        let consumes = method == Method::Assignable && enabled;
        history::record(c, now, &Event::allocated(&holder, &new, consumes))?;
        Ok(new.into_iter().collect())
    }

    /// Remove keys from a user or a station, all or nothing; keys that came only by
    /// implication with a removed key go with it unless another held key still implies
    /// them. Returns every key removed, sorted. Refused (21, [`AllocError::InUse`]) while a
    /// live session uses the holder's licenses; [`Allocator::deallocate_with`] can end it.
    pub fn deallocate(&self, target: Target<'_>, keys: &[&str]) -> Result<Vec<String>> {
        Ok(self.deallocate_with(target, keys, InUse::Refuse)?.removed)
    }

    /// [`Allocator::deallocate`], saying what to do when a live session uses the holder's
    /// licenses (the session at the station, or the assignable user's session): refuse
    /// ([`InUse::Refuse`]), or end that session first ([`InUse::EndSession`]), in the same
    /// transaction, so a deallocation refused by a rule leaves the session going on.
    pub fn deallocate_with(
        &self,
        target: Target<'_>,
        keys: &[&str],
        in_use: InUse,
    ) -> Result<Deallocation> {
        self.check_target(target)?;
        for k in keys {
            validate_key(k)?;
        }
        self.tx(|c, now| {
            let (h, method, _, enabled) = self.holder(c, target)?;
            let holder = target.to_string();
            let held = grants(c, h)?;
            for k in keys {
                if !held.contains_key(*k) {
                    return Err(AllocError::NotAllocated {
                        holder: holder.clone(),
                        key: (*k).into(),
                    });
                }
            }
            // The rules of the stored file, checked against the key that signed it, whatever
            // this command's trust, host or clock: a file this command cannot use (expired,
            // or checked with other options) still binds what may be removed.
            let rules = RuleIndex::new(&identity::stored_rules(
                c,
                self.verifier.trust(),
                self.verifier.now(),
            )?);
            let asked: BTreeSet<String> = keys.iter().map(|k| (*k).to_string()).collect();
            // Implied-only keys go with what brought them, unless something kept implies them.
            let removed = rules.removal(&held, &asked).map_err(|e| {
                rule(
                    RuleKind::Implies,
                    &holder,
                    &e.key,
                    format!("{} comes with {}; deallocate {} instead", e.key, e.by, e.by),
                )
            })?;
            let stays = |k: &String| held.contains_key(k) && !removed.contains(k);
            for r in held.keys().filter(|k| stays(k)) {
                for any_of in rules.requires(r) {
                    if !any_of.iter().any(stays) {
                        return Err(rule(
                            RuleKind::Requires,
                            &holder,
                            r,
                            format!(
                                "{r} requires one of {}; deallocate {r} first",
                                any_of.join(", ")
                            ),
                        ));
                    }
                }
            }
            // A live session using the holder's licenses would go on without them.
            let (station, user) = match h {
                HolderId::Station(id) => (Some(id), None),
                HolderId::User(id) => (None, Some((id, method))),
            };
            let mut ended = Vec::new();
            if let Some((session, user)) = in_use::session_using(c, station, user, now)? {
                if in_use == InUse::Refuse {
                    return Err(AllocError::InUse {
                        holder,
                        key: asked.iter().next().cloned().unwrap_or_default(),
                        session,
                        user,
                    });
                }
                ended.push(session_of(c, &session, false)?);
                record_end(
                    c,
                    "id = ?1",
                    store::Value::Text(session.clone()),
                    "licenses-removed",
                    now,
                )?;
                c.execute("DELETE FROM sessions WHERE id = ?1", [&session])?;
            }
            let (table, col, id) = h.table();
            for k in &removed {
                c.execute(
                    &format!("DELETE FROM {table} WHERE {col} = ?1 AND key = ?2"),
                    params![id, k],
                )?;
            }
            let consumed = method == Method::Assignable && enabled;
            history::record(c, now, &Event::deallocated(&holder, &removed, consumed))?;
            Ok(Deallocation {
                removed: removed.into_iter().collect(),
                ended,
            })
        })
    }

    pub(crate) fn check_target(&self, t: Target<'_>) -> Result<()> {
        match t {
            Target::User(n) => validate_name("user name", n),
            Target::Station(n) => validate_name("station name", n),
        }
    }

    /// The holder, its method, organization, and whether its licensing is on.
    fn holder(&self, c: &dyn Tx, t: Target<'_>) -> Result<HolderInfo> {
        Ok(match t {
            Target::User(n) => {
                let u = user_row(c, n)?;
                (HolderId::User(u.id), u.method, u.org, true)
            }
            Target::Station(n) => {
                let s = station_row(c, n)?;
                (HolderId::Station(s.id), Method::Assignable, None, s.enabled)
            }
        })
    }

    // ---- sessions ---------------------------------------------------------------------

    /// Log a user on (see the crate documentation): at a station, as a dynamic remote
    /// station (a phone number), or without a station. A concurrent user acquires every
    /// configured key at once, all or nothing. A live session of the user at the same place
    /// is reused (its lease renewed); one elsewhere is ended first. `lease_secs` defaults to
    /// [`DEFAULT_LEASE_SECS`].
    pub fn login(&self, user: &str, place: Place, lease_secs: Option<u32>) -> Result<Session> {
        let lease = check_login(user, &place, lease_secs)?;
        self.tx(|c, now| self.login_in(c, now, user, &place, lease))
            .inspect_err(|e| self.record_denial(&format!("user '{user}'"), e))
    }

    /// [`Allocator::login`] inside a write transaction the caller opened, its input
    /// checked by [`check_login`] (the group commit of [`Allocator::batch`] runs it too).
    pub(crate) fn login_in(
        &self,
        c: &dyn Tx,
        now: i64,
        user: &str,
        place: &Place,
        lease: u32,
    ) -> Result<Session> {
        self.login_keys_in(c, now, user, place, lease, &mut None)
    }

    /// [`Allocator::login_in`], also giving the keys the user holds in `keys` (read once
    /// for the logon's checks, so a batch needs not read them again).
    pub(crate) fn login_keys_in(
        &self,
        c: &dyn Tx,
        now: i64,
        user: &str,
        place: &Place,
        lease: u32,
        keys: &mut Option<BTreeMap<String, bool>>,
    ) -> Result<Session> {
        {
            let u = user_row(c, user)?;
            let l = self.license_in(c)?;
            let station = match &place {
                Place::Station(s) => Some(station_row(c, s)?),
                _ => None,
            };
            let existing: Option<(String, Option<i64>, Option<String>)> = c
                .query_row(
                    "SELECT id, station_id, remote_number FROM sessions WHERE user_id = ?1",
                    [u.id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let mut replaced = None;
            if let Some((id, st, num)) = &existing {
                let same = match &place {
                    Place::Nowhere => st.is_none() && num.is_none(),
                    Place::Station(_) => *st == station.as_ref().map(|s| s.id),
                    Place::Remote(n) => num.as_deref() == Some(n.as_str()),
                };
                if same {
                    if let Some(k) = keys {
                        *k = grants(c, HolderId::User(u.id))?;
                    }
                    c.execute(
                        "UPDATE sessions SET expires_at = ?1, lease = ?2 WHERE id = ?3",
                        params![now + i64::from(lease), lease, id],
                    )?;
                    let mut s = session_of(c, id, true)?;
                    s.warnings = crate::workgroups::logon_warnings(
                        c,
                        u.id,
                        station.as_ref().map(|s| s.id),
                        &s,
                    )?;
                    return Ok(s);
                }
                // Logging on at another computer ends the previous session.
                record_end(
                    c,
                    "id = ?1",
                    store::Value::Text(id.clone()),
                    "logged-on-elsewhere",
                    now,
                )?;
                c.execute("DELETE FROM sessions WHERE id = ?1", [id])?;
                replaced = Some(id.clone());
            }
            let who = format!("user '{}'", u.name);
            let user_keys = grants(c, HolderId::User(u.id))?;
            if let Some(k) = keys {
                k.clone_from(&user_keys);
            }
            let mut acquire: Vec<(String, Pool)> = Vec::new();
            match &place {
                Place::Station(_) => {
                    let s = station
                        .as_ref()
                        .ok_or_else(|| AllocError::Internal("station".into()))?;
                    let sname = format!("station '{}'", s.name);
                    if !s.enabled {
                        return Err(rule(
                            RuleKind::Station,
                            &sname,
                            BASIC_STATION,
                            "the station's licensing is disabled".into(),
                        ));
                    }
                    let skeys = grants(c, HolderId::Station(s.id))?;
                    if !skeys.contains_key(BASIC_STATION) {
                        return Err(rule(RuleKind::Station, &sname, BASIC_STATION, format!("a station needs a Basic Station license ({BASIC_STATION}) to be logged on")));
                    }
                    if !CLIENT_KEYS
                        .iter()
                        .any(|k| skeys.contains_key(*k) || user_keys.contains_key(*k))
                    {
                        return Err(rule(RuleKind::Access, &who, CLIENT_KEYS[0], format!("the user or station '{}' needs Client Access or ACD Access ({}) to run the client", s.name, CLIENT_KEYS.join(", "))));
                    }
                    let busy: Option<String> = c
                        .query_row("SELECT u.name FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.station_id = ?1", [s.id], |r| r.get(0))
                        .optional()?;
                    if let Some(other) = busy {
                        return Err(AllocError::StationInUse {
                            station: s.name.clone(),
                            user: other,
                        });
                    }
                }
                Place::Remote(_) => {
                    crate::admin::require_remote_right(c, u.id, &who)?;
                    // A dynamic remote station: a Basic Station from the pool, else one no
                    // station holds, else refused; within the user's organization's maximum
                    // (and outside other organizations' reserves) like any other license.
                    let org = u.org.as_ref();
                    if l.counts(BASIC_STATION).is_none() {
                        // Told as the seed tells it: "no stations are available".
                        return Err(AllocError::NoLicenseAvailable {
                            key: BASIC_STATION.into(),
                            pool: Pool::Concurrent,
                            licensed: 0,
                            in_use: 0,
                            out_of_compliance: false,
                        });
                    }
                    let pool = check_take(c, &l, now, BASIC_STATION, Pool::Concurrent, org)
                        .map(|()| Pool::Concurrent)
                        .or_else(|e| {
                            check_take(c, &l, now, BASIC_STATION, Pool::Assignable, org)
                                .map(|()| Pool::Assignable)
                                .map_err(|_| e)
                        })?;
                    acquire.push((BASIC_STATION.into(), pool));
                }
                Place::Nowhere => {}
            }
            if u.method == Method::Concurrent {
                for k in user_keys.keys() {
                    check_take(c, &l, now, k, Pool::Concurrent, u.org.as_ref())?;
                    acquire.push((k.clone(), Pool::Concurrent));
                }
            }
            let id = random_id();
            let remote = match &place {
                Place::Remote(n) => Some(n.as_str()),
                _ => None,
            };
            c.execute(
                "INSERT INTO sessions (id, user_id, station_id, remote_number, lease, started_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, u.id, station.as_ref().map(|s| s.id), remote, lease, now, now + i64::from(lease)],
            )?;
            for (k, pool) in &acquire {
                c.execute(
                    "INSERT INTO session_licenses (session_id, key, pool) VALUES (?1, ?2, ?3)",
                    params![id, k, pool.as_str()],
                )?;
            }
            // The session as just written (what `session_of` would read back).
            let mut acquired: Vec<String> = acquire.iter().map(|(k, _)| k.clone()).collect();
            acquired.sort();
            acquired.dedup();
            let written = Session {
                id: id.clone(),
                user: u.name.clone(),
                station: station.as_ref().map(|s| s.name.clone()),
                remote_number: remote.map(str::to_owned),
                lease_secs: lease,
                expires_at: now + i64::from(lease),
                acquired,
                reused: false,
                replaced: None,
                warnings: Vec::new(),
            };
            let mut s = history::logged_on(c, now, written)?;
            s.replaced = replaced;
            s.warnings =
                crate::workgroups::logon_warnings(c, u.id, station.as_ref().map(|s| s.id), &s)?;
            Ok(s)
        }
    }

    /// Renew a live session's lease for another lease period.
    pub fn heartbeat(&self, session: &str) -> Result<Session> {
        validate_session_id(session)?;
        self.tx(|c, now| self.heartbeat_in(c, now, session))
    }

    /// [`Allocator::heartbeat`] inside a write transaction the caller opened (the id checked).
    pub(crate) fn heartbeat_in(&self, c: &dyn Tx, now: i64, session: &str) -> Result<Session> {
        // Renewing a lease uses the license as a logon does: not with an expired file
        // or a clock set back behind the store's latest time seen.
        self.license_in(c)?;
        let n = c.execute(
            "UPDATE sessions SET expires_at = ?1 + lease WHERE id = ?2",
            params![now, session],
        )?;
        if n == 0 {
            return Err(unknown(Entity::Session, session));
        }
        session_of(c, session, true)
    }

    /// End a session: its licenses come back.
    pub fn logout(&self, session: &str) -> Result<()> {
        validate_session_id(session)?;
        self.tx(|c, now| logout_in(c, now, session))
    }

    /// Live sessions, by user name.
    pub fn sessions(&self) -> Result<Vec<Session>> {
        self.read(|c, now| {
            let mut st = c.prepare_cached("SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.expires_at > ?1 ORDER BY u.name")?;
            let ids = st.query_map([now], |r| r.get::<String>(0))?.collect::<store::Result<Vec<_>>>()?;
            ids.iter().map(|id| session_of(c, id, false)).collect()
        })
    }

    // ---- reports ----------------------------------------------------------------------

    /// Per key: assignable allowed and configured, concurrent allowed, configured and in
    /// use, and notes when out of compliance.
    pub fn report(&self) -> Result<Report> {
        self.read(|c, now| {
            let l = self.license_in(c)?;
            let usage = usage_all(c, now)?;
            let checked_out = crate::checkouts::in_use_all(c, now)?;
            let mut names: BTreeSet<String> = l.licenses().iter().map(|k| k.name.clone()).collect();
            names.extend(usage.keys().cloned());
            names.extend(checked_out.keys().cloned());
            let keys = names
                .into_iter()
                .map(|name| {
                    let checkouts_in_use = checked_out.get(&name).copied().unwrap_or(0);
                    let u = usage.get(&name).copied().unwrap_or_default();
                    let (a, p) = (l.assigned(&name), l.pooled(&name));
                    let mut notes = Vec::new();
                    if u.assign_used() > a {
                        notes.push(format!(
                            "assignable out of compliance by {}",
                            u.assign_used() - a
                        ));
                    }
                    if u.conc_in_use > p {
                        notes.push(format!(
                            "concurrent out of compliance by {}",
                            u.conc_in_use - p
                        ));
                    }
                    if checkouts_in_use > a.saturating_add(p) {
                        notes.push(format!(
                            "session out of compliance by {}",
                            checkouts_in_use - a.saturating_add(p)
                        ));
                    }
                    KeyReport {
                        name,
                        checkouts_in_use,
                        assignable_allowed: a,
                        assignable_configured: u.assign_cfg,
                        assignable_dynamic: u.assign_dyn,
                        concurrent_allowed: p,
                        concurrent_configured: u.conc_cfg,
                        concurrent_in_use: u.conc_in_use,
                        notes,
                    }
                })
                .collect();
            Ok(Report {
                file_id: l.file_id().to_string(),
                keys,
                organizations: org_count(c)?,
                organizations_allowed: organizations_allowed(&l),
            })
        })
    }

    /// Users (filtered), what each holds, and per key the counts allocated and available.
    pub fn users(&self, filter: &UserFilter) -> Result<UserList> {
        if let Some(k) = &filter.license {
            validate_key(k)?;
        }
        self.read(|c, now| {
            let l = self.license_in(c)?;
            let usage = usage_all(c, now)?;
            let mut st = c.prepare_cached("SELECT u.id, u.name, u.method, o.name, s.id FROM users u LEFT JOIN orgs o ON o.id = u.org_id LEFT JOIN sessions s ON s.user_id = u.id AND s.expires_at > ?1 ORDER BY u.name")?;
            let rows = st
                .query_map([now], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?, r.get::<Option<String>>(3)?, r.get::<Option<String>>(4)?)))?
                .collect::<store::Result<Vec<_>>>()?;
            let needle = filter.name.as_ref().map(|n| n.to_lowercase());
            let mut users = Vec::new();
            let mut in_use_st = c.prepare_cached("SELECT key FROM session_licenses WHERE session_id = ?1 ORDER BY key")?;
            for (id, name, method, org, session) in rows {
                if needle.as_ref().is_some_and(|n| !name.to_lowercase().contains(n.as_str())) {
                    continue;
                }
                let licenses: Vec<String> = grants(c, HolderId::User(id))?.into_keys().collect();
                let in_use: Vec<String> = match &session {
                    Some(s) => in_use_st.query_map([s], |r| r.get(0))?.collect::<store::Result<_>>()?,
                    None => Vec::new(),
                };
                if let Some(k) = &filter.license {
                    if !licenses.contains(k) && !in_use.contains(k) {
                        continue;
                    }
                }
                users.push(UserEntry { name, method: parse_method_col(&method), organization: org, licenses, in_use, session });
            }
            let mut names: BTreeSet<String> = l.licenses().iter().map(|k| k.name.clone()).collect();
            names.extend(usage.keys().cloned());
            let keys = names
                .into_iter()
                .filter(|k| filter.license.as_ref().is_none_or(|f| f == k))
                .map(|key| {
                    let u = usage.get(&key).copied().unwrap_or_default();
                    let (a, p) = (l.assigned(&key), l.pooled(&key));
                    KeyCount {
                        allocated: u.assign_used() + u.conc_in_use,
                        available: a.saturating_sub(u.assign_used()) + p.saturating_sub(u.conc_in_use),
                        key,
                    }
                })
                .collect();
            Ok(UserList { users, keys })
        })
    }

    fn exceeded(&self, c: &dyn Tx, now: i64, l: &License) -> Result<Vec<ComplianceEvent>> {
        let mut usage = usage_all(c, now)?;
        // A session running on a license nobody holds for it uses one more than is allocated
        // (never the case unless the store was changed by other means).
        for u in in_use::unheld(c, now)? {
            usage.entry(u.key.to_string()).or_default().assign_dyn += 1;
        }
        let mut events = Vec::new();
        for (key, u) in &usage {
            let (a, p) = (l.assigned(key), l.pooled(key));
            if u.assign_used() > a {
                events.push(ComplianceEvent {
                    key: key.clone(),
                    count: "assignable",
                    licensed: a,
                    in_use: u.assign_used(),
                });
            }
            if u.conc_in_use > p {
                events.push(ComplianceEvent {
                    key: key.clone(),
                    count: "concurrent",
                    licensed: p,
                    in_use: u.conc_in_use,
                });
            }
        }
        for (key, n) in crate::checkouts::in_use_all(c, now)? {
            let licensed = l.assigned(&key).saturating_add(l.pooled(&key));
            if n > licensed {
                events.push(ComplianceEvent {
                    key,
                    count: "session",
                    licensed,
                    in_use: n,
                });
            }
        }
        let orgs = org_count(c)?;
        let allowed = organizations_allowed(l);
        if orgs > allowed {
            events.push(ComplianceEvent {
                key: ORGANIZATION_KEY.into(),
                count: "organizations",
                licensed: allowed,
                in_use: orgs,
            });
        }
        Ok(events)
    }

    /// The compliance check (a server runs it daily): one event per exceeded license, each
    /// also emitted through `tracing` (target `i3lic::allocation`, event `out-of-compliance`,
    /// fields `key`, `count`, `licensed`, `in_use`); nothing when compliant.
    pub fn check_compliance(&self) -> Result<Vec<ComplianceEvent>> {
        let events = self.read(|c, now| {
            let l = self.license_in(c)?;
            self.exceeded(c, now, &l)
        })?;
        for e in &events {
            tracing::error!(
                target: "i3lic::allocation",
                event = "out-of-compliance",
                key = %e.key,
                count = e.count,
                licensed = e.licensed,
                in_use = e.in_use,
                "{e}"
            );
        }
        Ok(events)
    }

    /// Verify a new file at the effective time (the store's clock check passed).
    fn verify_new(&self, bytes: &[u8], record: bool) -> Result<License> {
        let at = self.read(|c, _| identity::effective_time(c, self.verifier.now(), &self.path))?;
        let v = if record {
            self.verifier.clone()
        } else {
            self.verifier.clone().state_read_only()
        };
        Ok(v.at(at).load(bytes)?)
    }

    /// Store-side rollback and product checks against the current file.
    fn check_replaces(c: &dyn Tx, new: &License) -> Result<Option<String>> {
        let cur: Option<StoredFile> = c
            .query_row("SELECT file_id, product, lineage, generation, issued_at, supersedes FROM license WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
            .optional()?;
        let Some((file_id, product, lineage, generation, issued_at, supersedes)) = cur else {
            return Ok(None);
        };
        if new.product() != product {
            return Err(VerifyError::ProductMismatch {
                expected: product,
                found: new.product().into(),
            }
            .into());
        }
        let new_id = new.file_id().to_string();
        if supersedes.as_deref() == Some(new_id.as_str()) {
            return Err(VerifyError::Superseded {
                file_id: new.file_id(),
            }
            .into());
        }
        if new_id == file_id {
            return Ok(Some(file_id));
        }
        let cur_id: format::FileId = file_id
            .parse()
            .map_err(|_| AllocError::Internal("stored file id".into()))?;
        match (new.generation(), generation) {
            (Some(g), Some(cg)) if new.lineage().to_string() == lineage && i64::from(g) <= cg => {
                return Err(VerifyError::OlderGeneration {
                    file_id: new.file_id(),
                    lineage: new.lineage(),
                    generation: g,
                    accepted_generation: u32::try_from(cg).unwrap_or(0),
                    accepted_id: cur_id,
                }
                .into());
            }
            (Some(_), Some(_)) => {}
            _ => {
                let cur_issued: format::Timestamp = issued_at
                    .parse()
                    .map_err(|_| AllocError::Internal("stored issuance".into()))?;
                if new.issued_at() < cur_issued {
                    return Err(VerifyError::OlderFile {
                        file_id: new.file_id(),
                        issued_at: new.issued_at(),
                        newest_id: cur_id,
                        newest_issued_at: cur_issued,
                    }
                    .into());
                }
            }
        }
        Ok(Some(file_id))
    }

    /// What loading `bytes` would leave out of compliance (the file is verified, nothing is
    /// changed).
    pub fn preview(&self, bytes: &[u8]) -> Result<Preview> {
        let new = self.verify_new(bytes, false)?;
        self.read(|c, now| {
            identity::check_new(c, &new, bytes)?;
            crate::release::refuse_released(c, &new)?;
            Self::check_replaces(c, &new)?;
            Ok(Preview {
                file_id: new.file_id().to_string(),
                out_of_compliance: self.exceeded(c, now, &new)?,
            })
        })
    }

    /// [`Allocator::preview`] of a file on disk.
    pub fn preview_file(&self, path: impl AsRef<Path>) -> Result<Preview> {
        self.preview(&read_file(path.as_ref())?)
    }

    /// Verify `bytes` and make it the store's license, keeping every allocation. On failure
    /// the old license stays. Keys whose new count is below what is allocated or in use are
    /// out of compliance: nothing is taken away, new allocations of them are refused, and
    /// the report says by how much.
    pub fn load(&self, bytes: &[u8]) -> Result<LoadReport> {
        let new = self.verify_new(bytes, true)?;
        let new = Arc::new(new);
        let report = self.tx(|c, now| {
            let at = self.verifier.now();
            identity::effective_time(c, at, &self.path)?;
            identity::adopt(c, self.verifier.trust(), at)?;
            // The store's identity and history: another server's file, a key the store does
            // not trust, or an older generation (also after a load of another lineage).
            identity::check_new(c, &new, bytes)?;
            crate::release::refuse_released(c, &new)?;
            let replaced = Self::check_replaces(c, &new)?;
            let events = self.exceeded(c, now, &new)?;
            let seq: i64 = c.query_row("SELECT COALESCE(MAX(seq), 0) + 1 FROM license", [], |r| r.get(0))?;
            c.execute(
                "INSERT INTO license (id, seq, bytes, file_id, product, lineage, generation, issued_at, supersedes, loaded_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, bytes = excluded.bytes, file_id = excluded.file_id,
                   product = excluded.product, lineage = excluded.lineage, generation = excluded.generation,
                   issued_at = excluded.issued_at, supersedes = excluded.supersedes, loaded_at = excluded.loaded_at",
                params![
                    seq,
                    bytes,
                    new.file_id().to_string(),
                    new.product(),
                    new.lineage().to_string(),
                    new.generation(),
                    new.issued_at().to_string(),
                    new.supersedes().map(|s| s.to_string()),
                    now
                ],
            )?;
            identity::record_load(c, &new, self.verifier.trust(), at)?;
            history::loaded(c, now, &new, replaced.as_deref())?;
            c.execute("DELETE FROM ceilings", [])?;
            // Checkouts are not allocations: the store check does not hold them to ceilings.
            for e in events.iter().filter(|e| e.count != "session") {
                c.execute("INSERT INTO ceilings (key, pool, ceiling) VALUES (?1, ?2, ?3)", params![e.key, e.count, e.in_use])?;
            }
            *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some((seq, new.clone()));
            self.keep.accepted();
            Ok(LoadReport { file_id: new.file_id().to_string(), replaced: replaced.filter(|r| *r != new.file_id().to_string()), out_of_compliance: events })
        });
        if report.is_err() {
            // The transaction rolled back: forget a cache entry it may have set.
            *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        report
    }

    /// The store's identity (the hosts it serves, the keys it trusts), its rollback history,
    /// the latest time it saw and the log of identity changes.
    pub fn identity(&self) -> Result<StoreIdentity> {
        self.read(|c, _| identity::show(c))
    }

    /// Re-target the store (an administrator's decision, logged): from now on it serves
    /// `hosts` (one, or the two of a switchover pair) and trusts `keys`, and loads only files
    /// that name every one of those hosts and are signed by one of those keys. Its rollback
    /// history and latest time seen stay. The loaded file and every allocation stay too.
    pub fn retarget(&self, hosts: &[format::HostId], keys: &[format::PublicKey]) -> Result<()> {
        self.tx(|c, now| {
            identity::retarget(c, hosts, keys, self.verifier.now())?;
            history::record(c, now, &Event::change("store", "retargeted"))
        })
    }

    /// [`Allocator::load`] of a file on disk.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<LoadReport> {
        self.load(&read_file(path.as_ref())?)
    }

    /// The consistency check: every invariant the allocator keeps, verified over the whole
    /// store. Returns the broken ones (empty: consistent). It reads every row: SQLite's
    /// integrity check and foreign keys (every grant, session and session license belongs to
    /// an existing user, station or session), the stored file's bytes verified again (not
    /// from the cache) and agreeing with the columns kept beside them, the counters against
    /// the rows, what is in use against the file's counts (above them only as recorded at
    /// the last load), every holder's keys against the file's rules, every session against
    /// the station and dynamic-remote rules, the organizations against their caps, every
    /// name against [`validate_name`], and the store's identity records (the signer kept
    /// beside the stored file, its lineage's accepted generation, the clock record). A
    /// stored file that no longer verifies (expired, no longer trusted, or a clock set back)
    /// is that error.
    pub fn check(&self) -> Result<Vec<String>> {
        self.read(|c, now| {
            let mut problems = Vec::new();
            if self.engine == store::Engine::Sqlite {
                // SQLite's own checks (PostgreSQL enforces its foreign keys at every commit).
                let mut st = c.prepare_cached("PRAGMA integrity_check")?;
                for row in st.query_map([], |r| r.get::<String>(0))? {
                    let row = row?;
                    if row != "ok" {
                        problems.push(format!("integrity: {row}"));
                    }
                }
                let mut st = c.prepare_cached("PRAGMA foreign_key_check")?;
                for row in st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<Option<i64>>(1)?, r.get::<String>(2)?)))? {
                    let (table, rowid, parent) = row?;
                    problems.push(format!("a row of {table} (rowid {}) refers to a missing row of {parent}", rowid.map_or("-".into(), |r| r.to_string())));
                }
            }
            self.check_rows(c, &mut problems)?;
            let stored: Option<(Vec<u8>, StoredFile)> = c
                .query_row("SELECT bytes, file_id, product, lineage, generation, issued_at, supersedes FROM license WHERE id = 1", [], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))))
                .optional()?;
            let Some((bytes, (file_id, product, lineage, generation, issued_at, supersedes))) = stored else {
                let n: i64 = c.query_row("SELECT (SELECT COUNT(*) FROM user_grants) + (SELECT COUNT(*) FROM station_grants) + (SELECT COUNT(*) FROM session_licenses)", [], |r| r.get(0))?;
                if n > 0 {
                    problems.push(format!("{n} license(s) held without a license loaded"));
                }
                return Ok(problems);
            };
            // The bytes themselves, verified again (the cache is not trusted here).
            let at = identity::effective_time(c, self.verifier.now(), &self.path)?;
            let l = Arc::new(self.verifier.clone().state_read_only().at(at).load(&bytes)?);
            let columns = (
                l.file_id().to_string(),
                l.product().to_string(),
                l.lineage().to_string(),
                l.generation().map(i64::from),
                l.issued_at().to_string(),
                l.supersedes().map(|s| s.to_string()),
            );
            if columns != (file_id, product, lineage, generation, issued_at, supersedes) {
                problems.push("the stored file's columns do not match its bytes".into());
            }
            identity::check(c, &l, &mut problems)?;
            let rules = RuleIndex::new(l.rules());
            let rules = &rules;
            let mut ceilings: BTreeMap<(String, String), u32> = BTreeMap::new();
            {
                let mut st = c.prepare_cached("SELECT key, pool, ceiling FROM ceilings")?;
                for row in st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)))? {
                    let (k, p, n) = row?;
                    ceilings.insert((k, p), u32_of(n));
                }
            }
            let ceiling = |k: &str, p: &str| ceilings.get(&(k.to_string(), p.to_string())).copied().unwrap_or(0);
            for (key, u) in usage_all(c, now)? {
                let a = l.assigned(&key).max(ceiling(&key, "assignable"));
                if u.assign_used() > a {
                    problems.push(format!("{key}: {} assignable in use, {a} allowed", u.assign_used()));
                }
                let p = l.pooled(&key).max(ceiling(&key, "concurrent"));
                if u.conc_in_use > p {
                    problems.push(format!("{key}: {} concurrent in use, {p} allowed", u.conc_in_use));
                }
            }
            let orgs = org_count(c)?;
            if orgs > organizations_allowed(&l).max(ceiling(ORGANIZATION_KEY, "organizations")) {
                problems.push(format!("{orgs} organizations, {} allowed", organizations_allowed(&l)));
            }
            // Holder, method and set rules, per holder.
            let mut holders: Vec<(HolderId, String, Method)> = Vec::new();
            {
                let mut st = c.prepare_cached("SELECT id, name, method FROM users")?;
                for row in st.query_map([], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)))? {
                    let (id, n, m) = row?;
                    holders.push((HolderId::User(id), format!("user '{n}'"), parse_method_col(&m)));
                }
                let mut st = c.prepare_cached("SELECT id, name FROM stations")?;
                for row in st.query_map([], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)))? {
                    let (id, n) = row?;
                    holders.push((HolderId::Station(id), format!("station '{n}'"), Method::Assignable));
                }
            }
            for (h, name, method) in &holders {
                let held = grants(c, *h)?;
                let set: BTreeSet<String> = held.keys().cloned().collect();
                for k in &set {
                    if let Err(e) = check_holder_method(rules, name, *h, *method, k) {
                        problems.push(e.to_string());
                    }
                    // Direct implications, each held: then so is every key of the closure.
                    for y in rules.implies(k) {
                        if !set.contains(y) {
                            problems.push(format!("{name}: {k} held without {y}, which it implies"));
                        }
                    }
                }
                if let Err(e) = check_set_rules(rules, name, &set, &set) {
                    problems.push(e.to_string());
                }
            }
            // Sessions at stations: a Basic Station on the station (licensing enabled), and
            // Client or ACD Access on the station, the user or the session.
            for u in in_use::unheld(c, now)? {
                problems.push(format!(
                    "session {} of user '{}' at station '{}' runs without {} (nobody holds it for the session)",
                    u.session,
                    u.user,
                    u.station,
                    if u.key == BASIC_STATION {
                        "a Basic Station on the station with its licensing enabled"
                    } else {
                        "Client Access or ACD Access on the user, the station or the session"
                    }
                ));
            }
            // Organization caps.
            let mut st = c.prepare_cached("SELECT o.name, o.id, l.key, l.max FROM org_limits l JOIN orgs o ON o.id = l.org_id WHERE l.max IS NOT NULL")?;
            let caps = st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?, r.get::<i64>(3)?)))?.collect::<store::Result<Vec<_>>>()?;
            for (n, id, key, max) in caps {
                let used = org_usage(c, id, &key, now)?;
                if i64::from(used) > max {
                    problems.push(format!("organization '{n}' uses {used} {key}, maximum {max}"));
                }
            }
            Ok(problems)
        })
    }
}

impl Allocator {
    /// The row-level invariants of [`Allocator::check`] that do not need the license.
    fn check_rows(&self, c: &dyn Tx, problems: &mut Vec<String>) -> Result<()> {
        // Both trigger-kept counters agree with the rows (sessions not yet purged count).
        for (table, sql) in [
            ("usage", "SELECT key, pool, CAST(SUM(n) AS BIGINT) FROM (
                 SELECT key, 'assignable' AS pool, 1 AS n FROM user_grants WHERE consumes = 1
                 UNION ALL SELECT key, 'assignable', 1 FROM station_grants WHERE consumes = 1
                 UNION ALL SELECT key, pool, 1 FROM session_licenses
                 UNION ALL SELECT key, pool, -n FROM usage_counts) AS t
             GROUP BY key, pool HAVING SUM(n) != 0"),
            ("configured", "SELECT key, pool, CAST(SUM(n) AS BIGINT) FROM (
                 SELECT key, CASE consumes WHEN 1 THEN 'assignable' ELSE 'concurrent' END AS pool, 1 AS n FROM user_grants
                 UNION ALL SELECT key, 'assignable', 1 FROM station_grants WHERE consumes = 1
                 UNION ALL SELECT key, pool, -n FROM configured_counts) AS t
             GROUP BY key, pool HAVING SUM(n) != 0"),
        ] {
            let mut st = c.prepare_cached(sql)?;
            for row in st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)))? {
                let (k, p, d) = row?;
                problems.push(format!("{k}: the {table} counter of {p} is off by {d}"));
            }
        }
        let wrong: i64 = c.query_row(
            "SELECT (SELECT COUNT(*) FROM user_grants g JOIN users u ON u.id = g.user_id WHERE g.consumes != CASE WHEN u.method = 'assignable' THEN 1 ELSE 0 END)
                  + (SELECT COUNT(*) FROM station_grants g JOIN stations s ON s.id = g.station_id WHERE g.consumes != s.enabled)",
            [],
            |r| r.get(0),
        )?;
        if wrong > 0 {
            problems.push(format!("{wrong} grant(s) counted against the wrong count"));
        }
        // Sessions: a lease within bounds, one place, and what each place acquires.
        let mut st = c.prepare_cached(
            "SELECT s.id, u.name, u.method, s.station_id IS NOT NULL, s.remote_number, s.lease, s.started_at, s.expires_at,
                    (SELECT COUNT(*) FROM session_licenses l WHERE l.session_id = s.id AND l.key = ?1),
                    (SELECT COUNT(*) FROM session_licenses l WHERE l.session_id = s.id AND l.pool = 'assignable' AND l.key != ?1),
                    (SELECT COUNT(*) FROM session_licenses l WHERE l.session_id = s.id AND l.key != ?1 AND u.method != 'concurrent')
             FROM sessions s JOIN users u ON u.id = s.user_id",
        )?;
        let rows = st.query_map([BASIC_STATION], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<bool>(3)?,
                r.get::<Option<String>>(4)?,
                r.get::<i64>(5)?,
                (r.get::<i64>(6)?, r.get::<i64>(7)?),
                (r.get::<i64>(8)?, r.get::<i64>(9)?, r.get::<i64>(10)?),
            ))
        })?;
        for row in rows {
            let (
                id,
                user,
                method,
                at_station,
                remote,
                lease,
                (started, expires),
                (basic, assignable, held),
            ) = row?;
            let s = format!("session {id} of user '{user}'");
            if lease <= 0 || lease > i64::from(MAX_LEASE_SECS) || expires < started {
                problems.push(format!("{s}: lease {lease} s from {started} to {expires}"));
            }
            if at_station && remote.is_some() {
                problems.push(format!("{s}: both at a station and a remote number"));
            }
            if let Some(n) = &remote {
                if validate_phone(n).is_err() {
                    problems.push(format!("{s}: remote number {n:?} is not a phone number"));
                }
            }
            if basic != i64::from(remote.is_some()) {
                problems.push(format!("{s}: holds {basic} Basic Station(s) from the pools; a dynamic remote session holds one, any other none"));
            }
            if assignable > 0 {
                problems.push(format!(
                    "{s}: holds assignable licenses other than a dynamic remote Basic Station"
                ));
            }
            if held > 0 && method != "concurrent" {
                problems.push(format!(
                    "{s}: an assignable user's session holds licenses from the concurrent pools"
                ));
            }
        }
        // Names as validate_name accepts them.
        for (what, sql) in [
            ("user", "SELECT name FROM users"),
            ("station", "SELECT name FROM stations"),
            ("organization", "SELECT name FROM orgs"),
        ] {
            let mut st = c.prepare_cached(sql)?;
            for row in st.query_map([], |r| r.get::<String>(0))? {
                let name = row?;
                if let Err(e) = validate_name("name", &name) {
                    problems.push(format!("{what} {name:?}: {e}"));
                }
            }
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let io = |source| AllocError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    };
    let f = verify::open_regular_file(path, "activation file").map_err(|e| match e {
        VerifyError::Io { source, .. } => io(source),
        other => AllocError::License(other),
    })?;
    let mut buf = Vec::new();
    f.take(format::MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    Ok(buf)
}
