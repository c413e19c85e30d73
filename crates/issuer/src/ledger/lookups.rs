//! Lookups and edits vendor staff make from the command line (and the portal through the
//! same calls): order lines, the audit rows, short file-id prefixes, renaming an account and
//! editing an install site. Every edit is one `BEGIN IMMEDIATE` transaction with its audit
//! row, as every other change of the ledger.

use format::Timestamp;
use store::{params, OptionalExt, Tx, TxExt};

use super::policy::{self, IdLookup, MAX_CANDIDATES};
use super::{check_name, hex, to_u64, Ledger, SiteDetails};
use crate::error::IssuerError;

/// One order line of an account, as `issuer order list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrderLine {
    /// The line's number in the ledger.
    pub id: i64,
    /// Part number.
    pub part: String,
    /// Units ordered.
    pub quantity: u64,
    /// Units used by active files.
    pub used: u64,
    /// Units still available on this line (none on a retired line).
    pub available: u64,
    /// Perpetual units (else usable by time-limited files only).
    pub perpetual: bool,
    /// Whether the line counts (an upgraded line is retired).
    pub active: bool,
    /// The line this one was upgraded from.
    pub upgraded_from: Option<i64>,
    /// The server line whose included development system this line is.
    pub included_with: Option<i64>,
    /// When it was recorded.
    pub added_at: Timestamp,
    /// Who recorded it.
    pub added_by: String,
}

/// One row of the audit log, as `issuer audit log` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    /// Sequence number (1, 2, 3 ...).
    pub seq: i64,
    /// When the change was made.
    pub at: Timestamp,
    /// Who made it.
    pub actor: String,
    /// What was done (`account.add`, `file.issue`, `site.edit`, ...).
    pub action: String,
    /// What it was done to (an account, `account/site`, a file id).
    pub subject: String,
    /// The state before, as JSON (absent for an addition).
    pub before: Option<serde_json::Value>,
    /// The state after, as JSON.
    pub after: Option<serde_json::Value>,
    /// The row's hash (hex).
    pub hash: String,
}

fn ts(v: i64) -> Timestamp {
    Timestamp::from_unix(v).unwrap_or(Timestamp::PERPETUAL)
}

fn parse_json(v: Option<String>) -> Option<serde_json::Value> {
    v.map(|s| serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s)))
}

