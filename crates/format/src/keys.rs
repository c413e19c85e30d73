//! Public keys, secret keys and key ids, with their text forms.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::FormatError;

/// Domain separator for key ids.
const KEY_ID_DOMAIN: &[u8] = b"i3lic/key-id/v1\0";
/// Tag of the one key line in a public key file.
pub const PUBLIC_KEY_TAG: &str = "i3lic-public-key-v1";
/// Tag of the one key line in an unencrypted secret key file.
pub const SECRET_KEY_TAG: &str = "i3lic-secret-key-v1";

/// The 8-byte id of a public key: the first 8 bytes of
/// `SHA-256("i3lic/key-id/v1\0" || public key)`, written as 16 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// Derive the id of a raw ed25519 public key.
    pub fn derive(public_key: &[u8; 32]) -> KeyId {
        let d = Sha256::new()
            .chain_update(KEY_ID_DOMAIN)
            .chain_update(public_key)
            .finalize();
        let mut id = [0u8; 8];
        id.copy_from_slice(&d[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

/// Write `bytes` as lower-case hex, two digits a byte, in one write per 32 bytes (ids are
/// written into every file signed).
pub(crate) fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for chunk in bytes.chunks(32) {
        let mut buf = [0u8; 64];
        for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
            for (slot, nibble) in pair.iter_mut().zip([b >> 4, b & 15]) {
                *slot = DIGITS[usize::from(nibble)];
            }
        }
        let hex = buf.get(..2 * chunk.len()).unwrap_or_default();
        f.write_str(std::str::from_utf8(hex).map_err(|_| fmt::Error)?)?;
    }
    Ok(())
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<KeyId, FormatError> {
        decode_hex_array(s)
            .map(KeyId)
            .ok_or_else(|| FormatError::InvalidValue {
                field: "key id".into(),
                reason: format!("'{}' is not 16 lower-case hex digits", s.escape_debug()),
            })
    }
}

/// Decode exactly `2 * N` lower-case hex digits (the only spelling this crate writes) into
/// `N` bytes, without an allocation.
pub(crate) fn decode_hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (hi, lo) = (pair.first().copied()?, pair.get(1).copied()?);
        *o = (nibble(hi)? << 4) | nibble(lo)?;
    }
    Some(out)
}

/// Whether 32 bytes that decompress to a point are that point's one (canonical) encoding:
/// the y coordinate below the field prime p = 2^255 - 19, and no sign bit on a point whose x
/// is 0 (y = 1 or y = p - 1). These are exactly the spellings that compressing the decoded
/// point again would not give back; checked on the bytes, it costs no field inversion.
fn canonical_point_encoding(bytes: &[u8; 32]) -> bool {
    let sign = bytes[31] >> 7;
    let mut y = *bytes;
    y[31] &= 0x7f;
    let high_all_ones = y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff);
    // y >= p: the top 254 bits all ones and the low byte at least 0xed.
    if high_all_ones && y[0] >= 0xed {
        return false;
    }
    let y_is_one = y[0] == 1 && y[1..].iter().all(|&b| b == 0);
    let y_is_p_minus_one = high_all_ones && y[0] == 0xec;
    !(sign == 1 && (y_is_one || y_is_p_minus_one))
}

/// The canonical encodings of the 8 points of small order (docs/FORMAT.md section 8). Past
/// the canonical check, a key is of small order exactly when its bytes are one of these:
/// compared as bytes, without the point multiplication and field inversion of
/// `VerifyingKey::is_weak` (this runs for every install key read).
const SMALL_ORDER: [[u8; 32]; 8] = {
    let mut p_minus_one = [0xff; 32];
    p_minus_one[0] = 0xec;
    p_minus_one[31] = 0x7f;
    let mut one = [0; 32];
    one[0] = 1;
    let mut zero_neg = [0; 32];
    zero_neg[31] = 0x80;
    const EIGHT_A: [u8; 32] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    const EIGHT_B: [u8; 32] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let mut eight_a_neg = EIGHT_A;
    eight_a_neg[31] |= 0x80;
    let mut eight_b_neg = EIGHT_B;
    eight_b_neg[31] |= 0x80;
    [
        one,
        p_minus_one,
        [0; 32],
        zero_neg,
        EIGHT_A,
        eight_a_neg,
        EIGHT_B,
        eight_b_neg,
    ]
};

