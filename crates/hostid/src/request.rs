//! Request codes: a machine's strong host-ID code and its license store's install key in one
//! pasteable, typo-checked line (`licadmin request`).
//!
//! A vendor who issues a file for a request code binds the install key to that host
//! (activation format version 3); the store holding the key can later sign a release receipt
//! the vendor checks. The code uses the host-ID alphabet and check symbol (docs/FORMAT.md
//! section 11.12), so any single wrong character and any swap of two neighbours is caught.

use std::fmt;
use std::str::FromStr;

use crate::code::{check_symbol, checksum, decode_char, GROUP};
use crate::{CodeError, CodeForm, HostId, ALPHABET, STRONG_CODE_VERSION, STRONG_SYMBOLS};

/// The version symbol of a request code (`3`; host-ID codes use `1` and `2`).
pub const REQUEST_CODE_VERSION: u8 = 3;

/// Symbols of the install key field: 256 key bits and 4 zero bits.
const KEY_SYMBOLS: usize = 52;

/// Symbols in a request code: version, the strong code's 58 flag and field symbols, the
/// 52-symbol install key, the check symbol.
pub const REQUEST_SYMBOLS: usize = 1 + (STRONG_SYMBOLS - 2) + KEY_SYMBOLS + 1;

/// Characters of a printed request code (symbols in dash-joined groups of five).
pub const REQUEST_PRINTED_LEN: usize = REQUEST_SYMBOLS + (REQUEST_SYMBOLS - 1) / GROUP;

/// Longest input the lenient reader looks at (bytes, after trimming).
pub const MAX_REQUEST_INPUT_LEN: usize = 320;

/// Why a pasted request code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestCodeError {
    /// Nothing was pasted.
    #[error("the request code is empty")]
    Empty,
    /// Far longer than a request code; refused before decoding.
    #[error("the request code is {len} bytes long; a request code has at most {max}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside the alphabet (Crockford base32, dashes and spaces).
    #[error("character {position} ('{}') is not part of a request code; codes use 0-9 and A-Z without I, L, O, U", character.escape_debug())]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its 1-based position in the trimmed input.
        position: usize,
    },
    /// Not the number of symbols a request code has.
    #[error("the request code has {found} symbols (dashes not counted); it should have {expected}: {}", if *found < *expected { "part of it is missing" } else { "something was added" })]
    WrongLength {
        /// Symbols found.
        found: usize,
        /// Symbols expected ([`REQUEST_SYMBOLS`]).
        expected: usize,
    },
    /// The check symbol does not agree.
    #[error("the request code's check character does not match: a character was changed or two neighbouring characters were swapped")]
    CheckFailed,
    /// A version symbol other than `3` under a good check symbol.
    #[error("request code version '{found}' is not supported (this build reads version 3)")]
    UnsupportedVersion {
        /// The version symbol found.
        found: char,
    },
    /// The install key field's 4 padding bits are not zero.
    #[error("the request code's install key field is not one licadmin could have printed")]
    BadKeyField,
    /// The install key is not a valid ed25519 public key (checked by the activation-file
    /// crate, which knows keys; this crate does not).
    #[error("the request code's install key is not a valid key: {0}")]
    InvalidInstallKey(String),
    /// The host part is not a valid strong host-ID code.
    #[error("the request code's host ID is invalid: {0}")]
    Host(CodeError),
}

/// A request code: a strong host-ID code and the 32-byte public half of an install key.
///
/// The key bytes are taken as they are; whether they are a valid ed25519 key is the
/// activation-file crate's check (`format::PublicKey::from_bytes`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestCode {
    host: HostId,
    install_key: [u8; 32],
}

impl fmt::Debug for RequestCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestCode({self})")
    }
}

impl RequestCode {
    /// A request code for a strong host-ID code and an install key's public bytes. A short
    /// code is refused ([`RequestCodeError::Host`]): a request code carries the strong form.
    pub fn new(host: HostId, install_key: [u8; 32]) -> Result<RequestCode, RequestCodeError> {
        if host.form() != CodeForm::Strong {
            return Err(RequestCodeError::Host(CodeError::UnknownForm));
        }
        Ok(RequestCode { host, install_key })
    }

    /// The machine's strong host-ID code.
    pub fn host(&self) -> HostId {
        self.host
    }

    /// The install key's public half (32 bytes, ed25519).
    pub fn install_key(&self) -> [u8; 32] {
        self.install_key
    }

    fn symbols(&self) -> [u8; REQUEST_SYMBOLS] {
        let mut out = [0u8; REQUEST_SYMBOLS];
        let host = self.host.symbols();
        let host = host.as_slice();
        out[0] = REQUEST_CODE_VERSION;
        // The strong code's flags and fields, without its version and check symbols.
        out[1..STRONG_SYMBOLS - 1].copy_from_slice(&host[1..STRONG_SYMBOLS - 1]);
        let key_at = STRONG_SYMBOLS - 1;
        for (j, slot) in out[key_at..key_at + KEY_SYMBOLS].iter_mut().enumerate() {
            *slot = key_bits(&self.install_key, 5 * j);
        }
        out[REQUEST_SYMBOLS - 1] = check_symbol(&out[..REQUEST_SYMBOLS - 1]);
        out
    }

