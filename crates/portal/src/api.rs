//! The JSON API under `/api/v1/`: bearer tokens, the same operations and checks as the
//! pages ([`crate::service`]), errors as `{"error": {"kind", "message"}}`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use issuer::{Attachment, IssueRequest, NewRequest};
use serde_json::{json, Value};

use crate::error::PortalError;
use crate::http::{ApiError, ApiUser};
use crate::service::{self, ActivityQuery, AppState, NewSite, UpdateForm, PAGE_SIZE};

type ApiResult = Result<Response, ApiError>;

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

fn ok(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

fn id_of(s: &str) -> Result<i64, ApiError> {
    s.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(ApiError(PortalError::not_found()))
}

/// `GET /api/v1/openapi.json`: the OpenAPI 3 document of this API.
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

/// `GET /api/v1/accounts`: the accounts the caller may see.
pub async fn accounts(State(st): State<Arc<AppState>>, ApiUser(c): ApiUser) -> ApiResult {
    let v = st.read(move |l, _| service::accounts(l, &c)).await?;
    ok(json!({ "accounts": v }))
}

/// Filters of the summary.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SummaryQuery {
    /// Install site.
    pub site: Option<String>,
    /// Product category (`CIC 4.0`).
    pub category: Option<String>,
}

/// `GET /api/v1/accounts/{id}/summary`.
pub async fn summary(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    q: Result<Query<SummaryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let id = id_of(&id)?;
    let Query(q) = q.map_err(|e| ApiError(PortalError::bad_request(e.body_text())))?;
    let site = service::nonempty(&q.site).map(String::from);
    let category = service::nonempty(&q.category).map(String::from);
    let s = st
        .read(move |l, cat| service::summary(l, cat, &c, id, site.as_deref(), category.as_deref()))
        .await?;
    ok(json!(s))
}

/// `GET /api/v1/accounts/{id}/files`: the Activation File Activity list, a page at a time.
pub async fn activity(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    q: Result<Query<ActivityQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let id = id_of(&id)?;
    let Query(q) = q.map_err(|e| ApiError(PortalError::bad_request(e.body_text())))?;
    let page = q.page.unwrap_or(1).max(1);
    let (a, rows, total) = st
        .read(move |l, _| service::activity(l, &c, id, &q))
        .await?;
    ok(json!({
        "account": a, "total": total, "page": page, "page_size": PAGE_SIZE, "files": rows,
    }))
}

/// `POST /api/v1/accounts/{id}/files`: issue a file (the issuer's request JSON).
pub async fn issue(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    Body(req): Body<IssueRequest>,
) -> ApiResult {
    let id = id_of(&id)?;
    let issued = service::issue(&st, c, id, req).await?;
    let fid = issued.file_id.to_string();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/files/{fid}"))],
        Json(json!({
            "id": fid,
            "expires_at": issued.expires_at,
            "download": format!("/api/v1/files/{fid}/download"),
        })),
    )
        .into_response())
}

/// `GET /api/v1/files/{file}`: the View License of a file.
pub async fn file(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
) -> ApiResult {
    let (a, d) = st.read(move |l, cat| service::file(l, cat, &c, &f)).await?;
    ok(json!({ "account": a, "file": d }))
}

/// `GET /api/v1/files/{file}/download`: the recorded bytes.
pub async fn download(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
) -> ApiResult {
    let (name, bytes) = st
        .read(move |l, cat| service::download(l, cat, &c, &f))
        .await?;
    Ok(crate::pages::file_response(&name, bytes))
}

/// `POST /api/v1/files/{file}/update`.
pub async fn update(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
    Body(u): Body<UpdateForm>,
) -> ApiResult {
    let old = f.clone();
    let issued = st
        .write(move |l, cat, key| service::update(l, cat, key, &c, &f, u))
        .await?;
    let fid = issued.file_id.to_string();
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/files/{fid}"))],
        Json(json!({
            "id": fid,
            "supersedes": old.trim().to_ascii_lowercase(),
            "expires_at": issued.expires_at,
            "download": format!("/api/v1/files/{fid}/download"),
        })),
    )
        .into_response())
}

/// `GET /api/v1/accounts/{id}/sites`.
pub async fn sites(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = id_of(&id)?;
    let (a, s) = st.read(move |l, _| service::sites(l, &c, id)).await?;
    ok(json!({ "account": a, "sites": s }))
}

/// `POST /api/v1/accounts/{id}/sites`: add an install site.
pub async fn add_site(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    Body(s): Body<NewSite>,
) -> ApiResult {
    let id = id_of(&id)?;
    let name = s.name.trim().to_string();
    st.write(move |l, _, _| service::add_site(l, &c, id, &s))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "site": name }))).into_response())
}

/// An attachment as the API sends it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiAttachment {
    /// File name.
    pub name: String,
    /// Its bytes, base64.
    pub content_base64: String,
}

/// `POST /api/v1/requests` body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiRequest {
    /// The account the request is about.
    pub account_id: i64,
    /// The request.
    pub request: NewRequest,
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<ApiAttachment>,
}

/// `POST /api/v1/requests`: send an activation file request.
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
    let req = r.request;
    let number = st
        .write(move |l, _, _| service::add_request(l, &c, id, req, &atts))
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/requests/{number}"))],
        Json(json!({ "number": number })),
    )
        .into_response())
}

/// `GET /api/v1/requests`: the requests the caller may see.
pub async fn requests(State(st): State<Arc<AppState>>, ApiUser(c): ApiUser) -> ApiResult {
    let v = st.read(move |l, _| service::requests(l, &c)).await?;
    ok(json!({ "requests": v }))
}

/// `GET /api/v1/requests/{number}`.
pub async fn request(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(n): Path<String>,
) -> ApiResult {
    let v = st.read(move |l, _| service::request(l, &c, &n)).await?;
    ok(json!(v))
}

/// The host-ID code to check.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CodeQuery {
    /// The code as typed.
    pub code: String,
}

/// `GET /api/v1/hostid/check?code=...`: whether a host-ID code is valid, and why not.
pub async fn host_id_check(
    ApiUser(_): ApiUser,
    q: Result<Query<CodeQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult {
    let Query(q) = q.map_err(|e| ApiError(PortalError::bad_request(e.body_text())))?;
    if q.code.len() > 200 {
        return Err(ApiError(PortalError::bad_request(
            "a host-ID code has at most 200 characters",
        )));
    }
    ok(json!(service::check_host_id(&q.code)))
}
