//! The product catalog: part numbers, what each grants, the upgrade mapping, and the license
//! rules (who may hold a key, how it may be allocated, and the rules between keys).
//!
//! The format is line-oriented; `catalog/cic.catalog` (built in) documents it in its header,
//! and the issuer's README gives the grammar and the count semantics of the rules.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use format::{
    Excludes, Holder, Implies, KeyRule, LicenseCount, LicenseType, Method, Requires, Rules,
    ALL_HOLDERS, ALL_METHODS,
};

/// The catalog shipped with the issuer.
pub const BUILT_IN: &str = include_str!("../catalog/cic.catalog");

/// An example catalog for another product, modelled on the Vonage Contact Center user
/// licences (agent, supervisor, wallboard and admin licences; Historical Analytics; Accent
/// Conversion): `issuer --catalog crates/issuer/catalog/vcc.catalog`.
pub const EXAMPLE_VCC: &str = include_str!("../catalog/vcc.catalog");

/// An example catalog for another product, modelled on Natterbox's licences (CTI, Freedom
/// implying CTI, Service Cloud Voice excluding Freedom, Cloud PBX, Contact Center, Record,
/// Insight): `issuer --catalog crates/issuer/catalog/natterbox.catalog`.
pub const EXAMPLE_NATTERBOX: &str = include_str!("../catalog/natterbox.catalog");

/// Largest catalog accepted, in bytes.
pub const MAX_CATALOG_SIZE: usize = 4 * 1024 * 1024;

/// Most characters of a catalog line an error message quotes (escaped, `…` when cut): a file
/// given as a catalog by mistake may hold secrets, so no message repeats a whole line.
pub const EXCERPT_CHARS: usize = 32;

/// Why a catalog was refused. Every variant but [`CatalogError::TooLarge`] and
/// [`CatalogError::Empty`] names the 1-based line at fault. Names quoted from the catalog are
/// cut to [`EXCERPT_CHARS`] characters and escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Larger than [`MAX_CATALOG_SIZE`].
    #[error("{size} bytes; at most {max} are accepted")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A line of the wrong shape.
    #[error("line {line}: {reason}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A record kind the format does not define.
    #[error("line {line}: unknown record kind '{kind}' (expected license, version, server, access, session, addon, upgrade, requires, implies, excludes or needs)")]
    UnknownRecord {
        /// 1-based line.
        line: usize,
        /// The kind found (an excerpt).
        kind: String,
    },
    /// An attribute this record kind does not take.
    #[error("line {line}: unknown attribute '{name}'")]
    UnknownAttribute {
        /// 1-based line.
        line: usize,
        /// The attribute's name.
        name: String,
    },
    /// A license key not declared by a `license` record, or not a license-key name
    /// (`format::is_key_name`) where one is declared.
    #[error("line {line}: unknown license key '{key}'")]
    UnknownLicenseKey {
        /// 1-based line.
        line: usize,
        /// The key.
        key: String,
    },
    /// A feature not listed by the part's product version (or not a feature name where a
    /// version declares one).
    #[error("line {line}: unknown feature '{feature}'")]
    UnknownFeature {
        /// 1-based line.
        line: usize,
        /// The feature.
        feature: String,
    },
    /// A part number (or license key, product version or rule) defined twice.
    #[error("line {line}: duplicate {what} '{name}' (first defined on line {first_line})")]
    Duplicate {
        /// 1-based line of the second definition.
        line: usize,
        /// `part`, `license key`, `version`, `requires rule`, ...
        what: &'static str,
        /// The repeated name.
        name: String,
        /// Line of the first definition.
        first_line: usize,
    },
    /// A count of zero where at least one is needed.
    #[error("line {line}: {what} has a zero count")]
    ZeroCount {
        /// 1-based line.
        line: usize,
        /// What has the zero count.
        what: String,
    },
    /// A reference to a part number the catalog does not define.
    #[error("line {line}: unknown part '{part}'")]
    UnknownPart {
        /// 1-based line.
        line: usize,
        /// The part named.
        part: String,
    },
    /// A category that no `version` record defines.
    #[error("line {line}: unknown product category '{category}' (declare it with a version record first)")]
    UnknownCategory {
        /// 1-based line.
        line: usize,
        /// The category named.
        category: String,
    },
    /// A license rule that cannot hold: a key requiring or implying itself, a cycle of
    /// `implies`, a key that implies a key it excludes (directly or through other keys),
    /// holders or methods a rule's keys do not share, or a file a development or fixed
    /// server part always makes that breaks a rule.
    #[error("line {line}: {reason}")]
    Rule {
        /// 1-based line of the rule (or part) at fault.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The text is a signing key file (public or secret, encrypted or not) given as a
    /// catalog: refused without quoting any of it.
    #[error("line {line}: this is a key file, not a catalog")]
    KeyFile {
        /// 1-based line of the key line.
        line: usize,
    },
    /// A catalog with no parts at all.
    #[error("the catalog defines no parts")]
    Empty,
}

impl CatalogError {
    /// The 1-based line the error names, if it names one.
    pub fn line(&self) -> Option<usize> {
        match self {
            CatalogError::Syntax { line, .. }
            | CatalogError::UnknownRecord { line, .. }
            | CatalogError::UnknownAttribute { line, .. }
            | CatalogError::UnknownLicenseKey { line, .. }
            | CatalogError::UnknownFeature { line, .. }
            | CatalogError::Duplicate { line, .. }
            | CatalogError::ZeroCount { line, .. }
            | CatalogError::UnknownPart { line, .. }
            | CatalogError::UnknownCategory { line, .. }
            | CatalogError::Rule { line, .. }
            | CatalogError::KeyFile { line } => Some(*line),
            CatalogError::TooLarge { .. } | CatalogError::Empty => None,
        }
    }
}

/// The catalog a command uses: the file at `path` (read bounded by [`MAX_CATALOG_SIZE`],
/// UTF-8, parsed), else the built-in one; any problem is [`IssuerError::Catalog`] naming
/// the source (a file that is not UTF-8 names the line where it stops being so).
pub fn load(path: Option<&std::path::Path>) -> Result<Catalog, crate::IssuerError> {
    use crate::IssuerError;
    match path {
        None => Catalog::built_in().map_err(|error| IssuerError::Catalog {
            source_name: "built-in".into(),
            error,
        }),
        Some(p) => {
            let bytes = crate::fsio::read_bounded(p, MAX_CATALOG_SIZE, "catalog")?;
            let text = String::from_utf8(bytes).map_err(|e| IssuerError::Catalog {
                source_name: p.display().to_string(),
                error: CatalogError::Syntax {
                    line: 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count(),
                    reason: "not UTF-8 text".into(),
                },
            })?;
            Catalog::parse(&text).map_err(|error| IssuerError::Catalog {
                source_name: p.display().to_string(),
                error,
            })
        }
    }
}

/// At most [`EXCERPT_CHARS`] characters of `s`, escaped (`escape_debug`), with `…` when cut:
/// what an error message may quote of a catalog line.
pub fn excerpt(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        out.extend(c.escape_debug());
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// What kind of ordered item a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// A server item: the one item a file is built on.
    Server,
    /// Access licenses (users or stations).
    Access,
    /// Session licenses.
    Session,
    /// Access add-on licenses, and server add-ons that enable features.
    Addon,
}

impl PartKind {
    fn parse(s: &str) -> Option<PartKind> {
        Some(match s {
            "server" => PartKind::Server,
            "access" => PartKind::Access,
            "session" => PartKind::Session,
            "addon" => PartKind::Addon,
            _ => return None,
        })
    }

    /// The record kind that declares it (`server`, `access`, `session`, `addon`).
    pub fn as_str(self) -> &'static str {
        match self {
            PartKind::Server => "server",
            PartKind::Access => "access",
            PartKind::Session => "session",
            PartKind::Addon => "addon",
        }
    }
}

/// Whether a development system is ordered or included with a production server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Development {
    /// Ordered separately (runs one year).
    Ordered,
    /// Included at no cost with a production server part.
    NonOrdered,
}

/// A license key and its counts per unit of a part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// A license key declared by the catalog.
    pub key: String,
    /// Assigned licenses per unit.
    pub assigned: u32,
    /// Pooled licenses per unit.
    pub pooled: u32,
}

/// What a server item brings to a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerSpec {
    /// License types the item may be issued as.
    pub types: Vec<LicenseType>,
    /// Features enabled (already expanded when the catalog said `*`).
    pub features: Vec<String>,
    /// The development system that comes with it at no cost.
    pub includes: Option<String>,
    /// For development systems: ordered or included.
    pub development: Option<Development>,
    /// Assigned count of every access and session key of the version (development systems).
    pub each: Option<u32>,
    /// A fixed configuration: no add-on items.
    pub fixed: bool,
}

impl ServerSpec {
    /// Whether a file of this item is fully decided by the item: a fixed configuration, or
    /// license types none of which takes add-on items (development, evaluation).
    pub fn takes_no_add_ons(&self) -> bool {
        self.fixed || self.types.iter().all(|t| !crate::rules::rule(*t).add_ons)
    }
}

/// One part number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Part {
    /// `SW-001-4.0-SL03`.
    pub number: String,
    /// What kind of item it is.
    pub kind: PartKind,
    /// Product category, `CIC 4.0`.
    pub category: String,
    /// Product line, `CIC`.
    pub product: String,
    /// Product version, `4.0`.
    pub version: String,
    /// `Intermediate Server`.
    pub description: String,
    /// Keys granted per unit (for a server: once per file).
    pub grants: Vec<Grant>,
    /// Features an add-on item enables on the server (`features=` of an `addon` record,
    /// such as a Recorder server); a server item's own features are in [`ServerSpec`].
    pub features: Vec<String>,
    /// Server details, for server items.
    pub server: Option<ServerSpec>,
    /// Line of the catalog that defines it.
    pub line: usize,
}

/// A product version the catalog knows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProductVersion {
    /// `CIC`.
    pub product: String,
    /// `4.0`.
    pub version: String,
    /// Every feature of the version.
    pub features: Vec<String>,
}

/// A license key the catalog declares, with who may hold it and how it may be allocated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct License {
    /// The key (`format::is_key_name`).
    pub key: String,
    /// What it is.
    pub description: String,
    /// Who may hold it, ascending (both when the record does not say).
    pub holders: Vec<Holder>,
    /// How it may be allocated, ascending (both when the record does not say).
    pub methods: Vec<Method>,
    /// Line of the `license` record.
    pub line: usize,
}

