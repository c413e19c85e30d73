//! The activation file's data model: what a file licenses.

use std::fmt;
use std::str::FromStr;

use hostid::HostId;
use serde::{Deserialize, Serialize};

use crate::error::FormatError;
use crate::keys::{decode_hex_array, write_hex, PublicKey};
use crate::rules::{is_key_name, Rules};
use crate::text::is_refused_char;
use crate::time::Timestamp;

/// Longest text value accepted in a file (names, descriptions).
pub const MAX_TEXT_LEN: usize = 512;
/// Most entries in any list (features, licenses, ordered items).
pub const MAX_LIST_LEN: usize = 4096;
/// Largest count or quantity.
pub const MAX_COUNT: u32 = 10_000_000;

/// A file's id: 128 random bits, written as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub [u8; 16]);

impl FileId {
    /// A fresh id from the operating system's random number generator.
    pub fn random() -> FileId {
        let mut b = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        FileId(b)
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileId({self})")
    }
}

impl FromStr for FileId {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<FileId, FormatError> {
        decode_hex_array(s)
            .map(FileId)
            .ok_or_else(|| FormatError::InvalidValue {
                field: "file id".into(),
                reason: format!("'{}' is not 32 lower-case hex digits", s.escape_debug()),
            })
    }
}

impl Serialize for FileId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FileId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FileId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Server license types (DESIGN.md, "License types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseType {
    /// Production: perpetual, may carry a switchover host.
    Production,
    /// The switchover server of a production pair, licensed on its own.
    Switchover,
    /// Small development system (one year when ordered; included with a server part otherwise).
    DevelopmentSmall,
    /// Large development system.
    DevelopmentLarge,
    /// Trial: 60 days, components may be added, no grace period.
    Trial,
    /// Evaluation: a fixed configuration.
    Evaluation,
    /// Disaster recovery: counts never above the related production file's.
    DisasterRecovery,
    /// Media server.
    MediaServer,
    /// Multi-site administration.
    MultiSiteAdministration,
    /// e-FAQ production.
    EfaqProduction,
    /// Trial system.
    TrialSystem,
}

impl LicenseType {
    /// Every license type, in a fixed order.
    pub const ALL: [LicenseType; 11] = [
        LicenseType::Production,
        LicenseType::Switchover,
        LicenseType::DevelopmentSmall,
        LicenseType::DevelopmentLarge,
        LicenseType::Trial,
        LicenseType::Evaluation,
        LicenseType::DisasterRecovery,
        LicenseType::MediaServer,
        LicenseType::MultiSiteAdministration,
        LicenseType::EfaqProduction,
        LicenseType::TrialSystem,
    ];

    /// The name used in files and on command lines (`production`, `development-small`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseType::Production => "production",
            LicenseType::Switchover => "switchover",
            LicenseType::DevelopmentSmall => "development-small",
            LicenseType::DevelopmentLarge => "development-large",
            LicenseType::Trial => "trial",
            LicenseType::Evaluation => "evaluation",
            LicenseType::DisasterRecovery => "disaster-recovery",
            LicenseType::MediaServer => "media-server",
            LicenseType::MultiSiteAdministration => "multi-site-administration",
            LicenseType::EfaqProduction => "e-faq-production",
            LicenseType::TrialSystem => "trial-system",
        }
    }

    /// A human-readable name (`Development (small)`).
    pub fn label(self) -> &'static str {
        match self {
            LicenseType::Production => "Production",
            LicenseType::Switchover => "Switchover",
            LicenseType::DevelopmentSmall => "Development (small)",
            LicenseType::DevelopmentLarge => "Development (large)",
            LicenseType::Trial => "Trial",
            LicenseType::Evaluation => "Evaluation",
            LicenseType::DisasterRecovery => "Disaster Recovery",
            LicenseType::MediaServer => "Media Server",
            LicenseType::MultiSiteAdministration => "Multi-site Administration",
            LicenseType::EfaqProduction => "e-FAQ Production",
            LicenseType::TrialSystem => "Trial System",
        }
    }

    /// Whether this is one of the development types.
    pub fn is_development(self) -> bool {
        matches!(
            self,
            LicenseType::DevelopmentSmall | LicenseType::DevelopmentLarge
        )
    }
}

impl fmt::Display for LicenseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LicenseType {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<LicenseType, FormatError> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        LicenseType::ALL
            .into_iter()
            .find(|t| {
                t.as_str() == norm
                    || (norm == "efaq-production" && *t == LicenseType::EfaqProduction)
            })
            .ok_or_else(|| FormatError::InvalidValue {
                field: "license type".into(),
                reason: format!(
                    "'{}' is not one of: {}",
                    s.escape_debug(),
                    LicenseType::ALL.map(|t| t.as_str()).join(", ")
                ),
            })
    }
}

