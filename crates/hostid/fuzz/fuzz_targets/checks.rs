//! The checks each fuzz input goes through. Shared by the fuzz target and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

use hostid::{
    match_codes, validate, CodeError, CodeForm, HostId, SpellingDifference, MAX_INPUT_LEN,
    STRONG_SYMBOLS, SYMBOLS,
};

/// Any bytes as a typed host-ID code (what `gethostid --check`, `licverify --host-id` and
/// `issuer issue --host-id` read) and as a code in an activation file
/// (`HostId::parse_canonical`). Parsing must return, never panic; an accepted code must
/// survive Display → parse unchanged (leniently and canonically) and match itself; a strong
/// code's short code must be consistent with it; a refused one must say why with a reason
/// that fits the input. When the input holds two lines that both parse, the matching rule
/// must be symmetric for codes of one form, and never let a short code prove a strong one.
pub fn check_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = text.parse::<HostId>();
    assert_eq!(parsed, validate(text), "validate() and parse() disagree");
    check_canonical(text, &parsed);
    match parsed {
        Ok(id) => check_accepted(&id),
        Err(e) => check_refused(text, &e),
    }
    if let Some((a, b)) = text.split_once('\n') {
        if let (Ok(a), Ok(b)) = (a.parse::<HostId>(), b.parse::<HostId>()) {
            check_pair(&a, &b);
        }
    }
}

fn check_accepted(id: &HostId) {
    let printed = id.to_string();
    assert_eq!(printed.len(), id.form().printed_len(), "{printed}");
    let again: HostId = printed.parse().expect("the canonical form parses");
    assert_eq!(&again, id, "Display → parse changed the code");
    assert_eq!(again.to_string(), printed);
    assert_eq!(HostId::parse_canonical(&printed).as_ref(), Ok(id));
    // The forms a person might type parse to the same code.
    let plain: String = printed.chars().filter(|c| *c != '-').collect();
    assert_eq!(plain.len(), id.form().symbols());
    assert_eq!(plain.parse::<HostId>().as_ref(), Ok(id));
    assert_eq!(
        printed.to_ascii_lowercase().parse::<HostId>().as_ref(),
        Ok(id)
    );
    assert_eq!(id.version(), id.form().version());
    assert_eq!(
        printed.chars().next(),
        Some(char::from(b'0' + id.version()))
    );
    let kinds = id.kinds();
    assert!(kinds.iter().filter(|k| k.is_strong()).count() >= hostid::MIN_STRONG_COMPONENTS);
    let report = match_codes(id, id);
    assert!(
        report.is_match(),
        "a code does not match itself: {report:?}"
    );
    assert_eq!(report.differing, 0);
    check_short_of(id);
}

/// A code's short code: a valid short code of the same kinds, the identity on short codes,
/// and (for a strong code) the strong code's fields cut symbol by symbol.
fn check_short_of(id: &HostId) {
    let short = id.to_short();
    assert_eq!(short.form(), CodeForm::Short);
    assert_eq!(short.to_short(), short);
    assert_eq!(short.kinds(), id.kinds());
    let printed = short.to_string();
    assert_eq!(HostId::parse_canonical(&printed), Ok(short));
    match id.form() {
        CodeForm::Short => assert_eq!(&short, id),
        CodeForm::Strong => {
            let l: Vec<char> = id.to_string().chars().filter(|c| *c != '-').collect();
            let s: Vec<char> = printed.chars().filter(|c| *c != '-').collect();
            assert_eq!(l.len(), STRONG_SYMBOLS);
            assert_eq!(s.len(), SYMBOLS);
            assert_eq!((l[0], s[0]), ('2', '1'));
            assert_eq!(l[1], s[1], "flags");
            for f in 0..4 {
                assert_eq!(l[2 + 13 * f..7 + 13 * f], s[2 + 5 * f..7 + 5 * f]);
            }
            assert_eq!(l[54..56], s[22..24]);
            // A strong reading checks its own short binding; the reverse never holds.
            assert!(match_codes(&short, id).is_match());
            let r = match_codes(id, &short);
            assert!(!r.is_match() && r.form_mismatch());
            assert!(r.components_agree());
        }
    }
}