/// A vendor's ed25519 public key, as trusted by servers.
///
/// Text form (a `#` line is a comment and is ignored):
/// ```text
/// # i3lic public key "vendor" (key id 1f0c6e5f3a9d2b74)
/// i3lic-public-key-v1 <base64 of the 32-byte key>
/// ```
#[derive(Clone)]
pub struct PublicKey {
    key: VerifyingKey,
    /// Derived from `key` when first asked for: an install key read from a file needs none.
    id: OnceLock<KeyId>,
}

/// Keys are equal when their points are (the id follows from the key).
impl PartialEq for PublicKey {
    fn eq(&self, other: &PublicKey) -> bool {
        self.key == other.key
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// From the raw 32 bytes. Refuses encodings that are not points on the curve, a second
    /// (non-canonical) spelling of a point, which would give one key two key ids, and keys of
    /// small order (which would let anyone forge signatures).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, FormatError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| FormatError::MalformedKey {
            kind: "public",
            reason: "not a valid ed25519 point".into(),
        })?;
        if !canonical_point_encoding(bytes) {
            return Err(FormatError::MalformedKey {
                kind: "public",
                reason: "not the canonical encoding of an ed25519 point".into(),
            });
        }
        if SMALL_ORDER.contains(bytes) {
            return Err(FormatError::MalformedKey {
                kind: "public",
                reason: "a weak (small-order) ed25519 key".into(),
            });
        }
        Ok(PublicKey {
            key,
            id: OnceLock::new(),
        })
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key id derived from this key.
    pub fn key_id(&self) -> KeyId {
        *self.id.get_or_init(|| KeyId::derive(self.key.as_bytes()))
    }

    /// Strict ed25519 verification (`verify_strict`: canonical `S`, no small-order `R` or key).
    /// `signature` must be exactly 64 bytes.
    pub fn verify_strict(&self, message: &[u8], signature: &[u8]) -> Result<(), FormatError> {
        let sig = Signature::from_slice(signature).map_err(|_| FormatError::SignatureInvalid {
            key_id: self.key_id(),
        })?;
        self.key
            .verify_strict(message, &sig)
            .map_err(|_| FormatError::SignatureInvalid {
                key_id: self.key_id(),
            })
    }

    /// The text form, with a comment naming the key.
    pub fn to_text(&self, name: &str) -> String {
        format!(
            "# i3lic public key \"{}\" (key id {})\n{PUBLIC_KEY_TAG} {}\n",
            name.escape_debug(),
            self.key_id(),
            STANDARD.encode(self.key.as_bytes())
        )
    }

    /// Parse the text form.
    pub fn from_text(text: &str) -> Result<PublicKey, FormatError> {
        let body = key_line(text, PUBLIC_KEY_TAG, "public")?;
        let raw = STANDARD
            .decode(body)
            .map_err(|e| FormatError::MalformedKey {
                kind: "public",
                reason: format!("bad base64: {e}"),
            })?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|v: Vec<u8>| FormatError::MalformedKey {
                kind: "public",
                reason: format!("{} bytes, expected 32", v.len()),
            })?;
        PublicKey::from_bytes(&bytes)
    }
}

