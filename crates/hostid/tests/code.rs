//! The host-ID code through its public API: text form, check symbol, matching rule.

use hostid::{match_codes, CodeError, ComponentKind, ComponentMatch, Components, HostId, ALPHABET};
use proptest::prelude::*;

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

fn code(c: &Components) -> HostId {
    match HostId::from_components(c) {
        Ok(id) => id,
        Err(e) => panic!("sample components refused: {e}"),
    }
}

fn matches(a: &Components, b: &Components) -> bool {
    match_codes(&code(a), &code(b)).is_match()
}

/// Codes of differing shapes: all components, no DMI, one MAC, no CPU, and the smallest code;
/// each in both forms.
fn samples() -> Vec<HostId> {
    let short = sample_components().iter().map(code).collect::<Vec<_>>();
    let strong = sample_components()
        .iter()
        .map(|c| match HostId::strong_from_components(c) {
            Ok(id) => id,
            Err(e) => panic!("sample components refused: {e}"),
        })
        .collect::<Vec<_>>();
    short.into_iter().chain(strong).collect()
}

fn sample_components() -> Vec<Components> {
    let s = server();
    vec![
        s.clone(),
        Components {
            dmi_uuid: None,
            ..s.clone()
        },
        Components {
            macs: vec![[0x02, 0xfc, 0, 0, 0, 1]],
            dmi_uuid: None,
            ..s.clone()
        },
        Components {
            cpu: None,
            ..s.clone()
        },
        Components {
            machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
            dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
            macs: vec![],
            cpu: None,
        },
        Components {
            machine_id: None,
            dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
            macs: vec![[0x00, 0x50, 0x56, 0xaa, 0xbb, 0xcc]],
            cpu: Some("AuthenticAMD AMD EPYC".into()),
        },
    ]
}

/// The symbols of a code's text form, without dashes.
fn symbols(id: &HostId) -> Vec<u8> {
    id.to_string().bytes().filter(|&b| b != b'-').collect()
}

/// Print symbols in groups of five, as a user would type them.
fn grouped(syms: &[u8]) -> String {
    syms.chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

// ---------------------------------------------------------------- check symbol

#[test]
fn every_single_substitution_is_refused_by_the_parser() {
    let mut tried = 0;
    for id in samples() {
        let syms = symbols(&id);
        assert_eq!(grouped(&syms).parse::<HostId>(), Ok(id));
        for pos in 0..syms.len() {
            for &other in ALPHABET.iter() {
                if other == syms[pos] {
                    continue;
                }
                let mut typed = syms.clone();
                typed[pos] = other;
                let text = grouped(&typed);
                assert_eq!(
                    text.parse::<HostId>(),
                    Err(CodeError::CheckFailed),
                    "substitution at {pos} in {text} not caught"
                );
                // Lower case does not help it through either.
                assert!(text.to_lowercase().parse::<HostId>().is_err());
                tried += 1;
            }
        }
    }
    let symbols_tried: usize = samples().iter().map(|id| id.form().symbols()).sum();
    assert_eq!(tried, symbols_tried * 31);
    assert_eq!(symbols_tried, 6 * 25 + 6 * 60);
}

#[test]
fn every_adjacent_swap_is_refused_by_the_parser() {
    let mut tried = 0;
    for id in samples() {
        let syms = symbols(&id);
        for pos in 0..syms.len() - 1 {
            if syms[pos] == syms[pos + 1] {
                continue; // swapping equal symbols types the same code
            }
            let mut typed = syms.clone();
            typed.swap(pos, pos + 1);
            let text = grouped(&typed);
            assert_eq!(
                text.parse::<HostId>(),
                Err(CodeError::CheckFailed),
                "swap at {pos} in {text} not caught"
            );
            tried += 1;
        }
    }
    assert!(tried > 300, "only {tried} swaps tried");
}

#[test]
fn a_misplaced_dash_is_not_an_error() {
    let id = code(&server());
    let text = id.to_string();
    // `ABCDE-FGHIJ` typed as `ABCD-EFGHIJ`: the same symbols.
    let moved = format!("{}-{}{}", &text[..4], &text[4..5], &text[6..]);
    assert_eq!(moved.parse::<HostId>(), Ok(id));
}

// ---------------------------------------------------------------- parsing

#[test]
fn parse_edge_cases_name_what_is_wrong() {
    let good = code(&server()).to_string();
    assert_eq!("".parse::<HostId>(), Err(CodeError::Empty));
    assert_eq!("  \t ".parse::<HostId>(), Err(CodeError::Empty));
    assert!(matches!(
        "1".repeat(129).parse::<HostId>(),
        Err(CodeError::TooLong { len: 129, max: 128 })
    ));
    // Up to the limit, the input is read: 128 symbols are the wrong number, not too long.
    assert!(matches!(
        "1".repeat(128).parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 128,
            expected: 25
        })
    ));
    assert!(matches!(
        good[..good.len() - 1].parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 24,
            expected: 25
        })
    ));
    assert!(matches!(
        format!("{good}0").parse::<HostId>(),
        Err(CodeError::WrongLength {
            found: 26,
            expected: 25
        })
    ));
    let with_u = format!("{}U{}", &good[..3], &good[4..]);
    assert!(matches!(
        with_u.parse::<HostId>(),
        Err(CodeError::InvalidCharacter {
            character: 'U',
            position: 4
        })
    ));
    assert!(matches!(
        "1ABCD_EFGH".parse::<HostId>(),
        Err(CodeError::InvalidCharacter {
            character: '_',
            position: 6
        })
    ));
    // Multi-byte input is judged by characters, without panicking on byte offsets.
    assert!(matches!(
        "1Ä".parse::<HostId>(),
        Err(CodeError::InvalidCharacter {
            character: 'Ä',
            position: 2
        })
    ));
}

