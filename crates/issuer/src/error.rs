//! The issuer's one error type.

use std::path::PathBuf;

use format::{FormatError, LicenseType};

use crate::catalog::CatalogError;

/// Why an issuer operation was refused or failed. Each variant names what is wrong; match on
/// the variant, not on the message. [`IssuerError::exit_code`] maps each to DESIGN.md's table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// A file or folder could not be read, written or created.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`reading`, `writing`, ...).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file that must not be replaced already exists (keygen without `--force`).
    #[error("{} already exists (use --force to replace it)", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A secret key file readable or writable by group or others.
    #[error("secret key {} has mode {mode:04o}: it must not be accessible to group or others (chmod 600 it)", path.display())]
    KeyTooOpen {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A secret key file owned by another user than the one running the issuer (as OpenSSH
    /// refuses such a key): someone else could replace the key this user signs with.
    #[error("secret key {} is owned by uid {owner}, not by uid {uid} that runs the issuer: a secret key must belong to the user who uses it (chown it, or run as its owner)", path.display())]
    KeyNotOwned {
        /// The key file.
        path: PathBuf,
        /// Its owner's user id.
        owner: u32,
        /// The effective user id running the issuer.
        uid: u32,
    },
    /// A key file whose content is not a key.
    #[error("key file {}: {reason}", path.display())]
    MalformedKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An encrypted secret key that does not open with the passphrase given.
    #[error("secret key {} cannot be decrypted: wrong passphrase, or the file was altered", path.display())]
    KeyDecrypt {
        /// The key file.
        path: PathBuf,
    },
    /// No usable passphrase (no terminal and no `I3LIC_KEY_PASSPHRASE`, empty, or the two
    /// entries differ).
    #[error("passphrase: {reason}")]
    Passphrase {
        /// What is wrong.
        reason: String,
    },
    /// The product catalog is malformed.
    #[error("catalog {source_name}: {error}")]
    Catalog {
        /// `built-in` or the catalog file's path.
        source_name: String,
        /// The first problem found.
        #[source]
        error: CatalogError,
    },
    /// A host-ID code that does not parse.
    #[error("{flag}: {source}")]
    HostId {
        /// Which input held the code (`--host-id`, `--switchover-host-id`).
        flag: &'static str,
        /// Why the code was refused.
        #[source]
        source: hostid::CodeError,
    },
    /// A request code (`licadmin request`) given where a host ID goes, that does not parse.
    #[error("{flag}: {source}")]
    RequestCode {
        /// Which input held the code (`--host-id`, `--switchover-host-id`).
        flag: &'static str,
        /// Why the code was refused.
        #[source]
        source: hostid::RequestCodeError,
    },
    /// A request file, or a request value, that is malformed.
    #[error("request: {reason}")]
    MalformedRequest {
        /// What is wrong.
        reason: String,
    },
    /// A part number the catalog does not know.
    #[error(
        "unknown part number '{part}': it is not in the catalog{}",
        crate::suggest::did_you_mean(suggestions)
    )]
    UnknownPart {
        /// The part number given.
        part: String,
        /// The catalog's closest part numbers ([`crate::suggest::closest`]), perhaps none.
        suggestions: Vec<String>,
    },
    /// A known part used where it does not fit (another product version, not a server item).
    #[error("part {part}: {reason}")]
    PartMismatch {
        /// The part number.
        part: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The request breaks a rule of its license type.
    #[error("{} file: {reason}", license_type.label())]
    Rule {
        /// The license type asked for.
        license_type: LicenseType,
        /// The rule and how the request breaks it.
        reason: String,
    },
    /// The file's license counts break a license rule of the catalog (`requires`,
    /// `implies`, `needs`, or a key's methods): refused before a key is loaded or anything
    /// recorded.
    #[error("license rule {rule}: {detail}")]
    RuleViolated {
        /// The rule as the catalog writes it, with its catalog line.
        rule: String,
        /// The counts and why they break it.
        detail: String,
    },
    /// The activation could not be encoded or signed (a value out of range).
    #[error(transparent)]
    Format(#[from] FormatError),
    /// No such account.
    #[error(
        "unknown account '{name}'{}",
        crate::suggest::did_you_mean(suggestions)
    )]
    UnknownAccount {
        /// The name given.
        name: String,
        /// The closest account names in the ledger, perhaps none.
        suggestions: Vec<String>,
    },
    /// No such install site for the account.
    #[error(
        "account '{account}' has no install site '{name}'{}",
        crate::suggest::did_you_mean(suggestions)
    )]
    UnknownSite {
        /// The account.
        account: String,
        /// The site name given.
        name: String,
        /// The account's closest site names, perhaps none.
        suggestions: Vec<String>,
    },
    /// The install site exists but has been deactivated.
    #[error("install site '{name}' of account '{account}' is inactive")]
    InactiveSite {
        /// The account.
        account: String,
        /// The site.
        name: String,
    },
    /// An account, site or other named record that already exists.
    #[error("{what} '{name}' already exists (names are compared without case)")]
    Duplicate {
        /// What kind of record (`account`, `install site`).
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// No issued file with this id.
    #[error("unknown activation file {id}")]
    UnknownFile {
        /// The id given.
        id: String,
    },
    /// A short file id that several files' ids start with.
    #[error("the id prefix {prefix} is ambiguous: {total} files start with it ({}{}); give more digits", candidates.join(", "), if (*total as usize) > candidates.len() { ", ..." } else { "" })]
    AmbiguousId {
        /// The prefix given.
        prefix: String,
        /// Some of the ids it matches (at most ten), sorted.
        candidates: Vec<String>,
        /// How many ids it matches.
        total: u64,
    },
    /// The file exists but is no longer active.
    #[error("activation file {id} is inactive")]
    InactiveFile {
        /// The file id.
        id: String,
    },
    /// The file was deactivated or superseded, so it cannot be updated or deactivated again.
    #[error("activation file {id} is not active: {reason}")]
    NotActive {
        /// The file id.
        id: String,
        /// How it stopped being active (deactivated when and by whom, or superseded by which file).
        reason: String,
    },
    /// No portal user with this e-mail address.
    #[error("unknown portal user '{email}'")]
    UnknownPortalUser {
        /// The address given.
        email: String,
    },
    /// No live API token with this id.
    #[error("no live API token {id} (unknown or already revoked)")]
    UnknownToken {
        /// The token's id.
        id: i64,
    },
    /// No activation file request with this number.
    #[error("unknown activation file request {number}")]
    UnknownRequest {
        /// The number given.
        number: String,
    },
    /// The request was closed already.
    #[error("activation file request {number} is already closed")]
    RequestClosed {
        /// The request's number.
        number: String,
    },
    /// A request's idempotency key (a form's one-time token, an API request's
    /// `Idempotency-Key`) was used before with another request.
    #[error("the idempotency key '{key}' was already used with another request: send this one with a new key")]
    KeyReused {
        /// The key.
        key: String,
    },
    /// An update that would change nothing.
    #[error("update of {id} changes nothing: give a new host, switchover server, --add, --set, system type or mail connector")]
    NoChange {
        /// The file id.
        id: String,
    },
    /// An upgrade with nothing to move.
    #[error("nothing to upgrade for account '{account}': {reason}")]
    NothingToUpgrade {
        /// The account.
        account: String,
        /// Why (no ordered item with an upgrade option, or a named part not ordered).
        reason: String,
    },
    /// A switchover pair asked for an account with no switchover server item of the
    /// product available (a pair needs one).
    #[error("account '{account}' has no switchover server item of {category} available: a switchover host (--switchover-host-id) needs one (--switchover-part); order one, or leave the switchover host out and add it later")]
    NoSwitchoverItem {
        /// The account.
        account: String,
        /// The product and version (`CIC 4.0`).
        category: String,
    },
    /// More units of a part asked than the account has available.
    #[error("not enough {part} available for account '{account}': asked {asked}, available {available}{note}")]
    NotEnough {
        /// The account.
        account: String,
        /// The part number.
        part: String,
        /// Units asked.
        asked: u64,
        /// Units available.
        available: u64,
        /// Extra detail (for example: only perpetual units count).
        note: String,
    },
    /// A disaster-recovery file asking more than its production file has.
    #[error("disaster recovery counts may not exceed the related production file {production}: {what} asks {asked}, production has {allowed}")]
    ExceedsProduction {
        /// The related production file.
        production: String,
        /// What is compared (a license key's assigned or pooled count, or a part).
        what: String,
        /// Asked by the disaster-recovery file.
        asked: u64,
        /// The production file's count.
        allowed: u64,
    },
    /// An update of a production file would leave an active disaster-recovery file that
    /// points at it with a count above the new file's.
    #[error("disaster recovery file {recovery} has {what} {has}, above the {allowed} of the updated production file: update or deactivate {recovery} first")]
    RecoveryAboveProduction {
        /// The disaster-recovery file.
        recovery: String,
        /// The license key and count compared (`I3_ACCESS_CLIENT assigned`).
        what: String,
        /// Its count in the disaster-recovery file.
        has: u64,
        /// The count in the new production file.
        allowed: u64,
    },
    /// A release receipt that does not verify against the install key the file binds, or
    /// that cannot be read (its exit code is the receipt error's: 10 or 3).
    #[error("release receipt refused for activation file {id}: {source}")]
    ReceiptInvalid {
        /// The file id.
        id: String,
        /// Why.
        source: format::receipt::ReceiptError,
    },
    /// A valid receipt that names another file, lineage or an older generation, or a file
    /// that binds no install key: nothing can be checked against it.
    #[error("release receipt refused for activation file {id}: {reason}")]
    ReceiptNotForFile {
        /// The file id.
        id: String,
        /// What differs.
        reason: String,
    },
    /// A receipt that already returned a file's units (a replay).
    #[error("release receipt refused: it was already used on {at} to return the units of activation file {used_for}; a receipt returns units once")]
    ReceiptUsed {
        /// The file it returned.
        used_for: String,
        /// When.
        at: String,
    },
    /// A production file that active disaster-recovery files still name as their related
    /// production file, deactivated alone: refused, so no recovery file is left pointing at
    /// an inactive production file.
    #[error("production file {id} has active disaster recovery file(s) {} that name it (--related): deactivate them first, or deactivate {id} with --with-recovery to deactivate it and them together", recovery.join(", "))]
    ActiveRecovery {
        /// The production file.
        id: String,
        /// The active disaster-recovery files naming it, in the order they were issued.
        recovery: Vec<String>,
    },
    /// A ledger copy's target already holds records: it is left as it was.
    #[error("ledger {}: not empty (it has {table}); a copy goes only into an empty ledger, which is left untouched otherwise", path.display())]
    NotEmpty {
        /// The target ledger.
        path: PathBuf,
        /// A table holding rows.
        table: &'static str,
    },
    /// A ledger copy whose target is its source.
    #[error("ledger {}: a ledger cannot be copied into itself; give another target", path.display())]
    SameLedger {
        /// The ledger.
        path: PathBuf,
    },
    /// `--out-dir` (one file or a batch) never replaces an existing output file.
    #[error("{} already exists: --out-dir never replaces a file (move it away or choose another --out-dir)", path.display())]
    OutputExists {
        /// The existing file.
        path: PathBuf,
    },
    /// One request of a batch was refused; nothing of the batch was recorded or written.
    #[error("request {position} of {count} (machine '{machine}'): {source}; nothing of the batch was issued")]
    Batch {
        /// The request's position in the batch, counting from 1.
        position: usize,
        /// How many requests the batch holds.
        count: usize,
        /// The request's machine name.
        machine: String,
        /// Why it was refused.
        #[source]
        source: Box<IssuerError>,
    },
    /// A file was issued and its record committed, but writing its output file failed
    /// afterwards: nothing is lost (`issuer download ID` writes the recorded bytes), and
    /// issuing again would use more units.
    #[error("activation file {id} was issued and recorded, but {source}; issuing it again would use more units: `issuer download {id} --out FILE` writes it")]
    RecordedNotWritten {
        /// The recorded file's id.
        id: String,
        /// Why its output file could not be written.
        #[source]
        source: Box<IssuerError>,
    },
    /// The ledger was written by a newer build, or is not a ledger.
    #[error("ledger {}: {reason}", path.display())]
    LedgerFormat {
        /// The ledger file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The ledger's database engine failed.
    #[error("ledger: {0}")]
    Store(#[from] store::Error),
}

impl IssuerError {
    /// The process exit code (DESIGN.md): 2 usage / rule of the license type, 3 malformed
    /// input, 4 I/O, 20 ledger refused, 22 a license rule of the catalog, 1 anything
    /// unexpected.
    pub fn exit_code(&self) -> i32 {
        match self {
            IssuerError::Io { .. } | IssuerError::AlreadyExists { .. } => 4,
            IssuerError::KeyTooOpen { .. } | IssuerError::KeyNotOwned { .. } => 4,
            IssuerError::MalformedKey { .. } | IssuerError::KeyDecrypt { .. } => 3,
            IssuerError::Passphrase { .. } => 2,
            IssuerError::Catalog { .. }
            | IssuerError::HostId { .. }
            | IssuerError::RequestCode { .. }
            | IssuerError::MalformedRequest { .. }
            | IssuerError::UnknownPart { .. }
            | IssuerError::PartMismatch { .. }
            | IssuerError::LedgerFormat { .. } => 3,
            IssuerError::Format(e) => e.exit_code(),
            IssuerError::Rule { .. } | IssuerError::NoChange { .. } => 2,
            IssuerError::KeyReused { .. } => 2,
            IssuerError::AmbiguousId { .. } => 2,
            IssuerError::RuleViolated { .. } => 22,
            IssuerError::UnknownAccount { .. }
            | IssuerError::UnknownSite { .. }
            | IssuerError::InactiveSite { .. }
            | IssuerError::Duplicate { .. }
            | IssuerError::UnknownFile { .. }
            | IssuerError::UnknownPortalUser { .. }
            | IssuerError::UnknownToken { .. }
            | IssuerError::UnknownRequest { .. }
            | IssuerError::RequestClosed { .. }
            | IssuerError::InactiveFile { .. }
            | IssuerError::NotActive { .. }
            | IssuerError::NothingToUpgrade { .. }
            | IssuerError::NotEnough { .. }
            | IssuerError::NoSwitchoverItem { .. }
            | IssuerError::ExceedsProduction { .. }
            | IssuerError::RecoveryAboveProduction { .. }
            | IssuerError::ActiveRecovery { .. }
            | IssuerError::NotEmpty { .. }
            | IssuerError::SameLedger { .. }
            | IssuerError::ReceiptUsed { .. } => 20,
            IssuerError::ReceiptInvalid { source, .. } => source.exit_code(),
            IssuerError::ReceiptNotForFile { .. } => 3,
            IssuerError::OutputExists { .. } => 4,
            IssuerError::Batch { source, .. } => source.exit_code(),
            IssuerError::RecordedNotWritten { source, .. } => source.exit_code(),
            IssuerError::Store(e) => match e.kind() {
                store::ErrorKind::Io => 4,
                store::ErrorKind::Foreign => 3,
                _ => 1,
            },
        }
    }

    /// A stable, machine-readable name of the error (`unknown_account`, `not_enough`, ...):
    /// the variant's name in snake case, as the `kind` of `issuer --json`'s error object.
    /// A batch's failure gives the kind of the request that failed.
    pub fn kind(&self) -> &'static str {
        match self {
            IssuerError::Batch { source, .. } => source.kind(),
            IssuerError::RecordedNotWritten { .. } => "recorded_not_written",
            IssuerError::Io { .. } => "io",
            IssuerError::AlreadyExists { .. } => "already_exists",
            IssuerError::KeyTooOpen { .. } => "key_too_open",
            IssuerError::KeyNotOwned { .. } => "key_not_owned",
            IssuerError::MalformedKey { .. } => "malformed_key",
            IssuerError::KeyDecrypt { .. } => "key_decrypt",
            IssuerError::Passphrase { .. } => "passphrase",
            IssuerError::Catalog { .. } => "catalog",
            IssuerError::HostId { .. } | IssuerError::RequestCode { .. } => "host_id",
            IssuerError::MalformedRequest { .. } => "malformed_request",
            IssuerError::UnknownPart { .. } => "unknown_part",
            IssuerError::PartMismatch { .. } => "part_mismatch",
            IssuerError::Rule { .. } => "rule",
            IssuerError::RuleViolated { .. } => "rule_violated",
            IssuerError::Format(_) => "format",
            IssuerError::UnknownAccount { .. } => "unknown_account",
            IssuerError::UnknownSite { .. } => "unknown_site",
            IssuerError::InactiveSite { .. } => "inactive_site",
            IssuerError::Duplicate { .. } => "duplicate",
            IssuerError::UnknownFile { .. } => "unknown_file",
            IssuerError::UnknownPortalUser { .. } => "unknown_portal_user",
            IssuerError::UnknownToken { .. } => "unknown_token",
            IssuerError::UnknownRequest { .. } => "unknown_request",
            IssuerError::RequestClosed { .. } => "request_closed",
            IssuerError::AmbiguousId { .. } => "ambiguous_id",
            IssuerError::InactiveFile { .. } => "inactive_file",
            IssuerError::NotActive { .. } => "not_active",
            IssuerError::NoChange { .. } => "no_change",
            IssuerError::KeyReused { .. } => "key_reused",
            IssuerError::NothingToUpgrade { .. } => "nothing_to_upgrade",
            IssuerError::NotEnough { .. } => "not_enough",
            IssuerError::NoSwitchoverItem { .. } => "no_switchover_item",
            IssuerError::ExceedsProduction { .. } => "exceeds_production",
            IssuerError::NotEmpty { .. } => "not_empty",
            IssuerError::SameLedger { .. } => "same_ledger",
            IssuerError::RecoveryAboveProduction { .. } => "recovery_above_production",
            IssuerError::ActiveRecovery { .. } => "active_recovery",
            IssuerError::ReceiptInvalid { .. } => "receipt_invalid",
            IssuerError::ReceiptNotForFile { .. } => "receipt_not_for_file",
            IssuerError::ReceiptUsed { .. } => "receipt_used",
            IssuerError::OutputExists { .. } => "output_exists",
            IssuerError::LedgerFormat { .. } => "ledger_format",
            IssuerError::Store(_) => "database",
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        IssuerError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
