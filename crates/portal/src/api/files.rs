//! Activation files: an account's activity list, generating, viewing, downloading and
//! updating a file.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use format::LicenseType;
use issuer::{AccountRef, ActivityRow, FileDetails, IssueRequest, PartQuantity};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::{id_of, json, ApiQuery, ApiResult, Body, ErrorBody, Issued};
use crate::error::PortalError;
use crate::http::ApiUser;
use crate::service::{self, ActivityQuery, AppState, UpdateForm, PAGE_SIZE};

/// A part and how many units of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// Part number.
    #[schema(min_length = 1)]
    pub part: String,
    /// Units.
    pub quantity: u32,
}

impl From<Part> for PartQuantity {
    fn from(p: Part) -> Self {
        PartQuantity {
            part: p.part,
            quantity: p.quantity,
        }
    }
}

/// The license types, as the document lists them.
fn license_types() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(LicenseType::ALL.map(|t| t.as_str())))
}

/// The license types and the empty string (any type), for the activity filter.
fn license_types_or_any() -> ObjectBuilder {
    let mut all = vec![""];
    all.extend(LicenseType::ALL.map(|t| t.as_str()));
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(all))
}

/// The activity list's filters, as the document lists them (the handler reads
/// [`ActivityQuery`], the same names).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Only documents the query; never built.
pub struct ActivityParams {
    /// Install site.
    pub site: Option<String>,
    /// yes, no or all (empty: any).
    #[param(pattern = "^(yes|no|all)?$")]
    pub active: Option<String>,
    /// License type (empty: any).
    #[param(rename = "type", schema_with = license_types_or_any)]
    pub license_type: Option<String>,
    /// Product line, CIC or CIC 4.0.
    pub product: Option<String>,
    /// Generated on or after (YYYY-MM-DD); empty means no bound.
    #[param(pattern = "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// Generated on or before (YYYY-MM-DD); empty means no bound.
    #[param(pattern = "^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
    /// Machine name.
    pub machine: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1, maximum = 1000000000)]
    pub page: Option<u64>,
}

/// `POST /api/v1/accounts/{id}/files` body: the issuer's request JSON, the account taken
/// from the address.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IssueRequest)]
pub struct IssueBody {
    /// The account's name: may be left out (the address names it); if given it must be the
    /// address's account (400 naming both otherwise) and not empty.
    #[serde(default)]
    pub account: Option<String>,
    /// Install site.
    #[schema(min_length = 1)]
    pub site: String,
    /// Product line (`CIC`).
    #[schema(min_length = 1)]
    pub product: String,
    /// Product version (`4.0`).
    #[schema(min_length = 1)]
    pub version: String,
    /// License type.
    #[serde(rename = "type")]
    #[schema(schema_with = license_types)]
    pub license_type: LicenseType,
    /// Host-ID code of the server.
    #[schema(min_length = 1)]
    pub host_id: String,
    /// Machine name of the server.
    #[schema(min_length = 1)]
    pub machine: String,
    /// Host-ID code of the switchover server, if given now.
    #[serde(default)]
    pub switchover_host_id: Option<String>,
    /// Machine name of the switchover server.
    #[serde(default)]
    pub switchover_machine: Option<String>,
    /// A switchover server item for the pair.
    #[serde(default)]
    pub switchover_part: Option<String>,
    /// The server item.
    #[schema(min_length = 1)]
    pub server_part: String,
    /// Add-on items and quantities.
    #[serde(default)]
    pub add: Vec<Part>,
    /// System type.
    #[serde(default)]
    pub system_type: Option<String>,
    /// Mail connector.
    #[serde(default)]
    pub mail_connector: Option<String>,
    /// Ignored: the caller is recorded.
    #[serde(default)]
    pub generated_by: Option<String>,
    /// Ignored: set from the caller's role.
    #[serde(default)]
    pub partner: Option<bool>,
    /// For disaster recovery: the related production file's id.
    #[serde(default)]
    pub related: Option<String>,
}

impl IssueBody {
    /// The issuer's request, or 400 for an empty `account`.
    fn into_request(self) -> Result<IssueRequest, PortalError> {
        let account = match self.account {
            Some(a) if a.trim().is_empty() => {
                return Err(PortalError::bad_request(
                    "account: empty; leave it out (the address names the account) or give the account's name",
                ))
            }
            Some(a) => a,
            None => String::new(),
        };
        Ok(IssueRequest {
            account,
            site: self.site,
            product: self.product,
            version: self.version,
            license_type: self.license_type,
            host_id: self.host_id,
            machine: self.machine,
            switchover_host_id: self.switchover_host_id,
            switchover_machine: self.switchover_machine,
            switchover_part: self.switchover_part,
            server_part: self.server_part,
            add: self.add.into_iter().map(PartQuantity::from).collect(),
            system_type: self.system_type,
            mail_connector: self.mail_connector,
            generated_by: String::new(),
            partner: false,
            related: self.related,
        })
    }
}

/// `POST /api/v1/files/{file}/update` body: what changes (every field may be left out).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(as = Update)]
pub struct UpdateBody {
    /// Units to add, by part.
    pub add: Vec<Part>,
    /// The switchover server's host-ID code (given later than the first file).
    pub switchover_host_id: Option<String>,
    /// The switchover server's machine name.
    pub switchover_machine: Option<String>,
    /// The switchover server item.
    pub switchover_part: Option<String>,
    /// A new host-ID code for the primary server.
    pub host_id: Option<String>,
    /// A new machine name for the primary server.
    pub machine: Option<String>,
}