#[test]
fn case_spacing_and_look_alikes_are_forgiven() {
    let id = code(&server());
    let text = id.to_string();
    assert_eq!(text.to_lowercase().parse::<HostId>(), Ok(id));
    assert_eq!(text.replace('-', "").parse::<HostId>(), Ok(id));
    assert_eq!(text.replace('-', " ").parse::<HostId>(), Ok(id));
    assert_eq!(format!("  {text}\n").parse::<HostId>(), Ok(id));
    // O for 0, I and L for 1, in either case.
    let looks = text
        .replace('0', "O")
        .replacen('1', "I", 1)
        .replace('1', "l");
    assert_eq!(looks.parse::<HostId>(), Ok(id), "{looks}");
    // Display always writes the canonical form.
    assert_eq!(looks.parse::<HostId>().map(|i| i.to_string()), Ok(text));
}

/// Build a text code from raw symbol values, computing a valid check symbol the way the
/// format defines it (GF(32), x^5 + x^2 + 1, weights powers of x).
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
    grouped(
        &all.iter()
            .map(|&d| ALPHABET[usize::from(d)])
            .collect::<Vec<_>>(),
    )
}

/// A code's symbol values (0..32), check symbol included.
fn values(id: &HostId) -> Vec<u8> {
    symbols(id)
        .iter()
        .map(|s| ALPHABET.iter().position(|a| a == s).map_or(0, |v| v as u8))
        .collect()
}

#[test]
fn check_symbol_construction_agrees_with_display() {
    for id in samples() {
        let v = values(&id);
        assert_eq!(with_check(&v[..v.len() - 1]), id.to_string());
    }
}

#[test]
fn unsupported_version_and_inconsistent_flags() {
    let id = code(&server());
    let mut payload = [0u8; 24];
    payload.copy_from_slice(&values(&id)[..24]);
    // Version 2, otherwise the same code, with a valid check symbol.
    let mut v2 = payload;
    v2[0] = 2;
    assert_eq!(
        with_check(&v2).parse::<HostId>(),
        Err(CodeError::UnsupportedVersion { found: '2' })
    );
    // Flags say "no DMI UUID" but the DMI field is non-zero.
    let mut no_dmi_flag = payload;
    no_dmi_flag[1] &= !0b10;
    assert_eq!(
        with_check(&no_dmi_flag).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // A second MAC without a first.
    let mut second_only = payload;
    second_only[1] &= !0b100;
    assert_eq!(
        with_check(&second_only).parse::<HostId>(),
        Err(CodeError::Inconsistent)
    );
    // Flags for one strong component only, fields zeroed: too weak to be a code.
    let mut weak = [0u8; 24];
    weak[0] = 1;
    weak[1] = 0b1_0001; // machine identity + CPU
    weak[6] = 7;
    assert_eq!(
        with_check(&weak).parse::<HostId>(),
        Err(CodeError::TooFewComponents {
            found: 1,
            needed: 2
        })
    );
}

#[test]
fn too_few_components_make_no_code() {
    let only_cpu = Components {
        cpu: Some("GenuineIntel Xeon".into()),
        ..Default::default()
    };
    assert_eq!(
        HostId::from_components(&only_cpu),
        Err(CodeError::TooFewComponents {
            found: 0,
            needed: 2
        })
    );
    let one_strong = Components {
        machine_id: Some("3d1219c7c4c5404aaa1f6d2a48adfda4".into()),
        cpu: Some("GenuineIntel Xeon".into()),
        ..Default::default()
    };
    assert_eq!(
        HostId::from_components(&one_strong),
        Err(CodeError::TooFewComponents {
            found: 1,
            needed: 2
        })
    );
    // Blank values are absent values.
    let blank = Components {
        machine_id: Some("   ".into()),
        dmi_uuid: Some(String::new()),
        macs: vec![[0, 0x1b, 0x21, 1, 2, 3]],
        cpu: None,
    };
    assert!(matches!(
        HostId::from_components(&blank),
        Err(CodeError::TooFewComponents { found: 1, .. })
    ));
}

#[test]
fn debug_output_hides_raw_values() {
    let s = server();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("4c4c4544"), "{dbg}");
    assert!(!dbg.contains("Xeon"), "{dbg}");
    assert!(!dbg.contains("27"), "{dbg}"); // 0x1b = 27
}

