//! License-type rules, each against a real ledger file.

mod common;

use common::{add_orders, audit_rows, counts, host, issued_production, ledger, request, Units};
use format::{LicenseType, Restriction, SecretKey, Timestamp, UnverifiedFile};
use issuer::rules::{self, Term};
use issuer::IssuerError;
use store::TxExt;

type ErrCheck = fn(&IssuerError) -> bool;

const T0: &str = "2024-03-01T12:00:00Z";

fn t0() -> Timestamp {
    T0.parse().unwrap()
}

fn parse(bytes: &[u8], key: &SecretKey) -> format::Activation {
    UnverifiedFile::parse(bytes)
        .unwrap()
        .verify(key.public_key())
        .unwrap()
        .activation()
        .clone()
}

/// `(total, used, available)` of `part`; all zero when Contoso does not have the part.
fn used(l: &issuer::Ledger, c: &issuer::Catalog, part: &str) -> (u64, u64, u64) {
    counts(l, c, part).unwrap_or((0, 0, 0))
}

#[test]
fn production_is_perpetual_with_grace_and_optional_switchover() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[("SW-001-4.0-SL03", 2), ("SW-001-4.0-SS03", 1)],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    // Switchover information left for later.
    let req = request(LicenseType::Production, "SW-001-4.0-SL03", &[]);
    let a = parse(&l.issue(&c, &req, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.expires_at, Timestamp::PERPETUAL);
    assert_eq!(a.expires_at.to_string(), "2100-01-01T00:00:00Z");
    assert_eq!(a.grace_days, 30);
    assert!(a.restrictions.is_empty());
    assert_eq!(a.switchover_host, None);
    // Both servers of the pair in one file, using the switchover item.
    let mut pair = req.clone();
    pair.switchover_host_id = Some(host(2));
    pair.switchover_machine = Some("ic2".into());
    pair.switchover_part = Some("SW-001-4.0-SS03".into());
    let a = parse(&l.issue(&c, &pair, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(
        a.switchover_host.as_ref().map(|h| h.machine.as_str()),
        Some("ic2")
    );
    assert!(a.ordered_items.iter().any(|o| o.part == "SW-001-4.0-SS03"));
    assert_eq!(used(&l, &c, "SW-001-4.0-SS03"), (1, 1, 0));
    // Half a switchover host is refused.
    let mut half = req.clone();
    half.switchover_host_id = Some(host(2));
    assert!(matches!(
        l.issue(&c, &half, &key, None, t0()),
        Err(IssuerError::MalformedRequest { .. })
    ));
}

#[test]
fn production_reproduces_the_seed_view_license() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[
            ("SW-001-4.0-SL03", 1),
            ("SW-001-4.0-AL02", 50),
            ("SW-001-4.0-AL06", 125),
            ("SW-001-4.0-PL04", 101),
            ("SW-001-4.0-PL06", 101),
            ("SW-001-4.0-PL09", 169),
        ],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let adds = [
        ("SW-001-4.0-AL02", 50),
        ("SW-001-4.0-AL06", 120),
        ("SW-001-4.0-PL04", 100),
        ("SW-001-4.0-PL06", 100),
        ("SW-001-4.0-PL09", 120),
    ];
    let req = request(LicenseType::Production, "SW-001-4.0-SL03", &adds);
    let a = parse(&l.issue(&c, &req, &key, None, t0()).unwrap().bytes, &key);
    let lic = |n: &str| a.license(n).map(|l| (l.assigned, l.pooled));
    assert_eq!(
        lic("I3_ACCESS_SYSTEM_STATUS_SUPERVISOR_PLUGIN"),
        Some((10, 6))
    );
    assert_eq!(lic("I3_LICENSE_CONFERENCE_SESSION_ADDON"), Some((100, 0)));
    assert_eq!(lic("I3_ACCESS_CLIENT"), Some((170, 0)));
    assert_eq!(lic("I3_ACCESS_ACD_MEDIA_3_PLUS"), Some((120, 0)));
    assert_eq!(
        lic("I3_ACCESS_RECORDER_QUALITYMONITORING_AGENT"),
        Some((120, 0))
    );
    assert_eq!(lic("I3_LICENSE_MEDIA_SESSION_ADDON"), Some((120, 0)));
    assert_eq!(lic("I3_LICENSE_BASIC_STATION"), Some((170, 0)));
    assert_eq!(lic("I3_LICENSE_ADVANCED_SESSION_ADDON"), Some((100, 0)));
    assert_eq!(a.licenses.len(), 8);
    assert_eq!(a.features.len(), 7);
    assert_eq!(a.bundle, "CIC 4.0 Production Bundle");
    // The seed's Account Summary afterwards.
    assert_eq!(used(&l, &c, "SW-001-4.0-AL06"), (125, 120, 5));
    assert_eq!(used(&l, &c, "SW-001-4.0-PL09"), (169, 120, 49));
    assert_eq!(used(&l, &c, "SW-001-4.0-SL03"), (1, 1, 0));
    assert_eq!(used(&l, &c, "SW-001-4.0-IDS1"), (1, 0, 1));
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    // The database refuses a counter above the ordered quantity, whatever the caller does.
    assert!(l
        .raw_for_tests()
        .execute("UPDATE orders SET used = quantity + 1", [])
        .is_err());
}

#[test]
fn trial_runs_sixty_days_without_grace_and_takes_add_ons() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[("SW-001-4.0-TR01", 1), ("SW-001-4.0-AL02", 5)],
        Units::NonPerpetual,
    );
    let key = SecretKey::generate();
    let req = request(
        LicenseType::Trial,
        "SW-001-4.0-TR01",
        &[("SW-001-4.0-AL02", 5)],
    );
    let a = parse(&l.issue(&c, &req, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.expires_at, t0().plus_days(60));
    assert_eq!(a.grace_days, 0);
    assert_eq!(a.license("I3_ACCESS_CLIENT").map(|l| l.assigned), Some(5));
    assert!(a.restrictions.contains(&Restriction::NotForProduction));
}

