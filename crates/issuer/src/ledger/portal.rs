//! What the self-service portal keeps in the ledger beside accounts and files: its users
//! (with their role, the accounts they may see and a password hash), their API tokens (kept
//! as SHA-256 digests only), and activation file requests with their attachments.
//!
//! The portal crate never writes SQL: everything it stores goes through these methods, each
//! one `BEGIN IMMEDIATE` transaction with its audit row.

use format::Timestamp;
use sha2::Digest;
use store::{params, OptionalExt, Tx, TxExt};

use super::{check_text, Ledger};
use crate::error::IssuerError;

/// The most attachments a request may carry.
pub const MAX_ATTACHMENTS: usize = 5;
/// The largest attachment accepted, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 1024 * 1024;
/// File name endings accepted for attachments, with the content type they are kept as.
pub const ATTACHMENT_TYPES: &[(&str, &str)] = &[
    (".i3lic", "text/plain"),
    (".txt", "text/plain"),
    (".log", "text/plain"),
    (".pdf", "application/pdf"),
    (".png", "image/png"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
];
/// Request types of the Activation File Request form.
pub const REQUEST_TYPES: &[&str] = &["Question", "Activation File Request"];
/// Categories of an activation file request.
pub const REQUEST_CATEGORIES: &[&str] = &[
    "Activation File",
    "Third Party Activation File",
    "Pay Per Use/Hosted Activation File",
];
/// File types (implementation types) of an activation file request.
pub const REQUEST_FILE_TYPES: &[&str] = &[
    "New Deployment",
    "Add-on",
    "Migration",
    "Reallocation",
    "Temporary",
    "Upgrade",
    "Evaluation",
];

/// What a portal user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Vendor licensing staff: every account; manage portal users and requests.
    Staff,
    /// A customer: their own accounts; only a certified customer generates files.
    Customer,
    /// A partner: the customer accounts they serve; may generate non-ordered development
    /// files for any product of those accounts.
    Partner,
}

impl Role {
    /// `staff`, `customer` or `partner`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Customer => "customer",
            Role::Partner => "partner",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = IssuerError;
    fn from_str(s: &str) -> Result<Role, IssuerError> {
        match s {
            "staff" => Ok(Role::Staff),
            "customer" => Ok(Role::Customer),
            "partner" => Ok(Role::Partner),
            other => Err(IssuerError::MalformedRequest {
                reason: format!(
                    "role '{}' is not one of staff, customer, partner",
                    other.escape_debug()
                ),
            }),
        }
    }
}

/// A portal user as listed (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortalUser {
    /// Row id.
    pub id: i64,
    /// E-mail address (the login name; matched without regard to case).
    pub email: String,
    /// Role.
    pub role: Role,
    /// Whether a customer or partner may generate files (holds a current certification).
    pub certified: bool,
    /// Whether the user may log in.
    pub active: bool,
    /// The accounts the user may see, by name (staff see every account; this list is empty).
    pub accounts: Vec<String>,
    /// Raised whenever the user's browser sessions must end for good (the user is disabled,
    /// or their password is set): a session started under another value is over.
    #[serde(skip)]
    pub sessions_epoch: i64,
}

/// An account as the portal addresses it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountRef {
    /// Stable id (used in addresses: `/accounts/{id}`).
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A new activation file request, as the form sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// The account the request is about (the portal fills it from the address).
    #[serde(default)]
    pub account: String,
    /// One of [`REQUEST_TYPES`].
    pub request_type: String,
    /// One of [`REQUEST_CATEGORIES`] (empty for a question).
    #[serde(default)]
    pub category: String,
    /// One of [`REQUEST_FILE_TYPES`] (empty for a question).
    #[serde(default)]
    pub file_type: String,
    /// Short description.
    pub subject: String,
    /// Details.
    #[serde(default)]
    pub description: String,
    /// Needs immediate attention (not for a question).
    #[serde(default)]
    pub urgent: bool,
    /// Date needed, `YYYY-MM-DD`.
    pub date_needed: String,
    /// Why by that date.
    #[serde(default)]
    pub date_reason: String,
    /// Host-ID code of the primary server, if known.
    #[serde(default)]
    pub host_id: String,
    /// Host-ID code of the backup (switchover) server, if known.
    #[serde(default)]
    pub backup_host_id: String,
    /// The contact person's name.
    #[serde(default)]
    pub contact_name: String,
    /// The contact person's e-mail address.
    #[serde(default)]
    pub contact_email: String,
    /// One of [`super::DEPLOYMENT_TYPES`], or empty.
    #[serde(default)]
    pub deployment_type: String,
    /// One of [`super::IMPLEMENTATION_TYPES`], or empty.
    #[serde(default)]
    pub implementation_type: String,
    /// Sales order or purchase order number (SO# or PO#).
    #[serde(default)]
    pub order_number: String,
}

