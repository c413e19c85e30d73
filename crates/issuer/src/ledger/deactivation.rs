//! Deactivations that hold (docs/DEACTIVATION.md): a file's units come back at once only
//! against a release receipt signed by the install key the file binds, under the account's
//! rehost allowance, or with vendor staff's approval; otherwise the file becomes inactive
//! and its units stay used, *pending*, until one of those happens.

use format::receipt::Receipt;
use format::{Activation, Timestamp};
use sha2::{Digest, Sha256};
use store::{params, OptionalExt, Tx, TxExt};

use super::lifecycle::FileRow;
use super::{to_u64, Ledger};
use crate::error::IssuerError;

/// Seconds in the window the rehost allowance counts over (365 days).
pub const ALLOWANCE_WINDOW: i64 = 365 * 86_400;

/// SQL condition, on `files f`, for a file whose units count as used: active, or
/// deactivated with its units still pending.
pub(crate) const COUNTS_AS_USED: &str = "(f.active = 1 OR EXISTS (SELECT 1 FROM deactivations d \
     WHERE d.file_seq = f.seq AND d.how = 'pending'))";

/// How a deactivation's units came back, or that they have not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeactivationHow {
    /// A valid release receipt returned them.
    Receipt,
    /// The account's rehost allowance covered it.
    Allowance,
    /// Vendor staff approved.
    Approved,
    /// Still used, waiting for staff approval (or a receipt).
    Pending,
}

impl DeactivationHow {
    fn column(self) -> &'static str {
        match self {
            DeactivationHow::Receipt => "receipt",
            DeactivationHow::Allowance => "allowance",
            DeactivationHow::Approved => "approved",
            DeactivationHow::Pending => "pending",
        }
    }

    fn from_column(s: &str) -> DeactivationHow {
        match s {
            "receipt" => DeactivationHow::Receipt,
            "allowance" => DeactivationHow::Allowance,
            "approved" => DeactivationHow::Approved,
            _ => DeactivationHow::Pending,
        }
    }

    /// The words the audit log and the outputs use.
    pub fn describe(self) -> &'static str {
        match self {
            DeactivationHow::Receipt => "deactivated with receipt",
            DeactivationHow::Allowance => "deactivated under the rehost allowance",
            DeactivationHow::Approved => "deactivated with staff approval",
            DeactivationHow::Pending => "deactivated, units pending staff approval",
        }
    }
}

/// What one deactivation (or approval) did to one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeactivationOutcome {
    /// The file id.
    pub id: String,
    /// Its license type.
    pub license_type: String,
    /// How its units came back, or `pending`.
    pub how: DeactivationHow,
    /// Units returned to available, by part (empty while pending).
    pub returned: Vec<(String, u64)>,
    /// Units still used while pending, by part.
    pub pending: Vec<(String, u64)>,
}

/// A deactivation waiting for staff approval.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingDeactivation {
    /// The file id.
    pub id: String,
    /// Its account.
    pub account: String,
    /// Its install site.
    pub site: String,
    /// Its license type.
    pub license_type: String,
    /// Its primary machine.
    pub machine: String,
    /// When it was deactivated.
    pub at: Timestamp,
    /// Who deactivated it.
    pub by: String,
    /// Units still used, by part.
    pub units: Vec<(String, u64)>,
}

/// An account's rehost allowance and its use over the last 365 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RehostAllowance {
    /// Deactivations without receipt a year whose units come back at once.
    pub per_year: u64,
    /// Used in the last 365 days.
    pub used: u64,
}

