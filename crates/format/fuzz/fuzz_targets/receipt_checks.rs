//! The checks each release-receipt fuzz input goes through. Shared by the `receipt` and
//! `receipt_facts` fuzz targets and by the crate's corpus-replay test
//! (`tests/fuzz_receipt_corpus.rs`), so a corpus file replays exactly as fuzzed.

// Each fuzz target uses one of the checks.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use format::receipt::{
    Receipt, ReceiptError, MAX_RECEIPT_SIZE, RECEIPT_BEGIN, RECEIPT_CONTEXT, RECEIPT_END,
    RECEIPT_FORMAT, RECEIPT_SIGNATURE,
};
use format::SecretKey;

/// The headers of a receipt, in their order (docs/FORMAT.md section 20).
pub const HEADERS: [&str; 7] = [
    "Format",
    "File-Id",
    "Lineage",
    "Generation",
    "Host-Id",
    "Released-At",
    "Install-Key",
];

/// The values of the receipt of docs/FORMAT.md section 20, used where a facts input has
/// fewer lines than headers.
pub const DEFAULTS: [&str; 7] = [
    RECEIPT_FORMAT,
    "5e1f0c2b7d9a4410863fe2510bc49728",
    "317c2a900e5b44d89a126f03be7721c4",
    "3",
    "1Q2H4-74FY2-0RXDV-8K000-00KZ7",
    "2026-12-07T17:00:00Z",
    "ed3234b276d4ceda57d59bad14fbaf5a773c0f318c999de3a60d53c5a5b34c05",
];

/// The fixed install key the checks sign and verify with: the test install key of
/// docs/FORMAT.md section 19 (seed: 32 bytes `d4`; test use only).
pub fn receipt_key() -> SecretKey {
    SecretKey::from_seed(&[0xd4; 32])
}

/// A receipt's header lines as the writer prints them, from what it states.
fn canonical_headers(r: &Receipt) -> [String; 7] {
    let f = r.facts();
    let values = [
        RECEIPT_FORMAT.to_string(),
        f.file_id.to_string(),
        f.lineage.to_string(),
        f.generation.to_string(),
        f.host_id.to_string(),
        f.released_at.to_string(),
        format::install_key::to_hex(r.install_key()),
    ];
    let mut i = 0;
    values.map(|v| {
        let line = format!("{}: {v}", HEADERS[i]);
        i += 1;
        line
    })
}

/// The signed bytes of header lines: the context, then each line and one LF.
fn signed_bytes<S: AsRef<str>>(lines: &[S]) -> Vec<u8> {
    let mut out = RECEIPT_CONTEXT.to_vec();
    for l in lines {
        out.extend_from_slice(l.as_ref().as_bytes());
        out.push(b'\n');
    }
    out
}

/// A receipt's text from its header lines and its signature line, as the writer lays it out.
fn assemble<S: AsRef<str>>(lines: &[S], signature: &str) -> String {
    let mut out = format!("{RECEIPT_BEGIN}\n");
    for l in lines {
        out.push_str(l.as_ref());
        out.push('\n');
    }
    out.push_str(&format!(
        "{RECEIPT_SIGNATURE}\n{signature}\n{RECEIPT_END}\n"
    ));
    out
}

