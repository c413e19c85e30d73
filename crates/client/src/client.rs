//! The connection settings and the plain calls, one HTTP request each.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use ureq::http;

use crate::error::{Error, Refusal, Result};
use crate::guard::SessionGuard;

/// How long connecting may take unless [`ClientBuilder::connect_timeout`] says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole request may take unless [`ClientBuilder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest answer read (a session list of tens of thousands of sessions fits).
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// A logon (`POST /v1/sessions`): who, where, for how long, from which application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Logon {
    /// The user logging on (as `licadmin user add` named them).
    pub user: String,
    /// The station logged on at, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<String>,
    /// The phone number of a dynamic remote station, instead of a station.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_number: Option<String>,
    /// The lease in seconds (the server's default when `None`); it lapses unless renewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u32>,
    /// The application logging on, for the server's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
}

impl Logon {
    /// A logon of `user` without a station, with the server's default lease.
    pub fn user(user: impl Into<String>) -> Logon {
        Logon {
            user: user.into(),
            ..Logon::default()
        }
    }

    /// At the station `station`.
    pub fn station(mut self, station: impl Into<String>) -> Logon {
        self.station = Some(station.into());
        self
    }

    /// As a dynamic remote station with this phone number.
    pub fn remote_number(mut self, number: impl Into<String>) -> Logon {
        self.remote_number = Some(number.into());
        self
    }

    /// With a lease of `seconds`.
    pub fn lease_seconds(mut self, seconds: u32) -> Logon {
        self.lease_seconds = Some(seconds);
        self
    }

    /// Naming the application.
    pub fn application(mut self, application: impl Into<String>) -> Logon {
        self.application = Some(application.into());
        self
    }
}

/// A session the server opened (the answer to a logon).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    /// The session id, for heartbeats and the logoff.
    pub session: String,
    /// The user logged on.
    pub user: String,
    /// The station, if any.
    #[serde(default)]
    pub station: Option<String>,
    /// The remote number, if any.
    #[serde(default)]
    pub remote_number: Option<String>,
    /// The lease in seconds the server granted.
    #[serde(default)]
    pub lease_seconds: Option<u32>,
    /// When the lease lapses unless renewed (RFC 3339).
    pub lease_expires_at: String,
    /// The license keys the user may now use (assigned ones and those the logon acquired).
    #[serde(default)]
    pub licenses: Vec<String>,
    /// The keys this logon took from the concurrent pool.
    #[serde(default)]
    pub acquired: Vec<String>,
    /// Things to tell the user (the license expires soon, an open session was renewed).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// An open session as `GET /v1/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OpenSession {
    /// The session id.
    pub session: String,
    /// The user logged on.
    pub user: String,
    /// The station, if any.
    #[serde(default)]
    pub station: Option<String>,
    /// The remote number, if any.
    #[serde(default)]
    pub remote_number: Option<String>,
    /// The lease in seconds.
    #[serde(default)]
    pub lease_seconds: Option<u32>,
    /// When the lease lapses unless renewed (RFC 3339).
    pub lease_expires_at: String,
    /// The keys the session holds from the concurrent pool.
    #[serde(default)]
    pub licenses: Vec<String>,
}

/// Settings of a [`Client`] beyond its URL and token.
pub struct ClientBuilder {
    base_url: String,
    token: String,
    ca_pem: Option<Vec<u8>>,
    connect_timeout: Duration,
    timeout: Duration,
}

impl ClientBuilder {
    /// Trust the certificates in `pem` (a CA, or the server's own self-signed certificate)
    /// instead of the public roots, for a server with a certificate of its own.
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> ClientBuilder {
        self.ca_pem = Some(pem.into());
        self
    }

