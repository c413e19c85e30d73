//! The records a ledger copy carries, one type per table of the schema, in domain terms
//! (no engine type): what [`Ledger::for_each_record`](crate::Ledger::for_each_record) reads
//! and [`Ledger::receive_copy`](crate::Ledger::receive_copy) writes.

use crate::ledger::SiteDetails;

/// An account, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// Its id (sites, order lines, files and requests name it).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether it is active.
    pub active: bool,
    /// When it was added (Unix seconds).
    pub created_at: i64,
    /// Deactivations a year without receipt whose units return at once (schema 6).
    pub rehosts_per_year: i64,
}

/// A deactivation recorded from schema 6 on: how the file's units came back, or pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeactivationRecord {
    /// The file's sequence number.
    pub file_seq: i64,
    /// Its account's id.
    pub account_id: i64,
    /// When it was deactivated.
    pub at: i64,
    /// Who deactivated it.
    pub actor: String,
    /// `pending`, `receipt`, `allowance` or `approved`.
    pub how: String,
    /// When its units came back.
    pub resolved_at: Option<i64>,
    /// Who returned them.
    pub resolved_by: Option<String>,
    /// SHA-256 of the receipt that returned them.
    pub receipt_sha256: Option<Vec<u8>>,
}

/// An install site, with its details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRecord {
    /// Its id (files name it).
    pub id: i64,
    /// Its account's id.
    pub account_id: i64,
    /// Its name.
    pub name: String,
    /// Address and details; the address always has three lines, empty ones included.
    pub details: SiteDetails,
    /// Whether files may be issued to it.
    pub active: bool,
    /// When it was added.
    pub created_at: i64,
}

/// An order line with its counter of used units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// Its id (usage rows and other lines name it).
    pub id: i64,
    /// Its account's id.
    pub account_id: i64,
    /// Part number.
    pub part: String,
    /// Units ordered.
    pub quantity: i64,
    /// Units used by active files.
    pub used: i64,
    /// Whether its units may go into perpetual files.
    pub perpetual: bool,
    /// Whether it is a mirrored line.
    pub mirrored: bool,
    /// Whether it is current (an upgrade retires it).
    pub active: bool,
    /// The line an upgrade made this one from.
    pub upgraded_from: Option<i64>,
    /// The server line whose included item this is.
    pub included_with: Option<i64>,
    /// When it was added.
    pub added_at: i64,
    /// Who added it.
    pub added_by: String,
}

/// An issued file: every column the ledger keeps, its exact bytes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Its sequence number (usage, licenses and other files name it).
    pub seq: i64,
    /// The file id.
    pub id: String,
    /// Account id.
    pub account_id: i64,
    /// Site id.
    pub site_id: i64,
    /// License type.
    pub license_type: String,
    /// Product.
    pub product: String,
    /// Version.
    pub version: String,
    /// Server part.
    pub server_part: String,
    /// Primary host id.
    pub primary_host: String,
    /// Primary machine name.
    pub primary_machine: String,
    /// Switchover host id.
    pub switchover_host: Option<String>,
    /// Switchover machine name.
    pub switchover_machine: Option<String>,
    /// System type.
    pub system_type: String,
    /// Mail connector.
    pub mail_connector: String,
    /// Who generated it.
    pub generated_by: String,
    /// Whether it is a partner file.
    pub partner: bool,
    /// When it was generated.
    pub generated_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// Whether it is active.
    pub active: bool,
    /// The file it replaced.
    pub supersedes: Option<i64>,
    /// The production file a related file belongs to.
    pub related_production: Option<i64>,
    /// When it was deactivated.
    pub deactivated_at: Option<i64>,
    /// Who deactivated it.
    pub deactivated_by: Option<String>,
    /// The signing key's id.
    pub key_id: String,
    /// SHA-256 of the bytes, as kept.
    pub sha256: String,
    /// The exact bytes handed out.
    pub bytes: Vec<u8>,
    /// The signed payload as JSON (absent for files recorded by schema 1).
    pub activation: Option<String>,
}

