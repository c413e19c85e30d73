//! `load`: every check, in order, from bytes to a [`License`].

use std::io::Read;
use std::path::Path;

use format::{Activation, HostId, Timestamp, UnverifiedFile, MAX_FILE_SIZE};
use hostid::MatchReport;

use crate::error::{from_format, VerifyError};
use crate::license::{grace_end, HostRole, License, Warning};
use crate::state::{LockMode, StateFile};
use crate::trust::{is_demo_key, TrustStore};

/// Which machine the host binding is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// This machine, read with `hostid::current_strong()` at every load (the default): its
    /// strong code, which checks files bound to either form.
    ThisMachine,
    /// A given host-ID code (`licverify --host-id`, tests, or a server that probed once).
    Code(HostId),
}

/// Which product and version the file must license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductCheck {
    /// The file must license this product and version (what a server uses).
    ///
    /// The product must be equal. The version must be equal, or the server's version must
    /// extend the file's with a dot: a file for `4.0` licenses a server at `4.0` or `4.0.3`,
    /// but not `4.01`, `4.1` or `4`.
    Expect {
        /// The product (`CIC`).
        product: String,
        /// The server's version (`4.0`, `4.0.3`).
        version: String,
    },
    /// Any product (inspection tools such as `licverify` without `--product`).
    Any,
}

/// Whether a file for version `file` licenses a server at version `server`.
pub fn version_matches(file: &str, server: &str) -> bool {
    server == file
        || server
            .strip_prefix(file)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
}

/// The checks a server (or `licverify`) applies, and the only way to a [`License`].
///
/// ```
/// use format::{sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, SecretKey, Timestamp};
/// use hostid::{Components, HostId};
/// use verify::{HostRole, HostSource, TrustStore, Verifier, VerifyError};
///
/// # let components = Components {
/// #     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
/// #     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
/// #     ..Default::default()
/// # };
/// let host = HostId::from_components(&components)?;
/// # let key = SecretKey::generate();
/// # let now = Timestamp::now();
/// # let id = FileId::random();
/// # let activation = Activation {
/// #     file_id: id, supersedes: None, chain: Some(Chain::first(id)),
/// #     product: "CIC".into(), product_version: "4.0".into(),
/// #     license_type: LicenseType::Production, issued_at: now, valid_from: now,
/// #     expires_at: Timestamp::PERPETUAL, grace_days: 0, generated_by: "Work Test80".into(),
/// #     sold_to: "Contoso".into(), install_site: "HQ".into(),
/// #     primary_host: Host { host_id: host, machine: "ic1".into(), install_key: None }, switchover_host: None,
/// #     system_type: String::new(), mail_connector: String::new(), bundle: String::new(),
/// #     description: String::new(), features: vec!["I3_FEATURE_SIP".into()],
/// #     licenses: vec![LicenseCount { name: "I3_ACCESS_CLIENT".into(), assigned: 170, pooled: 5 }],
/// #     ordered_items: vec![], restrictions: vec![], rules: Default::default(),
/// # };
/// let file = sign(&activation, &key)?; // what the vendor sends
///
/// // In the server: keys compiled in, product and version of this build.
/// let trust = TrustStore::new([key.public_key().clone()])?;
/// let verifier = Verifier::for_product(trust, "CIC", "4.0.3").host(HostSource::Code(host));
/// let license = verifier.load(file.as_bytes())?;
/// assert_eq!(license.role(), HostRole::Primary);
/// assert_eq!(license.assigned("I3_ACCESS_CLIENT"), 170);
/// assert!(license.has_feature("I3_FEATURE_SIP"));
///
/// // Another product is refused with its own error.
/// let other = Verifier::for_product(TrustStore::new([key.public_key().clone()])?, "XYZ", "4.0")
///     .host(HostSource::Code(host));
/// assert!(matches!(other.load(file.as_bytes()), Err(VerifyError::ProductMismatch { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    trust: TrustStore,
    product: ProductCheck,
    host: HostSource,
    at: Option<Timestamp>,
    state: Option<StateFile>,
    record: bool,
}

