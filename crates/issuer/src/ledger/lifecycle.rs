//! What vendor staff do with a file once it is issued: update it (a new file supersedes it),
//! deactivate it, list activity, show one file, and upgrade ordered items to a new version.

use std::path::Path;

use format::{Activation, Chain, FileId, Host, LicenseCount, LicenseType, OrderedItem, Timestamp};
use store::{params, OptionalExt, Tx, TxExt};

use super::{to_u64, Issued, Ledger};
use crate::catalog::{Catalog, PartKind};
use crate::error::IssuerError;
use crate::fsio::OutFile;
use crate::rules::{self, IssueRequest, PartQuantity, Term};

use super::policy::{self, file_id};

/// The columns of an activity row, in the order `activity_rows` reads them.
const ACTIVITY_COLUMNS: &str =
    "f.id, f.generated_at, f.expires_at, f.active, s.name, f.generated_by,
                    f.primary_machine, f.switchover_machine, f.product, f.version, f.license_type,
                    a.name, (SELECT p.id FROM files p WHERE p.seq = f.supersedes),
                    (SELECT n.id FROM files n WHERE n.supersedes = f.seq), f.deactivated_at";

fn ts(v: i64) -> Timestamp {
    Timestamp::from_unix(v).unwrap_or(Timestamp::PERPETUAL)
}

/// One row of `files` with its account, site and neighbours, as stored.
#[derive(Debug, Clone)]
pub(crate) struct FileRow {
    pub seq: i64,
    pub id: String,
    pub account_id: i64,
    pub account: String,
    pub site: String,
    pub license_type: String,
    pub product: String,
    pub version: String,
    pub server_part: String,
    pub primary_host: String,
    pub primary_machine: String,
    pub switchover_host: Option<String>,
    pub switchover_machine: Option<String>,
    pub system_type: String,
    pub mail_connector: String,
    pub generated_by: String,
    pub partner: bool,
    pub generated_at: i64,
    pub expires_at: i64,
    pub active: bool,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub related: Option<String>,
    pub deactivated_at: Option<i64>,
    pub deactivated_by: Option<String>,
    pub key_id: String,
    pub sha256: String,
    pub activation: Option<String>,
}

impl FileRow {
    pub(crate) fn load(conn: &dyn Tx, id: &str) -> Result<FileRow, IssuerError> {
        let fid = file_id(id)?.to_string();
        conn.query_row(
            "SELECT f.seq, f.id, f.account_id, a.name, s.name, f.license_type, f.product, f.version,
                    f.server_part, f.primary_host, f.primary_machine, f.switchover_host,
                    f.switchover_machine, f.system_type, f.mail_connector, f.generated_by, f.partner,
                    f.generated_at, f.expires_at, f.active,
                    (SELECT p.id FROM files p WHERE p.seq = f.supersedes),
                    (SELECT n.id FROM files n WHERE n.supersedes = f.seq),
                    (SELECT r.id FROM files r WHERE r.seq = f.related_production),
                    f.deactivated_at, f.deactivated_by, f.key_id, f.sha256, f.activation
             FROM files f JOIN accounts a ON a.id = f.account_id JOIN sites s ON s.id = f.site_id
             WHERE f.id = ?1",
            [&fid],
            |r| {
                Ok(FileRow {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    account_id: r.get(2)?,
                    account: r.get(3)?,
                    site: r.get(4)?,
                    license_type: r.get(5)?,
                    product: r.get(6)?,
                    version: r.get(7)?,
                    server_part: r.get(8)?,
                    primary_host: r.get(9)?,
                    primary_machine: r.get(10)?,
                    switchover_host: r.get(11)?,
                    switchover_machine: r.get(12)?,
                    system_type: r.get(13)?,
                    mail_connector: r.get(14)?,
                    generated_by: r.get(15)?,
                    partner: r.get(16)?,
                    generated_at: r.get(17)?,
                    expires_at: r.get(18)?,
                    active: r.get(19)?,
                    supersedes: r.get(20)?,
                    superseded_by: r.get(21)?,
                    related: r.get(22)?,
                    deactivated_at: r.get(23)?,
                    deactivated_by: r.get(24)?,
                    key_id: r.get(25)?,
                    sha256: r.get(26)?,
                    activation: r.get(27)?,
                })
            },
        )
        .optional()?
        .ok_or(IssuerError::UnknownFile { id: fid })
    }

    /// Refuse a file that is no longer active, saying how it stopped being so.
    pub(crate) fn require_active(&self, conn: &dyn Tx) -> Result<(), IssuerError> {
        if self.active {
            return Ok(());
        }
        let when = self
            .deactivated_at
            .map(|t| format!(" on {}", ts(t)))
            .unwrap_or_default();
        let reason = match &self.superseded_by {
            Some(n) => format!("it was superseded by {n}{when}; update or deactivate that file"),
            None => format!(
                "it was deactivated{when} by {}; {}",
                self.deactivated_by.as_deref().unwrap_or("unknown"),
                Ledger::units_state(conn, self.seq)?
            ),
        };
        Err(IssuerError::NotActive {
            id: self.id.clone(),
            reason,
        })
    }

