//! Shared setup for the issuer's integration tests: ledgers made through the library or
//! through the `issuer` binary, keys, requests, `issue` flags and `summary --json` lookups.
//! Each test file uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use store::TxExt;

use format::{LicenseType, SecretKey, Timestamp};
use hostid::{Components, HostId};
use issuer::keys::PASSPHRASE_ENV;
use issuer::location::LedgerLocation;
use issuer::{Catalog, IssueRequest, Ledger, PartQuantity, SiteDetails, UpdateRequest};

/// The 4.0 production server.
pub const SL03: &str = "SW-001-4.0-SL03";
/// The 4.0 business client add-on.
pub const AL02: &str = "SW-001-4.0-AL02";
/// The 4.0 ACD media add-on.
pub const AL06: &str = "SW-001-4.0-AL06";

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

/// Whether ordered units may go into perpetual files.
#[derive(Clone, Copy, Debug)]
pub enum Units {
    /// Perpetual units (the CLI's default).
    Perpetual,
    /// Non-perpetual units (`--non-perpetual`).
    NonPerpetual,
}

impl Units {
    fn perpetual(self) -> bool {
        matches!(self, Units::Perpetual)
    }
}

// ---------------------------------------------------------------------------------------------
// Both engines.

thread_local! {
    /// The PostgreSQL database the running test body uses ([`on_postgres`]); `None`: SQLite.
    static POSTGRES: std::cell::RefCell<Option<LedgerLocation>> = const { std::cell::RefCell::new(None) };
}

/// Where the running test keeps its ledger: `dir/ledger.db`, or, inside [`on_postgres`], the
/// fresh PostgreSQL database made for the test.
pub fn location(dir: &Path) -> LedgerLocation {
    POSTGRES
        .with(|p| p.borrow().clone())
        .unwrap_or_else(|| LedgerLocation::Sqlite(dir.join("ledger.db")))
}

/// Open (or create) the running test's ledger ([`location`]).
pub fn open(dir: &Path) -> Ledger {
    Ledger::open_at(&location(dir)).expect("open ledger")
}

/// Open the ledger `--db` would name for `db` (a file path or a `postgres://` URL).
pub fn open_db(db: &Path) -> Ledger {
    let at = LedgerLocation::parse(db.as_os_str()).expect("a ledger location");
    Ledger::open_at(&at).expect("open ledger")
}

/// Run a test body with its ledger on a fresh PostgreSQL database (dropped afterwards).
/// Without a server (`I3LIC_TEST_POSTGRES` unset, outside CI) the body is skipped with one
/// line saying why; in CI that is a failure.
pub fn on_postgres(body: impl FnOnce()) {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    let location = LedgerLocation::parse(std::ffi::OsStr::new(&db.url)).expect("a postgres URL");
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
/// with a test of each name that runs the SQLite test's body with its ledger on a fresh
/// PostgreSQL database ([`on_postgres`]). The bodies reach their ledger through [`ledger`],
/// [`open`] or [`location`].
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

/// Run `body(dir, db)` with a fresh folder `dir` and the ledger `dir/ledger.db`: `db` is what
/// `--db` is given (the helpers of the `issuer` binary take it as a path).
pub fn cli_on_sqlite(body: impl FnOnce(&Path, &Path)) {
    let dir = tempfile::tempdir().unwrap();
    body(dir.path(), &dir.path().join("ledger.db"));
}

/// [`cli_on_sqlite`] with the ledger on a fresh PostgreSQL database (`db` is its URL); skipped
/// as [`on_postgres`] says without a server.
pub fn cli_on_postgres(body: impl FnOnce(&Path, &Path)) {
    let Some(db) = store_postgres::testing::fresh_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    body(dir.path(), Path::new(&db.url));
}

/// Tests through the `issuer` binary on both engines: `cli_on_both!(name => body, ...)` makes
/// a test `name` running `body(dir, db)` on SQLite ([`cli_on_sqlite`]) and one of the same
/// name in a module `postgres` running it on PostgreSQL ([`cli_on_postgres`]).
#[macro_export]
macro_rules! cli_on_both {
    ($($name:ident => $body:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::common::cli_on_sqlite($body);
            }
        )*
        mod postgres {
            $(
                #[test]
                fn $name() {
                    $crate::common::cli_on_postgres(super::$body);
                }
            )*
        }
    };
}

/// Whether `db` (as `--db` takes it) is a PostgreSQL URL.
pub fn is_postgres(db: &Path) -> bool {
    matches!(
        LedgerLocation::parse(db.as_os_str()),
        Ok(LedgerLocation::Postgres(_))
    )
}

// ---------------------------------------------------------------------------------------------
// Through the library.

/// A ledger with account "Contoso", active site "HQ" and inactive site "Old".
pub fn ledger(dir: &Path) -> (Ledger, Catalog) {
    let catalog = Catalog::built_in().expect("built-in catalog");
    let mut l = open(dir);
    l.add_account("Contoso", "test").unwrap();
    l.add_site("Contoso", "HQ", &SiteDetails::default(), "test")
        .unwrap();
    l.add_site("Contoso", "Old", &SiteDetails::default(), "test")
        .unwrap();
    l.set_site_active("Contoso", "Old", false, "test").unwrap();
    (l, catalog)
}

