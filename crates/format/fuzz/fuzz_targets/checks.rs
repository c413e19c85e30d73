//! The checks each fuzz input goes through. Shared by the fuzz targets and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

// Each fuzz target uses one of the checks.
#![allow(dead_code)]

use format::{sign, sign_payload_text, SecretKey, UnverifiedFile, MAX_FILE_SIZE};

/// The fixed key the fuzz checks sign and verify with (test use only).
pub fn fuzz_key() -> SecretKey {
    SecretKey::from_seed(&[0x7f; 32])
}

/// Any bytes as a file: parsing and verifying must return, never panic. A parsed file's signed
/// bytes always start with the signing context and are never longer than the input allows.
pub fn check_file(data: &[u8], key: &SecretKey) {
    let Ok(parsed) = UnverifiedFile::parse(data) else {
        return;
    };
    let signed = parsed.signed_bytes();
    assert!(signed.starts_with(format::SIGNING_CONTEXT));
    assert!(signed.len() <= format::SIGNING_CONTEXT.len() + 8 + data.len() + 2);
    assert!(data.len() <= MAX_FILE_SIZE);
    let _ = parsed.verify(key.public_key());
    let _ = parsed.verify_with([key.public_key()]);
}

/// Any text as a signed payload: the signature then checks out, so the payload parser and
/// the value checks are reached. Whatever verifies must survive a round trip through sign().
pub fn check_payload(data: &[u8], key: &SecretKey) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = sign_payload_text(text, key);
    let Ok(parsed) = UnverifiedFile::parse(file.as_bytes()) else {
        return;
    };
    let Ok(verified) = parsed.verify(key.public_key()) else {
        return;
    };
    let again = sign(verified.activation(), key).expect("a verified model signs again");
    let reread = UnverifiedFile::parse(again.as_bytes())
        .expect("sign() output parses")
        .verify(key.public_key())
        .expect("sign() output verifies");
    assert_eq!(reread.activation(), verified.activation());
}