#[test]
fn the_code_reveals_no_raw_value() {
    let id = code(&server());
    let text = id.to_string().to_lowercase();
    for raw in ["4c4c4544", "001b213a", "3cecef", "xeon"] {
        assert!(!text.replace('-', "").contains(raw));
    }
    // Different kinds with the same raw value hash differently (domain separation).
    let same = "3d1219c7c4c5404aaa1f6d2a48adfda4".to_owned();
    let a = code(&Components {
        machine_id: Some(same.clone()),
        dmi_uuid: Some(same),
        ..Default::default()
    });
    let t = symbols(&a);
    assert_ne!(&t[2..7], &t[7..12]);
}

// ---------------------------------------------------------------- matching rule

#[test]
fn one_network_card_replaced_matches() {
    let s = server();
    let mut replaced = s.clone();
    replaced.macs[0] = [0x00, 0x1b, 0x21, 0x77, 0x77, 0x77];
    assert!(matches(&s, &replaced));
    // Every one of the three adapters, replaced in turn.
    for i in 0..3 {
        let mut r = s.clone();
        r.macs[i] = [0x00, 0x1b, 0x21, 0x66, 0x66, i as u8];
        assert!(matches(&s, &r), "adapter {i} replaced");
    }
    // The only adapter replaced: the MAC set is the one difference.
    let single = Components {
        macs: vec![[0x00, 0x1b, 0x21, 1, 1, 1]],
        ..s.clone()
    };
    let single_new = Components {
        macs: vec![[0x00, 0x1b, 0x21, 2, 2, 2]],
        ..s.clone()
    };
    let r = match_codes(&code(&single), &code(&single_new));
    assert!(r.is_match());
    assert_eq!(r.differing, 1);
    assert!(r
        .components
        .contains(&(ComponentKind::Mac, ComponentMatch::Different)));
}

#[test]
fn one_adapter_more_or_less_matches() {
    let s = server();
    for extra in [
        [0x00, 0x00, 0x00, 0, 0, 1],
        [0xf0, 0xff, 0xff, 0xff, 0xff, 0xfe],
    ] {
        let mut more = s.clone();
        more.macs.push(extra);
        assert!(matches(&s, &more));
        assert!(matches(&more, &s));
    }
    for i in 0..3 {
        let mut less = s.clone();
        less.macs.remove(i);
        assert!(matches(&s, &less), "adapter {i} removed");
        assert!(matches(&less, &s), "adapter {i} added");
    }
}

#[test]
fn a_clone_does_not_match() {
    let s = server();
    let clone = Components {
        dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
        macs: vec![
            [0x00, 0x50, 0x56, 0x01, 0x02, 0x03],
            [0x00, 0x50, 0x56, 0x01, 0x02, 0x04],
        ],
        ..s.clone()
    };
    let r = match_codes(&code(&s), &code(&clone));
    assert!(!r.is_match());
    assert_eq!(r.strong_equal, 1);
    assert_eq!(r.differing, 2);
    // Also when the checking clone cannot read its DMI UUID: one strong equal, MACs differ.
    let clone_no_dmi = Components {
        dmi_uuid: None,
        ..clone
    };
    assert!(!matches(&s, &clone_no_dmi));
}

#[test]
fn a_checker_without_dmi_access_matches_when_the_rest_is_equal() {
    let s = server();
    let unprivileged = Components {
        dmi_uuid: None,
        ..s.clone()
    };
    let r = match_codes(&code(&s), &code(&unprivileged));
    assert!(r.is_match());
    assert!(r
        .components
        .contains(&(ComponentKind::DmiUuid, ComponentMatch::NotCompared)));
    assert!(matches(&unprivileged, &s));
    // ... but not when, on top of that, another strong component differs.
    let unprivileged_other_machine_id = Components {
        machine_id: Some("ffeeddccbbaa99887766554433221100".into()),
        ..unprivileged
    };
    assert!(!matches(&s, &unprivileged_other_machine_id));
}