impl Verifier {
    /// A verifier for a server: files must license `product` at `version` (see
    /// [`ProductCheck::Expect`]), checked as this machine, at the current time.
    pub fn for_product(
        trust: TrustStore,
        product: impl Into<String>,
        version: impl Into<String>,
    ) -> Verifier {
        Verifier::new(
            trust,
            ProductCheck::Expect {
                product: product.into(),
                version: version.into(),
            },
        )
    }

    /// A verifier with an explicit product check, as this machine, at the current time.
    pub fn new(trust: TrustStore, product: ProductCheck) -> Verifier {
        Verifier {
            trust,
            product,
            host: HostSource::ThisMachine,
            at: None,
            state: None,
            record: true,
        }
    }

    /// Check the host binding against `host` instead of this machine.
    pub fn host(mut self, host: HostSource) -> Verifier {
        self.host = host;
        self
    }

    /// Check the validity window at `at` instead of the current time.
    pub fn at(mut self, at: Timestamp) -> Verifier {
        self.at = Some(at);
        self
    }

    /// Keep a state file: refuse a clock set back beyond its tolerance and a file older
    /// than, or superseded by, the newest accepted one; record each accepted file.
    pub fn state_file(mut self, state: StateFile) -> Verifier {
        self.state = Some(state);
        self
    }

    /// Check against the state file without recording anything in it (inspection).
    pub fn state_read_only(mut self) -> Verifier {
        self.record = false;
        self
    }

    /// The trust store.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The state file, if one is kept.
    pub fn state(&self) -> Option<&StateFile> {
        self.state.as_ref()
    }

    /// The time the checks use: the one given with [`Verifier::at`], else now.
    pub fn now(&self) -> Timestamp {
        self.at.unwrap_or_else(Timestamp::now)
    }

    /// Read a file (at most [`format::MAX_FILE_SIZE`] bytes are read) and [`Verifier::load`] it.
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<License, VerifyError> {
        let bytes = read_file(path.as_ref());
        let result = bytes.and_then(|b| self.load_checked(&b));
        log_outcome(&result, Some(path.as_ref()));
        result
    }

    /// Check a file and return the license it grants. The checks, in order:
    ///
    /// 1. size and syntax (at most 1 MiB, UTF-8, armor, format version header);
    /// 2. the signing key is in the trust store;
    /// 3. the signature, strictly (`verify_strict`), then the signed payload's syntax and values;
    /// 4. product and version ([`ProductCheck`]);
    /// 5. host binding: the machine matches the primary host, else the switchover host
    ///    (`hostid::match_codes`); the license says which;
    /// 6. with a state file: the clock is not set back beyond the tolerance;
    /// 7. validity window at `max(now, latest time seen)`: not before issuance
    ///    ([`VerifyError::ClockBeforeIssuance`]), not before `valid_from`, not after
    ///    `expires_at` plus the signed grace period (in grace: accepted with a warning);
    /// 8. with a state file: rollback. The file is not superseded by an accepted file; a
    ///    version-2 file's generation is not below (nor, as another file, equal to) the
    ///    newest accepted from its lineage, whatever the timestamps say; a version-1 file is
    ///    not issued before the newest file accepted. Then the state is recorded
    ///    (atomically). Steps 6 to 8 hold the
    ///    state lock ([`crate::StateFile::lock_path`]), exclusive when recording, shared for
    ///    [`Verifier::state_read_only`], so other processes' updates are never lost.
    ///
    /// Emits a `tracing` event for the outcome (loaded / rejected) and one per warning.
    pub fn load(&self, bytes: &[u8]) -> Result<License, VerifyError> {
        let result = self.load_checked(bytes);
        log_outcome(&result, None);
        result
    }

