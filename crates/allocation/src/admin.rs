//! What an administrator does beyond allocating: remove an organization, edit a user (its
//! method, its licensing, its right to a dynamic remote logon), add a user or a station with
//! its licenses in one transaction, and the warning for a station without a Basic Station.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use store::{params, OptionalExt, Tx, TxExt};

use crate::allocator::{
    add_station_in, add_user_in, check_holder_method, check_take, grants, org_id, record_end, rule,
    station_row, user_row, Allocator, HolderId,
};
use crate::error::{AllocError, RuleKind};
use crate::model::{validate_key, validate_name, Method, Pool, StationKind, Target, BASIC_STATION};

type Result<T> = std::result::Result<T, AllocError>;

/// How many users an [`AllocError::OrganizationInUse`] names.
const NAMED_USERS: usize = 20;

/// What `user edit` changes; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserEdit {
    /// The allocation method (refused while the user holds licenses of the other method).
    pub method: Option<Method>,
    /// Enable Licenses: off releases the user's licenses and keeps them as settings; on
    /// restores those still available.
    pub licensing: Option<bool>,
    /// The right to a dynamic remote logon ("User-defined Telephone Number on Remote Login").
    pub remote_logon: Option<bool>,
}

/// A key `user edit --licensing on` could not restore, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRestored {
    /// The key.
    pub key: String,
    /// Why, in words.
    pub reason: String,
}

/// What [`Allocator::edit_user`] did, and the user's settings after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEdited {
    /// The user.
    pub name: String,
    /// Its method.
    pub method: Method,
    /// Whether its licensing is on.
    pub licensing: bool,
    /// Whether it may log on as a dynamic remote station.
    pub remote_logon: bool,
    /// Keys released by turning licensing off (kept as settings), sorted.
    pub released: Vec<String>,
    /// Keys restored by turning licensing on, sorted.
    pub restored: Vec<String>,
    /// Keys that could not be restored (their settings are dropped), sorted.
    pub not_restored: Vec<NotRestored>,
    /// The user's session that turning licensing off ended, if any.
    pub ended_session: Option<String>,
}

/// What [`Allocator::add_station_with`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StationAdded {
    /// The keys now held (implied ones included), sorted.
    pub allocated: Vec<String>,
    /// What the administrator should know (no Basic Station license).
    pub warnings: Vec<String>,
}

/// A user's licensing and remote logon right (the defaults, both on, without a row).
fn settings(c: &dyn Tx, user: i64) -> Result<(bool, bool)> {
    let row: Option<(i64, i64)> = c
        .prepare_cached("SELECT licensing, remote_logon FROM user_settings WHERE user_id = ?1")?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map_or((true, true), |(l, r)| (l != 0, r != 0)))
}

fn save_settings(c: &dyn Tx, user: i64, licensing: bool, remote_logon: bool) -> Result<()> {
    c.execute(
        "INSERT INTO user_settings (user_id, licensing, remote_logon) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id) DO UPDATE SET licensing = excluded.licensing, remote_logon = excluded.remote_logon",
        params![user, i64::from(licensing), i64::from(remote_logon)],
    )?;
    Ok(())
}

fn kept(c: &dyn Tx, user: i64) -> Result<BTreeMap<String, bool>> {
    let mut st =
        c.prepare_cached("SELECT key, explicit FROM user_kept_grants WHERE user_id = ?1")?;
    let rows = st.query_map([user], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)? != 0)))?;
    Ok(rows.collect::<store::Result<_>>()?)
}

/// Refuse allocating to a user whose licensing is off (its settings are ignored until on).
pub(crate) fn require_licensing(c: &dyn Tx, user: i64, holder: &str, key: &str) -> Result<()> {
    if settings(c, user)?.0 {
        return Ok(());
    }
    Err(rule(
        RuleKind::Licensing,
        holder,
        key,
        "the user's licensing is off (Enable Licenses): its license settings are kept but ignored; turn it on first (licadmin user edit NAME --licensing on)".into(),
    ))
}

/// Refuse a dynamic remote logon to a user denied the right.
pub(crate) fn require_remote_right(c: &dyn Tx, user: i64, who: &str) -> Result<()> {
    if settings(c, user)?.1 {
        return Ok(());
    }
    Err(rule(
        RuleKind::Right,
        who,
        BASIC_STATION,
        "the user is denied the right \"User-defined Telephone Number on Remote Login\", which a dynamic remote logon needs (licadmin user edit NAME --remote-logon allow)".into(),
    ))
}

