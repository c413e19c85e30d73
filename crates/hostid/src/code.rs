//! The host-ID code: component fingerprints, the two text forms (short and strong), check
//! character and matching rule.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::{CodeError, SpellingDifference};

/// Crockford base32 alphabet (no I, L, O, U).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The version symbol of a short code (the first symbol of every short code).
pub const CODE_VERSION: u8 = 1;

/// The version symbol of a strong code (the first symbol of every strong code).
pub const STRONG_CODE_VERSION: u8 = 2;

/// Number of base32 symbols in a short (version-1) code, check symbol included.
pub const SYMBOLS: usize = 25;

/// Number of base32 symbols in a strong (version-2) code, check symbol included.
pub const STRONG_SYMBOLS: usize = 60;

/// Symbols per dash-separated group in the printed form (both forms).
pub(crate) const GROUP: usize = 5;

/// Longest input [`HostId::from_str`] looks at (bytes, after trimming); anything longer is
/// refused before decoding. Fits a strong code typed with a space after every symbol.
pub const MAX_INPUT_LEN: usize = 128;

/// Bits of a short code's strong-component fingerprint (machine identity, DMI UUID, each MAC).
const SHORT_BITS: u32 = 25;
/// Bits of a short code's CPU fingerprint.
const SHORT_CPU_BITS: u32 = 10;
/// Bits of a strong code's strong-component fingerprint.
const STRONG_BITS: u32 = 65;
/// Bits of a strong code's CPU fingerprint.
const STRONG_CPU_BITS: u32 = 25;

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

    /// The hash's domain separator. The same for both forms: a strong fingerprint is a longer
    /// prefix of the same digest a short fingerprint is cut from.
    fn domain(self) -> &'static [u8] {
        match self {
            ComponentKind::MachineId => b"i3lic/hostid/v1/machine-id\0",
            ComponentKind::DmiUuid => b"i3lic/hostid/v1/dmi-uuid\0",
            ComponentKind::Mac => b"i3lic/hostid/v1/mac\0",
            ComponentKind::Cpu => b"i3lic/hostid/v1/cpu\0",
        }
    }
}

/// Which of the two text forms a [`HostId`] has.
///
/// - **short** (version `1`, 25 symbols): what a customer types into an order form; 25-bit
///   fingerprints, which can be inverted in seconds (see the crate docs' threat model);
/// - **strong** (version `2`, 60 symbols): pasted or uploaded rather than typed; 65-bit
///   fingerprints, so the printed code is not enough to build a machine that matches it.
///
/// Both carry the same components and follow the same matching rule; a strong code
/// determines its short code ([`HostId::to_short`]).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CodeForm {
    /// 25 symbols, version `1`.
    Short,
    /// 60 symbols, version `2`.
    Strong,
}

impl CodeForm {
    /// `"short"` or `"strong"`, as in `gethostid --json` and [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            CodeForm::Short => "short",
            CodeForm::Strong => "strong",
        }
    }

    /// The version symbol's value: [`CODE_VERSION`] or [`STRONG_CODE_VERSION`].
    pub fn version(self) -> u8 {
        self.layout().version
    }

    /// Base32 symbols in a code of this form, check symbol included.
    pub fn symbols(self) -> usize {
        self.layout().total
    }

    /// Length of the printed form: the symbols plus one dash between groups of five.
    pub fn printed_len(self) -> usize {
        let n = self.symbols();
        n + n.div_ceil(GROUP) - 1
    }

    /// Bits of each strong-component fingerprint (machine identity, DMI UUID, each MAC).
    pub fn fingerprint_bits(self) -> u32 {
        self.layout().strong_bits
    }

    /// Bits of the (weak) CPU fingerprint.
    pub fn cpu_bits(self) -> u32 {
        self.layout().cpu_bits
    }

    fn layout(self) -> &'static Layout {
        match self {
            CodeForm::Short => &SHORT_LAYOUT,
            CodeForm::Strong => &STRONG_LAYOUT,
        }
    }
}

impl fmt::Display for CodeForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CodeForm {
    type Err = CodeError;

