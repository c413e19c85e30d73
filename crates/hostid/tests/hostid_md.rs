//! docs/HOSTID.md against the code: every example code in it is what this crate writes or
//! reads, and its worked figures (digests, fields, the check-symbol table, the matching
//! verdicts) are recomputed here. The document is pasted into docs/FORMAT.md, so a stale
//! figure there would mislead an implementer in another language.

use std::fs;
use std::path::PathBuf;

use hostid::{match_codes, CodeError, CodeForm, Components, HostId, SpellingDifference, ALPHABET};
use sha2::{Digest, Sha256};

fn doc() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/HOSTID.md");
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The document with every run of white space made one space, so prose checks do not depend
/// on where lines break.
fn flat(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_in(doc: &str, needle: &str) {
    assert!(
        flat(doc).contains(&flat(needle)),
        "docs/HOSTID.md lacks {needle:?}"
    );
}

fn example() -> Components {
    Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        cpu: Some("GenuineIntel Xeon Gold 6230".into()),
    }
}

fn short(c: &Components) -> HostId {
    HostId::from_components(c).unwrap_or_else(|e| panic!("{e}"))
}

fn strong(c: &Components) -> HostId {
    HostId::strong_from_components(c).unwrap_or_else(|e| panic!("{e}"))
}

fn plain(id: &HostId) -> String {
    id.to_string().chars().filter(|&c| c != '-').collect()
}

fn value(symbol: char) -> u8 {
    ALPHABET
        .iter()
        .position(|&a| a as char == symbol)
        .map_or_else(|| panic!("{symbol} is not a symbol"), |v| v as u8)
}

fn mul2(x: u8) -> u8 {
    let y = x << 1;
    if y & 0x20 != 0 {
        y ^ 37
    } else {
        y
    }
}

/// Encode the first `bits` bits of a digest as symbols.
fn field(digest: &[u8], bits: usize) -> String {
    (0..bits / 5)
        .map(|j| {
            let v = (0..5).fold(0usize, |acc, k| {
                let bit = 5 * j + k;
                (acc << 1) | usize::from(digest[bit / 8] >> (7 - bit % 8) & 1)
            });
            ALPHABET[v] as char
        })
        .collect()
}

#[test]
fn the_example_codes_are_what_the_crate_writes() {
    let doc = doc();
    let s = short(&example());
    let l = strong(&example());
    assert_in(
        &doc,
        &format!("the short code `{s}` and the strong code `{l}`"),
    );
    for (form, version) in [(CodeForm::Short, '1'), (CodeForm::Strong, '2')] {
        assert_in(
            &doc,
            &format!(
                "| {form} | `{version}` | {} | {} characters | {} bits | {} bits |",
                form.symbols(),
                form.printed_len(),
                form.fingerprint_bits(),
                form.cpu_bits()
            ),
        );
    }
}

#[test]
fn the_example_digests_and_fields_agree() {
    let doc = doc();
    let c = example();
    let mac = c.macs[0];
    // Kind, hashed bytes, short bits, where the field starts in the short and strong codes.
    let rows: [(&str, &[u8], usize, usize, usize); 4] = [
        ("machine-id", b"0f1e2d3c4b5a69788796a5b4c3d2e1f0", 25, 2, 2),
        (
            "dmi-uuid",
            b"4c4c4544-004b-4b10-804b-b4c04f4d3732",
            25,
            7,
            15,
        ),
        ("mac", &mac, 25, 12, 28),
        ("cpu", b"genuineintel xeon gold 6230", 10, 22, 54),
    ];
    let l = plain(&strong(&c));
    let s = plain(&short(&c));
    for (kind, bytes, short_bits, s_at, l_at) in rows {
        let d = Sha256::new()
            .chain_update(format!("i3lic/hostid/v1/{kind}\0").as_bytes())
            .chain_update(bytes)
            .finalize();
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        let strong_bits = if short_bits == 10 { 25 } else { 65 };
        let (sf, lf) = (field(&d, short_bits), field(&d, strong_bits));
        assert_in(&doc, &format!("| `{hex}` | `{sf}` | `{lf}` |"));
        // The fields are where sections 4 and 5 put them.
        assert_eq!(&s[s_at..s_at + sf.len()], sf, "{kind}");
        assert_eq!(&l[l_at..l_at + lf.len()], lf, "{kind}");
    }
    assert_in(
        &doc,
        "its first 25 bits are `00010 10001 00100 00111 00100` = 2, 17, 4, 7, 4 = `2H474`",
    );
    assert_in(&doc, "1 + 2 + 4 + 16 = 23, `Q`");
    assert_eq!(&s[1..2], "Q");
    // The field listing of sections 8 and 10.
    let spaced = |p: &str, cuts: &[usize]| -> String {
        let mut out = Vec::new();
        let mut at = 0;
        for &n in cuts {
            out.push(&p[at..at + n]);
            at += n;
        }
        out.join(" ")
    };
    let strong_fields = spaced(&l, &[1, 1, 13, 13, 13, 13, 5, 1]);
    let short_fields = spaced(&s, &[1, 1, 5, 5, 5, 5, 2, 1]);
    assert_in(&doc, &format!("fields {strong_fields}"));
    assert_in(&doc, &format!("strong {strong_fields}"));
    assert_in(&doc, &format!("short {short_fields}"));
    let cut = spaced(&s, &[1, 1, 5, 5, 5, 5, 2]);
    assert_in(&doc, &format!("cut {cut}"));
    assert_eq!(strong(&c).to_short(), short(&c));
}