/// A file attached to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name as sent (no folders).
    pub name: String,
    /// Content type it is served back as (from [`ATTACHMENT_TYPES`]).
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A request as listed and shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestRecord {
    /// `AFR-0000001`.
    pub number: String,
    /// Account.
    pub account: String,
    /// Who sent it (portal user e-mail, or the CLI actor).
    pub requested_by: String,
    /// What was asked.
    #[serde(flatten)]
    pub request: NewRequest,
    /// `open` or `closed`.
    pub status: String,
    /// Staff's answer when closed.
    pub answer: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// When it was closed.
    pub closed_at: Option<Timestamp>,
    /// When it was sent.
    pub created_at: Timestamp,
    /// Attachments: name, content type, size, SHA-256.
    pub attachments: Vec<AttachmentInfo>,
}

/// What a request lists of an attachment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttachmentInfo {
    /// Position, from 1.
    pub position: i64,
    /// File name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// Format a request number: `AFR-0000001`.
pub fn request_number(id: i64) -> String {
    format!("AFR-{id:07}")
}

/// Parse `AFR-0000001` (any case) into its row id.
pub fn parse_request_number(s: &str) -> Option<i64> {
    let d = s.trim().get(4..).filter(|_| {
        s.trim()
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("AFR-"))
    })?;
    if d.is_empty() || d.len() > 12 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok().filter(|v| *v > 0)
}

/// Check an e-mail address as a login name: one `@` with text on both sides, no blanks or
/// refused characters ([`format::text::is_refused_char`]: controls, bidirectional overrides,
/// zero-width characters, ...), at most 254 bytes.
pub fn check_email(email: &str) -> Result<(), IssuerError> {
    let bad = |why: &str| {
        Err(IssuerError::MalformedRequest {
            reason: format!("e-mail address '{}' {why}", email.escape_debug()),
        })
    };
    if email.is_empty() || email.len() > 254 {
        return bad("must be 1 to 254 bytes");
    }
    if let Some(why) = format::text::refused_char_reason(email) {
        return bad(&why);
    }
    if email.chars().any(char::is_whitespace) {
        return bad("must not contain blanks");
    }
    match email.split_once('@') {
        Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@') => Ok(()),
        _ => bad("must be name@domain"),
    }
}

