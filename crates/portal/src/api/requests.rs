//! Activation file requests: send one, list them, show one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use issuer::{Attachment, NewRequest, RequestRecord};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::ToSchema;

use super::{json, ApiResult, Body, ErrorBody};
use crate::error::PortalError;
use crate::http::{ApiError, ApiUser};
use crate::service::{self, AppState};

/// An attachment as the API sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiAttachment {
    /// File name (.i3lic, .txt, .log, .pdf, .png, .jpg or .jpeg).
    #[schema(pattern = r"^[A-Za-z0-9_-][A-Za-z0-9._ -]{0,190}\.(i3lic|txt|log|pdf|png|jpg|jpeg)$")]
    pub name: String,
    /// Its bytes, base64.
    #[schema(format = Byte)]
    pub content_base64: String,
}

/// The request types, as the document lists them.
fn request_types() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(issuer::ledger::REQUEST_TYPES.to_vec()))
}

/// The request itself (the Activation File Request form's fields).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RequestFields)]
pub struct RequestFields {
    /// Ignored: the request is about `account_id`.
    #[serde(default)]
    pub account: String,
    /// Question or Activation File Request.
    #[schema(schema_with = request_types)]
    pub request_type: String,
    /// Category (empty for a question).
    #[serde(default)]
    pub category: String,
    /// File type (empty for a question).
    #[serde(default)]
    pub file_type: String,
    /// Short description.
    #[schema(min_length = 1)]
    pub subject: String,
    /// Details.
    #[serde(default)]
    pub description: String,
    /// Needs immediate attention (not for a question).
    #[serde(default)]
    pub urgent: bool,
    /// Date needed, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date_needed: String,
    /// Why by that date.
    #[serde(default)]
    pub date_reason: String,
    /// Host-ID code of the primary server, if known.
    #[serde(default)]
    pub host_id: String,
    /// Host-ID code of the backup (switchover) server, if known.
    #[serde(default)]
    pub backup_host_id: String,
    /// The contact person's name.
    #[serde(default)]
    pub contact_name: String,
    /// The contact person's e-mail address.
    #[serde(default)]
    #[schema(format = Email)]
    pub contact_email: String,
    /// Deployment type (empty, or one of the listed).
    #[serde(default)]
    #[schema(schema_with = deployment_types)]
    pub deployment_type: String,
    /// Implementation type (empty, or one of the listed).
    #[serde(default)]
    #[schema(schema_with = implementation_types)]
    pub implementation_type: String,
    /// Sales order or purchase order number (SO# or PO#).
    #[serde(default)]
    pub order_number: String,
}

/// A choice of `list`, or empty (not given).
fn choice_or_empty(list: &[&'static str]) -> ObjectBuilder {
    let mut v = vec![""];
    v.extend_from_slice(list);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(v))
}

/// The deployment types, as the document lists them.
fn deployment_types() -> ObjectBuilder {
    choice_or_empty(issuer::ledger::DEPLOYMENT_TYPES)
}

/// The implementation types, as the document lists them.
fn implementation_types() -> ObjectBuilder {
    choice_or_empty(issuer::ledger::IMPLEMENTATION_TYPES)
}

impl From<RequestFields> for NewRequest {
    fn from(r: RequestFields) -> Self {
        NewRequest {
            account: r.account,
            request_type: r.request_type,
            category: r.category,
            file_type: r.file_type,
            subject: r.subject,
            description: r.description,
            urgent: r.urgent,
            date_needed: r.date_needed,
            date_reason: r.date_reason,
            host_id: r.host_id,
            backup_host_id: r.backup_host_id,
            contact_name: r.contact_name,
            contact_email: r.contact_email,
            deployment_type: r.deployment_type,
            implementation_type: r.implementation_type,
            order_number: r.order_number,
        }
    }
}

/// `POST /api/v1/requests` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRequest)]
pub struct ApiRequest {
    /// The account the request is about.
    pub account_id: i64,
    /// The request.
    pub request: RequestFields,
    /// Attachments: at most 5 of at most 1 MiB each.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub attachments: Vec<ApiAttachment>,
}

/// A request just recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestAdded {
    /// Its number, `AFR-0000001`.
    pub number: String,
}

/// The requests the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestList {
    /// Newest first.
    #[schema(value_type = Vec<RequestDoc>)]
    pub requests: Vec<RequestRecord>,
}