#[test]
fn the_check_symbol_table_is_the_computation() {
    let doc = doc();
    let s = plain(&short(&example()));
    let payload: Vec<char> = s.chars().take(24).collect();
    assert_in(
        &doc,
        &format!("(payload `{}`)", payload.iter().collect::<String>()),
    );
    let mut r = 0u8;
    for (i, &c) in payload.iter().enumerate() {
        let v = value(c);
        let next = mul2(r) ^ v;
        assert_in(
            &doc,
            &format!("| {i} | `{c}` | {v} | {r} | {} | {next} |", mul2(r)),
        );
        r = next;
    }
    let check = mul2(r);
    assert_eq!(
        ALPHABET[usize::from(check)] as char,
        s.chars().nth(24).unwrap_or('?')
    );
    assert_in(
        &doc,
        &format!(
            "After the payload r = {r}; the check symbol is x·{r} = {} XOR 37 = {check}, `{}`",
            r << 1,
            ALPHABET[usize::from(check)] as char
        ),
    );
    assert!(r >= 16, "the worked example shows the reduction");
    assert_eq!(mul2(r) ^ check, 0);
    assert_in(&doc, &format!("ends with x·{r} XOR {check} = 0"));
    // The strong code's loop.
    let l = plain(&strong(&example()));
    let r = l.chars().take(59).fold(0u8, |r, c| mul2(r) ^ value(c));
    let check = mul2(r);
    assert_eq!(
        ALPHABET[usize::from(check)] as char,
        l.chars().nth(59).unwrap_or('?')
    );
    assert_in(
        &doc,
        &format!(
            "ends with r = {r}, and the check symbol is x·{r} = {check}, `{}`",
            ALPHABET[usize::from(check)] as char
        ),
    );
}

#[test]
fn the_reading_examples_read_as_stated() {
    let doc = doc();
    let s = short(&example());
    let l = strong(&example());
    let not = |position, difference| CodeError::NotCanonical {
        expected: String::new(),
        position,
        difference,
    };
    type Read = Result<HostId, CodeError>;
    let cases: [(&str, Read, Read); 8] = [
        ("1Q2H4-74KMZ-KWXDV-8K000-00KZQ", Ok(s), Ok(s)),
        (
            "1q2h4 74kmz kwxdv 8kooo ookzq",
            Ok(s),
            Err(not(2, SpellingDifference::LowerCase)),
        ),
        (
            "1Q2H474KMZKWXDV8K00000KZQ",
            Ok(s),
            Err(not(6, SpellingDifference::Separator)),
        ),
        (
            "1Q2H4-74KMZ-KWXDV-8K000-00KZR",
            Err(CodeError::CheckFailed),
            Err(CodeError::CheckFailed),
        ),
        (
            "1Q2H4-74KMZ-KWXDV-8K000-0K0ZQ",
            Err(CodeError::CheckFailed),
            Err(CodeError::CheckFailed),
        ),
        (
            "1Q2H4-74KMZ-KWXDV-8K000-00KZ",
            Err(CodeError::WrongLength {
                found: 24,
                expected: 25,
            }),
            Err(CodeError::WrongLength {
                found: 24,
                expected: 25,
            }),
        ),
        (
            "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4",
            Err(CodeError::WrongLength {
                found: 59,
                expected: 60,
            }),
            Err(CodeError::WrongLength {
                found: 59,
                expected: 60,
            }),
        ),
        (
            "2q2h4-74ba6-jqbb1-kmzkw-hy4w2-we9xd-v8kfm-bkswp-a0000-00000-0000k-zwj4t",
            Ok(l),
            Err(not(2, SpellingDifference::LowerCase)),
        ),
    ];
    for (input, lenient, canonical) in cases {
        assert_in(&doc, &format!("| `{input}` |"));
        assert_eq!(input.parse::<HostId>(), lenient, "{input}");
        let got = HostId::parse_canonical(input).map_err(|e| match e {
            CodeError::NotCanonical {
                position,
                difference,
                ..
            } => not(position, difference),
            e => e,
        });
        assert_eq!(got, canonical, "{input}");
    }
    // The row's wording follows the error.
    assert_in(&doc, "refused: character 2 is lower case");
    assert_in(&doc, "wrong length: 24 symbols, 25 expected");
    assert_in(&doc, "wrong length: 59 symbols, 60 expected");
}

