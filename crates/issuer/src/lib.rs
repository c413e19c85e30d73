//! The i3lic issuer: signing keys, the product catalog, the SQLite ledger of accounts,
//! install sites and ordered items, the rules of each license type, and issuing activation
//! files.
//!
//! ```
//! use issuer::{Catalog, IssueRequest, Ledger, PartQuantity, SiteDetails};
//! use format::{LicenseType, SecretKey, Timestamp};
//! use hostid::{Components, HostId};
//!
//! let dir = tempfile::tempdir()?;
//! let catalog = Catalog::built_in()?;
//! let mut ledger = Ledger::open(&dir.path().join("ledger.db"))?;
//! ledger.add_account("Contoso", "alice")?;
//! ledger.add_site("Contoso", "HQ", &SiteDetails::default(), "alice")?;
//! ledger.add_order(&catalog, "Contoso", "SW-001-4.0-SL03", 1, true, "alice")?;
//! ledger.add_order(&catalog, "Contoso", "SW-001-4.0-AL02", 50, true, "alice")?;
//!
//! let host = HostId::from_components(&Components {
//!     machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
//!     macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
//!     ..Default::default()
//! })?;
//! let request = IssueRequest {
//!     account: "Contoso".into(),
//!     site: "HQ".into(),
//!     product: "CIC".into(),
//!     version: "4.0".into(),
//!     license_type: LicenseType::Production,
//!     host_id: host.to_string(),
//!     machine: "ic1".into(),
//!     switchover_host_id: None,
//!     switchover_machine: None,
//!     switchover_part: None,
//!     server_part: "SW-001-4.0-SL03".into(),
//!     add: vec![PartQuantity { part: "SW-001-4.0-AL02".into(), quantity: 50 }],
//!     system_type: None,
//!     mail_connector: None,
//!     generated_by: "alice".into(),
//!     partner: false,
//!     related: None,
//! };
//! let key = SecretKey::generate();
//! let out = dir.path().join("ic1.i3lic");
//! let issued = ledger.issue(&catalog, &request, &key, Some(&out), Timestamp::now())?;
//! assert_eq!(issued.expires_at, Timestamp::PERPETUAL);
//! assert_eq!(std::fs::read(&out)?, ledger.file_bytes(&issued.file_id.to_string())?);
//!
//! // Nothing is left: a second file is refused and the ledger says why.
//! let refused = ledger.issue(&catalog, &request, &key, None, Timestamp::now());
//! assert!(matches!(refused, Err(issuer::IssuerError::NotEnough { .. })));
//! let summary = ledger.summary(&catalog, "Contoso", None)?;
//! let al02 = summary.parts.iter().find(|p| p.part == "SW-001-4.0-AL02").unwrap();
//! assert_eq!((al02.total, al02.used, al02.available), (50, 50, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod catalog;
mod error;
pub mod field;
pub mod fsio;
pub mod host_code;
pub mod keys;
pub mod ledger;
pub mod location;
pub mod rules;
pub mod suggest;

pub use catalog::{Catalog, CatalogError};
pub use error::IssuerError;
pub use ledger::{
    batch_file_name, AccountRef, Activity, ActivityFilter, ActivityRow, Answered, Attachment,
    AttachmentInfo, AuditProblem, AuditReport, AuditRow, Deactivated, DeactivationHow,
    DeactivationOutcome, FileDetails, ImportedFile, Issued, Ledger, LoosePermissions, NewRequest,
    OnceKey, OrderLine, PartSummary, PendingDeactivation, PortalSession, PortalToken, PortalUser,
    RehostAllowance, RequestRecord, Role, SessionLimits, Site, SiteDetails, SiteSummary, Summary,
    UpdateRequest, UpgradeSelection, UpgradedLine,
};
pub use rules::{IssueRequest, PartQuantity, Plan, Term, TypeRule};

/// Where the ledger lives when neither `--db` nor `I3LIC_DB` says:
/// `$XDG_DATA_HOME/i3lic/ledger.db`, else `$HOME/.local/share/i3lic/ledger.db`, else
/// `./i3lic-ledger.db`.
pub fn default_ledger_path() -> std::path::PathBuf {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
    };
    if let Some(d) = from("XDG_DATA_HOME") {
        return d.join("i3lic").join("ledger.db");
    }
    if let Some(h) = from("HOME") {
        return h
            .join(".local")
            .join("share")
            .join("i3lic")
            .join("ledger.db");
    }
    std::path::PathBuf::from("i3lic-ledger.db")
}