#[test]
fn perpetual_files_use_perpetual_units_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    l.add_order(&c, "Contoso", "SW-001-4.0-SL03", 1, true, "t")
        .unwrap();
    l.add_order(&c, "Contoso", "SW-001-4.0-AL02", 10, false, "t")
        .unwrap();
    let key = SecretKey::generate();
    let req = request(
        LicenseType::Production,
        "SW-001-4.0-SL03",
        &[("SW-001-4.0-AL02", 1)],
    );
    match l.issue(&c, &req, &key, None, t0()) {
        Err(IssuerError::NotEnough {
            part,
            asked: 1,
            available: 0,
            note,
            ..
        }) => {
            assert_eq!(part, "SW-001-4.0-AL02");
            assert!(note.contains("10 non-perpetual"), "{note}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(used(&l, &c, "SW-001-4.0-SL03"), (1, 0, 1));
}

#[test]
fn ordered_development_runs_one_year_disconnects_hourly_and_has_fixed_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[
            ("SW-001-4.0-DS1", 1),
            ("SW-001-4.0-DS2", 1),
            ("SW-001-4.0-AL02", 5),
        ],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let small = request(LicenseType::DevelopmentSmall, "SW-001-4.0-DS1", &[]);
    let a = parse(&l.issue(&c, &small, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.expires_at, t0().plus_days(365));
    assert!(a.restrictions.contains(&Restriction::HourlyDisconnect));
    assert_eq!(a.grace_days, 7);
    assert_eq!(a.features, c.version("CIC", "4.0").unwrap().features);
    for key_name in c.access_and_session_keys("CIC 4.0") {
        assert_eq!(
            a.license(key_name).map(|l| (l.assigned, l.pooled)),
            Some((8, 0)),
            "{key_name}"
        );
    }
    let large = request(LicenseType::DevelopmentLarge, "SW-001-4.0-DS2", &[]);
    let a = parse(&l.issue(&c, &large, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.license("I3_ACCESS_CLIENT").map(|l| l.assigned), Some(30));
    // Add-ons are not accepted; a small system cannot be issued as large.
    let with_add = request(
        LicenseType::DevelopmentSmall,
        "SW-001-4.0-DS1",
        &[("SW-001-4.0-AL02", 1)],
    );
    assert!(matches!(
        l.issue(&c, &with_add, &key, None, t0()),
        Err(IssuerError::Rule { .. })
    ));
    let wrong = request(LicenseType::DevelopmentLarge, "SW-001-4.0-DS1", &[]);
    assert!(matches!(
        l.issue(&c, &wrong, &key, None, t0()),
        Err(IssuerError::Rule { .. })
    ));
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (5, 0, 5));
}

#[test]
fn non_ordered_development_comes_with_the_server_and_partners_get_thirty_days() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    // Ordering the server adds its development system.
    assert_eq!(
        l.add_order(&c, "Contoso", "SW-001-4.0-SL03", 1, true, "t")
            .unwrap()
            .as_deref(),
        Some("SW-001-4.0-IDS1")
    );
    let key = SecretKey::generate();
    let req = request(LicenseType::DevelopmentSmall, "SW-001-4.0-IDS1", &[]);
    let a = parse(&l.issue(&c, &req, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.expires_at, t0().plus_days(365));
    assert!(a.restrictions.contains(&Restriction::HourlyDisconnect));
    assert_eq!(used(&l, &c, "SW-001-4.0-IDS1"), (1, 1, 0));
    // The included unit is used up for the customer...
    assert!(matches!(
        l.issue(&c, &req, &key, None, t0()),
        Err(IssuerError::NotEnough { .. })
    ));
    // ...but a certified partner may generate any number of 30-day files.
    let mut partner = req.clone();
    partner.partner = true;
    partner.server_part = "SW-001-4.0-IDS2".into();
    partner.license_type = LicenseType::DevelopmentLarge;
    for _ in 0..3 {
        let a = parse(
            &l.issue(&c, &partner, &key, None, t0()).unwrap().bytes,
            &key,
        );
        assert_eq!(a.expires_at, t0().plus_days(30));
        assert!(a.restrictions.contains(&Restriction::HourlyDisconnect));
        assert!(a.ordered_items.is_empty());
    }
    assert_eq!(used(&l, &c, "SW-001-4.0-IDS1"), (1, 1, 0));
}

#[test]
fn evaluation_is_a_fixed_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[("SW-001-4.0-EV01", 1), ("SW-001-4.0-AL02", 5)],
        Units::NonPerpetual,
    );
    let key = SecretKey::generate();
    let with_add = request(
        LicenseType::Evaluation,
        "SW-001-4.0-EV01",
        &[("SW-001-4.0-AL02", 1)],
    );
    match l.issue(&c, &with_add, &key, None, t0()) {
        Err(e @ IssuerError::Rule { .. }) => assert_eq!(e.exit_code(), 2),
        other => panic!("{other:?}"),
    }
    let req = request(LicenseType::Evaluation, "SW-001-4.0-EV01", &[]);
    let a = parse(&l.issue(&c, &req, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.license("I3_ACCESS_CLIENT").map(|l| l.assigned), Some(5));
    assert_eq!(
        a.expires_at,
        t0().plus_days(i64::from(rules::EVALUATION_DAYS))
    );
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (5, 0, 5));
}

