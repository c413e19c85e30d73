//! The live host-ID check behind the pages' script.

use std::sync::Arc;

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::PortalError;
use crate::http::PageUser;
use crate::service::{self, AppState};

/// `GET /hostid-check?code=`: the live host-ID check for the pages' script (session
/// cookie; the same check the API offers with a token).
pub async fn host_id_check(_u: PageUser, Query(q): Query<crate::api::CodeQuery>) -> Response {
    if q.code.len() > 200 {
        return crate::http::ApiError(PortalError::bad_request(
            "a host-ID code has at most 200 characters",
        ))
        .into_response();
    }
    axum::Json(service::check_host_id(&q.code)).into_response()
}

/// This page's routes.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/hostid-check", get(host_id_check))
}
