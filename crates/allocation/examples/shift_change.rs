//! The stores of the license server's shift-change benchmark (`python3 scripts/serve_bench.py`)
//! and the in-process logons it is compared with.
//!
//! `shift_change setup STORE N DIR`: a store (a path or a postgres:// URL) holding a file of N
//! concurrent Client Access licenses signed by a key made here, N concurrent users `u0..`
//! allocated Client Access, and a bearer token; writes `DIR/vendor.pub`, `DIR/host` (the
//! host-ID code the file is bound to: `licadmin --host-id`) and `DIR/token`.
//!
//! `shift_change inprocess STORE N DIR`: logs `u0..u{N-1}` on with `Allocator::login` in
//! process, one after the other, prints the seconds it took, then logs them off.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use allocation::{Allocator, Method, Place, StoreLocation, SystemClock, Target};
use format::{sign, Activation, Chain, FileId, Host, LicenseCount, LicenseType, Rules, SecretKey};
use format::{PublicKey, Timestamp};
use hostid::{Components, HostId};
use verify::{HostSource, TrustStore, Verifier};

const CLIENT: &str = "I3_ACCESS_CLIENT";

fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("5ee1c0de5ee1c0de5ee1c0de5ee1c0de".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x00, 0x50, 0x00]],
        ..Default::default()
    })
    .expect("host id")
}

fn verifier(key: &PublicKey) -> Verifier {
    Verifier::for_product(TrustStore::new([key.clone()]).expect("trust"), "CIC", "4.0")
        .host(HostSource::Code(host()))
}

fn open(store: &str, key: &PublicKey) -> Allocator {
    let loc = StoreLocation::parse(std::ffi::OsStr::new(store)).expect("a store path or URL");
    Allocator::open_at(&loc, verifier(key), Arc::new(SystemClock)).expect("open the store")
}

fn setup(store: &str, n: u32, dir: &Path) {
    let key = SecretKey::generate();
    let id = FileId::random();
    let now = Timestamp::now().plus_days(-1);
    let a = Activation {
        file_id: id,
        supersedes: None,
        chain: Some(Chain::first(id)),
        product: "CIC".into(),
        product_version: "4.0".into(),
        license_type: LicenseType::Production,
        issued_at: now,
        valid_from: now,
        expires_at: Timestamp::PERPETUAL,
        grace_days: 0,
        generated_by: "Bench".into(),
        sold_to: "Contoso".into(),
        install_site: "HQ".into(),
        primary_host: Host {
            host_id: host(),
            machine: "ic1".into(),
            install_key: None,
        },
        switchover_host: None,
        system_type: String::new(),
        mail_connector: String::new(),
        bundle: String::new(),
        description: String::new(),
        features: vec![],
        licenses: vec![LicenseCount {
            name: CLIENT.into(),
            assigned: 0,
            pooled: n,
        }],
        ordered_items: vec![],
        restrictions: vec![],
        rules: Rules::default(),
    };
    let file = sign(&a, &key).expect("sign");
    let alloc = open(store, key.public_key());
    alloc.load(file.as_bytes()).expect("load");
    for i in 0..n {
        let u = format!("u{i}");
        alloc.add_user(&u, Method::Concurrent, None).expect("user");
        alloc
            .allocate(Target::User(&u), &[CLIENT])
            .expect("allocate");
    }
    let token = alloc.create_token("bench").expect("token");
    std::fs::write(dir.join("vendor.pub"), key.public_key().to_text("bench")).expect("write");
    std::fs::write(dir.join("host"), host().to_string()).expect("write");
    std::fs::write(dir.join("token"), token).expect("write");
}

fn inprocess(store: &str, n: u32, dir: &Path) {
    let text = std::fs::read_to_string(dir.join("vendor.pub")).expect("vendor.pub");
    let key = PublicKey::from_text(&text).expect("a public key");
    let alloc = open(store, &key);
    let start = Instant::now();
    let sessions: Vec<String> = (0..n)
        .map(|i| {
            alloc
                .login(&format!("u{i}"), Place::Nowhere, Some(600))
                .expect("login")
                .id
        })
        .collect();
    println!("{:.6}", start.elapsed().as_secs_f64());
    for s in sessions {
        alloc.logout(&s).expect("logout");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: shift_change setup|inprocess STORE N DIR";
    let (store, n, dir) = (
        args.get(2).expect(usage),
        args.get(3).and_then(|n| n.parse().ok()).expect(usage),
        Path::new(args.get(4).expect(usage)),
    );
    match args.get(1).map(String::as_str) {
        Some("setup") => setup(store, n, dir),
        Some("inprocess") => inprocess(store, n, dir),
        _ => panic!("{usage}"),
    }
}
