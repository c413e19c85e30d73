//! The license server's connections: the servers' shared connection loop ([`http_server`]),
//! with limits for small JSON requests.

use std::time::Duration;

pub use http_server::serve;

/// The license server's limits: bodies (at most [`super::MAX_BODY_BYTES`]) get 10 s after
/// their head; up to 1,024 connections (one per client application) at once.
pub fn limits() -> http_server::Limits {
    http_server::Limits {
        body_read_timeout: Duration::from_secs(10),
        max_connections: 1024,
        ..http_server::Limits::default()
    }
}