impl From<UpdateBody> for UpdateForm {
    fn from(u: UpdateBody) -> Self {
        UpdateForm {
            add: u.add.into_iter().map(PartQuantity::from).collect(),
            switchover_host_id: u.switchover_host_id,
            switchover_machine: u.switchover_machine,
            switchover_part: u.switchover_part,
            host_id: u.host_id,
            machine: u.machine,
            system_type: None,
            mail_connector: None,
        }
    }
}

/// One page of an account's files.
#[derive(Debug, Serialize, ToSchema)]
pub struct Activity {
    /// The account.
    #[schema(value_type = super::AccountDoc)]
    pub account: AccountRef,
    /// Files matching the filters, on every page.
    pub total: u64,
    /// This page, from 1.
    pub page: u64,
    /// Rows per page.
    pub page_size: u32,
    /// This page's files, newest first.
    #[schema(value_type = Vec<Object>)]
    pub files: Vec<ActivityRow>,
}

/// A file and its account.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// The account.
    #[schema(value_type = super::AccountDoc)]
    pub account: AccountRef,
    /// The file's details, as the View License page shows them.
    #[schema(value_type = Object)]
    pub file: FileDetails,
}

/// `GET /api/v1/accounts/{id}/files`: the Activation File Activity list, a page at a time.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/files", tag = "files",
    operation_id = "listFiles", summary = "Activation File Activity",
    params(
        ("id" = i64, Path, description = "Account id (from GET /accounts)", minimum = 1),
        ActivityParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of files", body = Activity),
        (status = 400, description = "A malformed filter, naming the parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such account, or not the caller's", body = ErrorBody),
    ))]
pub async fn activity(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult {
    let id = id_of(&id)?;
    let page = q.page.unwrap_or(1).max(1);
    let (account, files, total) = st
        .read(move |l, _| service::activity(l, &c, id, &q))
        .await?;
    json(
        StatusCode::OK,
        Activity {
            account,
            total,
            page,
            page_size: PAGE_SIZE,
            files,
        },
    )
}

/// `POST /api/v1/accounts/{id}/files`: generate a file for the address's account.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/files", tag = "files",
    operation_id = "issueFile", summary = "Generate an activation file",
    params(
        ("id" = i64, Path, description = "Account id (from GET /accounts)", minimum = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255),
    ),
    request_body = IssueBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Generated and recorded", body = Issued),
        (status = 400, description = "A malformed request, or an account in the body other than the address's", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not generate files", body = ErrorBody),
        (status = 404, description = "No such account, or not the caller's", body = ErrorBody),
        (status = 409, description = "Not enough units, or a conflict with the ledger", body = ErrorBody),
        (status = 413, description = "A body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A license rule, or an Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn issue(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    Body(body): Body<IssueBody>,
) -> ApiResult {
    let id = id_of(&id)?;
    let req = body.into_request()?;
    let issued = service::issue(&st, c, id, req).await?;
    let id = issued.file_id.to_string();
    Issued {
        download: format!("/api/v1/files/{id}/download"),
        id,
        supersedes: None,
        expires_at: issued.expires_at,
    }
    .created()
}

/// `GET /api/v1/files/{file}`: the View License of a file.
#[utoipa::path(get, path = "/api/v1/files/{file}", tag = "files",
    operation_id = "getFile", summary = "View License",
    params(("file" = String, Path, description = "Activation file id", min_length = 1, max_length = 64)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The file and its account", body = FileView),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's", body = ErrorBody),
    ))]
pub async fn file(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
) -> ApiResult {
    let (account, file) = st.read(move |l, cat| service::file(l, cat, &c, &f)).await?;
    json(StatusCode::OK, FileView { account, file })
}

/// `GET /api/v1/files/{file}/download`: the recorded bytes.
#[utoipa::path(get, path = "/api/v1/files/{file}/download", tag = "files",
    operation_id = "downloadFile", summary = "The recorded bytes of the file",
    params(("file" = String, Path, description = "Activation file id", min_length = 1, max_length = 64)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The activation file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's", body = ErrorBody),
    ))]
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

/// `POST /api/v1/files/{file}/update`: a new file that supersedes this one.
#[utoipa::path(post, path = "/api/v1/files/{file}/update", tag = "files",
    operation_id = "updateFile", summary = "Update a file (add seats, change a host, add the switchover host later)",
    params(
        ("file" = String, Path, description = "Activation file id", min_length = 1, max_length = 64),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255),
    ),
    request_body = UpdateBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "The new file, which supersedes the old", body = Issued),
        (status = 400, description = "A malformed request", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not update files", body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's", body = ErrorBody),
        (status = 409, description = "Not enough units, the file inactive, or nothing changes", body = ErrorBody),
        (status = 413, description = "A body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A license rule, or an Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn update(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(f): Path<String>,
    Body(u): Body<UpdateBody>,
) -> ApiResult {
    let old = f.trim().to_ascii_lowercase();
    let issued = st
        .write(move |l, cat, key| service::update(l, cat, key, &c, &f, UpdateForm::from(u)))
        .await?;
    let id = issued.file_id.to_string();
    Issued {
        download: format!("/api/v1/files/{id}/download"),
        id,
        supersedes: Some(old),
        expires_at: issued.expires_at,
    }
    .created()
}
