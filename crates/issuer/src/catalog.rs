//! The product catalog: part numbers, what each grants, and the upgrade mapping.
//!
//! The format is line-oriented; `catalog/cic.catalog` (built in) documents it in its header.

use std::collections::{BTreeMap, BTreeSet};

use format::LicenseType;

/// The catalog shipped with the issuer.
pub const BUILT_IN: &str = include_str!("../catalog/cic.catalog");

/// Largest catalog accepted, in bytes.
pub const MAX_CATALOG_SIZE: usize = 4 * 1024 * 1024;

/// Why a catalog was refused. Every variant but [`CatalogError::TooLarge`] names the 1-based
/// line at fault.
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
    #[error("line {line}: unknown record kind '{kind}' (expected license, version, server, access, session, addon or upgrade)")]
    UnknownRecord {
        /// 1-based line.
        line: usize,
        /// The kind found.
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
    /// A license key not declared by a `license` record (or not of the form I3_ACCESS_* /
    /// I3_LICENSE_* where one is declared).
    #[error("line {line}: unknown license key '{key}'")]
    UnknownLicenseKey {
        /// 1-based line.
        line: usize,
        /// The key.
        key: String,
    },
    /// A feature not listed by the part's product version (or not of the form I3_FEATURE_*).
    #[error("line {line}: unknown feature '{feature}'")]
    UnknownFeature {
        /// 1-based line.
        line: usize,
        /// The feature.
        feature: String,
    },
    /// A part number (or license key, or product version) defined twice.
    #[error("line {line}: duplicate {what} '{name}' (first defined on line {first_line})")]
    Duplicate {
        /// 1-based line of the second definition.
        line: usize,
        /// `part`, `license key` or `version`.
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
    /// A catalog with no parts at all.
    #[error("the catalog defines no parts")]
    Empty,
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
    /// Access add-on licenses.
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
    /// `I3_ACCESS_*` / `I3_LICENSE_*`.
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

/// A parsed, validated catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    licenses: BTreeMap<String, String>,
    versions: BTreeMap<String, ProductVersion>,
    parts: BTreeMap<String, Part>,
    upgrades: BTreeMap<String, String>,
}

fn syntax(line: usize, reason: impl Into<String>) -> CatalogError {
    CatalogError::Syntax {
        line,
        reason: reason.into(),
    }
}

fn is_name(s: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        s.strip_prefix(p).is_some_and(|r| {
            !r.is_empty()
                && r.bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        })
    }) && s.len() <= 128
}

fn is_part_number(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
}

