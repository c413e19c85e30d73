//! The signed payload's JSON: reading it (shape, then spelling, then values) and writing it,
//! for each format version.
//!
//! Reading happens in three steps so that each error has the kind `docs/FORMAT.md` §7 gives
//! it: serde reads the JSON into raw structs that only know JSON types (wrong JSON, a wrong
//! type, an unknown, duplicated or missing member: `MalformedPayload`, `UnknownField`,
//! `DuplicateField`, `MissingField`); a scan of the text refuses spellings no writer makes
//! (escapes other than `\"` and `\\`, `-0`: `InvalidValue`); then every value is converted
//! and checked (`InvalidValue`).

use std::borrow::Cow;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::error::FormatError;
use crate::model::{
    Activation, Chain, FileId, FormatVersion, Host, LicenseCount, LicenseType, OrderedItem,
    Restriction,
};
use crate::rules::{Excludes, Holder, Implies, KeyRule, Method, Requires, Rules};
use crate::time::Timestamp;

mod fast;

/// A JSON number as read, before its range is checked.
#[derive(Debug, Clone, Copy)]
enum RawInt {
    /// Read as an unsigned integer: written with digits only (no sign, fraction or exponent).
    Unsigned(u64),
    /// Read as a signed integer (serde_json reads an integer with a minus sign so).
    Signed(i64),
    /// Read as a floating-point number (a fraction, an exponent, or beyond 64 bits).
    Fraction,
}

impl RawInt {
    /// Whether the number is written with digits only.
    fn is_plain(self) -> bool {
        matches!(self, RawInt::Unsigned(_))
    }
}

impl<'de> Deserialize<'de> for RawInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawInt, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawInt;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawInt, E> {
                Ok(RawInt::Unsigned(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawInt, E> {
                Ok(RawInt::Signed(v))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawInt, E> {
                Ok(RawInt::Fraction)
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON string as read, borrowed from the payload text unless it has an escape: for the
/// members that are converted (ids, times, codes, names of a set) rather than kept as text.
struct RawStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for RawStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawStr<'a>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Cow<'de, str>;
            // As `String`'s, so a wrong type reads the same as for a member kept as text.
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V).map(RawStr)
    }
}

impl std::ops::Deref for RawStr<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A JSON object read into `T`, refusing the JSON array that serde's derived structs also
/// take (members by position): an object has one spelling.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Object<T>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(Object)
    }
}

/// Deserialize a member that must be present (its value may itself be `null` when `T` is an
/// `Option`): with `#[serde(default)]`, an absent member stays `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost<'a> {
    #[serde(borrow)]
    host_id: RawStr<'a>,
    #[serde(borrow, default, deserialize_with = "present")]
    form: Option<RawStr<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    install_key: Option<Option<RawStr<'a>>>,
    machine: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLicense {
    name: String,
    assigned: RawInt,
    pooled: RawInt,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    part: String,
    description: String,
    quantity: RawInt,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyRule<'a> {
    key: String,
    #[serde(borrow)]
    holders: Vec<RawStr<'a>>,
    #[serde(borrow)]
    methods: Vec<RawStr<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules<'a> {
    #[serde(borrow)]
    keys: Vec<Object<RawKeyRule<'a>>>,
    requires: Vec<Object<Requires>>,
    implies: Vec<Object<Implies>>,
    excludes: Vec<Object<Excludes>>,
}

/// The payload of either version, as JSON types. Members of version 2 only are `Some` when
/// present; which must be present or absent is checked per version afterwards.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload<'a> {
    #[serde(borrow)]
    file_id: RawStr<'a>,
    #[serde(borrow, deserialize_with = "Option::deserialize")]
    supersedes: Option<RawStr<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    lineage: Option<RawStr<'a>>,
    #[serde(default, deserialize_with = "present")]
    generation: Option<RawInt>,
    product: String,
    product_version: String,
    #[serde(borrow)]
    license_type: RawStr<'a>,
    #[serde(borrow)]
    issued_at: RawStr<'a>,
    #[serde(borrow)]
    valid_from: RawStr<'a>,
    #[serde(borrow)]
    expires_at: RawStr<'a>,
    grace_days: RawInt,
    generated_by: String,
    sold_to: String,
    install_site: String,
    #[serde(borrow)]
    primary_host: Object<RawHost<'a>>,
    #[serde(borrow, deserialize_with = "Option::deserialize")]
    switchover_host: Option<Object<RawHost<'a>>>,
    system_type: String,
    mail_connector: String,
    bundle: String,
    description: String,
    features: Vec<String>,
    licenses: Vec<Object<RawLicense>>,
    ordered_items: Vec<Object<RawItem>>,
    #[serde(borrow)]
    restrictions: Vec<RawStr<'a>>,
    #[serde(borrow, default, deserialize_with = "present")]
    rules: Option<Object<RawRules<'a>>>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> FormatError {
    FormatError::InvalidValue {
        field: field.into(),
        reason: reason.into(),
    }
}

