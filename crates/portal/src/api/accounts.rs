//! Accounts: the ones the caller may see, and one account's summary.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use issuer::{AccountRef, Summary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{id_of, json, AccountDoc, ApiQuery, ApiResult, ErrorBody};
use crate::http::ApiUser;
use crate::service::{self, AppState};

/// The accounts the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Sorted by name.
    #[schema(value_type = Vec<AccountDoc>)]
    pub accounts: Vec<AccountRef>,
}

/// What an account ordered and uses.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Summary)]
pub struct SummaryDoc {
    /// The account's name.
    pub account: String,
    /// Per part: total, used, available.
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<serde_json::Value>,
    /// Per install site.
    #[schema(value_type = Vec<Object>)]
    pub sites: Vec<serde_json::Value>,
}

/// Filters of the summary.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SummaryQuery {
    /// Install site.
    pub site: Option<String>,
    /// Product category (`CIC 4.0`).
    pub category: Option<String>,
}

/// `GET /api/v1/accounts`: the accounts the caller may see.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    operation_id = "listAccounts", summary = "Accounts the caller may see",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The accounts", body = AccountList),
        (status = 401, description = "No valid token", body = ErrorBody),
    ))]
pub async fn accounts(State(st): State<Arc<AppState>>, ApiUser(c): ApiUser) -> ApiResult {
    let accounts = st.read(move |l, _| service::accounts(l, &c)).await?;
    json(StatusCode::OK, AccountList { accounts })
}

/// `GET /api/v1/accounts/{id}/summary`: ordered items, total, used and available.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/summary", tag = "accounts",
    operation_id = "accountSummary", summary = "Account Summary",
    params(
        ("id" = i64, Path, description = "Account id (from GET /accounts)", minimum = 1),
        ("site" = Option<String>, Query, description = "Install site"),
        ("category" = Option<String>, Query, description = "Product category, CIC 4.0"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Ordered items: total, used, available", body = SummaryDoc),
        (status = 400, description = "A malformed filter, naming the parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such account or site, or not the caller's", body = ErrorBody),
    ))]
pub async fn summary(
    State(st): State<Arc<AppState>>,
    ApiUser(c): ApiUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> ApiResult {
    let id = id_of(&id)?;
    let site = service::nonempty(&q.site).map(String::from);
    let category = service::nonempty(&q.category).map(String::from);
    let s: Summary = st
        .read(move |l, cat| service::summary(l, cat, &c, id, site.as_deref(), category.as_deref()))
        .await?;
    json(StatusCode::OK, s)
}