    /// How long connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, t: Duration) -> ClientBuilder {
        self.connect_timeout = t;
        self
    }

    /// How long a whole request may take, connecting included (default [`DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, t: Duration) -> ClientBuilder {
        self.timeout = t;
        self
    }

    /// The client; an error when the URL is not `http://` or `https://`, or the CA PEM
    /// holds no certificate.
    pub fn build(self) -> Result<Client> {
        let base = self.base_url.trim().trim_end_matches('/').to_string();
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"));
        if rest.is_none_or(str::is_empty) {
            return Err(Error::Config(format!(
                "the server URL {base:?} is not http://HOST:PORT or https://HOST:PORT"
            )));
        }
        let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if let Some(pem) = &self.ca_pem {
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(pem) {
                match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                    Ok(_) => {}
                    Err(e) => return Err(Error::Config(format!("the CA certificate PEM: {e}"))),
                }
            }
            if certs.is_empty() {
                return Err(Error::Config(
                    "the CA certificate PEM holds no certificate".into(),
                ));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)));
        }
        let agent = ureq::Agent::config_builder()
            // Refusals are answers to read, not transport errors.
            .http_status_as_error(false)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            .max_redirects(0)
            .user_agent(concat!("licclient/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build()
            .new_agent();
        Ok(Client {
            agent,
            base: Arc::from(base),
            token: Arc::from(self.token),
        })
    }
}

/// A client of one license server: its URL, a bearer token (`licadmin token create NAME`),
/// and kept-alive connections. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: Arc<str>,
    token: Arc<str>,
}

impl fmt::Debug for Client {
    // Never the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base)
            .finish_non_exhaustive()
    }
}

/// A path segment with everything but unreserved characters percent-encoded, so an id
/// cannot reach another route.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// At most 200 characters of an answer, without control characters, for an error message.
fn excerpt(body: &str) -> String {
    let mut s: String = body
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.chars().nth(200).is_some() {
        s.push('…');
    }
    s
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize)]
struct ErrorFields {
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    reason: Option<String>,
}

impl Client {
    /// A client of the server at `base_url` (`http://HOST:PORT` or `https://HOST:PORT`)
    /// with the default timeouts and the public CA roots.
    pub fn new(base_url: &str, token: &str) -> Result<Client> {
        Client::builder(base_url, token).build()
    }

