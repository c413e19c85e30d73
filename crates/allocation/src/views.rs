//! What an administrator sees: the loaded license (Interaction Administrator's View License
//! Information and View Feature Information), the stations, the live sessions, the
//! organizations with their limits, the report with its header, and what a load changed.
//! Read-only views over the store; `licadmin` and `licadmin serve` render them.

use std::collections::{BTreeMap, BTreeSet};

use format::{Activation, OrderedItem, Restriction, Timestamp, UnverifiedFile};
use serde::Serialize;
use store::{OptionalExt, Tx, TxExt};
use verify::{HostRole, License, Warning};

use crate::error::AllocError;
use crate::key_names::key_description;
use crate::model::{
    validate_key, KeyReport, LoadReport, StationKind, BASIC_STATION, ORGANIZATION_KEY,
};
use crate::Allocator;

type Result<T> = std::result::Result<T, AllocError>;

/// One of the file's hosts (`licadmin license`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostView {
    /// `primary` or `switchover`.
    pub role: HostRole,
    /// The host-ID code.
    pub host_id: String,
    /// The machine name.
    pub machine: String,
    /// Whether this server is that host (the verifier's host: `--host-id`, else this machine).
    pub this_server: bool,
}

/// A restriction of the license type, with what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestrictionView {
    /// `not-for-production`, `hourly-disconnect`.
    pub kind: Restriction,
    /// In words.
    pub description: &'static str,
}

/// One license key of the file with its counts and its name in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseKeyView {
    /// The key (`I3_ACCESS_CLIENT`).
    pub name: String,
    /// In words (`Client Access`), when the catalogs know the key.
    pub description: Option<&'static str>,
    /// Assignable licenses (Interaction Administrator's "Assignable Allowed").
    pub assigned: u32,
    /// Pooled licenses: concurrent ("Concurrent Allowed"), or for Basic Station the pool of
    /// dynamic remote stations.
    pub pooled: u32,
    /// Whether `pooled` is the dynamic remote station pool (Basic Station).
    pub dynamic_remote_pool: bool,
}

impl LicenseKeyView {
    fn new(name: &str, assigned: u32, pooled: u32) -> LicenseKeyView {
        LicenseKeyView {
            name: name.to_string(),
            description: key_description(name),
            assigned,
            pooled,
            dynamic_remote_pool: name == BASIC_STATION,
        }
    }
}

/// The loaded license (`licadmin license`, `GET /v1/license`): View License Information and
/// View Feature Information in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseView {
    /// The file id.
    pub file_id: String,
    /// The license type (`production`, `development-small` ...).
    #[serde(rename = "type")]
    pub license_type: &'static str,
    /// The license type in words (`Development (small)`).
    pub type_label: &'static str,
    /// The product (`CIC`).
    pub product: String,
    /// The product version (`4.0`).
    pub version: String,
    /// The customer account the file was sold to.
    pub sold_to: String,
    /// The install site.
    pub install_site: String,
    /// Who generated the file.
    pub generated_by: String,
    /// When the file was issued.
    pub issued_at: Timestamp,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// Expiry; `None` when perpetual.
    pub expires_at: Option<Timestamp>,
    /// Whether the license never expires.
    pub perpetual: bool,
    /// Whole days until expiry (negative in grace); `None` when perpetual.
    pub days_left: Option<i64>,
    /// The signed grace period in days (0: none).
    pub grace_days: u32,
    /// The end of the grace period; `None` when perpetual.
    pub grace_ends: Option<Timestamp>,
    /// Whether the file expired and runs on its grace period.
    pub in_grace: bool,
    /// The first file of its update chain.
    pub lineage: String,
    /// Its place in the chain (1, 2 ...); `None` for a version-1 file.
    pub generation: Option<u32>,
    /// The file it supersedes, if any.
    pub supersedes: Option<String>,
    /// The hosts: the primary, and the switchover partner of a pair.
    pub hosts: Vec<HostView>,
    /// Which host this server is.
    pub this_server: HostRole,
    /// The restrictions of the license type (not for production, hourly disconnect).
    pub restrictions: Vec<RestrictionView>,
    /// The enabled features (`I3_FEATURE_*`).
    pub features: Vec<String>,
    /// Every license key with its counts, in the file's order.
    pub licenses: Vec<LicenseKeyView>,
    /// The ordered items the file uses.
    pub ordered_items: Vec<OrderedItem>,
    /// The system type, mail connector, bundle and description the file states (empty
    /// when it states none).
    pub system_type: String,
    /// The mail connector.
    pub mail_connector: String,
    /// The bundle.
    pub bundle: String,
    /// The file's description.
    pub description: String,
    /// What the administrator should be told (grace period, expiring soon, demo key).
    pub warnings: Vec<Warning>,
}

