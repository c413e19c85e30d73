//! The pages' forms: one extractor, [`CsrfForm`], reads a state-changing urlencoded form
//! (within the body limit, repeated keys into a `Vec`) once its one `csrf` field is the
//! session's token, compared in constant time, and takes its one-time token (`once`, see
//! [`crate::once`]) as the caller's key; [`Form`] reads the login form, whose token
//! is checked against its own cookie. Every refusal is a page: 413 for a body over the
//! limit, 403 (the stale-form page) for a missing or wrong token, 400 for a form that
//! cannot be read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, StatusCode};
use issuer::PartQuantity;
use serde::de::DeserializeOwned;

use crate::error::PortalError;
use crate::http::{PageError, PageRefusal, PageUser};
use crate::service::AppState;

/// A page's urlencoded form read as `T` (no token check: the login form's token is its
/// cookie's, not a session's).
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;
    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let body = body_of(req, state).await?;
        Ok(Form(parse(&body)?))
    }
}

/// A state-changing form of a logged-in user: the user, and the form read as `T` once its
/// anti-forgery token is their session's (a browser without a session goes to the login
/// page, as for any page).
#[derive(Debug)]
pub struct CsrfForm<T>(pub PageUser, pub T);

impl<T> FromRequest<Arc<AppState>> for CsrfForm<T>
where
    T: DeserializeOwned,
{
    type Rejection = PageRefusal;
    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, PageRefusal> {
        let (mut parts, body) = req.into_parts();
        let mut user = PageUser::from_request_parts(&mut parts, state)
            .await
            .map_err(PageRefusal::Login)?;
        let (method, path) = (parts.method.clone(), parts.uri.path().to_string());
        let body = body_of(Request::from_parts(parts, body), state).await?;
        let fields = pairs(&body).map_err(PageError)?;
        check(&user, &fields).map_err(PageError)?;
        // The form's one-time token: its change is done once however often it is sent.
        crate::once::from_form(&mut user.caller, &fields, &method, &path, &body)
            .map_err(PageError)?;
        let form = parse(&body)?;
        Ok(CsrfForm(user, form))
    }
}

/// The body of a urlencoded form (or of one sent without a content type), within the body
/// limit.
async fn body_of<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, PageError> {
    let urlencoded = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !urlencoded {
        // Not this portal's form: its pages send only urlencoded forms here.
        return Err(PageError(PortalError::stale_form()));
    }
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            PageError(PortalError::new(
                e.status(),
                "payload-too-large",
                "The form is too large.",
            ))
        } else {
            PageError(PortalError::bad_request("The form could not be read."))
        }
    })
}

/// A urlencoded body as `T` (a repeated key fills a `Vec`).
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    serde_html_form::from_bytes(body).map_err(|e| {
        PageError(PortalError::bad_request(format!(
            "The form could not be read: {e}."
        )))
    })
}

/// Read a urlencoded form into its pairs (repeated names kept), for the token check and the
/// multipart forms.
pub(crate) fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, PortalError> {
    let s =
        std::str::from_utf8(body).map_err(|_| PortalError::bad_request("the form is not UTF-8"))?;
    let mut out = Vec::new();
    for kv in s.split('&').filter(|x| !x.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, PortalError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| PortalError::bad_request("the form has a bad %-escape"))?;
                out.push(h);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| PortalError::bad_request("the form is not UTF-8"))
}

/// Refuse a form whose one `csrf` field is not the session's token.
pub(crate) fn check(u: &PageUser, p: &[(String, String)]) -> Result<(), PortalError> {
    u.check_csrf(csrf_of(p))
}

/// The form's anti-forgery token: its one `csrf` field (empty when there is none, or more
/// than one, so the form is refused as stale).
pub(crate) fn csrf_of(p: &[(String, String)]) -> &str {
    let mut v = p.iter().filter(|(k, _)| k == "csrf");
    match (v.next(), v.next()) {
        (Some((_, t)), None) => t,
        _ => "",
    }
}

/// A field of a multipart form, trimmed; `None` when absent or blank.
pub(crate) fn field<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A form value, trimmed; `None` when blank.
pub(crate) fn value(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// A yes/no field (`active`): `yes` or `no`, nothing else.
pub(crate) fn yes_no(v: &str, name: &str) -> Result<bool, PageError> {
    match v.trim() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(PageError(PortalError::bad_request(format!(
            "{name} must be yes or no"
        )))),
    }
}

/// A form with nothing but its token.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NoFields {}

/// The add-on rows of New Activation File and Update: each row's part (`add_part`, hidden)
/// and quantity (`add_quantity`), in the same order; blank and zero quantities are left out.
pub(crate) fn add_items(
    parts: &[String],
    quantities: &[String],
) -> Result<Vec<PartQuantity>, PortalError> {
    if parts.len() != quantities.len() {
        return Err(PortalError::bad_request(
            "every add-on row needs its part and its quantity",
        ));
    }
    let mut add = Vec::new();
    for (part, v) in parts.iter().zip(quantities) {
        let (part, v) = (part.trim(), v.trim());
        if v.is_empty() {
            continue;
        }
        let q: u32 = v.parse().map_err(|_| {
            PortalError::bad_request(format!(
                "the quantity of {} must be a whole number from 0 to 4294967295, not '{}'",
                part.escape_debug(),
                v.escape_debug()
            ))
        })?;
        if q > 0 {
            add.push(PartQuantity {
                part: part.to_string(),
                quantity: q,
            });
        }
    }
    Ok(add)
}
