//! Install keys in activation files (version 3): the public half of a license store's key,
//! written as 64 lower-case hex digits (docs/FORMAT.md section 8).

use crate::error::FormatError;
use crate::keys::{decode_hex_array, PublicKey};

/// An install key's text form in a file: 64 lower-case hex digits.
pub fn to_hex(key: &PublicKey) -> String {
    key.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Read an install key from a file: exactly 64 lower-case hex digits of a valid ed25519
/// public key (canonical, not of small order). `field` names the member in the error.
pub fn from_hex(field: &str, text: &str) -> Result<PublicKey, FormatError> {
    let bytes: [u8; 32] = decode_hex_array(text).ok_or_else(|| FormatError::InvalidValue {
        field: field.into(),
        reason: "an install key is 64 lower-case hex digits".into(),
    })?;
    PublicKey::from_bytes(&bytes).map_err(|e| FormatError::InvalidValue {
        field: field.into(),
        reason: format!("not a valid install key: {e}"),
    })
}

/// serde for `Option<PublicKey>` as its hex form (the issuer's recorded activations).
pub(crate) mod serde_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::keys::PublicKey;

    pub fn serialize<S: Serializer>(key: &Option<PublicKey>, s: S) -> Result<S::Ok, S::Error> {
        match key {
            Some(k) => s.serialize_str(&super::to_hex(k)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PublicKey>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| super::from_hex("install_key", &t).map_err(serde::de::Error::custom))
            .transpose()
    }
}
