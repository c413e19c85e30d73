//! Ledgers for the portal's load benchmark (`python3 scripts/portal_bench.py`), and the
//! in-process issue rate the API's is compared with. Every ledger is built through the
//! issuer library, whatever engine is behind it.
//!
//! `bench_ledger big PATH [ACCOUNTS]`: ACCOUNTS accounts (1,000 by default) with 1,000 files
//! each (1,000,000 files, recorded in one transaction by `Ledger::import_files`), 90 %
//! active; every account has the same ordered items, whose used counts match its active
//! files, so every Account Summary has something to add up. A staff portal user
//! `bench@vendor.example` with the password `load-test-secret-1` and an API token written
//! to PATH.token.
//!
//! `bench_ledger issue PATH|URL`: a small ledger with one account able to take any number of
//! files, the same user and token (for a PostgreSQL URL, written to `$I3LIC_BENCH_TOKEN`).
//!
//! `bench_ledger inprocess PATH|URL N`: issue N files in process with `Ledger::issue` on a
//! ledger made as by `issue` (or the one an earlier run left at PATH, which goes on
//! growing), one durable transaction each, and print `files/s`.

use std::path::Path;
use std::time::Instant;

use format::{FileId, KeyId, LicenseType, SecretKey, Timestamp};
use issuer::location::LedgerLocation;
use issuer::{Catalog, ImportedFile, IssueRequest, Ledger, Role, SiteDetails};

const HOST: &str = "1NKRG-23000-002B3-BW000-00GGJ";
const PASSWORD: &str = "load-test-secret-1";

fn user_and_token(l: &mut Ledger, token_file: &Path) {
    let hash = portal::auth::hash_password("bench@vendor.example", PASSWORD).expect("hash");
    l.add_portal_user(
        "bench@vendor.example",
        Role::Staff,
        false,
        &[],
        &hash,
        "bench",
    )
    .expect("user");
    let (t, d) = portal::auth::new_token();
    l.add_portal_token("bench@vendor.example", &d, "bench", "bench")
        .expect("token");
    std::fs::write(token_file, t).expect("write token");
}

/// Each active file uses one server item and 50 of each other line (not the lines a server
/// item includes).
fn per_file(part: &str) -> u32 {
    if part == "SW-001-4.0-SL03" {
        1
    } else {
        50
    }
}

fn big(path: &Path, accounts: u32) {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open(path).expect("create the ledger");
    let token_file = token_file(path.as_os_str().to_str().expect("a UTF-8 path"));
    // Every account orders the same lines, so that every Account Summary has as much to
    // show, whichever account a request asks for.
    let mut usage: Vec<(String, Vec<(i64, u32)>)> = Vec::new();
    for a in 1..=accounts {
        let name = format!("acct-{a:04}");
        l.add_account(&name, "bench").expect("account");
        l.add_site(&name, "HQ", &SiteDetails::default(), "bench")
            .expect("site");
        for (part, q) in [
            ("SW-001-4.0-SL03", 2_000u32),
            ("SW-001-4.0-AL02", 100_000),
            ("SW-001-4.0-AL06", 100_000),
            ("SW-001-4.0-PL04", 100_000),
        ] {
            l.add_order(&catalog, &name, part, q, true, "bench")
                .expect("order");
        }
        let lines = l.orders(&name).expect("orders");
        let uses = lines
            .iter()
            .filter(|o| !o.part.contains("IDS"))
            .map(|o| (o.id, per_file(&o.part)))
            .collect();
        usage.push((name, uses));
    }
    user_and_token(&mut l, &token_file);
    let blob = vec![b'x'; 256];
    let mut seq: u128 = 0;
    let files = usage.iter().enumerate().flat_map(|(a, (name, uses))| {
        let a = i64::try_from(a + 1).expect("account number");
        (0..1_000i64).map(move |f| (a, name, uses, f))
    });
    let files = files.map(|(a, name, uses, f)| {
        seq += 1;
        let at = Timestamp::from_unix(1_600_000_000 + f * 126_000 + a).expect("time");
        let active = f % 10 != 0;
        ImportedFile {
            id: FileId(seq.to_be_bytes()),
            account: name.clone(),
            site: "HQ".into(),
            license_type: LicenseType::Production,
            product: "CIC".into(),
            version: "4.0".into(),
            server_part: "SW-001-4.0-SL03".into(),
            primary_host: HOST.into(),
            primary_machine: format!("m{f}"),
            switchover: None,
            system_type: "Media Server Based (4.0+ only)".into(),
            mail_connector: "Microsoft Exchange Server".into(),
            generated_by: format!("staff{}", f % 7),
            partner: false,
            generated_at: at,
            expires_at: Timestamp::from_unix(4_102_444_800).expect("time"),
            key_id: KeyId([0; 8]),
            bytes: blob.clone(),
            usage: if active { uses.clone() } else { Vec::new() },
            deactivated: (!active).then(|| (at, "staff0".to_string())),
        }
    });
    // One transaction for all of them. No statistics are gathered afterwards: the issuer
    // never gathers them, so neither does this ledger.
    l.import_files(files, "bench", Timestamp::now())
        .expect("import the files");
}