fn ts(v: i64) -> Timestamp {
    Timestamp::from_unix(v).unwrap_or(Timestamp::PERPETUAL)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Ledger {
    /// Deactivate a file as a customer may: with `receipt` (a release receipt's text) its
    /// units return at once if the receipt verifies against the install key the file binds
    /// for the receipt's host and names this file's id, lineage and generation; a receipt
    /// refused changes nothing. Without one, the units return under the account's rehost
    /// allowance if it has room, else they stay used, pending staff approval. A file
    /// already pending may be given its receipt later. With `with_recovery`, the active
    /// disaster-recovery files naming a production file are deactivated with it, each
    /// without receipt.
    pub fn deactivate_held(
        &mut self,
        id: &str,
        receipt: Option<&str>,
        with_recovery: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<DeactivationOutcome>, IssuerError> {
        let tx = self.db.begin_write()?;
        let f = FileRow::load(&tx, id)?;
        let checked = match receipt {
            Some(text) => Some(Self::check_receipt(&tx, &f, text)?),
            None => None,
        };
        let state = Self::deactivation_state(&tx, f.seq)?;
        if state == Some(DeactivationHow::Pending) {
            // A pending file's receipt arrives later: it returns the units now.
            let Some(digest) = checked else {
                return Err(IssuerError::NotActive {
                    id: f.id.clone(),
                    reason: "its deactivation is already pending staff approval; give its release receipt (licadmin release on the server) or ask vendor staff to approve".into(),
                });
            };
            let out = Self::resolve_pending(
                &tx,
                &f,
                DeactivationHow::Receipt,
                Some(&digest),
                actor,
                now,
            )?;
            tx.commit()?;
            return Ok(vec![out]);
        }
        f.require_active(&tx)?;
        let recovery = Self::active_recovery(&tx, &f, with_recovery)?;
        let mut done = Vec::with_capacity(1 + recovery.len());
        let how = match &checked {
            Some(_) => DeactivationHow::Receipt,
            None => Self::allowance_or_pending(&tx, f.account_id, now)?,
        };
        done.push(Self::deactivate_one(
            &tx,
            &f,
            how,
            checked.as_ref(),
            actor,
            now,
        )?);
        for r in &recovery {
            let dr = FileRow::load(&tx, r)?;
            let how = Self::allowance_or_pending(&tx, dr.account_id, now)?;
            done.push(Self::deactivate_one(&tx, &dr, how, None, actor, now)?);
        }
        tx.commit()?;
        Ok(done)
    }

    /// Vendor staff approve a deactivation: a pending one returns its units; an active file
    /// is deactivated and returns them at once (with `with_recovery`, its disaster-recovery
    /// files too). A file whose units came back already is refused
    /// ([`IssuerError::NotActive`]).
    pub fn approve_deactivation(
        &mut self,
        id: &str,
        with_recovery: bool,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<DeactivationOutcome>, IssuerError> {
        let tx = self.db.begin_write()?;
        let f = FileRow::load(&tx, id)?;
        let state = Self::deactivation_state(&tx, f.seq)?;
        let done = match state {
            Some(DeactivationHow::Pending) => vec![Self::resolve_pending(
                &tx,
                &f,
                DeactivationHow::Approved,
                None,
                actor,
                now,
            )?],
            Some(_) => return Err(Self::not_active(&tx, &f)),
            None if !f.active => return Err(Self::not_active(&tx, &f)),
            None => {
                let recovery = Self::active_recovery(&tx, &f, with_recovery)?;
                let mut done = vec![Self::deactivate_one(
                    &tx,
                    &f,
                    DeactivationHow::Approved,
                    None,
                    actor,
                    now,
                )?];
                for r in &recovery {
                    let dr = FileRow::load(&tx, r)?;
                    done.push(Self::deactivate_one(
                        &tx,
                        &dr,
                        DeactivationHow::Approved,
                        None,
                        actor,
                        now,
                    )?);
                }
                done
            }
        };
        tx.commit()?;
        Ok(done)
    }

    /// Deactivations pending staff approval, oldest first; of one account when given.
    pub fn pending_deactivations(
        &self,
        account: Option<&str>,
    ) -> Result<Vec<PendingDeactivation>, IssuerError> {
        let account_id = account
            .map(|a| Self::account_id(self.tx(), a))
            .transpose()?;
        let mut st = self.db.prepare_cached(
            "SELECT f.seq, f.id, a.name, s.name, f.license_type, f.primary_machine, d.at, d.actor
             FROM deactivations d JOIN files f ON f.seq = d.file_seq
             JOIN accounts a ON a.id = f.account_id JOIN sites s ON s.id = f.site_id
             WHERE d.how = 'pending' AND (CAST(?1 AS BIGINT) IS NULL OR d.account_id = ?1)
             ORDER BY d.at, f.seq",
        )?;
        type Raw = (i64, String, String, String, String, String, i64, String);
        let rows: Vec<Raw> = st
            .query_map(params![account_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (seq, id, account, site, license_type, machine, at, by) in rows {
            let units = Self::usage_by_part(self.tx(), seq)?
                .into_iter()
                .map(|(p, n)| (p, u64::from(n)))
                .collect();
            out.push(PendingDeactivation {
                id,
                account,
                site,
                license_type,
                machine,
                at: ts(at),
                by,
                units,
            });
        }
        Ok(out)
    }

    /// How a file's deactivation stands: `None` for an active file or one deactivated
    /// before deactivations were recorded.
    pub fn deactivation_of(&self, id: &str) -> Result<Option<DeactivationHow>, IssuerError> {
        let f = FileRow::load(self.tx(), id)?;
        Self::deactivation_state(self.tx(), f.seq)
    }

    /// Set how many files of the account may be deactivated a year without a receipt and
    /// have their units back at once (`issuer account edit NAME --rehosts-per-year N`).
    pub fn set_rehosts_per_year(
        &mut self,
        account: &str,
        per_year: u32,
        actor: &str,
    ) -> Result<(), IssuerError> {
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        let (name, before): (String, i64) = tx.query_row(
            "SELECT name, rehosts_per_year FROM accounts WHERE id = ?1",
            [a],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.execute(
            "UPDATE accounts SET rehosts_per_year = ?2 WHERE id = ?1",
            params![a, i64::from(per_year)],
        )?;
        Self::append_audit(
            &tx,
            now,
            actor,
            "account.edit",
            &name,
            Some(&serde_json::json!({ "rehosts_per_year": before }).to_string()),
            Some(&serde_json::json!({ "rehosts_per_year": per_year }).to_string()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The account's rehost allowance and how much of it the last 365 days used.
    pub fn rehost_allowance(
        &self,
        account: &str,
        now: Timestamp,
    ) -> Result<RehostAllowance, IssuerError> {
        let a = Self::account_id(self.tx(), account)?;
        Self::allowance_of(self.tx(), a, now)
    }

    /// The refusal for a file that is not active, saying how it stopped being so.
    fn not_active(conn: &dyn Tx, f: &FileRow) -> IssuerError {
        match f.require_active(conn) {
            Err(e) => e,
            Ok(()) => IssuerError::NotActive {
                id: f.id.clone(),
                reason: "it is inactive".into(),
            },
        }
    }

    /// What became of an inactive file's units, for messages.
    pub(crate) fn units_state(conn: &dyn Tx, file_seq: i64) -> Result<&'static str, IssuerError> {
        Ok(match Self::deactivation_state(conn, file_seq)? {
            Some(DeactivationHow::Pending) => "its units stay used, pending staff approval (issuer deactivate ID --approve) or its release receipt (--receipt FILE)",
            Some(DeactivationHow::Receipt) => "its units were returned then, with its release receipt",
            Some(DeactivationHow::Allowance) => "its units were returned then, under the rehost allowance",
            _ => "its units were returned then",
        })
    }

    /// Units of an account's pending deactivations, by part (of one site's files when
    /// given).
    pub(crate) fn pending_units(
        conn: &dyn Tx,
        account_id: i64,
        site_id: Option<i64>,
    ) -> Result<Vec<(String, u64)>, IssuerError> {
        let mut st = conn.prepare_cached(
            "SELECT o.part, CAST(SUM(u.quantity) AS BIGINT) FROM deactivations d
             JOIN files f ON f.seq = d.file_seq JOIN file_usage u ON u.file_seq = f.seq
             JOIN orders o ON o.id = u.order_id
             WHERE d.how = 'pending' AND d.account_id = ?1
               AND (CAST(?2 AS BIGINT) IS NULL OR f.site_id = ?2)
             GROUP BY o.part",
        )?;
        let v = st
            .query_map(params![account_id, site_id], |r| {
                Ok((r.get::<String>(0)?, r.get::<i64>(1)?))
            })?
            .map(|r| r.map(|(p, n)| (p, to_u64(n))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    fn allowance_of(
        conn: &dyn Tx,
        account_id: i64,
        now: Timestamp,
    ) -> Result<RehostAllowance, IssuerError> {
        let per_year: i64 = conn.query_row(
            "SELECT rehosts_per_year FROM accounts WHERE id = ?1",
            [account_id],
            |r| r.get(0),
        )?;
        let used: i64 = conn.query_row(
            "SELECT count(*) FROM deactivations WHERE account_id = ?1 AND how = 'allowance' AND at > ?2",
            params![account_id, now.unix() - ALLOWANCE_WINDOW],
            |r| r.get(0),
        )?;
        Ok(RehostAllowance {
            per_year: to_u64(per_year),
            used: to_u64(used),
        })
    }

    fn allowance_or_pending(
        conn: &dyn Tx,
        account_id: i64,
        now: Timestamp,
    ) -> Result<DeactivationHow, IssuerError> {
        let a = Self::allowance_of(conn, account_id, now)?;
        Ok(if a.used < a.per_year {
            DeactivationHow::Allowance
        } else {
            DeactivationHow::Pending
        })
    }

    fn deactivation_state(
        conn: &dyn Tx,
        file_seq: i64,
    ) -> Result<Option<DeactivationHow>, IssuerError> {
        Ok(conn
            .query_row(
                "SELECT how FROM deactivations WHERE file_seq = ?1",
                [file_seq],
                |r| r.get::<String>(0),
            )
            .optional()?
            .map(|s| DeactivationHow::from_column(&s)))
    }

    /// The active disaster-recovery files naming `f`; refused unless `with_recovery`.
    fn active_recovery(
        conn: &dyn Tx,
        f: &FileRow,
        with_recovery: bool,
    ) -> Result<Vec<String>, IssuerError> {
        let mut st = conn.prepare_cached(
            "SELECT id FROM files WHERE related_production = ?1 AND active = 1 ORDER BY seq",
        )?;
        let recovery = st
            .query_map([f.seq], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        if !recovery.is_empty() && !with_recovery {
            return Err(IssuerError::ActiveRecovery {
                id: f.id.clone(),
                recovery,
            });
        }
        Ok(recovery)
    }

    /// Check a receipt for `f`; returns its digest (SHA-256 of its signed bytes) when it
    /// verifies, names this file and was not used before.
    fn check_receipt(conn: &dyn Tx, f: &FileRow, text: &str) -> Result<[u8; 32], IssuerError> {
        let invalid = |source| IssuerError::ReceiptInvalid {
            id: f.id.clone(),
            source,
        };
        let not_for = |reason: String| IssuerError::ReceiptNotForFile {
            id: f.id.clone(),
            reason,
        };
        let receipt = Receipt::parse(text).map_err(invalid)?;
        let activation: Activation = match &f.activation {
            Some(j) => serde_json::from_str(j).map_err(|e| IssuerError::LedgerFormat {
                path: Default::default(),
                reason: format!("file {}: recorded payload does not parse: {e}", f.id),
            })?,
            None => {
                return Err(not_for(
                    "the file binds no install key (it was issued for a host-ID code, not a request code), so no receipt can be checked for it; deactivate it without a receipt".into(),
                ))
            }
        };
        let facts = receipt.facts();
        let host = std::iter::once(&activation.primary_host)
            .chain(activation.switchover_host.as_ref())
            .find(|h| h.host_id == facts.host_id)
            .ok_or_else(|| {
                not_for(format!(
                    "it names host {}, which this file does not bind",
                    facts.host_id
                ))
            })?;
        let key = host.install_key.as_ref().ok_or_else(|| {
            not_for(format!(
                "the file binds no install key for host {} (it was issued for a host-ID code, not a request code), so no receipt can be checked for it; deactivate it without a receipt",
                facts.host_id
            ))
        })?;
        receipt.verify(key).map_err(invalid)?;
        let (lineage, generation) = match &activation.chain {
            Some(c) => (c.lineage, c.generation),
            None => (activation.file_id, 0),
        };
        if facts.lineage != lineage {
            return Err(not_for(format!(
                "it is for another file (file {}, lineage {})",
                facts.file_id, facts.lineage
            )));
        }
        if facts.generation != generation || facts.file_id != activation.file_id {
            let which = if facts.generation < generation {
                "an older generation"
            } else {
                "another generation"
            };
            return Err(not_for(format!(
                "it is for {which} of this file's lineage (file {}, generation {}; the file on record is generation {generation})",
                facts.file_id, facts.generation
            )));
        }
        let digest: [u8; 32] = Sha256::digest(receipt.signed_bytes()).into();
        let used: Option<(String, i64)> = conn
            .query_row(
                "SELECT f.id, COALESCE(d.resolved_at, d.at) FROM deactivations d JOIN files f ON f.seq = d.file_seq
                 WHERE d.receipt_sha256 = ?1",
                params![digest.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((used_for, at)) = used {
            return Err(IssuerError::ReceiptUsed {
                used_for,
                at: ts(at).to_string(),
            });
        }
        Ok(digest)
    }

    /// Deactivate one active file: its units return unless `how` is pending; its
    /// deactivation row and `file.deactivate` audit row are written.
    fn deactivate_one(
        tx: &dyn Tx,
        f: &FileRow,
        how: DeactivationHow,
        digest: Option<&[u8; 32]>,
        actor: &str,
        now: Timestamp,
    ) -> Result<DeactivationOutcome, IssuerError> {
        let orders = Self::file_orders(tx, f.seq)?;
        let before = Self::order_counters(tx, &orders)?;
        let units: Vec<(String, u64)> = Self::usage_by_part(tx, f.seq)?
            .into_iter()
            .map(|(p, n)| (p, u64::from(n)))
            .collect();
        let (returned, pending) = if how == DeactivationHow::Pending {
            let changed = tx.execute(
                "UPDATE files SET active = 0, deactivated_at = ?2, deactivated_by = ?3 WHERE seq = ?1 AND active = 1",
                params![f.seq, now.unix(), actor],
            )?;
            if changed != 1 {
                return Err(IssuerError::NotActive {
                    id: f.id.clone(),
                    reason: "it was changed meanwhile".into(),
                });
            }
            (Vec::new(), units)
        } else {
            (Self::release(tx, f.seq, now.unix(), actor)?, Vec::new())
        };
        tx.execute(
            "INSERT INTO deactivations (file_seq, account_id, at, actor, how, resolved_at, resolved_by, receipt_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                f.seq,
                f.account_id,
                now.unix(),
                actor,
                how.column(),
                (how != DeactivationHow::Pending).then_some(now.unix()),
                (how != DeactivationHow::Pending).then_some(actor),
                digest.map(|d| d.to_vec())
            ],
        )?;
        let after = Self::order_counters(tx, &orders)?;
        let mut gone = f.audit_json(false);
        gone["deactivated_at"] = now.to_string().into();
        gone["deactivated_by"] = actor.into();
        gone["deactivation"] = how.describe().into();
        gone["returned"] = serde_json::json!(returned);
        if !pending.is_empty() {
            gone["pending"] = serde_json::json!(pending);
        }
        if let Some(d) = digest {
            gone["receipt_sha256"] = hex(d).into();
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
        Ok(DeactivationOutcome {
            id: f.id.clone(),
            license_type: f.license_type.clone(),
            how,
            returned,
            pending,
        })
    }

    /// A pending deactivation's units return (`how`: receipt or approved).
    fn resolve_pending(
        tx: &dyn Tx,
        f: &FileRow,
        how: DeactivationHow,
        digest: Option<&[u8; 32]>,
        actor: &str,
        now: Timestamp,
    ) -> Result<DeactivationOutcome, IssuerError> {
        let orders = Self::file_orders(tx, f.seq)?;
        let before = Self::order_counters(tx, &orders)?;
        let returned = Self::return_units(tx, f.seq)?;
        let changed = tx.execute(
            "UPDATE deactivations SET how = ?2, resolved_at = ?3, resolved_by = ?4, receipt_sha256 = ?5
             WHERE file_seq = ?1 AND how = 'pending'",
            params![f.seq, how.column(), now.unix(), actor, digest.map(|d| d.to_vec())],
        )?;
        if changed != 1 {
            return Err(IssuerError::NotActive {
                id: f.id.clone(),
                reason: "it was changed meanwhile".into(),
            });
        }
        let after = Self::order_counters(tx, &orders)?;
        let mut done = serde_json::json!({
            "id": f.id, "deactivation": how.describe(), "returned": returned,
        });
        if let Some(d) = digest {
            done["receipt_sha256"] = hex(d).into();
        }
        Self::append_audit(
            tx,
            now.unix(),
            actor,
            "file.deactivation.resolve",
            &f.id,
            Some(&serde_json::json!({ "file": {"id": f.id, "deactivation": "pending"}, "orders": before }).to_string()),
            Some(&serde_json::json!({ "file": done, "orders": after }).to_string()),
        )?;
        Ok(DeactivationOutcome {
            id: f.id.clone(),
            license_type: f.license_type.clone(),
            how,
            returned,
            pending: Vec::new(),
        })
    }

    /// Give a file's units back to the order lines it used (the file's row is left as is).
    pub(super) fn return_units(
        tx: &dyn Tx,
        file_seq: i64,
    ) -> Result<Vec<(String, u64)>, IssuerError> {
        let mut st = tx.prepare_cached(
            "SELECT o.part, u.order_id, u.quantity FROM file_usage u JOIN orders o ON o.id = u.order_id
             WHERE u.file_seq = ?1 ORDER BY o.part",
        )?;
        let rows: Vec<(String, i64, i64)> = st
            .query_map([file_seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let mut up = tx.prepare_cached("UPDATE orders SET used = used - ?2 WHERE id = ?1")?;
        let mut returned: Vec<(String, u64)> = Vec::new();
        for (part, order, q) in rows {
            up.execute(params![order, q])?;
            match returned.last_mut() {
                Some((p, n)) if *p == part => *n += to_u64(q),
                _ => returned.push((part, to_u64(q))),
            }
        }
        Ok(returned)
    }
}
