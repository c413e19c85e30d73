//! `licadmin serve`: the allocation engine as a network service (DESIGN.md, "License
//! server"). JSON routes under `/v1/` for applications that log users on, with bearer tokens
//! made by `licadmin token create`; `/healthz` and `/metrics` (Prometheus text) without one.
//!
//! Logons, heartbeats, logoffs and checkouts go to one writer thread that commits them in
//! batches ([`writer`]); other store work runs on tokio's blocking threads (the PostgreSQL
//! client must never run on an async thread). Bearer tokens are checked against a cache
//! of the live tokens ([`tokens`]). Lapsed leases are released by a reaper every [`REAP_EVERY`] and before
//! every read of the pool, so a crashed client's licenses come back without anyone acting.

mod checkouts;
mod conn;
mod metrics;
mod openapi;
mod syslog;
mod tokens;
mod types;
mod watch;
mod writer;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use allocation::{AllocError, Allocator, BatchDone, BatchOp, Entity, Place, Session};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

/// The largest request body accepted (larger: 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How often lapsed leases are released.
pub const REAP_EVERY: Duration = Duration::from_secs(2);
/// How often the compliance check runs (it also runs at start).
const COMPLIANCE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// What the handlers share: the allocator and the denials counted since start.
pub struct Shared {
    alloc: Arc<Allocator>,
    /// Denials by (key, reason), for `i3lic_license_denials_total`.
    denials: Mutex<BTreeMap<(String, String), u64>>,
    /// The writer thread's queue.
    writer: writer::Writer,
    /// The live tokens last read.
    tokens: tokens::TokenCache,
}

type St = Arc<Shared>;

/// A refusal: an HTTP status, a stable kind and a message, answered as
/// `{"error": {"kind", "message"}}` (with `reason` when a session's end is known).
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    reason: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            reason: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = types::ErrorDetail {
            kind: self.kind,
            message: self.message,
            reason: self.reason,
        };
        (self.status, Json(types::ErrorBody { error })).into_response()
    }
}

/// The status and kind of an allocator error.
fn api_error(e: AllocError) -> ApiError {
    api_error_of(&e)
}

