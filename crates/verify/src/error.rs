//! The verifier's one error type and its exit codes.

use std::path::PathBuf;

use format::{FileId, FormatError, HostId, KeyId, Timestamp};

/// Why a file was refused, or why a trust store or state file could not be used.
///
/// Each variant carries what a person needs to act (which host was expected and found, when
/// the file expired, which key id is unknown). Match on the variant, not on the message.
/// [`VerifyError::exit_code`] maps each variant to the table in the crate documentation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The file could not be read.
    #[error("cannot read activation file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A path the verifier reads (the activation file, a trusted key, the state file or its
    /// lock file) is not a regular file: a FIFO (opening it would block until a writer
    /// appears), a device (`/dev/zero` never ends), a socket or a folder. Refused before
    /// anything is read from it.
    #[error("{what} {} is not a regular file (it is {file_type})", path.display())]
    NotRegularFile {
        /// Which file (`activation file`, `trusted key`, `state file`, `state lock file`).
        what: &'static str,
        /// The path given.
        path: PathBuf,
        /// What it is instead (`a FIFO (named pipe)`, `a character device`, `a folder`, ...).
        file_type: &'static str,
    },
    /// The file is not a well-formed activation file (size, UTF-8, armor, payload, values).
    #[error("malformed activation file: {0}")]
    Malformed(#[source] FormatError),
    /// The file is of a format version this build does not read.
    #[error("activation file format '{found}' is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// The version the file names.
        found: String,
        /// The version this build reads.
        supported: &'static str,
    },
    /// The file names a signing key that is not in the trust store.
    #[error(
        "the file names key {key_id} as its signer, which is not trusted here (trusted: {})",
        list_keys(trusted)
    )]
    UntrustedKey {
        /// The key id the file names.
        key_id: KeyId,
        /// The key ids of the trust store.
        trusted: Vec<KeyId>,
    },
    /// The signature does not verify under the trusted key the file names: the signed bytes
    /// were changed, or another key made the signature.
    #[error("the signature does not verify under trusted key {key_id}: the file was altered or is not genuine")]
    SignatureInvalid {
        /// The trusted key the signature was checked with.
        key_id: KeyId,
    },
    /// The file licenses another product.
    #[error("the file licenses product '{found}', but this server is '{expected}'")]
    ProductMismatch {
        /// The product the server expects.
        expected: String,
        /// The product in the file.
        found: String,
    },
    /// The file licenses another version of the product.
    #[error(
        "the file licenses {product} version '{found}', but this server is version '{expected}'"
    )]
    VersionMismatch {
        /// The product.
        product: String,
        /// The version the server runs.
        expected: String,
        /// The version in the file.
        found: String,
    },
    /// Neither the primary nor the switchover host of the file matches this machine. When the
    /// file binds a strong host-ID code and the machine was given as a short code, the short
    /// code cannot prove the binding: the message asks for the strong code.
    #[error("the file is for host {primary}{}, but the machine checked has host ID {found}{}", switchover.as_ref().map(|s| format!(" or switchover host {s}")).unwrap_or_default(), if found.form() == hostid::CodeForm::Short && (primary.form() == hostid::CodeForm::Strong || switchover.as_ref().is_some_and(|s| s.form() == hostid::CodeForm::Strong)) { " (the file binds a strong host ID, which a short code cannot prove: check with the strong code, `gethostid --strong`)" } else { "" })]
    HostMismatch {
        /// The host-ID code of the machine checking the file.
        found: Box<HostId>,
        /// The file's primary host.
        primary: Box<HostId>,
        /// The file's switchover host, if any.
        switchover: Option<Box<HostId>>,
    },
    /// This machine's host-ID code could not be read, so the file cannot be bound to it.
    #[error("cannot read this machine's host ID: {0}")]
    HostUnreadable(#[source] hostid::CodeError),
    /// The file expired (and its grace period, if any, is over).
    #[error("the file expired at {expires_at}{}; it is now {now}", if *grace_days > 0 { format!(" and its {grace_days}-day grace period ended at {grace_ends}") } else { String::new() })]
    Expired {
        /// The file's expiry.
        expires_at: Timestamp,
        /// The signed grace period in days (0: none).
        grace_days: u32,
        /// The end of the grace period (equal to `expires_at` without grace).
        grace_ends: Timestamp,
        /// The time the file was checked at.
        now: Timestamp,
    },
    /// The file is not valid yet.
    #[error("the file is not valid before {valid_from}; it is now {now}")]
    NotYetValid {
        /// The file's start of validity.
        valid_from: Timestamp,
        /// The time the file was checked at.
        now: Timestamp,
    },
    /// The clock reads earlier than the file's issuance: the clock is wrong or was set back.
    #[error("the clock reads {now}, earlier than the file's issuance at {issued_at}: the clock is wrong or was set back")]
    ClockBeforeIssuance {
        /// When the file was issued.
        issued_at: Timestamp,
        /// The time the file was checked at.
        now: Timestamp,
    },
    /// The clock reads earlier than the latest time recorded in the state file, by more than
    /// the tolerance.
    #[error("the clock reads {now}, but {latest_seen} was already seen (state file {}); the clock was set back by more than the {} tolerance", path.display(), tolerance_words(*tolerance_secs))]
    ClockSetBack {
        /// The time the file was checked at.
        now: Timestamp,
        /// The latest time recorded.
        latest_seen: Timestamp,
        /// The tolerance in seconds.
        tolerance_secs: i64,
        /// The state file.
        path: PathBuf,
    },
    /// A file older than the newest file already accepted was loaded (rollback).
    #[error("file {file_id} (issued {issued_at}) is older than file {newest_id} (issued {newest_issued_at}) already accepted here; loading an older file is refused")]
    OlderFile {
        /// The file being loaded.
        file_id: FileId,
        /// Its issuance.
        issued_at: Timestamp,
        /// The newest file accepted.
        newest_id: FileId,
        /// Its issuance.
        newest_issued_at: Timestamp,
    },
    /// A version-2 file of a lower generation than one already accepted from its lineage (an
    /// update chain) was loaded, or another file of the same generation: rollback, decided by
    /// generation whatever the clocks say.
    #[error("file {file_id} is generation {generation} of lineage {lineage}, and generation {accepted_generation} (file {accepted_id}) was already accepted here; loading an earlier file of the chain is refused")]
    OlderGeneration {
        /// The file being loaded.
        file_id: FileId,
        /// Its lineage.
        lineage: FileId,
        /// Its generation.
        generation: u32,
        /// The newest generation of that lineage accepted.
        accepted_generation: u32,
        /// The file accepted at that generation.
        accepted_id: FileId,
    },
    /// A file that a newer accepted file superseded was loaded again.
    #[error("file {file_id} was superseded by a file already accepted here; loading it again is refused")]
    Superseded {
        /// The file being loaded.
        file_id: FileId,
    },
    /// The state file exists but is not a valid state file. It is not reset silently.
    #[error("state file {} is corrupt: {reason} (restore it from a backup, or remove it knowingly to start afresh)", path.display())]
    StateCorrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The state file could not be read or written.
    #[error("cannot {action} state file {}: {source}", path.display())]
    StateIo {
        /// `read`, `write` or `lock`.
        action: &'static str,
        /// The state file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Another process (or thread) held the state file's lock for longer than the lock
    /// timeout: it is updating the state and hangs, or was stopped while holding it.
    #[error("state file {} is locked: its lock file {} was not released within {:.1} s (another server or licverify is updating it, or hangs holding it); try again", path.display(), lock_path.display(), waited.as_secs_f64())]
    StateLocked {
        /// The state file.
        path: PathBuf,
        /// The lock file ([`crate::StateFile::lock_path`]).
        lock_path: PathBuf,
        /// How long the lock was waited for.
        waited: std::time::Duration,
    },
    /// A trust store with no key.
    #[error("the trust store holds no key")]
    EmptyTrustStore,
    /// The same key given twice to a trust store.
    #[error("key {key_id} is given twice to the trust store")]
    DuplicateTrustedKey {
        /// The repeated key's id.
        key_id: KeyId,
    },
    /// A trusted key that is not a valid public key.
    #[error("trusted key {index} is not a valid public key: {source}")]
    BadTrustedKey {
        /// 0-based position of the key in the list given.
        index: usize,
        /// Why it was refused.
        #[source]
        source: FormatError,
    },
}

/// `24-hour` for whole hours, else `90-second`: a tolerance under an hour is not `0-hour`.
fn tolerance_words(secs: i64) -> String {
    if secs > 0 && secs % 3600 == 0 {
        format!("{}-hour", secs / 3600)
    } else {
        format!("{secs}-second")
    }
}

fn list_keys(keys: &[KeyId]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Exit code for a file older than, or superseded by, the newest file accepted (state file).
/// An addition to the table in DESIGN.md, which has no code for a rollback.
pub const EXIT_ROLLBACK: i32 = 16;

impl VerifyError {
    /// The process exit code, from the table in DESIGN.md (see the crate documentation):
    /// 3 malformed (file, key, trust store, state file), 4 I/O, 10 signature, 11 untrusted key,
    /// 12 host mismatch, 13 expired, 14 not yet valid or clock earlier (issuance, or set back
    /// against the state file), 15 product or version mismatch, 16 rollback to an older or
    /// superseded file.
    pub fn exit_code(&self) -> i32 {
        match self {
            VerifyError::Malformed(_)
            | VerifyError::UnsupportedVersion { .. }
            | VerifyError::StateCorrupt { .. }
            | VerifyError::EmptyTrustStore
            | VerifyError::DuplicateTrustedKey { .. }
            | VerifyError::BadTrustedKey { .. } => 3,
            VerifyError::Io { .. }
            | VerifyError::NotRegularFile { .. }
            | VerifyError::StateIo { .. }
            | VerifyError::StateLocked { .. } => 4,
            VerifyError::SignatureInvalid { .. } => 10,
            VerifyError::UntrustedKey { .. } => 11,
            VerifyError::HostMismatch { .. } | VerifyError::HostUnreadable(_) => 12,
            VerifyError::Expired { .. } => 13,
            VerifyError::NotYetValid { .. }
            | VerifyError::ClockBeforeIssuance { .. }
            | VerifyError::ClockSetBack { .. } => 14,
            VerifyError::ProductMismatch { .. } | VerifyError::VersionMismatch { .. } => 15,
            VerifyError::OlderFile { .. }
            | VerifyError::OlderGeneration { .. }
            | VerifyError::Superseded { .. } => EXIT_ROLLBACK,
        }
    }

    /// A stable short name for the variant (`expired`, `host-mismatch`, ...), used in
    /// `licverify --json` and in tracing events.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Io { .. } => "io",
            VerifyError::NotRegularFile { .. } => "not-regular-file",
            VerifyError::Malformed(_) => "malformed",
            VerifyError::UnsupportedVersion { .. } => "unsupported-version",
            VerifyError::UntrustedKey { .. } => "untrusted-key",
            VerifyError::SignatureInvalid { .. } => "signature-invalid",
            VerifyError::ProductMismatch { .. } => "product-mismatch",
            VerifyError::VersionMismatch { .. } => "version-mismatch",
            VerifyError::HostMismatch { .. } => "host-mismatch",
            VerifyError::HostUnreadable(_) => "host-unreadable",
            VerifyError::Expired { .. } => "expired",
            VerifyError::NotYetValid { .. } => "not-yet-valid",
            VerifyError::ClockBeforeIssuance { .. } => "clock-before-issuance",
            VerifyError::ClockSetBack { .. } => "clock-set-back",
            VerifyError::OlderFile { .. } => "older-file",
            VerifyError::OlderGeneration { .. } => "older-generation",
            VerifyError::Superseded { .. } => "superseded",
            VerifyError::StateCorrupt { .. } => "state-corrupt",
            VerifyError::StateIo { .. } => "state-io",
            VerifyError::StateLocked { .. } => "state-locked",
            VerifyError::EmptyTrustStore => "empty-trust-store",
            VerifyError::DuplicateTrustedKey { .. } => "duplicate-trusted-key",
            VerifyError::BadTrustedKey { .. } => "bad-trusted-key",
        }
    }
}

/// Sort a format-crate error into the verifier's variants.
pub(crate) fn from_format(e: FormatError) -> VerifyError {
    match e {
        FormatError::SignatureInvalid { key_id } => VerifyError::SignatureInvalid { key_id },
        FormatError::KeyIdMismatch { key, .. } => VerifyError::SignatureInvalid { key_id: key },
        FormatError::UnsupportedVersion { found, supported } => {
            VerifyError::UnsupportedVersion { found, supported }
        }
        other => VerifyError::Malformed(other),
    }
}
