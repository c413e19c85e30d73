//! The text encoding of an activation file: armor, normalisation, signing and verification.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::FormatError;
use crate::keys::{KeyId, PublicKey, SecretKey};
use crate::model::{Activation, FormatVersion};
use crate::payload;

/// Largest file accepted, in bytes (1 MiB).
pub const MAX_FILE_SIZE: usize = 1024 * 1024;

/// The format name and version this build writes (it reads this and `i3lic-activation/1`).
pub const FORMAT_VERSION: &str = "i3lic-activation/3";

/// First line of every file.
pub const BEGIN_MARKER: &str = "-----BEGIN I3LIC ACTIVATION FILE-----";
/// Line between the signed body and the signature.
pub const SIGNATURE_MARKER: &str = "-----BEGIN I3LIC SIGNATURE-----";
/// Last line of every file.
pub const END_MARKER: &str = "-----END I3LIC ACTIVATION FILE-----";

/// The context string that starts the signed bytes of a version-2 file (format name,
/// version, NUL); see [`signing_context`] for each version.
pub const SIGNING_CONTEXT: &[u8] = b"i3lic-activation/2\0";

/// The domain separator that starts the signed bytes of a file of `version`: the version's
/// name followed by one NUL byte.
pub fn signing_context(version: FormatVersion) -> &'static [u8] {
    match version {
        FormatVersion::V1 => b"i3lic-activation/1\0",
        FormatVersion::V2 => SIGNING_CONTEXT,
        FormatVersion::V3 => b"i3lic-activation/3\0",
    }
}

/// The format name shared by every version (`Format: i3lic-activation/N`).
const FORMAT_NAME: &str = "i3lic-activation/";
/// Raw length of a key id inside the signed bytes.
const KEY_ID_LEN: usize = 8;
/// Length of a 64-byte signature in padded base64.
const SIGNATURE_B64_LEN: usize = 88;
/// Longest signature block accepted (characters of base64, all lines together).
const MAX_SIGNATURE_TEXT: usize = 256;

const FORMAT_HEADER: &str = "Format: ";
/// The versions this build reads, for [`FormatError::UnsupportedVersion`].
const SUPPORTED_VERSIONS: &str = "i3lic-activation/1, i3lic-activation/2 and i3lic-activation/3";
const KEY_ID_HEADER: &str = "Key-Id: ";

