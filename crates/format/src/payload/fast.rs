//! A direct reader for payloads spelled the way writers spell them: every member present in
//! the order of FORMAT.md's table, laid out as the writer lays them out (two spaces of
//! indentation a level), strings without escapes or control characters, counts
//! written with digits only. It yields the same raw structs serde would, without serde's
//! per-value calls (this runs for every file read). Any other spelling, valid or not, gives
//! `None`, and the payload is then read by serde, which decides what is wrong: so every
//! payload is accepted or refused exactly as serde's reading alone would.

use std::borrow::Cow;

use super::RawStr;
use super::{Object, RawHost, RawInt, RawItem, RawKeyRule, RawLicense, RawPayload, RawRules};
use crate::rules::{Excludes, Implies, Requires};

/// The text before the value of an object's first member at nesting depth `$depth` (1 for
/// the payload's members): a line break, two spaces a level, the quoted name and `": `. One
/// literal, compared in one piece.
macro_rules! first {
    (1, $name:literal) => {
        concat!("\n  \"", $name, "\": ")
    };
    (2, $name:literal) => {
        concat!("\n    \"", $name, "\": ")
    };
    (3, $name:literal) => {
        concat!("\n      \"", $name, "\": ")
    };
    (4, $name:literal) => {
        concat!("\n        \"", $name, "\": ")
    };
}

/// The text before the value of a later member: `,` and then as `first!`.
macro_rules! then {
    ($depth:tt, $name:literal) => {
        concat!(",", first!($depth, $name))
    };
}