    fn load_checked(&self, bytes: &[u8]) -> Result<License, VerifyError> {
        // 1. Size and syntax.
        let unverified = UnverifiedFile::parse(bytes).map_err(from_format)?;
        // 2. Key trusted.
        let key_id = unverified.key_id();
        let key = self
            .trust
            .get(key_id)
            .ok_or_else(|| VerifyError::UntrustedKey {
                key_id,
                trusted: self.trust.key_ids(),
            })?;
        // 3. Signature (strict), then the payload.
        let verified = unverified.verify(key).map_err(from_format)?;
        let demo = is_demo_key(key);
        let version = verified.version();
        let activation = verified.into_activation();
        // 4. Product and version.
        self.check_product(&activation)?;
        // 5. Host binding.
        let (role, host_match) = self.check_host(&activation)?;
        // 6. Clock against the state file.
        let now = self.now();
        // Held from reading the state to writing it (dropped at the end of this function).
        let _state_lock = self
            .state
            .as_ref()
            .map(|sf| sf.lock(self.lock_mode()))
            .transpose()?;
        let mut state = match &self.state {
            Some(sf) => {
                let st = sf.read_or_fresh(now)?;
                st.check_clock(now, sf.tolerance_secs(), sf.path())?;
                Some((sf, st))
            }
            None => None,
        };
        let effective = state
            .as_ref()
            .map_or(now, |(_, st)| now.max(st.latest_seen()));
        // 7. Validity window.
        check_window(&activation, effective)?;
        // 8. Rollback against the state file, then record.
        if let Some((sf, st)) = state.as_mut() {
            st.check_file(&activation)?;
            if self.record {
                st.record(now, &activation);
                sf.write(st)?;
            }
        }
        Ok(License::new(
            version,
            activation,
            key_id,
            (role, host_match),
            effective,
            demo,
        ))
    }

    /// Exclusive when this verifier records into its state file, shared when it only checks.
    fn lock_mode(&self) -> LockMode {
        if self.record {
            LockMode::Update
        } else {
            LockMode::Check
        }
    }

    fn check_product(&self, a: &Activation) -> Result<(), VerifyError> {
        if let ProductCheck::Expect { product, version } = &self.product {
            if a.product != *product {
                return Err(VerifyError::ProductMismatch {
                    expected: product.clone(),
                    found: a.product.clone(),
                });
            }
            if !version_matches(&a.product_version, version) {
                return Err(VerifyError::VersionMismatch {
                    product: a.product.clone(),
                    expected: version.clone(),
                    found: a.product_version.clone(),
                });
            }
        }
        Ok(())
    }

    fn check_host(&self, a: &Activation) -> Result<(HostRole, MatchReport), VerifyError> {
        let found = match self.host {
            HostSource::Code(c) => c,
            // The strong code checks both kinds of binding: a short binding is compared
            // with the short code it contains (`hostid::match_codes`).
            HostSource::ThisMachine => {
                hostid::current_strong().map_err(VerifyError::HostUnreadable)?
            }
        };
        host_role(a, &found).ok_or_else(|| VerifyError::HostMismatch {
            found: Box::new(found),
            primary: Box::new(a.primary_host.host_id),
            switchover: a.switchover_host.as_ref().map(|h| Box::new(h.host_id)),
        })
    }

    /// Record the current time in the state file without loading a file (a server calls
    /// this periodically, so the latest time seen keeps up while it runs). Refuses, and
    /// records nothing, when the clock was set back beyond the tolerance. No-op without a
    /// state file.
    pub fn record_time(&self) -> Result<(), VerifyError> {
        let Some(sf) = &self.state else {
            return Ok(());
        };
        let now = self.now();
        let _lock = sf.lock(self.lock_mode())?;
        let mut st = sf.read_or_fresh(now)?;
        st.check_clock(now, sf.tolerance_secs(), sf.path())?;
        if self.record {
            st.record_time(now);
            sf.write(&st)?;
        }
        Ok(())
    }
}