    /// `short` or `strong`, exactly as [`CodeForm::as_str`] writes them.
    fn from_str(s: &str) -> Result<CodeForm, CodeError> {
        match s {
            "short" => Ok(CodeForm::Short),
            "strong" => Ok(CodeForm::Strong),
            _ => Err(CodeError::UnknownForm),
        }
    }
}

/// Field widths of one form. Every field fills whole symbols, most significant symbol first.
struct Layout {
    form: CodeForm,
    version: u8,
    /// Bits per strong-component fingerprint (a multiple of 5).
    strong_bits: u32,
    /// Bits of the CPU fingerprint (a multiple of 5).
    cpu_bits: u32,
    /// All symbols, check symbol included.
    total: usize,
}

impl Layout {
    fn strong_symbols(&self) -> usize {
        (self.strong_bits / 5) as usize
    }

    fn cpu_symbols(&self) -> usize {
        (self.cpu_bits / 5) as usize
    }
}

const SHORT_LAYOUT: Layout = Layout {
    form: CodeForm::Short,
    version: CODE_VERSION,
    strong_bits: SHORT_BITS,
    cpu_bits: SHORT_CPU_BITS,
    total: SYMBOLS,
};

const STRONG_LAYOUT: Layout = Layout {
    form: CodeForm::Strong,
    version: STRONG_CODE_VERSION,
    strong_bits: STRONG_BITS,
    cpu_bits: STRONG_CPU_BITS,
    total: STRONG_SYMBOLS,
};

// Both layouts add up: version, flags, four strong fields, the CPU field, the check symbol.
const _: () = {
    assert!(SHORT_BITS.is_multiple_of(5) && SHORT_CPU_BITS.is_multiple_of(5));
    assert!(STRONG_BITS.is_multiple_of(5) && STRONG_CPU_BITS.is_multiple_of(5));
    assert!(2 + 4 * (SHORT_BITS / 5) as usize + (SHORT_CPU_BITS / 5) as usize + 1 == SYMBOLS);
    assert!(
        2 + 4 * (STRONG_BITS / 5) as usize + (STRONG_CPU_BITS / 5) as usize + 1 == STRONG_SYMBOLS
    );
    assert!(STRONG_BITS >= 64 && STRONG_BITS <= 128);
    assert!(STRONG_CPU_BITS >= SHORT_CPU_BITS);
    assert!(MAX_INPUT_LEN >= 2 * STRONG_SYMBOLS);
};

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

/// The leading `bits` bits (at most 128) of `SHA-256(domain(kind) || value)`, read as a
/// big-endian number. A shorter fingerprint is always a prefix of a longer one.
fn fingerprint(kind: ComponentKind, value: &[u8], bits: u32) -> u128 {
    let mut h = Sha256::new();
    h.update(kind.domain());
    h.update(value);
    let d = h.finalize();
    let mut lead = [0u8; 16];
    lead.copy_from_slice(&d[..16]);
    u128::from_be_bytes(lead) >> (128 - bits)
}

fn normalise_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// A host-ID code: hashed fingerprints of a machine's components, in one of two forms.
///
/// Build one from a machine with [`HostId::from_components`] (short) or
/// [`HostId::strong_from_components`] (strong), or `hostid::current()` /
/// `hostid::machine::current_strong()`; or parse a typed code with [`str::parse`] (lenient,
/// either form) or [`HostId::parse_canonical`] (exactly the printed form).
/// [`Display`](fmt::Display) gives the canonical form: Crockford base32 symbols in
/// dash-separated groups of five, 25 symbols for a short code (for example
/// `1Q2H4-74KMZ-KWXDV-8K000-00KZQ`) and 60 for a strong one; the first symbol is the version
/// (`1` short, `2` strong), the last the check symbol.
///
/// Serialised (serde) as its printed string; deserialised with the lenient parser.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostId {
    form: CodeForm,
    flags: u8,
    /// Fingerprints, right-aligned: `form.fingerprint_bits()` bits each (CPU: `cpu_bits()`).
    machine: u128,
    dmi: u128,
    mac: [u128; 2],
    cpu: u128,
}

impl fmt::Debug for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostId({self})")
    }
}