impl LicenseView {
    /// The view of a verified license.
    pub fn of(l: &License) -> LicenseView {
        let a = l.activation();
        let this = l.role();
        LicenseView {
            file_id: l.file_id().to_string(),
            license_type: l.license_type().as_str(),
            type_label: l.license_type().label(),
            product: l.product().to_string(),
            version: l.product_version().to_string(),
            sold_to: l.sold_to().to_string(),
            install_site: l.install_site().to_string(),
            generated_by: a.generated_by.clone(),
            issued_at: l.issued_at(),
            valid_from: l.valid_from(),
            expires_at: (!l.is_perpetual()).then(|| l.expires_at()),
            perpetual: l.is_perpetual(),
            days_left: l.days_left(),
            grace_days: l.grace_days(),
            grace_ends: (!l.is_perpetual()).then(|| l.grace_ends()),
            in_grace: l.in_grace(),
            lineage: l.lineage().to_string(),
            generation: l.generation(),
            supersedes: l.supersedes().map(|s| s.to_string()),
            hosts: l
                .hosts()
                .into_iter()
                .map(|(role, h)| HostView {
                    role,
                    host_id: h.host_id.to_string(),
                    machine: h.machine.clone(),
                    this_server: role == this,
                })
                .collect(),
            this_server: this,
            restrictions: l
                .restrictions()
                .iter()
                .map(|r| RestrictionView {
                    kind: *r,
                    description: r.describe(),
                })
                .collect(),
            features: l.features().to_vec(),
            licenses: l
                .licenses()
                .iter()
                .map(|k| LicenseKeyView::new(&k.name, k.assigned, k.pooled))
                .collect(),
            ordered_items: l.ordered_items().to_vec(),
            system_type: a.system_type.clone(),
            mail_connector: a.mail_connector.clone(),
            bundle: a.bundle.clone(),
            description: a.description.clone(),
            warnings: l.warnings().to_vec(),
        }
    }
}

/// One key of the report, with its name in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyView {
    /// The counts (the fields of `report --json` before these views, unchanged).
    #[serde(flatten)]
    pub counts: KeyReport,
    /// In words (`Client Access`), when the catalogs know the key.
    pub description: Option<&'static str>,
    /// Whether the concurrent counts are the dynamic remote station pool (Basic Station).
    pub dynamic_remote_pool: bool,
}

/// The report with its header (`licadmin report`, `GET /v1/report`): the fields of
/// [`crate::Report`] and the loaded file's type and expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportView {
    /// The loaded file's id.
    pub file_id: String,
    /// The license type (`production` ...).
    pub license_type: &'static str,
    /// The license type in words.
    pub type_label: &'static str,
    /// Expiry; `None` when perpetual.
    pub expires_at: Option<Timestamp>,
    /// Whether the license never expires.
    pub perpetual: bool,
    /// Whole days until expiry; `None` when perpetual.
    pub days_left: Option<i64>,
    /// Every key the file grants (held or not) and every key held that it lacks, by name.
    pub keys: Vec<KeyView>,
    /// Organizations that exist.
    pub organizations: u32,
    /// The organization count licensed.
    pub organizations_allowed: u32,
}

/// Who is logged on at a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StationLogon {
    /// The user.
    pub user: String,
    /// The session id.
    pub session: String,
}

/// A station as `station list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StationEntry {
    /// The station's name.
    pub name: String,
    /// Its kind.
    pub kind: StationKind,
    /// Whether its licensing is on (Interaction Administrator's "Enable Licenses"); off, its
    /// licenses are kept but not counted.
    pub licensing: bool,
    /// The keys allocated to it, sorted.
    pub licenses: Vec<String>,
    /// The user logged on there, if any.
    pub logged_on: Option<StationLogon>,
}

