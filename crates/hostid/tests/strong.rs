//! The strong form through the public API: its text form, how it relates to the short form
//! (`to_short`), canonical parsing, and matching across forms.

use hostid::{
    match_codes, CodeError, CodeForm, ComponentKind, ComponentMatch, Components, HostId,
    SpellingDifference, ALPHABET, MAX_INPUT_LEN, STRONG_SYMBOLS, SYMBOLS,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// The crate docs' example server.
fn docs_server() -> Components {
    Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    }
}

const DOCS_SHORT: &str = "1Q2H4-74KMZ-KWXDV-8K000-00KZQ";
const DOCS_STRONG: &str = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";

fn server() -> Components {
    Components {
        machine_id: Some("4c4c4544004b4b10804bb4c04f4d3732".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
        macs: vec![
            [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c],
            [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5d],
            [0x3c, 0xec, 0xef, 0x10, 0x20, 0x30],
        ],
        cpu: Some("GenuineIntel Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz".into()),
    }
}

fn short(c: &Components) -> HostId {
    HostId::from_components(c).unwrap_or_else(|e| panic!("short code refused: {e}"))
}

fn strong(c: &Components) -> HostId {
    HostId::strong_from_components(c).unwrap_or_else(|e| panic!("strong code refused: {e}"))
}

/// A code's symbol values (0..32), without dashes, check symbol included.
fn values(id: &HostId) -> Vec<u8> {
    id.to_string()
        .bytes()
        .filter(|&b| b != b'-')
        .map(|s| {
            ALPHABET
                .iter()
                .position(|&a| a == s)
                .map_or(99, |v| v as u8)
        })
        .collect()
}

/// The printed form of symbol values with a check symbol computed as the format defines it
/// (GF(32) on x^5 + x^2 + 1, weights powers of x), grouped in fives.
fn with_check(payload: &[u8]) -> String {
    let mul2 = |x: u8| {
        let y = x << 1;
        if y & 0x20 != 0 {
            y ^ 0b10_0101
        } else {
            y
        }
    };
    let sum = payload.iter().fold(0u8, |r, &s| mul2(r) ^ s);
    let mut all = payload.to_vec();
    all.push(mul2(sum));
    all.chunks(5)
        .map(|c| {
            c.iter()
                .map(|&d| ALPHABET[usize::from(d)] as char)
                .collect()
        })
        .collect::<Vec<String>>()
        .join("-")
}

// ---------------------------------------------------------------- the text form

#[test]
fn the_crate_docs_example_in_both_forms() {
    let c = docs_server();
    let s = short(&c);
    let l = strong(&c);
    // Both wire formats are fixed.
    assert_eq!(s.to_string(), DOCS_SHORT);
    assert_eq!(l.to_string(), DOCS_STRONG);
    assert_eq!(l.to_string().len(), 71);
    assert!(l.to_string().len() <= 100);
    assert_eq!((s.form(), s.version()), (CodeForm::Short, 1));
    assert_eq!((l.form(), l.version()), (CodeForm::Strong, 2));
    assert_eq!(l.to_short(), s);
    assert_eq!(s.to_short(), s);
    assert_ne!(s, l);
    assert_eq!(l.kinds(), s.kinds());
    assert_eq!(DOCS_STRONG.parse::<HostId>(), Ok(l));
    assert_eq!(HostId::parse_canonical(DOCS_STRONG), Ok(l));
}

#[test]
fn the_short_code_is_the_strong_code_cut_field_by_field() {
    // Symbol by symbol: version, flags, the first 5 of each 13-symbol field, the first 2 of
    // the 5 CPU symbols, a new check symbol.
    for c in [server(), docs_server()] {
        let l = values(&strong(&c));
        let s = values(&short(&c));
        assert_eq!(l.len(), STRONG_SYMBOLS);
        assert_eq!(s.len(), SYMBOLS);
        assert_eq!((l[0], s[0]), (2, 1));
        assert_eq!(l[1], s[1]);
        for f in 0..4 {
            assert_eq!(&l[2 + 13 * f..2 + 13 * f + 5], &s[2 + 5 * f..2 + 5 * f + 5]);
        }
        assert_eq!(&l[54..56], &s[22..24]);
    }
}

#[test]
fn fingerprints_are_the_leading_bits_of_the_domain_separated_digest() {
    // The machine-identity field of the strong code is the first 65 bits of
    // SHA-256("i3lic/hostid/v1/machine-id\0" || normalised value), most significant first.
    let c = docs_server();
    let d = Sha256::new()
        .chain_update(b"i3lic/hostid/v1/machine-id\0")
        .chain_update(b"0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        .finalize();
    let mut lead = [0u8; 16];
    lead.copy_from_slice(&d[..16]);
    let bits = u128::from_be_bytes(lead) >> (128 - 65);
    let v = values(&strong(&c));
    let field = v[2..15]
        .iter()
        .fold(0u128, |acc, &s| (acc << 5) | u128::from(s));
    assert_eq!(field, bits);
    let field_short = values(&short(&c))[2..7]
        .iter()
        .fold(0u128, |acc, &s| (acc << 5) | u128::from(s));
    assert_eq!(field_short, bits >> 40);
}

#[test]
fn a_strong_code_typed_loosely_still_parses() {
    let id = strong(&server());
    let text = id.to_string();
    assert_eq!(text.to_lowercase().parse::<HostId>(), Ok(id));
    assert_eq!(text.replace('-', "").parse::<HostId>(), Ok(id));
    assert_eq!(text.replace('-', " - ").parse::<HostId>(), Ok(id));
    let looks = text.replace('0', "o").replace('1', "L");
    assert_eq!(looks.parse::<HostId>(), Ok(id));
    // A space after every symbol still fits the input limit.
    let spaced: String = text
        .chars()
        .filter(|&c| c != '-')
        .flat_map(|c| [c, ' '])
        .collect();
    assert!(spaced.trim().len() <= MAX_INPUT_LEN);
    assert_eq!(spaced.parse::<HostId>(), Ok(id));
}

#[test]
fn forms_are_told_apart_by_length_and_version_symbol() {
    let l = strong(&server());
    let v = values(&l);
    // One symbol missing or extra: the version symbol says which form was meant.
    let text: String = l.to_string().chars().filter(|&c| c != '-').collect();
    assert_eq!(
        text[..59].parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 59,
            expected: 60
        })
    );
    assert_eq!(
        format!("{text}0").parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 61,
            expected: 60
        })
    );
    let msg = text[..59].parse::<HostId>().map(|_| ()).unwrap_err();
    assert!(
        msg.to_string()
            .contains("it should have 60 (a strong host ID)"),
        "{msg}"
    );
    assert!(msg.to_string().contains("a character is missing"), "{msg}");
    // No version symbol to go by: the nearer length.
    assert_eq!(
        "Z".repeat(40).parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 40,
            expected: 25
        })
    );
    assert_eq!(
        "Z".repeat(45).parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 45,
            expected: 60
        })
    );
    // 60 symbols with version 1, or 25 with version 2, and a valid check: not a code.
    let mut v1 = v[..59].to_vec();
    v1[0] = 1;
    assert_eq!(
        with_check(&v1).parse::<HostId>(),
        Err(CodeError::UnsupportedVersion { found: '1' })
    );
    let mut v3 = v[..59].to_vec();
    v3[0] = 3;
    assert_eq!(
        with_check(&v3).parse::<HostId>(),
        Err(CodeError::UnsupportedVersion { found: '3' })
    );
    assert_eq!(with_check(&v[..59]), l.to_string());
}

