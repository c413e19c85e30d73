//! Who is calling: passwords (argon2id), browser sessions with their anti-forgery token,
//! and API tokens. Login throttling is in [`crate::throttle`].
//!
//! Sessions live in the ledger ([`issuer::ledger::PortalSession`]), so every portal process
//! on one ledger knows them and a restart keeps them. A session id is 32 random bytes from the
//! operating system, sent only in an `HttpOnly; SameSite=Strict` cookie; the ledger keeps
//! the SHA-256 of it, so a copy of the ledger gives no usable cookie. Each session has its own anti-forgery token,
//! compared in constant time on every state-changing form. Logging in always starts a new
//! session (the one before it, used for the login form, is dropped), so an id planted before
//! login is worthless after it.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use issuer::ledger::TOUCH_INTERVAL_MS;
use issuer::{PortalSession, SessionLimits};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::error::PortalError;
use crate::service::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "i3lic_session";
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after login, whatever happens.
pub const ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept at once (anonymous ones, for the login form, included); beyond it
/// the expired ones are removed, then the least recently used.
pub const MAX_SESSIONS: usize = 100_000;
/// API tokens start with this, so they are recognised in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "i3lic_pt_";
pub use crate::passwords::{MAX_PASSWORD, MIN_PASSWORD};
pub use crate::throttle::{
    Throttle, ACCOUNT_DELAY, MAX_FAILURES, MAX_FAILURES_PER_ADDRESS, THROTTLE_WINDOW,
};
/// The cookie that carries the login form's anti-forgery token.
pub const LOGIN_COOKIE: &str = "i3lic_login";
/// Password checks run at once (argon2id takes 19 MiB each); others wait their turn.
pub const PASSWORD_CHECKS: usize = 4;

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// argon2id's cost: 19 MiB of memory, 2 passes, 1 lane, OWASP's minimum for argon2id
/// (Password Storage Cheat Sheet). Hashes made with other parameters still verify: they are
/// read from the hash.
pub const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const ARGON2_PASSES: u32 = 2;
/// Lanes.
pub const ARGON2_LANES: u32 = 1;

fn argon2id() -> Result<Argon2<'static>, String> {
    let params = argon2::Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// Check a new password of the user with this e-mail address against the policy
/// ([`crate::passwords::check_new_password`]), then hash it with argon2id
/// ([`ARGON2_MEMORY_KIB`], [`ARGON2_PASSES`], [`ARGON2_LANES`]) and a random salt, as a PHC
/// string.
pub fn hash_password(email: &str, password: &str) -> Result<String, String> {
    crate::passwords::check_new_password(email, password)?;
    let salt = SaltString::generate(&mut OsRng);
    argon2id()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches a PHC hash made by [`hash_password`].
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD {
        return false;
    }
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to check against when the e-mail address is unknown, so a login for an unknown
/// user costs as much as one for a known user (no timing tells which addresses exist).
pub fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        hash_password("nobody@invalid.example", "not a real password at all").unwrap_or_default()
    })
}

/// A new anti-forgery token for the login form.
pub fn login_token() -> String {
    b64(&random32())
}

/// A new API token (`i3lic_pt_` and 43 characters) and the digest the ledger keeps.
pub fn new_token() -> (String, [u8; 32]) {
    let t = format!("{TOKEN_PREFIX}{}", b64(&random32()));
    let d = token_digest(&t);
    (t, d)
}

/// The digest of a token as the ledger keeps it.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal byte strings, compared in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One session: anonymous (the login form) or of a user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The portal user's id, once logged in.
    pub user_id: Option<i64>,
    /// The user's `sessions_epoch` at login: the session is over once the ledger's differs
    /// (the user was disabled or given a new password since, from the CLI or a page).
    pub epoch: i64,
    /// The anti-forgery token every state-changing form of this session carries.
    pub csrf: String,
    /// When it started (Unix milliseconds).
    pub created: i64,
    /// When it was last used, as the ledger has it (Unix milliseconds; written again at
    /// most once a minute, [`issuer::ledger::TOUCH_INTERVAL_MS`]).
    pub last_seen: i64,
}