/// At most 64 characters of an untrusted value, escaped for a message.
fn shown(v: &str) -> String {
    v.chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string()
}

/// A count in `0..=max`; `field` names it, built only for an error (this runs for every
/// count of every file read).
fn int(field: impl FnOnce() -> String, v: RawInt, max: u32) -> Result<u32, FormatError> {
    match v {
        RawInt::Unsigned(n) => match u32::try_from(n) {
            Ok(n) if n <= max => Ok(n),
            _ => Err(invalid(field(), format!("{n} is above the limit of {max}"))),
        },
        RawInt::Signed(n) => match u64::try_from(n) {
            Ok(n) => int(field, RawInt::Unsigned(n), max),
            Err(_) => Err(invalid(field(), format!("{n} is negative"))),
        },
        RawInt::Fraction => Err(invalid(
            field(),
            format!("not an integer from 0 to {max} (no fraction, no exponent)"),
        )),
    }
}

fn file_id(field: &str, v: &str) -> Result<FileId, FormatError> {
    v.parse::<FileId>().map_err(|_| {
        invalid(
            field,
            format!("'{}' is not 32 lower-case hex digits", shown(v)),
        )
    })
}

/// A time exactly as written: `YYYY-MM-DDTHH:MM:SSZ` (the parser also takes a bare date,
/// which a file may not use).
fn time(field: &str, v: &str) -> Result<Timestamp, FormatError> {
    let t = v.parse::<Timestamp>().map_err(|e| match e {
        FormatError::InvalidValue { reason, .. } => invalid(field, reason),
        other => other,
    })?;
    // The parser is strict but for one other spelling, a bare date (10 characters).
    if v.len() != 20 {
        return Err(invalid(
            field,
            format!(
                "'{}' is not written as a file writes it: the one spelling of this time is {t}",
                shown(v)
            ),
        ));
    }
    Ok(t)
}

/// Whether `code` prints as exactly `text`: compared as it is printed, without a copy.
fn prints_as(code: &hostid::HostId, text: &str) -> bool {
    struct Compare<'a>(&'a [u8]);
    impl std::fmt::Write for Compare<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let rest = self.0.strip_prefix(s.as_bytes()).ok_or(std::fmt::Error)?;
            self.0 = rest;
            Ok(())
        }
    }
    let mut rest = Compare(text.as_bytes());
    std::fmt::Write::write_fmt(&mut rest, format_args!("{code}")).is_ok() && rest.0.is_empty()
}

/// A host-ID code exactly as `gethostid` prints it (either form); `field` names it, built
/// only for an error.
fn host_id(field: impl FnOnce() -> String, v: &str) -> Result<hostid::HostId, FormatError> {
    // `parse_canonical` is this check with a printed copy to compare; it is called for its
    // error when the code is not in its printed form.
    if let Ok(code) = v.parse::<hostid::HostId>() {
        if prints_as(&code, v) {
            return Ok(code);
        }
    }
    hostid::HostId::parse_canonical(v).map_err(|e| {
        invalid(
            field(),
            format!("'{}' is not a host-ID code as printed: {e}", shown(v)),
        )
    })
}

/// The name of a code's form in the file (`short`, the typed code; `strong`, the pasted one).
fn form_name(code: &hostid::HostId) -> &'static str {
    code.form().as_str()
}

