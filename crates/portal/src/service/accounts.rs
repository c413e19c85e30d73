//! Accounts, their summary and upgrades: what the caller may see of an account (404
//! otherwise), and its ordered items.

use std::sync::Arc;

use issuer::{AccountRef, Catalog, Ledger, Site, Summary, UpgradeSelection, UpgradedLine};

use crate::error::PortalError;
use crate::kept::{Kept, Key};
use crate::policy::Caller;

/// The summary rows of an account the caller may see (404 otherwise), account-wide or for
/// one install site, optionally of one product category only.
pub fn summary_parts(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<(AccountRef, Vec<issuer::PartSummary>), PortalError> {
    let a = account(l, c, id)?;
    let rows = parts_of(l, cat, &a, site, category)?;
    Ok((a, rows))
}

fn parts_of(
    l: &Ledger,
    cat: &Catalog,
    a: &AccountRef,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<Vec<issuer::PartSummary>, PortalError> {
    let mut rows = l.summary_parts(cat, &a.name, site)?;
    if let Some(k) = category {
        rows.retain(|p| p.category.eq_ignore_ascii_case(k));
    }
    Ok(rows)
}

/// What the Account Summary page shows.
#[derive(Debug, Clone)]
pub struct SummaryView {
    /// The account.
    pub account: AccountRef,
    /// Its rows, filtered.
    pub rows: Vec<issuer::PartSummary>,
    /// The product categories the account ordered (for the category filter).
    pub categories: Vec<String>,
    /// Its install sites (for the site filter).
    pub sites: Vec<Site>,
}

/// The Account Summary page of an account the caller may see (404 otherwise), taken from
/// what the reader keeps when the ledger is unchanged since it was read.
pub fn summary_view(
    l: &Ledger,
    kept: &mut Kept,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<String>,
    category: Option<String>,
) -> Result<Arc<SummaryView>, PortalError> {
    let a = account(l, c, id)?;
    let key = Key::Summary {
        account: a.id,
        site: site.clone(),
        category: category.clone(),
    };
    kept.get_or(key, || {
        let (site, category) = (site.as_deref(), category.as_deref());
        let rows = parts_of(l, cat, &a, site, category)?;
        // The category filter lists the categories the account ordered.
        let mut categories: Vec<String> = if site.is_none() && category.is_none() {
            rows.iter().map(|p| p.category.clone()).collect()
        } else {
            parts_of(l, cat, &a, None, None)?
                .into_iter()
                .map(|p| p.category)
                .collect()
        };
        categories.dedup();
        let sites = l.sites(&a.name)?;
        Ok(SummaryView {
            account: a.clone(),
            rows,
            categories,
            sites,
        })
    })
}

/// The accounts the caller may see, by name.
pub fn accounts(l: &Ledger, c: &Caller) -> Result<Vec<AccountRef>, PortalError> {
    Ok(l.account_refs()?
        .into_iter()
        .filter(|a| c.may_see(&a.name))
        .collect())
}

/// The account with this id, if the caller may see it; else 404.
pub fn account(l: &Ledger, c: &Caller, id: i64) -> Result<AccountRef, PortalError> {
    match l.account_by_id(id)? {
        Some(a) if c.may_see(&a.name) => Ok(a),
        _ => Err(PortalError::not_found()),
    }
}

/// The account a file belongs to, if the caller may see it; else 404.
pub fn file_account(l: &Ledger, c: &Caller, file: &str) -> Result<AccountRef, PortalError> {
    match l.file_account(file) {
        Ok(a) if c.may_see(&a.name) => Ok(a),
        Ok(_) | Err(issuer::IssuerError::UnknownFile { .. }) => Err(PortalError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The Account Summary, optionally for one install site and one product category
/// (`CIC 4.0`): the account's rows keep only parts of that category.
pub fn summary(
    l: &Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    site: Option<&str>,
    category: Option<&str>,
) -> Result<Summary, PortalError> {
    let a = account(l, c, id)?;
    let mut s = l.summary(cat, &a.name, site)?;
    if let Some(k) = category {
        s.parts.retain(|p| p.category.eq_ignore_ascii_case(k));
        for site in &mut s.sites {
            site.parts.retain(|p| p.category.eq_ignore_ascii_case(k));
        }
    }
    Ok(s)
}

#[allow(clippy::too_many_arguments)]
/// Upgrade an account's ordered items of a product from one version to another (the chosen
/// parts, or every item with an upgrade option, mirrored), or with `dry_run` show what would
/// move.
pub fn upgrade(
    l: &mut Ledger,
    cat: &Catalog,
    c: &Caller,
    id: i64,
    product: &str,
    from: &str,
    to: &str,
    selection: &UpgradeSelection,
    dry_run: bool,
) -> Result<Vec<UpgradedLine>, PortalError> {
    let a = account(l, c, id)?;
    if !dry_run {
        c.require_generate()?;
    }
    Ok(l.upgrade(
        cat,
        &a.name,
        product,
        from,
        to,
        selection,
        dry_run,
        &c.actor(),
    )?)
}