#[test]
fn disaster_recovery_never_exceeds_its_production_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, prod_id) = issued_production(
        dir.path(),
        &[
            ("SW-001-4.0-SL03", 1),
            ("SW-001-4.0-DR03", 2),
            ("SW-001-4.0-AL02", 100),
        ],
        &[("SW-001-4.0-AL02", 40)],
        t0(),
    );

    let mut dr = request(
        LicenseType::DisasterRecovery,
        "SW-001-4.0-DR03",
        &[("SW-001-4.0-AL02", 41)],
    );
    dr.host_id = host(9);
    // The related production file is required.
    assert!(matches!(
        l.issue(&c, &dr, &key, None, t0()),
        Err(IssuerError::Rule { .. })
    ));
    dr.related = Some(prod_id.clone());
    match l.issue(&c, &dr, &key, None, t0()) {
        Err(IssuerError::ExceedsProduction {
            asked: 41,
            allowed: 40,
            what,
            ..
        }) => assert!(
            what.contains("I3_ACCESS_CLIENT") || what.contains("I3_LICENSE_BASIC_STATION"),
            "{what}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (100, 40, 60));
    dr.add[0].quantity = 40;
    let a = parse(&l.issue(&c, &dr, &key, None, t0()).unwrap().bytes, &key);
    assert_eq!(a.expires_at, Timestamp::PERPETUAL);
    assert_eq!(used(&l, &c, "SW-001-4.0-AL02"), (100, 80, 20));
    // An unknown related file.
    dr.related = Some("00".repeat(16));
    assert!(matches!(
        l.issue(&c, &dr, &key, None, t0()),
        Err(IssuerError::UnknownFile { .. })
    ));
}

#[test]
fn every_type_has_a_rule_and_only_trials_lack_grace() {
    for t in LicenseType::ALL {
        let r = rules::rule(t);
        assert_eq!(r.license_type, t);
        let trial = matches!(t, LicenseType::Trial | LicenseType::TrialSystem);
        assert_eq!(r.grace_days == 0, trial, "{t}");
        assert_eq!(
            r.restrictions.contains(&Restriction::HourlyDisconnect),
            t.is_development(),
            "{t}"
        );
        let perpetual = matches!(
            t,
            LicenseType::Production
                | LicenseType::Switchover
                | LicenseType::DisasterRecovery
                | LicenseType::MediaServer
                | LicenseType::MultiSiteAdministration
                | LicenseType::EfaqProduction
        );
        assert_eq!(r.term == Term::Perpetual, perpetual, "{t}");
        assert!(!r.description.is_empty());
    }
    assert_eq!(rules::rule(LicenseType::Trial).term, Term::Days(60));
}

#[test]
fn parts_must_fit_the_product_and_the_slot() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    l.add_order(&c, "Contoso", "SW-001-4.0-SL03", 1, true, "t")
        .unwrap();
    let key = SecretKey::generate();
    let cases: Vec<(issuer::IssueRequest, ErrCheck)> = vec![
        (
            request(LicenseType::Production, "SW-001-3.0-SL03", &[]),
            |e| matches!(e, IssuerError::PartMismatch { .. }),
        ),
        (
            request(LicenseType::Production, "SW-001-4.0-AL02", &[]),
            |e| matches!(e, IssuerError::PartMismatch { .. }),
        ),
        (
            request(
                LicenseType::Production,
                "SW-001-4.0-SL03",
                &[("SW-001-4.0-SL02", 1)],
            ),
            |e| matches!(e, IssuerError::PartMismatch { .. }),
        ),
        (
            request(LicenseType::Production, "SW-001-4.0-NOPE", &[]),
            |e| matches!(e, IssuerError::UnknownPart { .. }),
        ),
        (
            request(
                LicenseType::Production,
                "SW-001-4.0-SL03",
                &[("SW-001-4.0-AL02", 0)],
            ),
            |e| matches!(e, IssuerError::MalformedRequest { .. }),
        ),
        (
            request(
                LicenseType::Production,
                "SW-001-4.0-SL03",
                &[("SW-001-4.0-AL02", 1), ("SW-001-4.0-AL02", 1)],
            ),
            |e| matches!(e, IssuerError::MalformedRequest { .. }),
        ),
        (request(LicenseType::Trial, "SW-001-4.0-SL03", &[]), |e| {
            matches!(e, IssuerError::Rule { .. })
        }),
    ];
    for (req, expected) in cases {
        let err = l.issue(&c, &req, &key, None, t0()).unwrap_err();
        assert!(expected(&err), "{req:?}: {err:?}");
    }
    assert_eq!(used(&l, &c, "SW-001-4.0-SL03"), (1, 0, 1));
}