fn host(field: &str, raw: RawHost<'_>, version: FormatVersion) -> Result<Host, FormatError> {
    let code = host_id(|| format!("{field}.host_id"), &raw.host_id)?;
    match (version, raw.form) {
        (FormatVersion::V1, Some(_)) => {
            return Err(FormatError::UnknownField {
                field: "form".into(),
            })
        }
        (FormatVersion::V2 | FormatVersion::V3, None) => {
            return Err(FormatError::MissingField {
                field: "form".into(),
            })
        }
        (FormatVersion::V2 | FormatVersion::V3, Some(f)) => {
            let expected = form_name(&code);
            if *f != *expected {
                return Err(invalid(
                    format!("{field}.form"),
                    format!(
                        "'{}' does not describe the code {code}, which is a {expected} host-ID code",
                        shown(&f)
                    ),
                ));
            }
        }
        (FormatVersion::V1, None) => {}
    }
    let install_key = match (version, raw.install_key) {
        (FormatVersion::V3, None) => {
            return Err(FormatError::MissingField {
                field: "install_key".into(),
            })
        }
        (FormatVersion::V3, Some(k)) => k
            .map(|k| crate::install_key::from_hex(&format!("{field}.install_key"), &k))
            .transpose()?,
        (_, Some(_)) => {
            return Err(FormatError::UnknownField {
                field: "install_key".into(),
            })
        }
        (_, None) => None,
    };
    Ok(Host {
        host_id: code,
        machine: raw.machine,
        install_key,
    })
}

/// A license type's name in a file of `version`. Version 1 writers wrote the e-FAQ type as
/// `efaq-production`; version 2 writes every type by [`LicenseType::as_str`].
fn license_type_name(t: LicenseType, version: FormatVersion) -> &'static str {
    match (t, version) {
        (LicenseType::EfaqProduction, FormatVersion::V1) => "efaq-production",
        _ => t.as_str(),
    }
}

fn license_type(v: &str, version: FormatVersion) -> Result<LicenseType, FormatError> {
    LicenseType::ALL
        .into_iter()
        .find(|t| license_type_name(*t, version) == v)
        .ok_or_else(|| {
            invalid(
                "license_type",
                format!(
                    "'{}' is not one of: {}",
                    shown(v),
                    LicenseType::ALL
                        .map(|t| license_type_name(t, version))
                        .join(", ")
                ),
            )
        })
}

fn restriction(v: &str) -> Result<Restriction, FormatError> {
    match v {
        "hourly-disconnect" => Ok(Restriction::HourlyDisconnect),
        "not-for-production" => Ok(Restriction::NotForProduction),
        _ => Err(invalid(
            "restrictions",
            format!(
                "'{}' is not one of: hourly-disconnect, not-for-production",
                shown(v)
            ),
        )),
    }
}

fn holder(key: &str, v: &str) -> Result<Holder, FormatError> {
    match v {
        "user" => Ok(Holder::User),
        "station" => Ok(Holder::Station),
        _ => Err(invalid(
            format!("rules.keys {key} holders"),
            format!("'{}' is not one of: user, station", shown(v)),
        )),
    }
}

fn method(key: &str, v: &str) -> Result<Method, FormatError> {
    match v {
        "assignable" => Ok(Method::Assignable),
        "concurrent" => Ok(Method::Concurrent),
        _ => Err(invalid(
            format!("rules.keys {key} methods"),
            format!("'{}' is not one of: assignable, concurrent", shown(v)),
        )),
    }
}

fn rules(raw: RawRules<'_>) -> Result<Rules, FormatError> {
    let keys = raw
        .keys
        .into_iter()
        .map(|Object(k)| {
            Ok(KeyRule {
                holders: k
                    .holders
                    .iter()
                    .map(|h| holder(&k.key, h))
                    .collect::<Result<_, _>>()?,
                methods: k
                    .methods
                    .iter()
                    .map(|m| method(&k.key, m))
                    .collect::<Result<_, _>>()?,
                key: k.key,
            })
        })
        .collect::<Result<_, FormatError>>()?;
    Ok(Rules {
        keys,
        requires: raw.requires.into_iter().map(|Object(r)| r).collect(),
        implies: raw.implies.into_iter().map(|Object(i)| i).collect(),
        excludes: raw.excludes.into_iter().map(|Object(e)| e).collect(),
    })
}

