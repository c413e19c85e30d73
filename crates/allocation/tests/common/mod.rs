//! Signed files, a fixed host and a store in a temporary folder, shared by the tests.
#![allow(dead_code)]

use std::sync::Arc;

/// `licadmin serve` for the HTTP tests (the binary comes with the `cli` feature).
#[cfg(feature = "cli")]
pub mod server;

use allocation::{Allocator, ManualClock, StoreLocation};
use format::{
    sign, Activation, Chain, Excludes, FileId, Holder, Host, Implies, KeyRule, LicenseCount,
    LicenseType, Method, Requires, Rules, SecretKey, Timestamp,
};
use hostid::{Components, HostId};
use verify::{HostSource, TrustStore, Verifier};

pub fn vendor() -> SecretKey {
    SecretKey::from_seed(&[0x5a; 32])
}

pub fn other_vendor() -> SecretKey {
    SecretKey::from_seed(&[0x77; 32])
}

pub fn host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c]],
        ..Default::default()
    })
    .expect("host id")
}

pub fn verifier() -> Verifier {
    Verifier::for_product(
        TrustStore::new([vendor().public_key().clone()]).expect("trust"),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host()))
}

/// An update chain of files: `first` starts it, `next` issues the following generation.
pub struct Chain_ {
    lineage: FileId,
    generation: u32,
    previous: FileId,
}

pub fn activation(licenses: &[(&str, u32, u32)], rules: Rules) -> Activation {
    let id = FileId::random();
    let now = Timestamp::now().plus_days(-1);
    let mut licenses: Vec<LicenseCount> = licenses
        .iter()
        .map(|(n, a, p)| LicenseCount {
            name: (*n).into(),
            assigned: *a,
            pooled: *p,
        })
        .collect();
    licenses.sort_by(|a, b| a.name.cmp(&b.name));
    Activation {
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
        generated_by: "Work Test80".into(),
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
        licenses,
        ordered_items: vec![],
        restrictions: vec![],
        rules,
    }
}

/// A first file (generation 1 of a new lineage).
pub fn file(licenses: &[(&str, u32, u32)], rules: Rules) -> String {
    sign(&activation(licenses, rules), &vendor()).expect("sign")
}

impl Chain_ {
    /// The first file of a chain.
    pub fn first(licenses: &[(&str, u32, u32)], rules: Rules) -> (Chain_, String) {
        let a = activation(licenses, rules);
        let c = Chain_ {
            lineage: a.file_id,
            generation: 1,
            previous: a.file_id,
        };
        (c, sign(&a, &vendor()).expect("sign"))
    }

    /// The next generation.
    pub fn next(&mut self, licenses: &[(&str, u32, u32)], rules: Rules) -> String {
        let mut a = activation(licenses, rules);
        self.generation += 1;
        a.chain = Some(Chain {
            lineage: self.lineage,
            generation: self.generation,
        });
        a.supersedes = Some(self.previous);
        self.previous = a.file_id;
        sign(&a, &vendor()).expect("sign")
    }
}

pub struct Env {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub alloc: Allocator,
}

impl Env {
    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("alloc.db")
    }

    /// Another allocator on the same store (another process, as far as the engine is
    /// concerned).
    pub fn reopen(&self) -> Allocator {
        Allocator::open_at(
            &location(self.dir.path()),
            verifier(),
            Arc::new(self.clock.clone()),
        )
        .expect("open")
    }
}

thread_local! {
    /// The PostgreSQL database the running test body uses ([`on_postgres`]); `None`: SQLite.
    static POSTGRES: std::cell::RefCell<Option<StoreLocation>> = const { std::cell::RefCell::new(None) };
}

/// Where the running test keeps its store: `dir/alloc.db`, or, inside [`on_postgres`], the
/// fresh PostgreSQL database made for the test.
pub fn location(dir: &std::path::Path) -> StoreLocation {
    POSTGRES
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| StoreLocation::Sqlite(dir.join("alloc.db")))
}

/// Run a test body with its store on a fresh PostgreSQL database (dropped afterwards).
/// Without a server (`I3LIC_TEST_POSTGRES` unset, outside CI) the body is skipped.
#[allow(dead_code)]
pub fn on_postgres(body: impl FnOnce()) {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    let location = StoreLocation::parse(std::ffi::OsStr::new(&db.url)).expect("a postgres URL");
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            POSTGRES.with(|p| *p.borrow_mut() = None);
        }
    }
    POSTGRES.with(|p| *p.borrow_mut() = Some(location));
    let _reset = Reset;
    body();
    drop(db);
}

/// The same tests again on PostgreSQL: `postgres_too!(name, ...)` makes a module `postgres`
/// with a test of each name that runs the SQLite test's body with its store on a fresh
/// PostgreSQL database ([`on_postgres`]). The bodies reach their store through [`env`],
/// [`Env::reopen`] or [`location`].
#[macro_export]
macro_rules! postgres_too {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::common::on_postgres(super::$name);
                }
            )*
        }
    };
}

/// A new store with `file` loaded.
pub fn env(file: &str) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let clock = ManualClock::new(1_800_000_000);
    let alloc = Allocator::open_at(&location(dir.path()), verifier(), Arc::new(clock.clone()))
        .expect("open");
    alloc.load(file.as_bytes()).expect("load");
    Env { dir, clock, alloc }
}

pub fn key_rule(key: &str, holders: &[Holder], methods: &[Method]) -> KeyRule {
    KeyRule {
        key: key.into(),
        holders: holders.to_vec(),
        methods: methods.to_vec(),
    }
}

pub fn requires(key: &str, any_of: &[&str]) -> Requires {
    Requires {
        key: key.into(),
        any_of: any_of.iter().map(|s| (*s).to_string()).collect(),
    }
}

pub fn implies(key: &str, implied: &str) -> Implies {
    Implies {
        key: key.into(),
        implied: implied.into(),
    }
}

pub fn excludes(keys: &[&str]) -> Excludes {
    Excludes {
        keys: keys.iter().map(|s| (*s).to_string()).collect(),
    }
}

pub const BASIC: &str = "I3_LICENSE_BASIC_STATION";
pub const CLIENT: &str = "I3_ACCESS_CLIENT";
pub const ACD1: &str = "I3_ACCESS_ACD_MEDIA_1";
pub const RECORDER: &str = "I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT";
pub const SUPERVISOR: &str = "I3_ACCESS_WORKGROUP_SUPERVISOR_PLUGIN";
pub const ORG: &str = "I3_TENANT_IWP_ORGANIZATION";