impl From<PortalSession> for Session {
    fn from(s: PortalSession) -> Self {
        Session {
            user_id: s.user_id,
            epoch: s.epoch,
            csrf: s.csrf,
            created: s.created_at,
            last_seen: s.last_seen,
        }
    }
}

/// How long sessions last and how many exist: [`IDLE_TIMEOUT`], [`ABSOLUTE_TIMEOUT`],
/// [`MAX_SESSIONS`].
pub const SESSION_LIMITS: SessionLimits = SessionLimits {
    idle: IDLE_TIMEOUT,
    absolute: ABSOLUTE_TIMEOUT,
    max: MAX_SESSIONS as u64,
};

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The sessions of every portal process on the ledger: a view of the ledger's
/// `portal_sessions` ([`AppState::sessions`]). Lookups run on the readers; creating,
/// touching and ending sessions on the writer, off the async threads, as every other
/// ledger call of the portal.
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    pub(crate) state: &'a Arc<AppState>,
}

impl Sessions<'_> {
    /// A new session (anonymous with `None`) of a user whose `sessions_epoch` is `epoch`:
    /// returns the cookie value and the session. Only the cookie's digest is kept.
    pub async fn create(
        &self,
        user_id: Option<i64>,
        epoch: i64,
    ) -> Result<(String, Session), PortalError> {
        let id = random32();
        let now = now_ms();
        let s = PortalSession {
            user_id,
            epoch,
            csrf: b64(&random32()),
            created_at: now,
            last_seen: now,
        };
        let digest: [u8; 32] = Sha256::digest(id).into();
        let kept = s.clone();
        self.state
            .write(move |l, _, _| Ok(l.create_portal_session(&digest, &kept, &SESSION_LIMITS)?))
            .await?;
        Ok((b64(&id), s.into()))
    }

    fn key(cookie: &str) -> Option<[u8; 32]> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(cookie)
            .ok()?;
        (raw.len() == 32).then(|| Sha256::digest(&raw).into())
    }

    /// The live session a cookie names, or `None` (a ledger that cannot be read is logged
    /// and counts as none). Its last use becomes now when the ledger's is a minute old.
    pub async fn get(&self, cookie: &str) -> Option<Session> {
        let key = Self::key(cookie)?;
        let now = now_ms();
        let found = self
            .state
            .read(move |l, _| Ok(l.portal_session(&key, now, &SESSION_LIMITS)?))
            .await;
        let s = match found {
            Ok(s) => s?,
            Err(e) => {
                tracing::warn!(target: "i3lic::portal", error = %e.message, "reading a session");
                return None;
            }
        };
        if now.saturating_sub(s.last_seen) >= TOUCH_INTERVAL_MS {
            let touched = self
                .state
                .write(move |l, _, _| Ok(l.touch_portal_session(&key, now, &SESSION_LIMITS)?))
                .await;
            if let Err(e) = touched {
                tracing::warn!(target: "i3lic::portal", error = %e.message, "touching a session");
            }
        }
        Some(s.into())
    }

    /// End the session a cookie names (a failure is logged: the cookie is removed anyway).
    pub async fn remove(&self, cookie: &str) {
        if let Some(key) = Self::key(cookie) {
            let r = self
                .state
                .write(move |l, _, _| Ok(l.end_portal_session(&key)?))
                .await;
            if let Err(e) = r {
                tracing::warn!(target: "i3lic::portal", error = %e.message, "ending a session");
            }
        }
    }

    /// End every session of a user (after they are disabled); their sessions end anyway at
    /// the next request, by the user's `sessions_epoch`.
    pub async fn remove_user(&self, user_id: i64) {
        let r = self
            .state
            .write(move |l, _, _| Ok(l.end_portal_user_sessions(user_id)?))
            .await;
        if let Err(e) = r {
            tracing::warn!(target: "i3lic::portal", error = %e.message, "ending a user's sessions");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("ann@x.example", "correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("ann@x.example", "short").is_err());
        assert!(hash_password("ann@x.example", "aaaaaaaaaa").is_err());
    }

    #[test]
    fn tokens_have_a_prefix_and_a_digest() {
        let (t, d) = new_token();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == TOKEN_PREFIX.len() + 43);
        assert_eq!(token_digest(&t), d);
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
    }
}
