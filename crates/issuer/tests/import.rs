//! `Ledger::import_files`: files issued elsewhere recorded byte for byte in one transaction,
//! their units taken from the lines they name, each with an audit row that `audit verify`
//! checks; and every refusal leaves the ledger as it was.

mod common;

use format::{FileId, KeyId, LicenseType, Timestamp};
use issuer::{Catalog, ImportedFile, IssuerError, Ledger, SiteDetails};

const SL03: &str = "SW-001-4.0-SL03";
const AL02: &str = "SW-001-4.0-AL02";

/// A ledger with accounts A and B (site HQ each); A orders 2 SL03 and 100 AL02. Returns A's
/// two lines (SL03, AL02) and B's SL03 line.
fn ledger(dir: &std::path::Path) -> (Ledger, i64, i64, i64) {
    let catalog = Catalog::built_in().unwrap();
    let mut l = common::open(dir);
    for a in ["A", "B"] {
        l.add_account(a, "t").unwrap();
        l.add_site(a, "HQ", &SiteDetails::default(), "t").unwrap();
        l.add_order(&catalog, a, SL03, 2, true, "t").unwrap();
    }
    l.add_order(&catalog, "A", AL02, 100, true, "t").unwrap();
    let line = |l: &Ledger, a: &str, part: &str| {
        l.orders(a)
            .unwrap()
            .into_iter()
            .find(|o| o.part == part)
            .unwrap()
            .id
    };
    let (sl, al, b) = (
        line(&l, "A", SL03),
        line(&l, "A", AL02),
        line(&l, "B", SL03),
    );
    (l, sl, al, b)
}

fn file(n: u128, usage: Vec<(i64, u32)>) -> ImportedFile {
    let at = Timestamp::from_unix(1_700_000_000).unwrap();
    ImportedFile {
        id: FileId(n.to_be_bytes()),
        account: "a".into(),
        site: "hq".into(),
        license_type: LicenseType::Production,
        product: "CIC".into(),
        version: "4.0".into(),
        server_part: SL03.into(),
        primary_host: "1NKRG-23000-002B3-BW000-00GGJ".into(),
        primary_machine: format!("ic{n}"),
        switchover: None,
        system_type: String::new(),
        mail_connector: String::new(),
        generated_by: "someone".into(),
        partner: false,
        generated_at: at,
        expires_at: Timestamp::PERPETUAL,
        key_id: KeyId([7; 8]),
        bytes: format!("file {n}\n").into_bytes(),
        usage,
        deactivated: None,
    }
}

/// Everything a refused import must leave as it was.
fn state(l: &Ledger) -> impl PartialEq + std::fmt::Debug {
    (
        l.orders("A").unwrap(),
        l.orders("B").unwrap(),
        l.activity(&Default::default()).unwrap(),
        l.audit_head().unwrap(),
    )
}

#[test]
fn imported_files_are_recorded_byte_for_byte_with_their_units_and_audit_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, sl, al, _) = ledger(dir.path());
    let mut gone = file(3, vec![(sl, 1)]);
    gone.deactivated = Some((Timestamp::from_unix(1_700_000_100).unwrap(), "x".into()));
    let n = l
        .import_files(
            vec![
                file(1, vec![(sl, 1), (al, 40)]),
                file(2, vec![(al, 60)]),
                gone,
            ],
            "importer",
            Timestamp::now(),
        )
        .unwrap();
    assert_eq!(n, 3);
    let used: Vec<(String, u64, u64)> = l
        .orders("A")
        .unwrap()
        .into_iter()
        .map(|o| (o.part, o.used, o.available))
        .filter(|o| o.0 != "SW-001-4.0-IDS1")
        .collect();
    assert_eq!(
        used,
        [(SL03.into(), 1, 1), (AL02.into(), 100, 0)],
        "active files' units are used, a deactivated file's are not"
    );
    assert!(l.verify_usage().unwrap().is_empty(), "counters match usage");
    let id1 = FileId(1u128.to_be_bytes()).to_string();
    assert_eq!(l.file_bytes(&id1).unwrap(), b"file 1\n", "byte for byte");
    let shown = l.show(&Catalog::built_in().unwrap(), &id1).unwrap();
    assert_eq!(shown.sha256.len(), 64, "{shown:?}");
    let audit = l.verify_audit(None).unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
    let rows = l.audit_log(Some(&id1), None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].actor.as_str()),
        ("file.import", "importer")
    );
    let after = rows[0].after.as_ref().unwrap();
    assert_eq!(after["file"]["account"], "A", "the ledger's spelling");
    assert_eq!(after["file"]["site"], "HQ");
    let mut listed: Vec<(String, bool, String)> = l
        .activity(&Default::default())
        .unwrap()
        .into_iter()
        .map(|r| (r.machine, r.active, r.sold_to))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("ic1".into(), true, "A".into()),
            ("ic2".into(), true, "A".into()),
            ("ic3".into(), false, "A".into())
        ]
    );
    // The units left are what a new file can take.
    let err = l
        .import_files(vec![file(4, vec![(al, 1)])], "importer", Timestamp::now())
        .unwrap_err();
    assert!(
        matches!(err, IssuerError::NotEnough { available: 0, .. }),
        "{err}"
    );
}

#[test]
fn a_refused_import_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, sl, al, b_line) = ledger(dir.path());
    l.import_files(vec![file(1, vec![(sl, 1)])], "t", Timestamp::now())
        .unwrap();
    let before = state(&l);
    let mut unknown = file(10, vec![]);
    unknown.account = "Nobody".into();
    let mut no_site = file(11, vec![]);
    no_site.site = "Elsewhere".into();
    let mut control = file(12, vec![]);
    control.primary_machine = "ic\u{1b}]0;x".into();
    let mut empty = file(13, vec![]);
    empty.bytes.clear();
    let mut backwards = file(14, vec![]);
    backwards.expires_at = Timestamp::from_unix(1).unwrap();
    let cases: Vec<(ImportedFile, &str, &str)> = vec![
        (unknown, "unknown_account", "Nobody"),
        (no_site, "unknown_site", "Elsewhere"),
        (control, "malformed_request", "U+001B"),
        (empty, "malformed_request", "bytes"),
        (backwards, "malformed_request", "expires before"),
        (
            file(15, vec![(b_line, 1)]),
            "malformed_request",
            "not one of account 'A'",
        ),
        (file(16, vec![(al, 0)]), "malformed_request", "0 units"),
        (
            file(17, vec![(al, 101)]),
            "not_enough",
            "asked 101, available 100",
        ),
        (
            file(1, vec![]),
            "duplicate",
            "00000000000000000000000000000001",
        ),
    ];
    for (bad, kind, words) in cases {
        // A good file goes first: it must not stay either.
        let err = l
            .import_files(vec![file(20, vec![(sl, 1)]), bad], "t", Timestamp::now())
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.to_string().contains(words), "{err}");
        assert_eq!(state(&l), before, "nothing recorded after {err}");
    }
    let err = l
        .import_files(vec![file(21, vec![])], "bad\u{202e}actor", Timestamp::now())
        .unwrap_err();
    assert_eq!(err.kind(), "malformed_request", "{err}");
    assert_eq!(state(&l), before);
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    imported_files_are_recorded_byte_for_byte_with_their_units_and_audit_rows,
    a_refused_import_records_nothing,
);
