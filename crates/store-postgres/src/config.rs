//! Connection settings: the URL first, then libpq's environment variables, then libpq's
//! defaults; and the TLS connector the `sslmode` asks for.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use postgres_rustls::MakeTlsConnector;
use store::{Error, ErrorKind, Result};
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::Target;

/// URL options the client reads itself (as libpq spells them).
const CLIENT_OPTIONS: &[&str] = &[
    "user",
    "password",
    "dbname",
    "options",
    "application_name",
    "host",
    "hostaddr",
    "port",
    "connect_timeout",
    "tcp_user_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_retries",
    "target_session_attrs",
    "channel_binding",
    "load_balance_hosts",
];

/// The connection time limit when neither the URL nor PGCONNECT_TIMEOUT gives one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What `open` connects with.
pub(crate) struct Settings {
    pub(crate) config: postgres::Config,
    pub(crate) tls: MakeTlsConnector,
    pub(crate) target: Target,
}

/// How the connection is encrypted and the server checked (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn other(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Other, message)
}

/// `%XX` escapes decoded (invalid ones kept as written).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL split at its user information: (before, user, password, after). The password is
/// what follows the first `:` up to the last `@` before the query.
fn split_userinfo(url: &str) -> Option<(&str, &str, Option<&str>, &str)> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let query = rest.find('?').unwrap_or(rest.len());
    let at = rest[..query].rfind('@')?;
    let info = &rest[..at];
    let (user, password) = match info.find(':') {
        Some(c) => (&info[..c], Some(&info[c + 1..])),
        None => (info, None),
    };
    Some((&url[..scheme_end], user, password, &rest[at..]))
}