/// Bytes the signature covers: `SIGNING_CONTEXT || key id (8 raw bytes) || body`, where the
/// body is every line between the begin marker and the signature marker, each with trailing
/// CR, spaces and tabs removed and terminated by a single LF.
fn signed_bytes(version: FormatVersion, key_id: &KeyId, body_lines: &[&str]) -> Vec<u8> {
    let context = signing_context(version);
    let len: usize = body_lines.iter().map(|l| l.len() + 1).sum();
    let mut out = Vec::with_capacity(context.len() + KEY_ID_LEN + len);
    out.extend_from_slice(context);
    out.extend_from_slice(&key_id.0);
    for l in body_lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

/// Sign an activation as a version-3 file: validate it, write its text form and sign the
/// normalised body. Returns the complete file.
pub fn sign(activation: &Activation, key: &SecretKey) -> Result<String, FormatError> {
    sign_as(activation, key, FormatVersion::V3)
}

/// Sign an activation as a version-2 file, for servers that read only versions 1 and 2.
/// Refused (`InvalidValue`) when a host binds an install key, which version 2 cannot say.
pub fn sign_v2(activation: &Activation, key: &SecretKey) -> Result<String, FormatError> {
    sign_as(activation, key, FormatVersion::V2)
}

/// Sign an activation as a version-1 file, for servers in the field that read only version
/// 1, and for tests of the version-1 reader. Refused (`InvalidValue`) when the activation
/// uses anything version 1 cannot say: an update chain, rules, names without the version-1
/// prefixes.
pub fn sign_v1(activation: &Activation, key: &SecretKey) -> Result<String, FormatError> {
    sign_as(activation, key, FormatVersion::V1)
}

fn sign_as(
    activation: &Activation,
    key: &SecretKey,
    version: FormatVersion,
) -> Result<String, FormatError> {
    activation.validate_for(version)?;
    // The signed bytes are built once, the payload written straight into them, and the file
    // is cut from the same buffer: the writer's JSON has no trailing blanks and no line that
    // looks like a marker or header, so its lines are already normalised.
    let key_id = key.key_id();
    let context = signing_context(version);
    let mut signed = Vec::with_capacity(256 + payload::size_estimate(activation));
    signed.extend_from_slice(context);
    signed.extend_from_slice(&key_id.0);
    let body_start = signed.len();
    signed.extend_from_slice(FORMAT_HEADER.as_bytes());
    signed.extend_from_slice(version.as_str().as_bytes());
    signed.push(b'\n');
    signed.extend_from_slice(KEY_ID_HEADER.as_bytes());
    signed.extend_from_slice(key_id.to_string().as_bytes());
    signed.push(b'\n');
    payload::write_into(&mut signed, activation, version)?;
    signed.push(b'\n');
    let sig = key.sign(&signed);
    let body =
        std::str::from_utf8(&signed[body_start..]).map_err(|e| FormatError::InvalidValue {
            field: "activation".into(),
            reason: e.to_string(),
        })?;
    let mut out = String::with_capacity(body.len() + 200);
    out.push_str(BEGIN_MARKER);
    out.push('\n');
    out.push_str(body);
    out.push_str(SIGNATURE_MARKER);
    out.push('\n');
    STANDARD.encode_string(sig, &mut out);
    out.push('\n');
    out.push_str(END_MARKER);
    out.push('\n');
    Ok(out)
}

/// Sign an arbitrary JSON payload text as a version-3 file; see [`sign_payload_text_as`].
pub fn sign_payload_text(json: &str, key: &SecretKey) -> String {
    sign_payload_text_as(json, key, FormatVersion::V3)
}

/// Sign an arbitrary JSON payload text as a file of `version`. Used by [`sign`]; public so
/// that test vectors (for example a payload with an unknown field) can be produced. A file
/// made this way from a payload that is not a valid [`Activation`] fails verification with a
/// payload error after its signature checks out. Each line of `json` is written (and signed)
/// without its trailing blanks; a payload line that is a marker or starts with `Format: ` or
/// `Key-Id: ` gives a file the parser refuses, which JSON written by [`sign`] never contains.
pub fn sign_payload_text_as(json: &str, key: &SecretKey, version: FormatVersion) -> String {
    let key_id = key.key_id();
    let format_line = format!("{FORMAT_HEADER}{}", version.as_str());
    let key_line = format!("{KEY_ID_HEADER}{key_id}");
    let mut body: Vec<&str> = vec![&format_line, &key_line];
    body.extend(json.lines().map(|l| l.trim_end_matches([' ', '\t', '\r'])));
    let sig = key.sign(&signed_bytes(version, &key_id, &body));
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
    version: FormatVersion,
    key_id: KeyId,
    signed: Vec<u8>,
    payload_offset: usize,
    signature: [u8; 64],
}

/// Remove trailing CR, spaces and tabs: the only normalisation applied to received lines.
fn norm(line: &str) -> &str {
    let end = line
        .as_bytes()
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    // The bytes cut are ASCII, so `end` is a character boundary.
    line.get(..end).unwrap_or(line)
}

/// One line of the input, as split at LF.
struct Line<'a> {
    /// Byte offset of the line's first byte in the input.
    start: usize,
    /// The line without its LF, not normalised.
    raw: &'a str,
    /// Whether it is the last line of the input (the only one a truncation can have cut
    /// short), which has no LF.
    last: bool,
}

/// The input's lines split at LF (found with `memchr`). As an iterator: each line's byte
/// offset (see [`line_number`]), the line normalised, and whether it is the last line.
struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the next line.
    pos: usize,
    done: bool,
}