/// Restrictions a license type imposes, carried in the file so a server can enforce them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Restriction {
    /// Development systems: interactions are disconnected every hour.
    HourlyDisconnect,
    /// Not for production traffic (development, trial, evaluation).
    NotForProduction,
}

impl Restriction {
    /// What the restriction means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Restriction::HourlyDisconnect => "interactions are disconnected every hour",
            Restriction::NotForProduction => "not licensed for production use",
        }
    }
}

/// A licensed server: its host-ID code, machine name and (version 3) the install key of its
/// license store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The code `gethostid` printed on the server.
    pub host_id: HostId,
    /// The server's machine name.
    pub machine: String,
    /// The public install key of the server's license store, from a request code (`licadmin
    /// request`); a release receipt from that store is signed with it. Version 3 only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::install_key::serde_opt"
    )]
    pub install_key: Option<PublicKey>,
}

impl Host {
    /// A host bound by its host-ID code alone (no install key).
    pub fn new(host_id: HostId, machine: impl Into<String>) -> Host {
        Host {
            host_id,
            machine: machine.into(),
            install_key: None,
        }
    }

    /// What a vendor types to bind this host again (an update keeping the host): the
    /// request code when an install key is bound, else the host-ID code.
    pub fn binding_code(&self) -> String {
        match self
            .install_key
            .as_ref()
            .and_then(|k| hostid::RequestCode::new(self.host_id, k.to_bytes()).ok())
        {
            Some(code) => code.to_string(),
            None => self.host_id.to_string(),
        }
    }
}

/// A license key and its counts (`I3_ACCESS_CLIENT (170 assigned, 0 pooled)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseCount {
    /// `I3_ACCESS_*` or `I3_LICENSE_*`.
    pub name: String,
    /// Licenses that can be assigned to users or stations.
    pub assigned: u32,
    /// Licenses shared concurrently from a pool.
    pub pooled: u32,
}

/// An ordered item this file uses (`SW-001-4.0-AL02 Business Client (50)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderedItem {
    /// Part number.
    pub part: String,
    /// The part's description.
    pub description: String,
    /// Units of the part used by this file.
    pub quantity: u32,
}

/// Where a file stands in its update chain (version 2): the chain's first file and this
/// file's place in it. A server refuses a file of a lower generation than one it accepted
/// from the same lineage, whatever the clocks say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    /// The id of the first file of the chain (a new file's own id).
    pub lineage: FileId,
    /// 1 for a new file, one more for each update.
    pub generation: u32,
}

impl Chain {
    /// The chain of a new file: its own lineage, generation 1.
    pub fn first(file_id: FileId) -> Chain {
        Chain {
            lineage: file_id,
            generation: 1,
        }
    }

    /// The chain of the file that updates this one: same lineage, next generation.
    pub fn next(self) -> Chain {
        Chain {
            lineage: self.lineage,
            generation: self.generation.saturating_add(1),
        }
    }
}

/// The format versions this build reads. Writers write [`FormatVersion::V3`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FormatVersion {
    /// `i3lic-activation/1`: closed; read, and written only by [`crate::sign_v1`].
    V1,
    /// `i3lic-activation/2`: adds the update chain, license rules and host-ID forms; read,
    /// and written only by [`crate::sign_v2`].
    V2,
    /// `i3lic-activation/3`: adds each host's install key (or `null`).
    V3,
}

impl FormatVersion {
    /// The version's name in the `Format:` header (`i3lic-activation/2`).
    pub fn as_str(self) -> &'static str {
        match self {
            FormatVersion::V1 => "i3lic-activation/1",
            FormatVersion::V2 => "i3lic-activation/2",
            FormatVersion::V3 => "i3lic-activation/3",
        }
    }

    /// The version number (1 or 2).
    pub fn number(self) -> u8 {
        match self {
            FormatVersion::V1 => 1,
            FormatVersion::V2 => 2,
            FormatVersion::V3 => 3,
        }
    }
}

