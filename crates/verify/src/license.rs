//! The verified license a server queries. Only [`crate::Verifier`] can build one.

use std::fmt;

use format::{
    Activation, FileId, FormatVersion, Host, KeyId, LicenseCount, LicenseType, OrderedItem,
    Restriction, Rules, Timestamp, DAY,
};
use hostid::MatchReport;
use serde::Serialize;

/// Days before expiry from which a license reports [`Warning::ExpiringSoon`].
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// Which of the file's hosts this machine matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostRole {
    /// The primary host.
    Primary,
    /// The switchover partner of a pair.
    Switchover,
}

impl fmt::Display for HostRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostRole::Primary => "primary",
            HostRole::Switchover => "switchover",
        })
    }
}

/// Something a server should tell its administrator about a license that was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Warning {
    /// The file expired; it keeps working until the signed grace period ends.
    InGrace {
        /// The file's expiry.
        expired_at: Timestamp,
        /// The end of the grace period.
        grace_ends: Timestamp,
        /// Whole days left in the grace period.
        days_left: i64,
    },
    /// The file expires within [`EXPIRING_SOON_DAYS`] days.
    ExpiringSoon {
        /// The file's expiry.
        expires_at: Timestamp,
        /// Whole days left.
        days_left: i64,
    },
    /// The file is signed with the published demonstration key, which anyone can sign with.
    DemoKey {
        /// The demo key's id.
        key_id: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::InGrace {
                expired_at,
                grace_ends,
                days_left,
            } => write!(
                f,
                "the license expired at {expired_at} and is in its grace period until {grace_ends} ({days_left} day(s) left); install a renewed file"
            ),
            Warning::ExpiringSoon {
                expires_at,
                days_left,
            } => write!(
                f,
                "the license expires at {expires_at} ({days_left} day(s) left)"
            ),
            Warning::DemoKey { key_id } => write!(
                f,
                "signed with the public demo key ({key_id}): anyone can make such files; never use it to license a real server"
            ),
        }
    }
}

/// A verified activation file, as checked on this machine at one instant.
///
/// The only way to get one is [`crate::Verifier::load`] (or a [`crate::LicenseHandle`]): its
/// fields are private and it has no public constructor, so a value of this type always went
/// through every check (as rust-tuf's `Verified<T>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    version: FormatVersion,
    activation: Activation,
    key_id: KeyId,
    role: HostRole,
    host_match: MatchReport,
    checked_at: Timestamp,
    demo_key: bool,
    warnings: Vec<Warning>,
}

impl License {
    /// Only `verify` builds licenses: called by the verifier after every check passed.
    pub(crate) fn new(
        version: FormatVersion,
        activation: Activation,
        key_id: KeyId,
        (role, host_match): (HostRole, MatchReport),
        checked_at: Timestamp,
        demo_key: bool,
    ) -> License {
        let mut warnings = Vec::new();
        if !activation.is_perpetual() && checked_at > activation.expires_at {
            let grace_ends = grace_end(&activation);
            warnings.push(Warning::InGrace {
                expired_at: activation.expires_at,
                grace_ends,
                days_left: checked_at.days_until(grace_ends),
            });
        } else if !activation.is_perpetual()
            && activation.expires_at <= checked_at.plus_days(EXPIRING_SOON_DAYS)
        {
            warnings.push(Warning::ExpiringSoon {
                expires_at: activation.expires_at,
                days_left: checked_at.days_until(activation.expires_at),
            });
        }
        if demo_key {
            warnings.push(Warning::DemoKey {
                key_id: key_id.to_string(),
            });
        }
        License {
            version,
            activation,
            key_id,
            role,
            host_match,
            checked_at,
            demo_key,
            warnings,
        }
    }

    /// Everything the file says, as signed.
    pub fn activation(&self) -> &Activation {
        &self.activation
    }

    /// How this machine's code matched the host it was taken for: per component kind, equal,
    /// different or not compared. A tolerant match (one component changed, such as a replaced
    /// network card) shows here as one `Different`.
    pub fn host_match(&self) -> &MatchReport {
        &self.host_match
    }