impl RawPayload<'_> {
    /// Whether every number of the payload is written with digits only. Numbers are only
    /// read where the payload has a count (every other member is a string, a list, an object
    /// or `null`), so then no minus sign stands outside a string: there is no `-0`.
    fn numbers_are_plain(&self) -> bool {
        self.grace_days.is_plain()
            && self.generation.is_none_or(RawInt::is_plain)
            && self
                .licenses
                .iter()
                .all(|Object(l)| l.assigned.is_plain() && l.pooled.is_plain())
            && self
                .ordered_items
                .iter()
                .all(|Object(o)| o.quantity.is_plain())
    }

    /// Check which members the version defines, convert every value, and validate.
    fn into_activation(self, version: FormatVersion) -> Result<Activation, FormatError> {
        let v2_members = [
            ("lineage", self.lineage.is_some()),
            ("generation", self.generation.is_some()),
            ("rules", self.rules.is_some()),
        ];
        for (name, there) in v2_members {
            match version {
                FormatVersion::V1 if there => {
                    return Err(FormatError::UnknownField { field: name.into() })
                }
                FormatVersion::V2 | FormatVersion::V3 if !there => {
                    return Err(FormatError::MissingField { field: name.into() })
                }
                _ => {}
            }
        }
        let id = file_id("file_id", &self.file_id)?;
        let chain = match (self.lineage, self.generation) {
            (Some(l), Some(g)) => Some(Chain {
                lineage: file_id("lineage", &l)?,
                generation: int(|| "generation".into(), g, crate::model::MAX_COUNT)?,
            }),
            _ => None,
        };
        let a = Activation {
            file_id: id,
            supersedes: self
                .supersedes
                .as_deref()
                .map(|s| file_id("supersedes", s))
                .transpose()?,
            chain,
            product: self.product,
            product_version: self.product_version,
            license_type: license_type(&self.license_type, version)?,
            issued_at: time("issued_at", &self.issued_at)?,
            valid_from: time("valid_from", &self.valid_from)?,
            expires_at: time("expires_at", &self.expires_at)?,
            grace_days: int(|| "grace_days".into(), self.grace_days, 3660)?,
            generated_by: self.generated_by,
            sold_to: self.sold_to,
            install_site: self.install_site,
            primary_host: host("primary_host", self.primary_host.0, version)?,
            switchover_host: self
                .switchover_host
                .map(|h| host("switchover_host", h.0, version))
                .transpose()?,
            system_type: self.system_type,
            mail_connector: self.mail_connector,
            bundle: self.bundle,
            description: self.description,
            features: self.features,
            licenses: self
                .licenses
                .into_iter()
                .map(|Object(l)| {
                    Ok(LicenseCount {
                        assigned: int(
                            || format!("licenses {} assigned", shown(&l.name)),
                            l.assigned,
                            crate::model::MAX_COUNT,
                        )?,
                        pooled: int(
                            || format!("licenses {} pooled", shown(&l.name)),
                            l.pooled,
                            crate::model::MAX_COUNT,
                        )?,
                        name: l.name,
                    })
                })
                .collect::<Result<_, FormatError>>()?,
            ordered_items: self
                .ordered_items
                .into_iter()
                .map(|Object(o)| {
                    Ok(OrderedItem {
                        quantity: int(
                            || format!("ordered_items {} quantity", shown(&o.part)),
                            o.quantity,
                            crate::model::MAX_COUNT,
                        )?,
                        part: o.part,
                        description: o.description,
                    })
                })
                .collect::<Result<_, FormatError>>()?,
            restrictions: self
                .restrictions
                .iter()
                .map(|r| restriction(r))
                .collect::<Result<_, _>>()?,
            rules: self
                .rules
                .map(|Object(r)| rules(r))
                .transpose()?
                .unwrap_or_default(),
        };
        a.validate_for(version)?;
        Ok(a)
    }
}