    /// A short description for audit rows.
    pub(crate) fn audit_json(&self, active: bool) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "active": active,
            "type": self.license_type,
            "account": self.account,
            "site": self.site,
            "product": format!("{} {}", self.product, self.version),
            "machine": self.primary_machine,
            "switchover_machine": self.switchover_machine,
            "sha256": self.sha256,
        })
    }

    fn license_type(&self) -> Result<LicenseType, IssuerError> {
        self.license_type.parse().map_err(IssuerError::from)
    }

    /// The signed payload: as recorded (schema 2), or rebuilt from the row, its usage and
    /// licenses and the catalog for files recorded by schema 1.
    fn payload(&self, conn: &dyn Tx, catalog: &Catalog) -> Result<Activation, IssuerError> {
        if let Some(j) = &self.activation {
            return serde_json::from_str(j).map_err(|e| IssuerError::LedgerFormat {
                path: Default::default(),
                reason: format!("file {}: recorded payload does not parse: {e}", self.id),
            });
        }
        let t = self.license_type()?;
        let rule = rules::rule(t);
        let host = |code: &str, machine: &str| -> Result<Host, IssuerError> {
            Ok(Host {
                host_id: code.parse().map_err(|source| IssuerError::HostId {
                    flag: "ledger",
                    source,
                })?,
                machine: machine.to_string(),
                install_key: None,
            })
        };
        let switchover_host = match (&self.switchover_host, &self.switchover_machine) {
            (Some(c), Some(m)) => Some(host(c, m)?),
            _ => None,
        };
        let mut st = conn.prepare_cached(
            "SELECT name, assigned, pooled FROM file_licenses WHERE file_seq = ?1 ORDER BY name",
        )?;
        let licenses = st
            .query_map([self.seq], |r| {
                Ok(LicenseCount {
                    name: r.get(0)?,
                    assigned: r.get(1)?,
                    pooled: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let ordered_items = Ledger::usage_by_part(conn, self.seq)?
            .into_iter()
            .map(|(part, quantity)| OrderedItem {
                description: catalog
                    .part(&part)
                    .map(|p| p.description.clone())
                    .unwrap_or_default(),
                part,
                quantity,
            })
            .collect();
        let category = format!("{} {}", self.product, self.version);
        Ok(Activation {
            file_id: file_id(&self.id)?,
            supersedes: self.supersedes.as_deref().map(file_id).transpose()?,
            // Schema-1 ledgers recorded only version-1 files, which have no chain.
            chain: None,
            product: self.product.clone(),
            product_version: self.version.clone(),
            license_type: t,
            issued_at: ts(self.generated_at),
            valid_from: ts(self.generated_at),
            expires_at: ts(self.expires_at),
            grace_days: rule.grace_days,
            generated_by: self.generated_by.clone(),
            sold_to: self.account.clone(),
            install_site: self.site.clone(),
            primary_host: host(&self.primary_host, &self.primary_machine)?,
            switchover_host,
            system_type: self.system_type.clone(),
            mail_connector: self.mail_connector.clone(),
            bundle: format!("{category} {} Bundle", t.label()),
            description: rule.description.to_string(),
            features: catalog
                .part(&self.server_part)
                .and_then(|p| p.server.as_ref())
                .map(|s| s.features.clone())
                .unwrap_or_default(),
            licenses,
            ordered_items,
            restrictions: rule.restrictions.to_vec(),
            rules: Default::default(),
        })
    }

    /// The file's place in its update chain: as its payload records it (version-2 files), or,
    /// for a version-1 file, which has none, derived from the ledger: a file that supersedes
    /// none starts its lineage (generation 1), and each file after it is one generation
    /// further. So the update of a version-1 file continues its lineage in version 2.
    fn chain(&self, conn: &dyn Tx, catalog: &Catalog) -> Result<Chain, IssuerError> {
        // Walk back to the nearest file that knows its chain, or to the first file.
        let mut steps: u32 = 0;
        let mut row = self.clone();
        loop {
            if let Some(c) = row.payload(conn, catalog)?.chain {
                return Ok(Chain {
                    lineage: c.lineage,
                    generation: c.generation.saturating_add(steps),
                });
            }
            match &row.supersedes {
                None => {
                    return Ok(Chain {
                        lineage: file_id(&row.id)?,
                        generation: 1u32.saturating_add(steps),
                    })
                }
                Some(prev) => {
                    row = FileRow::load(conn, prev)?;
                    steps = steps.saturating_add(1);
                }
            }
        }
    }
}

/// `parts` with their part numbers as the catalog spells them.
fn spelled_parts(catalog: &Catalog, parts: &[PartQuantity]) -> Vec<PartQuantity> {
    parts
        .iter()
        .map(|p| PartQuantity {
            part: policy::canonical_part(catalog, &p.part),
            quantity: p.quantity,
        })
        .collect()
}

/// What `issuer update` changes. Everything left `None` / empty stays as the old file has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRequest {
    /// A new host-ID code for the primary server.
    pub host_id: Option<String>,
    /// A new machine name for the primary server.
    pub machine: Option<String>,
    /// Host-ID code of the switchover server (given later than the first file).
    pub switchover_host_id: Option<String>,
    /// Machine name of the switchover server.
    pub switchover_machine: Option<String>,
    /// A switchover server item to use for the pair.
    pub switchover_part: Option<String>,
    /// Drop the switchover server (and its item) from the file.
    pub remove_switchover: bool,
    /// Units to add: the file's quantity of each part grows by this much (a part the file
    /// did not have is added).
    pub add: Vec<PartQuantity>,
    /// Quantities to set: the file's quantity of each part becomes this (0 removes the part).
    pub set: Vec<PartQuantity>,
    /// A new system type.
    pub system_type: Option<String>,
    /// A new mail connector.
    pub mail_connector: Option<String>,
    /// Who makes the update (the new file's "generated by").
    pub generated_by: String,
}

/// Filters of the Activation File Activity list. `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    /// Sold-to account.
    pub account: Option<String>,
    /// Install site name.
    pub site: Option<String>,
    /// Generated at or after.
    pub from: Option<Timestamp>,
    /// Generated before (exclusive).
    pub to: Option<Timestamp>,
    /// `Some(true)` active files only, `Some(false)` inactive only, `None` both.
    pub active: Option<bool>,
    /// Product line: `CIC`, or `CIC 4.0` for one version.
    pub product_line: Option<String>,
    /// License type.
    pub license_type: Option<LicenseType>,
    /// Who generated the file (case-insensitive); a portal user's files (recorded as
    /// `portal:EMAIL`) match their address alone too.
    pub generated_by: Option<String>,
    /// Machine name of the primary or switchover server (case-insensitive).
    pub machine: Option<String>,
}

/// One row of the Activation File Activity list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActivityRow {
    /// File id.
    pub id: String,
    /// When it was generated.
    pub generated_at: Timestamp,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Whether it is active.
    pub active: bool,
    /// Install site.
    pub install_site: String,
    /// Who generated it.
    pub generated_by: String,
    /// Primary server's machine name.
    pub machine: String,
    /// Switchover server's machine name, if the file covers a pair.
    pub switchover_machine: Option<String>,
    /// Product line and version, `CIC 4.0`.
    pub product: String,
    /// License type (`production`).
    #[serde(rename = "type")]
    pub license_type: String,
    /// The account.
    pub sold_to: String,
    /// The file this one replaced.
    pub supersedes: Option<String>,
    /// The file that replaced this one.
    pub superseded_by: Option<String>,
    /// When it stopped being active.
    pub deactivated_at: Option<Timestamp>,
}

