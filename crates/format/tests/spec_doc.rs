//! docs/FORMAT.md's figures and lists that are not about the complete examples
//! (`spec_example.rs` checks those), recomputed from the code:
//!
//! - section 11 (host-ID codes) is docs/HOSTID.md sections 1 to 11 word for word but for the
//!   section numbers, and every example code and worked figure in it is what the `hostid` crate
//!   writes, reads and matches (the checks of `crates/hostid/tests/hostid_md.rs`, on FORMAT.md);
//! - section 6: the counts of refused public-key spellings;
//! - section 9: the refused characters and the white-space characters.

mod common;

use std::fs;
use std::path::PathBuf;

use format::PublicKey;
use hostid::{match_codes, CodeError, CodeForm, Components, HostId, SpellingDifference, ALPHABET};
use sha2::{Digest, Sha256};

fn repo_file(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn doc() -> String {
    repo_file("docs/FORMAT.md")
}

/// Section 11 of FORMAT.md: from its heading to the heading of section 12.
fn hostid_section() -> String {
    let doc = doc();
    let start = doc.find("\n## 11. Host-ID codes\n").expect("section 11");
    let end = doc.find("\n## 12. ").expect("section 12");
    doc[start..end].to_owned()
}

/// The document with every run of white space made one space, so prose checks do not depend
/// on where lines break.
fn flat(doc: &str) -> String {
    doc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_in(doc: &str, needle: &str) {
    assert!(
        flat(doc).contains(&flat(needle)),
        "docs/FORMAT.md section 11 lacks {needle:?}"
    );
}

// ---- section 11 is docs/HOSTID.md ----

/// HOSTID.md's words from its section 1 on, numbered as FORMAT.md numbers them: `## N.`
/// becomes `### 11.N`, `###` becomes `####`, and `section N` / `sections N, M` become
/// `section 11.N` / `sections 11.N, 11.M`.
fn hostid_md_as_section_11() -> Vec<String> {
    let md = repo_file("docs/HOSTID.md");
    let body = &md[md.find("\n## 1. ").expect("HOSTID.md section 1")..];
    let words: Vec<&str> = body.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        match w {
            "##" if words.get(i + 1).is_some_and(|n| n.ends_with('.')) => {
                out.push("###".to_owned());
                out.push(format!("11.{}", words[i + 1].trim_end_matches('.')));
                i += 2;
                continue;
            }
            "###" => out.push("####".to_owned()),
            _ => out.push(w.to_owned()),
        }
        i += 1;
        let numbered = |x: &str| x.starts_with(|c: char| c.is_ascii_digit());
        if w.ends_with("sections") {
            while i < words.len() && numbered(words[i]) {
                out.push(format!("11.{}", words[i]));
                i += 1;
            }
        } else if w.ends_with("section") && i < words.len() && numbered(words[i]) {
            out.push(format!("11.{}", words[i]));
            i += 1;
        }
    }
    out
}

#[test]
fn section_11_is_hostid_md() {
    let section = hostid_section();
    let body = &section[section.find("\n### 11.1 ").expect("section 11.1")..];
    let got: Vec<&str> = body.split_whitespace().collect();
    let want = hostid_md_as_section_11();
    if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
        let show = |w: &[&str]| w.join(" ");
        let want_ref: Vec<&str> = want.iter().map(String::as_str).collect();
        panic!(
            "FORMAT.md section 11 departs from docs/HOSTID.md at word {i}:\n  FORMAT.md: {}\n  HOSTID.md: {}",
            show(&got[i.saturating_sub(8)..(i + 8).min(got.len())]),
            show(&want_ref[i.saturating_sub(8)..(i + 8).min(want_ref.len())])
        );
    }
    assert_eq!(
        got.len(),
        want.len(),
        "FORMAT.md section 11 and docs/HOSTID.md differ in length"
    );
}

// ---- the checks of crates/hostid/tests/hostid_md.rs, on FORMAT.md ----

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
fn the_example_codes_are_what_the_hostid_crate_writes() {
    let doc = hostid_section();
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
    let doc = hostid_section();
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
        assert_eq!(&s[s_at..s_at + sf.len()], sf, "{kind}");
        assert_eq!(&l[l_at..l_at + lf.len()], lf, "{kind}");
    }
    assert_in(
        &doc,
        "its first 25 bits are `00010 10001 00100 00111 00100` = 2, 17, 4, 7, 4 = `2H474`",
    );
    assert_in(&doc, "1 + 2 + 4 + 16 = 23, `Q`");
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
    assert_in(&doc, &format!("cut {}", spaced(&s, &[1, 1, 5, 5, 5, 5, 2])));
    assert_eq!(strong(&c).to_short(), short(&c));
}