/// The warning for a station with its licensing on and no Basic Station license.
pub(crate) fn station_warnings_in(c: &dyn Tx, name: &str) -> Result<Vec<String>> {
    let s = station_row(c, name)?;
    if !s.enabled || grants(c, HolderId::Station(s.id))?.contains_key(BASIC_STATION) {
        return Ok(Vec::new());
    }
    Ok(vec![format!(
        "station '{}' has no Basic Station license ({BASIC_STATION}): all active stations require a Basic Station license; without one the station has no dial tone or audio, and no one can log on at it (licadmin allocate --station '{}' {BASIC_STATION})",
        s.name, s.name
    )])
}

fn check_names(keys: &[&str]) -> Result<()> {
    keys.iter().try_for_each(|k| validate_key(k))
}

impl Allocator {
    /// Remove an organization (its limits go with it). Refused
    /// ([`AllocError::OrganizationInUse`], exit 21) while users belong to it, naming them.
    pub fn remove_organization(&self, name: &str) -> Result<()> {
        validate_name("organization name", name)?;
        self.tx(|c, _| {
            let id = org_id(c, name)?;
            let count: i64 =
                c.query_row("SELECT COUNT(*) FROM users WHERE org_id = ?1", [id], |r| {
                    r.get(0)
                })?;
            if count > 0 {
                let mut st =
                    c.prepare_cached("SELECT name FROM users WHERE org_id = ?1 ORDER BY name")?;
                let users = st
                    .query_map([id], |r| r.get::<String>(0))?
                    .take(NAMED_USERS)
                    .collect::<store::Result<Vec<_>>>()?;
                return Err(AllocError::OrganizationInUse {
                    org: name.into(),
                    count: usize::try_from(count).unwrap_or(usize::MAX),
                    users,
                });
            }
            c.execute("DELETE FROM org_limits WHERE org_id = ?1", [id])?;
            c.execute("DELETE FROM orgs WHERE id = ?1", [id])?;
            Ok(())
        })
    }

    /// Add a user and allocate it `keys`, in one transaction: a refused key leaves no user.
    /// Returns the keys now held (implied ones included), sorted.
    pub fn add_user_with(
        &self,
        name: &str,
        method: Method,
        org: Option<&str>,
        keys: &[&str],
    ) -> Result<Vec<String>> {
        validate_name("user name", name)?;
        if let Some(o) = org {
            validate_name("organization name", o)?;
        }
        check_names(keys)?;
        self.tx(|c, now| {
            add_user_in(c, now, name, method, org)?;
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            self.allocate_in(c, now, Target::User(name), keys)
        })
    }

    /// Add a station and allocate it `keys`, in one transaction: a refused key leaves no
    /// station. Warns when the station has no Basic Station license.
    pub fn add_station_with(
        &self,
        name: &str,
        kind: StationKind,
        keys: &[&str],
    ) -> Result<StationAdded> {
        validate_name("station name", name)?;
        check_names(keys)?;
        self.tx(|c, now| {
            add_station_in(c, now, name, kind)?;
            let allocated = if keys.is_empty() {
                Vec::new()
            } else {
                self.allocate_in(c, now, Target::Station(name), keys)?
            };
            Ok(StationAdded {
                allocated,
                warnings: station_warnings_in(c, name)?,
            })
        })
    }

    /// What an administrator configuring the station should know: a station with its
    /// licensing on and no Basic Station license (seed: "All active stations require a Basic
    /// Station license").
    pub fn station_warnings(&self, name: &str) -> Result<Vec<String>> {
        validate_name("station name", name)?;
        self.read(|c, _| station_warnings_in(c, name))
    }