/// A position in the payload text, and the depth of nesting there.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        self.text.as_bytes().get(self.at..).unwrap_or_default()
    }

    /// Consume `bytes` if they come next.
    fn bytes(&mut self, bytes: &[u8]) -> Option<()> {
        self.rest()
            .starts_with(bytes)
            .then(|| self.at += bytes.len())
    }

    /// Consume `c` if it comes next.
    fn byte(&mut self, c: u8) -> Option<()> {
        (self.rest().first() == Some(&c)).then(|| self.at += 1)
    }

    /// A line break and the indentation of the current depth.
    fn line(&mut self) -> Option<()> {
        let rest = self.rest();
        let indent = rest.get(1..=2 * self.depth)?;
        // Compared byte by byte: a call to `memcmp` costs more for these few bytes.
        let ok = rest.first() == Some(&b'\n') && indent.iter().all(|&b| b == b' ');
        ok.then(|| self.at += 1 + indent.len())
    }

    /// An opening bracket: one level deeper.
    fn open(&mut self, c: u8) -> Option<()> {
        self.byte(c)?;
        self.depth += 1;
        Some(())
    }

    /// The closing bracket of a non-empty object or list, on a line of its own.
    fn close(&mut self, c: u8) -> Option<()> {
        self.depth = self.depth.checked_sub(1)?;
        self.line()?;
        self.byte(c)
    }

    /// A string without escapes or line breaks (no other control character is in the text),
    /// borrowed.
    fn str(&mut self) -> Option<&'a str> {
        self.byte(b'"')?;
        let start = self.at;
        let len = memchr::memchr3(b'"', b'\\', b'\n', self.rest())?;
        if self.rest().get(len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        self.text.get(start..start + len)
    }

    fn raw(&mut self) -> Option<RawStr<'a>> {
        self.str().map(|s| RawStr(Cow::Borrowed(s)))
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    /// The text before a member's value (from `first!` or `then!`).
    fn member(&mut self, text: &str) -> Option<()> {
        self.bytes(text.as_bytes())
    }

    /// The text before a member's value if it comes next (consumed), else nothing consumed.
    fn member_if(&mut self, text: &str) -> bool {
        self.member(text).is_some()
    }

    /// `null`, consumed if it comes next.
    fn null(&mut self) -> bool {
        self.bytes(b"null").is_some()
    }

    /// A count written with digits only, without a leading zero, that fits 64 bits as
    /// serde reads it (at most 19 digits); a number spelled otherwise gives `None`.
    fn count(&mut self) -> Option<RawInt> {
        let rest = self.rest();
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || digits > 19 || (digits > 1 && rest.first() == Some(&b'0')) {
            return None;
        }
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let n = rest
            .get(..digits)?
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        self.at += digits;
        Some(RawInt::Unsigned(n))
    }

    /// A list, each element on its own line, read by `item`.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let mut out = Vec::new();
        if self.bytes(b"[]").is_some() {
            return Some(out);
        }
        self.open(b'[')?;
        loop {
            self.line()?;
            out.push(item(self)?);
            if self.byte(b',').is_none() {
                self.close(b']')?;
                return Some(out);
            }
        }
    }

    fn host(&mut self) -> Option<RawHost<'a>> {
        self.open(b'{')?;
        self.member(first!(2, "host_id"))?;
        let host_id = self.raw()?;
        let form = if self.member_if(then!(2, "form")) {
            Some(self.raw()?)
        } else {
            None
        };
        let install_key = if self.member_if(then!(2, "install_key")) {
            Some(if self.null() { None } else { Some(self.raw()?) })
        } else {
            None
        };
        self.member(then!(2, "machine"))?;
        let machine = self.string()?;
        self.close(b'}')?;
        Some(RawHost {
            host_id,
            form,
            install_key,
            machine,
        })
    }

    fn license(&mut self) -> Option<Object<RawLicense>> {
        self.open(b'{')?;
        self.member(first!(3, "name"))?;
        let name = self.string()?;
        self.member(then!(3, "assigned"))?;
        let assigned = self.count()?;
        self.member(then!(3, "pooled"))?;
        let pooled = self.count()?;
        self.close(b'}')?;
        Some(Object(RawLicense {
            name,
            assigned,
            pooled,
        }))
    }

    fn item(&mut self) -> Option<Object<RawItem>> {
        self.open(b'{')?;
        self.member(first!(3, "part"))?;
        let part = self.string()?;
        self.member(then!(3, "description"))?;
        let description = self.string()?;
        self.member(then!(3, "quantity"))?;
        let quantity = self.count()?;
        self.close(b'}')?;
        Some(Object(RawItem {
            part,
            description,
            quantity,
        }))
    }

    fn rules(&mut self) -> Option<RawRules<'a>> {
        self.open(b'{')?;
        self.member(first!(2, "keys"))?;
        let keys = self.list(|c| {
            c.open(b'{')?;
            c.member(first!(4, "key"))?;
            let key = c.string()?;
            c.member(then!(4, "holders"))?;
            let holders = c.list(Self::raw)?;
            c.member(then!(4, "methods"))?;
            let methods = c.list(Self::raw)?;
            c.close(b'}')?;
            Some(Object(RawKeyRule {
                key,
                holders,
                methods,
            }))
        })?;
        self.member(then!(2, "requires"))?;
        let requires = self.list(|c| {
            c.open(b'{')?;
            c.member(first!(4, "key"))?;
            let key = c.string()?;
            c.member(then!(4, "any_of"))?;
            let any_of = c.list(Self::string)?;
            c.close(b'}')?;
            Some(Object(Requires { key, any_of }))
        })?;
        self.member(then!(2, "implies"))?;
        let implies = self.list(|c| {
            c.open(b'{')?;
            c.member(first!(4, "key"))?;
            let key = c.string()?;
            c.member(then!(4, "implied"))?;
            let implied = c.string()?;
            c.close(b'}')?;
            Some(Object(Implies { key, implied }))
        })?;
        self.member(then!(2, "excludes"))?;
        let excludes = self.list(|c| {
            c.open(b'{')?;
            c.member(first!(4, "keys"))?;
            let keys = c.list(Self::string)?;
            c.close(b'}')?;
            Some(Object(Excludes { keys }))
        })?;
        self.close(b'}')?;
        Some(RawRules {
            keys,
            requires,
            implies,
            excludes,
        })
    }

    fn payload(&mut self) -> Option<RawPayload<'a>> {
        self.open(b'{')?;
        self.member(first!(1, "file_id"))?;
        let file_id = self.raw()?;
        self.member(then!(1, "supersedes"))?;
        let supersedes = if self.null() { None } else { Some(self.raw()?) };
        let (lineage, generation) = if self.member_if(then!(1, "lineage")) {
            let lineage = self.raw()?;
            self.member(then!(1, "generation"))?;
            (Some(lineage), Some(self.count()?))
        } else {
            (None, None)
        };
        self.member(then!(1, "product"))?;
        let product = self.string()?;
        self.member(then!(1, "product_version"))?;
        let product_version = self.string()?;
        self.member(then!(1, "license_type"))?;
        let license_type = self.raw()?;
        self.member(then!(1, "issued_at"))?;
        let issued_at = self.raw()?;
        self.member(then!(1, "valid_from"))?;
        let valid_from = self.raw()?;
        self.member(then!(1, "expires_at"))?;
        let expires_at = self.raw()?;
        self.member(then!(1, "grace_days"))?;
        let grace_days = self.count()?;
        self.member(then!(1, "generated_by"))?;
        let generated_by = self.string()?;
        self.member(then!(1, "sold_to"))?;
        let sold_to = self.string()?;
        self.member(then!(1, "install_site"))?;
        let install_site = self.string()?;
        self.member(then!(1, "primary_host"))?;
        let primary_host = Object(self.host()?);
        self.member(then!(1, "switchover_host"))?;
        let switchover_host = if self.null() {
            None
        } else {
            Some(Object(self.host()?))
        };
        self.member(then!(1, "system_type"))?;
        let system_type = self.string()?;
        self.member(then!(1, "mail_connector"))?;
        let mail_connector = self.string()?;
        self.member(then!(1, "bundle"))?;
        let bundle = self.string()?;
        self.member(then!(1, "description"))?;
        let description = self.string()?;
        self.member(then!(1, "features"))?;
        let features = self.list(Self::string)?;
        self.member(then!(1, "licenses"))?;
        let licenses = self.list(Self::license)?;
        self.member(then!(1, "ordered_items"))?;
        let ordered_items = self.list(Self::item)?;
        self.member(then!(1, "restrictions"))?;
        let restrictions = self.list(Self::raw)?;
        let rules = if self.member_if(then!(1, "rules")) {
            Some(Object(self.rules()?))
        } else {
            None
        };
        self.close(b'}')?;
        Some(RawPayload {
            file_id,
            supersedes,
            lineage,
            generation,
            product,
            product_version,
            license_type,
            issued_at,
            valid_from,
            expires_at,
            grace_days,
            generated_by,
            sold_to,
            install_site,
            primary_host,
            switchover_host,
            system_type,
            mail_connector,
            bundle,
            description,
            features,
            licenses,
            ordered_items,
            restrictions,
            rules,
        })
    }
}

