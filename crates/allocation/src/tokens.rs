//! The license server's bearer tokens and why sessions ended: kept in the store, so every
//! server on one store accepts the same tokens and tells the same story.

use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::{params, OptionalExt, TxExt};

use crate::allocator::Allocator;
use crate::error::{AllocError, Entity};
use crate::model::validate_name;

/// What every token begins with, so a leaked one is recognised (by people and by secret
/// scanners).
pub const TOKEN_PREFIX: &str = "i3lic_ls_";

/// A token as `licadmin token list` shows it (never the token itself: only its digest is
/// kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The name given when it was made.
    pub name: String,
    /// When it was made (Unix seconds).
    pub created_at: i64,
    /// When it was revoked (Unix seconds), if it was.
    pub revoked_at: Option<i64>,
}

/// Why a session ended, as the store recorded it (kept for a day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionEnd {
    /// `logged-off`, `lease-lapsed`, `logged-on-elsewhere`, `user-removed`,
    /// `station-removed`, `station-disabled`, `licenses-removed`.
    pub reason: String,
    /// When (Unix seconds).
    pub ended_at: i64,
}

/// The hex SHA-256 digest of a token, the only form the store keeps.
fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal byte strings, compared in time that depends only on their lengths.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The live tokens (names and digests) read at one moment ([`Allocator::token_set`]).
#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    live: Vec<(String, String)>,
}

impl TokenSet {
    /// The name of the live token `token` is, if it is one: its digest compared with every
    /// live token's in constant time, so the time taken tells nothing of how close a guess
    /// came.
    pub fn check(&self, token: &str) -> Option<&str> {
        let d = digest(token);
        let mut found = None;
        for (name, stored) in &self.live {
            if ct_eq(stored.as_bytes(), d.as_bytes()) {
                found = Some(name.as_str());
            }
        }
        found
    }
}

impl Allocator {
    /// Make a bearer token named `name` and return it: the only time it is seen (the store
    /// keeps its SHA-256 digest). A name in use, even by a revoked token, is refused.
    pub fn create_token(&self, name: &str) -> Result<String, AllocError> {
        validate_name("token name", name)?;
        let mut raw = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
        let token = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        );
        let d = digest(&token);
        self.tx(|c, now| {
            if c.query_row("SELECT 1 FROM tokens WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some()
            {
                return Err(AllocError::AlreadyExists {
                    what: Entity::Token,
                    name: name.into(),
                });
            }
            c.execute(
                "INSERT INTO tokens (name, digest, created_at, revoked_at) VALUES (?1, ?2, ?3, NULL)",
                params![name, d, now],
            )?;
            crate::history::record(c, now, &crate::history::Event::change(format!("token '{name}'"), "created"))
        })?;
        Ok(token)
    }

    /// Every token, by name.
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, AllocError> {
        self.read(|c, _| {
            Ok(c.query_map(
                "SELECT name, created_at, revoked_at FROM tokens ORDER BY name",
                [],
                |r| {
                    Ok(TokenInfo {
                        name: r.get(0)?,
                        created_at: r.get(1)?,
                        revoked_at: r.get(2)?,
                    })
                },
            )?)
        })
    }

    /// Revoke the token named `name`: it is refused from now on (a running `licadmin
    /// serve` trusts the live tokens it read for up to a second). Revoking a revoked token
    /// changes nothing.
    pub fn revoke_token(&self, name: &str) -> Result<(), AllocError> {
        validate_name("token name", name)?;
        self.tx(|c, now| {
            let n = c.execute(
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE name = ?2",
                params![now, name],
            )?;
            if n == 0 {
                return Err(AllocError::Unknown {
                    what: Entity::Token,
                    name: name.into(),
                });
            }
            crate::history::record(
                c,
                now,
                &crate::history::Event::change(format!("token '{name}'"), "revoked"),
            )
        })
    }

    /// The name of the live token `token` is, if it is one. Its digest is compared with
    /// every live token's in constant time, so the time taken tells nothing of how close a
    /// guess came.
    pub fn check_token(&self, token: &str) -> Result<Option<String>, AllocError> {
        Ok(self.token_set()?.check(token).map(str::to_string))
    }

    /// The live tokens as the store holds them now, to check bearer tokens without reading
    /// the store for each ([`TokenSet::check`]).
    pub fn token_set(&self) -> Result<TokenSet, AllocError> {
        self.read(|c, _| {
            let live = c.query_map(
                "SELECT name, digest FROM tokens WHERE revoked_at IS NULL",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            Ok(TokenSet { live })
        })
    }

    /// Why session `id` ended, if it ended within the last day and the store recorded why.
    pub fn session_end(&self, id: &str) -> Result<Option<SessionEnd>, AllocError> {
        self.read(|c, _| {
            Ok(c.query_row(
                "SELECT reason, ended_at FROM ended_sessions WHERE id = ?1",
                [id],
                |r| {
                    Ok(SessionEnd {
                        reason: r.get(0)?,
                        ended_at: r.get(1)?,
                    })
                },
            )
            .optional()?)
        })
    }

    /// End every lapsed session and checkout now (what any change does first): the license server's
    /// reaper calls it every few seconds, so a crashed client's licenses come back without
    /// anyone acting. Writes only when a lease has lapsed; whether one had.
    pub fn release_lapsed(&self) -> Result<bool, AllocError> {
        let lapsed = self.read(|c, now| {
            Ok(c.query_row(
                "SELECT 1 FROM sessions WHERE expires_at <= ?1",
                [now],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })? || self.checkouts_lapsed()?;
        if lapsed {
            // Every write transaction purges lapsed sessions first.
            self.tx(|_, _| Ok(()))?;
        }
        Ok(lapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_compare_equal_only_when_equal() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert_eq!(digest("x").len(), 64);
    }
}
