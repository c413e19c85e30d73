//! The host-ID code: component fingerprints, text form, check character and matching rule.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::CodeError;

/// Crockford base32 alphabet (no I, L, O, U).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The code version this crate writes (the first symbol of every code).
pub const CODE_VERSION: u8 = 1;

/// Number of base32 symbols in a version-1 code, check symbol included.
pub const SYMBOLS: usize = 25;

/// Symbols per dash-separated group in the printed form.
const GROUP: usize = 5;

/// Longest input [`HostId::from_str`] looks at; anything longer is refused before decoding.
pub const MAX_INPUT_LEN: usize = 64;

/// Bits kept from each strong component's hash.
const STRONG_BITS: u32 = 25;
/// Bits kept from the (weak) CPU hash.
const WEAK_BITS: u32 = 10;

const F_MACHINE: u8 = 1 << 0;
const F_DMI: u8 = 1 << 1;
const F_MAC1: u8 = 1 << 2;
const F_MAC2: u8 = 1 << 3;
const F_CPU: u8 = 1 << 4;

/// Minimum number of strong components a code must carry.
pub const MIN_STRONG_COMPONENTS: usize = 2;

/// The kinds of machine component a code can be built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ComponentKind {
    /// The operating system's machine identity (`/etc/machine-id` on Linux). Strong.
    MachineId,
    /// The firmware (DMI/SMBIOS) product UUID. Strong; root-only on Linux.
    DmiUuid,
    /// MAC addresses of physical network adapters. Strong (as one set).
    Mac,
    /// CPU vendor and brand string. Weak: many machines share it.
    Cpu,
}

impl ComponentKind {
    /// Whether this kind can count towards a match.
    pub fn is_strong(self) -> bool {
        !matches!(self, ComponentKind::Cpu)
    }

    /// Stable lower-case name, used in `gethostid --json`.
    pub fn name(self) -> &'static str {
        match self {
            ComponentKind::MachineId => "machine-id",
            ComponentKind::DmiUuid => "dmi-uuid",
            ComponentKind::Mac => "mac",
            ComponentKind::Cpu => "cpu",
        }
    }

    fn domain(self) -> &'static [u8] {
        match self {
            ComponentKind::MachineId => b"i3lic/hostid/v1/machine-id\0",
            ComponentKind::DmiUuid => b"i3lic/hostid/v1/dmi-uuid\0",
            ComponentKind::Mac => b"i3lic/hostid/v1/mac\0",
            ComponentKind::Cpu => b"i3lic/hostid/v1/cpu\0",
        }
    }
}

/// Raw component values read from a machine. Never printed or stored; only their hashes go
/// into a [`HostId`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Components {
    /// OS machine identity, if readable.
    pub machine_id: Option<String>,
    /// DMI product UUID, if readable and not a known placeholder.
    pub dmi_uuid: Option<String>,
    /// MAC addresses of the physical adapters (any order, duplicates allowed).
    pub macs: Vec<[u8; 6]>,
    /// CPU vendor and brand, if known.
    pub cpu: Option<String>,
}

impl fmt::Debug for Components {
    // Raw identifiers are not printed, even in debug output: only which kinds are present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Components")
            .field("machine_id", &self.machine_id.as_ref().map(|_| "<present>"))
            .field("dmi_uuid", &self.dmi_uuid.as_ref().map(|_| "<present>"))
            .field("macs", &self.macs.len())
            .field("cpu", &self.cpu.as_ref().map(|_| "<present>"))
            .finish()
    }
}

impl Components {
    /// The component kinds present (non-empty), in a fixed order.
    pub fn kinds(&self) -> Vec<ComponentKind> {
        let mut v = Vec::new();
        if self
            .machine_id
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
        {
            v.push(ComponentKind::MachineId);
        }
        if self
            .dmi_uuid
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
        {
            v.push(ComponentKind::DmiUuid);
        }
        if !self.macs.is_empty() {
            v.push(ComponentKind::Mac);
        }
        if self.cpu.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            v.push(ComponentKind::Cpu);
        }
        v
    }
}

fn fingerprint(kind: ComponentKind, value: &[u8], bits: u32) -> u32 {
    let mut h = Sha256::new();
    h.update(kind.domain());
    h.update(value);
    let d = h.finalize();
    let x = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    x >> (32 - bits)
}

fn normalise_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// A host-ID code: hashed fingerprints of a machine's components.
///
/// Build one from a machine with [`HostId::from_components`] (or `hostid::current()`), or
/// parse a typed code with [`str::parse`]. [`Display`](fmt::Display) gives the canonical form:
/// 25 Crockford base32 symbols in five dash-separated groups, for example
/// `1Q2H4-74KMZ-KWXDV-8K000-00KZQ` (the first symbol is the version, the last the check).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostId {
    flags: u8,
    machine: u32,
    dmi: u32,
    mac: [u32; 2],
    cpu: u32,
}

