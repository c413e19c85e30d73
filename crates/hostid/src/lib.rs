//! Host-ID codes for i3lic.
//!
//! A customer runs `gethostid` on a server before ordering; the printed code goes into the
//! order, and the activation file is bound to it. The code is built from several machine
//! components, each hashed with a domain separator, so it reveals no raw identifier.
//!
//! ```
//! use hostid::{Components, HostId, match_codes};
//!
//! let ordered = HostId::from_components(&Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     cpu: Some("GenuineIntel Xeon Gold 6230".into()),
//! })?;
//! let typed: HostId = ordered.to_string().to_lowercase().parse()?;
//! assert_eq!(typed, ordered);
//! assert!(match_codes(&ordered, &typed).is_match());
//! # Ok::<(), hostid::CodeError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod code;
mod error;
#[cfg(feature = "machine")]
pub mod machine;

pub use code::{
    match_codes, validate, ComponentKind, ComponentMatch, Components, HostId, MatchReport,
    ALPHABET, CODE_VERSION, MAX_INPUT_LEN, MIN_STRONG_COMPONENTS, SYMBOLS,
};
pub use error::CodeError;
#[cfg(feature = "machine")]
pub use machine::current;