    fn from_symbols(s: &[u8]) -> Result<RequestCode, RequestCodeError> {
        if s.len() != REQUEST_SYMBOLS {
            return Err(RequestCodeError::WrongLength {
                found: s.len(),
                expected: REQUEST_SYMBOLS,
            });
        }
        if checksum(s) != 0 {
            return Err(RequestCodeError::CheckFailed);
        }
        if s[0] != REQUEST_CODE_VERSION {
            return Err(RequestCodeError::UnsupportedVersion {
                found: ALPHABET[usize::from(s[0] & 31)] as char,
            });
        }
        let mut host = [0u8; STRONG_SYMBOLS];
        host[0] = STRONG_CODE_VERSION;
        host[1..STRONG_SYMBOLS - 1].copy_from_slice(&s[1..STRONG_SYMBOLS - 1]);
        host[STRONG_SYMBOLS - 1] = check_symbol(&host[..STRONG_SYMBOLS - 1]);
        let host = HostId::from_symbols(&host).map_err(RequestCodeError::Host)?;
        let field = &s[STRONG_SYMBOLS - 1..STRONG_SYMBOLS - 1 + KEY_SYMBOLS];
        // 52 symbols hold 260 bits: the key's 256, most significant first, then 4 zero bits.
        if field[KEY_SYMBOLS - 1] & 0x0f != 0 {
            return Err(RequestCodeError::BadKeyField);
        }
        let mut key = [0u8; 32];
        for (j, &sym) in field.iter().enumerate() {
            for b in 0..5 {
                let bit = 5 * j + b;
                if bit < 256 && sym & (0x10 >> b) != 0 {
                    key[bit / 8] |= 0x80 >> (bit % 8);
                }
            }
        }
        Ok(RequestCode {
            host,
            install_key: key,
        })
    }
}

/// The 5 bits of `key` from bit `at` (most significant first), zero past the end.
fn key_bits(key: &[u8; 32], at: usize) -> u8 {
    (0..5).fold(0u8, |acc, b| {
        let bit = at + b;
        let v = key
            .get(bit / 8)
            .map_or(0, |byte| (byte >> (7 - bit % 8)) & 1);
        (acc << 1) | v
    })
}

impl fmt::Display for RequestCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = String::with_capacity(REQUEST_PRINTED_LEN);
        for (i, d) in self.symbols().iter().enumerate() {
            if i > 0 && i % GROUP == 0 {
                buf.push('-');
            }
            buf.push(ALPHABET[usize::from(*d & 31)] as char);
        }
        f.write_str(&buf)
    }
}

/// The symbols of a pasted code read leniently (as host-ID codes are: case-blind, dashes and
/// spaces skipped, `O`/`I`/`L` read as `0`/`1`/`1`), at most `max` of them kept.
fn read_symbols(input: &str, max: usize) -> Result<Vec<u8>, RequestCodeError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(RequestCodeError::Empty);
    }
    if trimmed.len() > MAX_REQUEST_INPUT_LEN {
        return Err(RequestCodeError::TooLong {
            len: trimmed.len(),
            max: MAX_REQUEST_INPUT_LEN,
        });
    }
    let mut out = Vec::with_capacity(max);
    for (pos, c) in trimmed.chars().enumerate() {
        if c == '-' || c == ' ' {
            continue;
        }
        let d = decode_char(c).ok_or(RequestCodeError::InvalidCharacter {
            character: c,
            position: pos + 1,
        })?;
        out.push(d);
    }
    Ok(out)
}

impl FromStr for RequestCode {
    type Err = RequestCodeError;

    /// Read a pasted request code leniently (case, dashes, spaces and look-alikes as for
    /// host-ID codes); the check symbol then catches any changed character or swap of
    /// neighbours.
    fn from_str(input: &str) -> Result<RequestCode, RequestCodeError> {
        let s = read_symbols(input, REQUEST_SYMBOLS)?;
        RequestCode::from_symbols(&s)
    }
}

/// Whether a pasted code is meant as a request code rather than a host-ID code: its first
/// symbol is the request-code version `3`, or it has more symbols than any host-ID code.
/// Callers that take either (`issuer --host-id`, `gethostid --check`) use this to pick the
/// reader whose error fits.
pub fn looks_like_request_code(input: &str) -> bool {
    let trimmed = input.trim();
    let mut symbols = trimmed
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .map(decode_char);
    match symbols.next() {
        Some(Some(REQUEST_CODE_VERSION)) => true,
        Some(_) => 1 + symbols.count() > STRONG_SYMBOLS + 10,
        None => false,
    }
}