impl fmt::Debug for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostId({self})")
    }
}

impl HostId {
    /// Build a code from raw components. Fails with [`CodeError::TooFewComponents`] when fewer
    /// than [`MIN_STRONG_COMPONENTS`] strong components are present: such a code would be too
    /// easy to reproduce on another machine.
    pub fn from_components(c: &Components) -> Result<HostId, CodeError> {
        let mut id = HostId {
            flags: 0,
            machine: 0,
            dmi: 0,
            mac: [0, 0],
            cpu: 0,
        };
        if let Some(m) = c.machine_id.as_deref().filter(|s| !s.trim().is_empty()) {
            id.flags |= F_MACHINE;
            id.machine = fingerprint(
                ComponentKind::MachineId,
                normalise_text(m).as_bytes(),
                STRONG_BITS,
            );
        }
        if let Some(d) = c.dmi_uuid.as_deref().filter(|s| !s.trim().is_empty()) {
            id.flags |= F_DMI;
            id.dmi = fingerprint(
                ComponentKind::DmiUuid,
                normalise_text(d).as_bytes(),
                STRONG_BITS,
            );
        }
        let mut macs: Vec<u32> = c
            .macs
            .iter()
            .map(|m| fingerprint(ComponentKind::Mac, m, STRONG_BITS))
            .collect();
        macs.sort_unstable();
        macs.dedup();
        // The two smallest fingerprints stand for the set: adding or removing one adapter
        // keeps at least one of them in common (a min-hash sketch).
        if let Some(&a) = macs.first() {
            id.flags |= F_MAC1;
            id.mac[0] = a;
        }
        if let Some(&b) = macs.get(1) {
            id.flags |= F_MAC2;
            id.mac[1] = b;
        }
        if let Some(cpu) = c.cpu.as_deref().filter(|s| !s.trim().is_empty()) {
            id.flags |= F_CPU;
            id.cpu = fingerprint(
                ComponentKind::Cpu,
                normalise_text(cpu).as_bytes(),
                WEAK_BITS,
            );
        }
        let strong = id.strong_count();
        if strong < MIN_STRONG_COMPONENTS {
            return Err(CodeError::TooFewComponents {
                found: strong,
                needed: MIN_STRONG_COMPONENTS,
            });
        }
        Ok(id)
    }

    /// The component kinds this code carries.
    pub fn kinds(&self) -> Vec<ComponentKind> {
        let mut v = Vec::new();
        if self.flags & F_MACHINE != 0 {
            v.push(ComponentKind::MachineId);
        }
        if self.flags & F_DMI != 0 {
            v.push(ComponentKind::DmiUuid);
        }
        if self.flags & F_MAC1 != 0 {
            v.push(ComponentKind::Mac);
        }
        if self.flags & F_CPU != 0 {
            v.push(ComponentKind::Cpu);
        }
        v
    }

    fn strong_count(&self) -> usize {
        self.kinds().iter().filter(|k| k.is_strong()).count()
    }

    /// The code's version (always [`CODE_VERSION`] for codes this crate accepts).
    pub fn version(&self) -> u8 {
        CODE_VERSION
    }

    fn symbols(&self) -> [u8; SYMBOLS] {
        let mut out = [0u8; SYMBOLS];
        let mut i = 0;
        let mut push = |v: u32, n: usize| {
            for k in (0..n).rev() {
                out[i] = ((v >> (5 * k)) & 31) as u8;
                i += 1;
            }
        };
        push(u32::from(CODE_VERSION), 1);
        push(u32::from(self.flags), 1);
        push(self.machine, 5);
        push(self.dmi, 5);
        push(self.mac[0], 5);
        push(self.mac[1], 5);
        push(self.cpu, 2);
        debug_assert_eq!(i, SYMBOLS - 1);
        out[SYMBOLS - 1] = check_symbol(&out[..SYMBOLS - 1]);
        out
    }