/// [`api_error`] of a borrowed error (one batch's error answers every request in it).
fn api_error_of(e: &AllocError) -> ApiError {
    use AllocError as A;
    let (status, kind) = match e {
        // An implied key's refusal answers as the refusal it wraps, in the wrapper's words.
        A::Implied { source, .. } => {
            let inner = api_error_of(source);
            (inner.status, inner.kind)
        }
        A::InvalidName { .. } | A::InvalidInput { .. } => (StatusCode::BAD_REQUEST, e.kind()),
        A::Unknown { .. } | A::NotAllocated { .. } => (StatusCode::NOT_FOUND, e.kind()),
        A::NoLicenseAvailable { .. }
        | A::NotLicensed { .. }
        | A::OrganizationCap { .. }
        | A::Reserved { .. } => (StatusCode::CONFLICT, "no-license"),
        A::NoLicenseLoaded
        | A::StationInUse { .. }
        | A::InUse { .. }
        | A::AlreadyExists { .. }
        | A::OrganizationsExhausted { .. } => (StatusCode::CONFLICT, e.kind()),
        A::Rule { .. } => (StatusCode::UNPROCESSABLE_ENTITY, e.kind()),
        A::License(_)
        | A::Released { .. }
        | A::ClockSetBack { .. }
        | A::StoreHostMismatch { .. }
        | A::StoreUntrustedKey { .. } => (StatusCode::SERVICE_UNAVAILABLE, e.kind()),
        // The store is unreachable or busy for now (a lost PostgreSQL connection is made
        // again at the next request): the client may try again.
        A::Store(s) if matches!(s.kind(), store::ErrorKind::Io | store::ErrorKind::Busy) => {
            tracing::error!(target: "i3lic::serve", "store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
        A::Store(_) | A::Io { .. } | A::NotAStore { .. } => {
            tracing::error!(target: "i3lic::serve", "store: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "store")
        }
        _ => {
            tracing::error!(target: "i3lic::serve", "internal: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
    };
    // A dynamic remote logon's refusal reads "no stations are available" (the allocator's words).
    ApiError::new(status, kind, e.to_string())
}

/// The key and reason of a refused logon, for the denials counter.
fn denial(e: &AllocError) -> Option<(String, String)> {
    use AllocError as A;
    let key = match e {
        A::NoLicenseAvailable { key, .. }
        | A::NotLicensed { key }
        | A::OrganizationCap { key, .. }
        | A::Reserved { key, .. }
        | A::Rule { key, .. } => key.clone(),
        _ => return None,
    };
    Some((key, e.kind().to_string()))
}

/// Run `f` on the allocator on a blocking thread; its own error as it is.
async fn blocking_raw<T: Send + 'static>(
    s: &St,
    f: impl FnOnce(&Allocator) -> Result<T, AllocError> + Send + 'static,
) -> Result<Result<T, AllocError>, ApiError> {
    let alloc = s.alloc.clone();
    tokio::task::spawn_blocking(move || f(&alloc))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// Run `f` on the allocator on a blocking thread.
async fn blocking<T: Send + 'static>(
    s: &St,
    f: impl FnOnce(&Allocator) -> Result<T, AllocError> + Send + 'static,
) -> Result<T, ApiError> {
    blocking_raw(s, f).await?.map_err(api_error)
}

/// A request with a valid bearer token (else 401).
pub struct Authed;

impl FromRequestParts<St> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &St) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a valid token as 'Authorization: Bearer TOKEN' (licadmin token create NAME makes one)",
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or_else(unauthorized)?;
        if s.tokens.check(s, token).await? {
            Ok(Authed)
        } else {
            Err(unauthorized())
        }
    }
}

/// A JSON body within [`MAX_BODY_BYTES`] (larger: 413), of the type `T` (else 400).
pub struct Body<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, s: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, s).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload-too-large",
                    format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad-request", e.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(Body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!("the request body is not the JSON expected: {e}"),
            )
        })
    }
}

/// `POST /v1/sessions`: log a user on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Logon {
    /// The user.
    user: String,
    /// The station to log on at.
    station: Option<String>,
    /// A dynamic remote logon at this phone number (not with station).
    remote_number: Option<String>,
    /// The lease (default 600, at most 86400).
    #[schema(minimum = 1, maximum = 86400)]
    lease_seconds: Option<u32>,
    /// What is logging on, for the server's log.
    application: Option<String>,
}