/// The Activation File Activity list, newest first.
pub type Activity = Vec<ActivityRow>;

/// The View License page of one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileDetails {
    /// File id.
    pub id: String,
    /// `active`, `deactivated` or `superseded`.
    pub status: &'static str,
    /// Whether it is active.
    pub active: bool,
    /// The file this one replaced.
    pub supersedes: Option<String>,
    /// The file that replaced this one.
    pub superseded_by: Option<String>,
    /// When it stopped being active.
    pub deactivated_at: Option<Timestamp>,
    /// Who deactivated (or superseded) it.
    pub deactivated_by: Option<String>,
    /// For disaster recovery: the production file.
    pub related_production: Option<String>,
    /// The server item the file is built on.
    pub server_part: String,
    /// Generated by a certified partner.
    pub partner: bool,
    /// Key id of the signing key.
    pub key_id: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Everything the file says (its signed payload).
    pub activation: Activation,
}

/// How `issuer upgrade` chooses the ordered items to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeSelection {
    /// Mirroring: every ordered item of the old version with an upgrade option.
    Mirror,
    /// Only these part numbers (of the old version).
    Parts(Vec<String>),
}

/// One order line moved by an upgrade.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpgradedLine {
    /// The old version's part.
    pub from_part: String,
    /// The new version's part.
    pub to_part: String,
    /// Its description.
    pub description: String,
    /// The closed order line.
    pub from_order: i64,
    /// The new order line (`None` in a dry run).
    pub to_order: Option<i64>,
    /// Units moved (the line's whole quantity).
    pub quantity: u64,
    /// Whether the units are perpetual.
    pub perpetual: bool,
    /// Units used by active files of the old version, now counted on the new line.
    pub used: u64,
    /// Whether the upgrade was mirrored.
    pub mirrored: bool,
}

/// One file deactivated and the units it returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Deactivated {
    /// The file id.
    pub id: String,
    /// Its license type (`production`, `disaster-recovery`, ...).
    pub license_type: String,
    /// Units returned to available, by part.
    pub returned: Vec<(String, u64)>,
}