/// A live session as `session list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionEntry {
    /// The session id.
    pub session: String,
    /// The user.
    pub user: String,
    /// The configured station, if the logon is at one.
    pub station: Option<String>,
    /// The dynamic remote phone number, if the logon is a dynamic remote one.
    pub remote_number: Option<String>,
    /// The lease in seconds.
    pub lease_seconds: u32,
    /// When the lease lapses unless renewed.
    pub lease_expires_at: Timestamp,
    /// Every license the session holds: what it acquired from the pools, the station's
    /// licenses (held exclusively while logged on there) and an assignable user's own.
    pub licenses: Vec<String>,
    /// What it acquired from the pools (concurrent keys, a dynamic remote Basic Station).
    pub acquired: Vec<String>,
}

/// One key of an organization: its limits and what its users use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgKey {
    /// The key.
    pub key: String,
    /// In words, when the catalogs know the key.
    pub description: Option<&'static str>,
    /// Reserved for the organization (0: none).
    pub min: u32,
    /// The cap; `None`: none.
    pub max: Option<u32>,
    /// What its users use: assignable allocations plus licenses held by live sessions.
    pub used: u32,
}

/// An organization as `org list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgEntry {
    /// The organization's name.
    pub name: String,
    /// How many users belong to it.
    pub users: u32,
    /// Every key with a limit or in use, by key.
    pub keys: Vec<OrgKey>,
}

/// `org list`: the organizations and how many the license allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgList {
    /// By name.
    pub organizations: Vec<OrgEntry>,
    /// How many the loaded file allows ([`ORGANIZATION_KEY`]); `None` when none is loaded.
    pub organizations_allowed: Option<u32>,
}

/// How one key's counts changed from the file replaced to the file loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// The key.
    pub key: String,
    /// In words, when the catalogs know the key.
    pub description: Option<&'static str>,
    /// Assigned before (0 when the key was not granted).
    pub assigned_before: u32,
    /// Assigned now (0 when the key is no longer granted).
    pub assigned_after: u32,
    /// Pooled before.
    pub pooled_before: u32,
    /// Pooled now.
    pub pooled_after: u32,
}

/// What changed against the file replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LicenseChanges {
    /// The file compared against.
    pub previous_file_id: String,
    /// Keys the new file grants that the old one did not.
    pub added: Vec<KeyChange>,
    /// Keys the old file granted that the new one does not.
    pub removed: Vec<KeyChange>,
    /// Keys of both whose counts changed (up or down).
    pub changed: Vec<KeyChange>,
    /// Features enabled now that were not.
    pub features_added: Vec<String>,
    /// Features no longer enabled.
    pub features_removed: Vec<String>,
}

impl LicenseChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.features_added.is_empty()
            && self.features_removed.is_empty()
    }
}

/// Something a load should tell the administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadWarning {
    /// `other-account` (another customer than the file replaced) or `other-site`.
    pub kind: &'static str,
    /// In words.
    pub message: String,
}

