//! Who is calling, as axum extractors, and how refusals are answered: JSON for the API, an
//! HTML page for the pages.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;

use crate::auth::{self, Session, SESSION_COOKIE};
use crate::error::PortalError;
use crate::service::{self, AppState, Caller};

/// A refusal answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub PortalError);

impl From<PortalError> for ApiError {
    fn from(e: PortalError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0.status, Json(self.0.to_json())).into_response();
        if self.0.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"i3lic\""),
            );
        }
        r
    }
}

/// A refusal answered as a page.
#[derive(Debug)]
pub struct PageError(pub PortalError);

impl From<PortalError> for PageError {
    fn from(e: PortalError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.0.status, crate::pages::error_page(&self.0)).into_response()
    }
}

/// Whether a path is the API's: `/api` itself and everything under it (`/api/v1` included),
/// whose errors are JSON.
fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The longest address (path and query) served, in bytes; longer ones answer 414.
pub const MAX_URI: usize = 8 * 1024;

/// What an API error of this status is called when the answer was not made by the API's
/// own handlers (axum's routing and body limits): its kind and a message.
fn kind_of(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            ("bad-request", "The request is malformed.")
        }
        StatusCode::UNAUTHORIZED => (
            "unauthorized",
            "Log in first (or send a valid API token as 'Authorization: Bearer ...').",
        ),
        StatusCode::FORBIDDEN => ("forbidden", "This is not allowed."),
        StatusCode::NOT_FOUND => (
            "not-found",
            "There is nothing here, or it belongs to an account you cannot see.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "This address does not take this method (the Allow header lists those it takes).",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "The request body is too large."),
        StatusCode::URI_TOO_LONG => ("uri-too-long", "The address is too long."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported-media-type",
            "Send the body as JSON, with 'Content-Type: application/json'.",
        ),
        StatusCode::TOO_MANY_REQUESTS => ("too-many-requests", "Too many requests: wait a little."),
        s if s.is_server_error() => (
            "internal",
            "Something went wrong on our side; nothing was changed.",
        ),
        _ => ("bad-request", "The request was refused."),
    }
}

/// Every refusal under `/api/` as JSON `{"error": {"kind", "message"}}`, whoever made it: the
/// API's handlers already answer so, and this turns the rest (axum's 405 with an empty body,
/// a body limit's or an extractor's plain text) into the same shape, keeping `Allow`,
/// `Retry-After` and `WWW-Authenticate`. An address over [`MAX_URI`] bytes answers 414 (as
/// JSON under `/api/`, as a page elsewhere).
pub async fn api_errors_as_json(req: axum::extract::Request, next: Next) -> Response {
    let api = is_api(req.uri().path());
    let long = req
        .uri()
        .path_and_query()
        .is_some_and(|p| p.as_str().len() > MAX_URI);
    if long {
        let (kind, msg) = kind_of(StatusCode::URI_TOO_LONG);
        let e = PortalError::new(StatusCode::URI_TOO_LONG, kind, msg);
        return if api {
            ApiError(e).into_response()
        } else {
            PageError(e).into_response()
        };
    }
    let res = next.run(req).await;
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || json || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let (parts, body) = res.into_parts();
    // axum's own refusals are one short line; more is not read.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (kind, default) = kind_of(status);
    // A server error's own text may name internals: it is never shown.
    let message = if text.is_empty() || status.is_server_error() {
        default.to_string()
    } else {
        text
    };
    let mut out = ApiError(PortalError::new(status, kind, message)).into_response();
    for h in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    out
}

/// The answer for an address nothing serves: JSON under `/api/`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if is_api(uri.path()) {
        ApiError(PortalError::not_found()).into_response()
    } else {
        PageError(PortalError::not_found()).into_response()
    }
}

/// The value of a cookie in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` when configured; an empty
/// value removes the cookie (`Max-Age=0`).
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<u32>,
) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let age = match (value.is_empty(), max_age) {
        (true, _) => "; Max-Age=0".to_string(),
        (false, Some(a)) => format!("; Max-Age={a}"),
        (false, None) => String::new(),
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict{secure}{age}")
}

