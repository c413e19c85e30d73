//! The i3lic self-service portal: the Activation File Management Tool on the web, and its
//! JSON API, over the issuer library and its ledger.
//!
//! Customers and partners log in to see what their accounts ordered, generate, update,
//! download and deactivate activation files, manage install sites and send activation file
//! requests; vendor staff do the same for every account and answer the requests. The pages
//! (server-rendered HTML that works without JavaScript) and the API under `/api/v1/` share
//! one set of operations ([`service`]), so both check the same things: another account's
//! pages and resources answer 404, only certified users generate files, and every change is
//! in the ledger's audit log as `portal:EMAIL`.
//!
//! ```
//! use std::sync::Arc;
//! use portal::{router, service::{AppState, Config}};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let dir = tempfile::tempdir()?;
//! let state = AppState::open(
//!     &dir.path().join("ledger.db"),
//!     issuer::Catalog::built_in()?,
//!     format::SecretKey::generate(),
//!     Config::default(),
//! )?;
//! let app = router(Arc::new(state));
//! let req = axum::http::Request::get("/api/v1/accounts").body(axum::body::Body::empty())?;
//! let res = app.oneshot(req).await?;
//! assert_eq!(res.status(), 401, "the API needs a token");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

mod api;
pub mod auth;
pub mod client;
mod deactivation;
pub mod error;
mod http;
pub mod kept;
mod once;
mod once_done;
mod pages;
pub mod passwords;
pub mod policy;
pub mod server;
pub mod service;
pub mod state;
pub mod throttle;

pub use error::PortalError;
pub use service::{AppState, Caller, Config};

/// The largest request body accepted (the request form's five 1 MiB attachments and the
/// form around them).
pub const MAX_BODY: usize = 6 * 1024 * 1024;

/// The largest body of `POST /api/v1/requests`: five 1 MiB attachments in base64 (4/3 of
/// their size, 6.67 MiB) and the request's text (at most about 21 KB).
pub const MAX_API_REQUEST_BODY: usize = 8 * 1024 * 1024;

/// The largest login form accepted.
pub const MAX_FORM: usize = 16 * 1024;

/// The content security policy of every answer: nothing but this server's own scripts,
/// styles and images; no inline script; no framing.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    req: Request<axum::body::Body>,
    next: Next,
) -> Response {
    let static_asset = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if static_asset {
        set(h, header::CACHE_CONTROL, "public, max-age=3600");
    } else {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if state.config.secure_cookies {
        set(
            h,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    res
}

/// The whole portal: pages, API, static assets and the health route, with security headers
/// and the body limit on every answer.
pub fn router(state: Arc<AppState>) -> Router {
    // A message left by a redirect is shown once, on the next page.
    let pages = pages::routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        pages::flash::layer,
    ));
    let api = Router::new()
        .route("/api/v1/openapi.json", get(api::openapi::openapi))
        .route("/api/v1/accounts", get(api::accounts::accounts))
        .route("/api/v1/accounts/{id}/summary", get(api::accounts::summary))
        .route(
            "/api/v1/accounts/{id}/files",
            get(api::files::activity).post(api::files::issue),
        )
        .route(
            "/api/v1/accounts/{id}/sites",
            get(api::sites::sites).post(api::sites::add_site),
        )
        .route("/api/v1/files/{file}", get(api::files::file))
        .route("/api/v1/files/{file}/download", get(api::files::download))
        .route("/api/v1/files/{file}/update", post(api::files::update))
        .route(
            "/api/v1/files/{file}/deactivate",
            post(api::deactivations::deactivate_file),
        )
        .route(
            "/api/v1/files/{file}/approve-deactivation",
            post(api::deactivations::approve_file),
        )
        .route(
            "/api/v1/deactivations/pending",
            get(api::deactivations::pending_list),
        )
        .route(
            "/api/v1/requests",
            get(api::requests::requests)
                .post(api::requests::add_request)
                .layer(DefaultBodyLimit::max(MAX_API_REQUEST_BODY)),
        )
        .route("/api/v1/requests/{number}", get(api::requests::request))
        .route("/api/v1/hostid/check", get(api::hostid::host_id_check))
        .route_layer(axum::middleware::from_fn(|req, next| {
            once::api_digest(MAX_API_REQUEST_BODY, req, next)
        }));
    Router::new()
        .merge(pages)
        .merge(api)
        .route("/health", get(|| async { "ok" }))
        .fallback(http::not_found)
        .layer(axum::middleware::from_fn(http::api_errors_as_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}