    /// The file's format version (1 or 2).
    pub fn format_version(&self) -> FormatVersion {
        self.version
    }

    /// The update chain's lineage: the id of the chain's first file (a version-1 file is its
    /// own lineage).
    pub fn lineage(&self) -> FileId {
        self.activation.lineage()
    }

    /// The file's generation in its lineage (`None` for a version-1 file).
    pub fn generation(&self) -> Option<u32> {
        self.activation.generation()
    }

    /// The license rules the vendor signed for the file's keys (empty for a version-1 file):
    /// who may hold each key ([`Rules::holders`]), how it may be allocated
    /// ([`Rules::methods`]), and what it requires, implies and excludes ([`Rules::requires`],
    /// [`Rules::implies`], [`Rules::excludes`]). Read-only: a server enforces them.
    pub fn rules(&self) -> &Rules {
        &self.activation.rules
    }

    /// The file's id.
    pub fn file_id(&self) -> FileId {
        self.activation.file_id
    }

    /// The file this one replaces, if any.
    pub fn supersedes(&self) -> Option<FileId> {
        self.activation.supersedes
    }

    /// The licensed product (`CIC`).
    pub fn product(&self) -> &str {
        &self.activation.product
    }

    /// The licensed product version (`4.0`).
    pub fn product_version(&self) -> &str {
        &self.activation.product_version
    }

    /// The license type.
    pub fn license_type(&self) -> LicenseType {
        self.activation.license_type
    }

    /// The restrictions the license type imposes, as signed in the file.
    pub fn restrictions(&self) -> &[Restriction] {
        &self.activation.restrictions
    }

    /// Whether interactions must be disconnected every hour (development licenses).
    pub fn hourly_disconnect(&self) -> bool {
        self.activation
            .restrictions
            .contains(&Restriction::HourlyDisconnect)
    }

    /// Whether a feature (`I3_FEATURE_*`) is enabled.
    pub fn has_feature(&self, name: &str) -> bool {
        self.activation.has_feature(name)
    }

    /// The enabled features.
    pub fn features(&self) -> &[String] {
        &self.activation.features
    }

    /// The counts for a license key (`I3_ACCESS_CLIENT`), if the file grants it.
    pub fn counts(&self, name: &str) -> Option<&LicenseCount> {
        self.activation.license(name)
    }

    /// Assigned licenses of a key (0 when the file does not grant it).
    pub fn assigned(&self, name: &str) -> u32 {
        self.counts(name).map_or(0, |c| c.assigned)
    }

    /// Pooled licenses of a key (0 when the file does not grant it).
    pub fn pooled(&self, name: &str) -> u32 {
        self.counts(name).map_or(0, |c| c.pooled)
    }

    /// Every license key with its counts.
    pub fn licenses(&self) -> &[LicenseCount] {
        &self.activation.licenses
    }

    /// The ordered items this file uses.
    pub fn ordered_items(&self) -> &[OrderedItem] {
        &self.activation.ordered_items
    }

    /// The customer.
    pub fn sold_to(&self) -> &str {
        &self.activation.sold_to
    }

    /// The install site.
    pub fn install_site(&self) -> &str {
        &self.activation.install_site
    }

    /// The primary host.
    pub fn primary_host(&self) -> &Host {
        &self.activation.primary_host
    }

    /// The switchover host, if the file covers a pair.
    pub fn switchover_host(&self) -> Option<&Host> {
        self.activation.switchover_host.as_ref()
    }

    /// The file's hosts with their roles: the primary first.
    pub fn hosts(&self) -> Vec<(HostRole, &Host)> {
        let mut v = vec![(HostRole::Primary, &self.activation.primary_host)];
        if let Some(s) = &self.activation.switchover_host {
            v.push((HostRole::Switchover, s));
        }
        v
    }

    /// Which host this machine matched.
    pub fn role(&self) -> HostRole {
        self.role
    }

