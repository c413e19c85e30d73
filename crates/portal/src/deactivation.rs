//! Deactivations that hold (docs/DEACTIVATION.md), shared by the pages and the API: a
//! customer deactivates with a release receipt (units back at once) or without one (units
//! back under the account's rehost allowance, else pending); vendor staff list the pending
//! ones and approve them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use format::Timestamp;
use issuer::{DeactivationHow, DeactivationOutcome, Ledger, PendingDeactivation};
use serde_json::{json, Value};

use crate::error::PortalError;
use crate::http::{ApiError, ApiUser};
use crate::service::{self, AppState, Caller};

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

fn units(v: &[(String, u64)]) -> Vec<Value> {
    v.iter()
        .map(|(p, n)| json!({"part": p, "quantity": n}))
        .collect()
}

/// The API's view of outcomes: `{"deactivated": [{id, how, message, returned, pending}]}`.
pub fn outcomes_json(done: &[DeactivationOutcome]) -> Value {
    let files: Vec<Value> = done
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "how": d.how,
                "message": explain(d),
                "returned": units(&d.returned),
                "pending": units(&d.pending),
            })
        })
        .collect();
    json!({ "deactivated": files })
}

/// Body of `POST /api/v1/files/{file}/deactivate` (an empty body is allowed).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeactivateBody {
    /// Deactivate the disaster-recovery files that name this production file too.
    pub with_recovery: bool,
    /// The release receipt `licadmin release` printed on the server.
    pub receipt: Option<String>,
}

/// `POST /api/v1/files/{file}/deactivate`.
pub async fn api_deactivate(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let opts: DeactivateBody = if body.iter().all(u8::is_ascii_whitespace) {
        DeactivateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError(PortalError::bad_request(format!("request body: {e}"))))?
    };
    let done = st
        .write(move |l, _, _| deactivate(l, &c, &f, opts.receipt.as_deref(), opts.with_recovery))
        .await?;
    Ok(Json(outcomes_json(&done)).into_response())
}

/// `POST /api/v1/files/{file}/approve-deactivation` (staff only).
pub async fn api_approve(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
) -> Result<Response, ApiError> {
    let done = st.write(move |l, _, _| approve(l, &c, &f)).await?;
    Ok(Json(outcomes_json(&done)).into_response())
}

/// `GET /api/v1/deactivations/pending` (staff only).
pub async fn api_pending(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
) -> Result<Response, ApiError> {
    let list = st.read(move |l, _| pending(l, &c)).await?;
    Ok(Json(json!({ "pending": list })).into_response())
}
