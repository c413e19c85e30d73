//! Install sites of an account.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use issuer::{AccountRef, Site};
use serde::Serialize;
use utoipa::ToSchema;

use super::{id_of, json, AccountDoc, ApiResult, Body, ErrorBody};
use crate::http::ApiUser;
use crate::service::{self, AppState, NewSite};

/// An account's install sites.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteList {
    /// The account.
    #[schema(value_type = AccountDoc)]
    pub account: AccountRef,
    /// Its sites.
    #[schema(value_type = Vec<Object>)]
    pub sites: Vec<Site>,
}

/// A site just added.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteAdded {
    /// Its name, trimmed.
    pub site: String,
}

/// `GET /api/v1/accounts/{id}/sites`.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/sites", tag = "sites",
    operation_id = "listSites", summary = "Install sites",
    params(("id" = i64, Path, description = "Account id (from GET /accounts)", minimum = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sites", body = SiteList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such account, or not the caller's", body = ErrorBody),
    ))]
pub async fn sites(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = id_of(&id)?;
    let (account, sites) = st.read(move |l, _| service::sites(l, &c, id)).await?;
    json(StatusCode::OK, SiteList { account, sites })
}

/// `POST /api/v1/accounts/{id}/sites`: add an install site.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/sites", tag = "sites",
    operation_id = "addSite", summary = "Add an install site",
    params(
        ("id" = i64, Path, description = "Account id (from GET /accounts)", minimum = 1),
        ("Idempotency-Key" = Option<String>, Header, description = "Sent again with the same key and body (a retry), the request is done once and answers the first response (status and body); the key with another body is refused (422, key-reused). Printable ASCII, 1 to 255 characters; kept 24 hours, per user.", max_length = 255),
    ),
    request_body = NewSite, security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = SiteAdded),
        (status = 400, description = "A malformed site", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The caller may not add sites", body = ErrorBody),
        (status = 404, description = "No such account, or not the caller's", body = ErrorBody),
        (status = 409, description = "A site of that name exists", body = ErrorBody),
        (status = 413, description = "A body over the limit", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "An Idempotency-Key sent before with another body", body = ErrorBody),
    ))]
pub async fn add_site(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    Body(s): Body<NewSite>,
) -> ApiResult {
    let id = id_of(&id)?;
    let site = s.name.trim().to_string();
    Ok(crate::once_done::api(
        &st,
        c,
        move |l, _, _, c| service::add_site(l, c, id, &s),
        move |_| (StatusCode::CREATED, SiteAdded { site: site.clone() }),
    )
    .await?)
}
