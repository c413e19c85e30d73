//! The format crate's one error type.

use crate::keys::KeyId;

/// Why a file, key or value was refused. Each variant names what is wrong; match on the
/// variant, not on the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input has no bytes (or only blank lines).
    #[error("the activation file is empty")]
    Empty,
    /// Larger than [`crate::MAX_FILE_SIZE`].
    #[error("the activation file is {size} bytes; at most {max} are accepted")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid UTF-8.
    #[error("the activation file is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The file ends before the named section or marker.
    #[error("the activation file is truncated: it ends before {expected}")]
    Truncated {
        /// What was expected next.
        expected: &'static str,
    },
    /// A required section or header is absent.
    #[error("the activation file has no {section}")]
    MissingSection {
        /// The missing section.
        section: &'static str,
    },
    /// A section or header appears twice.
    #[error("the activation file has a second {section} at line {line}")]
    DuplicateSection {
        /// The repeated section.
        section: &'static str,
        /// 1-based line of the repetition.
        line: usize,
    },
    /// A line that does not belong where it is.
    #[error("line {line} of the activation file is unexpected: {reason}")]
    UnexpectedLine {
        /// 1-based line number.
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// A format version this build does not read.
    #[error("activation file format '{found}' is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The version string found (at most 64 characters, control characters escaped).
        found: String,
        /// The version this build reads.
        supported: &'static str,
    },
    /// A header line with a malformed value.
    #[error("line {line}: {reason}")]
    MalformedHeader {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// The signature block is not 64 bytes of base64.
    #[error("the signature block is not a base64 ed25519 signature: {reason}")]
    MalformedSignature {
        /// What was wrong.
        reason: String,
    },
    /// The file names a key id other than the key it was checked with.
    #[error("the file was signed by key {file}, not by key {key}")]
    KeyIdMismatch {
        /// Key id named by the file.
        file: KeyId,
        /// Key id of the key given.
        key: KeyId,
    },
    /// The file names a key that is not in the trust store.
    #[error("the file was signed by key {key_id}, which is not trusted here")]
    UntrustedKey {
        /// Key id named by the file.
        key_id: KeyId,
    },
    /// The signature does not verify: the signed bytes were changed or another key signed.
    #[error("the signature does not match the file's contents (signed by key {key_id}): the file was altered or is not genuine")]
    SignatureInvalid {
        /// Key id the signature was checked against.
        key_id: KeyId,
    },
    /// The signed payload has a field this version does not define (see the unknown-field policy).
    #[error("the signed payload has an unknown field '{field}' (fields are only added with a new format version)")]
    UnknownField {
        /// The field's name.
        field: String,
    },
    /// A field appears twice in the signed payload.
    #[error("the signed payload has the field '{field}' twice")]
    DuplicateField {
        /// The field's name.
        field: String,
    },
    /// A field the format version requires is absent from the signed payload (optional values
    /// are written as `null`, never left out).
    #[error("the signed payload has no field '{field}'")]
    MissingField {
        /// The field's name.
        field: String,
    },
    /// The signed payload is not valid JSON of the expected shape.
    #[error("the signed payload is malformed at line {line}, column {column}: {reason}")]
    MalformedPayload {
        /// 1-based line within the payload block.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's reason.
        reason: String,
    },
    /// A value outside its allowed range or shape.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The field or value kind.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A key file that is not a key of the expected kind.
    #[error("malformed {kind} key: {reason}")]
    MalformedKey {
        /// `public` or `secret`.
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl FormatError {
    /// The process exit code for this error, from the table in DESIGN.md: 3 for malformed
    /// input, 10 for a signature that does not verify, 11 for an untrusted key.
    pub fn exit_code(&self) -> i32 {
        match self {
            FormatError::SignatureInvalid { .. } | FormatError::KeyIdMismatch { .. } => 10,
            FormatError::UntrustedKey { .. } => 11,
            _ => 3,
        }
    }
}