#[test]
fn the_check_symbol_table_is_the_computation() {
    let doc = hostid_section();
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
    assert_in(&doc, &format!("ends with x·{r} XOR {check} = 0"));
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
    let doc = hostid_section();
    let s = short(&example());
    let l = strong(&example());
    let not = |position, difference| CodeError::NotCanonical {
        expected: String::new(),
        position,
        difference,
    };
    type Read = Result<HostId, CodeError>;
    let wrong = |found, expected| CodeError::WrongLength { found, expected };
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
            Err(wrong(24, 25)),
            Err(wrong(24, 25)),
        ),
        (
            "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4",
            Err(wrong(59, 60)),
            Err(wrong(59, 60)),
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
        // An activation file takes a host ID only as parse_canonical does.
        assert_eq!(got.is_ok(), input == s.to_string(), "{input}");
    }
    assert_in(&doc, "refused: character 2 is lower case");
    assert_in(&doc, "wrong length: 24 symbols, 25 expected");
    assert_in(&doc, "wrong length: 59 symbols, 60 expected");
}

#[test]
fn the_matching_examples_match_as_stated() {
    let doc = hostid_section();
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
        assert_eq!(match_codes(&short(&e), &fs).is_match(), verdict, "{label}");
        assert_eq!(match_codes(&strong(&e), &fl).is_match(), verdict, "{label}");
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {label}")))
            .unwrap_or_else(|| panic!("no row for {label}"));
        assert!(row.contains(&format!("| `{fs}` | `{fl}` |")), "{row}");
        let want = if verdict { "| match |" } else { "| no match |" };
        assert!(row.ends_with(want), "{row}");
    }
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
fn every_printed_code_in_format_md_is_canonical_or_a_stated_error() {
    // The whole document: section 11 and the example files' hosts.
    let doc = doc();
    let malformed = [
        "1Q2H4-74KMZ-KWXDV-8K000-00KZR",
        "1Q2H4-74KMZ-KWXDV-8K000-0K0ZQ",
    ];
    let tokens = code_tokens(&doc);
    assert!(tokens.len() >= 24, "only {} codes found", tokens.len());
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

// ---- section 6: public-key spellings ----

/// p = 2^255 - 19, little-endian.
fn p_plus(k: u8) -> [u8; 32] {
    let mut b = [0xffu8; 32];
    b[0] = 0xed + k; // 0xed + 18 = 0xff: no carry for k <= 18
    b[31] = 0x7f;
    b
}

fn refusal(bytes: &[u8; 32]) -> &'static str {
    match PublicKey::from_bytes(bytes) {
        Ok(_) => "accepted",
        Err(e) => {
            let e = e.to_string();
            if e.contains("not the canonical encoding") {
                "non-canonical"
            } else if e.contains("small-order") {
                "small order"
            } else if e.contains("not a valid ed25519 point") {
                "not a point"
            } else {
                panic!("{e}")
            }
        }
    }
}

#[test]
fn the_non_canonical_key_spellings_are_counted_right() {
    // Every 32-byte string that can decode without being the canonical encoding of its point:
    // a y field of p .. 2^255 - 1 (p + 0 .. p + 18) with either sign bit, and x = 0 (y = 1,
    // y = p - 1) with the sign bit set. (Below p, with x != 0, re-encoding gives the input.)
    let mut candidates: Vec<([u8; 32], Option<u8>)> = Vec::new();
    for k in 0..19u8 {
        for sign in [0u8, 0x80] {
            let mut b = p_plus(k);
            b[31] |= sign;
            candidates.push((b, Some(k)));
        }
    }
    let mut one = [0u8; 32];
    one[0] = 1;
    one[31] = 0x80;
    let mut minus_one = p_plus(0);
    minus_one[0] = 0xec;
    minus_one[31] = 0xff;
    candidates.push((one, None));
    candidates.push((minus_one, None));
    assert_eq!(candidates.len(), 40);

    let mut non_canonical = 0;
    let mut points_y = std::collections::BTreeSet::new();
    for (b, k) in &candidates {
        match refusal(b) {
            "non-canonical" => {
                non_canonical += 1;
                if let Some(k) = k {
                    points_y.insert(*k);
                }
            }
            "not a point" => assert!(k.is_some(), "{b:02x?}"),
            other => panic!("{b:02x?}: {other}"),
        }
    }
    assert_eq!(non_canonical, 26);
    assert_eq!(
        points_y.into_iter().collect::<Vec<_>>(),
        [0, 1, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18]
    );

    let doc = flat(&doc());
    for needle in [
        "So exactly **26** encodings decode to a point without being its canonical encoding",
        "**24** with a y field of p or more",
        "(y = 0, 1, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18:",
        "the other 7 (y = 2, 7, 8, 11, 12, 13, 17) are not points at all",
        "**2** with y below p, x = 0 and the sign bit set",
        "tries all 40 candidate spellings",
    ] {
        assert!(doc.contains(needle), "section 6 lacks {needle:?}");
    }
}