impl serde::Serialize for RequestCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Components;
    use proptest::prelude::*;

    fn example_host() -> HostId {
        HostId::strong_from_components(&Components {
            machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
            dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
            macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
            cpu: Some("GenuineIntel Xeon Gold 6230".into()),
        })
        .expect("example machine")
    }

    fn key(seed: u8) -> [u8; 32] {
        std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7))
    }

    #[test]
    fn round_trip_and_layout() {
        let code = RequestCode::new(example_host(), key(1)).expect("strong");
        let text = code.to_string();
        assert_eq!(text.len(), REQUEST_PRINTED_LEN);
        assert!(text.starts_with("3Q2H4-74BA6"), "{text}");
        let back: RequestCode = text.parse().expect("round trip");
        assert_eq!(back, code);
        assert_eq!(back.host(), example_host());
        assert_eq!(back.install_key(), key(1));
        let lower: RequestCode = text
            .to_lowercase()
            .replace('-', " ")
            .parse()
            .expect("lenient");
        assert_eq!(lower, code);
    }

    #[test]
    fn short_host_refused() {
        assert!(matches!(
            RequestCode::new(example_host().to_short(), key(1)),
            Err(RequestCodeError::Host(_))
        ));
    }

    #[test]
    fn errors_are_named() {
        let text = RequestCode::new(example_host(), key(2))
            .unwrap()
            .to_string();
        assert_eq!("".parse::<RequestCode>(), Err(RequestCodeError::Empty));
        assert!(matches!(
            text[..text.len() - 1].parse::<RequestCode>(),
            Err(RequestCodeError::WrongLength {
                found: 111,
                expected: 112
            })
        ));
        assert!(matches!(
            format!("{text}U").parse::<RequestCode>(),
            Err(RequestCodeError::InvalidCharacter { character: 'U', .. })
        ));
        assert!(matches!(
            "3".repeat(400).parse::<RequestCode>(),
            Err(RequestCodeError::TooLong { .. })
        ));
        // Padding bits set, check symbol recomputed: refused as a field no writer makes.
        let mut s = RequestCode::new(example_host(), key(2)).unwrap().symbols();
        s[REQUEST_SYMBOLS - 2] |= 1;
        s[REQUEST_SYMBOLS - 1] = check_symbol(&s[..REQUEST_SYMBOLS - 1]);
        assert_eq!(
            RequestCode::from_symbols(&s),
            Err(RequestCodeError::BadKeyField)
        );
        // Another version symbol under a good check.
        let mut s = RequestCode::new(example_host(), key(2)).unwrap().symbols();
        s[0] = 4;
        s[REQUEST_SYMBOLS - 1] = check_symbol(&s[..REQUEST_SYMBOLS - 1]);
        assert_eq!(
            RequestCode::from_symbols(&s),
            Err(RequestCodeError::UnsupportedVersion { found: '4' })
        );
    }

    #[test]
    fn recognised_as_request_code() {
        let text = RequestCode::new(example_host(), key(3))
            .unwrap()
            .to_string();
        assert!(looks_like_request_code(&text));
        assert!(looks_like_request_code(&text[1..]));
        assert!(!looks_like_request_code(&example_host().to_string()));
        assert!(!looks_like_request_code(
            &example_host().to_short().to_string()
        ));
        assert!(!looks_like_request_code(""));
    }

    proptest! {
        #[test]
        fn round_trips(k in any::<[u8; 32]>()) {
            let code = RequestCode::new(example_host(), k).unwrap();
            prop_assert_eq!(code.to_string().parse::<RequestCode>(), Ok(code));
        }

        #[test]
        fn any_single_change_is_caught(k in any::<[u8; 32]>(), at in 0..REQUEST_PRINTED_LEN, sym in 0usize..32) {
            let text = RequestCode::new(example_host(), k).unwrap().to_string();
            let mut bytes = text.clone().into_bytes();
            prop_assume!(bytes[at] != b'-' && bytes[at] != ALPHABET[sym]);
            bytes[at] = ALPHABET[sym];
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(changed.parse::<RequestCode>().is_err(), "{} accepted", changed);
        }

        #[test]
        fn any_adjacent_swap_is_caught(k in any::<[u8; 32]>(), at in 0..REQUEST_SYMBOLS - 1) {
            let code = RequestCode::new(example_host(), k).unwrap();
            let mut s = code.symbols();
            prop_assume!(s[at] != s[at + 1]);
            s.swap(at, at + 1);
            prop_assert!(RequestCode::from_symbols(&s).is_err());
        }

        #[test]
        fn arbitrary_input_never_panics(input in ".{0,400}") {
            let _ = input.parse::<RequestCode>();
            let _ = looks_like_request_code(&input);
        }
    }
}