#[test]
fn download_is_byte_identical_after_reopening_and_the_audit_chain_links() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    l.add_order(&c, "Contoso", "SW-001-4.0-SL03", 1, true, "t")
        .unwrap();
    let key = SecretKey::generate();
    let out = dir.path().join("ic1.i3lic");
    let issued = l
        .issue(
            &c,
            &request(LicenseType::Production, "SW-001-4.0-SL03", &[]),
            &key,
            Some(&out),
            t0(),
        )
        .unwrap();
    drop(l);
    let l = issuer::Ledger::open(&dir.path().join("ledger.db")).unwrap();
    let id = issued.file_id.to_string();
    assert_eq!(l.file_bytes(&id).unwrap(), std::fs::read(&out).unwrap());
    assert_eq!(
        l.file_bytes(&id.to_uppercase()).unwrap(),
        l.file_bytes(&id).unwrap()
    );
    assert!(matches!(
        l.file_bytes(&"ab".repeat(16)),
        Err(IssuerError::UnknownFile { .. })
    ));

    let conn = l.raw_for_tests();
    let rows = audit_rows(conn);
    let mut prev = vec![0u8; 32];
    for r in &rows {
        assert_eq!(r.prev_hash, prev);
        let h = r.expected_hash();
        assert_eq!(r.hash.as_slice(), h.as_slice(), "row {}", r.seq);
        prev = r.hash.clone();
    }
    assert!(rows
        .iter()
        .any(|r| r.action == "file.issue" && r.subject == id));
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert!(conn.execute("UPDATE files SET bytes = x'00'", []).is_err());
}

