//! The portal's connections: the servers' shared connection loop ([`http_server`]), with
//! the portal's limits (its defaults: bodies up to 8 MiB get a minute).

pub use http_server::{
    serve, Limits, BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, MAX_HEADER_BYTES,
};
