//! `/v1/checkouts`: session licenses, one per connection an application opens
//! ([`allocation::Allocator::checkout`]): check out, heartbeat, return, list.

use std::sync::PoisonError;

use super::types::{CheckoutBody, CheckoutList, LeaseBody};
use super::{
    api_error, blocking, blocking_raw, denial, rfc3339, syslog, ApiError, Authed, Body, St,
};
use allocation::{AllocError, Checkout, Entity};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

/// `POST /v1/checkouts`: one session license for one connection.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CheckoutRequest {
    /// The session key (a name ending in _SESSION_ADDON).
    key: String,
    /// What is connecting, for the server's log and the list of checkouts.
    application: Option<String>,
    /// The lease (default 600, at most 86400).
    #[schema(minimum = 1, maximum = 86400)]
    lease_seconds: Option<u32>,
}

fn checkout_body(c: &Checkout) -> CheckoutBody {
    CheckoutBody {
        checkout: c.id.clone(),
        key: c.key.clone(),
        application: c.application.clone(),
        lease_seconds: c.lease_secs,
        started_at: rfc3339(c.started_at),
        lease_expires_at: rfc3339(c.expires_at),
    }
}

/// The status of a refused checkout: a key the file does not grant is 404, one that is not
/// a session key 422, none free 409 (as every refusal, through [`api_error`]).
pub(super) async fn checkout(
    _: Authed,
    State(s): State<St>,
    Body(b): Body<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let shared = s.clone();
    let app = b.application.clone();
    let c = blocking(&s, move |a| {
        let r = a.checkout(&b.key, b.application.as_deref(), b.lease_seconds);
        if let Err(e) = &r {
            if let Some(d) = denial(e) {
                let line = format!("denied a checkout of {}: {e}", b.key);
                eprintln!(
                    "licadmin serve: {}",
                    line.replace(|c: char| c.is_control(), "?")
                );
                syslog::log(syslog::Severity::Notice, &line);
                *shared
                    .denials
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(d)
                    .or_default() += 1;
            }
        }
        r
    })
    .await?;
    tracing::info!(target: "i3lic::serve", checkout = %c.id, key = %c.key, application = app.as_deref().unwrap_or("-"), "checked out");
    Ok((StatusCode::CREATED, Json(checkout_body(&c))).into_response())
}

/// A 404 for an ended checkout, with why when the store still knows.
async fn ended(s: &St, e: AllocError, id: String) -> ApiError {
    if !matches!(
        e,
        AllocError::Unknown {
            what: Entity::Checkout,
            ..
        }
    ) {
        return api_error(e);
    }
    let mut err = api_error(e);
    if let Ok(Some(end)) = blocking(s, move |a| a.checkout_end(&id)).await {
        err.kind = "checkout-ended";
        err.message = format!(
            "the checkout ended at {}: {}",
            rfc3339(end.ended_at),
            end.reason.replace('-', " ")
        );
        err.reason = Some(end.reason);
    }
    err
}

pub(super) async fn heartbeat(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<Json<LeaseBody>, ApiError> {
    let id2 = id.clone();
    match blocking_raw(&s, move |a| a.renew_checkout(&id2)).await? {
        Ok(c) => Ok(Json(LeaseBody {
            lease_expires_at: rfc3339(c.expires_at),
        })),
        Err(e) => Err(ended(&s, e, id).await),
    }
}

pub(super) async fn give_back(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id2 = id.clone();
    match blocking_raw(&s, move |a| a.return_checkout(&id2)).await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(e) => Err(ended(&s, e, id).await),
    }
}

pub(super) async fn list(_: Authed, State(s): State<St>) -> Result<Json<CheckoutList>, ApiError> {
    let list = blocking(&s, |a| {
        a.release_lapsed()?;
        a.checkouts()
    })
    .await?;
    Ok(Json(CheckoutList {
        checkouts: list.iter().map(checkout_body).collect(),
    }))
}
