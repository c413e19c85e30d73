//! `/v1/checkouts`: session licenses, one per connection an application opens
//! ([`allocation::Allocator::checkout`]): check out, heartbeat, return, list.

use std::sync::PoisonError;

use super::types::{CheckoutBody, CheckoutList, LeaseBody};
use super::writer::unexpected;
use super::{api_error, blocking, denial, rfc3339, syslog, ApiError, Authed, Body, St};
use allocation::{AllocError, BatchDone, BatchOp, Checkout, Entity};
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
    let app = b.application.clone();
    let key = b.key.clone();
    let op = BatchOp::Checkout {
        key: b.key,
        application: b.application,
        lease_secs: b.lease_seconds,
    };
    let c = match s.writer.run(op).await? {
        Ok(BatchDone::Checkout(c)) => *c,
        Ok(_) => return Err(unexpected()),
        Err(e) => {
            if let Some(d) = denial(&e) {
                let line = format!("denied a checkout of {key}: {e}");
                eprintln!(
                    "licadmin serve: {}",
                    line.replace(|c: char| c.is_control(), "?")
                );
                syslog::log(syslog::Severity::Notice, &line);
                *s.denials
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(d)
                    .or_default() += 1;
            }
            return Err(api_error(e));
        }
    };
    tracing::info!(target: "i3lic::serve", checkout = %c.id, key = %c.key, application = app.as_deref().unwrap_or("-"), "checked out");
    Ok((StatusCode::CREATED, Json(checkout_body(&c))).into_response())
}

/// A 404 for an ended checkout, with why when the store still knows.
async fn ended(s: &St, e: AllocError, id: String) -> ApiError {
    super::ended_as(s, e, Entity::Checkout, id).await
}

pub(super) async fn heartbeat(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<Json<LeaseBody>, ApiError> {
    match s.writer.run(BatchOp::RenewCheckout(id.clone())).await? {
        Ok(BatchDone::Checkout(c)) => Ok(Json(LeaseBody {
            lease_expires_at: rfc3339(c.expires_at),
        })),
        Ok(_) => Err(unexpected()),
        Err(e) => Err(ended(&s, e, id).await),
    }
}

pub(super) async fn give_back(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match s.writer.run(BatchOp::ReturnCheckout(id.clone())).await? {
        Ok(BatchDone::Ended) => Ok(StatusCode::NO_CONTENT),
        Ok(_) => Err(unexpected()),
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