/// A code's symbols (values 0..32), check symbol included; only `len` of them are used.
pub(crate) struct Symbols {
    buf: [u8; STRONG_SYMBOLS],
    len: usize,
}

impl Symbols {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl HostId {
    /// Build a short code from raw components. Fails with [`CodeError::TooFewComponents`]
    /// when fewer than [`MIN_STRONG_COMPONENTS`] strong components are present: such a code
    /// would be too easy to reproduce on another machine.
    pub fn from_components(c: &Components) -> Result<HostId, CodeError> {
        HostId::build(c, CodeForm::Short)
    }

    /// Build a strong code from raw components: the same components, rule and refusal as
    /// [`HostId::from_components`], with 65-bit fingerprints (25 bits for the CPU).
    /// `HostId::strong_from_components(c)?.to_short()` is exactly
    /// `HostId::from_components(c)?`.
    pub fn strong_from_components(c: &Components) -> Result<HostId, CodeError> {
        HostId::build(c, CodeForm::Strong)
    }

    fn build(c: &Components, form: CodeForm) -> Result<HostId, CodeError> {
        let l = form.layout();
        let mut id = HostId {
            form,
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
                l.strong_bits,
            );
        }
        if let Some(d) = c.dmi_uuid.as_deref().filter(|s| !s.trim().is_empty()) {
            id.flags |= F_DMI;
            id.dmi = fingerprint(
                ComponentKind::DmiUuid,
                normalise_text(d).as_bytes(),
                l.strong_bits,
            );
        }
        let mut macs: Vec<u128> = c
            .macs
            .iter()
            .map(|m| fingerprint(ComponentKind::Mac, m, l.strong_bits))
            .collect();
        // The two smallest fingerprints stand for the set: adding or removing one adapter
        // keeps at least one of them in common (a min-hash sketch). Sorted by the whole
        // fingerprint, which orders the 25-bit prefixes too; of adapters whose 25-bit
        // prefixes are equal only the smallest is kept (for a short code: equal fingerprints,
        // duplicates), so a strong code keeps exactly the adapters the short code keeps.
        let shift = l.strong_bits - SHORT_BITS;
        macs.sort_unstable();
        macs.dedup_by_key(|f| *f >> shift);
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
                l.cpu_bits,
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

    /// The code's form: short (version `1`) or strong (version `2`).
    pub fn form(&self) -> CodeForm {
        self.form
    }

