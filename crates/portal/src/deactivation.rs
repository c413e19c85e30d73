//! Deactivations that hold (docs/DEACTIVATION.md), shared by the pages and the API: a
//! customer deactivates with a release receipt (units back at once) or without one (units
//! back under the account's rehost allowance, else pending); vendor staff list the pending
//! ones and approve them.

use format::Timestamp;
use issuer::{DeactivationHow, DeactivationOutcome, Ledger, PendingDeactivation};

use crate::error::PortalError;
use crate::service::{self, Caller};

/// Deactivate a file as the caller may (certified users of the file's account): with
/// `receipt`, checked against the install key the file binds; without, under the rehost
/// allowance or pending.
pub fn deactivate(
    l: &mut Ledger,
    c: &Caller,
    id: &str,
    receipt: Option<&str>,
    with_recovery: bool,
) -> Result<Vec<DeactivationOutcome>, PortalError> {
    service::file_account(l, c, id)?;
    c.require_generate()?;
    let receipt = receipt.map(str::trim).filter(|r| !r.is_empty());
    let id = l.resolve_file_id(id)?;
    Ok(l.deactivate_held(&id, receipt, with_recovery, &c.actor(), Timestamp::now())?)
}

/// Vendor staff approve a pending deactivation (403 for anyone else).
pub fn approve(
    l: &mut Ledger,
    c: &Caller,
    id: &str,
) -> Result<Vec<DeactivationOutcome>, PortalError> {
    c.require_approve_deactivation()?;
    service::file_account(l, c, id)?;
    let id = l.resolve_file_id(id)?;
    Ok(l.approve_deactivation(&id, false, &c.actor(), Timestamp::now())?)
}

/// Every deactivation pending approval (staff only).
pub fn pending(l: &Ledger, c: &Caller) -> Result<Vec<PendingDeactivation>, PortalError> {
    c.require_approve_deactivation()?;
    Ok(l.pending_deactivations(None)?)
}

/// What to tell the customer about one outcome (plain text; pages escape it).
pub fn explain(d: &DeactivationOutcome) -> &'static str {
    match d.how {
        DeactivationHow::Receipt => {
            "The release receipt was verified: the units are available again."
        }
        DeactivationHow::Allowance => {
            "The units are available again under the account's rehost allowance."
        }
        DeactivationHow::Approved => "Approved by vendor staff: the units are available again.",
        DeactivationHow::Pending => {
            "The file is inactive, but its units stay in use, pending approval by vendor staff. To have them back at once, run licadmin release on the server that used the file and give the receipt it prints here."
        }
    }
}
