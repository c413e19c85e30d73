//! Install sites: list, add, edit, activate and deactivate.

use issuer::{AccountRef, Ledger, Site, SiteDetails};

use crate::error::PortalError;
use crate::policy::Caller;

use super::accounts::account;

/// The install sites of an account.
pub fn sites(l: &Ledger, c: &Caller, id: i64) -> Result<(AccountRef, Vec<Site>), PortalError> {
    let a = account(l, c, id)?;
    let s = l.sites(&a.name)?;
    Ok((a, s))
}

/// A new install site, as a form or the API (`POST /api/v1/accounts/{id}/sites`) sends it.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// Site name.
    #[schema(min_length = 1)]
    pub name: String,
    /// Up to three address lines.
    #[serde(default)]
    #[schema(max_items = 3)]
    pub address: Vec<String>,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State.
    #[serde(default)]
    pub state: String,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
}

/// An install site as sent, checked: a name that cannot add segments to an address, at
/// most three address lines (blank ones dropped), every value trimmed.
fn site_details(s: &NewSite) -> Result<(String, SiteDetails), PortalError> {
    let name = s.name.trim();
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(PortalError::bad_request(format!(
            "an install site name cannot contain '/' or '\\' or be '.' or '..' (got '{}')",
            name.escape_debug()
        )));
    }
    // Counted as sent, before blank lines are dropped: the ledger's rule.
    issuer::ledger::policy::check_address_lines(s.address.len())?;
    let d = SiteDetails {
        address: s
            .address
            .iter()
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        city: s.city.trim().into(),
        state: s.state.trim().into(),
        country: s.country.trim().into(),
        postal_code: s.postal_code.trim().into(),
    };
    Ok((name.to_string(), d))
}

/// Add an install site to an account.
pub fn add_site(l: &mut Ledger, c: &Caller, id: i64, s: &NewSite) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    let (name, d) = site_details(s)?;
    Ok(l.add_site(&a.name, &name, &d, &c.actor())?)
}

/// Rename an install site or change its address.
pub fn edit_site(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    site: &str,
    s: &NewSite,
) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    let (name, d) = site_details(s)?;
    let new_name = (name != site).then_some(name.as_str());
    l.edit_site(&a.name, site, new_name, &d, &c.actor())?;
    Ok(())
}

/// Activate or deactivate an install site.
pub fn set_site_active(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    site: &str,
    active: bool,
) -> Result<(), PortalError> {
    let a = account(l, c, id)?;
    Ok(l.set_site_active(&a.name, site, active, &c.actor())?)
}
