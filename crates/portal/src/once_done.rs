//! Changes done once, for the pages and the API ([`issuer::Ledger::done_once`]): a change
//! sent twice with one key (a form's one-time token, an API `Idempotency-Key`) is done the
//! first time, and the repeat gets the first answer back: a page the same redirect with
//! the same message, the API the same status and body. The key with another request is
//! refused (422, `key-reused`).

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use format::{SecretKey, Timestamp};
use issuer::ledger::{Done, NOT_KEPT_STATUS};
use issuer::{Answered, Ledger};
use serde::Serialize;

use crate::error::PortalError;
use crate::pages::flash::Flash;
use crate::policy::Caller;
use crate::service::AppState;
use issuer::Catalog;

/// The status kept for a page's redirect (its body: the address, a line break, and the
/// message's name or nothing).
const REDIRECT_STATUS: u16 = 303;

/// Run a page's change once for `c`'s one-time token: its redirect is `to` of its result
/// (an address and the message the page there shows), the same for a repeat; `fallback`
/// is where a repeat whose answer was not kept goes.
pub(crate) async fn page<T, W, R>(
    st: &Arc<AppState>,
    c: Caller,
    fallback: String,
    work: W,
    to: R,
) -> Result<Response, PortalError>
where
    T: Send + 'static,
    W: FnOnce(&mut Ledger, &Catalog, &SecretKey, &Caller) -> Result<T, PortalError>
        + Send
        + 'static,
    R: Fn(&T) -> (String, Option<Flash>) + Send + 'static,
{
    let done = answered_once(st, c, work, move |t| {
        let (to, f) = to(t);
        page_answer(&to, f)
    })
    .await?;
    Ok(page_again(st, &done, &fallback))
}

/// A redirect (303) to `to`, leaving `f` for the page there.
fn redirect(st: &AppState, to: &str, f: Option<Flash>) -> Response {
    match f {
        Some(f) => crate::pages::flash::redirect(st, to, f),
        None => Redirect::to(to).into_response(),
    }
}

/// What a page's change answered, to keep.
fn page_answer(to: &str, f: Option<Flash>) -> Answered {
    let name = f.map(Flash::name).unwrap_or("");
    Answered {
        status: REDIRECT_STATUS,
        body: format!("{to}\n{name}").into_bytes(),
    }
}

/// A page's answer (the first one's, for a repeat).
fn page_again(st: &AppState, a: &Answered, fallback: &str) -> Response {
    let text = String::from_utf8_lossy(&a.body);
    match (a.status, text.split_once('\n')) {
        (REDIRECT_STATUS, Some((to, name))) if to.starts_with('/') => {
            redirect(st, to, Flash::from_name(name))
        }
        _ => Redirect::to(fallback).into_response(),
    }
}

/// Run an API change once for `c`'s `Idempotency-Key`: answered `answer` of its result
/// (a status and a JSON body), the same for a repeat.
pub(crate) async fn api<T, B, W, R>(
    st: &Arc<AppState>,
    c: Caller,
    work: W,
    answer: R,
) -> Result<Response, PortalError>
where
    T: Send + 'static,
    B: Serialize,
    W: FnOnce(&mut Ledger, &Catalog, &SecretKey, &Caller) -> Result<T, PortalError>
        + Send
        + 'static,
    R: Fn(&T) -> (StatusCode, B) + Send + 'static,
{
    api_at(st, c, work, move |t| {
        let (s, b) = answer(t);
        (s, None, b)
    })
    .await
}

/// [`api`] with a `Location` header (answered again too).
pub(crate) async fn api_at<T, B, W, R>(
    st: &Arc<AppState>,
    c: Caller,
    work: W,
    answer: R,
) -> Result<Response, PortalError>
where
    T: Send + 'static,
    B: Serialize,
    W: FnOnce(&mut Ledger, &Catalog, &SecretKey, &Caller) -> Result<T, PortalError>
        + Send
        + 'static,
    R: Fn(&T) -> (StatusCode, Option<String>, B) + Send + 'static,
{
    let a = answered_once(st, c, work, move |t| {
        let (status, at, body) = answer(t);
        api_answer(status, at.as_deref(), &body)
    })
    .await?;
    Ok(api_again(&a))
}

