//! The Activation File Activity list: its filters, as pages and the API take them, and its rows.

use std::sync::Arc;

use format::{LicenseType, Timestamp};
use issuer::{AccountRef, ActivityFilter, ActivityRow, Ledger, Site};

use crate::error::PortalError;
use crate::kept::{Kept, Key};
use crate::policy::Caller;

use super::accounts::account;

/// Filters of the Activation File Activity list as a page or the API takes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(default)]
pub struct ActivityQuery {
    /// Install site.
    pub site: Option<String>,
    /// `yes`, `no` or `all` (the default).
    pub active: Option<String>,
    /// License type (`production`).
    #[serde(rename = "type")]
    pub license_type: Option<String>,
    /// Product line, `CIC` or `CIC 4.0`.
    pub product: Option<String>,
    /// Generated on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Generated on or before this date (`YYYY-MM-DD`, the whole day counts).
    pub to: Option<String>,
    /// Machine name of either server.
    pub machine: Option<String>,
    /// Who generated the file (a login's e-mail address or the issuer's name).
    pub generated_by: Option<String>,
    /// Page, from 1.
    pub page: Option<u64>,
}

/// Rows per page of the activity list.
pub const PAGE_SIZE: u32 = 50;
/// The highest page number accepted.
pub const MAX_PAGE: u64 = 1_000_000_000;

fn date(flag: &str, s: &str, end: bool) -> Result<Timestamp, PortalError> {
    let t: Timestamp = format!("{}T00:00:00Z", s.trim()).parse().map_err(|_| {
        PortalError::bad_request(format!(
            "{flag} '{}' is not a date: write it as YYYY-MM-DD",
            s.escape_debug()
        ))
    })?;
    Ok(if end { t.plus_days(1) } else { t })
}

/// A text field as given, trimmed, or `None` when it is missing or blank.
pub(crate) fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ActivityQuery {
    /// The ledger's filter for this query, for one account.
    pub fn filter(&self, account: &str) -> Result<ActivityFilter, PortalError> {
        let active = match nonempty(&self.active)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("all") => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(other) => {
                return Err(PortalError::bad_request(format!(
                    "active '{}' is not one of yes, no, all",
                    other.escape_debug()
                )))
            }
        };
        let license_type = nonempty(&self.license_type)
            .map(|t| {
                t.parse::<LicenseType>()
                    .map_err(|e| PortalError::bad_request(format!("type: {e}")))
            })
            .transpose()?;
        let from = nonempty(&self.from)
            .map(|s| date("from", s, false))
            .transpose()?;
        let to = nonempty(&self.to)
            .map(|s| date("to", s, true))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(PortalError::bad_request(
                    "the 'from' date is after the 'to' date: nothing could match",
                ));
            }
        }
        Ok(ActivityFilter {
            account: Some(account.to_string()),
            site: nonempty(&self.site).map(String::from),
            from,
            to,
            active,
            product_line: nonempty(&self.product).map(String::from),
            license_type,
            generated_by: nonempty(&self.generated_by).map(String::from),
            machine: nonempty(&self.machine).map(String::from),
        })
    }
}

/// One page of the Activation File Activity list of an account the caller may see (404
/// otherwise), and the number of rows in all.
pub fn activity(
    l: &Ledger,
    c: &Caller,
    id: i64,
    q: &ActivityQuery,
) -> Result<(AccountRef, Vec<ActivityRow>, u64), PortalError> {
    let a = account(l, c, id)?;
    let (rows, total) = activity_of(l, &a, q)?;
    Ok((a, rows, total))
}

fn activity_of(
    l: &Ledger,
    a: &AccountRef,
    q: &ActivityQuery,
) -> Result<(Vec<ActivityRow>, u64), PortalError> {
    let f = q.filter(&a.name)?;
    let page = q.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(PortalError::bad_request(format!(
            "page {page} is not a page number from 1 to {MAX_PAGE}"
        )));
    }
    Ok(l.activity_page(
        &f,
        PAGE_SIZE,
        (page - 1).saturating_mul(u64::from(PAGE_SIZE)),
    )?)
}

/// What the Activation File Activity page shows.
#[derive(Debug, Clone)]
pub struct ActivityView {
    /// The account.
    pub account: AccountRef,
    /// The rows of the page asked for.
    pub rows: Vec<ActivityRow>,
    /// The number of rows on every page.
    pub total: u64,
    /// The account's install sites (for the site filter).
    pub sites: Vec<Site>,
}

/// The Activation File Activity page of an account the caller may see (404 otherwise),
/// taken from what the reader keeps when the ledger is unchanged since it was read.
pub fn activity_view(
    l: &Ledger,
    kept: &mut Kept,
    c: &Caller,
    id: i64,
    q: ActivityQuery,
) -> Result<Arc<ActivityView>, PortalError> {
    let a = account(l, c, id)?;
    let key = Key::Activity {
        account: a.id,
        query: q.clone(),
    };
    kept.get_or(key, || {
        let (rows, total) = activity_of(l, &a, &q)?;
        Ok(ActivityView {
            sites: l.sites(&a.name)?,
            account: a.clone(),
            rows,
            total,
        })
    })
}
