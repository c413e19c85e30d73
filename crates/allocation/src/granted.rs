//! Refusals worded for an administrator: a key the loaded file does not grant is said to be
//! so (not counted as "0 licensed, 0 in use"), and a key refused because another key asked
//! for brings it (an `implies` rule) names that key.

use verify::License;

use crate::error::AllocError;
use crate::model::Pool;
use crate::rules::RuleIndex;

/// Refuse a key the loaded file does not grant ([`AllocError::NotLicensed`]).
pub(crate) fn require_granted(l: &License, key: &str) -> Result<(), AllocError> {
    match l.counts(key) {
        Some(_) => Ok(()),
        None => Err(AllocError::NotLicensed { key: key.into() }),
    }
}

/// Whether a concurrent user may be configured with `key`: the file grants it, with a
/// pooled (concurrent) count. Nothing is consumed until logon.
pub(crate) fn check_concurrent(l: &License, key: &str) -> Result<(), AllocError> {
    require_granted(l, key)?;
    if l.pooled(key) == 0 {
        return Err(AllocError::NoLicenseAvailable {
            key: key.into(),
            pool: Pool::Concurrent,
            licensed: 0,
            in_use: 0,
            out_of_compliance: false,
        });
    }
    Ok(())
}

/// The key a refusal is about, for the refusals an allocation of one key can meet.
fn refused_key(e: &AllocError) -> Option<&str> {
    match e {
        AllocError::NoLicenseAvailable { key, .. }
        | AllocError::NotLicensed { key }
        | AllocError::OrganizationCap { key, .. }
        | AllocError::Reserved { key, .. }
        | AllocError::Rule { key, .. } => Some(key),
        _ => None,
    }
}

/// `e` as [`AllocError::Implied`] when the key it refuses was not asked for but came with a
/// key of `asked` (directly or through other keys); `e` unchanged otherwise.
pub(crate) fn name_implier(e: AllocError, asked: &[&str], rules: &RuleIndex) -> AllocError {
    let Some(key) = refused_key(&e) else {
        return e;
    };
    if asked.contains(&key) {
        return e;
    }
    let by = asked
        .iter()
        .find(|a| rules.closure([**a]).contains(key))
        .map(|a| (*a).to_string());
    match by {
        Some(by) => AllocError::Implied {
            key: key.to_string(),
            by,
            source: Box::new(e),
        },
        None => e,
    }
}