/// `parse_canonical` against the lenient parser: the same refusals; an accepted code is
/// accepted canonically exactly when the input is its printed form, byte for byte, and
/// otherwise refused with that form and the first difference.
fn check_canonical(text: &str, lenient: &Result<HostId, CodeError>) {
    let canonical = HostId::parse_canonical(text);
    match (lenient, &canonical) {
        (Err(e), c) => assert_eq!(c.as_ref(), Err(e), "parse_canonical refused otherwise"),
        (Ok(id), Ok(c)) => {
            assert_eq!(c, id);
            assert_eq!(
                c.to_string(),
                text,
                "accepted canonically but prints otherwise"
            );
        }
        (
            Ok(id),
            Err(CodeError::NotCanonical {
                expected,
                position,
                difference,
            }),
        ) => {
            assert_eq!(expected, &id.to_string());
            assert_ne!(text, expected);
            let chars: Vec<char> = text.chars().collect();
            assert!(*position >= 1 && *position <= chars.len() + 1);
            // Everything before the named position is as printed.
            let before: String = chars[..position - 1].iter().collect();
            assert!(expected.starts_with(&before), "{position} {difference:?}");
            let at = chars.get(position - 1).copied();
            let want = expected.chars().nth(position - 1);
            match difference {
                SpellingDifference::Whitespace => {
                    assert!(at.is_some_and(char::is_whitespace))
                }
                SpellingDifference::LowerCase => {
                    assert!(at.is_some_and(|c| c.is_ascii_lowercase()));
                    assert_eq!(at.map(|c| c.to_ascii_uppercase()), want);
                }
                SpellingDifference::LookAlike => {
                    assert!(at.is_some_and(|c| "OoIiLl".contains(c)));
                    assert!(want.is_some_and(|c| c == '0' || c == '1'));
                }
                SpellingDifference::Separator => assert!(
                    at.is_some_and(|c| c == '-' || c == ' ') || want == Some('-'),
                    "{at:?} {want:?}"
                ),
                _ => {}
            }
            // The printed form reparses canonically to the same value.
            assert_eq!(HostId::parse_canonical(expected).as_ref(), Ok(id));
        }
        (Ok(_), Err(e)) => panic!("lenient parse accepted, canonical refused with {e:?}"),
    }
}

fn check_pair(a: &HostId, b: &HostId) {
    let ab = match_codes(a, b);
    let ba = match_codes(b, a);
    // Counts are symmetric whatever the forms (both compare at the same form).
    assert_eq!(ab.strong_equal, ba.strong_equal);
    assert_eq!(ab.differing, ba.differing);
    assert_eq!(ab.components_agree(), ba.components_agree());
    if a.form() == b.form() {
        assert_eq!(ab.is_match(), ba.is_match(), "matching is not symmetric");
        assert_eq!(ab.compared_form(), a.form());
    } else {
        let (strong, short, r) = if a.form() == CodeForm::Strong {
            (a, b, &ab)
        } else {
            (b, a, &ba)
        };
        assert!(r.form_mismatch() && !r.is_match());
        assert_eq!(
            match_codes(short, strong).is_match(),
            match_codes(short, &strong.to_short()).is_match()
        );
    }
    // Cutting to the short form never loses a match.
    if ab.is_match() {
        assert!(match_codes(&a.to_short(), &b.to_short()).is_match());
    }
    assert_eq!(a == b, a.to_string() == b.to_string());
}

fn check_refused(text: &str, e: &CodeError) {
    let trimmed = text.trim();
    match *e {
        CodeError::Empty => assert!(trimmed.is_empty()),
        CodeError::TooLong { len, max } => {
            assert_eq!(len, trimmed.len());
            assert!(len > max && max == MAX_INPUT_LEN);
        }
        CodeError::InvalidCharacter {
            character,
            position,
        } => {
            assert!(position >= 1);
            assert_eq!(trimmed.chars().nth(position - 1), Some(character));
        }
        CodeError::WrongLength { found, expected } => {
            assert_ne!(found, expected);
            assert!(expected == SYMBOLS || expected == STRONG_SYMBOLS);
            assert!(found != SYMBOLS && found != STRONG_SYMBOLS);
            assert!(found <= trimmed.len());
        }
        CodeError::NotCanonical { .. } | CodeError::UnknownForm => {
            panic!("the lenient parser refused with {e:?}")
        }
        _ => {
            let n = trimmed.chars().filter(|c| *c != '-' && *c != ' ').count();
            assert!(n == SYMBOLS || n == STRONG_SYMBOLS, "{n} symbols: {e:?}");
        }
    }
    assert!(!e.to_string().is_empty());
}
