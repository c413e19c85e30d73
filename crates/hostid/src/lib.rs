//! Host-ID codes for i3lic.
//!
//! A customer runs `gethostid` on a server before ordering; the printed code goes into the
//! order, and the activation file is bound to it. At startup the server reads itself again
//! ([`current`], feature `machine`) and compares the two codes with [`match_codes`].
//!
//! # The code
//!
//! `1Q2H4-74KMZ-KWXDV-8K000-00KZQ`: 25 Crockford base32 symbols in five groups of five.
//!
//! | symbols | content |
//! | --- | --- |
//! | 1 | version (`1`) |
//! | 1 | flags: which components the code carries |
//! | 5 | machine identity fingerprint (25 bits) |
//! | 5 | DMI product UUID fingerprint (25 bits) |
//! | 5 + 5 | the two smallest MAC address fingerprints (25 bits each) |
//! | 2 | CPU vendor + brand fingerprint (10 bits) |
//! | 1 | check symbol |
//!
//! Absent components are zero and flagged as absent. Parsing ([`HostId`]'s `FromStr`) ignores
//! case, dashes and spaces, and reads the look-alikes `O`, `I`, `L` as `0`, `1`, `1`. The check
//! symbol is a weighted sum over GF(32), so **every** single wrong symbol and **every** swap of
//! two different neighbouring symbols is refused ([`CodeError::CheckFailed`]); the tests try
//! them all. A code needs at least [`MIN_STRONG_COMPONENTS`] strong components (machine
//! identity, DMI UUID, MAC set); with fewer, [`HostId::from_components`] and [`current`] refuse
//! with [`CodeError::TooFewComponents`] rather than produce a code another machine could share.
//!
//! # Privacy
//!
//! Each component is hashed with SHA-256 under its own domain separator
//! (`i3lic/hostid/v1/<kind>\0`) and truncated, so a code carries no raw identifier and
//! fingerprints of different kinds cannot be compared with each other. `gethostid --json` and
//! [`Components`]' `Debug` output name the kinds found, never their values. The fingerprints
//! are short and unkeyed: the random 128-bit machine identity cannot be recovered from 25 bits,
//! but an identifier with little entropy can be confirmed by trying candidates (a MAC address
//! with a known vendor prefix has 24 free bits). Treat a code as no more secret than the MAC
//! addresses of the machine; never as a secret.
//!
//! # Tolerant matching
//!
//! [`match_codes`]`(expected, found)` is the one rule every caller uses (the verifier,
//! `licverify --host-id`). Only components present in **both** codes are compared. The MAC
//! sets are equal when the codes share at least one MAC fingerprint. The codes match when
//!
//! 1. at least two **strong** components (machine identity, DMI UUID, MAC set) are equal, and
//! 2. at most one compared component (strong or the weak CPU) differs.
//!
//! So:
//!
//! - a network card replaced, or one added or removed, with the other strong components equal:
//!   **match** (the MAC set still shares a fingerprint, or it is the one difference);
//! - a clone copied from an image (same machine identity and CPU model, different DMI UUID and
//!   MACs): **no match** (one strong component equal, two differ);
//! - the same machine checked by a process that cannot read the DMI UUID (root-only on Linux):
//!   **match** when the machine identity and MACs are equal, as the DMI UUID is not compared;
//! - only the CPU equal: **never a match** (the CPU is weak and never counts towards rule 1).
//!
//! ```
//! use hostid::{Components, HostId, match_codes};
//!
//! let server = Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     cpu: Some("GenuineIntel Xeon Gold 6230".into()),
//! };
//! let ordered = HostId::from_components(&server)?;
//! assert_eq!(ordered.to_string(), "1Q2H4-74KMZ-KWXDV-8K000-00KZQ"); // the wire format is fixed
//!
//! // What the customer typed into the order form: lower case, still the same code.
//! let typed: HostId = ordered.to_string().to_lowercase().parse()?;
//! assert_eq!(typed, ordered);
//!
//! // The network card was replaced: still this server.
//! let new_nic = Components { macs: vec![[0x00, 0x1b, 0x21, 0x99, 0x88, 0x77]], ..server.clone() };
//! assert!(match_codes(&ordered, &HostId::from_components(&new_nic)?).is_match());
//!
//! // A clone of its disk image on other hardware: not this server.
//! let clone = Components {
//!     dmi_uuid: Some("9b1e3f00-1111-4a2b-9c3d-0123456789ab".into()),
//!     macs: vec![[0x00, 0x50, 0x56, 0x01, 0x02, 0x03]],
//!     ..server.clone()
//! };
//! assert!(!match_codes(&ordered, &HostId::from_components(&clone)?).is_match());
//! # Ok::<(), hostid::CodeError>(())
//! ```
//!
//! # Features
//!
//! `machine` (default) adds [`current`], the [`machine`] module and the `gethostid` binary, and
//! pulls in sysinfo. Parsers and matchers (the activation-file crate) use
//! `default-features = false` and link none of it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod canonical;
mod code;
mod error;
#[cfg(feature = "machine")]
pub mod machine;

pub use code::{
    match_codes, validate, CodeForm, ComponentKind, ComponentMatch, Components, HostId,
    MatchReport, ALPHABET, CODE_VERSION, MAX_INPUT_LEN, MIN_STRONG_COMPONENTS, STRONG_CODE_VERSION,
    STRONG_SYMBOLS, SYMBOLS,
};
pub use error::{CodeError, SpellingDifference};
#[cfg(feature = "machine")]
pub use machine::{current, current_strong};