/// The URL with its password removed (from the user information and the query).
pub(crate) fn redact(url: &str) -> String {
    let mut out = match split_userinfo(url) {
        Some((scheme, user, _, after)) => format!("{scheme}{user}{after}"),
        None => url.to_owned(),
    };
    if let Some(q) = out.find('?') {
        let kept: Vec<&str> = out[q + 1..]
            .split('&')
            .filter(|kv| {
                let key = kv.split('=').next().unwrap_or("");
                !decode(key).eq_ignore_ascii_case("password")
            })
            .collect();
        let base = out[..q].to_owned();
        out = if kept.is_empty() {
            base
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    }
    out
}

/// Whether `url` names a PostgreSQL server (`postgres://` or `postgresql://`).
pub(crate) fn is_postgres_url(url: &str) -> bool {
    let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// The settings for `url`, completed from the environment as libpq completes them.
pub(crate) fn settings(url: &str) -> Result<Settings> {
    if !is_postgres_url(url) {
        return Err(other(format!(
            "{} is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)",
            redact(url)
        )));
    }
    let mut secrets = Vec::new();
    if let Some((_, _, Some(p), _)) = split_userinfo(url) {
        secrets.push(p.to_owned());
        secrets.push(decode(p));
    }
    // Options the client does not know are taken out here: ours handled, the rest refused.
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q + 1..]),
        None => (url, ""),
    };
    let mut kept = Vec::new();
    let mut sslmode = None;
    let mut rootcert = None;
    let mut fallback_name = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k);
        match key.as_str() {
            "sslmode" => sslmode = Some(decode(v)),
            "sslrootcert" => rootcert = Some(decode(v)),
            "fallback_application_name" => fallback_name = Some(decode(v)),
            "password" => {
                secrets.push(v.to_owned());
                secrets.push(decode(v));
                kept.push(pair);
            }
            k if CLIENT_OPTIONS.contains(&k) => kept.push(pair),
            k => {
                return Err(other(format!(
                    "the connection option `{k}` in {} is not supported by this client; it reads {}, sslmode, sslrootcert and fallback_application_name",
                    redact(url),
                    CLIENT_OPTIONS.join(", ")
                )))
            }
        }
    }
    let url_for_client = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let scrub = |m: String| {
        let mut m = m;
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            m = m.replace(s.as_str(), "***");
        }
        m
    };
    let mut config: postgres::Config = url_for_client.parse().map_err(|e: postgres::Error| {
        other(scrub(format!(
            "{} is not a valid PostgreSQL URL: {e}",
            redact(url)
        )))
    })?;

    if config.get_hosts().is_empty() {
        match env("PGHOST") {
            Some(hosts) => {
                for h in hosts.split(',') {
                    config.host(h);
                }
            }
            // libpq's default: the server's socket folder (Debian's, then upstream's).
            None if cfg!(unix) => {
                config.host("/var/run/postgresql");
                config.host("/tmp");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(ports) = env("PGPORT") {
            for p in ports.split(',') {
                let port = p
                    .trim()
                    .parse::<u16>()
                    .map_err(|_| other(format!("PGPORT is not a port number: {p}")))?;
                config.port(port);
            }
        }
    }
    if config.get_user().is_none() {
        let user = env("PGUSER")
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .or_else(|| env("USERNAME"))
            .ok_or_else(|| {
                other(format!(
                    "no user to connect as: give one in {} or PGUSER",
                    redact(url)
                ))
            })?;
        config.user(&user);
    }
    if config.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            secrets.push(p.clone());
            config.password(&p);
        }
    }
    if config.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            config.dbname(&d);
        }
    }
    if config.get_connect_timeout().is_none() {
        let timeout = match env("PGCONNECT_TIMEOUT") {
            Some(t) => {
                let secs = t.trim().parse::<u64>().map_err(|_| {
                    other(format!("PGCONNECT_TIMEOUT is not a number of seconds: {t}"))
                })?;
                // As libpq: 0 waits for ever, less than 2 means 2.
                (secs > 0).then(|| Duration::from_secs(secs.max(2)))
            }
            None => Some(DEFAULT_CONNECT_TIMEOUT),
        };
        if let Some(t) = timeout {
            config.connect_timeout(t);
        }
    }
    if config.get_application_name().is_none() {
        let name = env("PGAPPNAME")
            .or(fallback_name)
            .unwrap_or_else(|| "i3lic".to_owned());
        config.application_name(&name);
    }

    let mode_text = sslmode
        .or_else(|| env("PGSSLMODE"))
        .unwrap_or_else(|| "prefer".to_owned());
    let mode = match mode_text.as_str() {
        "disable" => Mode::Disable,
        // `allow` tries plain first in libpq; here TLS is tried first, which is at least as safe.
        "allow" | "prefer" => Mode::Prefer,
        "require" => Mode::Require,
        "verify-ca" => Mode::VerifyCa,
        "verify-full" => Mode::VerifyFull,
        m => {
            return Err(other(format!(
            "sslmode `{m}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
        )))
        }
    };
    let explicit_root = rootcert.or_else(|| env("PGSSLROOTCERT"));
    let (mode, tls) = tls(mode, explicit_root)?;
    config.ssl_mode(mode);

    let user = config.get_user().unwrap_or_default().to_owned();
    let database = config
        .get_dbname()
        .map_or_else(|| user.clone(), str::to_owned);
    let server = describe_server(&config);
    Ok(Settings {
        config,
        tls,
        target: Target {
            server,
            database,
            user,
            secrets,
        },
    })
}

fn describe_server(config: &postgres::Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => format!("{h}:{port}"),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => format!("{}/.s.PGSQL.{port}", p.display()),
        None => format!("localhost:{port}"),
    }
}

