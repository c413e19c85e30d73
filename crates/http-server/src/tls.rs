//! TLS for [`crate::serve`]: an acceptor from a PEM certificate chain and private key, with
//! errors that name the file at fault.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
pub use tokio_rustls::TlsAcceptor;

/// The largest certificate or key file read (a chain of a few certificates is a few KiB).
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// Why a certificate or key could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// The file could not be read (missing, permission denied, not a regular file).
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The key file may be read by group or others.
    KeyTooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not usable PEM, holds no certificate or no private key, or the key does
    /// not match the certificate.
    Malformed {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl TlsError {
    /// Whether the file could not be read or is too open (rather than its contents wrong).
    pub fn is_io(&self) -> bool {
        matches!(self, TlsError::Io { .. } | TlsError::KeyTooOpen { .. })
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            TlsError::KeyTooOpen { path, mode } => write!(
                f,
                "TLS private key {} has mode {mode:04o}: it must not be readable by group or \
                 others (chmod 600 it)",
                path.display()
            ),
            TlsError::Malformed { path, reason } => write!(f, "{}: {reason}", path.display()),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A TLS acceptor serving the certificate chain in `cert_pem` (the server's certificate
/// first) with the private key in `key_pem` (PKCS#8, PKCS#1 or SEC1), over rustls with the
/// ring provider. On Unix the key file is refused when group or others may read it.
pub fn tls_acceptor(cert_pem: &Path, key_pem: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_bytes = read(cert_pem, false)?;
    let key_bytes = zeroize::Zeroizing::new(read(key_pem, true)?);
    let malformed = |path: &Path, reason: String| TlsError::Malformed {
        path: path.into(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed(cert_pem, format!("not a PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(malformed(
            cert_pem,
            "holds no certificate (a PEM block `BEGIN CERTIFICATE`)".into(),
        ));
    }
    let key = match PrivateKeyDer::from_pem_slice(&key_bytes) {
        Ok(k) => k,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            return Err(malformed(
                key_pem,
                "holds no private key (a PEM block `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE \
                 KEY` or `BEGIN EC PRIVATE KEY`)"
                    .into(),
            ))
        }
        Err(e) => return Err(malformed(key_pem, format!("not a PEM file: {e}"))),
    };
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| malformed(cert_pem, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => malformed(
                key_pem,
                format!(
                    "the private key does not match the certificate in {}",
                    cert_pem.display()
                ),
            ),
            rustls::Error::General(reason) => {
                malformed(key_pem, format!("not a usable private key: {reason}"))
            }
            other => malformed(
                cert_pem,
                format!(
                    "the certificate cannot be used with the key in {}: {other}",
                    key_pem.display()
                ),
            ),
        })?;
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// rustls with ring (as the PostgreSQL store): builds with a plain C compiler (aws-lc-rs needs
/// CMake); ring lacks the post-quantum key exchange that rustls now warns about.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The bytes of a regular file (at most [`MAX_PEM_BYTES`]); a key file must be its owner's
/// alone.
fn read(path: &Path, secret: bool) -> Result<Vec<u8>, TlsError> {
    let io = |source| TlsError::Io {
        path: path.into(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyTooOpen {
                path: path.into(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = secret;
    if meta.len() > MAX_PEM_BYTES {
        return Err(TlsError::Malformed {
            path: path.into(),
            reason: format!("larger than {} KiB", MAX_PEM_BYTES / 1024),
        });
    }
    let mut bytes = Vec::new();
    f.take(MAX_PEM_BYTES).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}
