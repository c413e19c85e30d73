//! The one error type of the crate, each variant with its exit code and a stable kind.

use std::path::PathBuf;

use verify::VerifyError;

use crate::model::{ComplianceEvent, Pool};

/// What kind of thing an unknown name named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// A user.
    User,
    /// A station.
    Station,
    /// An organization.
    Organization,
    /// A session (ended, lapsed or never started).
    Session,
    /// A license server's bearer token.
    Token,
    /// A license key the loaded file does not grant.
    LicenseKey,
    /// A checkout of a session license (returned, lapsed or never made).
    Checkout,
    /// An ACD workgroup.
    Workgroup,
}

impl Entity {
    /// `user`, `station`, `organization`, `session`, `token`, `license key`, `checkout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Station => "station",
            Entity::Organization => "organization",
            Entity::Session => "session",
            Entity::Token => "token",
            Entity::LicenseKey => "license key",
            Entity::Checkout => "checkout",
            Entity::Workgroup => "workgroup",
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which license rule refused an allocation or logon (exit 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The key may not be held by this kind of holder (a user, a station).
    Holder,
    /// The key may not be allocated by the holder's method (stations: assignable only).
    Method,
    /// Holding the key needs holding one of a set of other keys.
    Requires,
    /// The key comes with another key the holder holds and cannot be removed alone.
    Implies,
    /// The key may not be held together with another key the holder holds.
    Excludes,
    /// A logon at a station needs the station's licensing enabled and a Basic Station license.
    Station,
    /// A logon at a station needs Client Access or ACD Access on the user or the station.
    Access,
    /// An organization limit that cannot be set (minimum above maximum, above the license).
    Limit,
    /// The user's licensing (Enable Licenses) is off: its license settings are ignored.
    Licensing,
    /// The user lacks a right the operation needs (a dynamic remote logon: "User-defined
    /// Telephone Number on Remote Login").
    Right,
}

impl RuleKind {
    /// The stable name (`holder`, `method`, `requires`, `implies`, `excludes`, `station`,
    /// `access`, `limit`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Holder => "holder",
            RuleKind::Method => "method",
            RuleKind::Requires => "requires",
            RuleKind::Implies => "implies",
            RuleKind::Excludes => "excludes",
            RuleKind::Station => "station",
            RuleKind::Access => "access",
            RuleKind::Limit => "limit",
            RuleKind::Licensing => "licensing",
            RuleKind::Right => "right",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong, each variant with one exit code ([`AllocError::exit_code`])
/// and a stable short name ([`AllocError::kind`]). A refused operation changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AllocError {
    /// A name (user, station, organization) or a license key that is not valid.
    #[error("{what} {value:?} is not valid: {reason}")]
    InvalidName {
        /// What the name names (`user name`, `license key`, ...).
        what: &'static str,
        /// The name given (control characters escaped when shown).
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// Another input that is not valid (a lease, a phone number, a session id, a limit).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// A user, station or organization of that name exists already.
    #[error("{what} '{name}' already exists")]
    AlreadyExists {
        /// What kind of thing.
        what: Entity,
        /// Its name.
        name: String,
    },
    /// A file could not be read, or the store's folder or file could not be created.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The store's database failed (locked for longer than the busy timeout, disk full, ...).
    #[error("allocation store: {0}")]
    Store(#[from] store::Error),
    /// The file at the store path is not an allocation store (another program's database,
    /// a newer schema, or damaged). It is left as it is.
    #[error("{} is not a usable allocation store: {reason}", path.display())]
    NotAStore {
        /// The store path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The activation file was refused (signature, key, host, product, validity, rollback);
    /// on `load` the previous license stays.
    #[error("activation file refused: {0}")]
    License(#[from] VerifyError),
    /// The clock reads more than the tolerance (24 hours) earlier than the latest time the
    /// store saw: it was set back. The license is not used until it is right again.
    #[error("the clock reads {now}, but {latest_seen} was already seen by store {}; the clock was set back by more than the {} tolerance", path.display(), tolerance_words(*tolerance_secs))]
    ClockSetBack {
        /// The time now.
        now: String,
        /// The latest time the store saw.
        latest_seen: String,
        /// The tolerance in seconds.
        tolerance_secs: i64,
        /// The store.
        path: PathBuf,
    },
    /// The file does not name a host the store serves (recorded when the store was first
    /// loaded; `licadmin store retarget` changes it).
    #[error("the file names host(s) {}, but this store serves host {store_host} (recorded when it was first loaded; an administrator changes it with `licadmin store retarget`)", file_hosts.join(", "))]
    StoreHostMismatch {
        /// The host the store serves that the file does not name.
        store_host: String,
        /// The hosts the file names.
        file_hosts: Vec<String>,
    },
    /// The file is signed by a key the store does not trust (recorded when the store was
    /// first loaded; `licadmin store retarget` changes it).
    #[error("the file is signed by key {key_id}, which this store does not trust (it trusts {}; an administrator changes that with `licadmin store retarget`)", trusted.join(", "))]
    StoreUntrustedKey {
        /// The key that signed the file.
        key_id: String,
        /// The keys the store trusts.
        trusted: Vec<String>,
    },
    /// A file of a lineage this store released (`licadmin release`): refused for good, as a
    /// rollback.
    #[error("this store released lineage {lineage} (file {file_id}) at {released_at}; no file of it is loaded again (a released file stays released: ask the vendor for a new file)")]
    Released {
        /// The released lineage.
        lineage: String,
        /// The file that was released.
        file_id: String,
        /// When.
        released_at: String,
    },
    /// No activation file has been loaded into this store yet.
    #[error("no activation file is loaded in this store (load one with `licadmin load FILE`)")]
    NoLicenseLoaded,
    /// A user, station, organization or session that does not exist; a license key the
    /// loaded file does not grant reads `not in the loaded license: KEY`.
    #[error("{}", unknown_words(*what, name))]
    Unknown {
        /// What kind of thing.
        what: Entity,
        /// The name (or session id) given.
        name: String,
    },
    /// Deallocating a key the holder does not hold.
    #[error("{holder} does not hold {key}")]
    NotAllocated {
        /// `user 'alice'`, `station 'st1'`.
        holder: String,
        /// The key.
        key: String,
    },
    /// No license of the key is left (assignable exhausted, pool in use, or the key is out
    /// of compliance after a smaller file was loaded). A dynamic remote logon refused for
    /// want of a Basic Station reads as the seed's "no stations are available".
    #[error("{}", no_license_words(key, *pool, *licensed, *in_use, *out_of_compliance))]
    NoLicenseAvailable {
        /// The key.
        key: String,
        /// Which count was exhausted.
        pool: Pool,
        /// The count the file grants.
        licensed: u32,
        /// The count allocated or in use.
        in_use: u32,
        /// Whether more are in use than licensed (after loading a smaller file).
        out_of_compliance: bool,
    },
    /// The loaded file does not grant the key at all (rather than "0 licensed").
    #[error("not in the loaded license: {key}")]
    NotLicensed {
        /// The key.
        key: String,
    },
    /// A key that comes with another (an implies rule) was refused: the message names the
    /// key asked for as well as the one refused.
    #[error("{key} (implied by {by}): {source}")]
    Implied {
        /// The key refused.
        key: String,
        /// The key asked for that implies it.
        by: String,
        /// Why it was refused.
        source: Box<AllocError>,
    },
    /// The organization has reached its maximum for the key.
    #[error("organization '{org}' has reached its maximum of {max} {key} license(s)")]
    OrganizationCap {
        /// The organization.
        org: String,
        /// The key.
        key: String,
        /// Its maximum.
        max: u32,
    },
    /// The licenses left of the key are reserved for organizations' minimums.
    #[error("the {free} {key} license(s) left are reserved for organizations' minimums ({reserved} reserved)")]
    Reserved {
        /// The key.
        key: String,
        /// How many are reserved and not yet used by their organizations.
        reserved: u32,
        /// How many are free in all.
        free: u32,
    },
    /// As many organizations exist as the organization license allows.
    #[error("the license allows {licensed} organization(s) ({key}) and {existing} exist")]
    OrganizationsExhausted {
        /// The organization license key.
        key: &'static str,
        /// The count licensed.
        licensed: u32,
        /// The organizations that exist.
        existing: u32,
    },
    /// Another user is logged on at the station and holds its licenses.
    #[error("station '{station}' is in use: user '{user}' is logged on there")]
    StationInUse {
        /// The station.
        station: String,
        /// The user logged on there.
        user: String,
    },
    /// The license is in use by a live session (the station's session, or the assignable
    /// user's): taking it away would let it be allocated again while the session goes on.
    #[error("{holder}: {key} is in use by session {session} of user '{user}': log the session off first, or force the change to end it")]
    InUse {
        /// `user 'alice'`, `station 'st1'`.
        holder: String,
        /// The key.
        key: String,
        /// The session's id.
        session: String,
        /// The user logged on.
        user: String,
    },
    /// A license rule refused the operation.
    #[error("{holder}: {detail} ({rule} rule)")]
    Rule {
        /// Which rule.
        rule: RuleKind,
        /// `user 'alice'`, `station 'st1'`, `organization 'o'`.
        holder: String,
        /// The key concerned.
        key: String,
        /// What is wrong, in words.
        detail: String,
    },
    /// An organization cannot be removed while users belong to it.
    #[error("organization '{org}' has {count} user(s): {}{}; remove them (or add them again without --org) first", users.join(", "), if *count > users.len() { ", ..." } else { "" })]
    OrganizationInUse {
        /// The organization.
        org: String,
        /// How many users belong to it.
        count: usize,
        /// The users that belong to it (the first 20, by name).
        users: Vec<String>,
    },
    /// An error at one line (and column) of an imported file: nothing was imported.
    #[error("line {line}{}: {source}; nothing was imported", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    AtLine {
        /// The line (1 is the header).
        line: u64,
        /// The column's name, when one column is at fault.
        column: Option<String>,
        /// What is wrong there.
        source: Box<AllocError>,
    },
    /// The compliance check found exceeded licenses (`licadmin compliance`).
    #[error("out of compliance: {}", events.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    OutOfCompliance {
        /// One event per exceeded license.
        events: Vec<ComplianceEvent>,
    },
    /// The consistency check found a broken invariant (never expected).
    #[error("inconsistent store: {}", problems.join("; "))]
    Inconsistent {
        /// Each broken invariant.
        problems: Vec<String>,
    },
    /// A store copy's target already holds something: it is left as it was.
    #[error("store {target}: not empty (it has {table}); a copy goes only into an empty store, which is left untouched otherwise")]
    NotEmpty {
        /// The target (a URL without its password).
        target: String,
        /// A table that holds rows.
        table: &'static str,
    },
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AllocError {
    /// The process exit code (DESIGN.md): 3 malformed input, 4 I/O, 10-16 the activation
    /// file refused (as `licverify`; 11 and 12 also by the store's identity, 14 a clock set
    /// back behind the store's latest time seen, 16 a rollback against its history), 20 unknown user / station / organization / session,
    /// 21 no license available (none left, the key not in the loaded license, or no file
    /// loaded at all: each with its own kind and words), 22 a license rule, 23 out of compliance, 24 a store copy's
    /// target not empty, 1 internal.
    pub fn exit_code(&self) -> i32 {
        match self {
            AllocError::InvalidName { .. }
            | AllocError::InvalidInput { .. }
            | AllocError::AlreadyExists { .. }
            | AllocError::NotAStore { .. } => 3,
            AllocError::Io { .. } | AllocError::Store(_) => 4,
            AllocError::License(e) => e.exit_code(),
            AllocError::StoreUntrustedKey { .. } => 11,
            AllocError::StoreHostMismatch { .. } => 12,
            AllocError::ClockSetBack { .. } => 14,
            AllocError::Released { .. } => 16,
            AllocError::Unknown { .. } | AllocError::NotAllocated { .. } => 20,
            AllocError::NoLicenseLoaded
            | AllocError::NoLicenseAvailable { .. }
            | AllocError::NotLicensed { .. }
            | AllocError::OrganizationCap { .. }
            | AllocError::Reserved { .. }
            | AllocError::OrganizationsExhausted { .. }
            | AllocError::StationInUse { .. }
            | AllocError::InUse { .. }
            | AllocError::OrganizationInUse { .. } => 21,
            AllocError::AtLine { source, .. } | AllocError::Implied { source, .. } => {
                source.exit_code()
            }
            AllocError::Rule { .. } => 22,
            AllocError::OutOfCompliance { .. } => 23,
            AllocError::NotEmpty { .. } => 24,
            AllocError::Inconsistent { .. } | AllocError::Internal(_) => 1,
        }
    }

    /// A stable short name for the error (`unknown-user`, `no-license-available`,
    /// `rule-excludes`, ...), used in `--json` output; for a refused file, the verifier's
    /// kind (`expired`, `host-mismatch`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            AllocError::InvalidName { .. } => "invalid-name",
            AllocError::InvalidInput { .. } => "invalid-input",
            AllocError::AlreadyExists { .. } => "already-exists",
            AllocError::Io { .. } => "io",
            AllocError::Store(_) => "store",
            AllocError::NotAStore { .. } => "not-a-store",
            AllocError::License(e) => e.kind(),
            AllocError::ClockSetBack { .. } => "clock-set-back",
            AllocError::StoreHostMismatch { .. } => "store-host-mismatch",
            AllocError::StoreUntrustedKey { .. } => "store-untrusted-key",
            AllocError::NoLicenseLoaded => "no-license-loaded",
            AllocError::Released { .. } => "released",
            AllocError::Unknown { what, .. } => match what {
                Entity::User => "unknown-user",
                Entity::Station => "unknown-station",
                Entity::Organization => "unknown-organization",
                Entity::Session => "unknown-session",
                Entity::Token => "unknown-token",
                Entity::LicenseKey => "unknown-license-key",
                Entity::Checkout => "unknown-checkout",
                Entity::Workgroup => "unknown-workgroup",
            },
            AllocError::NotAllocated { .. } => "not-allocated",
            AllocError::NoLicenseAvailable {
                out_of_compliance: true,
                ..
            } => "out-of-compliance",
            AllocError::NoLicenseAvailable { .. } => "no-license-available",
            AllocError::NotLicensed { .. } => "not-licensed",
            AllocError::OrganizationCap { .. } => "organization-cap",
            AllocError::Reserved { .. } => "reserved",
            AllocError::OrganizationsExhausted { .. } => "organizations-exhausted",
            AllocError::StationInUse { .. } => "station-in-use",
            AllocError::InUse { .. } => "in-use",
            AllocError::Rule { rule, .. } => match rule {
                RuleKind::Holder => "rule-holder",
                RuleKind::Method => "rule-method",
                RuleKind::Requires => "rule-requires",
                RuleKind::Implies => "rule-implies",
                RuleKind::Excludes => "rule-excludes",
                RuleKind::Station => "rule-station",
                RuleKind::Access => "rule-access",
                RuleKind::Limit => "rule-limit",
                RuleKind::Licensing => "rule-licensing",
                RuleKind::Right => "rule-right",
            },
            AllocError::OrganizationInUse { .. } => "organization-in-use",
            AllocError::AtLine { source, .. } | AllocError::Implied { source, .. } => source.kind(),
            AllocError::OutOfCompliance { .. } => "out-of-compliance",
            AllocError::NotEmpty { .. } => "not-empty",
            AllocError::Inconsistent { .. } => "inconsistent",
            AllocError::Internal(_) => "internal",
        }
    }

    /// The rule that refused the operation, for [`AllocError::Rule`].
    pub fn rule(&self) -> Option<RuleKind> {
        match self {
            AllocError::Rule { rule, .. } => Some(*rule),
            AllocError::AtLine { source, .. } | AllocError::Implied { source, .. } => source.rule(),
            _ => None,
        }
    }
}

/// `unknown user 'alice'`; a license key: `not in the loaded license: KEY`.
fn unknown_words(what: Entity, name: &str) -> String {
    match what {
        Entity::LicenseKey => format!("not in the loaded license: {name}"),
        _ => format!("unknown {what} '{name}'"),
    }
}

/// `no assignable license of KEY available: 2 licensed, 2 in use`; for the Basic Station
/// pool of dynamic remote logons, the seed's words: "no stations are available".
fn no_license_words(key: &str, pool: Pool, licensed: u32, in_use: u32, ooc: bool) -> String {
    let compliance = if ooc {
        format!(
            " (out of compliance by {}: new allocations are refused until it is back within the license)",
            in_use.saturating_sub(licensed)
        )
    } else {
        String::new()
    };
    // Only a dynamic remote logon draws Basic Station from the pooled count.
    if key == crate::model::BASIC_STATION && pool == Pool::Concurrent {
        if licensed == 0 {
            return format!(
                "no stations are available for a dynamic remote logon: the loaded license pools no Basic Station license ({key}) for them, and no assignable one is free for it{compliance}"
            );
        }
        return format!(
            "no stations are available for a dynamic remote logon: {in_use} of the {licensed} pooled Basic Station license(s) ({key}) are in use, and no assignable one is free for it{compliance}"
        );
    }
    format!(
        "no {pool} license of {key} available: {licensed} licensed, {in_use} in use{compliance}"
    )
}

/// `24-hour`, `90-second` (as `verify` words it).
fn tolerance_words(secs: i64) -> String {
    if secs > 0 && secs % 3600 == 0 {
        format!("{}-hour", secs / 3600)
    } else {
        format!("{secs}-second")
    }
}
