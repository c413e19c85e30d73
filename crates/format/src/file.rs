//! The text encoding of an activation file: armor, normalisation, signing and verification.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::FormatError;
use crate::keys::{KeyId, PublicKey, SecretKey};
use crate::model::Activation;

/// Largest file accepted, in bytes (1 MiB).
pub const MAX_FILE_SIZE: usize = 1024 * 1024;

/// The format name and version this build writes and reads.
pub const FORMAT_VERSION: &str = "i3lic-activation/1";

/// First line of every file.
pub const BEGIN_MARKER: &str = "-----BEGIN I3LIC ACTIVATION FILE-----";
/// Line between the signed body and the signature.
pub const SIGNATURE_MARKER: &str = "-----BEGIN I3LIC SIGNATURE-----";
/// Last line of every file.
pub const END_MARKER: &str = "-----END I3LIC ACTIVATION FILE-----";

/// The context string that starts the signed bytes (format name, version, NUL).
pub const SIGNING_CONTEXT: &[u8] = b"i3lic-activation/1\0";

const FORMAT_HEADER: &str = "Format: ";
const KEY_ID_HEADER: &str = "Key-Id: ";

/// Bytes the signature covers: `SIGNING_CONTEXT || key id (8 raw bytes) || body`, where the
/// body is every line between the begin marker and the signature marker, each with trailing
/// CR, spaces and tabs removed and terminated by a single LF.
fn signed_bytes(key_id: &KeyId, body_lines: &[&str]) -> Vec<u8> {
    let len: usize = body_lines.iter().map(|l| l.len() + 1).sum();
    let mut out = Vec::with_capacity(SIGNING_CONTEXT.len() + 8 + len);
    out.extend_from_slice(SIGNING_CONTEXT);
    out.extend_from_slice(&key_id.0);
    for l in body_lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Sign an activation: validate it, write its text form and sign the normalised body.
/// Returns the complete file.
pub fn sign(activation: &Activation, key: &SecretKey) -> Result<String, FormatError> {
    activation.validate()?;
    let json = serde_json::to_string_pretty(activation).map_err(|e| FormatError::InvalidValue {
        field: "activation".into(),
        reason: e.to_string(),
    })?;
    Ok(sign_payload_text(&json, key))
}

/// Sign an arbitrary JSON payload text as a version-1 file. Used by [`sign`]; public so that
/// test vectors (for example a payload with an unknown field) can be produced. A file made
/// this way from a payload that is not a valid [`Activation`] fails verification with a
/// payload error after its signature checks out.
pub fn sign_payload_text(json: &str, key: &SecretKey) -> String {
    let key_id = key.key_id();
    let format_line = format!("{FORMAT_HEADER}{FORMAT_VERSION}");
    let key_line = format!("{KEY_ID_HEADER}{key_id}");
    let mut body: Vec<&str> = vec![&format_line, &key_line];
    body.extend(json.lines().map(|l| l.trim_end_matches([' ', '\t', '\r'])));
    let sig = key.sign(&signed_bytes(&key_id, &body));
    let mut out = String::with_capacity(json.len() + 256);
    out.push_str(BEGIN_MARKER);
    out.push('\n');
    for l in &body {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(SIGNATURE_MARKER);
    out.push('\n');
    out.push_str(&STANDARD.encode(sig));
    out.push('\n');
    out.push_str(END_MARKER);
    out.push('\n');
    out
}

/// A file that has been parsed but whose signature has not been checked. Nothing in it may be
/// trusted; the only way to its contents is [`UnverifiedFile::verify`].
#[derive(Debug, Clone)]
pub struct UnverifiedFile {
    key_id: KeyId,
    signed: Vec<u8>,
    payload_offset: usize,
    signature: [u8; 64],
}

/// Remove trailing CR, spaces and tabs.
fn norm(line: &str) -> &str {
    line.trim_end_matches([' ', '\t', '\r'])
}

impl UnverifiedFile {
    /// Parse the armor of a file (size, UTF-8, markers, headers, signature encoding) without
    /// trusting anything in it. The payload itself is only read after the signature checks out.
    pub fn parse(bytes: &[u8]) -> Result<UnverifiedFile, FormatError> {
        if bytes.len() > MAX_FILE_SIZE {
            return Err(FormatError::TooLarge {
                size: bytes.len(),
                max: MAX_FILE_SIZE,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| FormatError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        // A byte-order mark added by an editor is not part of the file.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Err(FormatError::Empty);
        }

        let mut lines = text.split('\n').map(norm).enumerate().map(|(i, l)| (i + 1, l));

        // Leading blank lines, then the begin marker.
        let first = loop {
            match lines.next() {
                Some((_, "")) => continue,
                Some(x) => break x,
                None => return Err(FormatError::Empty),
            }
        };
        if first.1 != BEGIN_MARKER {
            return Err(FormatError::MissingSection {
                section: "begin marker (-----BEGIN I3LIC ACTIVATION FILE-----)",
            });
        }

        // Headers: Format first, then Key-Id.
        let (fline, format) = lines.next().ok_or(FormatError::Truncated {
            expected: "the Format header",
        })?;
        let version = format
            .strip_prefix(FORMAT_HEADER)
            .ok_or(FormatError::MissingSection {
                section: "Format header (Format: i3lic-activation/1)",
            })?;
        if version != FORMAT_VERSION {
            if version.starts_with("i3lic-activation/") {
                return Err(FormatError::UnsupportedVersion {
                    found: version.chars().take(64).collect(),
                    supported: FORMAT_VERSION,
                });
            }
            return Err(FormatError::MalformedHeader {
                line: fline,
                reason: format!(
                    "the Format header names '{}', not an i3lic activation file format",
                    version.chars().take(64).collect::<String>().escape_debug()
                ),
            });
        }
        let (kline, key_line) = lines.next().ok_or(FormatError::Truncated {
            expected: "the Key-Id header",
        })?;
        let kid = key_line.strip_prefix(KEY_ID_HEADER).ok_or(FormatError::MissingSection {
            section: "Key-Id header",
        })?;
        let key_id: KeyId = kid.parse().map_err(|_| FormatError::MalformedHeader {
            line: kline,
            reason: "the Key-Id header is not 16 lower-case hex digits".into(),
        })?;

        // Body lines up to the signature marker.
        let mut body: Vec<&str> = vec![format, key_line];
        let mut sig_line = None;
        for (n, l) in lines.by_ref() {
            match l {
                SIGNATURE_MARKER => {
                    sig_line = Some(n);
                    break;
                }
                BEGIN_MARKER => {
                    return Err(FormatError::DuplicateSection {
                        section: "begin marker",
                        line: n,
                    })
                }
                END_MARKER => {
                    return Err(FormatError::MissingSection {
                        section: "signature block",
                    })
                }
                _ if l.starts_with(FORMAT_HEADER) => {
                    return Err(FormatError::DuplicateSection {
                        section: "Format header",
                        line: n,
                    })
                }
                _ if l.starts_with(KEY_ID_HEADER) => {
                    return Err(FormatError::DuplicateSection {
                        section: "Key-Id header",
                        line: n,
                    })
                }
                _ => body.push(l),
            }
        }
        if sig_line.is_none() {
            return Err(FormatError::Truncated {
                expected: "the signature block",
            });
        }
        if body.len() == 2 {
            return Err(FormatError::MissingSection {
                section: "payload",
            });
        }

        // Signature (one or more base64 lines), then the end marker.
        let mut b64 = String::new();
        let mut ended = false;
        for (n, l) in lines.by_ref() {
            match l {
                END_MARKER => {
                    ended = true;
                    break;
                }
                SIGNATURE_MARKER => {
                    return Err(FormatError::DuplicateSection {
                        section: "signature block",
                        line: n,
                    })
                }
                BEGIN_MARKER => {
                    return Err(FormatError::DuplicateSection {
                        section: "begin marker",
                        line: n,
                    })
                }
                _ => {
                    if b64.len() + l.len() > 256 {
                        return Err(FormatError::MalformedSignature {
                            reason: "the signature block is too long".into(),
                        });
                    }
                    b64.push_str(l.trim());
                }
            }
        }
        if !ended {
            return Err(FormatError::Truncated {
                expected: "the end marker",
            });
        }
        for (n, l) in lines {
            if !l.is_empty() {
                return Err(if l == BEGIN_MARKER {
                    FormatError::DuplicateSection {
                        section: "begin marker",
                        line: n,
                    }
                } else {
                    FormatError::UnexpectedLine {
                        line: n,
                        reason: "text after the end marker".into(),
                    }
                });
            }
        }
        let raw = STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| FormatError::MalformedSignature {
                reason: e.to_string(),
            })?;
        let signature: [u8; 64] =
            raw.try_into()
                .map_err(|v: Vec<u8>| FormatError::MalformedSignature {
                    reason: format!("{} bytes, expected 64", v.len()),
                })?;

        let signed = signed_bytes(&key_id, &body);
        let payload_offset = SIGNING_CONTEXT.len() + 8 + body[0].len() + 1 + body[1].len() + 1;
        Ok(UnverifiedFile {
            key_id,
            signed,
            payload_offset,
            signature,
        })
    }

    /// The key id the file claims to be signed by (unverified).
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The exact bytes the signature must cover.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.signed
    }

    /// Check the signature with `key` (which must carry the file's key id), then read the
    /// payload. Only this produces a [`VerifiedFile`].
    pub fn verify(&self, key: &PublicKey) -> Result<VerifiedFile, FormatError> {
        if key.key_id() != self.key_id {
            return Err(FormatError::KeyIdMismatch {
                file: self.key_id,
                key: key.key_id(),
            });
        }
        key.verify_strict(&self.signed, &self.signature)?;
        let payload = &self.signed[self.payload_offset..];
        let activation = parse_payload(payload)?;
        Ok(VerifiedFile {
            key_id: self.key_id,
            activation,
        })
    }

    /// Check the signature with whichever of `trusted` carries the file's key id.
    pub fn verify_with<'a>(
        &self,
        trusted: impl IntoIterator<Item = &'a PublicKey>,
    ) -> Result<VerifiedFile, FormatError> {
        let key = trusted
            .into_iter()
            .find(|k| k.key_id() == self.key_id)
            .ok_or(FormatError::UntrustedKey {
                key_id: self.key_id,
            })?;
        self.verify(key)
    }
}

fn parse_payload(payload: &[u8]) -> Result<Activation, FormatError> {
    let activation: Activation = serde_json::from_slice(payload).map_err(|e| {
        let msg = e.to_string();
        let field = |prefix: &str| {
            msg.strip_prefix(prefix)
                .and_then(|r| r.split('`').next())
                .map(str::to_owned)
        };
        if let Some(f) = field("unknown field `") {
            FormatError::UnknownField { field: f }
        } else if let Some(f) = field("duplicate field `") {
            FormatError::DuplicateField { field: f }
        } else {
            let reason = match msg.rfind(" at line ") {
                Some(i) => msg[..i].to_owned(),
                None => msg,
            };
            FormatError::MalformedPayload {
                line: e.line(),
                column: e.column(),
                reason,
            }
        }
    })?;
    activation.validate()?;
    Ok(activation)
}

/// A file whose signature was checked by a known key. Only [`UnverifiedFile::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    key_id: KeyId,
    activation: Activation,
}

impl VerifiedFile {
    /// The key that signed it.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// What the file licenses.
    pub fn activation(&self) -> &Activation {
        &self.activation
    }

    /// Take the contents.
    pub fn into_activation(self) -> Activation {
        self.activation
    }
}

/// Parse and verify in one step against a set of trusted keys.
pub fn verify_bytes<'a>(
    bytes: &[u8],
    trusted: impl IntoIterator<Item = &'a PublicKey>,
) -> Result<VerifiedFile, FormatError> {
    UnverifiedFile::parse(bytes)?.verify_with(trusted)
}