/// Read `text` if it is spelled as writers spell a payload, else `None`.
pub(super) fn read(text: &str) -> Option<RawPayload<'_>> {
    // The only control character a writer's payload has is the line break (between members).
    let bytes = text.as_bytes();
    if bytes
        .iter()
        .fold(false, |any, &b| any | ((b < 0x20) & (b != b'\n')))
    {
        return None;
    }
    let mut c = Cursor {
        text,
        at: 0,
        depth: 0,
    };
    let raw = c.payload()?;
    // The signed payload's lines each end with a line break.
    while c.byte(b'\n').is_some() {}
    (c.at == text.len()).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::super::{Object, RawPayload};
    use crate::model::FormatVersion;

    /// The payload text of a `.i3lic` file (the lines from `{` to `}`), if it has one.
    fn payload_of(file: &str) -> Option<String> {
        let lines: Vec<&str> = file.lines().collect();
        let start = lines.iter().position(|l| *l == "{")?;
        let end = lines.iter().rposition(|l| *l == "}")?;
        (start < end).then(|| lines.get(start..=end).unwrap_or_default().join("\n") + "\n")
    }

    /// Every payload of the conformance vectors, with the version its file declares.
    fn vector_payloads() -> Vec<(String, String, FormatVersion)> {
        let mut out = vec![];
        for (dir, version) in [
            ("vectors", FormatVersion::V1),
            ("vectors-v2", FormatVersion::V2),
            ("vectors-v3", FormatVersion::V3),
        ] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join(dir);
            for entry in std::fs::read_dir(&dir).expect("vectors") {
                let path = entry.expect("entry").path();
                let Ok(file) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if let Some(p) = payload_of(&file) {
                    out.push((path.display().to_string(), p, version));
                }
            }
        }
        out
    }

    /// What a raw payload converts to, as text to compare.
    fn outcome(raw: RawPayload<'_>, version: FormatVersion) -> String {
        let plain = raw.numbers_are_plain();
        format!("{plain} {:?}", raw.into_activation(version))
    }

    #[test]
    fn reads_what_writers_write() {
        let payloads = vector_payloads();
        for name in [
            "vectors/valid.i3lic",
            "vectors-v2/valid.i3lic",
            "vectors-v3/valid.i3lic",
        ] {
            let (_, p, _) = payloads
                .iter()
                .find(|(n, _, _)| n.ends_with(name))
                .expect("a valid vector");
            assert!(super::read(p).is_some(), "{name} not read directly");
        }
    }

    #[test]
    fn reads_as_serde_reads() {
        let mut direct = 0;
        for (name, p, version) in vector_payloads() {
            let Some(fast) = super::read(&p) else {
                continue;
            };
            direct += 1;
            let Object(slow): Object<RawPayload<'_>> =
                serde_json::from_str(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(outcome(fast, version), outcome(slow, version), "{name}");
        }
        assert!(direct > 50, "only {direct} payloads read directly");
    }

    /// Differential check on damaged payloads: each valid vector's payload with bytes
    /// replaced, inserted or removed (from a fixed-seed generator, 60,000 variants): whenever
    /// the direct reader takes one, serde's reading takes it too and converts it to the same
    /// result, so the direct reader never accepts what serde would refuse.
    #[test]
    fn what_the_direct_reader_takes_serde_reads_the_same() {
        // Bytes that matter to JSON and to the layout, and a few others.
        const ALPHABET: &[u8] = b"{}[]\":, \n0123456789-.eEtrufalsn\\aZ_\t";
        let payloads = vector_payloads();
        let valid: Vec<_> = payloads
            .iter()
            .filter(|(n, _, _)| n.ends_with("valid.i3lic"))
            .collect();
        assert!(valid.len() >= 3, "{}", valid.len());
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            // xorshift64*: reproducible without a dependency.
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let (mut taken, mut tried) = (0, 0);
        for (name, p, version) in &valid {
            for _ in 0..20_000 {
                let mut b = p.as_bytes().to_vec();
                for _ in 0..=(next() % 3) {
                    let at = (next() % b.len() as u64) as usize;
                    let c = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
                    match next() % 3 {
                        0 => b[at] = c,
                        1 => b.insert(at, c),
                        _ => {
                            b.remove(at);
                        }
                    }
                }
                let Ok(text) = String::from_utf8(b) else {
                    continue;
                };
                tried += 1;
                let Some(fast) = super::read(&text) else {
                    continue;
                };
                taken += 1;
                let slow: Result<Object<RawPayload<'_>>, _> = serde_json::from_str(&text);
                let Ok(Object(slow)) = slow else {
                    panic!("{name}: the direct reader took what serde refuses:\n{text}");
                };
                assert_eq!(
                    outcome(fast, *version),
                    outcome(slow, *version),
                    "{name}:\n{text}"
                );
            }
        }
        // The damage often leaves a payload the direct reader still takes (a changed digit
        // or letter in a value): those are the cases compared.
        assert!(taken > 1_000, "only {taken} of {tried} taken directly");
    }

    #[test]
    fn leaves_other_spellings_to_serde() {
        let (_, valid, _) = vector_payloads()
            .into_iter()
            .find(|(n, _, _)| n.ends_with("vectors-v3/valid.i3lic"))
            .expect("valid");
        assert!(super::read(&valid).is_some());
        for (from, to) in [
            ("\"grace_days\": 30", "\"grace_days\": 30.0"),
            ("\"grace_days\": 30", "\"grace_days\": 030"),
            ("\"grace_days\": 30", "\"grace_days\": 3e1"),
            ("\"grace_days\": 30", "\"grace_days\":30"),
            ("\"grace_days\": 30", "\"grace_days\": \"30\""),
            ("\"product\": \"CIC\"", "\"product\": \"C\\u0049C\""),
            ("\"product\": \"CIC\"", "\"product\": \"CI\\\"C\""),
            ("\"product\": \"CIC\"", "\"product\": \"CI\tC\""),
            (
                "\"product\": \"CIC\"",
                "\"product\": \"CIC\", \"product\": \"CIC\"",
            ),
            (
                "\"product\": \"CIC\"",
                "\"product\": \"CIC\",\n  \"extra\": 1",
            ),
            ("\n  \"file_id\"", "\n   \"file_id\""),
            ("\n  \"file_id\"", "\r\n  \"file_id\""),
            ("\"form\": \"short\"", "\"form\": null"),
        ] {
            assert!(valid.contains(from), "{from}");
            let changed = valid.replacen(from, to, 1);
            assert!(super::read(&changed).is_none(), "{to}");
        }
        assert!(super::read(&format!("{valid} ")).is_none());
        assert!(super::read(&format!("{valid}\n")).is_some());
        assert!(super::read(&format!("\n{valid}")).is_none());
        assert!(super::read(valid.trim_end().trim_end_matches('}')).is_none());
    }
}