/// The `Set-Cookie` value of a session cookie (or of its removal, with an empty value):
/// a browser-session cookie for the whole portal.
pub fn session_cookie(state: &AppState, value: &str) -> String {
    set_cookie(state, SESSION_COOKIE, value, "/", None)
}

/// The `Set-Cookie` value of the login form's token (or of its removal, with an empty
/// value): ten minutes, the login page only.
pub fn login_cookie(state: &AppState, value: &str) -> String {
    set_cookie(state, crate::auth::LOGIN_COOKIE, value, "/login", Some(600))
}

/// The `Set-Cookie` value of a message to show once (or of its removal, with an empty
/// value): two minutes, enough to follow the redirect it came with.
pub fn flash_cookie(state: &AppState, value: &str) -> String {
    set_cookie(state, crate::pages::FLASH_COOKIE, value, "/", Some(120))
}

/// The address a request came from: the socket's peer, or the client a trusted proxy names
/// ([`crate::client`]); none in in-process tests.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<Arc<AppState>> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| {
                state
                    .config
                    .trusted_proxies
                    .client(c.0.ip(), &parts.headers)
            }),
        ))
    }
}

/// A browser session, logged in or not, with its cookie value.
#[derive(Debug, Clone)]
pub struct AnySession {
    /// The cookie value.
    pub cookie: String,
    /// The session.
    pub session: Session,
}

impl OptionalFromRequestParts<Arc<AppState>> for AnySession {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(c) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        Ok(state.sessions().get(c).await.map(|s| AnySession {
            cookie: c.to_string(),
            session: s,
        }))
    }
}

/// A logged-in browser user; a page without one sends the browser to the login page.
#[derive(Debug, Clone)]
pub struct PageUser {
    /// Who.
    pub caller: Caller,
    /// Their session (its anti-forgery token).
    pub session: Session,
    /// The session cookie's value.
    pub cookie: String,
}

impl PageUser {
    /// Refuse a form whose anti-forgery token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PortalError> {
        if auth::constant_time_eq(token.as_bytes(), self.session.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PortalError::stale_form())
        }
    }
}

/// Sent to the login page (the `Set-Cookie` that removes an ended session's cookie with it).
#[derive(Debug)]
pub struct ToLogin(String, Option<String>);

impl ToLogin {
    /// To the login page and back to `back` after it.
    fn to(back: String) -> Self {
        ToLogin(back, None)
    }

    /// A session whose user was disabled, removed or given a new password since it began:
    /// it ends here for good (so the login page shows instead of sending the browser back).
    async fn ended(state: &Arc<AppState>, cookie: &str, back: String) -> Self {
        state.sessions().remove(cookie).await;
        ToLogin(back, Some(session_cookie(state, "")))
    }
}

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        let mut r = Redirect::to(&format!("/login?next={}", url_encode(&self.0))).into_response();
        if let Some(v) = self
            .1
            .and_then(|c| axum::http::HeaderValue::from_str(&c).ok())
        {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        r
    }
}

/// Percent-encode a query value or a path segment (every byte but unreserved ones, `/`
/// included, so a name can never add a segment to an address).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The caller of a session of user `id` started under `epoch`, if it may go on.
pub(crate) async fn load_user(state: &Arc<AppState>, id: i64, epoch: i64) -> Option<Caller> {
    state
        .read_kept(move |l, kept, _| service::caller(l, kept, id, epoch))
        .await
        .ok()
        .flatten()
}

impl FromRequestParts<Arc<AppState>> for PageUser {
    type Rejection = ToLogin;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let s = PageSession::from_request_parts(parts, state).await?;
        let Some(caller) = load_user(state, s.user_id, s.session.epoch).await else {
            return Err(ToLogin::ended(state, &s.cookie, s.back).await);
        };
        Ok(PageUser {
            caller,
            session: s.session,
            cookie: s.cookie,
        })
    }
}