/// A request whose file the format would refuse is refused when planned, before any key is
/// loaded: a switchover host equal to the primary host.
#[test]
fn switchover_host_equal_to_primary_is_refused_when_planned() {
    let catalog = issuer::Catalog::built_in().unwrap();
    let mut req = request(LicenseType::Production, "SW-001-4.0-SL03", &[]);
    req.switchover_host_id = Some(req.host_id.clone());
    req.switchover_machine = Some("ic2".into());
    let err = rules::plan(&catalog, &req).unwrap_err();
    assert!(
        matches!(&err, IssuerError::MalformedRequest { reason } if reason.contains("switchover_host")),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), 3);
}

/// A catalog may name a product so long that the bundle name the file would carry exceeds
/// the format's text limit: refused when planned, naming the field.
#[test]
fn bundle_name_over_the_format_limit_is_refused_when_planned() {
    let long = "P".repeat(500);
    let text = issuer::catalog::BUILT_IN
        .replace(
            "version | CIC | 4.0 |",
            &format!("version | {long} | 4.0 |"),
        )
        .replace("| CIC 4.0 |", &format!("| {long} 4.0 |"));
    let catalog = issuer::Catalog::parse(&text).unwrap();
    let mut req = request(LicenseType::Production, "SW-001-4.0-SL03", &[]);
    req.product = long;
    let err = rules::plan(&catalog, &req).unwrap_err();
    assert!(
        matches!(&err, IssuerError::MalformedRequest { reason } if reason.contains("bundle")),
        "{err:?}"
    );
}

/// Parts are matched without case, so one item given twice in two spellings is one item given
/// twice: refused when planned, rather than planned as two lines of the same part.
#[test]
fn an_item_given_twice_in_two_spellings_is_refused_when_planned() {
    let catalog = issuer::Catalog::built_in().unwrap();
    let req = request(
        LicenseType::Production,
        "SW-001-4.0-SL03",
        &[("SW-001-4.0-AL02", 2), ("sw-001-4.0-al02", 3)],
    );
    let err = rules::plan(&catalog, &req).unwrap_err();
    assert!(
        matches!(&err, IssuerError::MalformedRequest { reason } if reason.contains("given twice")),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), 3);
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    production_is_perpetual_with_grace_and_optional_switchover,
    production_reproduces_the_seed_view_license,
    trial_runs_sixty_days_without_grace_and_takes_add_ons,
    perpetual_files_use_perpetual_units_only,
    ordered_development_runs_one_year_disconnects_hourly_and_has_fixed_counts,
    non_ordered_development_comes_with_the_server_and_partners_get_thirty_days,
    evaluation_is_a_fixed_configuration,
    disaster_recovery_never_exceeds_its_production_file,
    every_type_has_a_rule_and_only_trials_lack_grace,
    parts_must_fit_the_product_and_the_slot,
    switchover_host_equal_to_primary_is_refused_when_planned,
    bundle_name_over_the_format_limit_is_refused_when_planned,
    an_item_given_twice_in_two_spellings_is_refused_when_planned,
);