/// Check an attachment against the limits: a plain file name with an accepted ending, at
/// most [`MAX_ATTACHMENT_BYTES`]. Returns the content type it is kept as.
pub fn attachment_type(name: &str, size: usize) -> Result<&'static str, IssuerError> {
    let bad = |reason: String| Err(IssuerError::MalformedRequest { reason });
    if name.is_empty()
        || name.len() > 200
        || name.contains(['/', '\\'])
        || name.starts_with('.')
        || name.chars().any(format::text::is_refused_char)
    {
        return bad(format!(
            "attachment name '{}' must be a plain file name of at most 200 bytes",
            name.escape_debug()
        ));
    }
    if size > MAX_ATTACHMENT_BYTES {
        return bad(format!(
            "attachment '{}' is {size} bytes; at most {MAX_ATTACHMENT_BYTES} are accepted",
            name.escape_debug()
        ));
    }
    let lower = name.to_ascii_lowercase();
    match ATTACHMENT_TYPES
        .iter()
        .find(|(end, _)| lower.ends_with(end))
    {
        Some((_, t)) => Ok(t),
        None => bad(format!(
            "attachment '{}' is not an accepted type ({})",
            name.escape_debug(),
            ATTACHMENT_TYPES
                .iter()
                .map(|(e, _)| *e)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

impl NewRequest {
    /// Check every field ([`NewRequest::problems`]): the first problem is the refusal, named
    /// by the field's JSON name.
    pub fn validate(&self) -> Result<(), IssuerError> {
        match self.problems().into_iter().next() {
            Some(p) => Err(IssuerError::MalformedRequest {
                reason: p.to_string(),
            }),
            None => Ok(()),
        }
    }
}

pub(super) fn user_row(conn: &dyn Tx, r: &store::Row) -> store::Result<PortalUser> {
    let id: i64 = r.get(0)?;
    let role: String = r.get(2)?;
    let mut st = conn.prepare_cached(
        "SELECT a.name FROM portal_user_accounts u JOIN accounts a ON a.id = u.account_id
         WHERE u.user_id = ?1 ORDER BY a.name",
    )?;
    let accounts = st
        .query_map([id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(PortalUser {
        id,
        email: r.get(1)?,
        role: role.parse().unwrap_or(Role::Customer),
        certified: r.get(3)?,
        active: r.get(4)?,
        accounts,
        sessions_epoch: r.get(5)?,
    })
}

pub(super) const USER_COLUMNS: &str = "id, email, role, certified, active, sessions_epoch";

impl Ledger {
    /// Every account with its id, by name.
    pub fn account_refs(&self) -> Result<Vec<AccountRef>, IssuerError> {
        let mut st = self
            .db
            .prepare_cached("SELECT id, name FROM accounts ORDER BY name")?;
        let v = st
            .query_map([], |r| {
                Ok(AccountRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// The account with this id.
    pub fn account_by_id(&self, id: i64) -> Result<Option<AccountRef>, IssuerError> {
        Ok(self
            .db
            .prepare_cached("SELECT id, name FROM accounts WHERE id = ?1")?
            .query_row([id], |r| {
                Ok(AccountRef {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })
            .optional()?)
    }

    /// The account an issued file belongs to (id and name).
    pub fn file_account(&self, file: &str) -> Result<AccountRef, IssuerError> {
        let id = super::policy::file_id(file)?.to_string();
        self.db
            .prepare_cached(
                "SELECT a.id, a.name FROM files f JOIN accounts a ON a.id = f.account_id WHERE f.id = ?1",
            )?
            .query_row([&id], |r| {
                    Ok(AccountRef {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| IssuerError::UnknownFile {
                id: file.to_string(),
            })
    }

    /// Add a portal user. `password_hash` is a PHC string (the portal hashes with
    /// argon2id); `accounts` must exist. Staff take no accounts (they see every one).
    pub fn add_portal_user(
        &mut self,
        email: &str,
        role: Role,
        certified: bool,
        accounts: &[String],
        password_hash: &str,
        actor: &str,
    ) -> Result<PortalUser, IssuerError> {
        check_email(email)?;
        super::portal_admin::check_user_shape(role, certified, accounts)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM portal_users WHERE nocase(email) = nocase(?1))",
            [email],
            |r| r.get(0),
        )?;
        if exists {
            return Err(IssuerError::Duplicate {
                what: "portal user",
                name: email.to_string(),
            });
        }
        let uid: i64 = tx.query_row(
            "INSERT INTO portal_users (id, email, role, certified, password_hash, created_at) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM portal_users), ?1, ?2, ?3, ?4, ?5) RETURNING id",
            params![email, role.as_str(), certified, password_hash, now], |r| r.get(0))?;
        // An account named twice (in any case) is the user's once.
        let mut ids = Vec::with_capacity(accounts.len());
        for a in accounts {
            ids.push(Self::account_id(&tx, a)?);
        }
        ids.sort_unstable();
        ids.dedup();
        for aid in ids {
            tx.execute(
                "INSERT INTO portal_user_accounts (user_id, account_id) VALUES (?1, ?2)",
                params![uid, aid],
            )?;
        }
        let after = serde_json::json!({
            "email": email, "role": role.as_str(), "certified": certified, "accounts": accounts,
        })
        .to_string();
        Self::append_audit(
            &tx,
            now,
            actor,
            "portal-user.add",
            email,
            None,
            Some(&after),
        )?;
        let user = tx.query_row(
            &format!("SELECT {USER_COLUMNS} FROM portal_users WHERE id = ?1"),
            [uid],
            |r| user_row(&tx, r),
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// Every portal user, by e-mail address.
    pub fn portal_users(&self) -> Result<Vec<PortalUser>, IssuerError> {
        let mut st = self.db.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM portal_users ORDER BY email"
        ))?;
        let v = st
            .query_map([], |r| user_row(self.tx(), r))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// A portal user and their password hash, by e-mail address (any case).
    pub fn portal_user_login(
        &self,
        email: &str,
    ) -> Result<Option<(PortalUser, String)>, IssuerError> {
        let mut st = self.db.prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM portal_users WHERE nocase(email) = nocase(?1)"
        ))?;
        Ok(st
            .query_row([email], |r| Ok((user_row(self.tx(), r)?, r.get(6)?)))
            .optional()?)
    }

    /// A portal user by row id.
    pub fn portal_user(&self, id: i64) -> Result<Option<PortalUser>, IssuerError> {
        let mut st = self.db.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM portal_users WHERE id = ?1"
        ))?;
        Ok(st.query_row([id], |r| user_row(self.tx(), r)).optional()?)
    }

    fn portal_user_id(conn: &dyn Tx, email: &str) -> Result<(i64, bool), IssuerError> {
        conn.query_row(
            "SELECT id, active FROM portal_users WHERE nocase(email) = nocase(?1)",
            [email],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| IssuerError::UnknownPortalUser {
            email: email.to_string(),
        })
    }

    /// Enable or disable a portal user. A disabled user cannot log in; disabling also raises
    /// their `sessions_epoch` (and removes the sessions kept for them), so their browser
    /// sessions stay over when they are enabled again, and revokes their API tokens (each revocation audited as `portal-token.revoke`),
    /// so no token comes back with `enable` either.
    pub fn set_portal_user_active(
        &mut self,
        email: &str,
        active: bool,
        actor: &str,
    ) -> Result<(), IssuerError> {
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let (id, was) = Self::portal_user_id(&tx, email)?;
        if was != active {
            // Disabling ends every session for good; enabling brings none back.
            let raise = i64::from(!active);
            tx.execute(
                "UPDATE portal_users SET active = ?1, sessions_epoch = sessions_epoch + ?3
                 WHERE id = ?2",
                params![active, id, raise],
            )?;
            let j = |v: bool| serde_json::json!({ "active": v }).to_string();
            Self::append_audit(
                &tx,
                now,
                actor,
                "portal-user.set-active",
                email,
                Some(&j(was)),
                Some(&j(active)),
            )?;
            if !active {
                // Their browser sessions are over (the epoch says so); their rows go too.
                tx.execute("DELETE FROM portal_sessions WHERE user_id = ?1", [id])?;
                let tokens: Vec<i64> = tx
                    .prepare(
                        "SELECT id FROM portal_tokens WHERE user_id = ?1 AND revoked_at IS NULL ORDER BY id",
                    )?
                    .query_map([id], |r| r.get(0))?
                    .collect::<store::Result<_>>()?;
                for t in tokens {
                    tx.execute(
                        "UPDATE portal_tokens SET revoked_at = ?1 WHERE id = ?2",
                        params![now, t],
                    )?;
                    let after = serde_json::json!({ "token": t, "revoked": true }).to_string();
                    Self::append_audit(
                        &tx,
                        now,
                        actor,
                        "portal-token.revoke",
                        email,
                        None,
                        Some(&after),
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Replace a portal user's password hash, ending their browser sessions for good (their
    /// `sessions_epoch` is raised, and the sessions kept for them are removed).
    pub fn set_portal_password(
        &mut self,
        email: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<(), IssuerError> {
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let (id, _) = Self::portal_user_id(&tx, email)?;
        tx.execute(
            "UPDATE portal_users SET password_hash = ?1, sessions_epoch = sessions_epoch + 1 WHERE id = ?2",
            params![password_hash, id],
        )?;
        tx.execute("DELETE FROM portal_sessions WHERE user_id = ?1", [id])?;
        Self::append_audit(&tx, now, actor, "portal-user.password", email, None, None)?;
        tx.commit()?;
        Ok(())
    }

    /// Record an API token for a user by its SHA-256 digest (the token itself is never
    /// stored). Returns the token's row id.
    pub fn add_portal_token(
        &mut self,
        email: &str,
        digest: &[u8; 32],
        label: &str,
        actor: &str,
    ) -> Result<i64, IssuerError> {
        check_text("token label", label)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let (uid, active) = Self::portal_user_id(&tx, email)?;
        if !active {
            return Err(IssuerError::MalformedRequest {
                reason: format!("portal user '{email}' is disabled"),
            });
        }
        let id: i64 = tx.query_row(
            "INSERT INTO portal_tokens (id, user_id, digest, label, created_at) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM portal_tokens), ?1, ?2, ?3, ?4) RETURNING id",
            params![uid, digest.as_slice(), label, now], |r| r.get(0))?;
        let after = serde_json::json!({ "token": id, "label": label }).to_string();
        Self::append_audit(
            &tx,
            now,
            actor,
            "portal-token.create",
            email,
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Revoke an API token by its row id. Revoking twice is refused.
    pub fn revoke_portal_token(&mut self, id: i64, actor: &str) -> Result<(), IssuerError> {
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let row: Option<(String, Option<i64>)> = tx
            .query_row(
                "SELECT u.email, t.revoked_at FROM portal_tokens t JOIN portal_users u ON u.id = t.user_id WHERE t.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((email, revoked)) = row else {
            return Err(IssuerError::UnknownToken { id });
        };
        if revoked.is_some() {
            return Err(IssuerError::UnknownToken { id });
        }
        tx.execute(
            "UPDATE portal_tokens SET revoked_at = ?1 WHERE id = ?2",
            params![now, id],
        )?;
        let after = serde_json::json!({ "token": id, "revoked": true }).to_string();
        Self::append_audit(
            &tx,
            now,
            actor,
            "portal-token.revoke",
            &email,
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The active user a live (not revoked) token belongs to, by the token's digest.
    pub fn portal_token_user(&self, digest: &[u8; 32]) -> Result<Option<PortalUser>, IssuerError> {
        let mut st = self.db.prepare_cached(
            "SELECT u.id, u.email, u.role, u.certified, u.active, u.sessions_epoch
             FROM portal_tokens t JOIN portal_users u ON u.id = t.user_id
             WHERE t.digest = ?1 AND t.revoked_at IS NULL AND u.active = 1",
        )?;
        Ok(st
            .query_row([digest.as_slice()], |r| user_row(self.tx(), r))
            .optional()?)
    }

    /// Record an activation file request and its attachments (checked against the limits),
    /// in one transaction. Returns its number, `AFR-0000001`.
    pub fn add_request(
        &mut self,
        req: &NewRequest,
        attachments: &[Attachment],
        actor: &str,
    ) -> Result<String, IssuerError> {
        req.validate()?;
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(IssuerError::MalformedRequest {
                reason: format!(
                    "{} attachments; at most {MAX_ATTACHMENTS} are accepted",
                    attachments.len()
                ),
            });
        }
        for a in attachments {
            let t = attachment_type(&a.name, a.bytes.len())?;
            if t != a.content_type {
                return Err(IssuerError::MalformedRequest {
                    reason: format!(
                        "attachment '{}' is kept as {t}, not {}",
                        a.name.escape_debug(),
                        a.content_type.escape_debug()
                    ),
                });
            }
        }
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let aid = Self::account_id(&tx, &req.account)?;
        let id: i64 = tx.query_row(
            "INSERT INTO requests (id, account_id, requested_by, request_type, category, file_type, subject,
                description, urgent, date_needed, date_reason, host_id, backup_host_id, created_at,
                contact_name, contact_email, deployment_type, implementation_type, order_number)
             VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM requests), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                ?14, ?15, ?16, ?17, ?18) RETURNING id",
            params![
                aid,
                actor,
                req.request_type,
                req.category,
                req.file_type,
                req.subject,
                req.description,
                req.urgent,
                req.date_needed,
                req.date_reason,
                req.host_id,
                req.backup_host_id,
                now,
                req.contact_name,
                req.contact_email,
                req.deployment_type,
                req.implementation_type,
                req.order_number
            ], |r| r.get(0))?;
        let mut listed = Vec::new();
        for (i, a) in attachments.iter().enumerate() {
            let sha = super::hex(&sha2::Sha256::digest(&a.bytes));
            tx.execute(
                "INSERT INTO request_attachments (request_id, position, name, content_type, sha256, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, i as i64 + 1, a.name, a.content_type, sha, a.bytes],
            )?;
            listed
                .push(serde_json::json!({ "name": a.name, "size": a.bytes.len(), "sha256": sha }));
        }
        let number = request_number(id);
        let after = serde_json::json!({ "request": req, "attachments": listed }).to_string();
        Self::append_audit(&tx, now, actor, "request.add", &number, None, Some(&after))?;
        tx.commit()?;
        Ok(number)
    }

    fn request_rows(
        &self,
        filter: &str,
        args: &[&dyn store::ToValue],
    ) -> Result<Vec<RequestRecord>, IssuerError> {
        let mut st = self.db.prepare_cached(&format!(
            "SELECT r.id, a.name, r.requested_by, r.request_type, r.category, r.file_type, r.subject,
                    r.description, r.urgent, r.date_needed, r.date_reason, r.host_id, r.backup_host_id,
                    r.status, r.answer, r.closed_by, r.closed_at, r.created_at, r.contact_name,
                    r.contact_email, r.deployment_type, r.implementation_type, r.order_number
             FROM requests r JOIN accounts a ON a.id = r.account_id {filter} ORDER BY r.id DESC"
        ))?;
        let mut rows = st
            .query_map(args, |r| {
                let ts = |v: i64| Timestamp::from_unix(v).unwrap_or(Timestamp::PERPETUAL);
                Ok((
                    r.get::<i64>(0)?,
                    RequestRecord {
                        number: request_number(r.get(0)?),
                        account: r.get(1)?,
                        requested_by: r.get(2)?,
                        request: NewRequest {
                            account: r.get(1)?,
                            request_type: r.get(3)?,
                            category: r.get(4)?,
                            file_type: r.get(5)?,
                            subject: r.get(6)?,
                            description: r.get(7)?,
                            urgent: r.get(8)?,
                            date_needed: r.get(9)?,
                            date_reason: r.get(10)?,
                            host_id: r.get(11)?,
                            backup_host_id: r.get(12)?,
                            contact_name: r.get(18)?,
                            contact_email: r.get(19)?,
                            deployment_type: r.get(20)?,
                            implementation_type: r.get(21)?,
                            order_number: r.get(22)?,
                        },
                        status: r.get(13)?,
                        answer: r.get(14)?,
                        closed_by: r.get(15)?,
                        closed_at: r.get::<Option<i64>>(16)?.map(ts),
                        created_at: ts(r.get(17)?),
                        attachments: Vec::new(),
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut st = self.db.prepare_cached(
            "SELECT position, name, content_type, length(bytes), sha256 FROM request_attachments
             WHERE request_id = ?1 ORDER BY position",
        )?;
        for (id, r) in &mut rows {
            r.attachments = st
                .query_map([*id], |x| {
                    Ok(AttachmentInfo {
                        position: x.get(0)?,
                        name: x.get(1)?,
                        content_type: x.get(2)?,
                        size: super::to_u64(x.get(3)?),
                        sha256: x.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
        }
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    /// Requests, newest first: of one account, or of every account (`None`).
    pub fn requests(&self, account: Option<&str>) -> Result<Vec<RequestRecord>, IssuerError> {
        match account {
            Some(a) => {
                let aid = Self::account_id(self.tx(), a)?;
                self.request_rows("WHERE r.account_id = ?1", &[&aid])
            }
            None => self.request_rows("", &[]),
        }
    }

    /// One request by its number.
    pub fn request(&self, number: &str) -> Result<RequestRecord, IssuerError> {
        let unknown = || IssuerError::UnknownRequest {
            number: number.to_string(),
        };
        let id = parse_request_number(number).ok_or_else(unknown)?;
        self.request_rows("WHERE r.id = ?1", &[&id])?
            .into_iter()
            .next()
            .ok_or_else(unknown)
    }

    /// One attachment of a request, by position (from 1).
    pub fn request_attachment(
        &self,
        number: &str,
        position: i64,
    ) -> Result<Attachment, IssuerError> {
        let unknown = || IssuerError::UnknownRequest {
            number: format!("{number} attachment {position}"),
        };
        let id = parse_request_number(number).ok_or_else(unknown)?;
        self.db
            .query_row(
                "SELECT name, content_type, bytes FROM request_attachments WHERE request_id = ?1 AND position = ?2",
                params![id, position],
                |r| {
                    Ok(Attachment {
                        name: r.get(0)?,
                        content_type: r.get(1)?,
                        bytes: r.get(2)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(unknown)
    }

    /// Close a request with staff's answer. Closing a closed request is refused.
    pub fn close_request(
        &mut self,
        number: &str,
        answer: &str,
        actor: &str,
    ) -> Result<(), IssuerError> {
        if answer.trim().is_empty() || answer.len() > 20_000 {
            return Err(IssuerError::MalformedRequest {
                reason: "the answer must be 1 to 20000 bytes of text".into(),
            });
        }
        let unknown = || IssuerError::UnknownRequest {
            number: number.to_string(),
        };
        let id = parse_request_number(number).ok_or_else(unknown)?;
        let now = Timestamp::now().unix();
        let tx = self.db.begin_write()?;
        let status: String = tx
            .query_row("SELECT status FROM requests WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(unknown)?;
        if status == "closed" {
            return Err(IssuerError::RequestClosed {
                number: request_number(id),
            });
        }
        tx.execute(
            "UPDATE requests SET status = 'closed', answer = ?1, closed_by = ?2, closed_at = ?3 WHERE id = ?4",
            params![answer, actor, now, id],
        )?;
        let after = serde_json::json!({ "status": "closed", "answer": answer }).to_string();
        Self::append_audit(
            &tx,
            now,
            actor,
            "request.close",
            &request_number(id),
            Some(&serde_json::json!({ "status": "open" }).to_string()),
            Some(&after),
        )?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `summary_parts` gives exactly the rows `summary` gives, account-wide and per site.
    #[test]
    fn summary_parts_are_the_summarys_rows() {
        use crate::{Catalog, IssueRequest, SiteDetails};
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let cat = Catalog::built_in().unwrap();
        l.add_account("A", "t").unwrap();
        for s in ["HQ", "Lab"] {
            l.add_site("A", s, &SiteDetails::default(), "t").unwrap();
        }
        l.add_order(&cat, "A", "SW-001-4.0-SL03", 2, true, "t")
            .unwrap();
        l.add_order(&cat, "A", "SW-001-4.0-AL02", 10, true, "t")
            .unwrap();
        l.add_order(&cat, "A", "SW-001-4.0-AL02", 3, false, "t")
            .unwrap();
        let req = crate::ledger::test_support::request("A", "Lab", "m", 4, 0xab);
        l.issue(
            &cat,
            &req,
            &format::SecretKey::generate(),
            None,
            Timestamp::now(),
        )
        .unwrap();
        // Pages of the activity list add up to the whole list, for each filter.
        let key = format::SecretKey::generate();
        for _ in 0..3 {
            let hq = IssueRequest {
                site: "HQ".into(),
                add: vec![],
                ..req.clone()
            };
            let f = l.issue(&cat, &hq, &key, None, Timestamp::now()).unwrap();
            l.deactivate(&f.file_id.to_string(), "t", Timestamp::now())
                .unwrap();
        }
        l.issue(
            &cat,
            &IssueRequest {
                site: "HQ".into(),
                ..req.clone()
            },
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap();
        let filters = [
            crate::ActivityFilter {
                account: Some("A".into()),
                ..Default::default()
            },
            crate::ActivityFilter {
                account: Some("A".into()),
                site: Some("Lab".into()),
                ..Default::default()
            },
            crate::ActivityFilter {
                site: Some("Lab".into()),
                ..Default::default()
            },
            crate::ActivityFilter {
                account: Some("A".into()),
                active: Some(false),
                ..Default::default()
            },
        ];
        for f in &filters {
            let all = l.activity(f).unwrap();
            let (p1, total) = l.activity_page(f, 1, 0).unwrap();
            let (p2, _) = l.activity_page(f, 10, 1).unwrap();
            assert_eq!(total as usize, all.len(), "{f:?}");
            assert_eq!([p1, p2].concat(), all, "{f:?}");
        }
        let full = l.summary(&cat, "A", None).unwrap();
        assert_eq!(l.summary_parts(&cat, "A", None).unwrap(), full.parts);
        for site in &full.sites {
            assert_eq!(
                l.summary_parts(&cat, "A", Some(&site.site)).unwrap(),
                site.parts
            );
        }
        assert!(matches!(
            l.summary_parts(&cat, "A", Some("Nope")),
            Err(IssuerError::UnknownSite { .. })
        ));
    }

    #[test]
    fn request_numbers_round_trip() {
        assert_eq!(request_number(1), "AFR-0000001");
        assert_eq!(parse_request_number("afr-0000042"), Some(42));
        for bad in [
            "",
            "AFR-",
            "AFR-0",
            "AFR-12a",
            "XYZ-0000001",
            "AFR-+1",
            "AFR-0000000",
        ] {
            assert_eq!(parse_request_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_and_attachments_are_checked() {
        assert!(check_email("a@b.example").is_ok());
        for bad in ["", "ab", "a@", "@b", "a b@c", "a@b@c", "a\u{7}@b"] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(attachment_type("old.i3lic", 10).unwrap(), "text/plain");
        assert_eq!(attachment_type("SHOT.PNG", 10).unwrap(), "image/png");
        assert!(attachment_type("x.exe", 10).is_err());
        assert!(attachment_type("../x.txt", 10).is_err());
        assert!(attachment_type(".txt", 10).is_err());
        assert!(attachment_type("x.txt", MAX_ATTACHMENT_BYTES + 1).is_err());
    }

    #[test]
    fn disabling_and_a_new_password_raise_the_sessions_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        l.add_account("Contoso", "t").unwrap();
        let email = "ann@contoso.example";
        let accounts = ["Contoso".to_string()];
        l.add_portal_user(email, Role::Customer, false, &accounts, "h", "t")
            .unwrap();
        let epoch = |l: &Ledger| {
            l.portal_user_login(email)
                .unwrap()
                .unwrap()
                .0
                .sessions_epoch
        };
        assert_eq!(epoch(&l), 0);
        l.set_portal_user_active(email, false, "t").unwrap();
        assert_eq!(epoch(&l), 1, "disabled");
        l.set_portal_user_active(email, true, "t").unwrap();
        assert_eq!(epoch(&l), 1, "enabling brings no session back");
        l.set_portal_password(email, "h2", "t").unwrap();
        assert_eq!(epoch(&l), 2, "a new password");
    }

    #[test]
    fn users_tokens_and_requests_are_kept_with_audit_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        l.add_account("Contoso", "t").unwrap();
        let u = l
            .add_portal_user(
                "Ann@Contoso.example",
                Role::Customer,
                true,
                &["Contoso".into()],
                "$argon2id$x",
                "t",
            )
            .unwrap();
        assert_eq!(u.accounts, ["Contoso"]);
        // An account named twice, in another case, is the user's once.
        let twice = l
            .add_portal_user(
                "cat@contoso.example",
                Role::Customer,
                false,
                &["Contoso".into(), "CONTOSO".into()],
                "h",
                "t",
            )
            .unwrap();
        assert_eq!(twice.accounts, ["Contoso"]);
        assert!(matches!(
            l.add_portal_user(
                "ann@contoso.example",
                Role::Customer,
                false,
                &["Contoso".into()],
                "h",
                "t"
            ),
            Err(IssuerError::Duplicate { .. })
        ));
        assert!(matches!(
            l.add_portal_user(
                "bob@x.example",
                Role::Customer,
                false,
                &["Nope".into()],
                "h",
                "t"
            ),
            Err(IssuerError::UnknownAccount { .. })
        ));
        assert!(
            l.portal_user_login("bob@x.example").unwrap().is_none(),
            "nothing half-written"
        );
        let (found, hash) = l.portal_user_login("ann@contoso.example").unwrap().unwrap();
        assert_eq!((found.id, hash.as_str()), (u.id, "$argon2id$x"));
        let digest = [7u8; 32];
        let t = l
            .add_portal_token("ann@contoso.example", &digest, "ci", "t")
            .unwrap();
        assert_eq!(l.portal_token_user(&digest).unwrap().unwrap().id, u.id);
        l.set_portal_user_active("ann@contoso.example", false, "t")
            .unwrap();
        assert!(
            l.portal_token_user(&digest).unwrap().is_none(),
            "disabled user"
        );
        l.set_portal_user_active("ann@contoso.example", true, "t")
            .unwrap();
        assert!(
            l.portal_token_user(&digest).unwrap().is_none(),
            "disabling revoked the token: enabling does not bring it back"
        );
        assert!(matches!(
            l.revoke_portal_token(t, "t"),
            Err(IssuerError::UnknownToken { .. })
        ));
        let digest = [8u8; 32];
        let t = l
            .add_portal_token("ann@contoso.example", &digest, "ci", "t")
            .unwrap();
        l.revoke_portal_token(t, "t").unwrap();
        assert!(l.portal_token_user(&digest).unwrap().is_none(), "revoked");
        assert!(matches!(
            l.revoke_portal_token(t, "t"),
            Err(IssuerError::UnknownToken { .. })
        ));

        let req = NewRequest {
            account: "Contoso".into(),
            request_type: "Activation File Request".into(),
            category: "Activation File".into(),
            file_type: "Upgrade".into(),
            subject: "Move to 4.0".into(),
            date_needed: "2099-12-24".into(),
            ..Default::default()
        };
        let att = Attachment {
            name: "old.i3lic".into(),
            content_type: "text/plain".into(),
            bytes: b"file".to_vec(),
        };
        let n = l
            .add_request(&req, std::slice::from_ref(&att), "ann@contoso.example")
            .unwrap();
        assert_eq!(n, "AFR-0000001");
        let r = l.request(&n).unwrap();
        assert_eq!((r.status.as_str(), r.attachments.len()), ("open", 1));
        assert_eq!(l.request_attachment(&n, 1).unwrap(), att);
        let mut bad = req.clone();
        bad.date_needed = "24/12/2026".into();
        assert!(l.add_request(&bad, &[], "x").is_err());
        assert_eq!(l.requests(None).unwrap().len(), 1, "nothing half-written");
        l.close_request(&n, "Done: see file 1.", "staff@v.example")
            .unwrap();
        assert!(matches!(
            l.close_request(&n, "again", "s"),
            Err(IssuerError::RequestClosed { .. })
        ));
        assert!(l.verify_audit(None).unwrap().intact());
    }
}