/// Find the single `TAG value` line of a key file (comments and blank lines ignored).
fn key_line<'a>(text: &'a str, tag: &str, kind: &'static str) -> Result<&'a str, FormatError> {
    if text.len() > 64 * 1024 {
        return Err(FormatError::MalformedKey {
            kind,
            reason: "the key file is larger than 64 KiB".into(),
        });
    }
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(rest) = line.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')) else {
            let other = if kind == "public" {
                SECRET_KEY_TAG
            } else {
                PUBLIC_KEY_TAG
            };
            let reason = if line.starts_with(other) {
                format!(
                    "this is a {} key file, not a {kind} key file",
                    if kind == "public" { "secret" } else { "public" }
                )
            } else {
                format!("expected a line starting with '{tag}'")
            };
            return Err(FormatError::MalformedKey { kind, reason });
        };
        if found.replace(rest.trim()).is_some() {
            return Err(FormatError::MalformedKey {
                kind,
                reason: "more than one key line".into(),
            });
        }
    }
    found.ok_or(FormatError::MalformedKey {
        kind,
        reason: format!("no '{tag}' line"),
    })
}

/// A vendor's ed25519 secret key. Never shown by `Debug` or `Display`; wiped from memory when
/// dropped.
///
/// Unencrypted text form (the issuer also writes a passphrase-encrypted form):
/// ```text
/// # i3lic secret key "vendor" (key id 1f0c6e5f3a9d2b74) - keep private
/// i3lic-secret-key-v1 <base64 of the 32-byte seed>
/// ```
pub struct SecretKey {
    // ed25519-dalek's SigningKey zeroizes itself on drop (feature "zeroize").
    key: SigningKey,
    public: PublicKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, <redacted>)", self.public.key_id())
    }
}

impl SecretKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> SecretKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
        SecretKey::from_seed(&seed)
    }

    /// From a 32-byte seed. The caller should wipe its copy.
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        let key = SigningKey::from_bytes(seed);
        let pk = key.verifying_key().to_bytes();
        let public = PublicKey {
            key: key.verifying_key(),
            id: OnceLock::from(KeyId::derive(&pk)),
        };
        SecretKey { key, public }
    }

    /// The seed, in a buffer wiped on drop.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The key id of the matching public key.
    pub fn key_id(&self) -> KeyId {
        self.public.key_id()
    }

    /// Sign raw bytes (ed25519).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The unencrypted text form, in a buffer wiped on drop.
    pub fn to_text(&self, name: &str) -> Zeroizing<String> {
        let seed = self.seed();
        let b64 = Zeroizing::new(STANDARD.encode(seed.as_ref()));
        let name = name.escape_debug().to_string();
        let id = self.public.key_id().to_string();
        let parts = [
            "# i3lic secret key \"",
            &name,
            "\" (key id ",
            &id,
            ") - keep private\n",
            SECRET_KEY_TAG,
            " ",
            &b64,
            "\n",
        ];
        // Written into a buffer of its final size: a buffer that grew would leave a copy of
        // the seed in freed memory that nothing wipes.
        let mut text = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
        for p in parts {
            text.push_str(p);
        }
        text
    }

    /// Parse the unencrypted text form.
    pub fn from_text(text: &str) -> Result<SecretKey, FormatError> {
        let body = key_line(text, SECRET_KEY_TAG, "secret")?;
        let raw = Zeroizing::new(
            STANDARD
                .decode(body)
                .map_err(|_| FormatError::MalformedKey {
                    kind: "secret",
                    reason: "bad base64".into(),
                })?,
        );
        if raw.len() != 32 {
            return Err(FormatError::MalformedKey {
                kind: "secret",
                reason: format!("{} bytes, expected 32", raw.len()),
            });
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&raw);
        Ok(SecretKey::from_seed(&seed))
    }
}

#[cfg(test)]
mod tests {
    /// The byte list of small-order keys refuses what `is_weak` refuses among canonical
    /// encodings: its 8 entries are distinct small-order points (a curve has exactly 8), and
    /// keys of large order are not in it.
    #[test]
    fn small_order_list_is_the_torsion_subgroup() {
        use ed25519_dalek::VerifyingKey;
        let mut seen = std::collections::HashSet::new();
        for bytes in super::SMALL_ORDER {
            assert!(seen.insert(bytes));
            assert!(super::canonical_point_encoding(&bytes));
            assert!(VerifyingKey::from_bytes(&bytes).unwrap().is_weak());
            let e = super::PublicKey::from_bytes(&bytes)
                .unwrap_err()
                .to_string();
            assert!(e.contains("weak (small-order)"), "{e}");
        }
        for seed in 0..64u8 {
            let sk = super::SecretKey::from_seed(&[seed; 32]);
            let bytes = sk.public_key().to_bytes();
            assert!(!VerifyingKey::from_bytes(&bytes).unwrap().is_weak());
            assert!(super::PublicKey::from_bytes(&bytes).is_ok());
        }
    }

