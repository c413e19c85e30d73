//! Public keys are accepted in their one canonical encoding only.

use format::{FormatError, PublicKey};

/// `p + k` (p = 2^255 - 19) little-endian: a second spelling of the y coordinate `k`.
fn non_canonical_y(k: u8) -> [u8; 32] {
    let mut b = [0xff; 32];
    b[0] = 0xed + k;
    b[31] = 0x7f;
    b
}

#[test]
fn non_canonical_public_key_encodings_are_refused() {
    let mut tried = 0;
    for k in 2..19u8 {
        let bytes = non_canonical_y(k);
        match PublicKey::from_bytes(&bytes) {
            Ok(_) => panic!("y = p + {k} accepted as a public key"),
            Err(FormatError::MalformedKey { kind: "public", .. }) => tried += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(tried, 17);
}