/// Where the API token of the ledger at `db` is written: `db.token`, or for a PostgreSQL URL
/// `$I3LIC_BENCH_TOKEN`.
fn token_file(db: &str) -> std::path::PathBuf {
    match LedgerLocation::parse(std::ffi::OsStr::new(db)).expect("a ledger path or URL") {
        LedgerLocation::Sqlite(p) => format!("{}.token", p.display()).into(),
        LedgerLocation::Postgres(_) => std::env::var_os("I3LIC_BENCH_TOKEN")
            .expect("I3LIC_BENCH_TOKEN names the token file for a PostgreSQL ledger")
            .into(),
    }
}

fn issue_ledger(location: &LedgerLocation) -> Ledger {
    let catalog = Catalog::built_in().expect("catalog");
    let mut l = Ledger::open_at(location).expect("create the ledger");
    l.add_account("Bench", "bench").unwrap();
    l.add_site("Bench", "HQ", &SiteDetails::default(), "bench")
        .unwrap();
    for part in ["SW-001-4.0-SL03", "SW-001-4.0-AL02"] {
        l.add_order(&catalog, "Bench", part, 10_000_000, true, "bench")
            .unwrap();
    }
    l
}

/// The request both the API and the in-process loop issue.
pub fn request() -> IssueRequest {
    IssueRequest {
        account: "Bench".into(),
        site: "HQ".into(),
        product: "CIC".into(),
        version: "4.0".into(),
        license_type: LicenseType::Production,
        host_id: HOST.into(),
        machine: "ic1".into(),
        switchover_host_id: None,
        switchover_machine: None,
        switchover_part: None,
        server_part: "SW-001-4.0-SL03".into(),
        add: vec![issuer::PartQuantity {
            part: "SW-001-4.0-AL02".into(),
            quantity: 5,
        }],
        system_type: None,
        mail_connector: None,
        generated_by: "bench@vendor.example".into(),
        partner: false,
        related: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_ledger big PATH [ACCOUNTS] | issue PATH | inprocess PATH N";
    match args.get(1).map(String::as_str) {
        Some("big") => {
            let p = Path::new(args.get(2).expect(usage));
            let accounts = match args.get(3) {
                Some(n) => n.parse().ok().filter(|n| *n > 0).expect(usage),
                None => 1_000,
            };
            big(p, accounts)
        }
        Some("issue") => {
            let db = args.get(2).expect(usage);
            let location = LedgerLocation::parse(std::ffi::OsStr::new(db)).expect(usage);
            let mut l = issue_ledger(&location);
            user_and_token(&mut l, &token_file(db));
        }
        Some("inprocess") => {
            let db = args.get(2).expect(usage);
            let location = LedgerLocation::parse(std::ffi::OsStr::new(db)).expect(usage);
            let n: u32 = args.get(3).and_then(|n| n.parse().ok()).expect(usage);
            // A ledger made by an earlier run goes on growing, as the API's does.
            let mut l = Ledger::open_at(&location).expect("open the ledger");
            if l.accounts().expect("accounts").is_empty() {
                l = issue_ledger(&location);
            }
            let catalog = Catalog::built_in().unwrap();
            let key = SecretKey::generate();
            let req = request();
            let start = Instant::now();
            for _ in 0..n {
                l.issue(&catalog, &req, &key, None, Timestamp::now())
                    .expect("issue");
            }
            println!(
                "{:.1} files/s",
                f64::from(n) / start.elapsed().as_secs_f64()
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
