//! Host-ID codes for i3lic.
//!
//! A customer runs `gethostid` on a server before ordering; the printed code goes into the
//! order, and the activation file is bound to it. At startup the server reads itself again
//! ([`current_strong`], feature `machine`) and compares the code the file is bound to with
//! what it read, using [`match_codes`]. The byte-level specification of both forms, for a
//! reader in another language, is `docs/HOSTID.md`.
//!
//! # Two forms
//!
//! A code comes in one of two forms ([`CodeForm`]), made from the same components with the
//! same rule:
//!
//! - the **short** code, `1Q2H4-74KMZ-KWXDV-8K000-00KZQ`: 25 symbols, typed by customers;
//!   25-bit fingerprints, which can be inverted in seconds (see *Threat model*);
//! - the **strong** code,
//!   `2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T`: 60 symbols,
//!   pasted or uploaded rather than typed (`gethostid --strong`); 65-bit fingerprints, so the
//!   code printed in an activation file is not enough to build a machine that matches it.
//!
//! Both are Crockford base32 ([`ALPHABET`]) in dash-separated groups of five; the first symbol
//! is the version and tells the forms apart (`1` short, `2` strong), the last is a check
//! symbol. Each fingerprint is the leading bits of `SHA-256(domain || value)`, written most
//! significant symbol first, and a strong fingerprint is a longer prefix of the **same**
//! digest a short one is cut from, so a strong code determines its short code
//! ([`HostId::to_short`]): field by field, the short code's symbols are the first symbols of
//! the strong code's.
//!
//! | symbols (short) | symbols (strong) | content |
//! | --- | --- | --- |
//! | 1 | 1 | version: `1` short, `2` strong |
//! | 1 | 1 | flags: which components the code carries |
//! | 5 (25 bits) | 13 (65 bits) | machine identity fingerprint |
//! | 5 (25 bits) | 13 (65 bits) | DMI product UUID fingerprint |
//! | 5 + 5 | 13 + 13 | the two smallest MAC address fingerprints |
//! | 2 (10 bits) | 5 (25 bits) | CPU vendor + brand fingerprint (weak) |
//! | 1 | 1 | check symbol |
//! | 25, printed in 29 characters | 60, printed in 71 characters | |
//!
//! Absent components are zero and flagged as absent. Parsing ([`HostId`]'s `FromStr`) takes
//! either form, ignores case, dashes and spaces, and reads the look-alikes `O`, `I`, `L` as
//! `0`, `1`, `1`; [`HostId::parse_canonical`] takes only the printed form, so that an
//! activation file spells every host ID one way. The check symbol is a weighted sum over
//! GF(32), so **every** single wrong symbol and **every** swap of two different neighbouring
//! symbols is refused ([`CodeError::CheckFailed`]), in either form; the tests try them all. A
//! code needs at least [`MIN_STRONG_COMPONENTS`] strong components (machine identity, DMI
//! UUID, MAC set); with fewer, [`HostId::from_components`], [`HostId::strong_from_components`]
//! and [`current`] refuse with [`CodeError::TooFewComponents`] rather than produce a code
//! another machine could share.
//!
//! # Privacy
//!
//! Each component is hashed with SHA-256 under its own domain separator
//! (`i3lic/hostid/v1/<kind>\0`, the same for both forms) and truncated, so a code carries no
//! raw identifier and fingerprints of different kinds cannot be compared with each other.
//! `gethostid --json` and [`Components`]' `Debug` output name the kinds found, never their
//! values. The fingerprints are unkeyed: the random 128-bit machine identity cannot be
//! recovered from 25 or 65 bits, but an identifier with little entropy can be confirmed by
//! trying candidates, whatever the fingerprint's length (a MAC address with a known vendor
//! prefix has 24 free bits). Treat a code as no more secret than the MAC addresses of the
//! machine; never as a secret.
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
//! Forms: two strong codes are compared on their 65-bit fingerprints; a short expected code
//! is compared with the short code of a strong one found (a strong reading checks a short
//! binding); a strong expected code **never** matches a short code found
//! ([`MatchReport::form_mismatch`]): a short code cannot prove a strong binding.
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
//!
//! // The strong form of the same server, and the short code derived from it.
//! let strong = HostId::strong_from_components(&server)?;
//! assert_eq!(
//!     strong.to_string(),
//!     "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T"
//! );
//! assert_eq!(strong.to_short(), ordered);
//! assert!(match_codes(&ordered, &strong).is_match()); // a strong reading, a short binding
//! assert!(!match_codes(&strong, &ordered).is_match()); // never the other way round
//! assert!(match_codes(&strong, &ordered).form_mismatch());
//! # Ok::<(), hostid::CodeError>(())
//! ```
//!
//! # Threat model
//!
//! Host binding stops one thing: **copying an activation file to another machine** when all
//! one has is the file (or its host-ID code). The checking machine reads its own identifiers
//! and they must match the code in the file.
//!
//! It cannot stop a customer who controls the original machine: its identifiers can be read
//! there and cloned onto another machine (`/etc/machine-id` is a file, MAC addresses can be
//! set, and a virtual machine's DMI UUID is whatever its configuration says). Host binding is
//! not a secret and not an authentication of hardware; a code is public (it is printed in the
//! file), and clones made with access to the original are out of its reach.
//!
//! Within that model, the short form is too weak where forgery matters: its 25-bit
//! fingerprints can be inverted in seconds. Given only a short code, a machine identity whose
//! 25-bit fingerprint matches takes about 2^25 SHA-256 (on average; 5.9 s on one core in
//! `tests/forgery.rs`, which runs the attack), and a MAC with a known vendor prefix at most
//! 2^24; write them into a machine, and it matches. Use the strong form where a forged
//! machine matters; keep the short form for what a person types.
//!
//! # Work factor of the strong form
//!
//! A matching machine needs two strong components equal. The MAC set is no obstacle at any
//! fingerprint length: a MAC with a known vendor prefix is recovered from its 65-bit
//! fingerprint with at most 2^24 hashes (the forgery test does it). So the bound is a
//! preimage of the **machine identity or DMI UUID** fingerprint: 65 bits, 2^65 ≈ 3.7 × 10^19
//! SHA-256 expected (at least 2^64 for any 64-bit fingerprint). At 10^10 hashes a second
//! (about one current high-end GPU) that is 117 years (58 years for 2^64); on one core of
//! the development machine (8.5 × 10^6 machine-identity hashes a second, measured by the
//! forgery test) about 140,000 years. The
//! bound holds only for identifiers with at least that much entropy: a random 128-bit machine
//! identity has; a DMI UUID that a vendor derives from a serial number (some do) has only as
//! many bits as the serial, and then the UUID's fingerprint can be found by enumerating
//! serials. The bound applies per code: an attacker who wants any one of N files is N times
//! faster.
//!
//! # Features
//!
//! `machine` (default) adds [`current`], [`current_strong`], the [`machine`] module and the
//! `gethostid` binary, and pulls in sysinfo. Parsers and matchers (the activation-file crate) use
//! `default-features = false` and link none of it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod canonical;
mod code;
mod error;
#[cfg(feature = "machine")]
pub mod machine;
pub mod request;

pub use code::{
    match_codes, validate, CodeForm, ComponentKind, ComponentMatch, Components, HostId,
    MatchReport, ALPHABET, CODE_VERSION, MAX_INPUT_LEN, MIN_STRONG_COMPONENTS, STRONG_CODE_VERSION,
    STRONG_SYMBOLS, SYMBOLS,
};
pub use error::{CodeError, SpellingDifference};
#[cfg(feature = "machine")]
pub use machine::{current, current_strong};
pub use request::{
    looks_like_request_code, RequestCode, RequestCodeError, REQUEST_CODE_VERSION,
    REQUEST_PRINTED_LEN, REQUEST_SYMBOLS,
};
