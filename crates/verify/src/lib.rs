//! What a licensed server links: load and verify an activation file, reload it while running,
//! query what it licenses.
//!
//! A server compiles its vendor's public keys in ([`TrustStore`]), builds a [`Verifier`] for
//! its product and version, and loads its activation file at startup. The only way to a
//! [`License`] is [`Verifier::load`]: the type has no public constructor, so holding one
//! means every check passed. A [`LicenseHandle`] shares the license across threads and swaps
//! in a new file atomically only when it verifies.
//!
//! ```
//! use format::{sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, Restriction,
//!              SecretKey, Timestamp};
//! use hostid::{Components, HostId};
//! use verify::{HostSource, LicenseHandle, TrustStore, Verifier, VerifyError};
//!
//! let host = HostId::from_components(&Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     ..Default::default()
//! })?;
//! let vendor = SecretKey::generate();
//! let now = Timestamp::now();
//! let id = FileId::random();
//! let activation = Activation {
//!     file_id: id,
//!     supersedes: None,
//!     chain: Some(Chain::first(id)),
//!     product: "CIC".into(),
//!     product_version: "4.0".into(),
//!     license_type: LicenseType::DevelopmentSmall,
//!     issued_at: now,
//!     valid_from: now,
//!     expires_at: now.plus_days(365),
//!     grace_days: 14,
//!     generated_by: "Work Test80".into(),
//!     sold_to: "Contoso".into(),
//!     install_site: "HQ".into(),
//!     primary_host: Host { host_id: host, machine: "dev1".into(), install_key: None },
//!     switchover_host: None,
//!     system_type: String::new(),
//!     mail_connector: String::new(),
//!     bundle: String::new(),
//!     description: "Development system.".into(),
//!     features: vec!["I3_FEATURE_SIP".into()],
//!     licenses: vec![LicenseCount { name: "I3_ACCESS_CLIENT".into(), assigned: 5, pooled: 2 }],
//!     ordered_items: vec![],
//!     restrictions: vec![Restriction::HourlyDisconnect],
//!     rules: Default::default(),
//! };
//! let file = sign(&activation, &vendor)?;
//!
//! // The server: trusted keys compiled in (here the test key), this product and version.
//! let trust = TrustStore::new([vendor.public_key().clone()])?;
//! let verifier = Verifier::for_product(trust, "CIC", "4.0").host(HostSource::Code(host));
//! let license = verifier.load(file.as_bytes())?;
//! assert!(license.hourly_disconnect());
//! assert_eq!((license.assigned("I3_ACCESS_CLIENT"), license.pooled("I3_ACCESS_CLIENT")), (5, 2));
//! assert_eq!(license.days_left_at(now), Some(365));
//!
//! // While running: a tampered file is refused and the current license stays.
//! let handle = LicenseHandle::new(verifier, license);
//! let tampered = file.replace("\"assigned\": 5", "\"assigned\": 500");
//! assert!(matches!(handle.reload(tampered.as_bytes()), Err(VerifyError::SignatureInvalid { .. })));
//! assert_eq!(handle.current().assigned("I3_ACCESS_CLIENT"), 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Check order
//!
//! [`Verifier::load`] checks, and stops at the first failure: size and syntax; the signing
//! key is trusted; the signature (ed25519 `verify_strict`) and then the signed payload;
//! product and version; host binding (primary, then switchover host, with the tolerant
//! `hostid::match_codes` rule); with a state file, the clock against the latest time seen;
//! the validity window (issuance, `valid_from`, expiry plus signed grace); with a state file,
//! rollback to an older or superseded file. Note that the format version sits in the file's
//! armor, so an unknown version is refused while parsing, before the key is looked up.
//!
//! # Exit codes
//!
//! [`VerifyError::exit_code`] maps every error to the table in DESIGN.md:
//!
//! | code | errors |
//! | --- | --- |
//! | 3 | [`VerifyError::Malformed`], [`VerifyError::UnsupportedVersion`], [`VerifyError::StateCorrupt`], trust store errors |
//! | 4 | [`VerifyError::Io`], [`VerifyError::NotRegularFile`], [`VerifyError::StateIo`], [`VerifyError::StateLocked`] |
//! | 10 | [`VerifyError::SignatureInvalid`] |
//! | 11 | [`VerifyError::UntrustedKey`] |
//! | 12 | [`VerifyError::HostMismatch`], [`VerifyError::HostUnreadable`] |
//! | 13 | [`VerifyError::Expired`] |
//! | 14 | [`VerifyError::NotYetValid`], [`VerifyError::ClockBeforeIssuance`], [`VerifyError::ClockSetBack`] |
//! | 15 | [`VerifyError::ProductMismatch`], [`VerifyError::VersionMismatch`] |
//! | 16 | [`VerifyError::OlderGeneration`], [`VerifyError::Superseded`], [`VerifyError::OlderFile`] (rollback; [`EXIT_ROLLBACK`]) |
//!
//! # State file
//!
//! With [`Verifier::state_file`], a server keeps a small JSON file holding the latest time
//! seen and the newest file accepted (its id and issuance) plus the ids it superseded. A
//! clock more than the tolerance (default 24 hours, [`DEFAULT_CLOCK_TOLERANCE_SECS`]) behind
//! the latest time seen is refused ([`VerifyError::ClockSetBack`]); within the tolerance the
//! validity window is checked at the latest time seen, so a small step back cannot stretch
//! an expiry. A file superseded by an accepted file, or issued before the newest accepted
//! file, is refused ([`VerifyError::Superseded`], [`VerifyError::OlderFile`]); the newest
//! file itself may be loaded again. Writes are atomic (temporary file, fsync, rename); a
//! missing file is a first start; a corrupt one is an error, never reset silently.
//!
//! Several processes may share a state file (a server and `licverify --state`): each update
//! holds an exclusive OS lock on a lock file beside it ([`StateFile::lock_path`],
//! `STATE.lock`, created 0600) from reading the state to writing it back, so no update is
//! lost; read-only checks hold a shared lock. A lock not released within
//! [`DEFAULT_LOCK_TIMEOUT`] (10 s, [`StateFile::with_lock_timeout`]) is
//! [`VerifyError::StateLocked`] (exit 4), never a hang.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod fsio;
mod handle;
mod license;
mod load;
mod state;
mod trust;

pub use error::{VerifyError, EXIT_ROLLBACK};
pub use fsio::{describe as describe_file_type, open_regular_file};
pub use handle::LicenseHandle;
pub use license::{HostRole, License, Warning, EXPIRING_SOON_DAYS};
pub use load::{read_file, version_matches, HostSource, ProductCheck, Verifier};
pub use state::{
    AcceptedFile, State, StateFile, DEFAULT_CLOCK_TOLERANCE_SECS, DEFAULT_LOCK_TIMEOUT,
    MAX_STATE_SIZE, MAX_SUPERSEDED, STATE_FORMAT,
};
pub use trust::{TrustStore, DEMO_PUBLIC_KEY};
