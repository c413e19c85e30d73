//! What every command that uses the store needs first, from the global options: the
//! verifier (the trusted keys, the host, the product) and the store's location.

use std::io::Read;
use std::path::Path;

use allocation::{AllocError, Allocator};
use format::{PublicKey, SecretKey};
use hostid::HostId;
use verify::{HostSource, ProductCheck, TrustStore, Verifier, VerifyError};

use crate::output::Output;
use crate::{CliError, Global};

/// Read a trusted public key (.pub): an I/O failure is exit 4, a file that is not a public
/// key exit 3.
pub(crate) fn read_key(path: &Path) -> Result<PublicKey, CliError> {
    let io = |source| CliError::KeyIo {
        path: path.to_owned(),
        source,
    };
    let file = verify::open_regular_file(path, "trusted key").map_err(|e| match e {
        VerifyError::Io { source, .. } => io(source),
        other => CliError::Alloc(other.into()),
    })?;
    let mut buf = Vec::new();
    file.take(64 * 1024 + 1).read_to_end(&mut buf).map_err(io)?;
    let malformed = |reason: String| CliError::KeyMalformed {
        path: path.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(&buf).map_err(|_| malformed("not UTF-8 text".into()))?;
    PublicKey::from_text(text).map_err(|e| malformed(e.to_string()))
}

/// The verifier: the keys given (or, without any, a throwaway key, so that commands that do
/// not need the license still work and those that do say a key is missing).
fn verifier(g: &Global) -> Result<(Verifier, bool), CliError> {
    // A malformed --host-id is reported before any key file is read (docs/FORMAT.md 15.3,
    // as licverify).
    let host = match &g.host_id {
        Some(code) => Some(code.trim().parse::<HostId>().map_err(CliError::BadHostId)?),
        None => None,
    };
    let mut paths = g.trust.clone();
    if paths.is_empty() {
        if let Some(v) = std::env::var_os("I3LIC_TRUST") {
            paths = std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
        }
    }
    let given = !paths.is_empty();
    let keys = if given {
        paths
            .iter()
            .map(|p| read_key(p))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![SecretKey::generate().public_key().clone()]
    };
    let trust = TrustStore::new(keys).map_err(|e| CliError::Alloc(e.into()))?;
    let product = match (&g.product, &g.version) {
        (Some(p), Some(v)) => ProductCheck::Expect {
            product: p.clone(),
            version: v.clone(),
        },
        _ => ProductCheck::Any,
    };
    let mut v = Verifier::new(trust, product);
    if let Some(id) = host {
        v = v.host(HostSource::Code(id));
    }
    Ok((v, given))
}

/// A `--store` value (or `I3LIC_STORE`): a URL of another scheme than PostgreSQL's is a
/// usage error, and nothing is created.
pub(crate) fn store_location(value: &Path) -> Result<allocation::StoreLocation, CliError> {
    allocation::StoreLocation::parse(value.as_os_str()).map_err(|e| match e {
        AllocError::InvalidInput { reason, .. } => CliError::Usage(format!("--store {reason}")),
        other => CliError::Alloc(other),
    })
}

/// The global options made ready: the verifier, whether keys were given, the store.
pub(crate) struct Context {
    verifier: Verifier,
    trusted: bool,
    /// Where the store is (`--store`, `I3LIC_STORE` or the default path).
    pub(crate) location: allocation::StoreLocation,
}

impl Context {
    /// Read the keys and parse the store's location (nothing is opened yet).
    pub(crate) fn new(g: &Global) -> Result<Context, CliError> {
        let (verifier, trusted) = verifier(g)?;
        let path = g
            .store
            .clone()
            .unwrap_or_else(allocation::default_store_path);
        let location = store_location(&path)?;
        Ok(Context {
            verifier,
            trusted,
            location,
        })
    }

    /// Open the store with the verifier, and what a command done with it ended with: a file
    /// signed by a key that is not trusted, when no key was given, says that a key is missing.
    pub(crate) fn with_store(
        self,
        command: impl FnOnce(Allocator) -> Result<Output, CliError>,
    ) -> Result<Output, CliError> {
        let a = Allocator::open_at(
            &self.location,
            self.verifier,
            std::sync::Arc::new(allocation::SystemClock),
        )?;
        match command(a) {
            Err(CliError::Alloc(AllocError::License(VerifyError::UntrustedKey { .. })))
                if !self.trusted =>
            {
                Err(CliError::NoTrust)
            }
            other => other,
        }
    }
}