/// A portal user with their hash, role and sessions epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalUserRecord {
    /// Its id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Role (`staff`, `customer`, `partner`).
    pub role: String,
    /// Whether certified.
    pub certified: bool,
    /// The password hash, as kept.
    pub password_hash: String,
    /// Whether the user may sign in.
    pub active: bool,
    /// When added.
    pub created_at: i64,
    /// Sessions started before this epoch are over.
    pub sessions_epoch: i64,
}

/// An API token: only its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its id.
    pub id: i64,
    /// The user's id.
    pub user_id: i64,
    /// SHA-256 of the token.
    pub digest: Vec<u8>,
    /// Label.
    pub label: String,
    /// When created.
    pub created_at: i64,
    /// When revoked.
    pub revoked_at: Option<i64>,
}

/// An activation file request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    /// Its id (its number).
    pub id: i64,
    /// Account id.
    pub account_id: i64,
    /// Who asked.
    pub requested_by: String,
    /// Request type.
    pub request_type: String,
    /// Category.
    pub category: String,
    /// File type.
    pub file_type: String,
    /// Subject.
    pub subject: String,
    /// Description.
    pub description: String,
    /// Whether urgent.
    pub urgent: bool,
    /// Date needed.
    pub date_needed: String,
    /// Why that date.
    pub date_reason: String,
    /// Host id.
    pub host_id: String,
    /// Backup host id.
    pub backup_host_id: String,
    /// Contact name, e-mail, deployment and implementation types, SO# or PO# (schema 8).
    pub details: [String; 5],
    /// `open` or `closed`.
    pub status: String,
    /// The answer.
    pub answer: Option<String>,
    /// Who closed it.
    pub closed_by: Option<String>,
    /// When closed.
    pub closed_at: Option<i64>,
    /// When made.
    pub created_at: i64,
}

/// An attachment of a request, with its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    /// The request's id.
    pub request_id: i64,
    /// Its position among the request's attachments.
    pub position: i64,
    /// File name.
    pub name: String,
    /// Content type.
    pub content_type: String,
    /// SHA-256 of the bytes, as kept.
    pub sha256: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An audit row, verbatim: the chain's hashes are carried, not recomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Sequence number.
    pub seq: i64,
    /// When (Unix seconds).
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// The state before, as kept.
    pub before: Option<String>,
    /// The state after, as kept.
    pub after: Option<String>,
    /// The previous row's hash.
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

/// One record of a ledger, as `Ledger::for_each_record` streams it and
/// `Ledger::receive_copy` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An account.
    Account(AccountRecord),
    /// An install site.
    Site(SiteRecord),
    /// An order line.
    Order(OrderRecord),
    /// An issued file.
    File(Box<FileRecord>),
    /// Units of an order line a file uses.
    FileUsage {
        /// The file's sequence number.
        file_seq: i64,
        /// The order line's id.
        order_id: i64,
        /// Units.
        quantity: i64,
    },
    /// A license a file grants.
    FileLicense {
        /// The file's sequence number.
        file_seq: i64,
        /// License name.
        name: String,
        /// Assigned count.
        assigned: i64,
        /// Pooled count.
        pooled: i64,
    },
    /// An audit row, verbatim (its hashes included).
    Audit(AuditRecord),
    /// A portal user.
    PortalUser(PortalUserRecord),
    /// An account a portal user may see.
    PortalUserAccount {
        /// The user's id.
        user_id: i64,
        /// The account's id.
        account_id: i64,
    },
    /// An API token.
    Token(TokenRecord),
    /// An activation file request.
    Request(Box<RequestRow>),
    /// A request's attachment.
    Attachment(AttachmentRow),
    /// A deactivation (schema 6).
    Deactivation(DeactivationRecord),
}

/// How many records of each kind a ledger holds (for progress).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecordCounts {
    /// Issued files.
    pub files: u64,
    /// Every record, files included.
    pub records: u64,
}