#[test]
fn only_the_cpu_equal_never_matches() {
    let s = server();
    let other = Components {
        machine_id: Some("ffeeddccbbaa99887766554433221100".into()),
        dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
        macs: vec![[0x00, 0x50, 0x56, 0x01, 0x02, 0x03]],
        cpu: s.cpu.clone(),
    };
    let r = match_codes(&code(&s), &code(&other));
    assert!(!r.is_match());
    assert_eq!(r.strong_equal, 0);
    // A changed CPU is the one tolerated difference (a processor upgrade).
    let upgraded = Components {
        cpu: Some("GenuineIntel Intel(R) Xeon(R) Gold 6330".into()),
        ..s.clone()
    };
    assert!(matches(&s, &upgraded));
    // CPU and a NIC both changed on a machine with a single adapter: two differences.
    let both = Components {
        macs: vec![[0x00, 0x1b, 0x21, 9, 9, 9]],
        ..upgraded
    };
    let single = Components {
        macs: vec![[0x00, 0x1b, 0x21, 1, 1, 1]],
        ..s
    };
    assert!(!matches(&single, &both));
}

#[test]
fn interface_order_and_duplicates_are_irrelevant() {
    let s = server();
    let mut reversed = s.clone();
    reversed.macs.reverse();
    assert_eq!(code(&s), code(&reversed));
    let mut doubled = s.clone();
    doubled.macs.extend(s.macs.clone());
    assert_eq!(code(&s), code(&doubled));
}

#[test]
fn text_normalisation_of_components() {
    let s = server();
    let shouty = Components {
        machine_id: s.machine_id.as_ref().map(|m| m.to_uppercase()),
        cpu: Some("  GenuineIntel   Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz \n".into()),
        ..s.clone()
    };
    assert_eq!(code(&s), code(&shouty));
}

// ---------------------------------------------------------------- properties

fn arb_components() -> impl Strategy<Value = Components> {
    (
        proptest::option::of("[0-9a-f]{32}"),
        proptest::option::of("[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"),
        proptest::collection::vec(any::<[u8; 6]>(), 0..6),
        proptest::option::of("[ -~]{1,60}"),
    )
        .prop_map(|(machine_id, dmi_uuid, macs, cpu)| Components {
            machine_id,
            dmi_uuid,
            macs,
            cpu,
        })
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,80}") {
        let _ = s.parse::<HostId>();
    }

    #[test]
    fn near_codes_never_panic(s in "[0-9A-Za-z -]{20,40}") {
        if let Ok(id) = s.parse::<HostId>() {
            // Anything accepted prints back to something that parses to the same code.
            prop_assert_eq!(id.to_string().parse::<HostId>(), Ok(id));
        }
    }

    #[test]
    fn random_components_round_trip_through_text(c in arb_components()) {
        match HostId::from_components(&c) {
            Ok(id) => {
                let text = id.to_string();
                prop_assert_eq!(text.len(), 29);
                prop_assert_eq!(text.parse::<HostId>(), Ok(id));
                prop_assert_eq!(text.to_lowercase().parse::<HostId>(), Ok(id));
                prop_assert!(match_codes(&id, &id).is_match());
                prop_assert_eq!(id.kinds(), c.kinds());
                let json = serde_json::to_string(&id).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back: HostId = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, id);
            }
            Err(CodeError::TooFewComponents { found, needed }) => {
                prop_assert!(found < needed);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    #[test]
    fn matching_is_symmetric(a in arb_components(), b in arb_components()) {
        if let (Ok(x), Ok(y)) = (HostId::from_components(&a), HostId::from_components(&b)) {
            prop_assert_eq!(match_codes(&x, &y).is_match(), match_codes(&y, &x).is_match());
        }
    }
}

#[test]
fn a_control_character_is_named_escaped_never_echoed() {
    // A typed code is echoed in the error: a terminal escape or carriage return in it must not
    // reach the administrator's terminal or a log line as it is.
    let e = "1AB\u{1b}[2J\rCD".parse::<HostId>().unwrap_err();
    assert_eq!(
        e,
        CodeError::InvalidCharacter {
            character: '\u{1b}',
            position: 4
        }
    );
    let msg = e.to_string();
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
    assert!(msg.contains("\\u{1b}"), "{msg}");
}
