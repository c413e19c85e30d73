//! `issuer issue --host-id` and `issuer update --host-id` with a request code (`licadmin
//! request`): the file binds the install key to the request code's strong host (format
//! version 3); an update that keeps the host keeps the key; a mistyped request code is exit 3
//! and changes nothing.

mod common;

use std::path::Path;

use common::{cli_order, ok, run, IssueFlags, Units};
use format::{FormatVersion, PublicKey, SecretKey};
use hostid::{Components, HostId, RequestCode};

fn strong(n: u8) -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some(format!("{n:02x}1e2d3c4b5a69788796a5b4c3d2e1f0")),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .expect("strong code")
}

fn read(path: &Path, key: &PublicKey) -> format::VerifiedFile {
    format::UnverifiedFile::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .verify(key)
        .unwrap()
}

#[test]
fn a_request_code_binds_its_install_key_and_an_update_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    ok(&db, &["account", "add", "Contoso"]);
    ok(
        &db,
        &["site", "add", "--account", "Contoso", "--name", "HQ"],
    );
    cli_order(&db, "SW-001-4.0-SL03", 1, Units::Perpetual);
    cli_order(&db, "SW-001-4.0-AL02", 50, Units::Perpetual);
    let keys = dir.path().join("keys");
    let keys_s = keys.to_str().unwrap().to_string();
    ok(
        &db,
        &[
            "keygen",
            "--kid",
            "vendor",
            "--out",
            &keys_s,
            "--unencrypted",
        ],
    );
    let key = keys.join("vendor.key").display().to_string();
    let vendor =
        PublicKey::from_text(&std::fs::read_to_string(keys.join("vendor.pub")).unwrap()).unwrap();

    let install = SecretKey::from_seed(&[0x42; 32]);
    let code = RequestCode::new(strong(1), install.public_key().to_bytes())
        .unwrap()
        .to_string();
    let out = dir.path().join("ic1.i3lic");
    let out_s = out.display().to_string();

    // One character changed: refused with exit 3, nothing issued.
    let mut typo: Vec<char> = code.chars().collect();
    let at = typo.len() - 7;
    typo[at] = if typo[at] == 'Q' { 'R' } else { 'Q' };
    let typo: String = typo.into_iter().collect();
    let flags = |h: &'static str| IssueFlags {
        license_type: "production",
        host_id: h,
        machine: "ic1",
        server_part: "SW-001-4.0-SL03",
        add: Some("SW-001-4.0-AL02=10"),
        key: Box::leak(key.clone().into_boxed_str()),
        out: Box::leak(out_s.clone().into_boxed_str()),
    };
    let o = run(&db, &flags(Box::leak(typo.into_boxed_str())).args());
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("request code") && err.contains("check character"),
        "{err}"
    );
    assert!(!out.exists());

    let id = ok(
        &db,
        &flags(Box::leak(code.clone().to_lowercase().into_boxed_str())).args(),
    );
    let id = id.trim().to_string();
    let v = read(&out, &vendor);
    assert_eq!(v.version(), FormatVersion::V3);
    let host = &v.activation().primary_host;
    assert_eq!(host.host_id, strong(1));
    assert_eq!(host.install_key.as_ref(), Some(install.public_key()));

    // An update that keeps the host keeps its install key.
    let new = dir.path().join("ic1-2.i3lic");
    let new_s = new.display().to_string();
    ok(
        &db,
        &[
            "update",
            &id,
            "--add",
            "SW-001-4.0-AL02=5",
            "--key",
            &key,
            "--out",
            &new_s,
        ],
    );
    let v = read(&new, &vendor);
    assert_eq!(
        v.activation().primary_host.install_key.as_ref(),
        Some(install.public_key())
    );

    // An update to another host's request code binds that store's key.
    let other = SecretKey::from_seed(&[0x43; 32]);
    let code2 = RequestCode::new(strong(2), other.public_key().to_bytes())
        .unwrap()
        .to_string();
    let newer = dir.path().join("ic1-3.i3lic");
    let newer_s = newer.display().to_string();
    let id2 = v.activation().file_id.to_string();
    ok(
        &db,
        &[
            "update",
            &id2,
            "--host-id",
            &code2,
            "--key",
            &key,
            "--out",
            &newer_s,
        ],
    );
    let v = read(&newer, &vendor);
    assert_eq!(v.activation().primary_host.host_id, strong(2));
    assert_eq!(
        v.activation().primary_host.install_key.as_ref(),
        Some(other.public_key())
    );
}