#[test]
fn the_small_order_keys_listed_are_refused() {
    let doc = doc();
    let start = doc
        .find("The canonical encodings of\nthe 8 small-order points")
        .expect("the list of small-order points");
    let block = doc[start..]
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the block");
    let keys: Vec<[u8; 32]> = block
        .lines()
        .map(|l| {
            let hex = l.split_whitespace().next().expect("hex");
            let v: Vec<u8> = (0..32)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex"))
                .collect();
            v.try_into().expect("32 bytes")
        })
        .collect();
    assert_eq!(keys.len(), 8);
    for k in &keys {
        assert_eq!(refusal(k), "small order", "{k:02x?}");
    }
    let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), 8);
}

// ---- section 9: characters ----

/// The ranges of a table in section 9 whose first column is `U+XXXX` or `U+XXXX – U+YYYY`.
fn char_table(doc: &str, after: &str) -> Vec<(u32, u32)> {
    let start = doc.find(after).expect("the table's introduction");
    doc[start..]
        .lines()
        .skip_while(|l| !l.starts_with("| U+"))
        .take_while(|l| l.starts_with("| U+"))
        .map(|l| {
            let cell = l.split('|').nth(1).expect("a cell").trim();
            let mut ends = cell
                .split(" – ")
                .map(|u| u32::from_str_radix(u.trim().trim_start_matches("U+"), 16).expect("hex"));
            let a = ends.next().expect("a start");
            (a, ends.next().unwrap_or(a))
        })
        .collect()
}

#[test]
fn the_refused_characters_are_the_crates() {
    let doc = doc();
    let ranges = char_table(&doc, "depend on the Unicode tables of their language:");
    assert!(ranges.len() > 20);
    for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
        let listed = ranges.iter().any(|&(a, b)| (a..=b).contains(&u32::from(c)));
        assert_eq!(listed, format::is_refused_char(c), "U+{:04X}", u32::from(c));
    }
}

#[test]
fn the_white_space_list_is_the_one_text_values_use() {
    let doc = flat(&doc());
    let listed = "*White space* is the Unicode property `White_Space`: U+0009 to U+000D, U+0020, \
                  U+0085, U+00A0, U+1680, U+2000 to U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.";
    assert!(doc.contains(listed), "section 9 lacks the white-space list");
    let ranges = [
        (0x09, 0x0d),
        (0x20, 0x20),
        (0x85, 0x85),
        (0xa0, 0xa0),
        (0x1680, 0x1680),
        (0x2000, 0x200a),
        (0x2028, 0x2029),
        (0x202f, 0x202f),
        (0x205f, 0x205f),
        (0x3000, 0x3000),
    ];
    for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
        let listed = ranges.iter().any(|&(a, b)| (a..=b).contains(&u32::from(c)));
        assert_eq!(listed, c.is_whitespace(), "U+{:04X}", u32::from(c));
    }
}

#[test]
fn text_values_with_white_space_at_an_edge_are_refused() {
    let ok = common::sample();
    ok.validate_for(format::FormatVersion::V1)
        .expect("the sample is valid");
    for c in (0..=0x10ffffu32)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
    {
        for product in [format!("CIC{c}"), format!("{c}CIC")] {
            let mut a = ok.clone();
            a.product = product;
            assert!(
                matches!(
                    a.validate_for(format::FormatVersion::V1),
                    Err(format::FormatError::InvalidValue { .. })
                ),
                "U+{:04X}",
                u32::from(c)
            );
        }
        // Inside a value, white space that is not a refused character is text.
        let mut a = ok.clone();
        a.product = format!("C{c}IC");
        assert_eq!(
            a.validate_for(format::FormatVersion::V1).is_ok(),
            !format::is_refused_char(c),
            "U+{:04X}",
            u32::from(c)
        );
    }
}