#[test]
fn inconsistent_strong_codes_are_refused() {
    let l = strong(&server());
    let v = values(&l);
    let payload = &v[..59];
    // DMI flag cleared, field left.
    let mut p = payload.to_vec();
    p[1] &= !0b10;
    assert_eq!(
        with_check(&p).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // The two MACs swapped: out of order.
    let mut p = payload.to_vec();
    let (a, b) = (p[28..41].to_vec(), p[41..54].to_vec());
    p[28..41].copy_from_slice(&b);
    p[41..54].copy_from_slice(&a);
    assert_eq!(
        with_check(&p).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // Second MAC with the same 25-bit prefix as the first (larger below it): no code has two
    // adapters with one short fingerprint, so its short code would be malformed.
    let mut p = payload.to_vec();
    let first = p[28..41].to_vec();
    p[41..54].copy_from_slice(&first);
    p[53] = (p[53] + 1) % 32;
    if p[53] == 0 {
        p[52] = (p[52] + 1) % 32;
    }
    assert_eq!(
        with_check(&p).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // CPU flag cleared, field left.
    let mut p = payload.to_vec();
    p[1] &= !0b1_0000;
    assert_eq!(
        with_check(&p).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // One strong component only.
    let mut p = vec![0u8; 59];
    p[0] = 2;
    p[1] = 0b1;
    p[14] = 7;
    assert_eq!(
        with_check(&p).parse::<HostId>(),
        Err(CodeError::TooFewComponents {
            found: 1,
            needed: 2
        })
    );
}

#[test]
fn too_few_components_make_no_strong_code_either() {
    let one = Components {
        machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
        cpu: Some("GenuineIntel Xeon".into()),
        ..Default::default()
    };
    assert_eq!(
        HostId::strong_from_components(&one),
        Err(CodeError::TooFewComponents {
            found: 1,
            needed: 2
        })
    );
    assert_eq!(
        HostId::strong_from_components(&one).map(|_| ()),
        HostId::from_components(&one).map(|_| ())
    );
}

// ---------------------------------------------------------------- canonical parsing

#[test]
fn parse_canonical_accepts_the_printed_form_only() {
    for id in [short(&server()), strong(&server()), strong(&docs_server())] {
        let printed = id.to_string();
        assert_eq!(HostId::parse_canonical(&printed), Ok(id));
        let not = |input: &str, position: usize, difference: SpellingDifference| {
            assert_eq!(
                HostId::parse_canonical(input),
                Err(CodeError::NotCanonical {
                    expected: printed.clone(),
                    position,
                    difference
                }),
                "{input:?}"
            );
            // ... while the lenient parser takes it.
            assert_eq!(input.parse::<HostId>(), Ok(id));
        };
        not(&format!(" {printed}"), 1, SpellingDifference::Whitespace);
        not(
            &format!("{printed}\n"),
            printed.len() + 1,
            SpellingDifference::Whitespace,
        );
        not(&printed.to_lowercase(), 2, SpellingDifference::LowerCase);
        not(&printed.replace('-', ""), 6, SpellingDifference::Separator);
        not(
            &printed.replacen('-', " ", 1),
            6,
            SpellingDifference::Separator,
        );
        not(
            &printed.replacen('-', "--", 1),
            7,
            SpellingDifference::Separator,
        );
        let moved = format!("{}-{}{}", &printed[..4], &printed[4..5], &printed[6..]);
        not(&moved, 5, SpellingDifference::Separator);
        // The first zero or one written as a look-alike.
        let at = printed
            .find(['0', '1'])
            .unwrap_or_else(|| panic!("{printed} has no 0 or 1"));
        let mut looks: Vec<char> = printed.chars().collect();
        looks[at] = if looks[at] == '0' { 'O' } else { 'I' };
        let looks: String = looks.into_iter().collect();
        not(&looks, at + 1, SpellingDifference::LookAlike);
    }
    // A malformed code keeps the lenient parser's error.
    assert_eq!(HostId::parse_canonical(""), Err(CodeError::Empty));
    assert_eq!(
        HostId::parse_canonical(&DOCS_STRONG.replace('Q', "R")),
        Err(CodeError::CheckFailed)
    );
    assert!(matches!(
        HostId::parse_canonical("2ABC_"),
        Err(CodeError::InvalidCharacter { character: '_', .. })
    ));
}

#[test]
fn a_not_canonical_error_says_what_to_write_and_never_echoes_the_input() {
    let typed = format!("{}\u{1b}", DOCS_STRONG.to_lowercase());
    // The escape is outside the alphabet: a malformed code, named escaped.
    let e = HostId::parse_canonical(&typed).unwrap_err();
    assert!(!e.to_string().chars().any(char::is_control));
    let e = HostId::parse_canonical(&DOCS_STRONG.to_lowercase()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(DOCS_STRONG), "{msg}");
    assert!(msg.contains("character 2 is lower case"), "{msg}");
    assert!(!msg.contains(&DOCS_STRONG.to_lowercase()), "{msg}");
}

#[test]
fn serde_uses_the_printed_string_and_canonical_is_strict() {
    let id = strong(&server());
    let json = serde_json::to_string(&id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json, format!("\"{id}\""));
    let back: HostId = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, id);
    // The plain Deserialize is lenient, as FromStr.
    let lower: HostId =
        serde_json::from_str(&json.to_lowercase()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(lower, id);

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Host {
        #[serde(with = "hostid::canonical")]
        host_id: HostId,
    }
    let h = Host { host_id: id };
    let text = serde_json::to_string(&h).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text, format!("{{\"host_id\":\"{id}\"}}"));
    assert_eq!(serde_json::from_str::<Host>(&text).ok(), Some(h));
    let err = serde_json::from_str::<Host>(&text.to_lowercase())
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("not in its printed form"), "{err}");
}

#[test]
fn code_form_names() {
    for (form, name, version, symbols, printed) in [
        (CodeForm::Short, "short", 1, 25, 29),
        (CodeForm::Strong, "strong", 2, 60, 71),
    ] {
        assert_eq!(form.as_str(), name);
        assert_eq!(form.to_string(), name);
        assert_eq!(name.parse::<CodeForm>(), Ok(form));
        assert_eq!(form.version(), version);
        assert_eq!(form.symbols(), symbols);
        assert_eq!(form.printed_len(), printed);
        assert_eq!(
            serde_json::to_string(&form).ok(),
            Some(format!("\"{name}\""))
        );
        assert_eq!(
            serde_json::from_str::<CodeForm>(&format!("\"{name}\"")).ok(),
            Some(form)
        );
    }
    assert_eq!(CodeForm::Short.fingerprint_bits(), 25);
    assert_eq!(CodeForm::Strong.fingerprint_bits(), 65);
    assert_eq!(CodeForm::Short.cpu_bits(), 10);
    assert_eq!(CodeForm::Strong.cpu_bits(), 25);
    for bad in ["", "Short", "STRONG", "long", " strong"] {
        assert_eq!(
            bad.parse::<CodeForm>(),
            Err(CodeError::UnknownForm),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------- MAC selection

/// The 25-bit prefix of a MAC's fingerprint.
fn mac_prefix(mac: &[u8; 6]) -> u32 {
    let d = Sha256::new()
        .chain_update(b"i3lic/hostid/v1/mac\0")
        .chain_update(mac)
        .finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) >> 7
}

#[test]
fn adapters_whose_short_fingerprints_collide_are_chosen_alike_in_both_forms() {
    // A birthday search for two MACs (same vendor prefix) with equal 25-bit fingerprints:
    // about 2^12.5 tries.
    let mut seen = std::collections::HashMap::new();
    let (a, b) = (0u32..1 << 20)
        .find_map(|n| {
            let mac = [0x00, 0x1b, 0x21, (n >> 16) as u8, (n >> 8) as u8, n as u8];
            seen.insert(mac_prefix(&mac), mac)
                .map(|earlier| (earlier, mac))
        })
        .unwrap_or_else(|| panic!("no 25-bit collision in 2^20 MACs"));
    assert_eq!(mac_prefix(&a), mac_prefix(&b));
    assert_ne!(a, b);
    // A third adapter whose fingerprint is larger than both: the one the short code keeps
    // next to the collision.
    let third = (0u32..)
        .map(|n| [0x3c, 0xec, 0xef, (n >> 16) as u8, (n >> 8) as u8, n as u8])
        .find(|m| mac_prefix(m) > mac_prefix(&a))
        .unwrap_or_else(|| panic!("no third MAC"));
    let mut c = server();
    c.macs = vec![a, b, third];
    let s = short(&c);
    let l = strong(&c);
    assert_eq!(l.to_short(), s);
    // Only one of the colliding pair is in either code, plus the third adapter.
    let alone = |macs: Vec<[u8; 6]>| {
        let mut only = c.clone();
        only.macs = macs;
        only
    };
    // The strong code keeps the colliding adapter whose whole fingerprint is smaller.
    let with_a = strong(&alone(vec![a, third]));
    let with_b = strong(&alone(vec![b, third]));
    assert!(l == with_a || l == with_b);
    assert!(match_codes(&l, &strong(&alone(vec![third]))).is_match());
    // Both forms parse back, and the short code has two distinct adapters.
    assert_eq!(l.to_string().parse::<HostId>(), Ok(l));
    assert_eq!(s.to_string().parse::<HostId>(), Ok(s));
    assert_eq!(s, short(&alone(vec![a, third])));
    assert_eq!(s, short(&alone(vec![b, third])));
}

// ---------------------------------------------------------------- matching across forms

#[test]
fn a_strong_reading_checks_a_short_binding() {
    let s = server();
    let r = match_codes(&short(&s), &strong(&s));
    assert!(r.is_match());
    assert!(!r.form_mismatch());
    assert_eq!(r.compared_form(), CodeForm::Short);
    assert_eq!(
        (r.expected_form, r.found_form),
        (CodeForm::Short, CodeForm::Strong)
    );
    assert_eq!(r.strong_equal, 3);
    assert_eq!(r.differing, 0);
    // The same as comparing with the reading's short code.
    let cut = match_codes(&short(&s), &strong(&s).to_short());
    assert_eq!(cut.components, r.components);
}

#[test]
fn a_short_reading_never_proves_a_strong_binding() {
    let s = server();
    let r = match_codes(&strong(&s), &short(&s));
    assert!(!r.is_match());
    assert!(r.form_mismatch());
    assert!(!strong(&s).matches(&short(&s)));
    // The components are still compared (at the short form) and all agree.
    assert!(r.components_agree());
    assert_eq!(r.compared_form(), CodeForm::Short);
    assert_eq!(r.strong_equal, 3);
    assert!(r
        .components
        .iter()
        .all(|(_, m)| *m == ComponentMatch::Equal));
}

#[test]
fn both_strong_follow_the_same_rule() {
    let s = server();
    let ex = strong(&s);
    let cmp = |c: &Components| match_codes(&ex, &strong(c));
    // Same machine.
    let r = cmp(&s);
    assert!(r.is_match());
    assert_eq!(r.compared_form(), CodeForm::Strong);
    // A network card replaced.
    let mut nic = s.clone();
    nic.macs[0] = [0x00, 0x1b, 0x21, 0x77, 0x77, 0x77];
    assert!(cmp(&nic).is_match());
    // The only adapter replaced: the one difference.
    let single = Components {
        macs: vec![[0x00, 0x1b, 0x21, 1, 1, 1]],
        ..s.clone()
    };
    let single_new = Components {
        macs: vec![[0x00, 0x1b, 0x21, 2, 2, 2]],
        ..s.clone()
    };
    let r = match_codes(&strong(&single), &strong(&single_new));
    assert!(r.is_match());
    assert!(r
        .components
        .contains(&(ComponentKind::Mac, ComponentMatch::Different)));
    // A clone: same machine identity and CPU, other DMI UUID and MACs.
    let clone = Components {
        dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
        macs: vec![[0x00, 0x50, 0x56, 0x01, 0x02, 0x03]],
        ..s.clone()
    };
    let r = cmp(&clone);
    assert!(!r.is_match());
    assert_eq!((r.strong_equal, r.differing), (1, 2));
    // The checker cannot read the DMI UUID.
    let unprivileged = Components {
        dmi_uuid: None,
        ..s.clone()
    };
    let r = cmp(&unprivileged);
    assert!(r.is_match());
    assert!(r
        .components
        .contains(&(ComponentKind::DmiUuid, ComponentMatch::NotCompared)));
    // Only the CPU equal.
    let other = Components {
        machine_id: Some("ffeeddccbbaa99887766554433221100".into()),
        dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
        macs: vec![[0x00, 0x50, 0x56, 0x01, 0x02, 0x03]],
        cpu: s.cpu.clone(),
    };
    let r = cmp(&other);
    assert!(!r.is_match());
    assert_eq!(r.strong_equal, 0);
    // Every scenario agrees with the short form's verdict.
    for c in [&s, &nic, &clone, &unprivileged, &other] {
        assert_eq!(
            cmp(c).is_match(),
            match_codes(&short(&s), &short(c)).is_match()
        );
    }
}

// ---------------------------------------------------------------- properties

fn arb_components() -> impl Strategy<Value = Components> {
    (
        proptest::option::of("[0-9a-f]{32}"),
        proptest::option::of("[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"),
        proptest::collection::vec(any::<[u8; 6]>(), 0..12),
        proptest::option::of("[ -~]{1,60}"),
    )
        .prop_map(|(machine_id, dmi_uuid, macs, cpu)| Components {
            machine_id,
            dmi_uuid,
            macs,
            cpu,
        })
}

/// Two related machines: the second shares some components of the first.
fn arb_pair() -> impl Strategy<Value = (Components, Components)> {
    (arb_components(), arb_components(), any::<[bool; 4]>()).prop_map(|(a, mut b, keep)| {
        if keep[0] {
            b.machine_id = a.machine_id.clone();
        }
        if keep[1] {
            b.dmi_uuid = a.dmi_uuid.clone();
        }
        if keep[2] {
            b.macs.extend(a.macs.iter().take(2));
        }
        if keep[3] {
            b.cpu = a.cpu.clone();
        }
        (a, b)
    })
}

proptest! {
    #[test]
    fn to_short_is_exactly_from_components(c in arb_components()) {
        match (HostId::strong_from_components(&c), HostId::from_components(&c)) {
            (Ok(l), Ok(s)) => {
                prop_assert_eq!(l.to_short(), s);
                prop_assert_eq!(l.form(), CodeForm::Strong);
                prop_assert_eq!(l.kinds(), c.kinds());
                let text = l.to_string();
                prop_assert_eq!(text.len(), 71);
                prop_assert_eq!(text.parse::<HostId>(), Ok(l));
                prop_assert_eq!(HostId::parse_canonical(&text), Ok(l));
                prop_assert_eq!(text.to_lowercase().parse::<HostId>(), Ok(l));
                prop_assert!(match_codes(&l, &l).is_match());
                prop_assert!(match_codes(&s, &l).is_match());
                prop_assert!(!match_codes(&l, &s).is_match());
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "forms disagree: {:?} vs {:?}", a, b),
        }
    }

    #[test]
    fn strong_matching_is_symmetric_and_implies_the_short_verdict((a, b) in arb_pair()) {
        if let (Ok(x), Ok(y)) = (HostId::strong_from_components(&a), HostId::strong_from_components(&b)) {
            let xy = match_codes(&x, &y);
            let yx = match_codes(&y, &x);
            prop_assert_eq!(xy.is_match(), yx.is_match());
            prop_assert_eq!((xy.strong_equal, xy.differing), (yx.strong_equal, yx.differing));
            let short_xy = match_codes(&x.to_short(), &y.to_short());
            // Cutting fingerprints can only make more of them equal.
            prop_assert!(short_xy.strong_equal >= xy.strong_equal);
            prop_assert!(short_xy.differing <= xy.differing);
            if xy.is_match() {
                prop_assert!(short_xy.is_match());
            }
            // Short expected, strong found: the short comparison.
            let mixed = match_codes(&x.to_short(), &y);
            prop_assert_eq!(&mixed.components, &short_xy.components);
            prop_assert_eq!(mixed.is_match(), short_xy.is_match());
            // Strong expected, short found: never.
            let never = match_codes(&x, &y.to_short());
            prop_assert!(!never.is_match());
            prop_assert!(never.form_mismatch());
            prop_assert_eq!(&never.components, &short_xy.components);
        }
    }

    #[test]
    fn strong_like_strings_never_panic(s in "[0-9A-Za-z -]{55,80}") {
        if let Ok(id) = s.parse::<HostId>() {
            prop_assert_eq!(HostId::parse_canonical(&id.to_string()), Ok(id));
        }
        let _ = HostId::parse_canonical(&s);
    }
}
