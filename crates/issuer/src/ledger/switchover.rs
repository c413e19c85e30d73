//! A switchover pair needs a switchover server item: a pair that names none is refused
//! when the account has none of the product's available, with that reason (not issued as a
//! pair that the account never ordered).

use crate::error::IssuerError;
use crate::rules::{IssueRequest, Plan};
use store::Tx;

use super::Ledger;

impl Ledger {
    /// Refuse a new switchover host (`plan.switchover`, no switchover item named) when the
    /// account has no unit of any of the product's switchover server items available.
    /// `had_switchover`: the file this one replaces already carried a switchover host (kept
    /// as it was, not asked again).
    pub(super) fn require_switchover_item(
        tx: &dyn Tx,
        req: &IssueRequest,
        plan: &Plan,
        account_id: i64,
        had_switchover: bool,
    ) -> Result<(), IssuerError> {
        if plan.switchover.is_none() || req.switchover_part.is_some() || had_switchover {
            return Ok(());
        }
        for part in &plan.switchover_parts {
            let available = Self::order_lines(tx, account_id, Some(part))?
                .into_iter()
                .filter(|(_, l)| l.active)
                .any(|(_, l)| l.quantity > l.used);
            if available {
                return Ok(());
            }
        }
        Err(IssuerError::NoSwitchoverItem {
            account: req.account.clone(),
            category: format!("{} {}", req.product, req.version),
        })
    }
}