/// Refuse the spellings of JSON values no writer produces: inside strings, any escape other
/// than `\"` and `\\` (a writer writes every other character as itself, and refuses control
/// characters); outside strings, a number starting with `-0` (`-0`, `-0.0`, `-0.5`, `-0e1`).
/// The minus sign of an exponent (`3e-01`) does not start a number: such a number is refused
/// as a value (not an integer), not here. The text is valid JSON already (serde read it).
fn check_spelling(text: &str) -> Result<(), FormatError> {
    let bytes = text.as_bytes();
    // Without a backslash there is no escape, and a `"` always opens or closes a string: a
    // "-0" is outside strings when an even number of quotes comes before it. Two vectorised
    // searches instead of a pass byte by byte (this runs for every file read).
    if !bytes.contains(&b'\\') {
        let mut quotes = 0usize;
        let mut counted = 0usize;
        for (at, _) in text.match_indices("-0") {
            quotes += bytes
                .get(counted..at)
                .unwrap_or_default()
                .iter()
                .filter(|&&b| b == b'"')
                .count();
            counted = at;
            if quotes.is_multiple_of(2) && starts_number(bytes, at) {
                return Err(minus_zero(text, at));
            }
        }
        return Ok(());
    }
    // With escapes: one tight pass over the bytes; the member a problem is in is only looked
    // for when there is one.
    let mut i = 0;
    let mut in_string = false;
    while let Some(&b) = bytes.get(i) {
        if in_string {
            match b {
                b'\\' => {
                    let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                    if next != b'"' && next != b'\\' {
                        let esc: String = text
                            .get(i..)
                            .unwrap_or_default()
                            .chars()
                            .take(if next == b'u' { 6 } else { 2 })
                            .collect();
                        return Err(invalid(
                            field_near(member_before(text, i)),
                            format!(
                                "the escape {} is not the one spelling of its character: write the character itself (only \\\" and \\\\ are escaped)",
                                esc.escape_debug()
                            ),
                        ));
                    }
                    i += 2;
                    continue;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'-' if bytes.get(i + 1) == Some(&b'0') && starts_number(bytes, i) => {
                    return Err(minus_zero(text, i));
                }
                _ => {}
            }
        }
        i += 1;
    }
    Ok(())
}

/// Whether the `-` at byte `at` (outside strings, in valid JSON) is a number's sign rather
/// than an exponent's: an exponent's follows `e` or `E`.
fn starts_number(bytes: &[u8], at: usize) -> bool {
    !matches!(
        at.checked_sub(1).and_then(|i| bytes.get(i)),
        Some(b'e' | b'E')
    )
}

/// The refusal of a number starting with `-0` found at byte `at`, naming the number.
fn minus_zero(text: &str, at: usize) -> FormatError {
    let number: String = text
        .get(at..)
        .unwrap_or_default()
        .chars()
        .take_while(|&c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
        .take(40)
        .collect();
    invalid(
        field_near(member_before(text, at)),
        format!(
            "the number {number} starts with -0, a spelling no writer uses \
             (0 is written 0, and no value is negative)"
        ),
    )
}

/// The name of the last member whose name ends before byte `at` (`"name":`), or "".
fn member_before(text: &str, at: usize) -> &str {
    let head = text.get(..at).unwrap_or_default();
    let Some(colon) = head.rfind("\":") else {
        return "";
    };
    let name = head.get(..colon).unwrap_or_default();
    name.rfind('"')
        .and_then(|q| name.get(q + 1..))
        .unwrap_or_default()
}

fn field_near(key: &str) -> String {
    if key.is_empty() {
        "payload".into()
    } else {
        shown(key)
    }
}

/// Read the signed payload (JSON) of a file of `version` into the model and check every value.
pub(crate) fn parse(payload: &[u8], version: FormatVersion) -> Result<Activation, FormatError> {
    // The payload was built from `&str` lines, so this only fails if that invariant breaks.
    let text = std::str::from_utf8(payload).map_err(|e| FormatError::MalformedPayload {
        line: 0,
        column: 0,
        reason: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    // Payloads as writers spell them are read directly; serde reads any other spelling and
    // says what is wrong with it.
    let raw = match fast::read(text) {
        Some(raw) => raw,
        None => {
            let Object(raw): Object<RawPayload<'_>> =
                serde_json::from_str(text).map_err(payload_error)?;
            raw
        }
    };
    // Without a backslash there is no escape, and without a number spelled otherwise than
    // with digits there is no `-0`: the scan then has nothing to find.
    if memchr::memchr(b'\\', text.as_bytes()).is_some() || !raw.numbers_are_plain() {
        check_spelling(text)?;
    }
    raw.into_activation(version)
}

/// Sort a JSON error into the variant that names what is wrong.
fn payload_error(e: serde_json::Error) -> FormatError {
    let msg = e.to_string();
    // serde's messages name the field between backticks: "unknown field `x`, expected ...".
    let field = |prefix: &str| {
        msg.strip_prefix(prefix)
            .and_then(|r| r.split('`').next())
            .map(|f| f.escape_debug().to_string())
    };
    if let Some(f) = field("unknown field `") {
        FormatError::UnknownField { field: f }
    } else if let Some(f) = field("duplicate field `") {
        FormatError::DuplicateField { field: f }
    } else if let Some(f) = field("missing field `") {
        FormatError::MissingField { field: f }
    } else {
        let reason = match msg.rfind(" at line ") {
            Some(i) => msg.get(..i).unwrap_or(&msg).to_owned(),
            None => msg.clone(),
        };
        FormatError::MalformedPayload {
            line: e.line(),
            column: e.column(),
            reason,
        }
    }
}

// ---- writing ----

/// The payload's JSON as `serde_json::to_writer_pretty` writes it, byte for byte: two spaces
/// of indentation per level, each member and list element on its own line, `": "` after a
/// member name, `[]` for an empty list, no final line break; strings escaped as serde_json
/// escapes them (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00xx` for other controls, all
/// else as itself). Written by hand for the few shapes of the payload, without serde's
/// per-value calls: this runs for every file signed.
struct Pretty<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
}

/// An open object or list: whether it has an entry yet.
struct Open {
    empty: bool,
}

/// Append `s` to `out` escaped as inside a JSON string.
fn escaped(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    // Most values need no escape: one pass without branches to tell.
    if !bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x0c => b'f',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(bytes.get(plain..i).unwrap_or_default());
        out.extend_from_slice(&[b'\\', short]);
        if short == b'u' {
            out.extend_from_slice(&[
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]);
        }
        plain = i + 1;
    }
    out.extend_from_slice(bytes.get(plain..).unwrap_or_default());
}

impl Pretty<'_> {
    fn line(&mut self) {
        const SPACES: &[u8; 16] = b"                ";
        self.out.push(b'\n');
        match SPACES.get(..2 * self.depth) {
            Some(indent) => self.out.extend_from_slice(indent),
            None => {
                for _ in 0..self.depth {
                    self.out.extend_from_slice(b"  ");
                }
            }
        }
    }

    fn open(&mut self, bracket: u8) -> Open {
        self.out.push(bracket);
        self.depth += 1;
        Open { empty: true }
    }

    fn close(&mut self, open: Open, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if !open.empty {
            self.line();
        }
        self.out.push(bracket);
    }

    /// Start the next list element.
    fn element(&mut self, open: &mut Open) {
        if !open.empty {
            self.out.push(b',');
        }
        open.empty = false;
        self.line();
    }

    /// Start the next member: its name (one of this file's, which need no escape), then
    /// its value is to be written.
    fn member(&mut self, open: &mut Open, name: &str) {
        self.element(open);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    fn string(&mut self, s: &str) {
        self.out.push(b'"');
        escaped(self.out, s);
        self.out.push(b'"');
    }

    /// A value's text form as a JSON string.
    fn shown(&mut self, v: &dyn std::fmt::Display) -> Result<(), FormatError> {
        struct Escaping<'a>(&'a mut Vec<u8>);
        impl std::fmt::Write for Escaping<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                escaped(self.0, s);
                Ok(())
            }
        }
        self.out.push(b'"');
        std::fmt::Write::write_fmt(&mut Escaping(self.out), format_args!("{v}"))
            .map_err(|_| invalid("activation", "a value could not be written"))?;
        self.out.push(b'"');
        Ok(())
    }

    fn uint(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let mut at = digits.len();
        let mut v = n;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || at == 0 {
                break;
            }
        }
        self.out
            .extend_from_slice(digits.get(at..).unwrap_or_default());
    }

    fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    fn strings<'s>(&mut self, items: impl IntoIterator<Item = &'s str>) {
        let mut list = self.open(b'[');
        for s in items {
            self.element(&mut list);
            self.string(s);
        }
        self.close(list, b']');
    }

    fn host(&mut self, h: &Host, version: FormatVersion) -> Result<(), FormatError> {
        let mut o = self.open(b'{');
        self.member(&mut o, "host_id");
        self.shown(&h.host_id)?;
        if version != FormatVersion::V1 {
            self.member(&mut o, "form");
            self.string(form_name(&h.host_id));
        }
        if version == FormatVersion::V3 {
            self.member(&mut o, "install_key");
            match &h.install_key {
                Some(k) => self.string(&crate::install_key::to_hex(k)),
                None => self.null(),
            }
        }
        self.member(&mut o, "machine");
        self.string(&h.machine);
        self.close(o, b'}');
        Ok(())
    }

    fn rules(&mut self, r: &Rules) {
        let mut o = self.open(b'{');
        self.member(&mut o, "keys");
        let mut list = self.open(b'[');
        for k in &r.keys {
            self.element(&mut list);
            let mut e = self.open(b'{');
            self.member(&mut e, "key");
            self.string(&k.key);
            self.member(&mut e, "holders");
            self.strings(k.holders.iter().map(|h| h.as_str()));
            self.member(&mut e, "methods");
            self.strings(k.methods.iter().map(|m| m.as_str()));
            self.close(e, b'}');
        }
        self.close(list, b']');
        self.member(&mut o, "requires");
        let mut list = self.open(b'[');
        for q in &r.requires {
            self.element(&mut list);
            let mut e = self.open(b'{');
            self.member(&mut e, "key");
            self.string(&q.key);
            self.member(&mut e, "any_of");
            self.strings(q.any_of.iter().map(String::as_str));
            self.close(e, b'}');
        }
        self.close(list, b']');
        self.member(&mut o, "implies");
        let mut list = self.open(b'[');
        for i in &r.implies {
            self.element(&mut list);
            let mut e = self.open(b'{');
            self.member(&mut e, "key");
            self.string(&i.key);
            self.member(&mut e, "implied");
            self.string(&i.implied);
            self.close(e, b'}');
        }
        self.close(list, b']');
        self.member(&mut o, "excludes");
        let mut list = self.open(b'[');
        for x in &r.excludes {
            self.element(&mut list);
            let mut e = self.open(b'{');
            self.member(&mut e, "keys");
            self.strings(x.keys.iter().map(String::as_str));
            self.close(e, b'}');
        }
        self.close(list, b']');
        self.close(o, b'}');
    }
}

