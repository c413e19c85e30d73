//! Managing portal users and their API tokens after they are added: a user's role, accounts
//! and certification changed, and the tokens listed (never their secrets).

use format::Timestamp;
use store::{params, OptionalExt, TxExt};

use super::portal::{user_row, Role, USER_COLUMNS};
use super::{Ledger, PortalUser};
use crate::error::IssuerError;

/// An API token as it is listed: whose it is, its label and when it was made and revoked.
/// The token itself is never stored, and its digest is not listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalToken {
    /// Row id.
    pub id: i64,
    /// The user it belongs to (row id).
    pub user_id: i64,
    /// The user's e-mail address.
    pub email: String,
    /// The label given when it was made.
    pub label: String,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it was revoked (Unix seconds), if it was.
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "t.id, t.user_id, u.email, t.label, t.created_at, t.revoked_at FROM portal_tokens t JOIN portal_users u ON u.id = t.user_id";

fn token_row(r: &store::Row) -> store::Result<PortalToken> {
    Ok(PortalToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        email: r.get(2)?,
        label: r.get(3)?,
        created_at: r.get(4)?,
        revoked_at: r.get(5)?,
    })
}

/// Refuse a role, certification and accounts that do not go together (as when adding).
pub(super) fn check_user_shape(
    role: Role,
    certified: bool,
    accounts: &[String],
) -> Result<(), IssuerError> {
    let bad = |reason: String| Err(IssuerError::MalformedRequest { reason });
    if role == Role::Staff && !accounts.is_empty() {
        return bad("staff see every account: give no --account".into());
    }
    if role != Role::Staff && accounts.is_empty() {
        return bad(format!(
            "a {} user needs at least one --account they may see",
            role.as_str()
        ));
    }
    if certified && role == Role::Staff {
        return bad(
            "--certified is for customer and partner users (staff may always generate files)"
                .into(),
        );
    }
    Ok(())
}

impl Ledger {
    /// Every API token, or those of one user (by row id): the newest first.
    pub fn portal_tokens(&self, user: Option<i64>) -> Result<Vec<PortalToken>, IssuerError> {
        let mut st = self.db.prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} WHERE CAST(?1 AS BIGINT) IS NULL OR t.user_id = ?1 ORDER BY t.id DESC"
        ))?;
        let v = st
            .query_map([user], token_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// One API token by row id (`None` when there is none).
    pub fn portal_token(&self, id: i64) -> Result<Option<PortalToken>, IssuerError> {
        let mut st = self
            .db
            .prepare_cached(&format!("SELECT {TOKEN_COLUMNS} WHERE t.id = ?1"))?;
        Ok(st.query_row([id], token_row).optional()?)
    }

    /// Change a portal user's role, certification and accounts (all of them at once, as
    /// checked when adding), audited as `portal-user.edit` with the values before and after.
    /// Their sessions and tokens go on: each request reads the user as the ledger has them.
    pub fn edit_portal_user(
        &mut self,
        id: i64,
        role: Role,
        certified: bool,
        accounts: &[String],
        actor: &str,
    ) -> Result<PortalUser, IssuerError> {
        check_user_shape(role, certified, accounts)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let before = tx
            .query_row(
                &format!("SELECT {USER_COLUMNS} FROM portal_users WHERE id = ?1"),
                [id],
                |r| user_row(&tx, r),
            )
            .optional()?
            .ok_or_else(|| IssuerError::UnknownPortalUser {
                email: format!("#{id}"),
            })?;
        let mut ids = Vec::with_capacity(accounts.len());
        for a in accounts {
            ids.push(Self::account_id(&tx, a)?);
        }
        ids.sort_unstable();
        ids.dedup();
        tx.execute(
            "UPDATE portal_users SET role = ?1, certified = ?2 WHERE id = ?3",
            params![role.as_str(), certified, id],
        )?;
        tx.execute("DELETE FROM portal_user_accounts WHERE user_id = ?1", [id])?;
        for aid in ids {
            tx.execute(
                "INSERT INTO portal_user_accounts (user_id, account_id) VALUES (?1, ?2)",
                params![id, aid],
            )?;
        }
        let after = tx.query_row(
            &format!("SELECT {USER_COLUMNS} FROM portal_users WHERE id = ?1"),
            [id],
            |r| user_row(&tx, r),
        )?;
        let j = |u: &PortalUser| {
            serde_json::json!({
                "role": u.role.as_str(), "certified": u.certified, "accounts": u.accounts,
            })
            .to_string()
        };
        Self::append_audit(
            &tx,
            now,
            actor,
            "portal-user.edit",
            &before.email,
            Some(&j(&before)),
            Some(&j(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    }
}