    /// A key read from bytes derives its id only when asked, and the id and equality are
    /// those of the key either way.
    #[test]
    fn key_id_is_derived_when_first_asked() {
        let sk = super::SecretKey::from_seed(&[7; 32]);
        let read = super::PublicKey::from_bytes(&sk.public_key().to_bytes()).unwrap();
        assert!(read.id.get().is_none());
        assert_eq!(&read, sk.public_key());
        assert_eq!(read.key_id(), super::KeyId::derive(&read.to_bytes()));
        assert_eq!(read.key_id(), sk.key_id());
        assert!(read.id.get().is_some());
        assert_eq!(format!("{read:?}"), format!("PublicKey({})", sk.key_id()));
    }

    /// The byte check of canonical encodings agrees with compressing the decoded point
    /// again, on every edge spelling (y near p, y = 1, y = p - 1, either sign) and on keys.
    #[test]
    fn canonical_encoding_check_agrees_with_recompression() {
        use ed25519_dalek::VerifyingKey;
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for low in 0xd0..=0xffu8 {
            let mut b = [0xffu8; 32];
            b[0] = low;
            b[31] = 0x7f;
            cases.push(b);
        }
        let mut one = [0u8; 32];
        one[0] = 1;
        cases.push(one);
        for n in 0..64u8 {
            cases.push(
                super::SecretKey::from_seed(&[n; 32])
                    .public_key()
                    .to_bytes(),
            );
            let mut b = [n; 32];
            b[31] &= 0x7f;
            cases.push(b);
        }
        for b in cases.clone() {
            let mut signed = b;
            signed[31] |= 0x80;
            cases.push(signed);
        }
        let mut decoded = 0;
        for b in &cases {
            if let Ok(k) = VerifyingKey::from_bytes(b) {
                decoded += 1;
                let by_recompression = k.to_edwards().compress().to_bytes() == *b;
                assert_eq!(
                    super::canonical_point_encoding(b),
                    by_recompression,
                    "{b:02x?}"
                );
            }
        }
        assert!(decoded > 64, "{decoded} of {} decoded", cases.len());
    }

    use super::*;

    #[test]
    fn secret_text_is_built_in_one_buffer() {
        // A buffer that grows while being written leaves its old copy, seed included, in
        // freed memory that nothing wipes: the text must be written into its final buffer.
        let sk = SecretKey::generate();
        for name in ["", "k", "vendor-2024", &"n".repeat(200), "名前 \"q\""] {
            let text = sk.to_text(name);
            assert_eq!(text.capacity(), text.len(), "name {name:?}");
            assert_eq!(SecretKey::from_text(&text).unwrap().key_id(), sk.key_id());
        }
    }

    #[test]
    fn text_forms_round_trip_and_hide_secrets() {
        let sk = SecretKey::generate();
        let pk = PublicKey::from_text(&sk.public_key().to_text("t")).unwrap();
        assert_eq!(&pk, sk.public_key());
        let again = SecretKey::from_text(&sk.to_text("t")).unwrap();
        assert_eq!(again.key_id(), sk.key_id());
        let seed_b64 = STANDARD.encode(sk.seed().as_ref());
        assert!(!format!("{sk:?}").contains(&seed_b64));
        assert!(PublicKey::from_text(&sk.to_text("t")).is_err());
        assert!(SecretKey::from_text(&sk.public_key().to_text("t")).is_err());
        assert_eq!(
            sk.key_id().to_string().parse::<KeyId>().unwrap(),
            sk.key_id()
        );
    }
}
