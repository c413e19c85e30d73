//! The values the allocator takes and returns.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use serde::Serialize;

pub use format::Method;

use crate::error::AllocError;

/// The longest user, station or organization name, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// The default session lease: a session not renewed by a heartbeat within this many seconds
/// lapses and its licenses come back.
pub const DEFAULT_LEASE_SECS: u32 = 600;
/// The longest lease a logon may ask for (a day).
pub const MAX_LEASE_SECS: u32 = 86_400;
/// The Basic Station key: station only, assignable only; its pooled count is the pool of
/// dynamic remote station logons.
pub const BASIC_STATION: &str = "I3_LICENSE_BASIC_STATION";
/// Keys of which the user or the station needs one to run the client at a station (Client
/// Access or ACD Access).
pub const CLIENT_KEYS: &[&str] = &[
    "I3_ACCESS_CLIENT",
    "I3_ACCESS_ACD_MEDIA_1",
    "I3_ACCESS_ACD_MEDIA_2",
    "I3_ACCESS_ACD_MEDIA_3_PLUS",
];
/// The organization license (Interaction Web Portal): its count (assigned plus pooled) limits
/// how many organizations may exist.
pub const ORGANIZATION_KEY: &str = "I3_TENANT_IWP_ORGANIZATION";

/// Check a user, station or organization name: 1 to [`MAX_NAME_LEN`] bytes, no refused
/// character ([`format::text::is_refused_char`]: controls, bidirectional overrides, zero-width
/// characters, line and paragraph separators, named with their position), no blank at either
/// end.
pub fn validate_name(what: &'static str, name: &str) -> Result<(), AllocError> {
    let bad = |reason: &str| AllocError::InvalidName {
        what,
        value: name.chars().take(64).collect(),
        reason: reason.into(),
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(bad(&format!(
            "{} bytes, at most {MAX_NAME_LEN}",
            name.len()
        )));
    }
    // The one definition every crate uses: controls, bidirectional overrides and isolates,
    // zero-width characters, line separators ... (format::text::is_refused_char).
    if let Some(why) = format::text::refused_char_reason(name) {
        return Err(bad(&format!("it {why}")));
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Err(bad("it starts or ends with a blank"));
    }
    Ok(())
}

/// Check a license-key name (`A-Z` first, then `A-Z`, `0-9`, `_`, at most 128 bytes).
pub fn validate_key(key: &str) -> Result<(), AllocError> {
    if format::is_key_name(key) {
        Ok(())
    } else {
        Err(AllocError::InvalidName {
            what: "license key",
            value: key.chars().take(64).collect(),
            reason: "a key is A-Z first, then A-Z, 0-9 and _, at most 128 bytes".into(),
        })
    }
}

/// Check a dynamic remote phone number: 1 to 32 characters, digits with an optional leading
/// `+` and the separators space, `-`, `.`, `(`, `)`; at least one digit; no blank at either end.
pub fn validate_phone(number: &str) -> Result<(), AllocError> {
    let bad = |reason: &str| AllocError::InvalidInput {
        what: "remote number",
        reason: format!(
            "{:?}: {reason}",
            number.chars().take(40).collect::<String>()
        ),
    };
    if number.is_empty() || number.len() > 32 {
        return Err(bad("1 to 32 characters"));
    }
    let body = number.strip_prefix('+').unwrap_or(number);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || " -.()".contains(c))
    {
        return Err(bad("only digits, a leading +, and space - . ( )"));
    }
    if !body.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad("no digit"));
    }
    if number.starts_with(' ') || number.ends_with(' ') {
        return Err(bad("it starts or ends with a blank"));
    }
    Ok(())
}

/// The kind of a station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StationKind {
    /// A workstation (a SIP soft phone or a desk phone with the client).
    Workstation,
    /// A configured (static) remote station.
    Remote,
    /// A stand-alone phone.
    Phone,
    /// A stand-alone fax.
    Fax,
}

impl StationKind {
    /// `workstation`, `remote`, `phone`, `fax`.
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::Workstation => "workstation",
            StationKind::Remote => "remote",
            StationKind::Phone => "phone",
            StationKind::Fax => "fax",
        }
    }

    /// The kind of that name.
    pub fn parse(s: &str) -> Option<StationKind> {
        Some(match s {
            "workstation" => StationKind::Workstation,
            "remote" => StationKind::Remote,
            "phone" => StationKind::Phone,
            "fax" => StationKind::Fax,
            _ => return None,
        })
    }
}

impl fmt::Display for StationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method by its name (`assignable`, `concurrent`).
pub fn parse_method(s: &str) -> Option<Method> {
    match s {
        "assignable" => Some(Method::Assignable),
        "concurrent" => Some(Method::Concurrent),
        _ => None,
    }
}

/// Who an allocation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A user, by name.
    User(&'a str),
    /// A station, by name.
    Station(&'a str),
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::User(n) => write!(f, "user '{n}'"),
            Target::Station(n) => write!(f, "station '{n}'"),
        }
    }
}

/// Where a user logs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// No station (an application without station audio, such as a supervisor tool).
    Nowhere,
    /// A configured station.
    Station(String),
    /// A dynamic remote station: the phone number the user gave at logon.
    Remote(String),
}

/// Which count of a key an allocation draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pool {
    /// The assigned count (assignable users and stations; dynamic remote logons once the
    /// Basic Station pool is used up).
    Assignable,
    /// The pooled count (concurrent sessions; dynamic remote logons for Basic Station).
    Concurrent,
    /// A session key's whole count (assigned plus pooled), taken by checkouts.
    Session,
}

impl Pool {
    /// `assignable`, `concurrent`, `session`.
    pub fn as_str(self) -> &'static str {
        match self {
            Pool::Assignable => "assignable",
            Pool::Concurrent => "concurrent",
            Pool::Session => "session",
        }
    }
}