    /// A [`ClientBuilder`] for a CA certificate or other timeouts.
    pub fn builder(base_url: &str, token: &str) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_string(),
            token: token.trim().to_string(),
            ca_pem: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The server's URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// One request: the status and the body of an answer below 400, the mapped error of
    /// any other.
    fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, String)> {
        let url = format!("{}{path}", self.base);
        let transport = |e: ureq::Error| Error::Transport {
            url: url.clone(),
            message: e.to_string(),
        };
        let mut req = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json");
        if !self.token.is_empty() {
            req = req.header("Authorization", format!("Bearer {}", self.token));
        }
        let req = match body {
            Some(b) => req.header("Content-Type", "application/json").body(b),
            None => req.body(Vec::new()),
        }
        .map_err(|e| Error::Config(format!("cannot make a request of {url}: {e}")))?;
        let mut resp = self.agent.run(req).map_err(transport)?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .lossy_utf8(true)
            .read_to_string()
            .map_err(transport)?;
        if status < 400 {
            return Ok((status, text));
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(e) => Err(Error::from_refusal(Refusal {
                status,
                kind: e.error.kind,
                message: e.error.message,
                reason: e.error.reason,
            })),
            Err(_) => Err(Error::UnexpectedAnswer {
                status,
                message: format!("not a JSON error: {:?}", excerpt(&text)),
            }),
        }
    }

    /// [`Client::send`] expecting `want` and a JSON body of type `T`.
    fn json<T: DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Vec<u8>>,
        want: u16,
    ) -> Result<T> {
        let (status, text) = self.send(method, path, body)?;
        if status != want {
            return Err(Error::UnexpectedAnswer {
                status,
                message: format!("expected {want} from {path}: {:?}", excerpt(&text)),
            });
        }
        serde_json::from_str(&text).map_err(|e| Error::UnexpectedAnswer {
            status,
            message: format!(
                "the answer of {path} is not the JSON expected ({e}): {:?}",
                excerpt(&text)
            ),
        })
    }

    /// Log a user on (`POST /v1/sessions`) and keep the session alive until the returned
    /// guard is dropped or [`SessionGuard::logoff`] is called: a background thread renews the
    /// lease at about a third of its length and stops when the server says the session ended.
    pub fn logon(&self, logon: Logon) -> Result<SessionGuard> {
        let s = self.open_session(&logon)?;
        Ok(SessionGuard::start(self.clone(), s))
    }

    /// Log a user on (`POST /v1/sessions`) without a guard: renewing the lease
    /// ([`Client::heartbeat`]) and logging off ([`Client::logoff`]) are the caller's.
    pub fn open_session(&self, logon: &Logon) -> Result<Session> {
        let body = serde_json::to_vec(logon)
            .map_err(|e| Error::Config(format!("cannot write the logon: {e}")))?;
        self.json(http::Method::POST, "/v1/sessions", Some(body), 201)
    }

    /// Renew a session's lease (`POST /v1/sessions/{id}/heartbeat`): the new expiry
    /// (RFC 3339). [`Error::SessionEnded`] with the reason when the session is over.
    pub fn heartbeat(&self, session: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Renewed {
            lease_expires_at: String,
        }
        let path = format!("/v1/sessions/{}/heartbeat", segment(session));
        let r: Renewed = self.json(http::Method::POST, &path, Some(b"{}".to_vec()), 200)?;
        Ok(r.lease_expires_at)
    }

    /// Log a session off (`DELETE /v1/sessions/{id}`), releasing its licenses.
    pub fn logoff(&self, session: &str) -> Result<()> {
        let path = format!("/v1/sessions/{}", segment(session));
        match self.send(http::Method::DELETE, &path, None)? {
            (204 | 200, _) => Ok(()),
            (status, text) => Err(Error::UnexpectedAnswer {
                status,
                message: format!("expected 204 from {path}: {:?}", excerpt(&text)),
            }),
        }
    }

    /// The open sessions (`GET /v1/sessions`).
    pub fn sessions(&self) -> Result<Vec<OpenSession>> {
        #[derive(Deserialize)]
        struct List {
            sessions: Vec<OpenSession>,
        }
        let l: List = self.json(http::Method::GET, "/v1/sessions", None, 200)?;
        Ok(l.sessions)
    }

    /// The server's Prometheus metrics (`GET /metrics`), as text.
    pub fn metrics(&self) -> Result<String> {
        match self.send(http::Method::GET, "/metrics", None)? {
            (200, text) => Ok(text),
            (status, text) => Err(Error::UnexpectedAnswer {
                status,
                message: format!("expected 200 from /metrics: {:?}", excerpt(&text)),
            }),
        }
    }

    /// Whether the server is up (`GET /healthz` answering `{"status": "ok"}`).
    pub fn health(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Health {
            status: String,
        }
        let h: Health = self.json(http::Method::GET, "/healthz", None, 200)?;
        if h.status == "ok" {
            Ok(())
        } else {
            Err(Error::UnexpectedAnswer {
                status: 200,
                message: format!("the server's health is {:?}", excerpt(&h.status)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_leave_their_path_segment() {
        assert_eq!(segment("abc-09_.~"), "abc-09_.~");
        assert_eq!(segment("../x?y#"), "..%2Fx%3Fy%23");
    }

    #[test]
    fn urls_must_be_http() {
        for bad in ["", "ftp://x", "localhost:8080", "http://", "https:///"] {
            assert!(
                matches!(Client::new(bad, "t"), Err(Error::Config(_))),
                "{bad}"
            );
        }
        let c = Client::new("http://127.0.0.1:1/ ", "t").unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:1");
    }

    #[test]
    fn a_ca_pem_without_a_certificate_is_refused() {
        let r = Client::builder("https://localhost", "t")
            .ca_pem(b"not a pem".to_vec())
            .build();
        assert!(matches!(r, Err(Error::Config(_))));
    }

    #[test]
    fn the_token_is_not_in_debug() {
        let c = Client::new("http://localhost", "i3lic_ls_secret").unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn excerpts_are_short_and_plain() {
        assert_eq!(excerpt("a\nb"), "a b");
        assert_eq!(excerpt(&"x".repeat(300)).chars().count(), 201);
    }
}