/// A restriction's name in a file.
fn restriction_name(r: Restriction) -> &'static str {
    match r {
        Restriction::HourlyDisconnect => "hourly-disconnect",
        Restriction::NotForProduction => "not-for-production",
    }
}

/// About how many bytes the payload text of `a` takes (a little more in most cases), so
/// that the buffer it is written into is allocated once.
pub(crate) fn size_estimate(a: &Activation) -> usize {
    let texts = [
        &a.product,
        &a.product_version,
        &a.generated_by,
        &a.sold_to,
        &a.install_site,
        &a.primary_host.machine,
        &a.system_type,
        &a.mail_connector,
        &a.bundle,
        &a.description,
    ];
    let rules = &a.rules;
    1536 + texts.iter().map(|t| t.len()).sum::<usize>()
        + a.switchover_host
            .as_ref()
            .map_or(0, |h| h.machine.len() + 160)
        + a.features.iter().map(|f| f.len() + 8).sum::<usize>()
        + a.licenses.iter().map(|l| l.name.len() + 90).sum::<usize>()
        + a.ordered_items
            .iter()
            .map(|o| o.part.len() + o.description.len() + 96)
            .sum::<usize>()
        + a.restrictions.len() * 24
        + rules.keys.iter().map(|k| k.key.len() + 160).sum::<usize>()
        + rules
            .requires
            .iter()
            .map(|r| r.key.len() + 64 + r.any_of.iter().map(|k| k.len() + 10).sum::<usize>())
            .sum::<usize>()
        + rules
            .implies
            .iter()
            .map(|i| i.key.len() + i.implied.len() + 64)
            .sum::<usize>()
        + rules
            .excludes
            .iter()
            .map(|e| 48 + e.keys.iter().map(|k| k.len() + 10).sum::<usize>())
            .sum::<usize>()
}

