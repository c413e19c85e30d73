//! Serde helpers that accept a [`HostId`] only in its printed form.
//!
//! [`HostId`]'s own `Deserialize` is lenient, like its `FromStr` (what a person types). A
//! signed file wants one spelling per value; with
//! `#[serde(with = "hostid::canonical")]` on a `HostId` field, deserialising goes through
//! [`HostId::parse_canonical`] instead, and serialising writes the printed form.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Host {
//!     #[serde(with = "hostid::canonical")]
//!     host_id: hostid::HostId,
//! }
//!
//! let ok: Host = serde_json::from_str(r#"{"host_id": "1Q2H4-74KMZ-KWXDV-8K000-00KZQ"}"#)?;
//! assert_eq!(ok.host_id.to_string(), "1Q2H4-74KMZ-KWXDV-8K000-00KZQ");
//! assert!(serde_json::from_str::<Host>(r#"{"host_id": "1q2h4-74kmz-kwxdv-8k000-00kzq"}"#).is_err());
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::HostId;

/// Write the printed form (the same as `HostId`'s own `Serialize`).
pub fn serialize<S: serde::Serializer>(id: &HostId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Read a string with [`HostId::parse_canonical`].
pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<HostId, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    HostId::parse_canonical(&s).map_err(serde::de::Error::custom)
}
