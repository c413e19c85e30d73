//! Who is calling: the user of a session or of an API token, as the ledger has them now.

use std::sync::Arc;

use issuer::{Ledger, PortalUser};

use crate::error::PortalError;
use crate::kept::{Kept, Key};
use crate::policy::Caller;

/// The active user of an API token that is not revoked, by the token's SHA-256 (`None`
/// otherwise), taken from what the reader keeps when the ledger is unchanged.
pub fn token_user(
    l: &Ledger,
    kept: &mut Kept,
    digest: [u8; 32],
) -> Result<Arc<Option<PortalUser>>, PortalError> {
    kept.get_or(Key::Token(digest), || Ok(l.portal_token_user(&digest)?))
}

/// The portal user with this id as the caller of a session started under `epoch`, when they
/// exist, are not disabled and their sessions were not ended since (`None` otherwise),
/// taken from what the reader keeps when the ledger is unchanged.
pub fn caller(
    l: &Ledger,
    kept: &mut Kept,
    id: i64,
    epoch: i64,
) -> Result<Option<Caller>, PortalError> {
    let user = user(l, kept, id)?;
    Ok(Option::clone(&user)
        .filter(|u| u.active && u.sessions_epoch == epoch)
        .map(|user| Caller { user, once: None }))
}

/// The portal user with this id as the ledger has them (`None` when there is none), taken
/// from what the reader keeps when the ledger is unchanged since it was read.
pub fn user(l: &Ledger, kept: &mut Kept, id: i64) -> Result<Arc<Option<PortalUser>>, PortalError> {
    kept.get_or(Key::User(id), || Ok(l.portal_user(id)?))
}
