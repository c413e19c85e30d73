//! Activation file requests: send, list, read, attachments, close.

use issuer::{Attachment, Ledger, NewRequest, RequestRecord};

use crate::error::PortalError;
use crate::policy::Caller;

use super::accounts::account;

/// Send an activation file request for an account the caller may see.
pub fn add_request(
    l: &mut Ledger,
    c: &Caller,
    id: i64,
    mut r: NewRequest,
    attachments: &[Attachment],
) -> Result<String, PortalError> {
    let a = account(l, c, id)?;
    r.account = a.name;
    Ok(l.add_request(&r, attachments, &c.actor())?)
}

/// The requests the caller may see, newest first.
pub fn requests(l: &Ledger, c: &Caller) -> Result<Vec<RequestRecord>, PortalError> {
    if c.sees_every_account() {
        return Ok(l.requests(None)?);
    }
    let mut v = Vec::new();
    for a in &c.user.accounts {
        v.extend(l.requests(Some(a))?);
    }
    v.sort_by(|a, b| b.number.cmp(&a.number));
    Ok(v)
}

/// One request, if the caller may see it.
pub fn request(l: &Ledger, c: &Caller, number: &str) -> Result<RequestRecord, PortalError> {
    match l.request(number) {
        Ok(r) if c.may_see(&r.account) => Ok(r),
        Ok(_) | Err(issuer::IssuerError::UnknownRequest { .. }) => Err(PortalError::not_found()),
        Err(e) => Err(e.into()),
    }
}

/// One attachment of a request the caller may see.
pub fn attachment(
    l: &Ledger,
    c: &Caller,
    number: &str,
    position: i64,
) -> Result<Attachment, PortalError> {
    request(l, c, number)?;
    l.request_attachment(number, position)
        .map_err(|_| PortalError::not_found())
}

/// Close a request with an answer (staff only).
pub fn close_request(
    l: &mut Ledger,
    c: &Caller,
    number: &str,
    answer: &str,
) -> Result<(), PortalError> {
    request(l, c, number)?;
    c.require_close_request()?;
    Ok(l.close_request(number, answer, &c.actor())?)
}