/// The role `found` matches in the file, the primary host first, with how it matched.
fn host_role(a: &Activation, found: &HostId) -> Option<(HostRole, MatchReport)> {
    let primary = hostid::match_codes(&a.primary_host.host_id, found);
    if primary.is_match() {
        return Some((HostRole::Primary, primary));
    }
    a.switchover_host
        .as_ref()
        .map(|s| hostid::match_codes(&s.host_id, found))
        .filter(MatchReport::is_match)
        .map(|r| (HostRole::Switchover, r))
}

fn check_window(a: &Activation, now: Timestamp) -> Result<(), VerifyError> {
    if now < a.issued_at {
        return Err(VerifyError::ClockBeforeIssuance {
            issued_at: a.issued_at,
            now,
        });
    }
    if now < a.valid_from {
        return Err(VerifyError::NotYetValid {
            valid_from: a.valid_from,
            now,
        });
    }
    let grace_ends = grace_end(a);
    if now > grace_ends {
        return Err(VerifyError::Expired {
            expires_at: a.expires_at,
            grace_days: a.grace_days,
            grace_ends,
            now,
        });
    }
    Ok(())
}

/// Read an activation file as [`Verifier::load_file`] does: at most [`MAX_FILE_SIZE`] + 1
/// bytes, so an oversized file is refused without being read whole; anything but a regular
/// file (a FIFO, which would block, or a device such as `/dev/zero`) is refused before it is
/// opened ([`VerifyError::NotRegularFile`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>, VerifyError> {
    let io = |source| VerifyError::Io {
        path: path.to_owned(),
        source,
    };
    let (file, meta) = crate::fsio::open_regular(path, crate::fsio::Links::Follow)
        .map_err(|e| e.into_verify("activation file", path, io))?;
    let mut buf = Vec::new();
    file.take(MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    if buf.len() > MAX_FILE_SIZE {
        let size = usize::try_from(meta.len())
            .ok()
            .filter(|s| *s > MAX_FILE_SIZE)
            .unwrap_or(buf.len());
        return Err(VerifyError::Malformed(format::FormatError::TooLarge {
            size,
            max: MAX_FILE_SIZE,
        }));
    }
    Ok(buf)
}

pub(crate) fn log_outcome(result: &Result<License, VerifyError>, path: Option<&Path>) {
    let path = path.map(|p| p.display().to_string()).unwrap_or_default();
    match result {
        Ok(l) => {
            tracing::info!(
                target: "i3lic::verify",
                event = "loaded",
                path = %path,
                file_id = %l.file_id(),
                product = l.product(),
                version = l.product_version(),
                license_type = %l.license_type(),
                role = %l.role(),
                expires_at = %l.expires_at(),
                in_grace = l.in_grace(),
                "activation file loaded"
            );
            for w in l.warnings() {
                match w {
                    Warning::ExpiringSoon {
                        expires_at,
                        days_left,
                    } => tracing::warn!(
                        target: "i3lic::verify",
                        event = "expiring-soon",
                        file_id = %l.file_id(),
                        expires_at = %expires_at,
                        days_left = *days_left,
                        "{w}"
                    ),
                    Warning::InGrace {
                        grace_ends,
                        days_left,
                        ..
                    } => tracing::warn!(
                        target: "i3lic::verify",
                        event = "in-grace",
                        file_id = %l.file_id(),
                        grace_ends = %grace_ends,
                        days_left = *days_left,
                        "{w}"
                    ),
                    Warning::DemoKey { .. } => tracing::warn!(
                        target: "i3lic::verify",
                        event = "demo-key",
                        file_id = %l.file_id(),
                        "{w}"
                    ),
                }
            }
        }
        Err(e) => tracing::warn!(
            target: "i3lic::verify",
            event = "rejected",
            path = %path,
            reason = e.kind(),
            exit_code = e.exit_code(),
            "activation file rejected: {e}"
        ),
    }
}
