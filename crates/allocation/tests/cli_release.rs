//! `licadmin request` and `licadmin release` through the real binary: the request code
//! carries the store's install key (never its secret), `--check` names a typo, and a release
//! prints a receipt that verifies with the key the file binds, after which the file's lineage
//! is refused (exit 16).

mod common;

use std::process::{Command, Output};

use common::*;
use format::receipt::Receipt;
use format::{sign, Rules};
use hostid::{Components, HostId, RequestCode};
use store::TxExt as _;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

fn strong_host() -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("strong host")
}

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vendor.pub"),
            vendor().public_key().to_text("vendor"),
        )
        .unwrap();
        Cli { dir }
    }

    fn run(&self, host: &HostId, args: &[&str]) -> Output {
        Command::new(BIN)
            .env_remove("I3LIC_TRUST")
            .env_remove("I3LIC_STORE")
            .arg("--store")
            .arg(self.dir.path().join("store.db"))
            .args(args)
            .arg("--trust")
            .arg(self.dir.path().join("vendor.pub"))
            .arg("--host-id")
            .arg(host.to_string())
            .output()
            .unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn request_prints_the_stores_code_and_check_names_a_typo() {
    let cli = Cli::new();
    let o = cli.run(&strong_host(), &["request"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let printed = text(&o.stdout);
    let code: RequestCode = printed.trim().parse().unwrap();
    assert_eq!(code.host(), strong_host());

    let o = cli.run(&strong_host(), &["request", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["host_id", "install_key", "request_code", "short_code"]
    );
    assert_eq!(v["request_code"], printed.trim());
    let key =
        format::install_key::from_hex("install_key", v["install_key"].as_str().unwrap()).unwrap();
    assert_eq!(code.install_key(), key.to_bytes());

    // The secret half is in the store, and in no output.
    let seed: String = store_sqlite::open_raw(cli.dir.path().join("store.db"))
        .unwrap()
        .query_row("SELECT seed FROM install_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(seed.len(), 64);
    assert!(!printed.contains(&seed) && !v.to_string().contains(&seed));

    let o = cli.run(
        &strong_host(),
        &["request", "--check", &printed.to_lowercase()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&strong_host().to_string()));
    let mut typo: Vec<char> = printed.trim().chars().collect();
    let at = typo.len() - 6;
    typo[at] = if typo[at] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let o = cli.run(&strong_host(), &["request", "--check", &typo]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("check character"),
        "{}",
        text(&o.stderr)
    );

    // A short host ID cannot make a request code.
    let o = cli.run(&strong_host().to_short(), &["request"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

#[test]
fn release_prints_a_receipt_and_the_lineage_stays_refused() {
    let cli = Cli::new();
    let host = host();
    let o = cli.run(&strong_host(), &["request", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let key =
        format::install_key::from_hex("install_key", v["install_key"].as_str().unwrap()).unwrap();
    let mut a = activation(&[("I3_ACCESS_CLIENT", 3, 3)], Rules::default());
    a.primary_host.install_key = Some(key.clone());
    let file = cli.dir.path().join("ic1.i3lic");
    std::fs::write(&file, sign(&a, &vendor()).unwrap()).unwrap();
    let f = file.display().to_string();

    let o = cli.run(&host, &["load", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = cli.run(&host, &["release"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let receipt = Receipt::parse(&text(&o.stdout)).unwrap();
    receipt.verify(&key).unwrap();
    assert_eq!(receipt.facts().file_id, a.file_id);
    assert!(
        text(&o.stderr).contains("released file"),
        "{}",
        text(&o.stderr)
    );

    let o = cli.run(&host, &["load", &f]);
    assert_eq!(o.status.code(), Some(16), "{}", text(&o.stderr));
    let o = cli.run(&host, &["release", "--json"]);
    assert_eq!(o.status.code(), Some(21), "{}", text(&o.stdout));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "no-license-loaded");
}