impl fmt::Display for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A logon: who, where, until when, and the licenses it acquired from the pools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The session id (32 hex digits).
    pub id: String,
    /// The user.
    pub user: String,
    /// The configured station, if the logon is at one.
    pub station: Option<String>,
    /// The dynamic remote phone number, if the logon is a dynamic remote one.
    pub remote_number: Option<String>,
    /// The lease in seconds.
    pub lease_secs: u32,
    /// When the lease lapses unless renewed (Unix seconds).
    pub expires_at: i64,
    /// The licenses this session acquired (concurrent keys, and a Basic Station for a
    /// dynamic remote logon), sorted.
    pub acquired: Vec<String>,
    /// Whether the logon reused the user's live session (same place) instead of starting one.
    pub reused: bool,
    /// The user's session elsewhere that this logon ended (logged on elsewhere), if any.
    pub replaced: Option<String>,
    /// What the user should know about the logon (an ACD Media level that covers fewer media
    /// types than the user's workgroups route), in words.
    pub warnings: Vec<String>,
}

/// One license key in the report (Interaction Administrator's Licenses Allocation table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
// The license server's OpenAPI document describes it from this type.
#[cfg_attr(feature = "cli", derive(utoipa::ToSchema))]
pub struct KeyReport {
    /// The license key.
    pub name: String,
    /// Assigned count of the file.
    pub assignable_allowed: u32,
    /// Allocated to assignable users and to stations with licensing enabled.
    pub assignable_configured: u32,
    /// Dynamic remote logons that took an unallocated assignable Basic Station.
    pub assignable_dynamic: u32,
    /// Pooled count of the file.
    pub concurrent_allowed: u32,
    /// Configured on concurrent users (not consumed until logon).
    pub concurrent_configured: u32,
    /// Acquired by live sessions (for Basic Station: dynamic remote logons from the pool).
    pub concurrent_in_use: u32,
    /// For a session key: connections holding it (open checkouts; for a time-based key,
    /// also those ended within the window), counted against assigned plus pooled.
    pub checkouts_in_use: u32,
    /// Out of compliance notes (`assignable out of compliance by 2`), else empty.
    pub notes: Vec<String>,
}

impl KeyReport {
    /// Assignable licenses consumed: configured plus dynamic remote.
    pub fn assignable_used(&self) -> u32 {
        self.assignable_configured + self.assignable_dynamic
    }
}

/// The report: every key of the loaded file, and any key held that the file lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
// The license server's OpenAPI document describes it from this type.
#[cfg_attr(feature = "cli", derive(utoipa::ToSchema))]
pub struct Report {
    /// The loaded file's id.
    pub file_id: String,
    /// One entry per key, sorted by name.
    pub keys: Vec<KeyReport>,
    /// Organizations that exist, and how many the file allows (None: no organization license).
    pub organizations: u32,
    /// The organization count licensed.
    pub organizations_allowed: u32,
}

/// One exceeded license found by the compliance check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
// The license server's OpenAPI document describes it from this type.
#[cfg_attr(feature = "cli", derive(utoipa::ToSchema))]
pub struct ComplianceEvent {
    /// The license key.
    pub key: String,
    /// Which count: `assignable`, `concurrent`, `session` (checkouts of a session key), or
    /// `organizations` for the organization license.
    pub count: &'static str,
    /// The count licensed.
    pub licensed: u32,
    /// The count allocated or in use.
    pub in_use: u32,
}

impl ComplianceEvent {
    /// How many more are in use than licensed.
    pub fn excess(&self) -> u32 {
        self.in_use.saturating_sub(self.licensed)
    }
}

impl fmt::Display for ComplianceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} licenses exceed the licensed count: licensed {}, in use {}",
            self.key, self.count, self.licensed, self.in_use
        )
    }
}

/// What loading a file would leave (or left) out of compliance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    /// The file's id.
    pub file_id: String,
    /// Keys whose new count is below what is allocated or in use.
    pub out_of_compliance: Vec<ComplianceEvent>,
}

/// A user as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEntry {
    /// The user's name.
    pub name: String,
    /// Assignable or concurrent.
    pub method: Method,
    /// The organization, if any.
    pub organization: Option<String>,
    /// Keys allocated (assignable) or configured (concurrent), sorted.
    pub licenses: Vec<String>,
    /// Keys the user's live session holds from the pools, sorted.
    pub in_use: Vec<String>,
    /// The live session, if logged on.
    pub session: Option<String>,
}

/// Allocated and available counts of one key (`user list`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCount {
    /// The key.
    pub key: String,
    /// Assignable used plus concurrent in use.
    pub allocated: u32,
    /// What is left of both counts.
    pub available: u32,
}

/// `user list`: users and per-key counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserList {
    /// The users that match, sorted by name.
    pub users: Vec<UserEntry>,
    /// Per key (every key of the file, or the one filtered on).
    pub keys: Vec<KeyCount>,
}

/// A filter for [`crate::Allocator::users`].
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only users holding this key (allocated, configured or in use).
    pub license: Option<String>,
    /// Only users whose name contains this text (case-insensitive).
    pub name: Option<String>,
}

/// What [`crate::Allocator::load`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// The new file's id.
    pub file_id: String,
    /// The file it replaced, if any.
    pub replaced: Option<String>,
    /// Keys now out of compliance (nothing was taken away; new allocations are refused).
    pub out_of_compliance: Vec<ComplianceEvent>,
}

/// A source of the current time (Unix seconds), so tests can make leases lapse.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, in Unix seconds.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told (tests). Clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock reading `now`.
    pub fn new(now: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now)))
    }

    /// Move the clock forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