    /// The host this machine matched.
    pub fn matched_host(&self) -> &Host {
        match (self.role, &self.activation.switchover_host) {
            (HostRole::Switchover, Some(s)) => s,
            _ => &self.activation.primary_host,
        }
    }

    /// The install key the file binds to the host this machine matched (format version 3,
    /// from a request code): the key whose store may sign a release receipt for this file.
    /// `None` for a file that binds none (versions 1 and 2 never do).
    pub fn install_key(&self) -> Option<&format::PublicKey> {
        self.matched_host().install_key.as_ref()
    }

    /// When the file was issued.
    pub fn issued_at(&self) -> Timestamp {
        self.activation.issued_at
    }

    /// Start of validity.
    pub fn valid_from(&self) -> Timestamp {
        self.activation.valid_from
    }

    /// Expiry (2100-01-01T00:00:00Z for perpetual licenses).
    pub fn expires_at(&self) -> Timestamp {
        self.activation.expires_at
    }

    /// Whether the license never expires.
    pub fn is_perpetual(&self) -> bool {
        self.activation.is_perpetual()
    }

    /// The signed grace period in days (0: none).
    pub fn grace_days(&self) -> u32 {
        self.activation.grace_days
    }

    /// The end of the grace period (the expiry when there is none).
    pub fn grace_ends(&self) -> Timestamp {
        grace_end(&self.activation)
    }

    /// The instant the checks were made at.
    pub fn checked_at(&self) -> Timestamp {
        self.checked_at
    }

    /// Whole days from the check until expiry (negative when in grace); `None` when perpetual.
    pub fn days_left(&self) -> Option<i64> {
        self.days_left_at(self.checked_at)
    }

    /// Whole days from `now` until expiry; `None` when perpetual.
    pub fn days_left_at(&self, now: Timestamp) -> Option<i64> {
        (!self.is_perpetual()).then(|| now.days_until(self.activation.expires_at))
    }

    /// Whether the license had expired when checked and is running on its grace period
    /// (never for a perpetual license).
    pub fn in_grace(&self) -> bool {
        !self.is_perpetual() && self.checked_at > self.activation.expires_at
    }

    /// Whether the license is still usable at `now` (a server re-checks this periodically):
    /// not before `valid_from` and not after the grace period.
    pub fn usable_at(&self, now: Timestamp) -> bool {
        now >= self.activation.valid_from && now <= self.grace_ends()
    }

    /// The key that signed the file.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Whether the file is signed with the published demonstration key.
    pub fn signed_with_demo_key(&self) -> bool {
        self.demo_key
    }

    /// What an administrator should be told (grace period, expiring soon, demo key).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

/// `expires_at` plus the signed grace period.
/// The last instant a file may be used: its expiry plus the grace period, or, for a
/// perpetual file (which never expires), the latest instant there is.
pub(crate) fn grace_end(a: &Activation) -> Timestamp {
    if a.is_perpetual() {
        return Timestamp::LATEST;
    }
    a.expires_at.plus_secs(i64::from(a.grace_days) * DAY)
}

/// A license as `licverify --json` shows it: the signed contents plus what this check found.
impl Serialize for License {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("License", 12)?;
        st.serialize_field("format_version", &self.version.number())?;
        st.serialize_field("activation", &self.activation)?;
        st.serialize_field("key_id", &self.key_id.to_string())?;
        st.serialize_field("role", &self.role)?;
        st.serialize_field("host_match", &self.host_match)?;
        st.serialize_field("checked_at", &self.checked_at)?;
        st.serialize_field("days_left", &self.days_left())?;
        st.serialize_field("in_grace", &self.in_grace())?;
        st.serialize_field("grace_ends", &self.grace_ends())?;
        st.serialize_field("hourly_disconnect", &self.hourly_disconnect())?;
        st.serialize_field("signed_with_demo_key", &self.demo_key)?;
        st.serialize_field("warnings", &self.warnings)?;
        st.end()
    }
}