impl Ledger {
    /// The order lines of an account, oldest first (retired lines included, marked inactive).
    pub fn orders(&self, account: &str) -> Result<Vec<OrderLine>, IssuerError> {
        let a = Self::account_id(self.tx(), account)?;
        let mut st = self.db.prepare_cached(
            "SELECT id, part, quantity, used, perpetual, active, upgraded_from, included_with,
                    added_at, added_by
             FROM orders WHERE account_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([a], |r| {
                let line = policy::Line {
                    id: r.get(0)?,
                    quantity: to_u64(r.get(2)?),
                    used: to_u64(r.get(3)?),
                    perpetual: r.get(4)?,
                    active: r.get(5)?,
                };
                Ok(OrderLine {
                    id: line.id,
                    part: r.get(1)?,
                    quantity: line.quantity,
                    used: line.used,
                    available: line.available(),
                    perpetual: line.perpetual,
                    active: line.active,
                    upgraded_from: r.get(6)?,
                    included_with: r.get(7)?,
                    added_at: ts(r.get(8)?),
                    added_by: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The audit rows, oldest first; only those whose subject contains `subject` (without
    /// case) when given, and the last `limit` of them when given.
    pub fn audit_log(
        &self,
        subject: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditRow>, IssuerError> {
        let mut st = self.db.prepare(
            "SELECT seq, at, actor, action, subject, before, after, hash FROM audit
             WHERE CAST(?1 AS TEXT) IS NULL OR instr(nocase(subject), nocase(?1)) > 0
             ORDER BY seq DESC LIMIT ?2",
        )?;
        let limit = limit.map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut rows = st
            .query_map(params![subject, limit], |r| {
                Ok(AuditRow {
                    seq: r.get(0)?,
                    at: ts(r.get(1)?),
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    before: parse_json(r.get(5)?),
                    after: parse_json(r.get(6)?),
                    hash: hex(&r.get::<Vec<u8>>(7)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.reverse();
        Ok(rows)
    }

    /// The full id of the file that `given` names: a whole id (any case, blanks around it
    /// ignored) as it is, or a prefix of at least [`policy::MIN_ID_PREFIX`] hex digits that
    /// exactly one file's id starts with (as git's short hashes), by the rules of
    /// [`policy::id_lookup`] and [`policy::prefix_match`]. No file:
    /// [`IssuerError::UnknownFile`]; several: [`IssuerError::AmbiguousId`], naming them.
    pub fn resolve_file_id(&self, given: &str) -> Result<String, IssuerError> {
        let id = match policy::id_lookup(given)? {
            IdLookup::Whole(id) => return Ok(id),
            IdLookup::Prefix(p) => p,
        };
        let mut st = self
            .db
            .prepare("SELECT id FROM files WHERE substr(id, 1, ?2) = ?1 ORDER BY id LIMIT ?3")?;
        let found = st
            .query_map(
                params![id, id.len() as i64, MAX_CANDIDATES as i64 + 1],
                |r| r.get::<String>(0),
            )?
            .collect::<Result<Vec<_>, _>>()?;
        policy::prefix_match(given, &id, found, || {
            let total: i64 = self.db.query_row(
                "SELECT COUNT(*) FROM files WHERE substr(id, 1, ?2) = ?1",
                params![id, id.len() as i64],
                |r| r.get(0),
            )?;
            Ok(to_u64(total))
        })
    }

    /// Rename an account. Its sites, orders and files stay with it; files already issued keep
    /// the name they were signed with (an update signs the new one). A new name that another
    /// account has, in any case, is refused ([`IssuerError::Duplicate`]); the same name is no
    /// change (no audit row).
    pub fn rename_account(&mut self, old: &str, new: &str, actor: &str) -> Result<(), IssuerError> {
        check_name("account name", new)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, old)?;
        let current: String =
            tx.query_row("SELECT name FROM accounts WHERE id = ?1", [a], |r| r.get(0))?;
        if current == new {
            return Ok(());
        }
        Self::refuse_taken_account_name(&tx, new, Some(a))?;
        tx.execute(
            "UPDATE accounts SET name = ?1 WHERE id = ?2",
            params![new, a],
        )?;
        Self::append_audit(
            &tx,
            now,
            actor,
            "account.rename",
            new,
            Some(&serde_json::json!({ "name": current }).to_string()),
            Some(&serde_json::json!({ "name": new }).to_string()),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Edit an install site: its name (`new_name`, when given) and its details, replaced as a
    /// whole by `details` (the caller reads [`Ledger::sites`], changes what it must, and
    /// passes the result). Checked as [`Ledger::add_site`] checks them; files already issued
    /// keep the site name they were signed with. Returns whether anything changed (nothing
    /// changed: no audit row).
    pub fn edit_site(
        &mut self,
        account: &str,
        name: &str,
        new_name: Option<&str>,
        details: &SiteDetails,
        actor: &str,
    ) -> Result<bool, IssuerError> {
        if let Some(n) = new_name {
            check_name("site name", n)?;
        }
        let details = &policy::site_details(details)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let a = Self::account_id(&tx, account)?;
        let (s, _) = Self::site_id(&tx, account, a, name)?;
        let before = Self::site_row(&tx, s)?;
        let target = new_name.unwrap_or(&before.0);
        if target != before.0 {
            let taken: Option<String> = tx
                .query_row(
                    "SELECT name FROM sites WHERE account_id = ?1 AND nocase(name) = nocase(?2)
                     AND id <> ?3",
                    params![a, target, s],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(other) = taken {
                return Err(IssuerError::Duplicate {
                    what: "install site",
                    name: other,
                });
            }
        }
        if target == before.0 && *details == before.1 {
            return Ok(false);
        }
        let line = |i: usize| details.address.get(i).map(String::as_str).unwrap_or("");
        tx.execute(
            "UPDATE sites SET name = ?1, address1 = ?2, address2 = ?3, address3 = ?4, city = ?5,
                    state = ?6, country = ?7, postal_code = ?8
             WHERE id = ?9",
            params![
                target,
                line(0),
                line(1),
                line(2),
                details.city,
                details.state,
                details.country,
                details.postal_code,
                s
            ],
        )?;
        let j = |n: &str, d: &SiteDetails| {
            serde_json::json!({ "account": account, "name": n, "details": d }).to_string()
        };
        Self::append_audit(
            &tx,
            now,
            actor,
            "site.edit",
            &format!("{account}/{target}"),
            Some(&j(&before.0, &before.1)),
            Some(&j(target, details)),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// A site's name and details by row id.
    fn site_row(conn: &dyn Tx, id: i64) -> Result<(String, SiteDetails), IssuerError> {
        Ok(conn.query_row(
            "SELECT name, address1, address2, address3, city, state, country, postal_code
             FROM sites WHERE id = ?1",
            [id],
            |r| {
                let address = [r.get::<String>(1)?, r.get(2)?, r.get(3)?]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                Ok((
                    r.get(0)?,
                    SiteDetails {
                        address,
                        city: r.get(4)?,
                        state: r.get(5)?,
                        country: r.get(6)?,
                        postal_code: r.get(7)?,
                    },
                ))
            },
        )?)
    }
}
