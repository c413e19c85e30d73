//! Shared helpers for the issuer's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use format::LicenseType;
use hostid::{Components, HostId};
use issuer::{Catalog, IssueRequest, Ledger, PartQuantity, SiteDetails};

/// A valid host-ID code, different for each `n`.
pub fn host(n: u8) -> String {
    HostId::from_components(&Components {
        machine_id: Some(format!("{n:02x}1e2d3c4b5a69788796a5b4c3d2e1f0")),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .expect("two strong components make a code")
    .to_string()
}

/// A ledger with account "Contoso", active site "HQ" and inactive site "Old".
pub fn ledger(dir: &Path) -> (Ledger, Catalog) {
    let catalog = Catalog::built_in().expect("built-in catalog");
    let mut l = Ledger::open(&dir.join("ledger.db")).expect("open ledger");
    l.add_account("Contoso", "test").unwrap();
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "test")
        .unwrap();
    l.add_site("Contoso", "Old", &SiteDetails::default(), "test")
        .unwrap();
    l.set_site_active("Contoso", "Old", false, "test").unwrap();
    (l, catalog)
}

/// A production request for SL03 with the given add-ons.
pub fn request(t: LicenseType, server: &str, add: &[(&str, u32)]) -> IssueRequest {
    IssueRequest {
        account: "Contoso".into(),
        site: "HQ".into(),
        product: "CIC".into(),
        version: "4.0".into(),
        license_type: t,
        host_id: host(1),
        machine: "ic1".into(),
        switchover_host_id: None,
        switchover_machine: None,
        switchover_part: None,
        server_part: server.into(),
        add: add
            .iter()
            .map(|(p, q)| PartQuantity {
                part: (*p).into(),
                quantity: *q,
            })
            .collect(),
        system_type: Some("Media Server Based (4.0+ only)".into()),
        mail_connector: Some("Microsoft Exchange Server".into()),
        generated_by: "Work Test80".into(),
        partner: false,
        related: None,
    }
}

/// The issuer binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_issuer"))
}

/// Run the issuer against `db` with `args`.
pub fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("I3LIC_KEY_PASSPHRASE")
        .env("USER", "tester")
        .output()
        .expect("run issuer")
}

/// Run and insist on success; returns stdout.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(
        o.status.success(),
        "issuer {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write the demo-style unencrypted key with mode 0600 into `dir` and return its path.
pub fn unencrypted_key(dir: &Path) -> PathBuf {
    let key = format::SecretKey::generate();
    let path = dir.join("vendor.key");
    std::fs::write(&path, key.to_text("vendor").as_bytes()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}