/// Order each `(part, quantity)` for Contoso, in the order given.
pub fn add_orders(l: &mut Ledger, c: &Catalog, orders: &[(&str, u32)], units: Units) {
    for (part, quantity) in orders {
        l.add_order(c, "Contoso", part, *quantity, units.perpetual(), "t")
            .unwrap();
    }
}

/// [`ledger`] with perpetual `orders` and one production file for SL03 with the add-ons `add`,
/// issued at `at`. Returns the ledger, catalog, the signing key and the file's id.
pub fn issued_production(
    dir: &Path,
    orders: &[(&str, u32)],
    add: &[(&str, u32)],
    at: Timestamp,
) -> (Ledger, Catalog, SecretKey, String) {
    let (mut l, c) = ledger(dir);
    add_orders(&mut l, &c, orders, Units::Perpetual);
    let key = SecretKey::generate();
    let req = request(LicenseType::Production, SL03, add);
    let id = l
        .issue(&c, &req, &key, None, at)
        .unwrap()
        .file_id
        .to_string();
    (l, c, key, id)
}

/// `(total, used, available)` of `part` in Contoso's summary, if the account has the part.
pub fn counts(l: &Ledger, c: &Catalog, part: &str) -> Option<(u64, u64, u64)> {
    let s = l.summary(c, "Contoso", None).unwrap();
    s.parts
        .iter()
        .find(|p| p.part == part)
        .map(|p| (p.total, p.used, p.available))
}

/// A part and its quantity.
pub fn pq(part: &str, quantity: u32) -> PartQuantity {
    PartQuantity {
        part: part.into(),
        quantity,
    }
}

/// An update that changes nothing yet, made by `generated_by`.
pub fn update_by(generated_by: &str) -> UpdateRequest {
    UpdateRequest {
        generated_by: generated_by.into(),
        ..Default::default()
    }
}

/// A request of type `t` for `server` with the add-ons `add`: Contoso at HQ, CIC 4.0, host 1
/// as machine "ic1".
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
        add: add.iter().map(|(p, q)| pq(p, *q)).collect(),
        system_type: Some("Media Server Based (4.0+ only)".into()),
        mail_connector: Some("Microsoft Exchange Server".into()),
        generated_by: "Work Test80".into(),
        partner: false,
        related: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Through the `issuer` binary.

/// The issuer binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_issuer"))
}

/// The issuer against `db`, with this process's environment as it is.
pub fn command(db: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("--db").arg(db);
    c
}

/// The issuer against `db` as user "tester"; `I3LIC_KEY_PASSPHRASE` as in this process.
pub fn tester(db: &Path) -> Command {
    let mut c = command(db);
    c.env("USER", "tester");
    c
}

/// Give the child `passphrase` in `I3LIC_KEY_PASSPHRASE`, or remove the variable for `None`.
pub fn passphrase<'c>(c: &'c mut Command, passphrase: Option<&str>) -> &'c mut Command {
    match passphrase {
        Some(p) => c.env(PASSPHRASE_ENV, p),
        None => c.env_remove(PASSPHRASE_ENV),
    }
}

/// Run the issuer against `db` with `args` as user "tester", without a passphrase.
pub fn run(db: &Path, args: &[&str]) -> Output {
    passphrase(tester(db).args(args), None)
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

/// `issuer order add` for Contoso.
pub fn cli_order(db: &Path, part: &str, quantity: u32, units: Units) {
    let quantity = quantity.to_string();
    let mut args = vec![
        "order",
        "add",
        "--account",
        "Contoso",
        "--part",
        part,
        "--quantity",
        &quantity,
    ];
    if !units.perpetual() {
        args.push("--non-perpetual");
    }
    ok(db, &args);
}

/// Through the CLI, `dir/ledger.db` with account "Contoso", site "HQ" (no details) and
/// `orders`, in the order given. Returns the ledger's path.
pub fn cli_ledger(dir: &Path, orders: &[(&str, u32)], units: Units) -> PathBuf {
    cli_ledger_at(&dir.join("ledger.db"), orders, units)
}

/// [`cli_ledger`] at `db`: a file path or a `postgres://` URL (what `--db` takes).
pub fn cli_ledger_at(db: &Path, orders: &[(&str, u32)], units: Units) -> PathBuf {
    let db = db.to_path_buf();
    ok(&db, &["account", "add", "Contoso"]);
    ok(
        &db,
        &["site", "add", "--account", "Contoso", "--name", "HQ"],
    );
    for (part, quantity) in orders {
        cli_order(&db, part, *quantity, units);
    }
    db
}

/// The flags of one `issuer issue` for Contoso at HQ, CIC 4.0.
#[derive(Clone, Copy, Debug)]
pub struct IssueFlags<'a> {
    /// `--type`.
    pub license_type: &'a str,
    /// `--host-id`.
    pub host_id: &'a str,
    /// `--machine`.
    pub machine: &'a str,
    /// `--server-part`.
    pub server_part: &'a str,
    /// `--add`, when given.
    pub add: Option<&'a str>,
    /// `--key`.
    pub key: &'a str,
    /// `--out`.
    pub out: &'a str,
}

