//! A small blocking client for the i3lic license server (`licadmin serve`): log users on,
//! keep their leases alive, log them off.
//!
//! [`Client::logon`] answers a [`SessionGuard`]: a background thread renews the session's
//! lease at about a third of its length, [`SessionGuard::status`] tells whether the session
//! is still alive or why the server ended it (lease lapsed, logged on elsewhere, user
//! removed, ...), and dropping the guard logs the session off and frees its licenses.
//! Refusals come back as [`Error`] with the server's status, kind and message; no answer of
//! the server makes the client panic.
//!
//! The token is one `licadmin token create NAME` printed. A server with a certificate of its
//! own (`licadmin serve --tls-cert`) is trusted with [`ClientBuilder::ca_pem`].
//!
//! ```no_run
//! use licclient::{Client, Error, Logon};
//!
//! # fn main() -> Result<(), Error> {
//! let client = Client::new("http://127.0.0.1:8470", "i3lic_ls_...")?;
//! match client.logon(Logon::user("alice").station("desk-1").application("softphone")) {
//!     Ok(session) => {
//!         println!("logged on as {}: {:?}", session.id(), session.licenses());
//!         // ... work; the lease is renewed meanwhile ...
//!         assert!(session.status().is_alive());
//!         session.logoff()?;
//!     }
//!     Err(Error::NoLicense(r)) => eprintln!("no license free: {}", r.message),
//!     Err(e) => return Err(e),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A server that cannot be reached is a transport error, worth trying again later:
//!
//! ```
//! let client = licclient::Client::builder("http://127.0.0.1:1", "token")
//!     .connect_timeout(std::time::Duration::from_secs(1))
//!     .build()
//!     .unwrap();
//! let err = client.health().unwrap_err();
//! assert!(err.is_transient());
//! assert!(err.to_string().starts_with("cannot reach the license server at http://127.0.0.1:1/healthz"));
//! ```

mod client;
mod error;
mod guard;

pub use client::{
    Client, ClientBuilder, Logon, OpenSession, Session, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use error::{Error, Refusal, Result};
pub use guard::{SessionGuard, SessionStatus};