impl fmt::Display for FormatVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything an activation file licenses: the signed payload.
///
/// Field order here is the order in the file. This type's own serde form (used to store an
/// activation, for example in the issuer's ledger) is not the file's payload: files are
/// written by [`crate::sign`] and read by [`crate::UnverifiedFile::verify`], which follow
/// `docs/FORMAT.md` exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    /// Random 128-bit id.
    pub file_id: FileId,
    /// The file this one replaces, if any.
    #[serde(deserialize_with = "Option::deserialize")]
    pub supersedes: Option<FileId>,
    /// The update chain (version 2: `lineage` and `generation`); `None` only for a file read
    /// from version 1, which has none.
    #[serde(default)]
    pub chain: Option<Chain>,
    /// Product line (`CIC`).
    pub product: String,
    /// Product version (`4.0`).
    pub product_version: String,
    /// Server license type.
    pub license_type: LicenseType,
    /// When the file was generated.
    pub issued_at: Timestamp,
    /// Not valid before this instant.
    pub valid_from: Timestamp,
    /// Not valid after this instant; [`Timestamp::PERPETUAL`] means never expires.
    pub expires_at: Timestamp,
    /// Days after `expires_at` during which a server keeps running with a warning (0: none).
    pub grace_days: u32,
    /// Who generated the file.
    pub generated_by: String,
    /// The customer (company name).
    pub sold_to: String,
    /// The install site.
    pub install_site: String,
    /// The licensed server.
    pub primary_host: Host,
    /// The switchover partner, if the file covers a pair.
    #[serde(deserialize_with = "Option::deserialize")]
    pub switchover_host: Option<Host>,
    /// Machine / system type (`Media Server Based (4.0+ only)`).
    pub system_type: String,
    /// Mail connector (`Microsoft Exchange Server`).
    pub mail_connector: String,
    /// Bundle (`CIC 4.0 Production Bundle`).
    pub bundle: String,
    /// What the license type means.
    pub description: String,
    /// Enabled features (`I3_FEATURE_*` in version 1; any feature name in version 2).
    pub features: Vec<String>,
    /// License keys with counts.
    pub licenses: Vec<LicenseCount>,
    /// Ordered items used.
    pub ordered_items: Vec<OrderedItem>,
    /// Restrictions implied by the license type.
    pub restrictions: Vec<Restriction>,
    /// The license rules that apply to the file's keys (version 2; empty for version 1).
    #[serde(default)]
    pub rules: Rules,
}

fn check_text(field: &str, v: &str, allow_empty: bool) -> Result<(), FormatError> {
    let bad = |reason: String| FormatError::InvalidValue {
        field: field.into(),
        reason,
    };
    if v.len() > MAX_TEXT_LEN {
        return Err(bad(format!("{} bytes, at most {MAX_TEXT_LEN}", v.len())));
    }
    let blank_edge = v.starts_with(char::is_whitespace) || v.ends_with(char::is_whitespace);
    if !allow_empty && (v.is_empty() || (blank_edge && v.trim().is_empty())) {
        return Err(bad("must not be empty".into()));
    }
    // One pass over the characters (this runs for every value of every file read); over
    // the bytes when they are all ASCII, whose refused characters are the controls.
    let refused = if v.is_ascii() {
        v.bytes().any(|b| b.is_ascii_control())
    } else {
        v.chars().any(is_refused_char)
    };
    if refused {
        // Found cheaply above; named with its position only on the way out.
        return Err(bad(crate::text::refused_char_reason(v).unwrap_or_default()));
    }
    if blank_edge {
        return Err(bad("has leading or trailing blanks".into()));
    }
    Ok(())
}

/// Feature and license names: in version 1 a fixed prefix then `A-Z`, `0-9`, `_`; in version
/// 2 any license-key name ([`is_key_name`]).
fn check_name(
    field: &str,
    v: &str,
    version: FormatVersion,
    prefixes: &[&str],
) -> Result<(), FormatError> {
    let ok = match version {
        FormatVersion::V1 => {
            prefixes.iter().any(|p| {
                v.strip_prefix(p).is_some_and(|rest| {
                    !rest.is_empty()
                        && rest
                            .bytes()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
                })
            }) && v.len() <= 128
        }
        FormatVersion::V2 | FormatVersion::V3 => is_key_name(v),
    };
    if ok {
        return Ok(());
    }
    let form = match version {
        FormatVersion::V1 => prefixes
            .iter()
            .map(|p| format!("{p}NAME"))
            .collect::<Vec<_>>()
            .join(" or "),
        FormatVersion::V2 | FormatVersion::V3 => {
            "A-Z first, then A-Z, 0-9, _ (at most 128 bytes)".into()
        }
    };
    Err(FormatError::InvalidValue {
        field: field.into(),
        reason: format!(
            "'{}' is not a name of the form {form}",
            v.chars().take(64).collect::<String>().escape_debug()
        ),
    })
}

/// Check a count; the field name is only built when the count is refused.
fn check_count(field: impl FnOnce() -> String, v: u32) -> Result<(), FormatError> {
    if v > MAX_COUNT {
        return Err(FormatError::InvalidValue {
            field: field(),
            reason: format!("{v} is above the limit of {MAX_COUNT}"),
        });
    }
    Ok(())
}