/// An RFC 3339 time of Unix seconds.
fn rfc3339(secs: i64) -> String {
    format::Timestamp::from_unix(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn session_json(s: &Session) -> Value {
    json!(types::SessionBody {
        session: s.id.clone(),
        user: s.user.clone(),
        station: s.station.clone(),
        remote_number: s.remote_number.clone(),
        lease_seconds: s.lease_secs,
        lease_expires_at: rfc3339(s.expires_at),
        licenses: s.acquired.clone(),
        acquired: None,
        warnings: None,
    })
}

async fn logon(_: Authed, State(s): State<St>, Body(b): Body<Logon>) -> Result<Response, ApiError> {
    let place = match (b.station, b.remote_number) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "give a station or a remote_number, not both",
            ))
        }
        (Some(st), None) => Place::Station(st),
        (None, Some(n)) => Place::Remote(n),
        (None, None) => Place::Nowhere,
    };
    let (user, app) = (b.user, b.application);
    let op = BatchOp::Login {
        user: user.clone(),
        place,
        lease_secs: b.lease_seconds,
    };
    let logon = match s.writer.run(op).await? {
        Ok(BatchDone::Login(l)) => *l,
        Ok(_) => return Err(writer::unexpected()),
        Err(e) => {
            if let Some(d) = denial(&e) {
                let line = format!("denied a logon of {user}: {e}");
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
    // What the user may now use: the licenses assigned to them, and what the logon
    // acquired (concurrent keys, a dynamic remote logon's Basic Station).
    let (session, usable, days_left) = (logon.session, logon.licenses, logon.days_left);
    tracing::info!(target: "i3lic::serve", session = %session.id, user = %session.user, application = app.as_deref().unwrap_or("-"), "logged on");
    let mut warnings = Vec::new();
    if session.reused {
        warnings.push(
            "the user's open session at the same place was renewed, not a new one started"
                .to_string(),
        );
    }
    warnings.extend(session.warnings.iter().cloned());
    if let Some(d) = days_left.filter(|d| *d <= 30) {
        warnings.push(format!("the license expires in {d} day(s)"));
    }
    let mut body = session_json(&session);
    body["acquired"] = json!(session.acquired);
    body["licenses"] = json!(usable);
    body["warnings"] = json!(warnings);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// A 404 for an ended session, with why when the store recorded it.
async fn ended(s: &St, e: AllocError, id: String) -> ApiError {
    ended_as(s, e, Entity::Session, id).await
}

/// A 404 for an ended session or checkout (`what`), with why when the store still knows;
/// any other error as [`api_error`] answers it.
pub(super) async fn ended_as(s: &St, e: AllocError, what: Entity, id: String) -> ApiError {
    if !matches!(&e, AllocError::Unknown { what: w, .. } if *w == what) {
        return api_error(e);
    }
    let (kind, noun) = match what {
        Entity::Checkout => ("checkout-ended", "checkout"),
        _ => ("session-ended", "session"),
    };
    let mut err = api_error(e);
    let end = blocking(s, move |a| match what {
        Entity::Checkout => a.checkout_end(&id),
        _ => a.session_end(&id),
    })
    .await;
    if let Ok(Some(end)) = end {
        err.kind = kind;
        err.message = format!(
            "the {noun} ended at {}: {}",
            rfc3339(end.ended_at),
            end.reason.replace('-', " ")
        );
        err.reason = Some(end.reason);
    }
    err
}

async fn heartbeat(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match s.writer.run(BatchOp::Heartbeat(id.clone())).await? {
        Ok(BatchDone::Session(session)) => Ok(Json(
            json!({ "lease_expires_at": rfc3339(session.expires_at) }),
        )),
        Ok(_) => Err(writer::unexpected()),
        Err(e) => Err(ended(&s, e, id).await),
    }
}

async fn logoff(
    _: Authed,
    State(s): State<St>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match s.writer.run(BatchOp::Logout(id.clone())).await? {
        Ok(BatchDone::Ended) => Ok(StatusCode::NO_CONTENT),
        Ok(_) => Err(writer::unexpected()),
        Err(e) => Err(ended(&s, e, id).await),
    }
}

async fn sessions(_: Authed, State(s): State<St>) -> Result<Json<Value>, ApiError> {
    let list = blocking(&s, |a| {
        a.release_lapsed()?;
        a.sessions()
    })
    .await?;
    Ok(Json(
        json!({ "sessions": list.iter().map(session_json).collect::<Vec<_>>() }),
    ))
}

async fn report(_: Authed, State(s): State<St>) -> Result<Json<Value>, ApiError> {
    let r = blocking(&s, |a| {
        a.release_lapsed()?;
        a.report_view()
    })
    .await?;
    Ok(Json(serde_json::to_value(r).unwrap_or(Value::Null)))
}

async fn compliance(_: Authed, State(s): State<St>) -> Result<Json<Value>, ApiError> {
    let events = blocking(&s, |a| {
        a.release_lapsed()?;
        a.check_compliance()
    })
    .await?;
    Ok(Json(
        json!({ "compliant": events.is_empty(), "events": events }),
    ))
}

/// The same JSON as `licadmin license --json` (one function renders both).
async fn license(_: Authed, State(s): State<St>) -> Result<Json<Value>, ApiError> {
    let l = blocking(&s, |a| a.license_view()).await?;
    Ok(Json(serde_json::to_value(l).unwrap_or(Value::Null)))
}

/// 200 when the store answers, else 503 `unavailable`.
async fn healthz(State(s): State<St>) -> Result<Json<Value>, ApiError> {
    blocking(&s, |a| a.ping()).await?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such route")
}

/// The routes (every one is in the OpenAPI document, [`openapi`]; the tests check both ways).
pub fn router(alloc: Arc<Allocator>) -> Router {
    let shared = Arc::new(Shared {
        writer: writer::Writer::start(alloc.clone()),
        alloc,
        denials: Mutex::new(BTreeMap::new()),
        tokens: tokens::TokenCache::default(),
    });
    Router::new()
        .route("/v1/sessions", post(logon).get(sessions))
        .route("/v1/sessions/{id}/heartbeat", post(heartbeat))
        .route("/v1/sessions/{id}", delete(logoff))
        .route(
            "/v1/checkouts",
            post(checkouts::checkout).get(checkouts::list),
        )
        .route("/v1/checkouts/{id}/heartbeat", post(checkouts::heartbeat))
        .route("/v1/checkouts/{id}", delete(checkouts::give_back))
        .route("/v1/report", get(report))
        .route("/v1/compliance", get(compliance))
        .route("/v1/license", get(license))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// Print the compliance check's events (one line per exceeded license) to standard error
/// and the system log.
fn log_compliance(a: &Allocator) {
    match a.check_compliance() {
        Ok(events) => {
            for e in events {
                tracing::warn!(target: "i3lic::serve", "out of compliance: {e}");
                eprintln!("licadmin serve: out of compliance: {e}");
                syslog::log(
                    syslog::Severity::Warning,
                    &format!("out of compliance: {e}"),
                );
            }
        }
        Err(AllocError::NoLicenseLoaded) => {}
        Err(e) => eprintln!("licadmin serve: compliance check: {e}"),
    }
}

/// Serve on `listen` until SIGINT or SIGTERM: checks the loaded file first (a refused file
/// stops the server; no file is served as `no-license-loaded`), loads the TLS certificate and
/// key when given (`tls`: certificate, key), prints `listening on ADDR`.
pub fn run(
    alloc: Allocator,
    listen: &str,
    tls: Option<(&std::path::Path, &std::path::Path)>,
) -> Result<(), crate::CliError> {
    match alloc.license() {
        Ok(_) | Err(AllocError::NoLicenseLoaded) => {}
        Err(e) => return Err(e.into()),
    }
    let tls = tls
        .map(|(cert, key)| http_server::tls_acceptor(cert, key))
        .transpose()
        .map_err(crate::CliError::Tls)?;
    alloc.keep_license_on_failure();
    // Reports, session lists and metrics never wait for the writer's connection.
    alloc.read_on_own_connection()?;
    let alloc = Arc::new(alloc);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::CliError::Usage(format!("cannot start the server: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| crate::CliError::Usage(format!("--listen {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| crate::CliError::Usage(format!("--listen {listen}: {e}")))?;
        {
            let a = alloc.clone();
            let _ = tokio::task::spawn_blocking(move || log_compliance(&a)).await;
        }
        let reaper = tokio::spawn(reap(alloc.clone()));
        let watcher = watch::start(alloc.clone()).await;
        println!("listening on {addr}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        conn::serve(listener, router(alloc), conn::limits(), tls, shutdown()).await;
        reaper.abort();
        watcher.abort();
        Ok(())
    })
}

/// Release lapsed leases every [`REAP_EVERY`]; run the compliance check once a day.
async fn reap(alloc: Arc<Allocator>) {
    let mut tick = tokio::time::interval(REAP_EVERY);
    let mut since_check = Duration::ZERO;
    loop {
        tick.tick().await;
        since_check += REAP_EVERY;
        let a = alloc.clone();
        let check = since_check >= COMPLIANCE_EVERY;
        if check {
            since_check = Duration::ZERO;
        }
        let r = tokio::task::spawn_blocking(move || {
            if check {
                log_compliance(&a);
            }
            a.release_lapsed()
        })
        .await;
        if let Ok(Err(e)) = r {
            tracing::warn!(target: "i3lic::serve", "releasing lapsed leases: {e}");
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown() {
    let term = async {
        #[cfg(unix)]
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
