//! The checks each request-code fuzz input goes through. Shared by the `request` fuzz target
//! and by the crate's corpus-replay test (`tests/fuzz_request_corpus.rs`), so a corpus file
//! replays exactly as fuzzed.

use hostid::{
    looks_like_request_code, CodeForm, HostId, RequestCode, RequestCodeError, ALPHABET,
    REQUEST_PRINTED_LEN, REQUEST_SYMBOLS,
};

/// Longest input the reader looks at (bytes, after trimming); kept equal to the crate's.
const MAX_INPUT: usize = hostid::request::MAX_REQUEST_INPUT_LEN;

/// Any bytes as a pasted request code (what `issuer issue --host-id`, `gethostid --check` and
/// the portal read). Parsing must return, never panic; an accepted code re-prints to a code
/// that parses to the same value (also without dashes and in lower case), is recognised as a
/// request code, and holds a strong host-ID code; every one-character change and every swap
/// of two different neighbours of its printed form is refused; a refusal fits the input.
pub fn check_request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let looks = looks_like_request_code(text);
    match text.parse::<RequestCode>() {
        Ok(code) => {
            assert!(looks, "an accepted request code is not recognised as one");
            check_accepted(&code);
        }
        Err(e) => check_refused(text, &e),
    }
}

fn check_accepted(code: &RequestCode) {
    let printed = code.to_string();
    assert_eq!(printed.len(), REQUEST_PRINTED_LEN, "{printed}");
    assert!(printed.starts_with('3'), "{printed}");
    let again: RequestCode = printed.parse().expect("the printed form parses");
    assert_eq!(&again, code, "Display → parse changed the code");
    assert_eq!(again.to_string(), printed);
    assert!(looks_like_request_code(&printed));
    let plain: String = printed.chars().filter(|c| *c != '-').collect();
    assert_eq!(plain.len(), REQUEST_SYMBOLS);
    assert_eq!(plain.parse::<RequestCode>().as_ref(), Ok(code));
    assert_eq!(
        printed.to_ascii_lowercase().parse::<RequestCode>().as_ref(),
        Ok(code)
    );
    // The host part is a strong host-ID code, and a request code is made from it again.
    let host = code.host();
    assert_eq!(host.form(), CodeForm::Strong);
    assert_eq!(
        HostId::parse_canonical(&host.to_string()).as_ref(),
        Ok(&host)
    );
    assert_eq!(
        RequestCode::new(host, code.install_key()).as_ref(),
        Ok(code)
    );
    // Neither a host-ID code nor a request code is read as the other.
    assert!(printed.parse::<HostId>().is_err());
    assert!(!looks_like_request_code(&host.to_string()));
    check_typos(&printed);
}

/// Every one-character change (to the next symbol of the alphabet) and every swap of two
/// different neighbouring symbols is refused: the check symbol catches both.
fn check_typos(printed: &str) {
    let bytes = printed.as_bytes();
    for at in 0..bytes.len() {
        if bytes[at] == b'-' {
            continue;
        }
        let Some(sym) = ALPHABET.iter().position(|&c| c == bytes[at]) else {
            panic!("printed code has {:?}", bytes[at] as char);
        };
        let mut changed = bytes.to_vec();
        changed[at] = ALPHABET[(sym + 1) % ALPHABET.len()];
        let changed = String::from_utf8(changed).expect("ASCII");
        assert!(
            changed.parse::<RequestCode>().is_err(),
            "a change at {} is accepted: {changed}",
            at + 1
        );
    }
    let symbols: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'-').collect();
    for at in 0..symbols.len() - 1 {
        if symbols[at] == symbols[at + 1] {
            continue;
        }
        let mut swapped = symbols.clone();
        swapped.swap(at, at + 1);
        let swapped = String::from_utf8(swapped).expect("ASCII");
        assert!(
            swapped.parse::<RequestCode>().is_err(),
            "a swap at {} is accepted: {swapped}",
            at + 1
        );
    }
}

fn check_refused(text: &str, e: &RequestCodeError) {
    let trimmed = text.trim();
    let symbols = || trimmed.chars().filter(|c| *c != '-' && *c != ' ').count();
    match e {
        RequestCodeError::Empty => assert!(trimmed.is_empty()),
        RequestCodeError::TooLong { len, max } => {
            assert_eq!(*len, trimmed.len());
            assert!(len > max && *max == MAX_INPUT);
        }
        RequestCodeError::InvalidCharacter {
            character,
            position,
        } => {
            assert!(*position >= 1);
            assert_eq!(trimmed.chars().nth(position - 1), Some(*character));
        }
        RequestCodeError::WrongLength { found, expected } => {
            assert_eq!(*expected, REQUEST_SYMBOLS);
            assert_ne!(found, expected);
            assert_eq!(*found, symbols());
        }
        RequestCodeError::CheckFailed
        | RequestCodeError::UnsupportedVersion { .. }
        | RequestCodeError::BadKeyField
        | RequestCodeError::Host(_) => assert_eq!(symbols(), REQUEST_SYMBOLS, "{e:?}"),
        RequestCodeError::InvalidInstallKey(_) => {
            panic!("the hostid crate does not check keys: {e:?}")
        }
        _ => {}
    }
    if let RequestCodeError::UnsupportedVersion { found } = e {
        assert_ne!(*found, '3');
    }
    assert!(!e.to_string().is_empty());
}
