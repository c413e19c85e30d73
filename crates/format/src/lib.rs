//! The i3lic activation file: data model, text encoding, signing and strict verification.
//!
//! A file is UTF-8 text an administrator can read in an editor. Everything readable between
//! the begin marker and the signature block is signed; the signature is checked over the
//! received lines after normalising line endings and trailing blanks, never over a
//! re-encoding of the parsed contents. See `docs/FORMAT.md` in the repository for the
//! byte-level specification (enough to write a verifier in another language).
//!
//! # Reading a file
//!
//! [`UnverifiedFile::parse`] checks the armor only (size at most [`MAX_FILE_SIZE`], UTF-8,
//! markers, headers, signature encoding) and trusts nothing; [`UnverifiedFile::verify`] or
//! [`UnverifiedFile::verify_with`] checks the ed25519 signature strictly and only then reads the
//! payload into an [`Activation`]. [`VerifiedFile`] has no public constructor: holding one means
//! the signature was good. Each way a file can be wrong is its own [`FormatError`] variant.
//!
//! # Normalisation
//!
//! Received lines (split at LF) lose trailing spaces, tabs and CRs, and one leading byte-order
//! mark is dropped; nothing else is changed. So a file still verifies after CRLF conversion or
//! added trailing blanks, and any other change to a signed character makes it fail.
//!
//! # Versions and unknown fields
//!
//! The format version is in the `Format:` header and in the signed bytes. This build writes
//! `i3lic-activation/3` ([`FORMAT_VERSION`], [`sign`]) and reads versions 1, 2 and 3
//! ([`FormatVersion`]); [`sign_v1`] and [`sign_v2`] still write the older versions for servers
//! that read only those. A
//! file of another version is refused with [`FormatError::UnsupportedVersion`], never read by
//! guesswork. **Each version is closed**: a payload member it does not define is refused with
//! [`FormatError::UnknownField`] even when the signature is good, a member given twice with
//! [`FormatError::DuplicateField`] and a member left out with [`FormatError::MissingField`]
//! (optional values are written as `null`). New members only ever come with a new format
//! version, so a server never silently ignores a license term it does not understand.
//! Version 2 adds the update chain ([`Chain`]: `lineage` and `generation`, which decide
//! rollback), the license [`Rules`] of the file's keys, and the form of each host's code.
//! Version 3 adds each host's install key ([`Host::install_key`]): the public key of the
//! license store a file was issued for (from a request code), which signs the store's
//! [`receipt`] when it releases the file.
//!
//! Every value has one spelling: a reader refuses what no writer writes (a host-ID code not
//! in its printed form, a number starting with `-0`, a JSON escape other than `\"` and `\\`,
//! refused characters, an unsorted rule set, an expiry after [`Timestamp::PERPETUAL`]).
//!
//! The refused characters ([`text::is_refused_char`]: controls, bidirectional overrides,
//! zero-width characters, line separators ...) are the one list the other crates use too: the
//! issuer, the portal and the allocation store refuse them in names, and every binary escapes
//! them when it prints ([`text::escape_refused`]).
//!
//! ```
//! use format::{sign, Activation, Chain, FileId, FormatVersion, Host, LicenseCount, LicenseType,
//!              SecretKey, Timestamp, UnverifiedFile};
//! use hostid::{Components, HostId};
//!
//! let key = SecretKey::generate();
//! let host = HostId::from_components(&Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     ..Default::default()
//! })?;
//! let now = Timestamp::now();
//! let id = FileId::random();
//! let activation = Activation {
//!     file_id: id,
//!     supersedes: None,
//!     chain: Some(Chain::first(id)),
//!     product: "CIC".into(),
//!     product_version: "4.0".into(),
//!     license_type: LicenseType::Production,
//!     issued_at: now,
//!     valid_from: now,
//!     expires_at: Timestamp::PERPETUAL,
//!     grace_days: 30,
//!     generated_by: "Work Test80".into(),
//!     sold_to: "Contoso".into(),
//!     install_site: "HQ".into(),
//!     primary_host: Host { host_id: host, machine: "ic1".into(), install_key: None },
//!     switchover_host: None,
//!     system_type: "Media Server Based (4.0+ only)".into(),
//!     mail_connector: "Microsoft Exchange Server".into(),
//!     bundle: "CIC 4.0 Production Bundle".into(),
//!     description: "Used in production settings.".into(),
//!     features: vec!["I3_FEATURE_SIP".into()],
//!     licenses: vec![LicenseCount { name: "I3_ACCESS_CLIENT".into(), assigned: 170, pooled: 0 }],
//!     ordered_items: vec![],
//!     restrictions: vec![],
//!     rules: Default::default(),
//! };
//! let text = sign(&activation, &key)?;
//!
//! // A server: parse without trusting, then verify against its trusted keys.
//! let verified = UnverifiedFile::parse(text.replace('\n', "\r\n").as_bytes())?
//!     .verify_with([key.public_key()])?;
//! assert_eq!(verified.activation(), &activation);
//! assert_eq!(verified.version(), FormatVersion::V3);
//!
//! // Any change to a signed value is refused.
//! let forged = text.replace("\"ic1\"", "\"ic2\"");
//! assert!(UnverifiedFile::parse(forged.as_bytes())?.verify(key.public_key()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod file;
pub mod install_key;
mod keys;
mod model;
mod payload;
pub mod receipt;
mod rules;
pub mod text;
mod time;

pub use error::FormatError;
pub use file::{
    sign, sign_payload_text, sign_payload_text_as, sign_v1, sign_v2, signing_context, verify_bytes,
    UnverifiedFile, VerifiedFile, BEGIN_MARKER, END_MARKER, FORMAT_VERSION, MAX_FILE_SIZE,
    SIGNATURE_MARKER, SIGNING_CONTEXT,
};
pub use keys::{KeyId, PublicKey, SecretKey, PUBLIC_KEY_TAG, SECRET_KEY_TAG};
pub use model::{
    Activation, Chain, FileId, FormatVersion, Host, LicenseCount, LicenseType, OrderedItem,
    Restriction, MAX_COUNT, MAX_LIST_LEN, MAX_TEXT_LEN,
};
pub use rules::{
    is_key_name, Excludes, Holder, Implies, KeyRule, Method, Requires, Rules, ALL_HOLDERS,
    ALL_METHODS, MAX_RULES, MAX_RULE_KEYS,
};
pub use text::is_refused_char;
pub use time::{Timestamp, DAY};

/// Re-export of the host-ID code type used in files.
pub use hostid::HostId;