impl License {
    /// Whether the record restricts holders or methods (else both of each apply).
    pub fn has_attributes(&self) -> bool {
        self.holders != ALL_HOLDERS || self.methods != ALL_METHODS
    }

    /// Only stations may hold it (Basic Station): its pooled count is the pool of dynamic
    /// remote station logons, not concurrent licenses.
    pub fn station_only(&self) -> bool {
        self.holders == [Holder::Station]
    }

    /// Its holders and methods as a [`KeyRule`].
    pub fn key_rule(&self) -> KeyRule {
        KeyRule {
            key: self.key.clone(),
            holders: self.holders.clone(),
            methods: self.methods.clone(),
        }
    }
}

/// A file-level rule: a file that grants license key (or enables feature) `key` must also
/// grant (any count) or enable at least one of `any_of`. Checked by the issuer on the whole
/// file, so it is not part of [`Rules`] (which are per holder, and travel in the file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Needs {
    /// The license key or feature that needs another.
    pub key: String,
    /// License keys or features of which the file needs at least one, ascending.
    pub any_of: Vec<String>,
}

/// A rule with the catalog line that declares it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located<T> {
    /// 1-based line of the record.
    pub line: usize,
    /// The rule.
    #[serde(flatten)]
    pub rule: T,
}

/// Rules of a catalog with their lines, grouped by kind (what `issuer catalog rules` and
/// `issuer catalog show` print). Each list is sorted by its rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CatalogRules {
    /// Keys whose `license` record restricts holders or methods.
    pub keys: Vec<Located<KeyRule>>,
    /// `requires` (per holder).
    pub requires: Vec<Located<Requires>>,
    /// `implies` (per holder).
    pub implies: Vec<Located<Implies>>,
    /// `excludes` (per holder).
    pub excludes: Vec<Located<Excludes>>,
    /// `needs` (per file).
    pub needs: Vec<Located<Needs>>,
}

impl CatalogRules {
    /// The per-holder rules, without lines (what a version-2 file carries).
    pub fn to_rules(&self) -> Rules {
        Rules {
            keys: self.keys.iter().map(|r| r.rule.clone()).collect(),
            requires: self.requires.iter().map(|r| r.rule.clone()).collect(),
            implies: self.implies.iter().map(|r| r.rule.clone()).collect(),
            excludes: self.excludes.iter().map(|r| r.rule.clone()).collect(),
        }
    }

    /// True when there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.requires.is_empty()
            && self.implies.is_empty()
            && self.excludes.is_empty()
            && self.needs.is_empty()
    }
}

/// A license rule a file breaks (the issuer refuses the file: exit 22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule as the catalog writes it, with its line (`requires | X | Y (catalog line 7)`).
    pub rule: String,
    /// The counts and why they break it.
    pub detail: String,
}

/// A parsed, validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    licenses: BTreeMap<String, License>,
    versions: BTreeMap<String, ProductVersion>,
    parts: BTreeMap<String, Part>,
    upgrades: BTreeMap<String, String>,
    /// Every feature of every version, with the line of the first version naming it.
    features: BTreeMap<String, usize>,
    rules: CatalogRules,
}

fn syntax(line: usize, reason: impl Into<String>) -> CatalogError {
    CatalogError::Syntax {
        line,
        reason: reason.into(),
    }
}

fn rule_error(line: usize, reason: impl Into<String>) -> CatalogError {
    CatalogError::Rule {
        line,
        reason: reason.into(),
    }
}

fn is_part_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
}

fn check_text(line: usize, what: &str, s: &str) -> Result<(), CatalogError> {
    // Catalog text ends up in files, whose text values refuse these characters too.
    if let Some(why) = format::text::refused_char_reason(s) {
        return Err(syntax(line, format!("{what} {why}")));
    }
    if s.is_empty() || s.len() > format::MAX_TEXT_LEN {
        return Err(syntax(
            line,
            format!(
                "{what} must be 1 to {} printable characters",
                format::MAX_TEXT_LEN
            ),
        ));
    }
    Ok(())
}

fn parse_count(line: usize, what: &str, s: &str) -> Result<u32, CatalogError> {
    let n: u32 = s.parse().map_err(|_| {
        syntax(
            line,
            format!("{}: '{}' is not a whole number", excerpt(what), excerpt(s)),
        )
    })?;
    if n > format::MAX_COUNT {
        return Err(syntax(
            line,
            format!("{}: {n} is above {}", excerpt(what), format::MAX_COUNT),
        ));
    }
    Ok(n)
}

/// The families of key-file tags (`i3lic-public-key-`, ...): a line starting with one of
/// them is a key line whatever its version.
fn key_file_line(text: &str) -> Option<usize> {
    let families: Vec<&str> = [
        format::PUBLIC_KEY_TAG,
        format::SECRET_KEY_TAG,
        crate::keys::ENCRYPTED_KEY_TAG,
    ]
    .iter()
    .map(|t| t.rsplit_once('-').map_or(*t, |(family, _)| family))
    .collect();
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        families
            .iter()
            .any(|f| t.starts_with(f) && t.as_bytes().get(f.len()) == Some(&b'-'))
            .then_some(i + 1)
    })
}

/// A rule's comma-separated list of distinct names (`format::is_key_name`), at most
/// [`format::MAX_RULE_KEYS`], sorted (the one spelling of a set); `bad` builds the error for
/// a name that is not one, from its excerpt.
fn name_list(
    line: usize,
    what: &str,
    value: &str,
    bad: impl Fn(String) -> CatalogError,
) -> Result<Vec<String>, CatalogError> {
    let mut out: Vec<String> = Vec::new();
    for n in value.split(',').map(str::trim) {
        if !format::is_key_name(n) {
            return Err(bad(excerpt(n)));
        }
        if out.iter().any(|o| o == n) {
            return Err(syntax(line, format!("{what}: {n} is listed twice")));
        }
        // Refused on the first name past the bound, before a long line costs anything.
        if out.len() == format::MAX_RULE_KEYS {
            return Err(syntax(
                line,
                format!(
                    "{what}: more than {} names, at most {} in one rule",
                    format::MAX_RULE_KEYS,
                    format::MAX_RULE_KEYS
                ),
            ));
        }
        out.push(n.to_string());
    }
    out.sort();
    Ok(out)
}

fn unknown_key(line: usize) -> impl Fn(String) -> CatalogError {
    move |key| CatalogError::UnknownLicenseKey { line, key }
}

/// A rule record as written, resolved once the whole catalog is read.
enum RawRule {
    Requires(Requires),
    Implies(Implies),
    Excludes(Excludes),
    Needs(Needs),
}

impl RawRule {
    fn kind(&self) -> &'static str {
        match self {
            RawRule::Requires(_) => "requires",
            RawRule::Implies(_) => "implies",
            RawRule::Excludes(_) => "excludes",
            RawRule::Needs(_) => "needs",
        }
    }
}

/// `requires | X | Y1,Y2` as the catalog writes it.
fn show_requires(r: &Requires) -> String {
    format!("requires | {} | {}", r.key, r.any_of.join(","))
}

fn show_implies(r: &Implies) -> String {
    format!("implies | {} | {}", r.key, r.implied)
}

fn show_excludes(r: &Excludes) -> String {
    format!("excludes | {}", r.keys.join(","))
}

fn show_needs(r: &Needs) -> String {
    format!("needs | {} | {}", r.key, r.any_of.join(","))
}

fn show_key_rule(r: &KeyRule) -> String {
    let join = |v: Vec<&str>| v.join(",");
    format!(
        "license | {} | holders={} | methods={}",
        r.key,
        join(r.holders.iter().map(|h| h.as_str()).collect()),
        join(r.methods.iter().map(|m| m.as_str()).collect())
    )
}

impl Located<Requires> {
    /// The rule as the catalog writes it.
    pub fn text(&self) -> String {
        show_requires(&self.rule)
    }
}

impl Located<Implies> {
    /// The rule as the catalog writes it.
    pub fn text(&self) -> String {
        show_implies(&self.rule)
    }
}

impl Located<Excludes> {
    /// The rule as the catalog writes it.
    pub fn text(&self) -> String {
        show_excludes(&self.rule)
    }
}

impl Located<Needs> {
    /// The rule as the catalog writes it.
    pub fn text(&self) -> String {
        show_needs(&self.rule)
    }
}

impl Located<KeyRule> {
    /// The attributes as the catalog writes them (both attributes, spelled out).
    pub fn text(&self) -> String {
        show_key_rule(&self.rule)
    }
}

impl Catalog {
    /// The built-in catalog.
    pub fn built_in() -> Result<Catalog, CatalogError> {
        Catalog::parse(BUILT_IN)
    }

