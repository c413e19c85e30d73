//! The connections of i3lic's servers (the portal, `licadmin serve`): hyper's HTTP/1 server
//! under an axum router, with the limits `axum::serve` does not set. A request's head (request line and headers) must arrive
//! within [`Limits::header_read_timeout`] of the connection being ready for it (also between
//! requests of a kept-alive connection) and fit in [`Limits::max_header_bytes`] (else 431
//! and the connection closes); a request's body must arrive whole within
//! [`Limits::body_read_timeout`] of its head (else the request fails as an unreadable body
//! and the connection closes), so slow bodies cannot hold the connection slots; at most
//! [`Limits::max_connections`] connections are served at once, the others waiting in the
//! listening socket's queue until one ends. With a [`TlsAcceptor`] ([`tls_acceptor`]) the
//! connections are TLS: the handshake must end within the header read timeout too, so a
//! client that never finishes it holds its slot no longer than one that never sends a head.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! http_server::serve(listener, app, http_server::Limits::default(), None, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

mod tls;
pub use tls::{tls_acceptor, TlsAcceptor, TlsError};

/// How long a client has to send a request's head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client has to send a request's body, from when its head arrived, by default:
/// time for the portal's largest body (8 MiB) at about 1.1 Mbit/s.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest request head (request line and headers) accepted, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Connections served at once, by default.
pub const MAX_CONNECTIONS: usize = 512;
/// A connection's read buffer at most (hyper's default is about 400 KiB, held by every
/// unfinished request).
const MAX_BUF: usize = 64 * 1024;
/// How long open connections may finish their requests after shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Connection limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client has to send a request's head ([`HEADER_READ_TIMEOUT`]).
    pub header_read_timeout: Duration,
    /// How long a client has to send a request's body after its head
    /// ([`BODY_READ_TIMEOUT`]).
    pub body_read_timeout: Duration,
    /// The largest request head, in bytes ([`MAX_HEADER_BYTES`]).
    pub max_header_bytes: usize,
    /// Connections served at once ([`MAX_CONNECTIONS`]).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_header_bytes: MAX_HEADER_BYTES,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// A connection's byte stream, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Serve `app` on `listener` within `limits` until `shutdown` completes; then stop accepting
/// and give open connections a few seconds to finish. With `tls`, every connection is TLS
/// (a client that does not finish the handshake within the header read timeout is dropped).
/// Each request carries its peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(MAX_BUF.max(limits.max_header_bytes).max(8192));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s,
            () = &mut shutdown => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, then go on.
                    tracing::warn!(target: "i3lic::http", "accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let body_timeout = limits.body_read_timeout;
        let svc = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req.map(|body| TimedBody::new(body, body_timeout))
            },
        );
        let http = http.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            // The handshake runs here, not in the accept loop, so a slow client delays no
            // other; the slot is held from accept to the end.
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            tracing::debug!(target: "i3lic::http", %peer, "TLS handshake: {e}");
                            drop(slot);
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(target: "i3lic::http", %peer, "TLS handshake timed out");
                            drop(slot);
                            return;
                        }
                    }
                }
            };
            let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(target: "i3lic::http", %peer, "connection: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// A request body that must arrive whole before a deadline: past it, reading fails (the
/// handler answers as for any unreadable body, and hyper closes the connection rather than
/// wait for the rest).
struct TimedBody {
    inner: hyper::body::Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl TimedBody {
    fn new(inner: hyper::body::Incoming, timeout: Duration) -> Self {
        TimedBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// The error of a body not received in time.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl hyper::body::Body for TimedBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
