//! The checks each fuzz input goes through. Shared by the fuzz target and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

use hostid::{match_codes, validate, CodeError, HostId, MAX_INPUT_LEN, SYMBOLS};

/// Length of the canonical printed form: the symbols plus a dash between groups of five.
const PRINTED_LEN: usize = SYMBOLS + SYMBOLS / 5 - 1;

/// Any bytes as a typed host-ID code (what `gethostid --check`, `licverify --host-id` and
/// `issuer issue --host-id` read). Parsing must return, never panic; an accepted code must
/// survive Display → parse unchanged and match itself; a refused one must say why with a
/// reason that fits the input. When the input holds two lines that both parse, the matching
/// rule must be symmetric.
pub fn check_code(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = text.parse::<HostId>();
    assert_eq!(parsed, validate(text), "validate() and parse() disagree");
    match parsed {
        Ok(id) => check_accepted(&id),
        Err(e) => check_refused(text, &e),
    }
    if let Some((a, b)) = text.split_once('\n') {
        if let (Ok(a), Ok(b)) = (a.parse::<HostId>(), b.parse::<HostId>()) {
            let ab = match_codes(&a, &b);
            let ba = match_codes(&b, &a);
            assert_eq!(ab.is_match(), ba.is_match(), "matching is not symmetric");
            assert_eq!(ab.strong_equal, ba.strong_equal);
            assert_eq!(ab.differing, ba.differing);
            assert_eq!(a == b, a.to_string() == b.to_string());
        }
    }
}

fn check_accepted(id: &HostId) {
    let printed = id.to_string();
    assert_eq!(printed.len(), PRINTED_LEN, "{printed}");
    let again: HostId = printed.parse().expect("the canonical form parses");
    assert_eq!(&again, id, "Display → parse changed the code");
    assert_eq!(again.to_string(), printed);
    // The forms a person might type parse to the same code.
    let plain: String = printed.chars().filter(|c| *c != '-').collect();
    assert_eq!(plain.parse::<HostId>().as_ref(), Ok(id));
    assert_eq!(
        printed.to_ascii_lowercase().parse::<HostId>().as_ref(),
        Ok(id)
    );
    assert_eq!(id.version(), hostid::CODE_VERSION);
    let kinds = id.kinds();
    assert!(kinds.iter().filter(|k| k.is_strong()).count() >= hostid::MIN_STRONG_COMPONENTS);
    let report = match_codes(id, id);
    assert!(
        report.is_match(),
        "a code does not match itself: {report:?}"
    );
    assert_eq!(report.differing, 0);
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
            assert!(found <= trimmed.len());
        }
        _ => assert_eq!(
            trimmed.chars().filter(|c| *c != '-' && *c != ' ').count(),
            SYMBOLS
        ),
    }
    assert!(!e.to_string().is_empty());
}