    /// Parse and validate a catalog's text.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        if text.len() > MAX_CATALOG_SIZE {
            return Err(CatalogError::TooLarge {
                size: text.len(),
                max: MAX_CATALOG_SIZE,
            });
        }
        // Before anything quotes a line: a key file given as a catalog is named as such.
        if let Some(line) = key_file_line(text) {
            return Err(CatalogError::KeyFile { line });
        }
        let mut cat = Catalog {
            licenses: BTreeMap::new(),
            versions: BTreeMap::new(),
            parts: BTreeMap::new(),
            upgrades: BTreeMap::new(),
            features: BTreeMap::new(),
            rules: CatalogRules::default(),
        };
        let mut version_lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut upgrade_lines: Vec<(usize, String, String)> = Vec::new();
        let mut raw_rules: Vec<(usize, RawRule)> = Vec::new();
        // Features marked `*` are expanded once the whole version is known; includes, upgrades
        // and rules are checked once every record is known.
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = t.split('|').map(str::trim).collect();
            let (kind, rest) = fields
                .split_first()
                .ok_or_else(|| syntax(line, "empty record"))?;
            match *kind {
                "license" => {
                    let lic = parse_license(line, rest)?;
                    if let Some(first) = cat.licenses.get(&lic.key) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "license key",
                            name: excerpt(&lic.key),
                            first_line: first.line,
                        });
                    }
                    cat.licenses.insert(lic.key.clone(), lic);
                }
                "version" => {
                    let [product, version, attrs @ ..] = rest else {
                        return Err(syntax(
                            line,
                            "a version record is: version | PRODUCT | VERSION | features=...",
                        ));
                    };
                    check_text(line, "product", product)?;
                    check_text(line, "version", version)?;
                    if product.contains(' ') || version.contains(' ') {
                        return Err(syntax(line, "product and version are single words"));
                    }
                    let mut features = Vec::new();
                    let mut seen_features = false;
                    for a in attrs {
                        let (name, value) = split_attr(line, a)?;
                        if name != "features" {
                            return Err(CatalogError::UnknownAttribute {
                                line,
                                name: excerpt(name),
                            });
                        }
                        if std::mem::replace(&mut seen_features, true) {
                            return Err(syntax(line, "features= is given twice"));
                        }
                        features = parse_features(line, value, None)?;
                    }
                    let category = format!("{product} {version}");
                    if let Some(&first_line) = version_lines.get(&category) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "version",
                            name: excerpt(&category),
                            first_line,
                        });
                    }
                    for f in &features {
                        cat.features.entry(f.clone()).or_insert(line);
                    }
                    version_lines.insert(category.clone(), line);
                    cat.versions.insert(
                        category,
                        ProductVersion {
                            product: product.to_string(),
                            version: version.to_string(),
                            features,
                        },
                    );
                }
                "upgrade" => {
                    let [from, to] = rest else {
                        return Err(syntax(
                            line,
                            "an upgrade record is: upgrade | FROM-PART | TO-PART",
                        ));
                    };
                    upgrade_lines.push((line, from.to_string(), to.to_string()));
                }
                "requires" | "implies" | "excludes" | "needs" => {
                    raw_rules.push((line, parse_rule(line, kind, rest)?));
                }
                other => {
                    let Some(kind) = PartKind::parse(other) else {
                        return Err(CatalogError::UnknownRecord {
                            line,
                            kind: excerpt(other),
                        });
                    };
                    let part = cat.parse_part(line, kind, rest)?;
                    if let Some(first) = cat.parts.get(&part.number) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "part",
                            name: excerpt(&part.number),
                            first_line: first.line,
                        });
                    }
                    cat.parts.insert(part.number.clone(), part);
                }
            }
        }
        for part in cat.parts.values() {
            if let Some(inc) = part.server.as_ref().and_then(|s| s.includes.as_ref()) {
                match cat.parts.get(inc) {
                    None => {
                        return Err(CatalogError::UnknownPart {
                            line: part.line,
                            part: excerpt(inc),
                        })
                    }
                    Some(p)
                        if p.server.as_ref().and_then(|s| s.development)
                            != Some(Development::NonOrdered) =>
                    {
                        return Err(syntax(
                            part.line,
                            format!(
                                "includes={}: not a development system included with a server",
                                excerpt(inc)
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        for (line, from, to) in upgrade_lines {
            for p in [&from, &to] {
                if !cat.parts.contains_key(p) {
                    return Err(CatalogError::UnknownPart {
                        line,
                        part: excerpt(p),
                    });
                }
            }
            if cat.upgrades.insert(from.clone(), to).is_some() {
                return Err(CatalogError::Duplicate {
                    line,
                    what: "upgrade of",
                    name: excerpt(&from),
                    first_line: line,
                });
            }
        }
        if cat.parts.is_empty() {
            return Err(CatalogError::Empty);
        }
        // A name is a license key or a feature, never both, so `needs` reads one way.
        for lic in cat.licenses.values() {
            if let Some(&vline) = cat.features.get(&lic.key) {
                return Err(syntax(
                    lic.line.max(vline),
                    format!(
                        "{} is both a license key (line {}) and a feature (line {vline})",
                        lic.key, lic.line
                    ),
                ));
            }
        }
        let attributed = cat.licenses.values().filter(|l| l.has_attributes());
        if let Some(l) = attributed.clone().nth(format::MAX_LIST_LEN) {
            return Err(syntax(
                l.line,
                format!(
                    "more than {} license records with holders= or methods=",
                    format::MAX_LIST_LEN
                ),
            ));
        }
        cat.rules.keys = attributed
            .map(|l| Located {
                line: l.line,
                rule: l.key_rule(),
            })
            .collect();
        cat.resolve_rules(raw_rules)?;
        cat.check_fixed_servers()?;
        Ok(cat)
    }

    /// Check every rule record against the declared keys and each other, and keep them.
    fn resolve_rules(&mut self, raw: Vec<(usize, RawRule)>) -> Result<(), CatalogError> {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut seen: BTreeMap<(String, Vec<String>), usize> = BTreeMap::new();
        // The implies graph as built so far, to find the record that closes a cycle.
        let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // The rules a file may carry (key rules, requires, implies, excludes) count together
        // against format::MAX_RULES, so that every file made from the catalog is within it.
        let mut in_files = self.rules.keys.len();
        for (line, rule) in raw {
            let n = counts.entry(rule.kind()).or_insert(0);
            *n += 1;
            if *n > format::MAX_LIST_LEN {
                return Err(syntax(
                    line,
                    format!("more than {} {} rules", format::MAX_LIST_LEN, rule.kind()),
                ));
            }
            if !matches!(rule, RawRule::Needs(_)) {
                in_files += 1;
                if in_files > format::MAX_RULES {
                    return Err(syntax(
                        line,
                        format!(
                            "more than {} rules in all (license records with holders= or methods=, requires, implies and excludes records together)",
                            format::MAX_RULES
                        ),
                    ));
                }
            }
            let key = |k: &str| -> Result<&License, CatalogError> {
                self.licenses
                    .get(k)
                    .ok_or_else(|| CatalogError::UnknownLicenseKey {
                        line,
                        key: excerpt(k),
                    })
            };
            let (what, dedup_key): (&'static str, (String, Vec<String>)) = match &rule {
                RawRule::Requires(r) => {
                    let x = key(&r.key)?;
                    let ys = r
                        .any_of
                        .iter()
                        .map(|y| key(y))
                        .collect::<Result<Vec<_>, _>>()?;
                    if r.any_of.contains(&r.key) {
                        return Err(rule_error(line, format!("{} requires itself", r.key)));
                    }
                    for h in &x.holders {
                        if !ys.iter().any(|y| y.holders.contains(h)) {
                            return Err(rule_error(
                                line,
                                format!(
                                    "{} may be held by a {h}, but none of {} may: it could never be held by one",
                                    r.key,
                                    r.any_of.join(", ")
                                ),
                            ));
                        }
                    }
                    for m in &x.methods {
                        if !ys.iter().any(|y| y.methods.contains(m)) {
                            return Err(rule_error(
                                line,
                                format!(
                                    "{} may be allocated {m}, but none of {} may: it could never be allocated so",
                                    r.key,
                                    r.any_of.join(", ")
                                ),
                            ));
                        }
                    }
                    (
                        "requires rule",
                        (format!("requires {}", r.key), r.any_of.clone()),
                    )
                }
                RawRule::Implies(r) => {
                    let x = key(&r.key)?;
                    let y = key(&r.implied)?;
                    if r.key == r.implied {
                        return Err(rule_error(line, format!("{} implies itself", r.key)));
                    }
                    if let Some(h) = x.holders.iter().find(|h| !y.holders.contains(h)) {
                        return Err(rule_error(
                            line,
                            format!(
                                "{} may be held by a {h} but {} may not, so allocating it could not allocate {}",
                                r.key, r.implied, r.implied
                            ),
                        ));
                    }
                    if let Some(m) = x.methods.iter().find(|m| !y.methods.contains(m)) {
                        return Err(rule_error(
                            line,
                            format!(
                                "{} may be allocated {m} but {} may not, so allocating it could not allocate {}",
                                r.key, r.implied, r.implied
                            ),
                        ));
                    }
                    if let Some(path) = path_between(&graph, &r.implied, &r.key) {
                        let mut cycle = vec![r.key.clone()];
                        cycle.extend(path);
                        return Err(rule_error(
                            line,
                            format!("the rules form a cycle: {}", cycle.join(" implies ")),
                        ));
                    }
                    (
                        "implies rule",
                        (format!("implies {}", r.key), vec![r.implied.clone()]),
                    )
                }
                RawRule::Excludes(r) => {
                    for k in &r.keys {
                        key(k)?;
                    }
                    ("excludes rule", ("excludes".into(), r.keys.clone()))
                }
                RawRule::Needs(r) => {
                    for n in std::iter::once(&r.key).chain(&r.any_of) {
                        if !self.licenses.contains_key(n) && !self.features.contains_key(n) {
                            return Err(rule_error(
                                line,
                                format!(
                                    "'{}' is neither a license key nor a feature of the catalog",
                                    excerpt(n)
                                ),
                            ));
                        }
                    }
                    if r.any_of.contains(&r.key) {
                        return Err(rule_error(line, format!("{} needs itself", r.key)));
                    }
                    ("needs rule", (format!("needs {}", r.key), r.any_of.clone()))
                }
            };
            if let Some(&first_line) = seen.get(&dedup_key) {
                let name = match &rule {
                    RawRule::Requires(r) => show_requires(r),
                    RawRule::Implies(r) => show_implies(r),
                    RawRule::Excludes(r) => show_excludes(r),
                    RawRule::Needs(r) => show_needs(r),
                };
                return Err(CatalogError::Duplicate {
                    line,
                    what,
                    name: excerpt(&name),
                    first_line,
                });
            }
            seen.insert(dedup_key, line);
            match rule {
                RawRule::Requires(rule) => self.rules.requires.push(Located { line, rule }),
                RawRule::Implies(rule) => {
                    graph
                        .entry(rule.key.clone())
                        .or_default()
                        .push(rule.implied.clone());
                    self.rules.implies.push(Located { line, rule });
                }
                RawRule::Excludes(rule) => self.rules.excludes.push(Located { line, rule }),
                RawRule::Needs(rule) => self.rules.needs.push(Located { line, rule }),
            }
        }
        self.check_implied_excluded(&graph)?;
        self.rules
            .requires
            .sort_by(|a, b| (&a.rule.key, &a.rule.any_of).cmp(&(&b.rule.key, &b.rule.any_of)));
        self.rules
            .implies
            .sort_by(|a, b| (&a.rule.key, &a.rule.implied).cmp(&(&b.rule.key, &b.rule.implied)));
        self.rules
            .excludes
            .sort_by(|a, b| a.rule.keys.cmp(&b.rule.keys));
        self.rules
            .needs
            .sort_by(|a, b| (&a.rule.key, &a.rule.any_of).cmp(&(&b.rule.key, &b.rule.any_of)));
        // The checks above are `Rules::validate`'s, with lines; this one keeps them honest.
        self.rules.to_rules().validate().map_err(|e| {
            let r = &self.rules;
            let line = (r.keys.iter().map(|x| x.line))
                .chain(r.requires.iter().map(|x| x.line))
                .chain(r.implies.iter().map(|x| x.line))
                .chain(r.excludes.iter().map(|x| x.line))
                .max()
                .unwrap_or(1);
            rule_error(line, e.to_string())
        })?;
        Ok(())
    }

    /// No key may bring (itself, or through `implies`) two keys of one `excludes` set: it
    /// would imply a key it excludes, or two keys that exclude each other, and could never
    /// be allocated. Reported at the `excludes` record's line.
    fn check_implied_excluded(
        &self,
        graph: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), CatalogError> {
        if graph.is_empty() || self.rules.excludes.is_empty() {
            return Ok(());
        }
        let mut sets_of: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, e) in self.rules.excludes.iter().enumerate() {
            for k in &e.rule.keys {
                sets_of.entry(k.as_str()).or_default().push(i);
            }
        }
        let mut worst: Option<(usize, String)> = None;
        for x in graph.keys() {
            let brought = closure(graph, x);
            let mut hits: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
            for k in std::iter::once(x.as_str()).chain(brought.iter().map(String::as_str)) {
                for &i in sets_of.get(k).map(Vec::as_slice).unwrap_or_default() {
                    hits.entry(i).or_default().push(k);
                }
            }
            for (i, ks) in hits {
                if ks.len() < 2 {
                    continue;
                }
                let e = &self.rules.excludes[i];
                let reason = if ks[0] == x {
                    format!(
                        "{x} implies {} (directly or through other keys), and the two exclude each other ({})",
                        ks[1],
                        show_excludes(&e.rule)
                    )
                } else {
                    format!(
                        "{x} implies both {} and {}, which exclude each other ({}): {x} could never be allocated",
                        ks[0],
                        ks[1],
                        show_excludes(&e.rule)
                    )
                };
                if worst.as_ref().is_none_or(|(l, _)| e.line < *l) {
                    worst = Some((e.line, reason));
                }
            }
        }
        match worst {
            Some((line, reason)) => Err(rule_error(line, reason)),
            None => Ok(()),
        }
    }

    /// A server part whose file is decided by the part alone (development systems, fixed
    /// configurations) must make a file that respects the rules: checked here, naming the
    /// part's line, rather than on every request for it.
    fn check_fixed_servers(&self) -> Result<(), CatalogError> {
        for part in self.parts.values() {
            let Some(spec) = &part.server else {
                continue;
            };
            if !spec.takes_no_add_ons() {
                continue;
            }
            let counts = self.file_counts(part, &[]);
            let licenses: Vec<LicenseCount> = counts
                .into_iter()
                .map(|(name, (a, p))| LicenseCount {
                    name,
                    assigned: u32::try_from(a).unwrap_or(u32::MAX),
                    pooled: u32::try_from(p).unwrap_or(u32::MAX),
                })
                .collect();
            let features = self.file_features(part, &[]);
            if let Err(v) = self.check_counts(&licenses, &features) {
                return Err(rule_error(
                    part.line,
                    format!(
                        "server part {} always makes a file that breaks {}: {}",
                        part.number, v.rule, v.detail
                    ),
                ));
            }
        }
        Ok(())
    }

    fn parse_part(&self, line: usize, kind: PartKind, rest: &[&str]) -> Result<Part, CatalogError> {
        let [number, category, description, attrs @ ..] = rest else {
            return Err(syntax(
                line,
                "a part record is: KIND | PART | CATEGORY | DESCRIPTION | attributes",
            ));
        };
        if !is_part_number(number) {
            return Err(syntax(
                line,
                format!(
                    "'{}' is not a part number (A-Z, 0-9, '-', '.')",
                    excerpt(number)
                ),
            ));
        }
        check_text(line, "description", description)?;
        let pv = self
            .versions
            .get(*category)
            .ok_or_else(|| CatalogError::UnknownCategory {
                line,
                category: excerpt(category),
            })?;
        let mut grants = Vec::new();
        let mut part_features = Vec::new();
        let mut types = Vec::new();
        let mut features = None;
        let mut includes = None;
        let mut development = None;
        let mut each = None;
        let mut fixed = false;
        let mut seen: Vec<&str> = Vec::new();
        let server = kind == PartKind::Server;
        for a in attrs {
            if server && *a == "fixed" {
                fixed = true;
                continue;
            }
            let (name, value) = split_attr(line, a)?;
            if seen.contains(&name) {
                return Err(syntax(line, format!("{}= is given twice", excerpt(name))));
            }
            seen.push(name);
            match name {
                "grants" => grants = self.parse_grants(line, value)?,
                "features" if kind == PartKind::Addon => {
                    if value == "*" {
                        return Err(syntax(
                            line,
                            "'*' is only allowed for a server part's features",
                        ));
                    }
                    part_features = parse_features(line, value, Some(pv))?;
                }
                "types" if server => {
                    for t in value.split(',').map(str::trim) {
                        let lt: LicenseType = t.parse().map_err(|_| {
                            syntax(
                                line,
                                format!("types: '{}' is not a license type", excerpt(t)),
                            )
                        })?;
                        if types.contains(&lt) {
                            return Err(syntax(line, format!("types: {t} is listed twice")));
                        }
                        types.push(lt);
                    }
                }
                "features" if server => features = Some(parse_features(line, value, Some(pv))?),
                "includes" if server => includes = Some(value.to_string()),
                "development" if server => {
                    development = Some(match value {
                        "ordered" => Development::Ordered,
                        "non-ordered" => Development::NonOrdered,
                        _ => return Err(syntax(line, "development is 'ordered' or 'non-ordered'")),
                    })
                }
                "each" if server => {
                    let n = parse_count(line, "each", value)?;
                    if n == 0 {
                        return Err(CatalogError::ZeroCount {
                            line,
                            what: "each".into(),
                        });
                    }
                    each = Some(n);
                }
                _ => {
                    return Err(CatalogError::UnknownAttribute {
                        line,
                        name: excerpt(name),
                    })
                }
            }
        }
        let spec = if server {
            if types.is_empty() {
                return Err(syntax(line, "a server part needs types=..."));
            }
            let features =
                features.ok_or_else(|| syntax(line, "a server part needs features=..."))?;
            let dev = types.iter().any(|t| t.is_development());
            if dev != development.is_some() || dev && types.iter().any(|t| !t.is_development()) {
                return Err(syntax(
                    line,
                    "development=... goes with (only) development license types",
                ));
            }
            Some(ServerSpec {
                types,
                features,
                includes,
                development,
                each,
                fixed,
            })
        } else {
            if grants.is_empty() && part_features.is_empty() {
                return Err(syntax(
                    line,
                    if kind == PartKind::Addon {
                        "an add-on part needs grants=... or features=..."
                    } else {
                        "an access or session part needs grants=..."
                    },
                ));
            }
            None
        };
        Ok(Part {
            number: number.to_string(),
            kind,
            category: category.to_string(),
            product: pv.product.clone(),
            version: pv.version.clone(),
            description: description.to_string(),
            grants,
            features: part_features,
            server: spec,
            line,
        })
    }

    fn parse_grants(&self, line: usize, value: &str) -> Result<Vec<Grant>, CatalogError> {
        let mut out: Vec<Grant> = Vec::new();
        for g in value.split(',').map(str::trim) {
            let shape = || {
                syntax(
                    line,
                    format!("grant '{}' is not KEY:ASSIGNED/POOLED", excerpt(g)),
                )
            };
            let (key, counts) = g.split_once(':').ok_or_else(shape)?;
            let (a, p) = counts.split_once('/').ok_or_else(shape)?;
            if !self.licenses.contains_key(key) {
                return Err(CatalogError::UnknownLicenseKey {
                    line,
                    key: excerpt(key),
                });
            }
            let assigned = parse_count(line, key, a)?;
            let pooled = parse_count(line, key, p)?;
            if assigned == 0 && pooled == 0 {
                return Err(CatalogError::ZeroCount {
                    line,
                    what: format!("grant {key}"),
                });
            }
            if out.iter().any(|o| o.key == key) {
                return Err(syntax(line, format!("{key} is granted twice")));
            }
            out.push(Grant {
                key: key.to_string(),
                assigned,
                pooled,
            });
        }
        Ok(out)
    }

    /// A part by number.
    pub fn part(&self, number: &str) -> Option<&Part> {
        self.parts.get(number)
    }

    /// The part a number names, compared without case (`sw-001-4.0-al02` is
    /// `SW-001-4.0-AL02`; blanks around it ignored), or [`IssuerError::UnknownPart`] with the
    /// closest part numbers as suggestions. Callers keep the part's own [`Part::number`].
    pub fn lookup_part(&self, number: &str) -> Result<&Part, crate::IssuerError> {
        let n = number.trim();
        if let Some(p) = self.parts.get(n) {
            return Ok(p);
        }
        if let Some(p) = self
            .parts
            .values()
            .find(|p| p.number.eq_ignore_ascii_case(n))
        {
            return Ok(p);
        }
        Err(crate::IssuerError::UnknownPart {
            part: n.to_string(),
            suggestions: crate::suggest::closest(n, self.parts.keys().map(String::as_str)),
        })
    }

    /// Every part, sorted by number.
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        self.parts.values()
    }

    /// A product version by product and version (`CIC`, `4.0`).
    pub fn version(&self, product: &str, version: &str) -> Option<&ProductVersion> {
        self.versions.get(&format!("{product} {version}"))
    }

    /// The description of a declared license key.
    pub fn license_description(&self, key: &str) -> Option<&str> {
        self.licenses.get(key).map(|l| l.description.as_str())
    }

    /// A declared license key, with its holders and methods.
    pub fn license(&self, key: &str) -> Option<&License> {
        self.licenses.get(key)
    }

    /// Every declared license key, sorted.
    pub fn licenses(&self) -> impl Iterator<Item = &License> {
        self.licenses.values()
    }

    /// Whether some product version of the catalog has the feature.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.contains_key(feature)
    }

    /// The part an ordered item upgrades to, if it has an upgrade option.
    pub fn upgrade_of(&self, part: &str) -> Option<&str> {
        self.upgrades.get(part).map(String::as_str)
    }

    /// Every upgrade option, `(from, to)`, sorted by `from`.
    pub fn upgrades(&self) -> impl Iterator<Item = (&str, &str)> {
        self.upgrades.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// Every access and session key granted by some part of a category (what a development
    /// system's `each=N` covers), sorted.
    pub fn access_and_session_keys(&self, category: &str) -> Vec<&str> {
        let keys: BTreeSet<&str> = self
            .parts
            .values()
            .filter(|p| {
                p.category == category && matches!(p.kind, PartKind::Access | PartKind::Session)
            })
            .flat_map(|p| p.grants.iter().map(|g| g.key.as_str()))
            .collect();
        keys.into_iter().collect()
    }

    /// What a file of `server` with the items `adds` grants, per license key, sorted:
    /// `(assigned, pooled)` summed over the server's own grants (once), `each=N` assigned of
    /// every access and session key of its category (development systems), and each item's
    /// grants times its quantity. Sums are exact (`u64`); callers bound them.
    pub fn file_counts(
        &self,
        server: &Part,
        adds: &[(&Part, u32)],
    ) -> BTreeMap<String, (u64, u64)> {
        let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut add = |key: &str, a: u64, p: u64| {
            let e = counts.entry(key.to_string()).or_insert((0, 0));
            e.0 += a;
            e.1 += p;
        };
        for g in &server.grants {
            add(&g.key, g.assigned.into(), g.pooled.into());
        }
        if let Some(n) = server.server.as_ref().and_then(|s| s.each) {
            for key in self.access_and_session_keys(&server.category) {
                add(key, n.into(), 0);
            }
        }
        for (part, q) in adds {
            for g in &part.grants {
                add(
                    &g.key,
                    u64::from(g.assigned) * u64::from(*q),
                    u64::from(g.pooled) * u64::from(*q),
                );
            }
        }
        counts
    }

    /// The features a file of `server` with the items `adds` enables: the server's, then
    /// those the items add (in the order given), each once.
    pub fn file_features(&self, server: &Part, adds: &[(&Part, u32)]) -> Vec<String> {
        let mut out: Vec<String> = server
            .server
            .as_ref()
            .map(|s| s.features.clone())
            .unwrap_or_default();
        for (part, _) in adds {
            for f in &part.features {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    /// Every rule of the catalog with its line, grouped by kind.
    pub fn rules(&self) -> &CatalogRules {
        &self.rules
    }

    /// The rules that concern the license keys and features `names` (what `issuer catalog
    /// show PART` prints): attributes of those keys, `requires`, `implies` and `needs` whose
    /// subject is one of them, and every `excludes` set holding one of them (whole).
    pub fn rules_about<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> CatalogRules {
        let names: BTreeSet<&str> = names.into_iter().collect();
        let has = |k: &str| names.contains(k);
        CatalogRules {
            keys: self
                .rules
                .keys
                .iter()
                .filter(|r| has(&r.rule.key))
                .cloned()
                .collect(),
            requires: self
                .rules
                .requires
                .iter()
                .filter(|r| has(&r.rule.key))
                .cloned()
                .collect(),
            implies: self
                .rules
                .implies
                .iter()
                .filter(|r| has(&r.rule.key))
                .cloned()
                .collect(),
            excludes: self
                .rules
                .excludes
                .iter()
                .filter(|r| r.rule.keys.iter().any(|k| has(k)))
                .cloned()
                .collect(),
            needs: self
                .rules
                .needs
                .iter()
                .filter(|r| has(&r.rule.key))
                .cloned()
                .collect(),
        }
    }

    /// The per-holder rules that apply to a file granting the license keys `keys` (what its
    /// version-2 `rules` section holds), so a server enforces them on every allocation:
    ///
    /// - `keys`: the holders and methods of each of those keys whose `license` record
    ///   restricts them (a key not listed may be held by users and stations, by either
    ///   method);
    /// - `requires`: each rule whose key is one of them, its `any_of` cut to the keys of the
    ///   file (a key the file does not grant cannot be held); when none of them is in the
    ///   file the rule keeps its whole `any_of`, so the server still refuses the key alone;
    /// - `implies`: each rule whose key is one of them;
    /// - `excludes`: each set cut to the keys of the file, dropped when fewer than two
    ///   remain.
    ///
    /// Keys the catalog does not declare are ignored; `needs` rules are about the file as a
    /// whole and are checked by the issuer ([`Catalog::check_counts`]), not carried. Every
    /// list is sorted and free of repeats, so the same keys always give the same bytes, and
    /// the result always passes [`Rules::validate`].
    pub fn rules_for<'a>(&self, keys: impl IntoIterator<Item = &'a str>) -> Rules {
        let present: BTreeSet<&str> = keys
            .into_iter()
            .filter(|k| self.licenses.contains_key(*k))
            .collect();
        let mut out = Rules {
            keys: present
                .iter()
                .filter_map(|k| self.licenses.get(*k))
                .filter(|l| l.has_attributes())
                .map(License::key_rule)
                .collect(),
            ..Rules::default()
        };
        for r in &self.rules.requires {
            if !present.contains(r.rule.key.as_str()) {
                continue;
            }
            let cut: Vec<String> = r
                .rule
                .any_of
                .iter()
                .filter(|y| present.contains(y.as_str()))
                .cloned()
                .collect();
            out.requires.push(Requires {
                key: r.rule.key.clone(),
                any_of: if cut.is_empty() {
                    r.rule.any_of.clone()
                } else {
                    cut
                },
            });
        }
        for r in &self.rules.implies {
            if present.contains(r.rule.key.as_str()) {
                out.implies.push(r.rule.clone());
            }
        }
        for r in &self.rules.excludes {
            let cut: Vec<String> = r
                .rule
                .keys
                .iter()
                .filter(|k| present.contains(k.as_str()))
                .cloned()
                .collect();
            if cut.len() >= 2 {
                out.excludes.push(Excludes { keys: cut });
            }
        }
        out.keys.sort_by(|a, b| a.key.cmp(&b.key));
        out.requires
            .sort_by(|a, b| (&a.key, &a.any_of).cmp(&(&b.key, &b.any_of)));
        out.requires
            .dedup_by(|a, b| a.key == b.key && a.any_of == b.any_of);
        out.implies
            .sort_by(|a, b| (&a.key, &a.implied).cmp(&(&b.key, &b.implied)));
        out.implies.dedup();
        out.excludes.sort_by(|a, b| a.keys.cmp(&b.keys));
        out.excludes.dedup();
        out
    }

    /// Check a file's license counts and features against the catalog's rules, with these
    /// count semantics (`A` assigned, `P` pooled, 0 for a key the file does not grant):
    ///
    /// 1. methods: a key that may not be allocated assignably has `A = 0`; one that may not
    ///    be allocated concurrently has `P = 0`, except a station-only key (Basic Station),
    ///    whose `P` is the pool of dynamic remote station logons;
    /// 2. `requires | X | Y1..Yn`: `A(X) <= A(Y1) + .. + A(Yn)` (every assigned X can be
    ///    paired with an assigned Y on the same holder) and `P(X) <= P(Yi) + ..` over the
    ///    `Yi` that may be allocated concurrently (every concurrent user holding X holds a Y
    ///    concurrently: a user's licenses are all of one method). A station-only X's `P` is
    ///    not checked: a dynamic remote station holds no other key;
    /// 3. `implies | X | Y`: `A(Y) >= A(X)` and `P(Y) >= P(X)` (each X allocated brings a Y
    ///    by the same method);
    /// 4. `needs | N | M1..Mn`: a file that grants N (any count) or enables feature N grants
    ///    or enables at least one of the `Mi`.
    ///
    /// `holders` and `excludes` constrain allocations, not counts: they travel in the file
    /// ([`Catalog::rules_for`]). Rules are checked in that order, keys and rules sorted;
    /// the first broken one is returned.
    pub fn check_counts(
        &self,
        licenses: &[LicenseCount],
        features: &[String],
    ) -> Result<(), Violation> {
        let count: BTreeMap<&str, (u64, u64)> = licenses
            .iter()
            .map(|l| {
                (
                    l.name.as_str(),
                    (u64::from(l.assigned), u64::from(l.pooled)),
                )
            })
            .collect();
        let get = |k: &str| count.get(k).copied().unwrap_or((0, 0));
        let at = |line: usize| format!("(catalog line {line})");
        for l in licenses {
            let Some(lic) = self.licenses.get(&l.name) else {
                continue;
            };
            let rule = || format!("{} {}", show_key_rule(&lic.key_rule()), at(lic.line));
            if l.assigned > 0 && !lic.methods.contains(&Method::Assignable) {
                return Err(Violation {
                    rule: rule(),
                    detail: format!(
                        "the file grants {} assigned {}, but it is only allocated concurrently (assigned counts are for named users and stations)",
                        l.assigned, l.name
                    ),
                });
            }
            if l.pooled > 0 && !lic.methods.contains(&Method::Concurrent) && !lic.station_only() {
                return Err(Violation {
                    rule: rule(),
                    detail: format!(
                        "the file grants {} pooled {}, but it is never allocated concurrently (pooled counts are concurrent licenses)",
                        l.pooled, l.name
                    ),
                });
            }
        }
        for r in &self.rules.requires {
            let (xa, xp) = get(&r.rule.key);
            if xa == 0 && xp == 0 {
                continue;
            }
            let ys = r.rule.any_of.join(" or ");
            let ya: u64 = r.rule.any_of.iter().map(|y| get(y).0).sum();
            if xa > ya {
                return Err(Violation {
                    rule: format!("{} {}", r.text(), at(r.line)),
                    detail: format!(
                        "the file grants {xa} assigned {} but only {ya} assigned {ys}: every assigned {} needs an assigned {ys} on the same holder",
                        r.rule.key, r.rule.key
                    ),
                });
            }
            let station_only = self
                .licenses
                .get(&r.rule.key)
                .is_some_and(License::station_only);
            let yp: u64 = r
                .rule
                .any_of
                .iter()
                .filter(|y| {
                    self.licenses
                        .get(*y)
                        .is_some_and(|l| l.methods.contains(&Method::Concurrent))
                })
                .map(|y| get(y).1)
                .sum();
            if !station_only && xp > yp {
                return Err(Violation {
                    rule: format!("{} {}", r.text(), at(r.line)),
                    detail: format!(
                        "the file grants {xp} pooled {} but only {yp} pooled {ys}: every concurrent user of {} needs a concurrent {ys} too",
                        r.rule.key, r.rule.key
                    ),
                });
            }
        }
        for r in &self.rules.implies {
            let (xa, xp) = get(&r.rule.key);
            let (ya, yp) = get(&r.rule.implied);
            for (what, x, y) in [("assigned", xa, ya), ("pooled", xp, yp)] {
                if x > y {
                    return Err(Violation {
                        rule: format!("{} {}", r.text(), at(r.line)),
                        detail: format!(
                            "the file grants {x} {what} {} but only {y} {what} {}: each {} allocated brings a {} with it, so there must be at least as many",
                            r.rule.key, r.rule.implied, r.rule.key, r.rule.implied
                        ),
                    });
                }
            }
        }
        let present = |n: &str| {
            let (a, p) = get(n);
            a > 0 || p > 0 || features.iter().any(|f| f == n)
        };
        for r in &self.rules.needs {
            if !present(&r.rule.key) || r.rule.any_of.iter().any(|m| present(m)) {
                continue;
            }
            let has = match count.get(r.rule.key.as_str()) {
                Some((a, p)) if a + p > 0 => {
                    format!("grants {} ({a} assigned, {p} pooled)", r.rule.key)
                }
                _ => format!("enables feature {}", r.rule.key),
            };
            return Err(Violation {
                rule: format!("{} {}", r.text(), at(r.line)),
                detail: format!(
                    "the file {has} but neither grants nor enables {}",
                    r.rule.any_of.join(" or ")
                ),
            });
        }
        Ok(())
    }
}

/// A path of `implies` from `from` to `to` in `graph` (both ends included), if there is one.
fn path_between(
    graph: &BTreeMap<String, Vec<String>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: VecDeque<&str> = VecDeque::from([from]);
    let mut seen: BTreeSet<&str> = BTreeSet::from([from]);
    while let Some(n) = queue.pop_front() {
        if n == to {
            let mut path = vec![n.to_string()];
            let mut cur = n;
            while let Some(&p) = parent.get(cur) {
                path.push(p.to_string());
                cur = p;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(n).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(next) {
                parent.insert(next, n);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Every key `x` brings through `implies`, directly or not, without `x`.
fn closure(graph: &BTreeMap<String, Vec<String>>, x: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![x];
    while let Some(k) = todo.pop() {
        for next in graph.get(k).map(Vec::as_slice).unwrap_or_default() {
            if next != x && out.insert(next.clone()) {
                todo.push(next);
            }
        }
    }
    out
}

/// `license | KEY | description | [holders=...] | [methods=...]`.
fn parse_license(line: usize, rest: &[&str]) -> Result<License, CatalogError> {
    let [key, desc, attrs @ ..] = rest else {
        return Err(syntax(
            line,
            "a license record is: license | KEY | description | [holders=user,station] | [methods=assignable,concurrent]",
        ));
    };
    if !format::is_key_name(key) {
        return Err(CatalogError::UnknownLicenseKey {
            line,
            key: excerpt(key),
        });
    }
    check_text(line, "description", desc)?;
    let mut holders: Option<Vec<Holder>> = None;
    let mut methods: Option<Vec<Method>> = None;
    for a in attrs {
        let (name, value) = split_attr(line, a)?;
        match name {
            "holders" => {
                if holders.is_some() {
                    return Err(syntax(line, "holders= is given twice"));
                }
                holders = Some(parse_set(line, "holders", value, |s| match s {
                    "user" => Some(Holder::User),
                    "station" => Some(Holder::Station),
                    _ => None,
                })?);
            }
            "methods" => {
                if methods.is_some() {
                    return Err(syntax(line, "methods= is given twice"));
                }
                methods = Some(parse_set(line, "methods", value, |s| match s {
                    "assignable" => Some(Method::Assignable),
                    "concurrent" => Some(Method::Concurrent),
                    _ => None,
                })?);
            }
            _ => {
                return Err(CatalogError::UnknownAttribute {
                    line,
                    name: excerpt(name),
                })
            }
        }
    }
    let holders = holders.unwrap_or_else(|| ALL_HOLDERS.to_vec());
    let methods = methods.unwrap_or_else(|| ALL_METHODS.to_vec());
    if holders == [Holder::Station] && methods.contains(&Method::Concurrent) {
        return Err(syntax(
            line,
            format!("{key} is held by stations only, and stations hold assignable licenses only: give it methods=assignable"),
        ));
    }
    Ok(License {
        key: key.to_string(),
        description: desc.to_string(),
        holders,
        methods,
        line,
    })
}

/// A comma-separated set of known words, each at most once, sorted.
fn parse_set<T: Ord + Copy>(
    line: usize,
    what: &str,
    value: &str,
    word: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, CatalogError> {
    let mut out = Vec::new();
    for w in value.split(',').map(str::trim) {
        let v = word(w).ok_or_else(|| {
            syntax(
                line,
                format!(
                    "{what}: '{}' is not one of {}",
                    excerpt(w),
                    if what == "holders" {
                        "user, station"
                    } else {
                        "assignable, concurrent"
                    }
                ),
            )
        })?;
        if out.contains(&v) {
            return Err(syntax(line, format!("{what}: {w} is listed twice")));
        }
        out.push(v);
    }
    out.sort();
    Ok(out)
}

/// `requires | X | Y1,...`, `implies | X | Y`, `excludes | X1,X2,...`, `needs | N | M1,...`:
/// the shape and names; what they name is checked once the catalog is read.
fn parse_rule(line: usize, kind: &str, rest: &[&str]) -> Result<RawRule, CatalogError> {
    let one = |what: &str, s: &str| -> Result<String, CatalogError> {
        if format::is_key_name(s) {
            Ok(s.to_string())
        } else if what == "needs" {
            Err(rule_error(
                line,
                format!("'{}' is not a license-key or feature name", excerpt(s)),
            ))
        } else {
            Err(CatalogError::UnknownLicenseKey {
                line,
                key: excerpt(s),
            })
        }
    };
    Ok(match (kind, rest) {
        ("requires", [x, ys]) => RawRule::Requires(Requires {
            key: one(kind, x)?,
            any_of: name_list(line, "requires", ys, unknown_key(line))?,
        }),
        ("implies", [x, y]) => RawRule::Implies(Implies {
            key: one(kind, x)?,
            implied: one(kind, y)?,
        }),
        ("excludes", [xs]) => {
            let keys = name_list(line, "excludes", xs, unknown_key(line))?;
            if keys.len() < 2 {
                return Err(syntax(line, "an excludes set names two keys or more"));
            }
            RawRule::Excludes(Excludes { keys })
        }
        ("needs", [n, ms]) => RawRule::Needs(Needs {
            key: one(kind, n)?,
            any_of: name_list(line, "needs", ms, |s| {
                rule_error(line, format!("'{s}' is not a license-key or feature name"))
            })?,
        }),
        _ => return Err(syntax(
            line,
            match kind {
                "requires" => "a requires record is: requires | KEY | KEY1,KEY2,...",
                "implies" => "an implies record is: implies | KEY | IMPLIED-KEY",
                "excludes" => "an excludes record is: excludes | KEY1,KEY2,...",
                _ => "a needs record is: needs | NAME | NAME1,NAME2,... (license keys or features)",
            },
        )),
    })
}

fn split_attr(line: usize, a: &str) -> Result<(&str, &str), CatalogError> {
    a.split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| syntax(line, format!("'{}' is not name=value", excerpt(a))))
}

fn parse_features(
    line: usize,
    value: &str,
    version: Option<&ProductVersion>,
) -> Result<Vec<String>, CatalogError> {
    if value == "*" {
        return version
            .map(|v| v.features.clone())
            .ok_or_else(|| syntax(line, "'*' is only allowed for a server part's features"));
    }
    let mut out: Vec<String> = Vec::new();
    for f in value.split(',').map(str::trim) {
        let known = match version {
            Some(v) => v.features.iter().any(|k| k == f),
            None => format::is_key_name(f),
        };
        if !known {
            return Err(CatalogError::UnknownFeature {
                line,
                feature: excerpt(f),
            });
        }
        if out.iter().any(|o| o == f) {
            return Err(syntax(line, format!("feature {f} listed twice")));
        }
        out.push(f.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_loads_with_seed_parts() {
        let c = Catalog::built_in().unwrap();
        let al02 = c.part("SW-001-4.0-AL02").unwrap();
        assert_eq!(al02.category, "CIC 4.0");
        assert_eq!(al02.description, "Business Client");
        assert_eq!(al02.grants.len(), 2);
        let sl03 = c.part("SW-001-4.0-SL03").unwrap();
        let spec = sl03.server.as_ref().unwrap();
        assert!(spec.types.contains(&LicenseType::Production));
        assert_eq!(spec.includes.as_deref(), Some("SW-001-4.0-IDS1"));
        assert_eq!(c.upgrade_of("SW-001-3.0-AA01"), Some("SW-001-4.0-AA01"));
        for p in [
            "AL01", "AL02", "AL03", "AL04", "AA01", "AA02", "AA17", "PL03", "PL04", "PL06", "PL09",
            "IDS1", "IDS2",
        ] {
            assert!(c.part(&format!("SW-001-4.0-{p}")).is_some(), "{p}");
        }
        let ids2 = c.part("SW-001-4.0-IDS2").unwrap().server.clone().unwrap();
        assert_eq!(ids2.features, c.version("CIC", "4.0").unwrap().features);
    }

    fn base() -> String {
        "license | I3_ACCESS_CLIENT | Client\nversion | CIC | 4.0 | features=I3_FEATURE_SIP\n"
            .into()
    }

    #[test]
    fn unknown_license_key_names_the_line() {
        let t = base() + "access | SW-1 | CIC 4.0 | X | grants=I3_ACCESS_NOPE:1/0\n";
        assert_eq!(
            Catalog::parse(&t),
            Err(CatalogError::UnknownLicenseKey {
                line: 3,
                key: "I3_ACCESS_NOPE".into()
            })
        );
    }

    #[test]
    fn duplicate_part_names_both_lines() {
        let t = base() + "access | SW-1 | CIC 4.0 | X | grants=I3_ACCESS_CLIENT:1/0\n\n# c\naccess | SW-1 | CIC 4.0 | Y | grants=I3_ACCESS_CLIENT:1/0\n";
        assert_eq!(
            Catalog::parse(&t),
            Err(CatalogError::Duplicate {
                line: 6,
                what: "part",
                name: "SW-1".into(),
                first_line: 3
            })
        );
    }

    #[test]
    fn zero_count_is_refused() {
        let t = base() + "access | SW-1 | CIC 4.0 | X | grants=I3_ACCESS_CLIENT:0/0\n";
        assert!(matches!(
            Catalog::parse(&t),
            Err(CatalogError::ZeroCount { line: 3, .. })
        ));
        let t = base() + "server | SW-2 | CIC 4.0 | D | types=development-small | features=* | development=ordered | each=0\n";
        assert!(matches!(
            Catalog::parse(&t),
            Err(CatalogError::ZeroCount { line: 3, .. })
        ));
    }

    #[test]
    fn other_errors_name_their_line() {
        let cases = [
            (
                "server | SW-1 | CIC 4.0 | S | types=production | features=I3_FEATURE_X\n",
                "feature",
            ),
            (
                "server | SW-1 | CIC 4.0 | S | types=production | features=* | colour=red\n",
                "attr",
            ),
            (
                "access | SW-1 | CIC 9.9 | X | grants=I3_ACCESS_CLIENT:1/0\n",
                "category",
            ),
            ("widget | SW-1\n", "record"),
            ("upgrade | SW-1 | SW-2\n", "part"),
            (
                "server | SW-1 | CIC 4.0 | S | types=production | features=* | includes=SW-9\n",
                "part",
            ),
            (
                "access | SW-1 | CIC 4.0 | X | grants=I3_ACCESS_CLIENT:x/0\n",
                "syntax",
            ),
        ];
        for (extra, what) in cases {
            let err = Catalog::parse(&(base() + extra)).unwrap_err();
            let ok = match what {
                "feature" => matches!(err, CatalogError::UnknownFeature { line: 3, .. }),
                "attr" => matches!(err, CatalogError::UnknownAttribute { line: 3, .. }),
                "category" => matches!(err, CatalogError::UnknownCategory { line: 3, .. }),
                "record" => matches!(err, CatalogError::UnknownRecord { line: 3, .. }),
                "part" => matches!(err, CatalogError::UnknownPart { line: 3, .. }),
                _ => matches!(err, CatalogError::Syntax { line: 3, .. }),
            };
            assert!(ok, "{extra}: {err:?}");
            assert!(err.to_string().contains("line 3"), "{err}");
        }
        assert_eq!(Catalog::parse("# nothing\n"), Err(CatalogError::Empty));
    }

    // ---- license rules ----

    /// A catalog of keys A..F (F station-only, E concurrent-only, D assignable-only) and one
    /// server part, plus `extra` records.
    fn rules_base(extra: &str) -> String {
        format!(
            "license | A | a\n\
             license | B | b\n\
             license | C | c\n\
             license | D | d | methods=assignable\n\
             license | E | e | holders=user | methods=concurrent\n\
             license | F | f | holders=station | methods=assignable\n\
             version | P | 1 | features=FEAT_X,FEAT_Y\n\
             server | S | P 1 | Server | types=production | features=FEAT_X\n\
             {extra}"
        )
    }

    fn parse_err(extra: &str) -> CatalogError {
        Catalog::parse(&rules_base(extra)).unwrap_err()
    }

    fn counts(c: &[(&str, u32, u32)]) -> Vec<LicenseCount> {
        c.iter()
            .map(|(n, a, p)| LicenseCount {
                name: (*n).into(),
                assigned: *a,
                pooled: *p,
            })
            .collect()
    }

    #[test]
    fn license_attributes_default_normalise_and_name_their_line() {
        let c = Catalog::parse(&rules_base(
            "license | G | g | holders=station,user | methods=concurrent,assignable\n",
        ))
        .unwrap();
        let a = c.license("A").unwrap();
        assert_eq!(
            (a.holders.as_slice(), a.methods.as_slice()),
            (ALL_HOLDERS, ALL_METHODS)
        );
        assert!(!a.has_attributes());
        let g = c.license("G").unwrap();
        assert_eq!(g.holders, ALL_HOLDERS, "one spelling: sorted");
        assert!(!g.has_attributes());
        assert!(c.license("F").unwrap().station_only());
        // Only keys that restrict something are listed as key rules.
        let keys: Vec<&str> = c.rules().keys.iter().map(|k| k.rule.key.as_str()).collect();
        assert_eq!(keys, ["D", "E", "F"]);
        for (extra, what) in [
            ("license | G | g | holders=users\n", "not one of"),
            ("license | G | g | holders=user,user\n", "listed twice"),
            (
                "license | G | g | methods=assignable | methods=assignable\n",
                "given twice",
            ),
            ("license | G | g | colour=red\n", "unknown attribute"),
            (
                "license | G | g | holders=station\n",
                "stations hold assignable licenses only",
            ),
            ("license | g_lower | g\n", "unknown license key"),
        ] {
            let e = parse_err(extra);
            assert_eq!(e.line(), Some(9), "{extra}: {e}");
            assert!(e.to_string().contains(what), "{extra}: {e}");
        }
        // Names no longer need the I3_ prefixes, but must be key names.
        assert!(Catalog::parse(&rules_base("license | VCC_AGENT | Agent\n")).is_ok());
    }

    #[test]
    fn bad_rules_are_refused_naming_their_line() {
        let cases: &[(&str, &str)] = &[
            ("requires | A | NOPE\n", "unknown license key 'NOPE'"),
            ("requires | NOPE | A\n", "unknown license key 'NOPE'"),
            ("implies | A | NOPE\n", "unknown license key 'NOPE'"),
            ("excludes | A,NOPE\n", "unknown license key 'NOPE'"),
            ("excludes | A\n", "two keys or more"),
            ("excludes | A,A\n", "listed twice"),
            ("requires | A | A,B\n", "A requires itself"),
            ("implies | A | A\n", "A implies itself"),
            ("needs | A | A\n", "A needs itself"),
            (
                "needs | A | FEAT_Z\n",
                "neither a license key nor a feature",
            ),
            ("requires | A\n", "a requires record is"),
            ("implies | A | B,C\n", "unknown license key 'B,C'"),
            // A station-only key cannot bring a key users may hold... the other way round is
            // fine; a user key cannot imply a station-only one.
            ("implies | A | F\n", "may be held by a user but F may not"),
            (
                "implies | A | D\n",
                "may be allocated concurrent but D may not",
            ),
            (
                "requires | E | F\n",
                "may be held by a user, but none of F may",
            ),
            (
                "requires | A | E\n",
                "may be held by a station, but none of E may",
            ),
        ];
        for (extra, what) in cases {
            let e = parse_err(extra);
            assert_eq!(e.line(), Some(9), "{extra}: {e}");
            assert!(e.to_string().contains(what), "{extra}: {e}");
            assert!(e.to_string().starts_with("line 9: "), "{e}");
        }
    }

    #[test]
    fn a_rule_given_twice_names_both_lines() {
        let e = parse_err("requires | A | C,B\n# again\nrequires | A | B,C\n");
        assert!(
            matches!(
                &e,
                CatalogError::Duplicate {
                    line: 11,
                    first_line: 9,
                    what: "requires rule",
                    ..
                }
            ),
            "{e:?}"
        );
        let e = parse_err("excludes | A,B\nexcludes | B,A\n");
        assert!(
            matches!(
                e,
                CatalogError::Duplicate {
                    line: 10,
                    first_line: 9,
                    ..
                }
            ),
            "{e:?}"
        );
        // Two requires rules of one key with different sets are two rules, both kept.
        let c = Catalog::parse(&rules_base("requires | A | B\nrequires | A | C\n")).unwrap();
        assert_eq!(c.rules().requires.len(), 2);
    }

    #[test]
    fn a_cycle_of_implies_is_refused_at_the_record_that_closes_it() {
        let e = parse_err("implies | A | B\nimplies | B | C\n# x\nimplies | C | A\n");
        assert_eq!(e.line(), Some(12), "{e}");
        assert!(
            e.to_string()
                .contains("cycle: C implies A implies B implies C"),
            "{e}"
        );
        // A diamond is no cycle.
        assert!(Catalog::parse(&rules_base(
            "implies | A | B\nimplies | B | C\nimplies | A | C\n"
        ))
        .is_ok());
    }

    #[test]
    fn a_key_implied_by_and_excluding_another_is_refused() {
        // Directly.
        let e = parse_err("implies | A | B\nexcludes | A,B\n");
        assert_eq!(e.line(), Some(10), "{e}");
        assert!(e.to_string().contains("A implies B"), "{e}");
        // Through another key, with the excludes record first.
        let e = parse_err("excludes | A,C\nimplies | A | B\nimplies | B | C\n");
        assert_eq!(e.line(), Some(9), "{e}");
        assert!(e.to_string().contains("A implies C"), "{e}");
        // Two keys that exclude each other, both brought by one key.
        let e = parse_err("implies | A | B\nimplies | A | C\nexcludes | B,C\n");
        assert_eq!(e.line(), Some(11), "{e}");
        assert!(e.to_string().contains("A implies both B and C"), "{e}");
    }

    #[test]
    fn a_name_is_a_license_key_or_a_feature_never_both() {
        let e = Catalog::parse(&rules_base("license | FEAT_X | x\n")).unwrap_err();
        assert_eq!(e.line(), Some(9), "{e}");
        assert!(e.to_string().contains("both a license key"), "{e}");
    }

    #[test]
    fn a_development_system_that_breaks_a_rule_is_refused_at_its_line() {
        let extra = "access | P-A | P 1 | A | grants=A:1/0\n\
                     server | DEV | P 1 | Dev | types=development-small | features=* | development=ordered | each=8\n\
                     addon | P-B | P 1 | B | grants=B:1/0\n\
                     requires | A | B\n";
        let e = parse_err(extra);
        assert_eq!(e.line(), Some(10), "{e}");
        assert!(
            e.to_string()
                .contains("server part DEV always makes a file that breaks requires | A | B"),
            "{e}"
        );
        // Granting B in an access part puts it in the development system too.
        let ok = extra.replace("addon | P-B", "access | P-B");
        Catalog::parse(&rules_base(&ok)).unwrap();
        // A concurrent-only key in an access part: each=8 would grant it assigned.
        let e = parse_err(
            "access | P-E | P 1 | E | grants=E:0/1\n\
             server | DEV | P 1 | Dev | types=development-small | features=* | development=ordered | each=8\n",
        );
        assert!(e.to_string().contains("only allocated concurrently"), "{e}");
    }

    #[test]
    fn rules_for_is_the_subset_of_the_files_keys() {
        let c = Catalog::parse(&rules_base(
            "requires | A | B,C\n\
             requires | B | C\n\
             requires | A | C,D\n\
             license | G | g\n\
             implies | A | G\n\
             excludes | A,B,C\n\
             excludes | B,E\n\
             needs | A | FEAT_X\n",
        ))
        .unwrap();
        let r = c.rules_for(["A", "B", "D", "F", "G", "UNKNOWN"]);
        r.validate().unwrap();
        // Key rules of the file's keys that restrict something (D and F; not E, absent).
        let keys: Vec<&str> = r.keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, ["D", "F"]);
        // any_of cut to the file's keys; B's rule keeps all of its any_of (C is absent).
        assert_eq!(
            r.requires,
            vec![
                Requires {
                    key: "A".into(),
                    any_of: vec!["B".into()]
                },
                Requires {
                    key: "A".into(),
                    any_of: vec!["D".into()]
                },
                Requires {
                    key: "B".into(),
                    any_of: vec!["C".into()]
                },
            ]
        );
        assert_eq!(
            r.implies,
            vec![Implies {
                key: "A".into(),
                implied: "G".into()
            }]
        );
        // {A,B,C} cut to {A,B}; {B,E} has one key left and is dropped.
        assert_eq!(
            r.excludes,
            vec![Excludes {
                keys: vec!["A".into(), "B".into()]
            }]
        );
        // The order and repeats of the keys given change nothing.
        assert_eq!(r, c.rules_for(["G", "F", "D", "B", "A", "A"]));
        // Two requires of one key that the cut makes equal are one rule.
        let r = c.rules_for(["A", "C"]);
        assert_eq!(
            r.requires,
            vec![Requires {
                key: "A".into(),
                any_of: vec!["C".into()]
            }]
        );
        r.validate().unwrap();
        assert!(c.rules_for(std::iter::empty()).is_empty());
    }

    #[test]
    fn count_semantics_of_each_rule() {
        let c = Catalog::parse(&rules_base(
            "requires | A | B,C\n\
             requires | F | A\n\
             requires | C | D,B\n\
             implies | B | C\n\
             needs | B | FEAT_Y,D\n\
             needs | FEAT_X | A\n",
        ))
        .unwrap();
        let check = |c2: &[(&str, u32, u32)], f: &[&str]| {
            let f: Vec<String> = f.iter().map(|s| s.to_string()).collect();
            c.check_counts(&counts(c2), &f)
        };
        let ok = |c2: &[(&str, u32, u32)], f: &[&str]| assert_eq!(check(c2, f), Ok(()), "{c2:?}");
        let broken = |c2: &[(&str, u32, u32)], f: &[&str], rule: &str, detail: &str| {
            let v = check(c2, f).unwrap_err();
            assert!(v.rule.starts_with(rule), "{c2:?}: {v:?}");
            assert!(v.detail.contains(detail), "{c2:?}: {v:?}");
        };
        // requires: assigned X <= the Ys' assigned, summed.
        ok(
            &[("A", 10, 0), ("B", 4, 0), ("C", 6, 0), ("D", 6, 0)],
            &["FEAT_X"],
        );
        broken(
            &[("A", 11, 0), ("B", 4, 0), ("C", 6, 0), ("D", 6, 0)],
            &["FEAT_X"],
            "requires | A | B,C (catalog line 9)",
            "11 assigned A but only 10 assigned B or C",
        );
        // Pooled likewise, counting only Ys that may be allocated concurrently: D is
        // assignable-only, so C's 3 pooled need 3 pooled B.
        ok(&[("C", 0, 3), ("B", 0, 3)], &["FEAT_Y"]);
        broken(
            &[("C", 0, 3), ("B", 0, 2), ("D", 5, 0)],
            &["FEAT_Y"],
            "requires | C | B,D",
            "3 pooled C but only 2 pooled B or D",
        );
        // A station-only key's pooled count is the dynamic remote pool: its requires rule
        // does not apply to it; its assigned count is checked.
        ok(&[("F", 0, 25)], &[]);
        broken(
            &[("F", 5, 0)],
            &[],
            "requires | F | A",
            "5 assigned F but only 0 assigned A",
        );
        // implies: the implied key has at least as many, assigned and pooled.
        broken(
            &[("B", 2, 1), ("C", 2, 0), ("D", 2, 0)],
            &["FEAT_Y"],
            "implies | B | C",
            "1 pooled B but only 0 pooled C",
        );
        // needs: on the file, from a key or a feature, to a key or a feature.
        broken(
            &[("B", 1, 0), ("C", 1, 0)],
            &[],
            "needs | B | D,FEAT_Y",
            "grants B (1 assigned, 0 pooled)",
        );
        ok(&[("B", 1, 0), ("C", 1, 0), ("D", 1, 0)], &[]);
        broken(
            &[],
            &["FEAT_X"],
            "needs | FEAT_X | A",
            "enables feature FEAT_X",
        );
        // methods: pooled counts of a key never allocated concurrently, and assigned counts of
        // one only allocated concurrently.
        broken(
            &[("D", 1, 1)],
            &[],
            "license | D | holders=user,station | methods=assignable",
            "1 pooled D",
        );
        broken(
            &[("E", 1, 0)],
            &[],
            "license | E",
            "only allocated concurrently",
        );
        ok(&[("E", 0, 7)], &[]);
    }

    #[test]
    fn the_rules_are_bounded_in_all_and_per_rule() {
        // The key rules of D, E and F and a chain of implies through 4094 keys: 4096 rules,
        // the most a file may carry; one key rule more is refused.
        let n = format::MAX_RULES;
        let mut t = String::new();
        for i in 0..n - 2 {
            t.push_str(&format!("license | K{i:04} | k\n"));
        }
        for i in 1..n - 2 {
            t.push_str(&format!("implies | K{:04} | K{i:04}\n", i - 1));
        }
        let c = Catalog::parse(&rules_base(&t)).unwrap();
        assert_eq!(c.rules().to_rules().len(), n);
        c.rules().to_rules().validate().unwrap();
        let e = Catalog::parse(&rules_base(&format!(
            "{t}license | Z | z | methods=assignable\n"
        )))
        .unwrap_err()
        .to_string();
        assert!(e.contains("more than 4096 rules in all"), "{e}");
        // needs records do not travel in files and do not count.
        Catalog::parse(&rules_base(&format!("{t}needs | A | B\n"))).unwrap();
        // At most 64 names in one rule's list, refused at the first name past it.
        let names: Vec<String> = (0..65).map(|i| format!("N{i:02}")).collect();
        let decl: String = names
            .iter()
            .map(|k| format!("license | {k} | n\n"))
            .collect();
        for (rule, ok) in [
            (format!("requires | A | {}", names[..64].join(",")), true),
            (format!("requires | A | {}", names.join(",")), false),
            (format!("excludes | {}", names.join(",")), false),
            (format!("needs | A | {}", names.join(",")), false),
        ] {
            let r = Catalog::parse(&rules_base(&format!("{decl}{rule}\n")));
            if ok {
                r.unwrap();
            } else {
                let e = r.unwrap_err().to_string();
                assert!(
                    e.contains("more than 64 names, at most 64 in one rule"),
                    "{e}"
                );
                assert!(e.contains("line 74"), "{e}");
            }
        }
    }

    #[test]
    fn a_key_file_is_refused_without_quoting_it() {
        let secret = format::SecretKey::generate();
        let seed_b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(secret.seed())
        };
        let sealed = crate::keys::encrypt_secret_key(
            &secret,
            "vendor",
            "pass phrase",
            crate::keys::KdfParams {
                m_kib: 8,
                t: 1,
                p: 1,
            },
        )
        .unwrap();
        let texts = [
            secret.to_text("vendor").as_str().to_string(),
            sealed.to_string(),
            secret.public_key().to_text("vendor"),
            // Also after valid catalog lines, indented.
            format!(
                "{}\n   {}",
                base(),
                secret.to_text("x").lines().nth(1).unwrap()
            ),
        ];
        for t in &texts {
            let e = Catalog::parse(t).unwrap_err();
            assert!(matches!(e, CatalogError::KeyFile { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.ends_with("this is a key file, not a catalog"), "{msg}");
            assert!(
                !msg.contains("i3lic-") && !msg.contains(&seed_b64[..8]),
                "{msg}"
            );
        }
        let last = sealed.lines().last().unwrap();
        assert!(!Catalog::parse(&sealed)
            .unwrap_err()
            .to_string()
            .contains(&last[last.len() - 12..]));
    }

    #[test]
    fn errors_quote_a_short_escaped_excerpt_only() {
        let long = format!("{}\u{7}{}", "x".repeat(20), "y".repeat(200));
        let e = Catalog::parse(&format!("{long} | more\n")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("'{}\\u{{7}}{}…'", "x".repeat(20), "y".repeat(11))),
            "{msg}"
        );
        assert!(!msg.contains(&"y".repeat(12)), "{msg}");
        assert!(!msg.contains('\u{7}'));
        let e = Catalog::parse(&format!(
            "{}access | {long} | CIC 4.0 | X | grants=I3_ACCESS_CLIENT:1/0\n",
            base()
        ))
        .unwrap_err();
        assert!(!e.to_string().contains(&"y".repeat(12)), "{e}");
        assert_eq!(excerpt("short"), "short");
        assert_eq!(excerpt("it's"), "it\\'s");
    }
}