impl<'a> IssueFlags<'a> {
    /// The arguments, starting with `issue`.
    pub fn args(&self) -> Vec<&'a str> {
        let mut v = vec![
            "issue",
            "--account",
            "Contoso",
            "--site",
            "HQ",
            "--product",
            "CIC",
            "--version",
            "4.0",
            "--type",
            self.license_type,
            "--host-id",
            self.host_id,
            "--machine",
            self.machine,
            "--server-part",
            self.server_part,
        ];
        if let Some(add) = self.add {
            v.extend(["--add", add]);
        }
        v.extend(["--key", self.key, "--out", self.out]);
        v
    }
}

/// The text of `issuer summary --account Contoso --json`.
pub fn summary_text(db: &Path) -> String {
    ok(db, &["summary", "--account", "Contoso", "--json"])
}

/// `issuer summary --account Contoso --json`, parsed.
pub fn summary_json(db: &Path) -> serde_json::Value {
    serde_json::from_str(&summary_text(db)).unwrap()
}

/// The entry for `part` in the `parts` array of a summary (or of one of its sites).
pub fn summary_part<'v>(summary: &'v serde_json::Value, part: &str) -> &'v serde_json::Value {
    summary["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == part)
        .unwrap()
}

/// One row of the ledger's audit table.
#[derive(Clone, Debug)]
pub struct AuditRow {
    /// Position in the chain.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who made the change.
    pub actor: String,
    /// What was done, e.g. `file.issue`.
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// JSON state before, where there was one.
    pub before: Option<String>,
    /// JSON state after.
    pub after: Option<String>,
    /// The previous row's hash.
    pub prev_hash: Vec<u8>,
    /// This row's hash.
    pub hash: Vec<u8>,
}

impl AuditRow {
    /// The hash the chain's rule gives this row's content after its `prev_hash`.
    pub fn expected_hash(&self) -> [u8; 32] {
        issuer::ledger::audit_hash(
            &self.prev_hash,
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.subject,
            self.before.as_deref(),
            self.after.as_deref(),
        )
    }
}

/// Every row of the audit table in `conn`, by `seq`.
pub fn audit_rows(conn: &dyn store::Tx) -> Vec<AuditRow> {
    let mut st = conn
        .prepare(
            "SELECT seq, at, actor, action, subject, before, after, prev_hash, hash
             FROM audit ORDER BY seq",
        )
        .unwrap();
    st.query_map([], |r| {
        Ok(AuditRow {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            before: r.get(5)?,
            after: r.get(6)?,
            prev_hash: r.get(7)?,
            hash: r.get(8)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Files.

/// Set the permission bits of `path` (nothing to do off Unix).
pub fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// The permission bits of `path`.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Write the demo-style unencrypted key with mode 0600 into `dir` and return its path.
pub fn unencrypted_key(dir: &Path) -> PathBuf {
    let key = SecretKey::generate();
    let path = dir.join("vendor.key");
    std::fs::write(&path, key.to_text("vendor").as_bytes()).unwrap();
    set_mode(&path, 0o600);
    path
}

// ---------------------------------------------------------------------------------------------
// Another user.

/// The user id this test runs as (the owner of a file it creates).
#[cfg(unix)]
pub fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid()
}

/// The user tests run a command as when they run as root: `nobody`.
pub const NOBODY: u32 = 65534;

/// A command running `program` as a user whom file modes bind: as `nobody` (uid and gid
/// 65534, no supplementary groups) through `setpriv`, else `runuser`, when this test runs as
/// root (root ignores file modes); as this user otherwise. `program` is copied into `dir`
/// first (opened to others, as `dir` is), so `nobody` can run it wherever the build lives.
/// `None`, with a note on standard error, when this test runs as root and neither tool works.
#[cfg(unix)]
pub fn as_other_user(dir: &Path, program: &Path) -> Option<Command> {
    set_mode(dir, 0o755);
    let copy = dir.join(program.file_name().unwrap());
    std::fs::copy(program, &copy).unwrap();
    set_mode(&copy, 0o755);
    if current_uid() != 0 {
        return Some(Command::new(copy));
    }
    let id = NOBODY.to_string();
    let setpriv = [
        format!("--reuid={id}"),
        format!("--regid={id}"),
        "--clear-groups".to_string(),
    ];
    let works = |c: &mut Command| c.output().is_ok_and(|o| o.status.success());
    if works(Command::new("setpriv").args(&setpriv).arg("true")) {
        let mut c = Command::new("setpriv");
        c.args(&setpriv).arg(copy);
        return Some(c);
    }
    if works(Command::new("runuser").args(["-u", "nobody", "--", "true"])) {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(copy);
        return Some(c);
    }
    eprintln!(
        "note: skipped: this test runs as root and can run nothing as another user (no working setpriv or runuser)"
    );
    None
}
