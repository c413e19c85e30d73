//! The JSON API under `/api/v1/`: bearer tokens, the same operations and checks as the
//! pages ([`crate::service`]), errors as `{"error": {"kind", "message"}}`. One module per
//! resource; each handler declares its route for the OpenAPI document ([`openapi`]), which
//! is generated from the request and response types below and in those modules.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::PortalError;
use crate::http::ApiError;

pub mod accounts;
pub mod deactivations;
pub mod files;
pub mod hostid;
pub mod openapi;
pub mod requests;
pub mod sites;

// The page of the host-ID check reads the same query.
pub use hostid::CodeQuery;

/// What a handler answers: a response, or a refusal as JSON.
pub type ApiResult = Result<Response, ApiError>;

/// A JSON body whose refusals are JSON too.
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => {
                let status = e.status();
                let kind = match status {
                    StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
                    _ => "bad-request",
                };
                let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    StatusCode::BAD_REQUEST
                } else {
                    status
                };
                Err(ApiError(PortalError::new(status, kind, e.body_text())))
            }
        }
    }
}

/// A query string whose refusals are the API's JSON error naming the parameter, not axum's
/// plain "Failed to deserialize query string".
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError(PortalError::bad_request(query_message(
                &e.body_text(),
            )))),
        }
    }
}

/// axum's "Failed to deserialize query string: page: invalid digit found in string" as
/// "query parameter 'page': invalid digit found in string".
fn query_message(text: &str) -> String {
    let detail = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    match detail.split_once(": ") {
        Some((name, why)) if !name.is_empty() && !name.contains(' ') => {
            format!("query parameter '{name}': {why}")
        }
        _ => format!("the query string: {detail}"),
    }
}

/// An answer with this status and JSON body.
pub fn json<T: Serialize>(status: StatusCode, v: T) -> ApiResult {
    Ok((status, Json(v)).into_response())
}

/// A positive account id from the address, or 404 (an id that cannot be is nothing here).
pub fn id_of(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(ApiError(PortalError::not_found()))
}

/// Every refusal's body.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Why.
    pub error: ErrorDetail,
}

/// The refusal itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// bad-request (400), unauthorized (401), forbidden (403), not-found (404),
    /// method-not-allowed (405, with an Allow header), conflict or not-enough (409),
    /// payload-too-large (413), uri-too-long (414: an address over 8 KiB),
    /// unsupported-media-type (415), rule, receipt or key-reused (422: an
    /// Idempotency-Key sent before with another body), too-many-requests (429),
    /// internal (500). A request head over 16 KiB is refused by the HTTP layer with 431 and no body, before any route sees it.
    pub kind: String,
    /// What is wrong, in words.
    pub message: String,
}

/// An account as the API names it (the type the ledger answers, documented here).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountDoc {
    /// Stable id (used in addresses).
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A file just generated.
#[derive(Debug, Serialize, ToSchema)]
pub struct Issued {
    /// Its id.
    pub id: String,
    /// The file it replaces (an update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// When it expires (RFC 3339).
    #[schema(value_type = String)]
    pub expires_at: format::Timestamp,
    /// Where to download it.
    pub download: String,
}

impl Issued {
    /// The answer for a file just generated: 201 with its address.
    pub fn created(self) -> ApiResult {
        let at = format!("/api/v1/files/{}", self.id);
        Ok((
            StatusCode::CREATED,
            [(axum::http::header::LOCATION, at)],
            Json(self),
        )
            .into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::query_message;

    #[test]
    fn query_refusals_name_the_parameter() {
        assert_eq!(
            query_message(
                "Failed to deserialize query string: page: invalid digit found in string"
            ),
            "query parameter 'page': invalid digit found in string"
        );
        assert_eq!(
            query_message("Failed to deserialize query string: expected a map"),
            "the query string: expected a map"
        );
    }
}
