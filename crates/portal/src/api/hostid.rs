//! The live host-ID check.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{json, ApiQuery, ApiResult, ErrorBody};
use crate::error::PortalError;
use crate::http::{ApiError, ApiUser};
use crate::service;

/// The host-ID code to check.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CodeQuery {
    /// The code as typed.
    pub code: String,
}

/// Whether a code is valid, and why not.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HostIdCheck)]
pub struct HostIdCheckDoc {
    /// Whether the code is valid.
    pub valid: bool,
    /// `short` or `strong` when valid.
    pub form: Option<String>,
    /// The code as it will be written when valid.
    pub canonical: Option<String>,
    /// Why not, or what it is.
    pub message: String,
}

/// `GET /api/v1/hostid/check?code=...`: whether a host-ID code is valid, and why not.
#[utoipa::path(get, path = "/api/v1/hostid/check", tag = "hostid",
    operation_id = "checkHostId", summary = "Check a host-ID code as typed",
    params(("code" = Option<String>, Query, description = "The code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Whether it is valid, and why not", body = HostIdCheckDoc),
        (status = 400, description = "A code over 200 characters", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
pub async fn host_id_check(ApiUser(_): ApiUser, ApiQuery(q): ApiQuery<CodeQuery>) -> ApiResult {
    if q.code.len() > 200 {
        return Err(ApiError(PortalError::bad_request(
            "code: a host-ID code has at most 200 characters",
        )));
    }
    json(StatusCode::OK, service::check_host_id(&q.code))
}
