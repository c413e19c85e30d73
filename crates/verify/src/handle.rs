//! A license shared across a server's threads, replaced atomically on reload.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::error::VerifyError;
use crate::license::License;
use crate::load::Verifier;

/// The current license of a running server, shared across threads (clone the handle).
///
/// Readers take a cheap snapshot ([`LicenseHandle::current`]: an `Arc<License>`) and keep
/// using it as long as they like; a reload never changes a snapshot in place. A reload
/// verifies the new file completely first and swaps it in only when every check passed, so
/// no reader ever sees a partly loaded or unverified license; on failure the current
/// license stays and the error says why.
#[derive(Debug, Clone)]
pub struct LicenseHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    verifier: Verifier,
    current: RwLock<Arc<License>>,
    // Serialises reloads, so state-file updates and swaps happen in one order.
    reload: Mutex<()>,
}

impl LicenseHandle {
    /// Start with a license that was already verified.
    pub fn new(verifier: Verifier, license: License) -> LicenseHandle {
        LicenseHandle {
            inner: Arc::new(Inner {
                verifier,
                current: RwLock::new(Arc::new(license)),
                reload: Mutex::new(()),
            }),
        }
    }

    /// Load the initial file at startup; a server refuses to start when this fails.
    pub fn open(verifier: Verifier, path: impl AsRef<Path>) -> Result<LicenseHandle, VerifyError> {
        let license = verifier.load_file(path)?;
        Ok(LicenseHandle::new(verifier, license))
    }

    /// A snapshot of the current license.
    pub fn current(&self) -> Arc<License> {
        // The lock only guards an `Arc` swap, which cannot be left half done, so a poisoned
        // lock still holds a consistent value.
        self.inner
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Verify `bytes` and, only if every check passes, make it the current license.
    /// On failure the current license is kept and the error returned.
    pub fn reload(&self, bytes: &[u8]) -> Result<Arc<License>, VerifyError> {
        let _guard = self
            .inner
            .reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let license = self.inner.verifier.load(bytes)?;
        Ok(self.swap(license))
    }

    /// [`LicenseHandle::reload`] from a file (bounded read).
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<Arc<License>, VerifyError> {
        let _guard = self
            .inner
            .reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let license = self.inner.verifier.load_file(path)?;
        Ok(self.swap(license))
    }

    fn swap(&self, license: License) -> Arc<License> {
        let new = Arc::new(license);
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::clone(&new);
        new
    }

    /// The verifier reloads use.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }
}
