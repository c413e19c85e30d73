//! What deactivating an install site leaves: the active files issued to it.

use issuer::{ActivityFilter, Ledger};

use crate::error::PortalError;
use crate::policy::Caller;

use super::accounts::account;

/// The ids of the active files of an install site of an account the caller may see, newest
/// first (shown before the site is deactivated).
pub fn site_active_files(
    l: &Ledger,
    c: &Caller,
    id: i64,
    site: &str,
) -> Result<Vec<String>, PortalError> {
    let a = account(l, c, id)?;
    let f = ActivityFilter {
        account: Some(a.name),
        site: Some(site.to_string()),
        active: Some(true),
        ..ActivityFilter::default()
    };
    Ok(l.activity(&f)?.into_iter().map(|r| r.id).collect())
}