/// A logged-in browser session whose user is not read yet: [`PageSession::read`] reads the
/// user and the page in one read of the ledger (one snapshot instead of two), for the
/// pages served most. Without a session, the browser goes
/// to the login page.
#[derive(Debug)]
pub struct PageSession {
    session: Session,
    cookie: String,
    user_id: i64,
    /// Where the login page sends the browser back to.
    back: String,
}

impl FromRequestParts<Arc<AppState>> for PageSession {
    type Rejection = ToLogin;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let back = if parts.method == axum::http::Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".into(), |p| p.as_str().to_string())
        } else {
            "/accounts".into()
        };
        let Some(s) = <AnySession as OptionalFromRequestParts<_>>::from_request_parts(parts, state)
            .await
            .unwrap_or(None)
        else {
            return Err(ToLogin::to(back));
        };
        let Some(user_id) = s.session.user_id else {
            return Err(ToLogin::to(back));
        };
        Ok(PageSession {
            session: s.session,
            cookie: s.cookie,
            user_id,
            back,
        })
    }
}

/// Why a page read through [`PageSession::read`] is not shown.
#[derive(Debug)]
pub enum PageRefusal {
    /// The user is gone or disabled: to the login page.
    Login(ToLogin),
    /// The page's own refusal.
    Page(PageError),
}

impl From<PageError> for PageRefusal {
    fn from(e: PageError) -> Self {
        PageRefusal::Page(e)
    }
}

impl IntoResponse for PageRefusal {
    fn into_response(self) -> Response {
        match self {
            PageRefusal::Login(l) => l.into_response(),
            PageRefusal::Page(p) => p.into_response(),
        }
    }
}

impl PageSession {
    /// Read the session's user and, when they may still log in, `f` with them as the caller,
    /// in one read transaction.
    pub async fn read<T, F>(self, state: &Arc<AppState>, f: F) -> Result<(PageUser, T), PageRefusal>
    where
        T: Send + 'static,
        F: FnOnce(
                &issuer::Ledger,
                &mut crate::kept::Kept,
                &issuer::Catalog,
                &Caller,
            ) -> Result<T, PortalError>
            + Send
            + 'static,
    {
        let (id, epoch) = (self.user_id, self.session.epoch);
        let read = state
            .read_kept(move |l, kept, cat| {
                let Some(caller) = service::caller(l, kept, id, epoch)? else {
                    return Ok(None);
                };
                let v = f(l, kept, cat, &caller)?;
                Ok(Some((caller, v)))
            })
            .await;
        match read {
            Ok(Some((caller, v))) => Ok((
                PageUser {
                    caller,
                    session: self.session,
                    cookie: self.cookie,
                },
                v,
            )),
            Ok(None) => Err(PageRefusal::Login(
                ToLogin::ended(state, &self.cookie, self.back).await,
            )),
            Err(e) => Err(PageRefusal::Page(e.into())),
        }
    }
}

/// An API caller, by bearer token.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Caller);

impl FromRequestParts<Arc<AppState>> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| t.starts_with(auth::TOKEN_PREFIX) && t.len() < 200)
            .ok_or(ApiError(PortalError::unauthorized()))?;
        let digest = auth::token_digest(token);
        let user = state
            .read_kept(move |l, kept, _| service::token_user(l, kept, digest))
            .await?;
        let user = Option::clone(&user).ok_or(ApiError(PortalError::unauthorized()))?;
        let mut caller = Caller { user, once: None };
        crate::once::from_header(
            &mut caller,
            &parts.method,
            &parts.headers,
            &parts.extensions,
        )?;
        Ok(ApiUser(caller))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_never_adds_segments_to_an_address() {
        assert_eq!(url_encode("../../1/sites/HQ"), "..%2F..%2F1%2Fsites%2FHQ");
        assert_eq!(url_encode("Main Site\\x"), "Main%20Site%5Cx");
    }
}