#[test]
fn the_matching_examples_match_as_stated() {
    let doc = doc();
    let e = example();
    let clone_dmi = "9b1e3f00-1111-4a2b-9c3d-0123456789ab";
    let clone_mac = [0x00, 0x50, 0x56, 0x01, 0x02, 0x03];
    let cases: [(&str, Components, bool); 5] = [
        ("the same machine", e.clone(), true),
        (
            "network card replaced (MAC `00:1b:21:99:88:77`)",
            Components {
                macs: vec![[0x00, 0x1b, 0x21, 0x99, 0x88, 0x77]],
                ..e.clone()
            },
            true,
        ),
        (
            "a clone of its disk on other hardware",
            Components {
                dmi_uuid: Some(clone_dmi.into()),
                macs: vec![clone_mac],
                ..e.clone()
            },
            false,
        ),
        (
            "read without root (no DMI UUID)",
            Components {
                dmi_uuid: None,
                ..e.clone()
            },
            true,
        ),
        (
            "only the CPU in common",
            Components {
                machine_id: Some("ffeeddccbbaa99887766554433221100".into()),
                dmi_uuid: Some(clone_dmi.into()),
                macs: vec![clone_mac],
                ..e.clone()
            },
            false,
        ),
    ];
    for (label, c, verdict) in cases {
        let (fs, fl) = (short(&c), strong(&c));
        let short_match = match_codes(&short(&e), &fs).is_match();
        let strong_match = match_codes(&strong(&e), &fl).is_match();
        assert_eq!(short_match, verdict, "{label} (short)");
        assert_eq!(strong_match, verdict, "{label} (strong)");
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {label}")))
            .unwrap_or_else(|| panic!("no row for {label}"));
        assert!(row.contains(&format!("| `{fs}` | `{fl}` |")), "{row}");
        let want = if verdict { "| match |" } else { "| no match |" };
        assert!(row.ends_with(want), "{row}");
    }
    // Across forms.
    let (s, l) = (short(&e), strong(&e));
    assert!(match_codes(&s, &l).is_match());
    let r = match_codes(&l, &s);
    assert!(!r.is_match() && r.form_mismatch() && r.components_agree());
    assert_in(
        &doc,
        &format!("Across forms: expected `{s}` (short) and found `{l}` (strong, the same machine): match."),
    );
}

/// Code-shaped tokens: runs of upper-case symbols and dashes with 25 or 60 symbols.
fn code_tokens(doc: &str) -> Vec<String> {
    doc.split(|c: char| !(c.is_ascii_digit() || c.is_ascii_uppercase() || c == '-'))
        .map(|t| t.trim_matches('-'))
        .filter(|t| t.contains('-'))
        .filter(|t| {
            let n = t.chars().filter(|&c| c != '-').count();
            n == 25 || n == 60
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_printed_code_in_the_document_is_canonical_or_a_stated_error() {
    let doc = doc();
    let malformed = [
        "1Q2H4-74KMZ-KWXDV-8K000-00KZR",
        "1Q2H4-74KMZ-KWXDV-8K000-0K0ZQ",
    ];
    let tokens = code_tokens(&doc);
    assert!(tokens.len() >= 20, "only {} codes found", tokens.len());
    let mut forms = [0usize; 2];
    for t in tokens {
        if malformed.contains(&t.as_str()) {
            assert!(t.parse::<HostId>().is_err(), "{t} parses");
            continue;
        }
        let id = HostId::parse_canonical(&t).unwrap_or_else(|e| panic!("{t}: {e}"));
        forms[usize::from(id.form() == CodeForm::Strong)] += 1;
    }
    assert!(forms[0] >= 5 && forms[1] >= 5, "{forms:?}");
}