    /// Change a user's method, licensing or remote logon right, in one transaction.
    ///
    /// A method change is refused (rule `method`, exit 22), naming the licenses, while the
    /// user holds licenses (kept ones too): a user's licenses are all of its method.
    /// Licensing off ends the user's session and releases its licenses, keeping them as
    /// settings (as a station's licensing off does); on restores those still available and
    /// allowed by the loaded file's rules, and says which it could not restore.
    pub fn edit_user(&self, name: &str, edit: &UserEdit) -> Result<UserEdited> {
        validate_name("user name", name)?;
        self.tx(|c, now| {
            let u = user_row(c, name)?;
            let holder = format!("user '{}'", u.name);
            let (mut licensing, mut remote_logon) = settings(c, u.id)?;
            let mut method = u.method;
            if let Some(m) = edit.method.filter(|m| *m != u.method) {
                let mut held: BTreeSet<String> =
                    grants(c, HolderId::User(u.id))?.into_keys().collect();
                held.extend(kept(c, u.id)?.into_keys());
                if let Some(first) = held.iter().next() {
                    return Err(rule(
                        RuleKind::Method,
                        &holder,
                        first,
                        format!(
                            "the user holds {} as {}; a user's licenses are all of its method: deallocate them before changing it to {m}",
                            held.iter().cloned().collect::<Vec<_>>().join(", "),
                            u.method
                        ),
                    ));
                }
                c.execute(
                    "UPDATE users SET method = ?1 WHERE id = ?2",
                    params![m.as_str(), u.id],
                )?;
                method = m;
            }
            let mut out = UserEdited {
                name: u.name.clone(),
                method,
                licensing,
                remote_logon,
                released: Vec::new(),
                restored: Vec::new(),
                not_restored: Vec::new(),
                ended_session: None,
            };
            match edit.licensing {
                Some(false) if licensing => {
                    out.ended_session = c
                        .query_row("SELECT id FROM sessions WHERE user_id = ?1", [u.id], |r| {
                            r.get(0)
                        })
                        .optional()?;
                    record_end(
                        c,
                        "user_id = ?1",
                        store::Value::Integer(u.id),
                        "licensing-disabled",
                        now,
                    )?;
                    c.execute("DELETE FROM sessions WHERE user_id = ?1", [u.id])?;
                    c.execute(
                        "INSERT INTO user_kept_grants (user_id, key, explicit) SELECT user_id, key, explicit FROM user_grants WHERE user_id = ?1",
                        [u.id],
                    )?;
                    c.execute("DELETE FROM user_grants WHERE user_id = ?1", [u.id])?;
                    out.released = kept(c, u.id)?.into_keys().collect();
                    licensing = false;
                }
                Some(true) if !licensing => {
                    self.restore(c, now, &u, method, &holder, &mut out)?;
                    licensing = true;
                }
                _ => {}
            }
            if let Some(r) = edit.remote_logon {
                remote_logon = r;
            }
            save_settings(c, u.id, licensing, remote_logon)?;
            out.licensing = licensing;
            out.remote_logon = remote_logon;
            Ok(out)
        })
    }

    /// Give a user back its kept licenses: each key still allowed to the user by the loaded
    /// file's holder and method rules and still available, then, of those, the ones whose
    /// implied and required keys are restored too (a set the rules allow).
    fn restore(
        &self,
        c: &dyn Tx,
        now: i64,
        u: &crate::allocator::UserRow,
        method: Method,
        holder: &str,
        out: &mut UserEdited,
    ) -> Result<()> {
        let kept = kept(c, u.id)?;
        c.execute("DELETE FROM user_kept_grants WHERE user_id = ?1", [u.id])?;
        if kept.is_empty() {
            return Ok(());
        }
        let l = self.license_in(c)?;
        let rules = self.rules_of(&l);
        let mut why: BTreeMap<String, String> = BTreeMap::new();
        let mut set: BTreeSet<String> = BTreeSet::new();
        for k in kept.keys() {
            let available = check_holder_method(&rules, holder, HolderId::User(u.id), method, k)
                .and_then(|()| match method {
                    Method::Assignable => {
                        check_take(c, &l, now, k, Pool::Assignable, u.org.as_ref())
                    }
                    Method::Concurrent => crate::granted::check_concurrent(&l, k),
                });
            match available {
                Ok(()) => {
                    set.insert(k.clone());
                }
                Err(e) => {
                    why.insert(k.clone(), e.to_string());
                }
            }
        }
        // Drop what the rules no longer allow without what was dropped, until nothing
        // changes (each round drops at least one key).
        loop {
            let mut drop: Option<(String, String)> = None;
            for k in &set {
                if let Some(y) = rules.implies(k).iter().find(|y| !set.contains(*y)) {
                    drop = Some((
                        k.clone(),
                        format!("it comes with {y}, which was not restored"),
                    ));
                } else if let Some(any_of) = rules
                    .requires(k)
                    .iter()
                    .find(|any| !any.iter().any(|y| set.contains(y)))
                {
                    drop = Some((
                        k.clone(),
                        format!("it requires one of {}, none restored", any_of.join(", ")),
                    ));
                } else if let Some(other) = rules.excluded_in(k, &set) {
                    drop = Some((k.clone(), format!("it excludes {other}, which is restored")));
                }
                if drop.is_some() {
                    break;
                }
            }
            match drop {
                Some((k, reason)) => {
                    set.remove(&k);
                    why.insert(k, reason);
                }
                None => break,
            }
        }
        let consumes = i64::from(method == Method::Assignable);
        for k in &set {
            let explicit = kept.get(k).copied().unwrap_or(true);
            c.execute(
                "INSERT INTO user_grants (user_id, key, explicit, consumes) VALUES (?1, ?2, ?3, ?4)",
                params![u.id, k, i64::from(explicit), consumes],
            )?;
        }
        out.restored = set.into_iter().collect();
        out.not_restored = why
            .into_iter()
            .map(|(key, reason)| NotRestored { key, reason })
            .collect();
        Ok(())
    }
}