impl Ledger {
    /// `(part, units)` a file uses, by part.
    pub(crate) fn usage_by_part(
        conn: &dyn Tx,
        file_seq: i64,
    ) -> Result<Vec<(String, u32)>, IssuerError> {
        let mut st = conn.prepare_cached(
            "SELECT o.part, CAST(SUM(u.quantity) AS BIGINT) FROM file_usage u JOIN orders o ON o.id = u.order_id
             WHERE u.file_seq = ?1 GROUP BY o.part ORDER BY MIN(o.id)",
        )?;
        let v = st
            .query_map([file_seq], |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))?
            .map(|r| r.map(|(p, q)| (p, u32::try_from(q).unwrap_or(u32::MAX))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// The request a file was issued from, with an update's changes applied, and the old
    /// file's row. Refuses an inactive file and an update that changes nothing.
    fn update_request(
        &self,
        catalog: &Catalog,
        id: &str,
        u: &UpdateRequest,
    ) -> Result<(IssueRequest, FileRow), IssuerError> {
        let old = FileRow::load(self.tx(), id)?;
        old.require_active(self.tx())?;
        // Part numbers as the catalog spells them, as the old file's items are: a part given
        // in another case is the same part, never a second entry of it.
        let u = &UpdateRequest {
            add: spelled_parts(catalog, &u.add),
            set: spelled_parts(catalog, &u.set),
            switchover_part: u
                .switchover_part
                .as_deref()
                .map(|p| policy::canonical_part(catalog, p)),
            ..u.clone()
        };
        let a = old.payload(self.tx(), catalog)?;
        let t = a.license_type;
        // The file's ordered items: the server item, a switchover server item, add-ons.
        let mut switchover_part = None;
        let mut add: Vec<PartQuantity> = Vec::new();
        for item in &a.ordered_items {
            if item.part == old.server_part {
                continue;
            }
            match catalog.part(&item.part).map(|p| p.kind) {
                Some(PartKind::Server) => switchover_part = Some(item.part.clone()),
                _ => add.push(PartQuantity {
                    part: item.part.clone(),
                    quantity: item.quantity,
                }),
            }
        }
        let old_req = IssueRequest {
            account: old.account.clone(),
            site: old.site.clone(),
            product: a.product.clone(),
            version: a.product_version.clone(),
            license_type: t,
            host_id: a.primary_host.binding_code(),
            machine: a.primary_host.machine.clone(),
            switchover_host_id: a.switchover_host.as_ref().map(|h| h.binding_code()),
            switchover_machine: a.switchover_host.as_ref().map(|h| h.machine.clone()),
            switchover_part,
            server_part: old.server_part.clone(),
            add,
            system_type: Some(a.system_type.clone()).filter(|s| !s.is_empty()),
            mail_connector: Some(a.mail_connector.clone()).filter(|s| !s.is_empty()),
            generated_by: a.generated_by.clone(),
            partner: old.partner,
            related: old.related.clone(),
        };
        let mut req = old_req.clone();
        req.generated_by = u.generated_by.clone();
        if let Some(h) = &u.host_id {
            req.host_id = h.clone();
        }
        if let Some(m) = &u.machine {
            req.machine = m.clone();
        }
        if u.remove_switchover {
            req.switchover_host_id = None;
            req.switchover_machine = None;
            req.switchover_part = None;
        }
        if u.switchover_host_id.is_some() || u.switchover_machine.is_some() {
            req.switchover_host_id = u.switchover_host_id.clone();
            req.switchover_machine = u.switchover_machine.clone();
        }
        if let Some(p) = &u.switchover_part {
            req.switchover_part = Some(p.clone());
        }
        if let Some(s) = &u.system_type {
            req.system_type = Some(s.clone());
        }
        if let Some(m) = &u.mail_connector {
            req.mail_connector = Some(m.clone());
        }
        let mut seen: Vec<&str> = Vec::new();
        for pq in u.add.iter().chain(&u.set) {
            if seen.contains(&pq.part.as_str()) {
                return Err(IssuerError::MalformedRequest {
                    reason: format!("{} is given twice (--add / --set)", pq.part),
                });
            }
            seen.push(&pq.part);
        }
        for pq in &u.add {
            if pq.quantity == 0 {
                return Err(IssuerError::MalformedRequest {
                    reason: format!("--add {}: quantity is zero", pq.part),
                });
            }
            match req.add.iter_mut().find(|x| x.part == pq.part) {
                Some(x) => {
                    x.quantity = x
                        .quantity
                        .checked_add(pq.quantity)
                        .filter(|q| *q <= format::MAX_COUNT)
                        .ok_or_else(|| IssuerError::MalformedRequest {
                            reason: format!(
                                "{}: quantity would exceed {}",
                                pq.part,
                                format::MAX_COUNT
                            ),
                        })?
                }
                None => req.add.push(pq.clone()),
            }
        }
        for pq in &u.set {
            match req.add.iter().position(|x| x.part == pq.part) {
                Some(i) if pq.quantity == 0 => {
                    req.add.remove(i);
                }
                Some(i) => req.add[i].quantity = pq.quantity,
                None if pq.quantity == 0 => {
                    return Err(IssuerError::MalformedRequest {
                        reason: format!(
                            "--set {}=0: the file has no {} to remove",
                            pq.part, pq.part
                        ),
                    })
                }
                None => req.add.push(pq.clone()),
            }
        }
        let mut unchanged = req.clone();
        unchanged.generated_by = old_req.generated_by.clone();
        if unchanged == old_req {
            return Err(IssuerError::NoChange { id: old.id.clone() });
        }
        if let Term::Days(_) = rules::plan(catalog, &req)?.term {
            if Timestamp::now() >= ts(old.expires_at) {
                return Err(IssuerError::Rule {
                    license_type: t,
                    reason: format!(
                        "{} expired on {}; an update does not renew a time-limited file",
                        old.id,
                        ts(old.expires_at)
                    ),
                });
            }
        }
        Ok((req, old))
    }

    /// Check an update without changing anything (everything but availability, which is
    /// checked when the new file is recorded). Returns the request the new file is built from.
    pub fn check_update(
        &self,
        catalog: &Catalog,
        id: &str,
        u: &UpdateRequest,
    ) -> Result<IssueRequest, IssuerError> {
        let (req, _) = self.update_request(catalog, id, u)?;
        self.check(catalog, &req)?;
        Ok(req)
    }

    /// Update a file: issue a new file that supersedes it (it names the old id), with the
    /// changes applied. In one transaction the old file becomes inactive, its units return
    /// and the new file's are taken, so `used` never counts both. A time-limited file keeps
    /// its expiry (an update never renews a trial). With `out`, the new file is written there
    /// as [`Ledger::issue`] writes it (the same crash ordering; [`OutFile`]).
    pub fn update(
        &mut self,
        catalog: &Catalog,
        id: &str,
        u: &UpdateRequest,
        key: &format::SecretKey,
        out: Option<&Path>,
        now: Timestamp,
    ) -> Result<Issued, IssuerError> {
        self.update_once(catalog, id, u, key, out, now, None)
    }

    /// [`Ledger::update`] with a request's key ([`super::idempotency`]): a repeat answers
    /// the file the first one made (looked up first: the old file is no longer active then,
    /// and again in the recording transaction, for two at once); the key is kept in the
    /// transaction that records the new file.
    #[allow(clippy::too_many_arguments)]
    pub fn update_once(
        &mut self,
        catalog: &Catalog,
        id: &str,
        u: &UpdateRequest,
        key: &format::SecretKey,
        out: Option<&Path>,
        now: Timestamp,
        once: Option<&super::OnceKey>,
    ) -> Result<Issued, IssuerError> {
        if let Some(done) = self.answered_issue(once, now)? {
            return Ok(done);
        }
        let (req, old) = self.update_request(catalog, id, u)?;
        let plan = self.check(catalog, &req)?;
        let new_id = FileId::random();
        let mut activation = rules::activation(&req, &plan, new_id, now);
        activation.supersedes = Some(file_id(&old.id)?);
        // Same lineage, next generation: a server refuses the old file after this one.
        activation.chain = Some(old.chain(self.tx(), catalog)?.next());
        if activation.expires_at != Timestamp::PERPETUAL {
            activation.expires_at = ts(old.expires_at);
        }
        let bytes = format::sign(&activation, key)?.into_bytes();
        let pending = match out {
            Some(p) => Some(OutFile::prepare(p, &new_id.to_string(), &bytes, 0o644)?),
            None => None,
        };
        if let Some(done) = self.record_once(&req, &plan, &activation, key, &bytes, once, now)? {
            return Ok(done);
        }
        if let Some(p) = pending {
            p.persist().map_err(|e| IssuerError::RecordedNotWritten {
                id: new_id.to_string(),
                source: Box::new(e),
            })?;
        }
        Ok(Issued {
            file_id: new_id,
            bytes,
            expires_at: activation.expires_at,
        })
    }

    /// Deactivate a file: it becomes inactive and its units are available again. Returns the
    /// units returned, by part. A file already inactive is refused ([`IssuerError::NotActive`]),
    /// never returned twice. A production file that active disaster-recovery files name as
    /// their related production file is refused ([`IssuerError::ActiveRecovery`], naming
    /// them) and nothing changes: [`Ledger::deactivate_with_recovery`] deactivates them
    /// together.
    pub fn deactivate(
        &mut self,
        id: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<(String, u64)>, IssuerError> {
        let done = self.deactivate_files(id, false, actor, now)?;
        Ok(done
            .into_iter()
            .next()
            .map(|d| d.returned)
            .unwrap_or_default())
    }

    /// Deactivate a file and, when it is a production file, every active disaster-recovery
    /// file that names it (`--related`), in one transaction: each returns its units and gets
    /// its own `file.deactivate` audit row. Returns the files deactivated, the one named
    /// first, then its disaster-recovery files in the order they were issued.
    pub fn deactivate_with_recovery(
        &mut self,
        id: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<Deactivated>, IssuerError> {
        self.deactivate_files(id, true, actor, now)
    }

    fn deactivate_files(
        &mut self,
        id: &str,
        with_recovery: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<Deactivated>, IssuerError> {
        let tx = self.db.begin_write()?;
        let f = FileRow::load(&tx, id)?;
        f.require_active(&tx)?;
        let recovery: Vec<String> = {
            let mut st = tx.prepare_cached(
                "SELECT id FROM files WHERE related_production = ?1 AND active = 1 ORDER BY seq",
            )?;
            st.query_map([f.seq], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?
        };
        if !recovery.is_empty() && !with_recovery {
            return Err(IssuerError::ActiveRecovery {
                id: f.id.clone(),
                recovery,
            });
        }
        let mut done = Vec::with_capacity(1 + recovery.len());
        let extra = (!recovery.is_empty())
            .then(|| ("disaster_recovery_deactivated", serde_json::json!(recovery)));
        done.push(Self::deactivate_row(&tx, &f, extra, actor, now)?);
        for r in &recovery {
            let dr = FileRow::load(&tx, r)?;
            let extra = Some(("with_production", serde_json::json!(f.id)));
            done.push(Self::deactivate_row(&tx, &dr, extra, actor, now)?);
        }
        tx.commit()?;
        Ok(done)
    }

    /// Deactivate one active file inside `tx`: return its units and append its audit row,
    /// whose `after.file` carries `extra` (a key and value) when given.
    fn deactivate_row(
        tx: &dyn Tx,
        f: &FileRow,
        extra: Option<(&str, serde_json::Value)>,
        actor: &str,
        now: Timestamp,
    ) -> Result<Deactivated, IssuerError> {
        let orders = Self::file_orders(tx, f.seq)?;
        let before = Self::order_counters(tx, &orders)?;
        let returned = Self::release(tx, f.seq, now.unix(), actor)?;
        let after = Self::order_counters(tx, &orders)?;
        let mut gone = f.audit_json(false);
        gone["deactivated_at"] = now.to_string().into();
        gone["deactivated_by"] = actor.into();
        gone["returned"] = serde_json::json!(returned);
        if let Some((k, v)) = extra {
            gone[k] = v;
        }
        Self::append_audit(
            tx,
            now.unix(),
            actor,
            "file.deactivate",
            &f.id,
            Some(&serde_json::json!({ "file": f.audit_json(true), "orders": before }).to_string()),
            Some(&serde_json::json!({ "file": gone, "orders": after }).to_string()),
        )?;
        Ok(Deactivated {
            id: f.id.clone(),
            license_type: f.license_type.clone(),
            returned,
        })
    }

    /// The Activation File Activity list, newest first.
    pub fn activity(&self, f: &ActivityFilter) -> Result<Activity, IssuerError> {
        let (sql, args) = self.activity_query(f)?;
        self.activity_rows(
            &format!("{sql} ORDER BY f.generated_at DESC, f.seq DESC"),
            args,
        )
    }

    /// One page of the Activation File Activity list, newest first: at most `limit` rows
    /// after skipping `offset`, and how many rows the whole list has.
    pub fn activity_page(
        &self,
        f: &ActivityFilter,
        limit: u32,
        offset: u64,
    ) -> Result<(Activity, u64), IssuerError> {
        let (sql, args) = self.activity_query(f)?;
        let total: i64 = {
            // The count needs the joins only to filter by site name across accounts.
            let count = match sql.find("WHERE 1") {
                Some(w) if !sql.contains("s.name = ") => {
                    format!("SELECT count(*) FROM files f {}", &sql[w..])
                }
                _ => sql.replacen(ACTIVITY_COLUMNS, "count(*)", 1),
            };
            let mut st = self.db.prepare_cached(&count)?;
            st.query_row(args.as_slice(), |r| r.get(0))?
        };
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = self.activity_rows(
            &format!(
                "{sql} ORDER BY f.generated_at DESC, f.seq DESC LIMIT {limit} OFFSET {offset}"
            ),
            args,
        )?;
        Ok((rows, to_u64(total)))
    }

    fn activity_query(
        &self,
        f: &ActivityFilter,
    ) -> Result<(String, Vec<store::Value>), IssuerError> {
        let mut sql = format!(
            "SELECT {ACTIVITY_COLUMNS}
             FROM files f JOIN accounts a ON a.id = f.account_id JOIN sites s ON s.id = f.site_id
             WHERE 1 = 1"
        );
        let mut args: Vec<store::Value> = Vec::new();
        let mut cond = |sql: &mut String, c: &str, v: store::Value| {
            args.push(v);
            sql.push_str(&c.replace('?', &format!("?{}", args.len())));
        };
        use store::Value as V;
        if let Some(a) = &f.account {
            let id = Self::account_id(self.tx(), a)?;
            cond(&mut sql, " AND f.account_id = ?", V::Integer(id));
            if let Some(s) = &f.site {
                let (sid, _) = Self::site_id(self.tx(), a, id, s)?;
                cond(&mut sql, " AND f.site_id = ?", V::Integer(sid));
            }
        } else if let Some(s) = &f.site {
            cond(&mut sql, " AND s.name = ?", V::Text(s.clone()));
        }
        if let Some(t) = f.from {
            cond(&mut sql, " AND f.generated_at >= ?", V::Integer(t.unix()));
        }
        if let Some(t) = f.to {
            cond(&mut sql, " AND f.generated_at < ?", V::Integer(t.unix()));
        }
        if let Some(a) = f.active {
            cond(&mut sql, " AND f.active = ?", V::Integer(i64::from(a)));
        }
        if let Some(p) = &f.product_line {
            let mut it = p.split_whitespace();
            if let Some(product) = it.next() {
                cond(
                    &mut sql,
                    " AND nocase(f.product) = nocase(?)",
                    V::Text(product.into()),
                );
            }
            if let Some(version) = it.next() {
                cond(&mut sql, " AND f.version = ?", V::Text(version.into()));
            }
        }
        if let Some(t) = f.license_type {
            cond(
                &mut sql,
                " AND f.license_type = ?",
                V::Text(t.as_str().into()),
            );
        }
        if let Some(g) = &f.generated_by {
            cond(
                &mut sql,
                // A portal user's files are recorded as `portal:EMAIL`; the address alone
                // finds them too.
                " AND nocase(f.generated_by) IN (nocase(?), nocase('portal:' || CAST(? AS TEXT)))",
                V::Text(g.clone()),
            );
        }
        if let Some(m) = &f.machine {
            args.push(V::Text(m.clone()));
            let n = args.len();
            sql.push_str(&format!(
                " AND (nocase(f.primary_machine) = nocase(?{n}) OR nocase(f.switchover_machine) = nocase(?{n}))"
            ));
        }
        Ok((sql, args))
    }

    fn activity_rows(&self, sql: &str, args: Vec<store::Value>) -> Result<Activity, IssuerError> {
        let mut st = self.db.prepare_cached(sql)?;
        let rows = st
            .query_map(args, |r| {
                Ok(ActivityRow {
                    id: r.get(0)?,
                    generated_at: ts(r.get(1)?),
                    expires_at: ts(r.get(2)?),
                    active: r.get(3)?,
                    install_site: r.get(4)?,
                    generated_by: r.get(5)?,
                    machine: r.get(6)?,
                    switchover_machine: r.get(7)?,
                    product: format!("{} {}", r.get::<String>(8)?, r.get::<String>(9)?),
                    license_type: r.get(10)?,
                    sold_to: r.get(11)?,
                    supersedes: r.get(12)?,
                    superseded_by: r.get(13)?,
                    deactivated_at: r.get::<Option<i64>>(14)?.map(ts),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The View License page of one file.
    pub fn show(&self, catalog: &Catalog, id: &str) -> Result<FileDetails, IssuerError> {
        let f = FileRow::load(self.tx(), id)?;
        let activation = f.payload(self.tx(), catalog)?;
        Ok(FileDetails {
            status: match (f.active, &f.superseded_by) {
                (true, _) => "active",
                (false, Some(_)) => "superseded",
                (false, None) => "deactivated",
            },
            id: f.id,
            active: f.active,
            supersedes: f.supersedes,
            superseded_by: f.superseded_by,
            deactivated_at: f.deactivated_at.map(ts),
            deactivated_by: f.deactivated_by,
            related_production: f.related,
            server_part: f.server_part,
            partner: f.partner,
            key_id: f.key_id,
            sha256: f.sha256,
            activation,
        })
    }

    /// Upgrade an account's ordered items from one version of a product to another, per the
    /// catalog's upgrade mapping. Each chosen order line is closed (inactive: no new file of
    /// the old version draws on it) and a line of the new version's part is added with the
    /// same quantity, perpetual flag and `upgraded_from` pointing at it. Units that active
    /// files of the old version use move with it: they count as used on the new line until
    /// those files are deactivated or updated, so the upgrade never hands out a unit twice.
    /// With `dry_run`, nothing is written and the lines that would move are returned.
    #[allow(clippy::too_many_arguments)]
    pub fn upgrade(
        &mut self,
        catalog: &Catalog,
        account: &str,
        product: &str,
        from: &str,
        to: &str,
        selection: &UpgradeSelection,
        dry_run: bool,
        actor: &str,
    ) -> Result<Vec<UpgradedLine>, IssuerError> {
        let (from_cat, to_cat) = (format!("{product} {from}"), format!("{product} {to}"));
        for (v, c) in [(from, &from_cat), (to, &to_cat)] {
            if catalog.version(product, v).is_none() {
                return Err(IssuerError::MalformedRequest {
                    reason: format!("the catalog has no product '{c}'"),
                });
            }
        }
        let target = |part: &str| {
            catalog
                .upgrade_of(part)
                .and_then(|t| catalog.part(t))
                .filter(|t| t.category == to_cat)
        };
        if let UpgradeSelection::Parts(parts) = selection {
            if parts.is_empty() {
                return Err(IssuerError::MalformedRequest {
                    reason: "name the parts to upgrade (--part), or upgrade them all (--mirror)"
                        .into(),
                });
            }
            for p in parts {
                let part = catalog.lookup_part(p)?;
                if part.category != from_cat {
                    return Err(IssuerError::PartMismatch {
                        part: p.clone(),
                        reason: format!("it belongs to {}, not {from_cat}", part.category),
                    });
                }
                if target(p).is_none() {
                    return Err(IssuerError::PartMismatch {
                        part: p.clone(),
                        reason: format!("it has no upgrade option to {to_cat}"),
                    });
                }
            }
        }
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        let mut st = tx.prepare(
            "SELECT id, part, quantity, used, perpetual, included_with FROM orders
             WHERE account_id = ?1 AND active = 1 ORDER BY id",
        )?;
        type Line = (i64, String, i64, i64, bool, Option<i64>);
        let lines: Vec<Line> = st
            .query_map([a], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        drop(st);
        let chosen: Vec<&Line> = lines
            .iter()
            .filter(|l| {
                catalog.part(&l.1).is_some_and(|p| p.category == from_cat)
                    && target(&l.1).is_some()
                    && match selection {
                        UpgradeSelection::Mirror => true,
                        UpgradeSelection::Parts(ps) => ps.contains(&l.1),
                    }
            })
            .collect();
        if let UpgradeSelection::Parts(ps) = selection {
            if let Some(missing) = ps.iter().find(|p| !chosen.iter().any(|l| &l.1 == *p)) {
                return Err(IssuerError::NothingToUpgrade {
                    account: account.to_string(),
                    reason: format!("it has no open order line of {missing}"),
                });
            }
        }
        if chosen.is_empty() {
            return Err(IssuerError::NothingToUpgrade {
                account: account.to_string(),
                reason: format!(
                    "no open order line of {from_cat} has an upgrade option to {to_cat}"
                ),
            });
        }
        let mirrored = *selection == UpgradeSelection::Mirror;
        let mut moved: Vec<UpgradedLine> = Vec::new();
        let mut new_ids: Vec<(i64, i64)> = Vec::new();
        for (id, part, quantity, used, perpetual, included_with) in chosen {
            let Some(to_part) = target(part) else {
                continue;
            };
            let mut line = UpgradedLine {
                from_part: part.clone(),
                to_part: to_part.number.clone(),
                description: to_part.description.clone(),
                from_order: *id,
                to_order: None,
                quantity: to_u64(*quantity),
                perpetual: *perpetual,
                used: to_u64(*used),
                mirrored,
            };
            if !dry_run {
                let included = included_with
                    .map(|w| new_ids.iter().find(|(o, _)| *o == w).map_or(w, |(_, n)| *n));
                let new: i64 = tx.query_row(
                    "INSERT INTO orders (id, account_id, part, quantity, used, perpetual, mirrored, upgraded_from,
                         included_with, added_at, added_by)
                     VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM orders), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                    params![a, to_part.number, quantity, used, perpetual, mirrored, id, included, now, actor], |r| r.get(0))?;
                new_ids.push((*id, new));
                tx.execute(
                    "UPDATE file_usage SET order_id = ?2 WHERE order_id = ?1
                       AND file_seq IN (SELECT seq FROM files WHERE active = 1)",
                    params![id, new],
                )?;
                tx.execute(
                    "UPDATE orders SET active = 0, used = 0 WHERE id = ?1",
                    params![id],
                )?;
                line.to_order = Some(new);
                let before = Self::order_counters(&tx, &[*id])?;
                let mut old_before = before.into_iter().next().unwrap_or_default();
                old_before["active"] = true.into();
                old_before["used"] = (*used).into();
                let after = serde_json::json!({
                    "closed": Self::order_counters(&tx, &[*id])?,
                    "opened": Self::order_counters(&tx, &[new])?,
                    "mirrored": mirrored,
                });
                Self::append_audit(
                    &tx,
                    now,
                    actor,
                    "order.upgrade",
                    &format!("{account}/{part}"),
                    Some(&serde_json::json!({ "order": old_before }).to_string()),
                    Some(&after.to_string()),
                )?;
            }
            moved.push(line);
        }
        if dry_run {
            tx.rollback();
        } else {
            tx.commit()?;
        }
        Ok(moved)
    }
}