/// A request as the API answers it (the type the ledger answers, documented here).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Request)]
pub struct RequestDoc {
    /// `AFR-0000001`.
    pub number: String,
    /// The account it is about.
    pub account: String,
    /// Who sent it.
    pub requested_by: String,
    /// Question or Activation File Request.
    pub request_type: String,
    /// Category (empty for a question).
    pub category: String,
    /// File type (empty for a question).
    pub file_type: String,
    /// Short description.
    pub subject: String,
    /// Details.
    pub description: String,
    /// Needs immediate attention.
    pub urgent: bool,
    /// Date needed, `YYYY-MM-DD`.
    pub date_needed: String,
    /// Why by that date.
    pub date_reason: String,
    /// Host-ID code of the primary server.
    pub host_id: String,
    /// Host-ID code of the backup server.
    pub backup_host_id: String,
    /// The contact person's name.
    pub contact_name: String,
    /// The contact person's e-mail address.
    pub contact_email: String,
    /// Deployment type (empty when not given).
    pub deployment_type: String,
    /// Implementation type (empty when not given).
    pub implementation_type: String,
    /// Sales order or purchase order number.
    pub order_number: String,
    /// `open` or `closed`.
    pub status: String,
    /// Staff's answer when closed.
    pub answer: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// When it was closed, UTC.
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// When it was sent, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Its attachments.
    pub attachments: Vec<RequestAttachmentDoc>,
}

/// What a request lists of an attachment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestAttachment)]
pub struct RequestAttachmentDoc {
    /// Position, from 1.
    pub position: i64,
    /// File name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

/// `POST /api/v1/requests`: send an activation file request.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests",
    operation_id = "addRequest", summary = "Send an activation file request",
    description = "The request and up to 5 attachments of at most 1 MiB each, base64; the body may be up to 8 MiB (413 above).",
    params(("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255)),
    request_body = ApiRequest, security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = RequestAdded),
        (status = 400, description = "A malformed request or attachment", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such account, or not the caller's", body = ErrorBody),
        (status = 409, description = "Its Idempotency-Key was seen and the first answer not kept", body = ErrorBody),
        (status = 413, description = "A body over 8 MiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "An Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn add_request(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Body(r): Body<ApiRequest>,
) -> ApiResult {
    let mut atts = Vec::new();
    for a in r.attachments {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.as_bytes())
            .map_err(|e| {
                ApiError(PortalError::bad_request(format!(
                    "attachment '{}': content_base64 is not base64 ({e})",
                    a.name.escape_debug()
                )))
            })?;
        let t = issuer::ledger::attachment_type(&a.name, bytes.len()).map_err(PortalError::from)?;
        atts.push(Attachment {
            name: a.name,
            content_type: t.into(),
            bytes,
        });
    }
    let id = r.account_id;
    let req = NewRequest::from(r.request);
    Ok(crate::once_done::api_at(
        &st,
        c,
        move |l, _, _, c| service::add_request(l, c, id, req, &atts),
        |number| {
            (
                StatusCode::CREATED,
                Some(format!("/api/v1/requests/{number}")),
                RequestAdded {
                    number: number.clone(),
                },
            )
        },
    )
    .await?)
}

/// `GET /api/v1/requests`: the requests the caller may see.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests",
    operation_id = "listRequests", summary = "Activation file requests the caller may see",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The requests", body = RequestList),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
pub async fn requests(State(st): State<Arc<AppState>>, ApiUser(c): ApiUser) -> ApiResult {
    let requests = st.read(move |l, _| service::requests(l, &c)).await?;
    json(StatusCode::OK, RequestList { requests })
}

/// `GET /api/v1/requests/{number}`.
#[utoipa::path(get, path = "/api/v1/requests/{number}", tag = "requests",
    operation_id = "getRequest", summary = "One request",
    params(("number" = String, Path, description = "Request number, AFR-0000001", pattern = "^AFR-[0-9]{7,12}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The request", body = RequestDoc),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such request, or not the caller's", body = ErrorBody),
    ))]
pub async fn request(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(n): Path<String>,
) -> ApiResult {
    let v = st.read(move |l, _| service::request(l, &c, &n)).await?;
    json(StatusCode::OK, v)
}
