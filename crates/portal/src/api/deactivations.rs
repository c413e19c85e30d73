//! Deactivations (docs/DEACTIVATION.md): deactivate a file, and staff approve the pending
//! ones. The rules are in [`crate::deactivation`], shared with the pages.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use issuer::{DeactivationHow, DeactivationOutcome, PendingDeactivation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{json, ApiResult, ErrorBody};
use crate::deactivation::{approve, deactivate, explain, pending};
use crate::error::PortalError;
use crate::http::{ApiError, ApiUser};
use crate::service::AppState;

/// Body of `POST /api/v1/files/{file}/deactivate` (an empty body is allowed).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DeactivateBody {
    /// Deactivate the disaster-recovery files that name this production file too.
    pub with_recovery: bool,
    /// The release receipt's text, as `licadmin release` printed it on the server.
    #[schema(max_length = 4096)]
    pub receipt: Option<String>,
}

/// Units of a part.
#[derive(Debug, Serialize, ToSchema)]
pub struct Units {
    /// Part number.
    pub part: String,
    /// Units.
    pub quantity: u64,
}

/// What one deactivation did to one file.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outcome {
    /// The file id.
    pub id: String,
    /// receipt, allowance, approved or pending.
    #[schema(value_type = String)]
    pub how: DeactivationHow,
    /// What that means, in words.
    pub message: &'static str,
    /// Units returned to available.
    pub returned: Vec<Units>,
    /// Units still used while pending.
    pub pending: Vec<Units>,
}

/// Files deactivated (the file, and its disaster-recovery files if asked).
#[derive(Debug, Serialize, ToSchema)]
pub struct Deactivated {
    /// One per file.
    pub deactivated: Vec<Outcome>,
}

impl Deactivated {
    fn of(done: &[DeactivationOutcome]) -> Self {
        let units = |v: &[(String, u64)]| {
            v.iter()
                .map(|(part, quantity)| Units {
                    part: part.clone(),
                    quantity: *quantity,
                })
                .collect()
        };
        Deactivated {
            deactivated: done
                .iter()
                .map(|d| Outcome {
                    id: d.id.clone(),
                    how: d.how,
                    message: explain(d),
                    returned: units(&d.returned),
                    pending: units(&d.pending),
                })
                .collect(),
        }
    }
}

/// The deactivations pending approval.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingList {
    /// Oldest first.
    #[schema(value_type = Vec<Object>)]
    pub pending: Vec<PendingDeactivation>,
}

/// `POST /api/v1/files/{file}/deactivate`.
#[utoipa::path(post, path = "/api/v1/files/{file}/deactivate", tag = "deactivations",
    operation_id = "deactivateFile", summary = "Deactivate a file",
    description = "With a release receipt (printed by `licadmin release` on the server that used the file) the units return at once if it verifies against the install key the file binds and names this file's id, lineage and generation; a bad receipt is refused with 422 and its reason. Without one the file becomes inactive and its units return under the account's rehost allowance, or stay used, pending approval by vendor staff.",
    params(
        ("file" = String, Path, description = "Activation file id", min_length = 1, max_length = 64),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255),
    ),
    request_body(content = Option<DeactivateBody>, description = "May be empty"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deactivated: each file says how (receipt, allowance, approved, pending), what returned and what stays pending", body = Deactivated),
        (status = 400, description = "A malformed body", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not deactivate files", body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's", body = ErrorBody),
        (status = 409, description = "The file is not active, or has active recovery files", body = ErrorBody),
        (status = 413, description = "A body over the limit", body = ErrorBody),
        (status = 422, description = "A receipt that does not verify, with its reason; or an Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn deactivate_file(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let opts: DeactivateBody = if body.iter().all(u8::is_ascii_whitespace) {
        DeactivateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError(PortalError::bad_request(format!("request body: {e}"))))?
    };
    let (done, _) = crate::once_done::value(&st, c, move |l, _, _, c| {
        deactivate(l, c, &f, opts.receipt.as_deref(), opts.with_recovery)
    })
    .await?;
    json(StatusCode::OK, Deactivated::of(&done))
}

/// `POST /api/v1/files/{file}/approve-deactivation` (staff only).
#[utoipa::path(post, path = "/api/v1/files/{file}/approve-deactivation", tag = "deactivations",
    operation_id = "approveDeactivation", summary = "Approve a pending deactivation (vendor staff)",
    description = "Vendor staff only (403 otherwise): the pending deactivation's units return.",
    params(
        ("file" = String, Path, description = "Activation file id", min_length = 1, max_length = 64),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Approved; the units returned", body = Deactivated),
        (status = 400, description = "A malformed Idempotency-Key header", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not vendor staff", body = ErrorBody),
        (status = 404, description = "No such file", body = ErrorBody),
        (status = 409, description = "Nothing pending for this file, or its Idempotency-Key was seen and the first answer not kept", body = ErrorBody),
        (status = 413, description = "A body over the limit (read with an Idempotency-Key)", body = ErrorBody),
        (status = 422, description = "An Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn approve_file(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
) -> ApiResult {
    let (done, _) = crate::once_done::value(&st, c, move |l, _, _, c| approve(l, c, &f)).await?;
    json(StatusCode::OK, Deactivated::of(&done))
}

/// `GET /api/v1/deactivations/pending` (staff only).
#[utoipa::path(get, path = "/api/v1/deactivations/pending", tag = "deactivations",
    operation_id = "listPendingDeactivations", summary = "Deactivations pending approval (vendor staff)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pending deactivations, oldest first", body = PendingList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not vendor staff", body = ErrorBody),
    ))]
pub async fn pending_list(State(st): State<Arc<AppState>>, ApiUser(c): ApiUser) -> ApiResult {
    let pending = st.read(move |l, _| pending(l, &c)).await?;
    json(StatusCode::OK, PendingList { pending })
}