/// Any bytes as a receipt (`issuer deactivate --receipt FILE`): parsing and verifying must
/// return, never panic. A refusal is a form error (exit 3) naming a line of the input. A
/// receipt that parses signs exactly the canonical header lines of what it states, and its
/// canonical text parses to the same receipt; verifying against a key other than the one it
/// names says so, and never fails otherwise than by the signature.
pub fn check_receipt(data: &[u8], key: &SecretKey) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let receipt = match Receipt::parse(text) {
        Ok(r) => r,
        Err(e) => {
            check_refused(text, &e);
            return;
        }
    };
    assert!(text.len() <= MAX_RECEIPT_SIZE);
    let headers = canonical_headers(&receipt);
    assert_eq!(
        receipt.signed_bytes(),
        signed_bytes(&headers).as_slice(),
        "the signed bytes are not the canonical header lines"
    );
    // The signature line of the input (the line after the signature marker).
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = body
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']));
    lines
        .by_ref()
        .find(|l| *l == RECEIPT_SIGNATURE)
        .expect("a parsed receipt has its signature marker");
    let signature = lines.next().expect("a parsed receipt has a signature line");
    let canonical = assemble(&headers, signature);
    let again = Receipt::parse(&canonical).expect("the canonical text parses");
    assert_eq!(again, receipt, "the canonical text reads otherwise");
    assert_eq!(assemble(&canonical_headers(&again), signature), canonical);

    let pk = key.public_key();
    match receipt.verify(pk) {
        Ok(()) => {
            assert_eq!(receipt.install_key(), pk);
            // The writer's receipt of the same facts reads back the same.
            let written = Receipt::sign(receipt.facts(), key);
            let reread = Receipt::parse(&written).expect("the writer's receipt parses");
            assert_eq!(reread.facts(), receipt.facts());
            assert_eq!(reread.signed_bytes(), receipt.signed_bytes());
        }
        Err(ReceiptError::WrongInstallKey { found, expected }) => {
            assert_ne!(receipt.install_key(), pk);
            assert_eq!(found, format::install_key::to_hex(receipt.install_key()));
            assert_eq!(expected, format::install_key::to_hex(pk));
        }
        Err(e) => {
            assert_eq!(receipt.install_key(), pk);
            assert_eq!(e, ReceiptError::SignatureInvalid);
        }
    }
    // Against the key it names, only the signature can fail.
    if let Err(e) = receipt.verify(receipt.install_key()) {
        assert_eq!(e, ReceiptError::SignatureInvalid);
        assert_eq!(e.exit_code(), 10);
    }
}

/// A parse refusal: a form error (exit 3) whose line exists in the input.
fn check_refused(text: &str, e: &ReceiptError) {
    assert_eq!(e.exit_code(), 3, "{e:?}");
    match e {
        ReceiptError::TooLarge { size, max } => {
            assert_eq!(*size, text.len());
            assert!(size > max && *max == MAX_RECEIPT_SIZE);
        }
        ReceiptError::Malformed { line, reason } => {
            let body = text.strip_prefix('\u{feff}').unwrap_or(text);
            assert!(
                *line >= 1 && *line <= body.split('\n').count(),
                "line {line} of {}",
                body.split('\n').count()
            );
            assert!(!reason.is_empty());
        }
        other => panic!("parse refused with {other:?}"),
    }
    assert!(!e.to_string().is_empty());
}

/// Any text as the header values of a receipt (one a line, in header order; missing lines
/// take the values of docs/FORMAT.md section 20), signed with the fixed key: the signature is
/// good, so the value checks behind it are reached. A receipt whose values are in their one
/// spelling parses, verifies and is exactly what the writer prints for its facts; any other
/// is refused as malformed at the line of a header.
pub fn check_facts(data: &[u8], key: &SecretKey) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut values = DEFAULTS;
    for (slot, line) in values.iter_mut().zip(text.split('\n')) {
        *slot = line;
    }
    let headers: Vec<String> = HEADERS
        .iter()
        .zip(values)
        .map(|(name, v)| format!("{name}: {v}"))
        .collect();
    let signature = STANDARD.encode(key.sign(&signed_bytes(&headers)));
    let written = assemble(&headers, &signature);
    match Receipt::parse(&written) {
        Ok(r) => {
            assert!(written.len() <= MAX_RECEIPT_SIZE);
            let blanks = values.iter().any(|v| v.ends_with([' ', '\t', '\r']));
            if r.install_key() != key.public_key() {
                assert!(matches!(
                    r.verify(key.public_key()),
                    Err(ReceiptError::WrongInstallKey { .. })
                ));
            } else if blanks {
                // The reader drops trailing blanks, so the signed line is not the one read.
                assert_eq!(
                    r.verify(key.public_key()),
                    Err(ReceiptError::SignatureInvalid)
                );
            } else {
                r.verify(key.public_key())
                    .expect("a signed receipt verifies");
                assert_eq!(
                    Receipt::sign(r.facts(), key),
                    written,
                    "a value read is not in its one spelling"
                );
            }
        }
        Err(ReceiptError::TooLarge { size, .. }) => {
            assert_eq!(size, written.len());
            assert!(size > MAX_RECEIPT_SIZE);
        }
        Err(ReceiptError::Malformed { line, .. }) => {
            assert!((2..=8).contains(&line), "line {line}")
        }
        Err(e) => panic!("parse refused with {e:?}"),
    }
}
