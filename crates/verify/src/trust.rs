//! The trust store: the vendor public keys a server accepts files from.

use format::{KeyId, PublicKey};

use crate::error::VerifyError;

/// The public key text of the published demonstration key pair (`keys-example/demo.pub`).
/// Anyone can sign with its secret key, so a file signed by it is accepted only when a trust
/// store holds this key, and is always flagged ([`crate::License::signed_with_demo_key`]).
pub const DEMO_PUBLIC_KEY: &str = include_str!("../../../keys-example/demo.pub");

/// The vendor public keys a server accepts files from. Several keys allow rotation: files
/// signed by an old key keep working while new files are signed by the new one.
///
/// Build it from keys compiled into the server (a `const` or `include_str!`), never from a
/// setting a user can change. Key ids are recomputed from the keys themselves, and the same
/// key given twice is refused.
///
/// ```
/// use verify::TrustStore;
///
/// const VENDOR_KEY: &str = verify::DEMO_PUBLIC_KEY; // a server compiles in its own key
/// let trust = TrustStore::from_texts(&[VENDOR_KEY])?;
/// assert_eq!(trust.key_ids()[0].to_string(), "7eaf4b54563d793c");
/// # Ok::<(), verify::VerifyError>(())
/// ```
#[derive(Debug, Clone)]
pub struct TrustStore {
    keys: Vec<PublicKey>,
}

impl TrustStore {
    /// A store of `keys`. Fails on an empty list and on a key given twice.
    pub fn new(keys: impl IntoIterator<Item = PublicKey>) -> Result<TrustStore, VerifyError> {
        let mut out: Vec<PublicKey> = Vec::new();
        for (index, key) in keys.into_iter().enumerate() {
            // Recompute the id from the key bytes rather than trusting a cached value, and
            // re-check the key itself (on the curve, not of small order).
            let bytes = key.to_bytes();
            let key = PublicKey::from_bytes(&bytes)
                .map_err(|source| VerifyError::BadTrustedKey { index, source })?;
            let key_id = KeyId::derive(&bytes);
            if out
                .iter()
                .any(|k| k.key_id() == key_id || k.to_bytes() == bytes)
            {
                return Err(VerifyError::DuplicateTrustedKey { key_id });
            }
            out.push(key);
        }
        if out.is_empty() {
            return Err(VerifyError::EmptyTrustStore);
        }
        Ok(TrustStore { keys: out })
    }

    /// A store from public key texts (the `.pub` file form), typically `include_str!`'d.
    pub fn from_texts(texts: &[&str]) -> Result<TrustStore, VerifyError> {
        let keys = texts
            .iter()
            .enumerate()
            .map(|(index, t)| {
                PublicKey::from_text(t)
                    .map_err(|source| VerifyError::BadTrustedKey { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;
        TrustStore::new(keys)
    }

    /// The key with this id, if trusted.
    pub fn get(&self, key_id: KeyId) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.key_id() == key_id)
    }

    /// The ids of the trusted keys, in the order given.
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(PublicKey::key_id).collect()
    }

    /// The trusted keys, in the order given.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// Whether `key` is the published demonstration key.
pub(crate) fn is_demo_key(key: &PublicKey) -> bool {
    // Parsed once: decoding a point costs about as much as a tenth of a signature check.
    static DEMO: std::sync::OnceLock<Option<[u8; 32]>> = std::sync::OnceLock::new();
    DEMO.get_or_init(|| {
        PublicKey::from_text(DEMO_PUBLIC_KEY)
            .ok()
            .map(|k| k.to_bytes())
    })
    .is_some_and(|demo| demo == key.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use format::SecretKey;

    #[test]
    fn duplicates_and_empty_stores_are_refused() {
        let a = SecretKey::generate().public_key().clone();
        let b = SecretKey::generate().public_key().clone();
        assert!(matches!(
            TrustStore::new([a.clone(), b.clone(), a.clone()]),
            Err(VerifyError::DuplicateTrustedKey { key_id }) if key_id == a.key_id()
        ));
        assert!(matches!(
            TrustStore::new(Vec::new()),
            Err(VerifyError::EmptyTrustStore)
        ));
        let t = TrustStore::new([a.clone(), b.clone()]).unwrap();
        assert_eq!(t.key_ids(), vec![a.key_id(), b.key_id()]);
        assert_eq!(t.get(b.key_id()), Some(&b));
    }

    #[test]
    fn texts_are_parsed_and_bad_ones_named_by_position() {
        let a = SecretKey::generate();
        let text = a.public_key().to_text("a");
        assert!(matches!(
            TrustStore::from_texts(&[DEMO_PUBLIC_KEY, &text, "i3lic-public-key-v1 AAAA"]),
            Err(VerifyError::BadTrustedKey { index: 2, .. })
        ));
        let t = TrustStore::from_texts(&[DEMO_PUBLIC_KEY, &text]).unwrap();
        assert!(is_demo_key(&t.keys()[0]));
        assert!(!is_demo_key(&t.keys()[1]));
    }
}