/// The 1-based number of the line that starts at byte `at` of `text` (only computed for an
/// error message).
fn line_number(text: &str, at: usize) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes().get(..at).unwrap_or_default()).count() + 1
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            pos: 0,
            done: false,
        }
    }

    fn next_line(&mut self) -> Option<Line<'a>> {
        if self.done {
            return None;
        }
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or_default();
        let (raw, last) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                self.pos = start + i + 1;
                (rest.get(..i).unwrap_or_default(), false)
            }
            None => {
                self.done = true;
                self.pos = self.text.len();
                (rest, true)
            }
        };
        Some(Line { start, raw, last })
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (usize, &'a str, bool);

    fn next(&mut self) -> Option<(usize, &'a str, bool)> {
        self.next_line().map(|l| (l.start, norm(l.raw), l.last))
    }
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
        if text
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Err(FormatError::Empty);
        }

        // Each item: (byte offset of the line, normalised line, whether it is the last line
        // of the input). The last line is the only one that can have been cut short.
        let mut lines = Lines::new(text);

        // Leading blank lines, then the begin marker.
        let (_, first, first_last) = loop {
            match lines.next() {
                Some((_, "", _)) => continue,
                Some(x) => break x,
                None => return Err(FormatError::Empty),
            }
        };
        if first != BEGIN_MARKER {
            if first_last && BEGIN_MARKER.starts_with(first) {
                return Err(FormatError::Truncated {
                    expected: "the end of the begin marker",
                });
            }
            return Err(FormatError::MissingSection {
                section: "begin marker (-----BEGIN I3LIC ACTIVATION FILE-----)",
            });
        }

        // Headers: Format first, then Key-Id.
        let (fline, format, format_last) = lines.next().ok_or(FormatError::Truncated {
            expected: "the Format header",
        })?;
        let Some(version) = format.strip_prefix(FORMAT_HEADER) else {
            if format_last && FORMAT_HEADER.starts_with(format) {
                return Err(FormatError::Truncated {
                    expected: "the Format header",
                });
            }
            return Err(FormatError::MissingSection {
                section: "Format header (Format: i3lic-activation/2)",
            });
        };
        let known = [FormatVersion::V3, FormatVersion::V2, FormatVersion::V1]
            .into_iter()
            .find(|v| v.as_str() == version);
        let Some(file_version) = known else {
            if format_last
                && [FormatVersion::V3, FormatVersion::V2, FormatVersion::V1]
                    .iter()
                    .any(|v| v.as_str().starts_with(version))
            {
                return Err(FormatError::Truncated {
                    expected: "the end of the Format header",
                });
            }
            if version.starts_with(FORMAT_NAME) {
                // Unsigned text: escaped, so it cannot carry control characters into a
                // terminal or log line.
                return Err(FormatError::UnsupportedVersion {
                    found: version
                        .chars()
                        .take(64)
                        .collect::<String>()
                        .escape_debug()
                        .to_string(),
                    supported: SUPPORTED_VERSIONS,
                });
            }
            return Err(FormatError::MalformedHeader {
                line: line_number(text, fline),
                reason: format!(
                    "the Format header names '{}', not an i3lic activation file format",
                    version.chars().take(64).collect::<String>().escape_debug()
                ),
            });
        };
        let context = signing_context(file_version);
        let (kline, key_line, key_last) = lines.next().ok_or(FormatError::Truncated {
            expected: "the Key-Id header",
        })?;
        let Some(kid) = key_line.strip_prefix(KEY_ID_HEADER) else {
            if key_last && KEY_ID_HEADER.starts_with(key_line) {
                return Err(FormatError::Truncated {
                    expected: "the Key-Id header",
                });
            }
            if key_line.starts_with(FORMAT_HEADER) {
                return Err(FormatError::DuplicateSection {
                    section: "Format header",
                    line: line_number(text, kline),
                });
            }
            return Err(FormatError::MissingSection {
                section: "Key-Id header",
            });
        };
        let key_id: KeyId = match kid.parse() {
            Ok(k) => k,
            Err(_) if key_last && kid.len() < 16 && kid.bytes().all(|c| c.is_ascii_hexdigit()) => {
                return Err(FormatError::Truncated {
                    expected: "the end of the Key-Id header",
                })
            }
            Err(_) => {
                return Err(FormatError::MalformedHeader {
                    line: line_number(text, kline),
                    reason: format!(
                        "the Key-Id header '{}' is not 16 lower-case hex digits",
                        kid.chars().take(64).collect::<String>().escape_debug()
                    ),
                })
            }
        };

        // Body lines up to the signature marker.
        // The signed bytes are built as the lines are read (no second pass, no re-encoding).
        let mut signed = Vec::with_capacity(context.len() + KEY_ID_LEN + text.len());
        signed.extend_from_slice(context);
        signed.extend_from_slice(&key_id.0);
        for l in [format, key_line] {
            signed.extend_from_slice(l.as_bytes());
            signed.push(b'\n');
        }
        let payload_offset = signed.len();
        let payload_blank = read_payload(text, &mut lines, &mut signed)?;
        if payload_blank {
            return Err(FormatError::MissingSection { section: "payload" });
        }

        // Signature (base64, possibly wrapped over several lines), then the end marker.
        let mut b64 = String::with_capacity(SIGNATURE_B64_LEN);
        let mut ended = false;
        for (n, l, _) in lines.by_ref() {
            match l {
                END_MARKER => {
                    ended = true;
                    break;
                }
                SIGNATURE_MARKER => {
                    return Err(FormatError::DuplicateSection {
                        section: "signature block",
                        line: line_number(text, n),
                    })
                }
                BEGIN_MARKER => {
                    return Err(FormatError::DuplicateSection {
                        section: "begin marker",
                        line: line_number(text, n),
                    })
                }
                _ => {
                    if b64.len() + l.len() > MAX_SIGNATURE_TEXT {
                        return Err(FormatError::MalformedSignature {
                            reason: format!(
                                "the signature block is longer than {MAX_SIGNATURE_TEXT} characters"
                            ),
                        });
                    }
                    b64.push_str(l);
                }
            }
        }
        if !ended {
            return Err(FormatError::Truncated {
                expected: "the end marker",
            });
        }
        for (n, l, _) in lines {
            if !l.is_empty() {
                return Err(if l == BEGIN_MARKER {
                    FormatError::DuplicateSection {
                        section: "begin marker",
                        line: line_number(text, n),
                    }
                } else {
                    FormatError::UnexpectedLine {
                        line: line_number(text, n),
                        reason: "text after the end marker".into(),
                    }
                });
            }
        }
        if b64.is_empty() {
            return Err(FormatError::MissingSection {
                section: "signature",
            });
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

        Ok(UnverifiedFile {
            version: file_version,
            key_id,
            signed,
            payload_offset,
            signature,
        })
    }

    /// The format version named by the file's `Format:` header (covered by the signature).
    pub fn version(&self) -> FormatVersion {
        self.version
    }

    /// What the payload claims, read **without** checking the signature: for support staff
    /// looking at a customer's file (`licverify inspect`), never for deciding anything. The
    /// values pass the same checks as a verified file's; only the signature is not checked,
    /// so anyone could have written them.
    pub fn claims_unverified(&self) -> Result<Activation, FormatError> {
        let payload = self.signed.get(self.payload_offset..).unwrap_or_default();
        payload::parse(payload, self.version)
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
        let payload = self.signed.get(self.payload_offset..).unwrap_or_default();
        let activation = payload::parse(payload, self.version)?;
        Ok(VerifiedFile {
            version: self.version,
            key_id: self.key_id,
            activation,
        })
    }

    /// Check the signature with the trusted key that carries the file's key id. Fails with
    /// [`FormatError::UntrustedKey`] when no trusted key has that id. (Should two trusted keys
    /// ever share an id, each is tried.)
    pub fn verify_with<'a>(
        &self,
        trusted: impl IntoIterator<Item = &'a PublicKey>,
    ) -> Result<VerifiedFile, FormatError> {
        let mut last = None;
        for key in trusted.into_iter().filter(|k| k.key_id() == self.key_id) {
            match self.verify(key) {
                Ok(v) => return Ok(v),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(FormatError::UntrustedKey {
            key_id: self.key_id,
        }))
    }
}