    fn from_symbols(s: &[u8; SYMBOLS]) -> Result<HostId, CodeError> {
        if checksum(s) != 0 {
            return Err(CodeError::CheckFailed);
        }
        if s[0] != CODE_VERSION {
            return Err(CodeError::UnsupportedVersion {
                found: ALPHABET[usize::from(s[0])] as char,
            });
        }
        let take = |from: usize, n: usize| -> u32 {
            s[from..from + n]
                .iter()
                .fold(0u32, |acc, &d| (acc << 5) | u32::from(d))
        };
        let id = HostId {
            flags: s[1],
            machine: take(2, 5),
            dmi: take(7, 5),
            mac: [take(12, 5), take(17, 5)],
            cpu: take(22, 2),
        };
        // Absent components must be zero, and a second MAC needs a first, so each set of
        // components has exactly one spelling.
        let consistent = (id.flags & F_MACHINE != 0 || id.machine == 0)
            && (id.flags & F_DMI != 0 || id.dmi == 0)
            && (id.flags & F_MAC1 != 0 || id.mac[0] == 0)
            && (id.flags & F_MAC2 != 0 || id.mac[1] == 0)
            && (id.flags & F_MAC2 == 0 || id.flags & F_MAC1 != 0)
            && (id.flags & F_MAC2 == 0 || id.mac[0] < id.mac[1])
            && (id.flags & F_CPU != 0 || id.cpu == 0);
        if !consistent {
            return Err(CodeError::Inconsistent);
        }
        let strong = id.strong_count();
        if strong < MIN_STRONG_COMPONENTS {
            return Err(CodeError::TooFewComponents {
                found: strong,
                needed: MIN_STRONG_COMPONENTS,
            });
        }
        Ok(id)
    }

    /// Compare this code (the one a file was issued for) with the code of the machine
    /// checking it. See [`match_codes`].
    pub fn matches(&self, found: &HostId) -> bool {
        match_codes(self, found).is_match()
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.symbols();
        for (i, d) in s.iter().enumerate() {
            if i > 0 && i % GROUP == 0 {
                f.write_str("-")?;
            }
            write!(f, "{}", ALPHABET[usize::from(*d)] as char)?;
        }
        Ok(())
    }
}

/// Decode one typed character: case-insensitive, with Crockford's look-alikes (`O` → 0,
/// `I`/`L` → 1).
fn decode_char(c: char) -> Option<u8> {
    let u = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        u => u,
    };
    ALPHABET
        .iter()
        .position(|&a| a as char == u)
        .map(|p| p as u8)
}

impl FromStr for HostId {
    type Err = CodeError;

    /// Parse a typed code. Dashes and spaces are ignored, case does not matter, and `O`, `I`,
    /// `L` are read as `0`, `1`, `1`.
    fn from_str(input: &str) -> Result<HostId, CodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(CodeError::Empty);
        }
        if trimmed.len() > MAX_INPUT_LEN {
            return Err(CodeError::TooLong {
                len: trimmed.len(),
                max: MAX_INPUT_LEN,
            });
        }
        let mut syms = [0u8; SYMBOLS];
        let mut n = 0usize;
        for (pos, c) in trimmed.chars().enumerate() {
            if c == '-' || c == ' ' {
                continue;
            }
            let d = decode_char(c).ok_or(CodeError::InvalidCharacter {
                character: c,
                position: pos + 1,
            })?;
            if n < SYMBOLS {
                syms[n] = d;
            }
            n += 1;
        }
        if n != SYMBOLS {
            return Err(CodeError::WrongLength {
                found: n,
                expected: SYMBOLS,
            });
        }
        HostId::from_symbols(&syms)
    }
}

impl serde::Serialize for HostId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HostId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<HostId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

// ---- check symbol: a weighted sum over GF(32) ----
//
// Symbols s_0 .. s_{n-1} (check symbol last) must satisfy  sum a^(n-1-i) * s_i = 0  in GF(32),
// with a = x (the element 2) and the field built on x^5 + x^2 + 1. A single wrong symbol adds
// a^k * e with e != 0: never zero. Swapping two different neighbours adds
// a^k * (a + 1) * (s_i + s_{i+1}): never zero because a != 1. So both are always caught.

const GF_POLY: u8 = 0b10_0101; // x^5 + x^2 + 1

fn gf_mul2(x: u8) -> u8 {
    let y = x << 1;
    if y & 0x20 != 0 {
        y ^ GF_POLY
    } else {
        y
    }
}

fn checksum(symbols: &[u8]) -> u8 {
    symbols.iter().fold(0u8, |r, &s| gf_mul2(r) ^ s)
}

fn check_symbol(payload: &[u8]) -> u8 {
    gf_mul2(checksum(payload))
}

/// Whether a code is a well-formed code, without building it: the check used by `--check`.
pub fn validate(input: &str) -> Result<HostId, CodeError> {
    input.parse()
}

// ---- matching ----

/// How one component compared between two codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentMatch {
    /// Both codes carry it and it is equal.
    Equal,
    /// Both codes carry it and it differs.
    Different,
    /// At least one code does not carry it: not compared.
    NotCompared,
}

