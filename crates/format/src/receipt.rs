//! Release receipts: a license store's signed statement that it stopped using a file
//! (`licadmin release`), checked by the vendor against the install key the file binds
//! (docs/FORMAT.md section 19).
//!
//! ```
//! use format::receipt::{Receipt, ReleaseFacts};
//! use format::{FileId, SecretKey, Timestamp};
//!
//! let install = SecretKey::generate();
//! let host = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";
//! let id = FileId::random();
//! let facts = ReleaseFacts {
//!     file_id: id,
//!     lineage: id,
//!     generation: 1,
//!     host_id: host.parse()?,
//!     released_at: Timestamp::from_unix(1_700_000_000).unwrap(),
//! };
//! let text = Receipt::sign(&facts, &install);
//!
//! // The vendor: parse without trusting, then check against the key the file binds.
//! let receipt = Receipt::parse(&text)?;
//! receipt.verify(install.public_key())?;
//! assert_eq!(receipt.facts(), &facts);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hostid::HostId;

use crate::keys::{PublicKey, SecretKey};
use crate::model::FileId;
use crate::time::Timestamp;

/// The receipt's format name and version (its `Format:` header).
pub const RECEIPT_FORMAT: &str = "i3lic-release/1";
/// Domain separator that starts the signed bytes: the format name, then one NUL.
pub const RECEIPT_CONTEXT: &[u8] = b"i3lic-release/1\0";
/// First line of a receipt.
pub const RECEIPT_BEGIN: &str = "-----BEGIN I3LIC RELEASE RECEIPT-----";
/// The line before the signature.
pub const RECEIPT_SIGNATURE: &str = "-----BEGIN I3LIC SIGNATURE-----";
/// Last line of a receipt.
pub const RECEIPT_END: &str = "-----END I3LIC RELEASE RECEIPT-----";
/// Largest receipt read (bytes); a receipt is about 500.
pub const MAX_RECEIPT_SIZE: usize = 4096;

/// The headers, in their order.
const HEADERS: [&str; 7] = [
    "Format",
    "File-Id",
    "Lineage",
    "Generation",
    "Host-Id",
    "Released-At",
    "Install-Key",
];

/// Why a receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Larger than [`MAX_RECEIPT_SIZE`].
    #[error("the receipt is {size} bytes; a receipt has at most {max}")]
    TooLarge {
        /// Bytes given.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not UTF-8 text.
    #[error("the receipt is not UTF-8 text")]
    NotUtf8,
    /// The text is not a receipt of this form: a marker or header missing, out of order,
    /// or a value not in its one spelling.
    #[error("malformed receipt, line {line}: {reason}")]
    Malformed {
        /// 1-based line of the problem (after a leading byte-order mark).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The receipt names another install key than the one it is checked against.
    #[error("the receipt was signed by install key {found}, not by the install key the file binds ({expected})")]
    WrongInstallKey {
        /// The key the receipt names (hex).
        found: String,
        /// The key it was checked against (hex).
        expected: String,
    },
    /// The signature does not verify.
    #[error("the receipt's signature is not valid for its install key (altered or forged)")]
    SignatureInvalid,
}

impl ReceiptError {
    /// The exit code (docs/FORMAT.md section 15): 10 for a signature or key that does not
    /// verify, 3 for a malformed receipt.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReceiptError::WrongInstallKey { .. } | ReceiptError::SignatureInvalid => 10,
            _ => 3,
        }
    }
}

/// What a receipt states: which file the store released, on which host, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    /// The released file's `file_id`.
    pub file_id: FileId,
    /// Its lineage (its own id for a version-1 file, which has none).
    pub lineage: FileId,
    /// Its generation (0 for a version-1 file).
    pub generation: u32,
    /// The host-ID code the store's machine matched (the file's host it released on).
    pub host_id: HostId,
    /// When the store released it.
    pub released_at: Timestamp,
}

/// A parsed receipt. [`Receipt::parse`] checks the form only; [`Receipt::verify`] checks the
/// signature against the install key the file binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    facts: ReleaseFacts,
    install_key: PublicKey,
    signed: Vec<u8>,
    signature: [u8; 64],
}

/// The header lines of a receipt (each without its LF).
fn header_lines(facts: &ReleaseFacts, key: &PublicKey) -> [String; 7] {
    let values = [
        RECEIPT_FORMAT.to_string(),
        facts.file_id.to_string(),
        facts.lineage.to_string(),
        facts.generation.to_string(),
        facts.host_id.to_string(),
        facts.released_at.to_string(),
        crate::install_key::to_hex(key),
    ];
    let mut i = 0;
    values.map(|v| {
        let line = format!("{}: {v}", HEADERS[i]);
        i += 1;
        line
    })
}

/// The signed bytes: [`RECEIPT_CONTEXT`], then each header line followed by one LF.
fn signed_bytes<S: AsRef<str>>(lines: &[S]) -> Vec<u8> {
    let mut out = RECEIPT_CONTEXT.to_vec();
    for l in lines {
        out.extend_from_slice(l.as_ref().as_bytes());
        out.push(b'\n');
    }
    out
}