/// What [`Allocator::load_showing_changes`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadView {
    /// The load's report (the fields of `load --json` before these views, unchanged).
    #[serde(flatten)]
    pub report: LoadReport,
    /// What changed against the file replaced; `None` for a first load, or when another
    /// load came in between and the file replaced could not be compared.
    pub changes: Option<LicenseChanges>,
    /// Another account or site than the file replaced.
    pub warnings: Vec<LoadWarning>,
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The stored file as signed (it was verified when loaded), without verifying it again: what
/// a load compares against, whatever this command's trust, host or clock.
fn stored_activation(c: &dyn Tx) -> Result<Option<Activation>> {
    let bytes: Option<Vec<u8>> = c
        .query_row("SELECT bytes FROM license WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    bytes
        .map(|b| {
            UnverifiedFile::parse(&b)
                .and_then(|u| u.claims_unverified())
                .map_err(|e| AllocError::Internal(format!("the stored file: {e}")))
        })
        .transpose()
}

/// The keys and features of `new` against `old`.
pub(crate) fn changes(old: &Activation, new: &Activation) -> LicenseChanges {
    let counts = |a: &Activation| -> BTreeMap<String, (u32, u32)> {
        a.licenses
            .iter()
            .map(|k| (k.name.clone(), (k.assigned, k.pooled)))
            .collect()
    };
    let (before, after) = (counts(old), counts(new));
    let change = |key: &str, (ab, pb): (u32, u32), (aa, pa): (u32, u32)| KeyChange {
        key: key.to_string(),
        description: key_description(key),
        assigned_before: ab,
        assigned_after: aa,
        pooled_before: pb,
        pooled_after: pa,
    };
    let mut c = LicenseChanges {
        previous_file_id: old.file_id.to_string(),
        ..LicenseChanges::default()
    };
    for (k, &now) in &after {
        match before.get(k) {
            None => c.added.push(change(k, (0, 0), now)),
            Some(&was) if was != now => c.changed.push(change(k, was, now)),
            Some(_) => {}
        }
    }
    for (k, &was) in &before {
        if !after.contains_key(k) {
            c.removed.push(change(k, was, (0, 0)));
        }
    }
    let (fb, fa): (BTreeSet<&String>, BTreeSet<&String>) =
        (old.features.iter().collect(), new.features.iter().collect());
    c.features_added = fa.difference(&fb).map(|s| (*s).clone()).collect();
    c.features_removed = fb.difference(&fa).map(|s| (*s).clone()).collect();
    c
}

/// A warning when `new` is for another account or site than `old`.
pub(crate) fn account_warnings(old: &Activation, new: &Activation) -> Vec<LoadWarning> {
    let mut w = Vec::new();
    if old.sold_to != new.sold_to {
        w.push(LoadWarning {
            kind: "other-account",
            message: format!(
                "the new file is for account '{}', site '{}'; the file it replaced was for account '{}', site '{}'",
                new.sold_to, new.install_site, old.sold_to, old.install_site
            ),
        });
    } else if old.install_site != new.install_site {
        w.push(LoadWarning {
            kind: "other-site",
            message: format!(
                "the new file is for site '{}' of account '{}'; the file it replaced was for site '{}'",
                new.install_site, new.sold_to, old.install_site
            ),
        });
    }
    w
}

impl Allocator {
    /// The loaded license, verified now, as `licadmin license` shows it.
    pub fn license_view(&self) -> Result<LicenseView> {
        Ok(LicenseView::of(&*self.license()?))
    }

    /// The report ([`Allocator::report`]) with the loaded file's type and expiry, and every
    /// key's name in words.
    pub fn report_view(&self) -> Result<ReportView> {
        // The report and the license are two reads: a load in between is met by reading
        // both again, so the header always describes the file the counts are of.
        let mut attempts = 0;
        let (r, l) = loop {
            let l = self.license()?;
            let r = self.report()?;
            attempts += 1;
            if r.file_id == l.file_id().to_string() || attempts >= 3 {
                break (r, l);
            }
        };
        Ok(ReportView {
            file_id: r.file_id,
            license_type: l.license_type().as_str(),
            type_label: l.license_type().label(),
            expires_at: (!l.is_perpetual()).then(|| l.expires_at()),
            perpetual: l.is_perpetual(),
            days_left: l.days_left(),
            keys: r
                .keys
                .into_iter()
                .map(|k| KeyView {
                    description: key_description(&k.name),
                    dynamic_remote_pool: k.name == BASIC_STATION,
                    counts: k,
                })
                .collect(),
            organizations: r.organizations,
            organizations_allowed: r.organizations_allowed,
        })
    }

    /// The stations, by name: kind, licensing on or off, the keys allocated, who is logged
    /// on. With `license`, only the stations that hold that key.
    pub fn stations(&self, license: Option<&str>) -> Result<Vec<StationEntry>> {
        if let Some(k) = license {
            validate_key(k)?;
        }
        self.read(|c, now| {
            let mut grants: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for row in c
                .prepare_cached("SELECT station_id, key FROM station_grants")?
                .query_map([], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)))?
            {
                let (id, key) = row?;
                grants.entry(id).or_default().push(key);
            }
            let rows = c
                .prepare_cached(
                    "SELECT s.id, s.name, s.kind, s.enabled, u.name, ss.id FROM stations s
                     LEFT JOIN sessions ss ON ss.station_id = s.id AND ss.expires_at > ?1
                     LEFT JOIN users u ON u.id = ss.user_id",
                )?
                .query_map([now], |r| {
                    Ok((
                        r.get::<i64>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<i64>(3)? != 0,
                        r.get::<Option<String>>(4)?,
                        r.get::<Option<String>>(5)?,
                    ))
                })?
                .collect::<store::Result<Vec<_>>>()?;
            let mut out = Vec::new();
            for (id, name, kind, enabled, user, session) in rows {
                let mut licenses = grants.remove(&id).unwrap_or_default();
                licenses.sort();
                if license.is_some_and(|k| !licenses.iter().any(|l| l == k)) {
                    continue;
                }
                out.push(StationEntry {
                    name,
                    kind: StationKind::parse(&kind).unwrap_or(StationKind::Workstation),
                    licensing: enabled,
                    licenses,
                    logged_on: user
                        .zip(session)
                        .map(|(user, session)| StationLogon { user, session }),
                });
            }
            // Sorted here: the engines' collations differ.
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
    }

    /// The live sessions, by user: where, until when, and every license each holds.
    pub fn session_list(&self) -> Result<Vec<SessionEntry>> {
        self.read(|c, now| {
            let rows = c
                .prepare_cached(
                    "SELECT s.id, u.name, u.id, u.method, st.name, st.id, st.enabled, s.remote_number, s.lease, s.expires_at
                     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN stations st ON st.id = s.station_id
                     WHERE s.expires_at > ?1",
                )?
                .query_map([now], |r| {
                    Ok((
                        (r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<String>(3)?),
                        (r.get::<Option<String>>(4)?, r.get::<Option<i64>>(5)?, r.get::<Option<i64>>(6)?),
                        (r.get::<Option<String>>(7)?, r.get::<i64>(8)?, r.get::<i64>(9)?),
                    ))
                })?
                .collect::<store::Result<Vec<_>>>()?;
            let mut out = Vec::new();
            for ((id, user, user_id, method), (station, station_id, enabled), (remote, lease, expires)) in rows {
                let acquired: Vec<String> = c
                    .prepare_cached("SELECT key FROM session_licenses WHERE session_id = ?1")?
                    .query_map([&id], |r| r.get(0))?
                    .collect::<store::Result<_>>()?;
                let mut held: BTreeSet<String> = acquired.iter().cloned().collect();
                if let (Some(sid), Some(1)) = (station_id, enabled) {
                    for k in c
                        .prepare_cached("SELECT key FROM station_grants WHERE station_id = ?1")?
                        .query_map([sid], |r| r.get::<String>(0))?
                    {
                        held.insert(k?);
                    }
                }
                if method == "assignable" {
                    for k in c
                        .prepare_cached("SELECT key FROM user_grants WHERE user_id = ?1")?
                        .query_map([user_id], |r| r.get::<String>(0))?
                    {
                        held.insert(k?);
                    }
                }
                let mut acquired = acquired;
                acquired.sort();
                out.push(SessionEntry {
                    session: id,
                    user,
                    station,
                    remote_number: remote,
                    lease_seconds: u32_of(lease),
                    lease_expires_at: Timestamp::from_unix(expires).unwrap_or(Timestamp::LATEST),
                    licenses: held.into_iter().collect(),
                    acquired,
                });
            }
            out.sort_by(|a, b| a.user.cmp(&b.user));
            Ok(out)
        })
    }

    /// The organizations, by name: users, and per key the minimum, maximum and what its
    /// users use (as the organization rules count it). An organization without limits or
    /// use has no keys.
    pub fn organizations(&self) -> Result<OrgList> {
        let allowed = match self.license() {
            Ok(l) => Some(
                l.assigned(ORGANIZATION_KEY)
                    .saturating_add(l.pooled(ORGANIZATION_KEY)),
            ),
            Err(AllocError::NoLicenseLoaded) => None,
            Err(e) => return Err(e),
        };
        self.read(|c, now| {
            let orgs = c
                .prepare_cached(
                    "SELECT o.id, o.name, (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id) FROM orgs o",
                )?
                .query_map([], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)))?
                .collect::<store::Result<Vec<_>>>()?;
            // (org, key) -> (min, max, used)
            let mut keys: BTreeMap<(i64, String), (u32, Option<u32>, u32)> = BTreeMap::new();
            for row in c
                .prepare_cached("SELECT org_id, key, min, max FROM org_limits")?
                .query_map([], |r| {
                    Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<Option<i64>>(3)?))
                })?
            {
                let (o, k, min, max) = row?;
                keys.insert((o, k), (u32_of(min), max.map(u32_of), 0));
            }
            // The same count the organization rules use: an assignable user's allocations,
            // and what live sessions of its users hold.
            let mut add = |rows: Vec<(i64, String, i64)>| {
                for (o, k, n) in rows {
                    let e = keys.entry((o, k)).or_insert((0, None, 0));
                    e.2 = e.2.saturating_add(u32_of(n));
                }
            };
            let row = |r: &store::Row| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?));
            add(c
                .prepare_cached(
                    "SELECT u.org_id, g.key, COUNT(*) FROM user_grants g JOIN users u ON u.id = g.user_id
                     WHERE u.org_id IS NOT NULL AND u.method = 'assignable' GROUP BY u.org_id, g.key",
                )?
                .query_map([], row)?
                .collect::<store::Result<_>>()?);
            add(c
                .prepare_cached(
                    "SELECT u.org_id, l.key, COUNT(*) FROM session_licenses l JOIN sessions s ON s.id = l.session_id
                     JOIN users u ON u.id = s.user_id WHERE u.org_id IS NOT NULL AND s.expires_at > ?1 GROUP BY u.org_id, l.key",
                )?
                .query_map([now], row)?
                .collect::<store::Result<_>>()?);
            let mut out: Vec<OrgEntry> = orgs
                .into_iter()
                .map(|(id, name, users)| OrgEntry {
                    name,
                    users: u32_of(users),
                    keys: keys
                        .range((id, String::new())..)
                        .take_while(|((o, _), _)| *o == id)
                        .map(|((_, k), (min, max, used))| OrgKey {
                            key: k.clone(),
                            description: key_description(k),
                            min: *min,
                            max: *max,
                            used: *used,
                        })
                        .collect(),
                })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(OrgList {
                organizations: out,
                organizations_allowed: allowed,
            })
        })
    }

    /// [`Allocator::load`], saying what changed against the file it replaced (keys added and
    /// removed, counts up and down, features) and warning when the new file is for another
    /// account or site.
    pub fn load_showing_changes(&self, bytes: &[u8]) -> Result<LoadView> {
        let before = self.read(|c, _| stored_activation(c))?;
        let report = self.load(bytes)?;
        self.describe_load(before, report)
    }

    /// [`Allocator::load_showing_changes`] of a file on disk.
    pub fn load_file_showing_changes(&self, path: impl AsRef<std::path::Path>) -> Result<LoadView> {
        let before = self.read(|c, _| stored_activation(c))?;
        let report = self.load_file(path)?;
        self.describe_load(before, report)
    }

    fn describe_load(&self, before: Option<Activation>, report: LoadReport) -> Result<LoadView> {
        let after = self.read(|c, _| stored_activation(c))?;
        let (Some(old), Some(new)) = (before, after) else {
            return Ok(LoadView {
                report,
                changes: None,
                warnings: Vec::new(),
            });
        };
        // Compared only when `old` is the file this load replaced (or the same file again)
        // and `new` the file it loaded: another load in between would mix two changes.
        let old_id = old.file_id.to_string();
        let replaced_old = report.replaced.as_deref().unwrap_or(&report.file_id) == old_id;
        if !replaced_old || new.file_id.to_string() != report.file_id {
            return Ok(LoadView {
                report,
                changes: None,
                warnings: Vec::new(),
            });
        }
        Ok(LoadView {
            changes: Some(changes(&old, &new)),
            warnings: account_warnings(&old, &new),
            report,
        })
    }
}