/// Append the payload text of `a` as a file of `version` (pretty-printed, two-space
/// indentation, no final line break) to `buf`: members in the order of FORMAT.md's table,
/// every member present (`null` for an absent value), version-2 members only in version 2.
/// `a` must have been validated for `version`.
pub(crate) fn write_into(
    buf: &mut Vec<u8>,
    a: &Activation,
    version: FormatVersion,
) -> Result<(), FormatError> {
    let v2 = version != FormatVersion::V1;
    let mut w = Pretty { out: buf, depth: 0 };
    let mut o = w.open(b'{');
    w.member(&mut o, "file_id");
    w.shown(&a.file_id)?;
    w.member(&mut o, "supersedes");
    match &a.supersedes {
        Some(id) => w.shown(id)?,
        None => w.null(),
    }
    if let Some(chain) = a.chain.filter(|_| v2) {
        w.member(&mut o, "lineage");
        w.shown(&chain.lineage)?;
        w.member(&mut o, "generation");
        w.uint(chain.generation);
    }
    w.member(&mut o, "product");
    w.string(&a.product);
    w.member(&mut o, "product_version");
    w.string(&a.product_version);
    w.member(&mut o, "license_type");
    w.string(license_type_name(a.license_type, version));
    for (name, t) in [
        ("issued_at", a.issued_at),
        ("valid_from", a.valid_from),
        ("expires_at", a.expires_at),
    ] {
        w.member(&mut o, name);
        w.shown(&t)?;
    }
    w.member(&mut o, "grace_days");
    w.uint(a.grace_days);
    w.member(&mut o, "generated_by");
    w.string(&a.generated_by);
    w.member(&mut o, "sold_to");
    w.string(&a.sold_to);
    w.member(&mut o, "install_site");
    w.string(&a.install_site);
    w.member(&mut o, "primary_host");
    w.host(&a.primary_host, version)?;
    w.member(&mut o, "switchover_host");
    match &a.switchover_host {
        Some(h) => w.host(h, version)?,
        None => w.null(),
    }
    w.member(&mut o, "system_type");
    w.string(&a.system_type);
    w.member(&mut o, "mail_connector");
    w.string(&a.mail_connector);
    w.member(&mut o, "bundle");
    w.string(&a.bundle);
    w.member(&mut o, "description");
    w.string(&a.description);
    w.member(&mut o, "features");
    w.strings(a.features.iter().map(String::as_str));
    w.member(&mut o, "licenses");
    let mut list = w.open(b'[');
    for l in &a.licenses {
        w.element(&mut list);
        let mut e = w.open(b'{');
        w.member(&mut e, "name");
        w.string(&l.name);
        w.member(&mut e, "assigned");
        w.uint(l.assigned);
        w.member(&mut e, "pooled");
        w.uint(l.pooled);
        w.close(e, b'}');
    }
    w.close(list, b']');
    w.member(&mut o, "ordered_items");
    let mut list = w.open(b'[');
    for item in &a.ordered_items {
        w.element(&mut list);
        let mut e = w.open(b'{');
        w.member(&mut e, "part");
        w.string(&item.part);
        w.member(&mut e, "description");
        w.string(&item.description);
        w.member(&mut e, "quantity");
        w.uint(item.quantity);
        w.close(e, b'}');
    }
    w.close(list, b']');
    w.member(&mut o, "restrictions");
    w.strings(a.restrictions.iter().map(|r| restriction_name(*r)));
    if v2 {
        w.member(&mut o, "rules");
        w.rules(&a.rules);
    }
    w.close(o, b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_scan_refuses_escapes_and_minus_zero_only() {
        check_spelling(r#"{"a": "x\"y\\z", "b": 10, "c": -5, "d": 0}"#).unwrap();
        for bad in [
            r#"{"a": "\u0041"}"#,
            r#"{"a": "\/"}"#,
            r#"{"a": "\n"}"#,
            r#"{"grace_days": -0}"#,
            r#"{"grace_days": -0.0}"#,
        ] {
            let e = check_spelling(bad).unwrap_err();
            assert!(matches!(e, FormatError::InvalidValue { .. }), "{bad}: {e}");
        }
        let e = check_spelling(r#"{"grace_days": -0}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("grace_days"), "{e}");
        let e = check_spelling(r#"{"a": [1, -0.5e-0]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the number -0.5e-0 starts with -0"), "{e}");
        // An exponent's minus sign does not start a number: `3e-01` is not refused here (it
        // is not an integer, which the value's conversion says), with or without escapes.
        for ok in [
            r#"{"pooled": 3e-01}"#,
            r#"{"pooled": 25E-0}"#,
            r#"{"a": "\", "pooled": 1e-0}"#,
        ] {
            check_spelling(ok).unwrap();
        }
        // A minus sign inside a string is text, not a number.
        check_spelling(r#"{"a": "-0"}"#).unwrap();
    }
}