/// Run `work` once for `c`'s key and give what is answered: `kept` of its result the first
/// time (and kept for a repeat), the first answer for a repeat.
async fn answered_once<T, W, K>(
    st: &Arc<AppState>,
    c: Caller,
    work: W,
    kept: K,
) -> Result<Answered, PortalError>
where
    T: Send + 'static,
    W: FnOnce(&mut Ledger, &Catalog, &SecretKey, &Caller) -> Result<T, PortalError>
        + Send
        + 'static,
    K: Fn(&T) -> Answered + Send + 'static,
{
    st.write(move |l, cat, key| {
        let done = l.done_once(
            c.once.as_ref(),
            Timestamp::now(),
            |l| work(l, cat, key, &c),
            &kept,
        )?;
        Ok(match done {
            Done::First(t) => kept(&t),
            Done::Again(a) => a,
        })
    })
    .await
}

/// The line a kept API answer starts with when it had a `Location` (a JSON body cannot
/// start so).
const LOCATION: &str = "Location: ";

/// What an API change answered, to keep: its status, its `Location` on a first line, and
/// its JSON body.
fn api_answer<B: Serialize>(status: StatusCode, at: Option<&str>, body: &B) -> Answered {
    let mut kept = Vec::new();
    if let Some(at) = at {
        kept.extend_from_slice(format!("{LOCATION}{at}\n").as_bytes());
    }
    kept.extend_from_slice(&serde_json::to_vec(body).unwrap_or_default());
    Answered {
        status: status.as_u16(),
        body: kept,
    }
}

/// An API change's answer (the first one's, for a repeat).
fn api_again(a: &Answered) -> Response {
    if a.status == NOT_KEPT_STATUS {
        return crate::http::ApiError(already_done()).into_response();
    }
    let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::OK);
    let (at, body) = match a.body.strip_prefix(LOCATION.as_bytes()) {
        Some(rest) => {
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let at = HeaderValue::from_bytes(&rest[..end]).ok();
            (at, rest.get(end + 1..).unwrap_or_default().to_vec())
        }
        None => (None, a.body.clone()),
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(at) = at {
        r.headers_mut().insert(header::LOCATION, at);
    }
    r
}

/// The status kept for a change whose result is kept as it is ([`value`]).
const VALUE_STATUS: u16 = 200;

/// Run a change once for `c`'s key, its result kept (as JSON) for a repeat, which gets it
/// back as it was: for answers drawn from the result (a page, an API body), with whether
/// it is a repeat. A repeat whose result was not kept is refused (409, `already-done`).
pub(crate) async fn value<T, W>(
    st: &Arc<AppState>,
    c: Caller,
    work: W,
) -> Result<(T, bool), PortalError>
where
    T: Serialize + serde::de::DeserializeOwned + Send + 'static,
    W: FnOnce(&mut Ledger, &Catalog, &SecretKey, &Caller) -> Result<T, PortalError>
        + Send
        + 'static,
{
    let done = st
        .write(move |l, cat, key| {
            l.done_once(
                c.once.as_ref(),
                Timestamp::now(),
                |l| work(l, cat, key, &c),
                |t| Answered {
                    status: VALUE_STATUS,
                    body: serde_json::to_vec(t).unwrap_or_default(),
                },
            )
        })
        .await?;
    match done {
        Done::First(t) => Ok((t, false)),
        Done::Again(a) => match (a.status, serde_json::from_slice(&a.body)) {
            (VALUE_STATUS, Ok(t)) => Ok((t, true)),
            _ => Err(already_done()),
        },
    }
}

/// A repeat of a change whose answer was not kept.
fn already_done() -> PortalError {
    PortalError::new(
        StatusCode::CONFLICT,
        "already-done",
        "This request was done already (its key was seen); its answer was not kept: look at the resource to see it.",
    )
}