fn check_text(line: usize, what: &str, s: &str) -> Result<(), CatalogError> {
    if s.is_empty() || s.len() > format::MAX_TEXT_LEN || s.chars().any(char::is_control) {
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
    let n: u32 = s
        .parse()
        .map_err(|_| syntax(line, format!("{what}: '{s}' is not a whole number")))?;
    if n > format::MAX_COUNT {
        return Err(syntax(
            line,
            format!("{what}: {n} is above {}", format::MAX_COUNT),
        ));
    }
    Ok(n)
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
        let mut cat = Catalog {
            licenses: BTreeMap::new(),
            versions: BTreeMap::new(),
            parts: BTreeMap::new(),
            upgrades: BTreeMap::new(),
        };
        let mut license_lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut version_lines: BTreeMap<String, usize> = BTreeMap::new();
        let mut upgrade_lines: Vec<(usize, String, String)> = Vec::new();
        // Features marked `*` are expanded once the whole version is known; includes are
        // checked once every part is known.
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
                    let [key, desc] = rest else {
                        return Err(syntax(
                            line,
                            "a license record is: license | KEY | description",
                        ));
                    };
                    if !is_name(key, &["I3_ACCESS_", "I3_LICENSE_"]) {
                        return Err(CatalogError::UnknownLicenseKey {
                            line,
                            key: key.to_string(),
                        });
                    }
                    check_text(line, "description", desc)?;
                    if let Some(&first_line) = license_lines.get(*key) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "license key",
                            name: key.to_string(),
                            first_line,
                        });
                    }
                    license_lines.insert(key.to_string(), line);
                    cat.licenses.insert(key.to_string(), desc.to_string());
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
                    for a in attrs {
                        let (name, value) = split_attr(line, a)?;
                        if name != "features" {
                            return Err(CatalogError::UnknownAttribute {
                                line,
                                name: name.into(),
                            });
                        }
                        features = parse_features(line, value, None)?;
                    }
                    let category = format!("{product} {version}");
                    if let Some(&first_line) = version_lines.get(&category) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "version",
                            name: category,
                            first_line,
                        });
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
                other => {
                    let Some(kind) = PartKind::parse(other) else {
                        return Err(CatalogError::UnknownRecord {
                            line,
                            kind: other.to_string(),
                        });
                    };
                    let part = cat.parse_part(line, kind, rest)?;
                    if let Some(first) = cat.parts.get(&part.number) {
                        return Err(CatalogError::Duplicate {
                            line,
                            what: "part",
                            name: part.number,
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
                            part: inc.clone(),
                        })
                    }
                    Some(p)
                        if p.server.as_ref().and_then(|s| s.development)
                            != Some(Development::NonOrdered) =>
                    {
                        return Err(syntax(
                            part.line,
                            format!(
                                "includes={inc}: not a development system included with a server"
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
                        part: p.clone(),
                    });
                }
            }
            if cat.upgrades.insert(from.clone(), to).is_some() {
                return Err(CatalogError::Duplicate {
                    line,
                    what: "upgrade of",
                    name: from,
                    first_line: line,
                });
            }
        }
        if cat.parts.is_empty() {
            return Err(CatalogError::Empty);
        }
        Ok(cat)
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
                format!("'{number}' is not a part number (A-Z, 0-9, '-', '.')"),
            ));
        }
        check_text(line, "description", description)?;
        let pv = self
            .versions
            .get(*category)
            .ok_or_else(|| CatalogError::UnknownCategory {
                line,
                category: category.to_string(),
            })?;
        let mut grants = Vec::new();
        let mut types = Vec::new();
        let mut features = None;
        let mut includes = None;
        let mut development = None;
        let mut each = None;
        let mut fixed = false;
        let server = kind == PartKind::Server;
        for a in attrs {
            if server && *a == "fixed" {
                fixed = true;
                continue;
            }
            let (name, value) = split_attr(line, a)?;
            match name {
                "grants" => grants = self.parse_grants(line, value)?,
                "types" if server => {
                    for t in value.split(',').map(str::trim) {
                        let lt: LicenseType = t.parse().map_err(|_| {
                            syntax(line, format!("types: '{t}' is not a license type"))
                        })?;
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
                        name: name.into(),
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
            if grants.is_empty() {
                return Err(syntax(
                    line,
                    "an access, session or add-on part needs grants=...",
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
            server: spec,
            line,
        })
    }

    fn parse_grants(&self, line: usize, value: &str) -> Result<Vec<Grant>, CatalogError> {
        let mut out: Vec<Grant> = Vec::new();
        for g in value.split(',').map(str::trim) {
            let (key, counts) = g
                .split_once(':')
                .ok_or_else(|| syntax(line, format!("grant '{g}' is not KEY:ASSIGNED/POOLED")))?;
            let (a, p) = counts
                .split_once('/')
                .ok_or_else(|| syntax(line, format!("grant '{g}' is not KEY:ASSIGNED/POOLED")))?;
            if !self.licenses.contains_key(key) {
                return Err(CatalogError::UnknownLicenseKey {
                    line,
                    key: key.to_string(),
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
        self.licenses.get(key).map(String::as_str)
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
}

fn split_attr(line: usize, a: &str) -> Result<(&str, &str), CatalogError> {
    a.split_once('=')
        .map(|(n, v)| (n.trim(), v.trim()))
        .ok_or_else(|| syntax(line, format!("'{a}' is not name=value")))
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
            None => is_name(f, &["I3_FEATURE_"]),
        };
        if !known {
            return Err(CatalogError::UnknownFeature {
                line,
                feature: f.to_string(),
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
}