/// rustls with ring: builds with a plain C compiler (aws-lc-rs needs CMake); ring lacks
/// the post-quantum key exchange that rustls now warns about.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client's sslmode and the connector for `mode`, with the roots from `root`
/// (`system` for the system's, a PEM file otherwise; default `~/.postgresql/root.crt` as libpq).
fn tls(mode: Mode, explicit_root: Option<String>) -> Result<(SslMode, MakeTlsConnector)> {
    let default_root = env("HOME")
        .map(|h| PathBuf::from(h).join(".postgresql/root.crt"))
        .filter(|p| p.is_file());
    let root = explicit_root.map(PathBuf::from).or(default_root);
    // As libpq: `require` with a root certificate checks the server's certificate as verify-ca.
    let mode = match (mode, &root) {
        (Mode::Require, Some(_)) => Mode::VerifyCa,
        (m, _) => m,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(AnyCertificate(provider())),
        Mode::VerifyCa | Mode::VerifyFull => {
            let Some(root) = root else {
                return Err(other(
                    "sslmode verify-ca and verify-full need the certificate of the authority that signed the server's: give sslrootcert=FILE (or sslrootcert=system) in the URL, or PGSSLROOTCERT",
                ));
            };
            let roots = Arc::new(load_roots(&root)?);
            let inner = WebPkiServerVerifier::builder_with_provider(roots, provider())
                .build()
                .map_err(|e| {
                    other(format!(
                        "cannot use the root certificates of {}: {e}",
                        root.display()
                    ))
                })?;
            if mode == Mode::VerifyCa {
                Arc::new(AnyName(inner))
            } else {
                inner
            }
        }
    };
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| other(format!("cannot set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    postgres_rustls::set_postgresql_alpn(&mut config);
    let client_mode = match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    };
    Ok((
        client_mode,
        MakeTlsConnector::new(tokio_rustls::TlsConnector::from(Arc::new(config))),
    ))
}

fn load_roots(root: &std::path::Path) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    if root.as_os_str() == "system" {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A certificate of the system's store that rustls cannot use is skipped, as libpq does.
            let _ = store.add(cert);
        }
    } else {
        let io = |e: &dyn std::fmt::Display| {
            Error::new(
                ErrorKind::Io,
                format!("cannot read the root certificates {}: {e}", root.display()),
            )
        };
        for cert in CertificateDer::pem_file_iter(root).map_err(|e| io(&e))? {
            let cert = cert.map_err(|e| io(&e))?;
            store.add(cert).map_err(|e| io(&e))?;
        }
    }
    if store.is_empty() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("no root certificate in {}", root.display()),
        ));
    }
    Ok(store)
}

/// sslmode `prefer` and `require` without a root certificate: encrypted, the server's
/// certificate not checked (as libpq). The handshake's signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// sslmode `verify-ca`: the certificate must chain to a root, whatever host name it is for.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_the_password() {
        assert_eq!(redact("postgres://u:s3cret@h:5/db"), "postgres://u@h:5/db");
        assert_eq!(
            redact("postgresql://u:p@ss@h/db?sslmode=require"),
            "postgresql://u@h/db?sslmode=require"
        );
        assert_eq!(
            redact("postgres://h/db?password=s3cret&sslmode=disable"),
            "postgres://h/db?sslmode=disable"
        );
        assert_eq!(redact("postgres://h/db?password=s3cret"), "postgres://h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("/var/lib/ledger.db"), "/var/lib/ledger.db");
    }

    #[test]
    fn options_the_client_lacks_are_refused_by_name() {
        let e = settings("postgres://u:pw9@h/db?sslcert=/x")
            .err()
            .expect("refused");
        assert_eq!(e.kind(), ErrorKind::Other);
        assert!(e.message().contains("`sslcert`"), "{e}");
        assert!(!e.message().contains("pw9"), "{e}");
    }

    #[test]
    fn handled_options_are_taken_out() {
        let s = settings("postgres://u@h:7/db?sslmode=disable&fallback_application_name=x")
            .expect("settings");
        assert_eq!(s.config.get_ssl_mode(), SslMode::Disable);
        assert_eq!(s.target.server, "h:7");
        let e = settings("postgres://u@h/db?sslmode=sometimes")
            .err()
            .expect("refused");
        assert!(e.message().contains("sometimes"), "{e}");
        let e = settings("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/root.crt")
            .err()
            .expect("no such file");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.message().contains("/nonexistent/root.crt"), "{e}");
    }

    #[test]
    fn not_a_postgres_url() {
        let e = settings("mysql://u:pw@h/db").err().expect("refused");
        assert!(!e.message().contains("pw"), "{e}");
    }
}
