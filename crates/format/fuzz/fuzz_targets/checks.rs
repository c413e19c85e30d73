//! The checks each fuzz input goes through. Shared by the fuzz targets and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.

// Each fuzz target uses one of the checks.
#![allow(dead_code)]

use format::{
    sign, sign_payload_text_as, sign_v1, sign_v2, signing_context, FormatVersion, PublicKey,
    SecretKey, UnverifiedFile, MAX_FILE_SIZE,
};

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
    let context = signing_context(parsed.version());
    assert!(signed.starts_with(context));
    assert!(signed.len() <= context.len() + 8 + data.len() + 2);
    assert!(data.len() <= MAX_FILE_SIZE);
    let _ = parsed.verify(key.public_key());
    let _ = parsed.verify_with([key.public_key()]);
}

/// Any text as a signed payload of each version: the signature then checks out, so the
/// payload parser and the value checks are reached. Whatever verifies must survive a round
/// trip through the writer of its version, byte for byte when the input was written as the
/// writer writes (pretty-printed).
pub fn check_payload(data: &[u8], key: &SecretKey) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for version in [FormatVersion::V1, FormatVersion::V2, FormatVersion::V3] {
        let file = sign_payload_text_as(text, key, version);
        let Ok(parsed) = UnverifiedFile::parse(file.as_bytes()) else {
            continue;
        };
        assert_eq!(parsed.version(), version);
        let Ok(verified) = parsed.verify(key.public_key()) else {
            continue;
        };
        let again = match version {
            FormatVersion::V1 => sign_v1(verified.activation(), key),
            FormatVersion::V2 => sign_v2(verified.activation(), key),
            FormatVersion::V3 => sign(verified.activation(), key),
        }
        .expect("a verified model signs again");
        let reread = UnverifiedFile::parse(again.as_bytes())
            .expect("the writer's output parses")
            .verify(key.public_key())
            .expect("the writer's output verifies");
        assert_eq!(reread.activation(), verified.activation());
        assert_eq!(reread.version(), version);
    }
}

/// Any bytes as a key file (`licverify --trust`, `issuer --key`): parsing must return, never
/// panic. An accepted key must survive its text form unchanged, even when the name written in
/// the comment is the input itself (a name must never be able to add a key line), and a
/// secret key must sign what its public key verifies.
pub fn check_keys(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let name: String = text.chars().take(64).collect();
    if let Ok(pk) = PublicKey::from_text(text) {
        let again = PublicKey::from_text(&pk.to_text(&name)).expect("to_text() output parses");
        assert_eq!(again, pk);
        assert_eq!(again.key_id(), pk.key_id());
        assert_eq!(
            PublicKey::from_bytes(&pk.to_bytes()).expect("to_bytes() output is a key"),
            pk
        );
        assert!(
            SecretKey::from_text(text).is_err(),
            "both a public and a secret key"
        );
    }
    if let Ok(sk) = SecretKey::from_text(text) {
        let again = SecretKey::from_text(&sk.to_text(&name)).expect("to_text() output parses");
        assert_eq!(again.key_id(), sk.key_id());
        assert_eq!(*again.seed(), *sk.seed());
        let shown = format!("{sk:?}");
        assert!(!shown.contains(&base64_seed(&sk)), "Debug shows the seed");
        let signature = sk.sign(data);
        assert!(sk.public_key().verify_strict(data, &signature).is_ok());
        let public_text = sk.public_key().to_text(&name);
        assert_eq!(
            PublicKey::from_text(&public_text).as_ref(),
            Ok(sk.public_key())
        );
    }
}

fn base64_seed(sk: &SecretKey) -> String {
    // The unencrypted text form's key line is the tag and the base64 seed.
    let text = sk.to_text("");
    text.lines()
        .find_map(|l| l.strip_prefix("i3lic-secret-key-v1 "))
        .map(str::to_string)
        .expect("to_text() has a key line")
}