/// Whether the line starting at byte `at` starts with the first byte of a marker or a header
/// (`-`, `F`, `K`), which no payload line (JSON) does.
fn starts_like_armor(bytes: &[u8], at: usize) -> bool {
    matches!(bytes.get(at), Some(b'-' | b'F' | b'K'))
}

/// The start of the first line at or after byte `from` (itself a line start) that starts like
/// a marker or a header ([`starts_like_armor`]), if any.
fn next_armor_line(bytes: &[u8], from: usize) -> Option<usize> {
    if starts_like_armor(bytes, from) {
        return Some(from);
    }
    // Every later line start follows an LF. The signature marker comes first in a file as
    // written; the others are only looked for before it.
    let hay = bytes.get(from..).unwrap_or_default();
    let mut end = memchr::memmem::find(hay, b"\n-").unwrap_or(hay.len());
    for needle in [b"\nF", b"\nK"] {
        if let Some(i) = memchr::memmem::find(hay.get(..end).unwrap_or_default(), needle) {
            end = i;
        }
    }
    (end < hay.len()).then_some(from + end + 1)
}

/// Read the payload lines, from the position of `lines` up to the signature marker, into
/// `signed` (each normalised and ended by one LF), leaving `lines` after the marker. Returns
/// whether every payload line is blank.
///
/// The lines before the next line that starts like a marker or a header are copied in one
/// piece when normalisation leaves them as they are (no CR or tab, no space before an LF:
/// every line of a file as written), else line by line.
fn read_payload(
    text: &str,
    lines: &mut Lines<'_>,
    signed: &mut Vec<u8>,
) -> Result<bool, FormatError> {
    let bytes = text.as_bytes();
    let mut blank = true;
    loop {
        if lines.done {
            break;
        }
        let from = lines.pos;
        let Some(until) = next_armor_line(bytes, from) else {
            // No signature marker in what is left: none of these lines can be one.
            break;
        };
        let run = bytes.get(from..until).unwrap_or_default();
        if memchr::memchr2(b'\r', b'\t', run).is_none()
            && memchr::memmem::find(run, b" \n").is_none()
        {
            signed.extend_from_slice(run);
            blank &= run.iter().all(|&b| b == b'\n');
            lines.pos = until;
        } else {
            while lines.pos < until {
                let Some(line) = lines.next_line() else { break };
                let l = norm(line.raw);
                blank &= l.is_empty();
                signed.extend_from_slice(l.as_bytes());
                signed.push(b'\n');
            }
        }
        let Some(line) = lines.next_line() else { break };
        let l = norm(line.raw);
        match l {
            SIGNATURE_MARKER => return Ok(blank),
            BEGIN_MARKER => {
                return Err(FormatError::DuplicateSection {
                    section: "begin marker",
                    line: line_number(text, line.start),
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
                    line: line_number(text, line.start),
                })
            }
            _ if l.starts_with(KEY_ID_HEADER) => {
                return Err(FormatError::DuplicateSection {
                    section: "Key-Id header",
                    line: line_number(text, line.start),
                })
            }
            _ => {
                blank &= l.is_empty();
                signed.extend_from_slice(l.as_bytes());
                signed.push(b'\n');
            }
        }
    }
    Err(FormatError::Truncated {
        expected: "the signature block",
    })
}

/// A file whose signature was checked by a known key. Only [`UnverifiedFile::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    version: FormatVersion,
    key_id: KeyId,
    activation: Activation,
}

impl VerifiedFile {
    /// The file's format version.
    pub fn version(&self) -> FormatVersion {
        self.version
    }

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