fn check_list<T>(field: &str, v: &[T]) -> Result<(), FormatError> {
    if v.len() > MAX_LIST_LEN {
        return Err(FormatError::InvalidValue {
            field: field.into(),
            reason: format!("{} entries, at most {MAX_LIST_LEN}", v.len()),
        });
    }
    Ok(())
}

fn check_unique<'a>(
    field: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), FormatError> {
    // Names in strictly ascending order are distinct: no copy to sort.
    let mut prev: Option<&str> = None;
    if names.clone().all(|n| {
        let ascending = prev.is_none_or(|p| p < n);
        prev = Some(n);
        ascending
    }) {
        return Ok(());
    }
    let mut sorted: Vec<&str> = names.collect();
    sorted.sort_unstable();
    match sorted.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(FormatError::InvalidValue {
            field: field.into(),
            reason: format!("'{}' appears twice", w[0]),
        }),
        None => Ok(()),
    }
}

impl Activation {
    /// Check every value's range and shape for a version-2 file (what [`crate::sign`]
    /// writes): see [`Activation::validate_for`].
    pub fn validate(&self) -> Result<(), FormatError> {
        self.validate_for(FormatVersion::V3)
    }

    /// Check every value's range and shape for a file of `version`: bounded text without
    /// refused characters ([`is_refused_char`]), feature and license names of the version's
    /// form, no duplicates, counts within limits, `valid_from <= expires_at <=`
    /// [`Timestamp::PERPETUAL`], a switchover host that does not match the primary host under
    /// the tolerant rule (so the role a server reports is never ambiguous), a consistent
    /// update chain and valid rules (version 2), and neither a chain nor rules in version 1.
    /// Signing and parsing both call this, so no file that breaks these rules is made or
    /// accepted.
    pub fn validate_for(&self, version: FormatVersion) -> Result<(), FormatError> {
        let bad = |field: &str, reason: String| FormatError::InvalidValue {
            field: field.into(),
            reason,
        };
        match (version, &self.chain) {
            (FormatVersion::V1, Some(_)) => {
                return Err(bad(
                    "lineage",
                    "a version-1 file has no update chain (lineage and generation)".into(),
                ))
            }
            (FormatVersion::V2 | FormatVersion::V3, None) => {
                return Err(bad(
                    "lineage",
                    format!(
                        "a version-{} file needs its lineage and generation",
                        version.number()
                    ),
                ))
            }
            (FormatVersion::V2 | FormatVersion::V3, Some(c)) => {
                if c.generation == 0 || c.generation > MAX_COUNT {
                    return Err(bad(
                        "generation",
                        format!("{} is not between 1 and {MAX_COUNT}", c.generation),
                    ));
                }
                if c.generation == 1 && c.lineage != self.file_id {
                    return Err(bad(
                        "lineage",
                        "a file of generation 1 starts its lineage: the lineage must be its own file_id"
                            .into(),
                    ));
                }
                if c.generation > 1 && c.lineage == self.file_id {
                    return Err(bad(
                        "lineage",
                        format!(
                            "a file of generation {} continues a lineage another file started: the lineage cannot be its own file_id",
                            c.generation
                        ),
                    ));
                }
                if c.generation > 1 && self.supersedes.is_none() {
                    return Err(bad(
                        "supersedes",
                        format!(
                            "a file of generation {} replaces the file before it: supersedes cannot be null",
                            c.generation
                        ),
                    ));
                }
            }
            (FormatVersion::V1, None) => {}
        }
        if version == FormatVersion::V1 && !self.rules.is_empty() {
            return Err(bad("rules", "a version-1 file carries no rules".into()));
        }
        if version == FormatVersion::V1 {
            let hosts = std::iter::once(("primary_host.host_id", &self.primary_host)).chain(
                self.switchover_host
                    .iter()
                    .map(|h| ("switchover_host.host_id", h)),
            );
            for (field, h) in hosts {
                if h.host_id.form() != hostid::CodeForm::Short {
                    return Err(bad(
                        field,
                        "a version-1 file binds short host-ID codes only (readers of version 1 know no other form)".into(),
                    ));
                }
            }
        }
        let hosts = std::iter::once(("primary_host.install_key", &self.primary_host)).chain(
            self.switchover_host
                .iter()
                .map(|h| ("switchover_host.install_key", h)),
        );
        for (field, h) in hosts {
            if h.install_key.is_none() {
                continue;
            }
            if version != FormatVersion::V3 {
                return Err(bad(
                    field,
                    format!(
                        "a version-{} file binds no install key (version 3 does)",
                        version.number()
                    ),
                ));
            }
        }
        check_text("product", &self.product, false)?;
        check_text("product_version", &self.product_version, false)?;
        check_text("generated_by", &self.generated_by, false)?;
        check_text("sold_to", &self.sold_to, false)?;
        check_text("install_site", &self.install_site, false)?;
        check_text("primary_host.machine", &self.primary_host.machine, false)?;
        if let Some(s) = &self.switchover_host {
            check_text("switchover_host.machine", &s.machine, false)?;
            if s.host_id == self.primary_host.host_id {
                return Err(bad(
                    "switchover_host",
                    "the switchover host has the same host ID as the primary host".into(),
                ));
            }
            let report = hostid::match_codes(&self.primary_host.host_id, &s.host_id);
            if report.is_match()
                || hostid::match_codes(&s.host_id, &self.primary_host.host_id).is_match()
            {
                return Err(bad(
                    "switchover_host",
                    format!(
                        "the switchover host {} matches the primary host {} under the tolerant host-ID rule, so a server could not tell which of the two it is",
                        s.host_id, self.primary_host.host_id
                    ),
                ));
            }
        }
        if self.supersedes == Some(self.file_id) {
            return Err(bad("supersedes", "a file cannot supersede itself".into()));
        }
        check_text("system_type", &self.system_type, true)?;
        check_text("mail_connector", &self.mail_connector, true)?;
        check_text("bundle", &self.bundle, true)?;
        check_text("description", &self.description, true)?;
        if self.valid_from > self.expires_at {
            return Err(bad(
                "valid_from",
                format!(
                    "{} is after expires_at {}",
                    self.valid_from, self.expires_at
                ),
            ));
        }
        if self.expires_at > Timestamp::PERPETUAL {
            return Err(bad(
                "expires_at",
                format!(
                    "{} is after {}, which already means perpetual (never expires)",
                    self.expires_at,
                    Timestamp::PERPETUAL
                ),
            ));
        }
        if self.grace_days > 3660 {
            return Err(bad(
                "grace_days",
                format!("{} days, at most 3660", self.grace_days),
            ));
        }
        check_list("features", &self.features)?;
        check_list("licenses", &self.licenses)?;
        check_list("ordered_items", &self.ordered_items)?;
        check_list("restrictions", &self.restrictions)?;
        for f in &self.features {
            check_name("features", f, version, &["I3_FEATURE_"])?;
        }
        check_unique("features", self.features.iter().map(String::as_str))?;
        for l in &self.licenses {
            check_name("licenses", &l.name, version, &["I3_ACCESS_", "I3_LICENSE_"])?;
            check_count(|| format!("licenses {} assigned", l.name), l.assigned)?;
            check_count(|| format!("licenses {} pooled", l.name), l.pooled)?;
        }
        check_unique("licenses", self.licenses.iter().map(|l| l.name.as_str()))?;
        for o in &self.ordered_items {
            check_text("ordered_items part", &o.part, false)?;
            check_text("ordered_items description", &o.description, true)?;
            check_count(|| format!("ordered_items {} quantity", o.part), o.quantity)?;
        }
        check_unique(
            "ordered_items",
            self.ordered_items.iter().map(|o| o.part.as_str()),
        )?;
        // One flag per kind of restriction (no copy to sort).
        let mut seen = [false; 2];
        for r in &self.restrictions {
            let kind = match r {
                Restriction::HourlyDisconnect => 0,
                Restriction::NotForProduction => 1,
            };
            if seen
                .get_mut(kind)
                .is_some_and(|s| std::mem::replace(s, true))
            {
                return Err(bad("restrictions", "a restriction appears twice".into()));
            }
        }
        self.rules.validate()?;
        Ok(())
    }

    /// The update chain's lineage: the chain's first file (a version-1 file, which has no
    /// chain, is its own lineage).
    pub fn lineage(&self) -> FileId {
        self.chain.map_or(self.file_id, |c| c.lineage)
    }

    /// The file's generation in its lineage (`None` for a version-1 file).
    pub fn generation(&self) -> Option<u32> {
        self.chain.map(|c| c.generation)
    }

    /// The license count for a key name, if the file grants it.
    pub fn license(&self, name: &str) -> Option<&LicenseCount> {
        self.licenses.iter().find(|l| l.name == name)
    }

    /// Whether the file enables a feature.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }

    /// Whether the license never expires (expiry at [`Timestamp::PERPETUAL`]).
    pub fn is_perpetual(&self) -> bool {
        self.expires_at == Timestamp::PERPETUAL
    }
}