/// The outcome of [`match_codes`], with what was compared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatchReport {
    /// Per component kind, how it compared.
    pub components: Vec<(ComponentKind, ComponentMatch)>,
    /// Strong components equal in both codes.
    pub strong_equal: usize,
    /// Components (strong or weak) carried by both codes that differ.
    pub differing: usize,
}

impl MatchReport {
    /// The rule: at least [`MIN_STRONG_COMPONENTS`] strong components agree, and at most one
    /// compared component (strong or weak) differs.
    pub fn is_match(&self) -> bool {
        self.strong_equal >= MIN_STRONG_COMPONENTS && self.differing <= 1
    }
}

/// The tolerant matching rule, one function for every caller (the verifier, `licverify
/// --host-id`, `gethostid`).
///
/// Only components present in **both** codes are compared, so a process that cannot read a
/// component (the DMI UUID is root-only on Linux) is judged on what it can read. The codes
/// match when **at least two strong components agree** (machine identity, DMI UUID, MAC set)
/// **and at most one compared component differs** (the CPU counts here, never towards a
/// match). The MAC set agrees when the two codes share at least one adapter fingerprint, so
/// an added, removed or replaced network card among several still agrees.
///
/// Consequences, each tested:
/// - a network card replaced, machine identity and DMI UUID unchanged: match;
/// - a clone sharing the machine identity and CPU model but not DMI UUID and MACs: no match;
/// - the DMI UUID unreadable by the checking process, everything else equal: match;
/// - only the CPU equal: never a match.
pub fn match_codes(expected: &HostId, found: &HostId) -> MatchReport {
    let both = |f: u8| expected.flags & f != 0 && found.flags & f != 0;
    let cmp = |present: bool, equal: bool| {
        if !present {
            ComponentMatch::NotCompared
        } else if equal {
            ComponentMatch::Equal
        } else {
            ComponentMatch::Different
        }
    };
    let mac_equal = {
        let a = &expected.mac[..mac_len(expected)];
        let b = &found.mac[..mac_len(found)];
        a.iter().any(|x| b.contains(x))
    };
    let components = vec![
        (
            ComponentKind::MachineId,
            cmp(both(F_MACHINE), expected.machine == found.machine),
        ),
        (
            ComponentKind::DmiUuid,
            cmp(both(F_DMI), expected.dmi == found.dmi),
        ),
        (ComponentKind::Mac, cmp(both(F_MAC1), mac_equal)),
        (
            ComponentKind::Cpu,
            cmp(both(F_CPU), expected.cpu == found.cpu),
        ),
    ];
    let strong_equal = components
        .iter()
        .filter(|(k, m)| k.is_strong() && *m == ComponentMatch::Equal)
        .count();
    let differing = components
        .iter()
        .filter(|(_, m)| *m == ComponentMatch::Different)
        .count();
    MatchReport {
        components,
        strong_equal,
        differing,
    }
}

fn mac_len(id: &HostId) -> usize {
    usize::from(id.flags & F_MAC1 != 0) + usize::from(id.flags & F_MAC2 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Components {
        Components {
            machine_id: Some("4c4c4544004b4b10804bb4c04f4d3732".into()),
            dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
            macs: vec![
                [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c],
                [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5d],
            ],
            cpu: Some("GenuineIntel Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz".into()),
        }
    }

    fn code(c: &Components) -> HostId {
        HostId::from_components(c).unwrap()
    }

    #[test]
    fn round_trips_through_text() {
        let id = code(&full());
        let s = id.to_string();
        assert_eq!(s.len(), 29);
        assert!(s.starts_with('1'));
        assert_eq!(s.parse::<HostId>().unwrap(), id);
        assert_eq!(s.to_lowercase().parse::<HostId>().unwrap(), id);
        assert_eq!(s.replace('-', "").parse::<HostId>().unwrap(), id);
    }

    #[test]
    fn every_substitution_and_adjacent_swap_is_caught() {
        let samples = [
            code(&full()),
            code(&Components {
                machine_id: Some("a".into()),
                macs: vec![[2, 0, 0, 0, 0, 1]],
                ..Default::default()
            }),
        ];
        for id in samples {
            let syms = id.symbols();
            for i in 0..SYMBOLS {
                for d in 0..32u8 {
                    if d == syms[i] {
                        continue;
                    }
                    let mut t = syms;
                    t[i] = d;
                    assert_ne!(checksum(&t), 0, "substitution at {i} not caught");
                    assert!(HostId::from_symbols(&t).is_err());
                }
            }
            for i in 0..SYMBOLS - 1 {
                if syms[i] == syms[i + 1] {
                    continue;
                }
                let mut t = syms;
                t.swap(i, i + 1);
                assert_ne!(checksum(&t), 0, "swap at {i} not caught");
            }
        }
    }
}