impl Receipt {
    /// Write and sign a receipt with a store's install key. Returns the complete text
    /// (LF line endings, ending with LF).
    pub fn sign(facts: &ReleaseFacts, install_key: &SecretKey) -> String {
        let lines = header_lines(facts, install_key.public_key());
        let sig = install_key.sign(&signed_bytes(&lines));
        let mut out = String::with_capacity(700);
        out.push_str(RECEIPT_BEGIN);
        out.push('\n');
        for l in &lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(RECEIPT_SIGNATURE);
        out.push('\n');
        STANDARD.encode_string(sig, &mut out);
        out.push('\n');
        out.push_str(RECEIPT_END);
        out.push('\n');
        out
    }

    /// Read a receipt's form, trusting nothing: at most [`MAX_RECEIPT_SIZE`] bytes of UTF-8;
    /// lines lose trailing spaces, tabs and CRs (so CRLF and mail clients do no harm); blank
    /// lines may stand before the begin marker and after the end marker; then exactly the
    /// begin marker, the seven headers in order, the signature marker, one line of base64
    /// and the end marker. Every value must be in its one spelling.
    pub fn parse(text: &str) -> Result<Receipt, ReceiptError> {
        if text.len() > MAX_RECEIPT_SIZE {
            return Err(ReceiptError::TooLarge {
                size: text.len(),
                max: MAX_RECEIPT_SIZE,
            });
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .map(|l| l.trim_end_matches([' ', '\t', '\r']))
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .skip_while(|(_, l)| l.is_empty());
        let mut last_line = 1;
        let mut next = |what: &str| -> Result<(usize, &str), ReceiptError> {
            match lines.next() {
                Some((n, l)) => {
                    last_line = n;
                    Ok((n, l))
                }
                None => Err(ReceiptError::Malformed {
                    line: last_line,
                    reason: format!("the receipt ends before {what}"),
                }),
            }
        };
        let bad = |line: usize, reason: String| ReceiptError::Malformed { line, reason };
        let (n, l) = next("the begin marker")?;
        if l != RECEIPT_BEGIN {
            return Err(bad(n, format!("expected the begin marker {RECEIPT_BEGIN}")));
        }
        let mut values: Vec<(usize, &str)> = Vec::with_capacity(HEADERS.len());
        let mut header_text: Vec<&str> = Vec::with_capacity(HEADERS.len());
        for name in HEADERS {
            let (n, l) = next(name)?;
            let value = l
                .strip_prefix(name)
                .and_then(|r| r.strip_prefix(": "))
                .ok_or_else(|| bad(n, format!("expected the {name} header ('{name}: ...')")))?;
            values.push((n, value));
            header_text.push(l);
        }
        let (n, l) = next("the signature marker")?;
        if l != RECEIPT_SIGNATURE {
            return Err(bad(n, format!("expected {RECEIPT_SIGNATURE}")));
        }
        let (sig_line, sig_text) = next("the signature")?;
        let (n, l) = next("the end marker")?;
        if l != RECEIPT_END {
            return Err(bad(n, format!("expected the end marker {RECEIPT_END}")));
        }
        if let Some((n, _)) = lines.find(|(_, l)| !l.is_empty()) {
            return Err(bad(n, "text after the end marker".into()));
        }

        let value = |i: usize| values.get(i).copied().unwrap_or((0, ""));
        let (n, format) = value(0);
        if format != RECEIPT_FORMAT {
            return Err(bad(
                n,
                format!(
                    "format '{}' is not {RECEIPT_FORMAT}",
                    format.chars().take(40).collect::<String>().escape_debug()
                ),
            ));
        }
        let id = |i: usize, what: &str| -> Result<FileId, ReceiptError> {
            let (n, v) = value(i);
            crate::keys::decode_hex_array(v)
                .map(FileId)
                .ok_or_else(|| bad(n, format!("the {what} is not 32 lower-case hex digits")))
        };
        let file_id = id(1, "file id")?;
        let lineage = id(2, "lineage")?;
        let (n, g) = value(3);
        let generation = g
            .parse::<u32>()
            .ok()
            .filter(|v| v.to_string() == g)
            .ok_or_else(|| bad(n, "the generation is not a whole number as written".into()))?;
        let (n, h) = value(4);
        let host_id = HostId::parse_canonical(h).map_err(|e| {
            bad(
                n,
                format!("the host ID is not a host-ID code as printed: {e}"),
            )
        })?;
        let (n, t) = value(5);
        let released_at = t
            .parse::<Timestamp>()
            .ok()
            .filter(|v| v.to_string() == t)
            .ok_or_else(|| bad(n, "the release time is not YYYY-MM-DDTHH:MM:SSZ".into()))?;
        let (n, k) = value(6);
        let install_key =
            crate::install_key::from_hex("Install-Key", k).map_err(|e| bad(n, e.to_string()))?;
        let signature: [u8; 64] = STANDARD
            .decode(sig_text)
            .ok()
            .and_then(|b| b.try_into().ok())
            .filter(|_| sig_text.len() == 88)
            .ok_or_else(|| bad(sig_line, "the signature is not 64 bytes of base64".into()))?;
        Ok(Receipt {
            facts: ReleaseFacts {
                file_id,
                lineage,
                generation,
                host_id,
                released_at,
            },
            install_key,
            signed: signed_bytes(&header_text),
            signature,
        })
    }

    /// Check the receipt against the install key the released file binds: the receipt must
    /// name that key and its signature verify strictly (`verify_strict`). Whether the facts
    /// name the right file (id, lineage, generation) is the caller's check.
    pub fn verify(&self, install_key: &PublicKey) -> Result<(), ReceiptError> {
        if self.install_key != *install_key {
            return Err(ReceiptError::WrongInstallKey {
                found: crate::install_key::to_hex(&self.install_key),
                expected: crate::install_key::to_hex(install_key),
            });
        }
        install_key
            .verify_strict(&self.signed, &self.signature)
            .map_err(|_| ReceiptError::SignatureInvalid)
    }

    /// What the receipt states (not yet trusted before [`Receipt::verify`]).
    pub fn facts(&self) -> &ReleaseFacts {
        &self.facts
    }

    /// The install key the receipt names.
    pub fn install_key(&self) -> &PublicKey {
        &self.install_key
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HOST: &str = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";

    fn facts() -> ReleaseFacts {
        ReleaseFacts {
            file_id: "5e1f0c2b7d9a4410863fe2510bc49728".parse().unwrap(),
            lineage: "317c2a900e5b44d89a126f03be7721c4".parse().unwrap(),
            generation: 3,
            host_id: HOST.parse().unwrap(),
            released_at: "2026-12-07T17:00:00Z".parse().unwrap(),
        }
    }

    fn key(n: u8) -> SecretKey {
        SecretKey::from_seed(&[n; 32])
    }

    #[test]
    fn round_trip_and_verify() {
        let text = Receipt::sign(&facts(), &key(1));
        let r = Receipt::parse(&text).unwrap();
        assert_eq!(r.facts(), &facts());
        r.verify(key(1).public_key()).unwrap();
        // CRLF and trailing blanks do no harm.
        let crlf = text.replace('\n', "  \r\n");
        Receipt::parse(&crlf)
            .unwrap()
            .verify(key(1).public_key())
            .unwrap();
    }

    #[test]
    fn another_key_or_an_altered_value_is_refused() {
        let text = Receipt::sign(&facts(), &key(1));
        let r = Receipt::parse(&text).unwrap();
        assert!(matches!(
            r.verify(key(2).public_key()),
            Err(ReceiptError::WrongInstallKey { .. })
        ));
        let altered = text.replace("Generation: 3", "Generation: 4");
        let r = Receipt::parse(&altered).unwrap();
        assert_eq!(
            r.verify(key(1).public_key()),
            Err(ReceiptError::SignatureInvalid)
        );
        assert_eq!(ReceiptError::SignatureInvalid.exit_code(), 10);
    }

    #[test]
    fn malformed_receipts_name_the_line() {
        let text = Receipt::sign(&facts(), &key(1));
        let cases = [
            (text.replace("Generation: 3", "Generation: 03"), 5),
            (text.replace("Lineage: 317c", "Lineage: 317C"), 4),
            (
                text.replace("Format: i3lic-release/1", "Format: i3lic-release/2"),
                2,
            ),
            (text.replace(HOST, &HOST.to_lowercase()), 6),
            (text.lines().take(5).collect::<Vec<_>>().join("\n"), 5),
            (format!("{text}more\n"), 12),
            (format!("junk\n{text}"), 1),
        ];
        for (input, line) in cases {
            match Receipt::parse(&input) {
                Err(ReceiptError::Malformed { line: l, .. }) => assert_eq!(l, line, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
        assert!(matches!(
            Receipt::parse(&"\n".repeat(5000)),
            Err(ReceiptError::TooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(input in ".{0,600}") {
            let _ = Receipt::parse(&input);
        }

        #[test]
        fn any_changed_character_fails(at in 0usize..600, c in proptest::char::range(' ', '~')) {
            let text = Receipt::sign(&facts(), &key(1));
            let at = at % text.len();
            prop_assume!(text.as_bytes()[at] != c as u8 && text.as_bytes()[at] != b'\n');
            let mut bytes = text.clone().into_bytes();
            bytes[at] = c as u8;
            let changed = String::from_utf8(bytes).unwrap();
            // Trailing blanks are not signed; anything else fails to parse or to verify.
            if changed.replace(" \n", "\n") != text {
                let ok = Receipt::parse(&changed).map(|r| r.verify(key(1).public_key()));
                prop_assert!(!matches!(ok, Ok(Ok(()))), "{}", changed);
            }
        }
    }
}