    /// The short code of the same components: each fingerprint cut to its leading 25 bits
    /// (CPU: 10 bits), the same flags. The identity for a short code.
    ///
    /// Exactly what [`HostId::from_components`] gives for the components this strong code was
    /// made from, so a server probes once, reads the strong code and derives the short one.
    pub fn to_short(&self) -> HostId {
        match self.form {
            CodeForm::Short => *self,
            CodeForm::Strong => {
                let cut = STRONG_BITS - SHORT_BITS;
                HostId {
                    form: CodeForm::Short,
                    flags: self.flags,
                    machine: self.machine >> cut,
                    dmi: self.dmi >> cut,
                    mac: [self.mac[0] >> cut, self.mac[1] >> cut],
                    cpu: self.cpu >> (STRONG_CPU_BITS - SHORT_CPU_BITS),
                }
            }
        }
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

    /// The code's version symbol: [`CODE_VERSION`] for a short code, [`STRONG_CODE_VERSION`]
    /// for a strong one.
    pub fn version(&self) -> u8 {
        self.form.version()
    }

    pub(crate) fn symbols(&self) -> Symbols {
        let l = self.form.layout();
        let mut out = Symbols {
            buf: [0u8; STRONG_SYMBOLS],
            len: l.total,
        };
        let mut i = 0;
        let mut push = |v: u128, n: usize| {
            for k in (0..n).rev() {
                out.buf[i] = ((v >> (5 * k)) & 31) as u8;
                i += 1;
            }
        };
        push(u128::from(l.version), 1);
        push(u128::from(self.flags), 1);
        push(self.machine, l.strong_symbols());
        push(self.dmi, l.strong_symbols());
        push(self.mac[0], l.strong_symbols());
        push(self.mac[1], l.strong_symbols());
        push(self.cpu, l.cpu_symbols());
        debug_assert_eq!(i, l.total - 1);
        out.buf[l.total - 1] = check_symbol(&out.buf[..l.total - 1]);
        out
    }

    /// Decode a code's symbols; the form is chosen by their number (25 or 60).
    pub(crate) fn from_symbols(s: &[u8]) -> Result<HostId, CodeError> {
        let l = match s.len() {
            SYMBOLS => &SHORT_LAYOUT,
            STRONG_SYMBOLS => &STRONG_LAYOUT,
            n => {
                return Err(CodeError::WrongLength {
                    found: n,
                    expected: expected_len(s.first().copied(), n),
                })
            }
        };
        if checksum(s) != 0 {
            return Err(CodeError::CheckFailed);
        }
        let (&version, rest) = s.split_first().ok_or(CodeError::Empty)?;
        if version != l.version {
            return Err(CodeError::UnsupportedVersion {
                found: ALPHABET[usize::from(version & 31)] as char,
            });
        }
        let (&flags, mut rest) = rest.split_first().ok_or(CodeError::Empty)?;
        let mut take = |n: usize| -> u128 {
            let (field, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            field
                .iter()
                .fold(0u128, |acc, &d| (acc << 5) | u128::from(d))
        };
        let id = HostId {
            form: l.form,
            flags,
            machine: take(l.strong_symbols()),
            dmi: take(l.strong_symbols()),
            mac: [take(l.strong_symbols()), take(l.strong_symbols())],
            cpu: take(l.cpu_symbols()),
        };
        // Absent components must be zero, a second MAC needs a first, and the two MACs are in
        // increasing order of their 25-bit prefixes (which differ), so each set of components
        // has exactly one spelling and a strong code's short code is a valid short code.
        let prefix = |f: u128| f >> (l.strong_bits - SHORT_BITS);
        let consistent = (id.flags & F_MACHINE != 0 || id.machine == 0)
            && (id.flags & F_DMI != 0 || id.dmi == 0)
            && (id.flags & F_MAC1 != 0 || id.mac[0] == 0)
            && (id.flags & F_MAC2 != 0 || id.mac[1] == 0)
            && (id.flags & F_MAC2 == 0 || id.flags & F_MAC1 != 0)
            && (id.flags & F_MAC2 == 0 || prefix(id.mac[0]) < prefix(id.mac[1]))
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

    /// Parse a code written exactly as [`Display`](fmt::Display) prints it: upper case, the
    /// dashes where the printed form has them, no look-alikes (`O`, `I`, `L`), no spaces and
    /// nothing around it. Activation files use this, so every host ID has one spelling.
    ///
    /// A malformed code gets the same error as from [`str::parse`]; a well-formed code
    /// spelled differently gets [`CodeError::NotCanonical`], naming the first character that
    /// differs, how, and the printed form.
    ///
    /// ```
    /// use hostid::{CodeError, HostId};
    ///
    /// let id = HostId::parse_canonical("1Q2H4-74KMZ-KWXDV-8K000-00KZQ")?;
    /// assert_eq!(id.to_string(), "1Q2H4-74KMZ-KWXDV-8K000-00KZQ");
    /// assert!(matches!(
    ///     HostId::parse_canonical("1q2h4-74kmz-kwxdv-8k000-00kzq"),
    ///     Err(CodeError::NotCanonical { position: 2, .. })
    /// ));
    /// # Ok::<(), CodeError>(())
    /// ```
    pub fn parse_canonical(input: &str) -> Result<HostId, CodeError> {
        let id: HostId = input.parse()?;
        let expected = id.to_string();
        if input == expected {
            return Ok(id);
        }
        let (position, difference) = first_difference(input, &expected);
        Err(CodeError::NotCanonical {
            expected,
            position,
            difference,
        })
    }

    /// Compare this code (the one a file was issued for) with the code of the machine
    /// checking it. See [`match_codes`].
    pub fn matches(&self, found: &HostId) -> bool {
        match_codes(self, found).is_match()
    }
}

/// The symbol count a malformed code was most likely meant to have: by its version symbol,
/// else the nearer of the two.
fn expected_len(first: Option<u8>, found: usize) -> usize {
    match first {
        Some(CODE_VERSION) => SYMBOLS,
        Some(STRONG_CODE_VERSION) => STRONG_SYMBOLS,
        _ if found.abs_diff(SYMBOLS) <= found.abs_diff(STRONG_SYMBOLS) => SYMBOLS,
        _ => STRONG_SYMBOLS,
    }
}

/// Where `input` (which parses to the code printed as `printed`) first departs from the
/// printed form: a 1-based character position in `input` and what kind of difference it is.
fn first_difference(input: &str, printed: &str) -> (usize, SpellingDifference) {
    let lead = input.chars().take_while(|c| c.is_whitespace()).count();
    if lead > 0 {
        return (1, SpellingDifference::Whitespace);
    }
    let mut typed = input.chars();
    let mut want = printed.chars();
    let mut pos = 0;
    loop {
        pos += 1;
        match (typed.next(), want.next()) {
            (Some(t), Some(w)) if t == w => continue,
            (Some(t), None) if t.is_whitespace() => return (pos, SpellingDifference::Whitespace),
            (Some(t), Some(w)) if t.is_ascii_alphabetic() && t.to_ascii_uppercase() == w => {
                return (pos, SpellingDifference::LowerCase)
            }
            (Some(t), Some(w)) if t.is_ascii_alphabetic() && w.is_ascii_digit() => {
                return (pos, SpellingDifference::LookAlike)
            }
            _ => return (pos, SpellingDifference::Separator),
        }
    }
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Spelled into a buffer and written once (codes are printed for every file written
        // and compared with their printed form for every file read).
        let s = self.symbols();
        let mut buf = [0u8; STRONG_SYMBOLS + STRONG_SYMBOLS / GROUP];
        let mut n = 0;
        for (i, d) in s.as_slice().iter().enumerate() {
            if i > 0 && i % GROUP == 0 {
                if let Some(b) = buf.get_mut(n) {
                    *b = b'-';
                }
                n += 1;
            }
            if let Some(b) = buf.get_mut(n) {
                *b = ALPHABET[usize::from(*d & 31)];
            }
            n += 1;
        }
        // Every byte is from the ASCII alphabet or a dash.
        f.write_str(std::str::from_utf8(buf.get(..n).unwrap_or_default()).map_err(|_| fmt::Error)?)
    }
}

/// Decode one typed character: case-insensitive, with Crockford's look-alikes (`O` → 0,
/// `I`/`L` → 1).
pub(crate) fn decode_char(c: char) -> Option<u8> {
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

    /// Parse a typed code of either form. Dashes and spaces are ignored, case does not
    /// matter, and `O`, `I`, `L` are read as `0`, `1`, `1`. The form follows from the number
    /// of symbols (25 short, 60 strong), and the version symbol must agree with it.
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
        let mut syms = [0u8; STRONG_SYMBOLS];
        let mut n = 0usize;
        for (pos, c) in trimmed.chars().enumerate() {
            if c == '-' || c == ' ' {
                continue;
            }
            let d = decode_char(c).ok_or(CodeError::InvalidCharacter {
                character: c,
                position: pos + 1,
            })?;
            if let Some(slot) = syms.get_mut(n) {
                *slot = d;
            }
            n += 1;
        }
        if n != SYMBOLS && n != STRONG_SYMBOLS {
            return Err(CodeError::WrongLength {
                found: n,
                expected: expected_len((n > 0).then_some(syms[0]), n),
            });
        }
        HostId::from_symbols(&syms[..n])
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
// The field GF(32) = GF(2)[x] / (x^5 + x^2 + 1); a symbol value 0..31 is the polynomial whose
// coefficients are its bits (bit 4 the x^4 coefficient). Addition is XOR. a = x (the element
// 2). The symbols s_0 .. s_{n-1} of a code (n = 25 or 60, the check symbol s_{n-1} last)
// satisfy
//
//     S = sum_{i=0}^{n-1} w_i * s_i = 0,   w_i = a^(n-1-i),
//
// which is what `checksum` computes (Horner: r <- a*r + s_i), and `check_symbol` picks
// s_{n-1} = a * sum_{i<n-1} a^(n-2-i) * s_i so that it holds.
//
// Claim: for ANY length n, every single wrong symbol and every swap of two different
// neighbours gives S != 0. Proof. The weights are powers of a != 0, so none is zero; and
// adjacent weights differ: w_i = a * w_{i+1}, so w_i = w_{i+1} would need a = 1 (w_{i+1} is
// invertible), but a = x != 1.
// - A single symbol s_i replaced by s_i + e (e != 0) changes S by w_i * e: a product of two
//   non-zero elements of a field, never zero.
// - Swapping s_i and s_{i+1} (s_i != s_{i+1}) changes S by
//   w_i*s_{i+1} + w_{i+1}*s_i - w_i*s_i - w_{i+1}*s_{i+1} = (w_i - w_{i+1}) * (s_{i+1} - s_i),
//   a product of two non-zero elements (adjacent weights differ; the symbols differ): never
//   zero. (In characteristic 2, minus is plus.)
// Nothing in the argument depends on n. What the check does NOT always catch: two wrong
// symbols, and in a code longer than 31 symbols a swap of two symbols 31 places apart (a has
// order 31, so w_i = w_{i+31}). `every_substitution_and_adjacent_swap_is_caught` below, and
// tests/code.rs through the parser, try every case for both forms.

const GF_POLY: u8 = 0b10_0101; // x^5 + x^2 + 1

fn gf_mul2(x: u8) -> u8 {
    let y = x << 1;
    if y & 0x20 != 0 {
        y ^ GF_POLY
    } else {
        y
    }
}

pub(crate) fn checksum(symbols: &[u8]) -> u8 {
    symbols.iter().fold(0u8, |r, &s| gf_mul2(r) ^ s)
}

pub(crate) fn check_symbol(payload: &[u8]) -> u8 {
    gf_mul2(checksum(payload))
}

/// Whether a code is a well-formed code of either form, without building it: the check used
/// by `--check`. The same as [`str::parse`].
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
    /// Per component kind, how it compared (at [`MatchReport::compared_form`]).
    pub components: Vec<(ComponentKind, ComponentMatch)>,
    /// Strong components equal in both codes.
    pub strong_equal: usize,
    /// Components (strong or weak) carried by both codes that differ.
    pub differing: usize,
    /// The form of the expected code (the one a file is bound to).
    pub expected_form: CodeForm,
    /// The form of the code found on the checking machine.
    pub found_form: CodeForm,
}

impl MatchReport {
    /// Whether the codes match: the components agree ([`MatchReport::components_agree`]) and
    /// the forms allow a match (not [`MatchReport::form_mismatch`]).
    pub fn is_match(&self) -> bool {
        !self.form_mismatch() && self.components_agree()
    }

    /// The rule on the components alone: at least [`MIN_STRONG_COMPONENTS`] strong
    /// components agree, and at most one compared component (strong or weak) differs.
    pub fn components_agree(&self) -> bool {
        self.strong_equal >= MIN_STRONG_COMPONENTS && self.differing <= 1
    }

    /// The expected code is strong and the found one short: a short code cannot prove a
    /// strong binding, so this is never a match, whatever the components say. (The
    /// components are still compared, at the short form, to say how close it came.)
    pub fn form_mismatch(&self) -> bool {
        self.expected_form == CodeForm::Strong && self.found_form == CodeForm::Short
    }

    /// The form the fingerprints were compared at: strong when both codes are strong, else
    /// short (the strong code cut to its short code).
    pub fn compared_form(&self) -> CodeForm {
        if self.expected_form == CodeForm::Strong && self.found_form == CodeForm::Strong {
            CodeForm::Strong
        } else {
            CodeForm::Short
        }
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
/// Forms:
/// - both short, or both strong: compared as they are (strong: 65-bit fingerprints);
///   symmetric;
/// - `expected` short, `found` strong: compared with `found.to_short()` (a strong reading can
///   check a short binding);
/// - `expected` strong, `found` short: **never a match** ([`MatchReport::form_mismatch`]): a
///   short code cannot prove a strong binding. The report still compares
///   `expected.to_short()` with `found`.
///
/// Consequences, each tested:
/// - a network card replaced, machine identity and DMI UUID unchanged: match;
/// - a clone sharing the machine identity and CPU model but not DMI UUID and MACs: no match;
/// - the DMI UUID unreadable by the checking process, everything else equal: match;
/// - only the CPU equal: never a match.
pub fn match_codes(expected: &HostId, found: &HostId) -> MatchReport {
    let (e, f) = match (expected.form, found.form) {
        (CodeForm::Short, CodeForm::Short) | (CodeForm::Strong, CodeForm::Strong) => {
            (*expected, *found)
        }
        (CodeForm::Short, CodeForm::Strong) => (*expected, found.to_short()),
        (CodeForm::Strong, CodeForm::Short) => (expected.to_short(), *found),
    };
    let both = |flag: u8| e.flags & flag != 0 && f.flags & flag != 0;
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
        let a = &e.mac[..mac_len(&e)];
        let b = &f.mac[..mac_len(&f)];
        a.iter().any(|x| b.contains(x))
    };
    let components = vec![
        (
            ComponentKind::MachineId,
            cmp(both(F_MACHINE), e.machine == f.machine),
        ),
        (ComponentKind::DmiUuid, cmp(both(F_DMI), e.dmi == f.dmi)),
        (ComponentKind::Mac, cmp(both(F_MAC1), mac_equal)),
        (ComponentKind::Cpu, cmp(both(F_CPU), e.cpu == f.cpu)),
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
        expected_form: expected.form,
        found_form: found.form,
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

    fn small() -> Components {
        Components {
            machine_id: Some("a".into()),
            macs: vec![[2, 0, 0, 0, 0, 1]],
            ..Default::default()
        }
    }

    fn code(c: &Components) -> HostId {
        HostId::from_components(c).unwrap()
    }

    fn strong(c: &Components) -> HostId {
        HostId::strong_from_components(c).unwrap()
    }

    #[test]
    fn round_trips_through_text() {
        for (id, len, first) in [
            (code(&full()), 29, '1'),
            (strong(&full()), 71, '2'),
            (strong(&small()), 71, '2'),
        ] {
            let s = id.to_string();
            assert_eq!(s.len(), len);
            assert_eq!(s.len(), id.form().printed_len());
            assert!(s.starts_with(first));
            assert_eq!(s.parse::<HostId>().unwrap(), id);
            assert_eq!(s.to_lowercase().parse::<HostId>().unwrap(), id);
            assert_eq!(s.replace('-', "").parse::<HostId>().unwrap(), id);
            assert_eq!(HostId::parse_canonical(&s), Ok(id));
        }
    }

    #[test]
    fn strong_fingerprints_extend_the_short_ones() {
        let c = full();
        let (s, l) = (code(&c), strong(&c));
        assert_eq!(l.machine >> 40, s.machine);
        assert_eq!(l.dmi >> 40, s.dmi);
        assert_eq!(l.mac[0] >> 40, s.mac[0]);
        assert_eq!(l.mac[1] >> 40, s.mac[1]);
        assert_eq!(l.cpu >> 15, s.cpu);
        assert_eq!(l.to_short(), s);
        assert!(l.machine < 1 << 65 && l.cpu < 1 << 25);
        // The old 32-bit arithmetic gives the same short fingerprint.
        let d = Sha256::new()
            .chain_update(ComponentKind::Mac.domain())
            .chain_update(c.macs[0])
            .finalize();
        let old = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> 7;
        assert!(s.mac.contains(&u128::from(old)));
    }

    #[test]
    fn every_substitution_and_adjacent_swap_is_caught() {
        let samples = [
            code(&full()),
            code(&small()),
            strong(&full()),
            strong(&small()),
        ];
        for id in samples {
            let syms = id.symbols();
            let syms = syms.as_slice();
            assert_eq!(checksum(syms), 0);
            for i in 0..syms.len() {
                for d in 0..32u8 {
                    if d == syms[i] {
                        continue;
                    }
                    let mut t = syms.to_vec();
                    t[i] = d;
                    assert_ne!(checksum(&t), 0, "substitution at {i} not caught");
                    assert!(HostId::from_symbols(&t).is_err());
                }
            }
            for i in 0..syms.len() - 1 {
                if syms[i] == syms[i + 1] {
                    continue;
                }
                let mut t = syms.to_vec();
                t.swap(i, i + 1);
                assert_ne!(checksum(&t), 0, "swap at {i} not caught");
            }
        }
    }

    #[test]
    fn the_check_proof_holds_for_every_length_and_symbol_pair() {
        // The two facts the proof rests on, for every position of a 60-symbol code: the
        // weight is non-zero, and differs from its neighbour's. Then every error value.
        let n = STRONG_SYMBOLS;
        let weight = |i: usize| (0..n - 1 - i).fold(1u8, |w, _| gf_mul2(w));
        for i in 0..n {
            assert_ne!(weight(i), 0);
            if i + 1 < n {
                assert_ne!(weight(i), weight(i + 1));
            }
        }
        // a^31 = 1: the weights repeat after 31 positions (the documented limit).
        assert_eq!((0..31).fold(1u8, |w, _| gf_mul2(w)), 1);
        // The sum is linear, so whether an error is caught depends only on the error and its
        // position, not on the rest of the code: trying each from the zero code covers every
        // code. Every substitution and every neighbour swap, for each length.
        for len in [SYMBOLS, STRONG_SYMBOLS] {
            for i in 0..len {
                for e in 1..32u8 {
                    let mut t = vec![0u8; len];
                    t[i] = e;
                    assert_ne!(checksum(&t), 0);
                }
            }
            for i in 0..len - 2 {
                for a in 0..32u8 {
                    for b in 0..32u8 {
                        if a == b {
                            continue;
                        }
                        let mut t = vec![0u8; len];
                        t[i] = a;
                        t[i + 1] = b;
                        t[len - 1] = check_symbol(&t[..len - 1]);
                        assert_eq!(checksum(&t), 0);
                        t.swap(i, i + 1);
                        assert_ne!(checksum(&t), 0, "len {len}, swap at {i}: {a} {b}");
                    }
                }
            }
            // Swaps involving the check symbol: symbol n-2 against the check.
            for a in 0..32u8 {
                let mut t = vec![0u8; len];
                t[len - 2] = a;
                let c = check_symbol(&t[..len - 1]);
                t[len - 1] = c;
                if a != c {
                    t.swap(len - 2, len - 1);
                    assert_ne!(checksum(&t), 0);
                }
            }
        }
    }

    #[test]
    fn mac_prefix_ties_keep_the_smaller_adapter() {
        // Hand-made fingerprints: three adapters, the two smallest share a 25-bit prefix.
        let mut fps: Vec<u128> = vec![(7u128 << 40) | 9, (7u128 << 40) | 3, (8u128 << 40) | 1];
        fps.sort_unstable();
        fps.dedup_by_key(|f| *f >> 40);
        assert_eq!(fps, vec![(7u128 << 40) | 3, (8u128 << 40) | 1]);
    }

    #[test]
    fn first_difference_names_the_kind() {
        let p = "1Q2H4-74KMZ";
        assert_eq!(
            first_difference(" 1Q2H4-74KMZ", p),
            (1, SpellingDifference::Whitespace)
        );
        assert_eq!(
            first_difference("1Q2H4-74KMZ\n", p),
            (12, SpellingDifference::Whitespace)
        );
        assert_eq!(
            first_difference("1q2H4-74KMZ", p),
            (2, SpellingDifference::LowerCase)
        );
        assert_eq!(
            first_difference("IQ2H4-74KMZ", p),
            (1, SpellingDifference::LookAlike)
        );
        assert_eq!(
            first_difference("1Q2H474KMZ", p),
            (6, SpellingDifference::Separator)
        );
        assert_eq!(
            first_difference("1Q2H4 74KMZ", p),
            (6, SpellingDifference::Separator)
        );
        assert_eq!(
            first_difference("1Q2H-474KMZ", p),
            (5, SpellingDifference::Separator)
        );
    }
}
