//! Bearer tokens checked against the live tokens read from the store at most
//! [`TOKEN_CACHE`] ago, so a request does not read the store to be let in.
//!
//! A token made since the last read is not in the cache: an unknown token reads the store
//! again, so a new token works at once. A revoked token is refused by every server on the
//! store at most [`TOKEN_CACHE`] after the revocation committed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use allocation::TokenSet;

use super::{blocking, ApiError, St};

/// How long the live tokens read from the store are trusted: the longest a revoked token
/// may still be accepted.
pub const TOKEN_CACHE: Duration = Duration::from_secs(1);

/// The live tokens last read, and when the read began.
#[derive(Default)]
pub struct TokenCache {
    slot: tokio::sync::Mutex<Option<(Instant, Arc<TokenSet>)>>,
}

/// The cached set, if it was read less than [`TOKEN_CACHE`] before `now`.
fn fresh(slot: &Option<(Instant, Arc<TokenSet>)>, now: Instant) -> Option<Arc<TokenSet>> {
    slot.as_ref()
        .filter(|(at, _)| now.saturating_duration_since(*at) < TOKEN_CACHE)
        .map(|(_, set)| set.clone())
}

impl TokenCache {
    /// Whether `token` is a live token: from the cache when it is fresh and knows the
    /// token, else from the store (which then refreshes the cache).
    pub async fn check(&self, s: &St, token: String) -> Result<bool, ApiError> {
        let mut slot = self.slot.lock().await;
        if let Some(set) = fresh(&slot, Instant::now()) {
            if set.check(&token).is_some() {
                return Ok(true);
            }
        }
        // The time the read begins: a revocation committed before it is in what it reads.
        let at = Instant::now();
        let set = Arc::new(blocking(s, |a| a.token_set()).await?);
        let ok = set.check(&token).is_some();
        *slot = Some((at, set));
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_is_trusted_only_for_its_time() {
        let t0 = Instant::now();
        let slot = Some((t0, Arc::new(TokenSet::default())));
        assert!(fresh(&slot, t0).is_some());
        assert!(fresh(&slot, t0 + TOKEN_CACHE - Duration::from_millis(1)).is_some());
        assert!(fresh(&slot, t0 + TOKEN_CACHE).is_none());
        assert!(fresh(&None, t0).is_none());
    }
}
