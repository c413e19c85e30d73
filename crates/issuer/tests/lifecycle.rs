//! Update, deactivate, activity, show and upgrade, each rule against a real ledger file.

mod common;

use common::{
    add_orders, audit_rows, cli_ledger, counts, host, issued_production, ledger, ok, pq, request,
    run, unencrypted_key, update_by, AuditRow, IssueFlags, Units, AL02, AL06, SL03,
};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::{ActivityFilter, Catalog, IssuerError, Ledger, UpdateRequest, UpgradeSelection};

/// `(total, used, available)` of a part Contoso has.
fn part(l: &Ledger, c: &Catalog, p: &str) -> (u64, u64, u64) {
    counts(l, c, p).unwrap()
}

fn upd() -> UpdateRequest {
    update_by("Updater")
}

/// Contoso with SL03 ×2, AL02 ×50, AL06 ×10 and one production file (AL02 ×40).
fn setup(dir: &std::path::Path) -> (Ledger, Catalog, SecretKey, String) {
    issued_production(
        dir,
        &[(SL03, 2), (AL02, 50), (AL06, 10)],
        &[(AL02, 40)],
        Timestamp::now(),
    )
}

#[test]
fn update_adds_the_switchover_server_later_and_supersedes_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, old) = setup(dir.path());
    // A switchover host needs a switchover server item available.
    add_orders(&mut l, &c, &[("SW-001-4.0-SS03", 1)], Units::Perpetual);
    let out = dir.path().join("pair.i3lic");
    let mut u = upd();
    u.switchover_host_id = Some(host(2));
    u.switchover_machine = Some("ic2".into());
    let new = l
        .update(&c, &old, &u, &key, Some(&out), Timestamp::now())
        .unwrap();
    let a = format::UnverifiedFile::parse(&std::fs::read(&out).unwrap())
        .unwrap()
        .verify(key.public_key())
        .unwrap()
        .into_activation();
    assert_eq!(a.supersedes.map(|s| s.to_string()), Some(old.clone()));
    let sw = a.switchover_host.expect("switchover host in the new file");
    assert_eq!(
        (sw.host_id.to_string(), sw.machine.as_str()),
        (host(2), "ic2")
    );
    assert_eq!(a.generated_by, "Updater");
    // Seats moved, not doubled: one server, 40 AL02, as before.
    assert_eq!(part(&l, &c, SL03), (2, 1, 1));
    assert_eq!(part(&l, &c, AL02), (50, 40, 10));
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    let old_d = l.show(&c, &old).unwrap();
    assert_eq!(old_d.status, "superseded");
    assert_eq!(old_d.superseded_by, Some(new.file_id.to_string()));
    let new_d = l.show(&c, &new.file_id.to_string()).unwrap();
    assert_eq!(
        (new_d.status, new_d.supersedes.clone()),
        ("active", Some(old))
    );
    assert_eq!(std::fs::read(&out).unwrap(), new.bytes);
}

#[test]
fn update_changes_quantities_with_add_and_set() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f1) = setup(dir.path());
    let mut u = upd();
    u.add = vec![pq(AL02, 10), pq(AL06, 4)];
    let f2 = l.update(&c, &f1, &u, &key, None, Timestamp::now()).unwrap();
    assert_eq!(part(&l, &c, AL02), (50, 50, 0), "40 + 10, not 40 + 50");
    assert_eq!(part(&l, &c, AL06), (10, 4, 6));
    let mut u = upd();
    u.set = vec![pq(AL02, 5), pq(AL06, 0)];
    let f3 = l
        .update(
            &c,
            &f2.file_id.to_string(),
            &u,
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap();
    assert_eq!(part(&l, &c, AL02), (50, 5, 45));
    assert_eq!(part(&l, &c, AL06), (10, 0, 10));
    let d = l.show(&c, &f3.file_id.to_string()).unwrap();
    let items: Vec<(&str, u32)> = d
        .activation
        .ordered_items
        .iter()
        .map(|o| (o.part.as_str(), o.quantity))
        .collect();
    assert_eq!(items, vec![(SL03, 1), (AL02, 5)]);
    let client = d.activation.license("I3_ACCESS_CLIENT").unwrap();
    assert_eq!(client.assigned, 5);
    assert_eq!(l.verify_usage().unwrap(), vec![]);
}

#[test]
fn update_beyond_what_is_available_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f1) = setup(dir.path());
    let mut u = upd();
    u.add = vec![pq(AL02, 11)];
    let out = dir.path().join("x.i3lic");
    let e = l
        .update(&c, &f1, &u, &key, Some(&out), Timestamp::now())
        .unwrap_err();
    // The message counts what was asked (11 more) and what is free beyond the 40 the file
    // holds, not the 51 the new file would hold.
    assert!(
        matches!(&e, IssuerError::NotEnough { part, asked: 11, available: 10, .. } if part == AL02),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("asked 11, available 10 (beyond the 40 the file already holds)"),
        "{e}"
    );
    assert_eq!(e.exit_code(), 20);
    assert!(!out.exists());
    assert_eq!(l.show(&c, &f1).unwrap().status, "active");
    assert_eq!(part(&l, &c, AL02), (50, 40, 10));
}

#[test]
fn updating_an_inactive_or_superseded_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f1) = setup(dir.path());
    let mut u = upd();
    u.add = vec![pq(AL02, 1)];
    let f2 = l.update(&c, &f1, &u, &key, None, Timestamp::now()).unwrap();
    let e = l
        .update(&c, &f1, &u, &key, None, Timestamp::now())
        .unwrap_err();
    match &e {
        IssuerError::NotActive { id, reason } => {
            assert_eq!(id, &f1);
            assert!(reason.contains(&f2.file_id.to_string()), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.exit_code(), 20);
    l.deactivate(&f2.file_id.to_string(), "t", Timestamp::now())
        .unwrap();
    let e = l
        .update(
            &c,
            &f2.file_id.to_string(),
            &u,
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap_err();
    assert!(matches!(e, IssuerError::NotActive { .. }), "{e:?}");
    let e = l
        .update(
            &c,
            "00000000000000000000000000000000",
            &u,
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap_err();
    assert!(matches!(e, IssuerError::UnknownFile { .. }), "{e:?}");
}

#[test]
fn an_update_that_changes_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f1) = setup(dir.path());
    let mut u = upd();
    u.set = vec![pq(AL02, 40)];
    let e = l
        .update(&c, &f1, &u, &key, None, Timestamp::now())
        .unwrap_err();
    assert!(matches!(e, IssuerError::NoChange { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 2);
    assert_eq!(l.show(&c, &f1).unwrap().status, "active");
}

#[test]
fn an_update_never_renews_a_time_limited_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[("SW-001-4.0-TR01", 1), (AL02, 10)],
        Units::NonPerpetual,
    );
    let key = SecretKey::generate();
    let issued_at = Timestamp::now().plus_days(-20);
    let t = l
        .issue(
            &c,
            &request(LicenseType::Trial, "SW-001-4.0-TR01", &[(AL02, 5)]),
            &key,
            None,
            issued_at,
        )
        .unwrap();
    let mut u = upd();
    u.add = vec![pq(AL02, 5)];
    let n = l
        .update(&c, &t.file_id.to_string(), &u, &key, None, Timestamp::now())
        .unwrap();
    assert_eq!(n.expires_at, t.expires_at);
    assert_eq!(n.expires_at, issued_at.plus_days(60));
}

#[test]
fn deactivate_returns_units_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, f1) = setup(dir.path());
    let returned = l.deactivate(&f1, "bob", Timestamp::now()).unwrap();
    assert_eq!(
        returned,
        vec![(AL02.to_string(), 40), (SL03.to_string(), 1)]
    );
    assert_eq!(part(&l, &c, AL02), (50, 0, 50));
    assert_eq!(part(&l, &c, SL03), (2, 0, 2));
    let e = l.deactivate(&f1, "bob", Timestamp::now()).unwrap_err();
    match &e {
        IssuerError::NotActive { reason, .. } => assert!(reason.contains("bob"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.exit_code(), 20);
    assert_eq!(part(&l, &c, AL02), (50, 0, 50), "not returned twice");
    let d = l.show(&c, &f1).unwrap();
    assert_eq!(
        (d.status, d.deactivated_by.as_deref()),
        ("deactivated", Some("bob"))
    );
    assert_eq!(l.verify_usage().unwrap(), vec![]);
}

#[test]
fn activity_filters_like_the_seed_tab() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    l.add_site("Contoso", "Lab", &Default::default(), "t")
        .unwrap();
    add_orders(
        &mut l,
        &c,
        &[(SL03, 5), ("SW-001-4.0-DS1", 1), ("SW-001-4.0-SS03", 1)],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let day = |d: &str| -> Timestamp { format!("{d}T12:00:00Z").parse().unwrap() };
    let mut a = request(LicenseType::Production, SL03, &[]);
    a.machine = "alpha".into();
    let fa = l.issue(&c, &a, &key, None, day("2024-01-10")).unwrap();
    let mut b = request(LicenseType::Production, SL03, &[]);
    b.site = "Lab".into();
    b.machine = "beta".into();
    b.generated_by = "portal:Partner Pat".into();
    b.switchover_host_id = Some(host(9));
    b.switchover_machine = Some("beta-sw".into());
    let fb = l.issue(&c, &b, &key, None, day("2024-02-10")).unwrap();
    let mut d = request(LicenseType::DevelopmentSmall, "SW-001-4.0-DS1", &[]);
    d.machine = "devbox".into();
    let fd = l.issue(&c, &d, &key, None, day("2024-03-10")).unwrap();
    let mut u = upd();
    u.machine = Some("alpha2".into());
    let fa2 = l
        .update(
            &c,
            &fa.file_id.to_string(),
            &u,
            &key,
            None,
            day("2024-04-10"),
        )
        .unwrap();
    let ids = |f: ActivityFilter| -> Vec<String> {
        l.activity(&f).unwrap().into_iter().map(|r| r.id).collect()
    };
    let s = |i: &issuer::Issued| i.file_id.to_string();
    let all = ActivityFilter {
        account: Some("Contoso".into()),
        ..Default::default()
    };
    assert_eq!(
        ids(all.clone()),
        vec![s(&fa2), s(&fd), s(&fb), s(&fa)],
        "newest first"
    );
    let f = |g: &dyn Fn(&mut ActivityFilter)| {
        let mut x = all.clone();
        g(&mut x);
        ids(x)
    };
    assert_eq!(f(&|x| x.active = Some(true)), vec![s(&fa2), s(&fd), s(&fb)]);
    assert_eq!(f(&|x| x.active = Some(false)), vec![s(&fa)]);
    assert_eq!(f(&|x| x.site = Some("Lab".into())), vec![s(&fb)]);
    assert_eq!(
        f(&|x| {
            x.from = Some(day("2024-02-01"));
            x.to = Some(day("2024-03-31"));
        }),
        vec![s(&fd), s(&fb)]
    );
    assert_eq!(
        f(&|x| x.license_type = Some(LicenseType::DevelopmentSmall)),
        vec![s(&fd)]
    );
    assert_eq!(
        f(&|x| x.generated_by = Some("PORTAL:partner pat".into())),
        vec![s(&fb)]
    );
    assert_eq!(
        f(&|x| x.generated_by = Some("partner pat".into())),
        vec![s(&fb)],
        "a portal user's files by the address alone"
    );
    assert!(f(&|x| x.generated_by = Some("portal:".into())).is_empty());
    assert_eq!(
        f(&|x| x.machine = Some("BETA-SW".into())),
        vec![s(&fb)],
        "switchover machine"
    );
    assert_eq!(f(&|x| x.product_line = Some("CIC 4.0".into())).len(), 4);
    assert_eq!(f(&|x| x.product_line = Some("CIC 3.0".into())).len(), 0);
    let rows = l.activity(&all).unwrap();
    let old = rows.iter().find(|r| r.id == s(&fa)).unwrap();
    assert_eq!(
        old.superseded_by,
        Some(s(&fa2)),
        "a superseded file names its successor"
    );
    assert!(!old.active);
    let pair = rows.iter().find(|r| r.id == s(&fb)).unwrap();
    assert_eq!(pair.switchover_machine.as_deref(), Some("beta-sw"));
    let e = l
        .activity(&ActivityFilter {
            account: Some("Nobody".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(e, IssuerError::UnknownAccount { .. }));
}

#[test]
fn show_is_the_view_license_page() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[(SL03, 1), ("SW-001-4.0-SS03", 1), (AL02, 50)],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let mut r = request(LicenseType::Production, SL03, &[(AL02, 50)]);
    r.switchover_host_id = Some(host(2));
    r.switchover_machine = Some("ic2".into());
    r.switchover_part = Some("SW-001-4.0-SS03".into());
    let f = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    let d = l.show(&c, &f.file_id.to_string()).unwrap();
    let a = &d.activation;
    assert_eq!(
        (a.product.as_str(), a.product_version.as_str()),
        ("CIC", "4.0")
    );
    assert_eq!(a.expires_at, Timestamp::PERPETUAL);
    assert_eq!(a.generated_by, "Work Test80");
    assert_eq!(
        (a.sold_to.as_str(), a.install_site.as_str()),
        ("Contoso", "HQ")
    );
    assert_eq!(a.primary_host.machine, "ic1");
    assert_eq!(a.switchover_host.as_ref().unwrap().machine, "ic2");
    assert_eq!(a.system_type, "Media Server Based (4.0+ only)");
    assert_eq!(a.mail_connector, "Microsoft Exchange Server");
    assert_eq!(a.bundle, "CIC 4.0 Production Bundle");
    assert!(a.features.iter().any(|f| f == "I3_FEATURE_VERSION_CIC"));
    let sup = a
        .license("I3_ACCESS_SYSTEM_STATUS_SUPERVISOR_PLUGIN")
        .unwrap();
    assert_eq!((sup.assigned, sup.pooled), (10, 6));
    let items: Vec<&str> = a.ordered_items.iter().map(|o| o.part.as_str()).collect();
    assert_eq!(items, vec![SL03, "SW-001-4.0-SS03", AL02]);
    assert_eq!((d.status, d.active), ("active", true));
    assert_eq!(d.server_part, SL03);
}

/// Contoso with 3.0 items (SL03 ×1 + its IDS1, AL02 ×35, AL04 ×9) and a 3.0 file using AL02 ×20.
fn three_oh(dir: &std::path::Path) -> (Ledger, Catalog, SecretKey, String) {
    let (mut l, c) = ledger(dir);
    add_orders(
        &mut l,
        &c,
        &[
            ("SW-001-3.0-SL03", 1),
            ("SW-001-3.0-AL02", 35),
            ("SW-001-3.0-AL04", 9),
        ],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let mut r = request(
        LicenseType::Production,
        "SW-001-3.0-SL03",
        &[("SW-001-3.0-AL02", 20)],
    );
    r.version = "3.0".into();
    let f = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    (l, c, key, f.file_id.to_string())
}

#[test]
fn upgrade_with_mirroring_moves_every_part_with_an_upgrade_option() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f30) = three_oh(dir.path());
    let moved = l
        .upgrade(
            &c,
            "Contoso",
            "CIC",
            "3.0",
            "4.0",
            &UpgradeSelection::Mirror,
            false,
            "t",
        )
        .unwrap();
    let mut parts: Vec<(&str, &str, u64, u64)> = moved
        .iter()
        .map(|m| (m.from_part.as_str(), m.to_part.as_str(), m.quantity, m.used))
        .collect();
    parts.sort();
    assert_eq!(
        parts,
        vec![
            ("SW-001-3.0-AL02", "SW-001-4.0-AL02", 35, 20),
            ("SW-001-3.0-AL04", "SW-001-4.0-AL04", 9, 0),
            ("SW-001-3.0-IDS1", "SW-001-4.0-IDS1", 1, 0),
            ("SW-001-3.0-SL03", "SW-001-4.0-SL03", 1, 1),
        ]
    );
    let s = l.summary(&c, "Contoso", None).unwrap();
    assert!(
        s.parts.iter().all(|p| p.category == "CIC 4.0"),
        "3.0 lines are closed"
    );
    // The active 3.0 file's units count on the 4.0 lines: nothing is handed out twice.
    assert_eq!(part(&l, &c, AL02), (35, 20, 15));
    assert_eq!(part(&l, &c, SL03), (1, 1, 0));
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    let e = l
        .issue(
            &c,
            &request(LicenseType::Production, SL03, &[(AL02, 1)]),
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap_err();
    assert!(
        matches!(&e, IssuerError::NotEnough { part, .. } if part == SL03),
        "{e:?}"
    );
    // Deactivating the 3.0 file frees the 4.0 units; no 3.0 file can be issued any more.
    l.deactivate(&f30, "t", Timestamp::now()).unwrap();
    assert_eq!(part(&l, &c, AL02), (35, 0, 35));
    l.issue(
        &c,
        &request(LicenseType::Production, SL03, &[(AL02, 35)]),
        &key,
        None,
        Timestamp::now(),
    )
    .unwrap();
    let mut r = request(LicenseType::Production, "SW-001-3.0-SL03", &[]);
    r.version = "3.0".into();
    let e = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap_err();
    assert!(matches!(e, IssuerError::NotEnough { .. }), "{e:?}");
    assert!(l.verify_audit(None).unwrap().intact());
}

#[test]
fn upgrade_without_mirroring_moves_only_the_parts_named() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, _key, _f) = three_oh(dir.path());
    let sel = UpgradeSelection::Parts(vec!["SW-001-3.0-AL04".into()]);
    let dry = l
        .upgrade(&c, "Contoso", "CIC", "3.0", "4.0", &sel, true, "t")
        .unwrap();
    assert_eq!(dry.len(), 1);
    assert_eq!(dry[0].to_order, None);
    assert!(
        l.summary(&c, "Contoso", None)
            .unwrap()
            .parts
            .iter()
            .all(|p| p.category == "CIC 3.0"),
        "dry run"
    );
    let moved = l
        .upgrade(&c, "Contoso", "CIC", "3.0", "4.0", &sel, false, "t")
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert!(!moved[0].mirrored);
    let s = l.summary(&c, "Contoso", None).unwrap();
    let parts: Vec<&str> = s.parts.iter().map(|p| p.part.as_str()).collect();
    assert_eq!(
        parts,
        vec![
            "SW-001-3.0-AL02",
            "SW-001-3.0-IDS1",
            "SW-001-3.0-SL03",
            "SW-001-4.0-AL04"
        ]
    );
    // Named again: nothing left to move. A part of the wrong version or without an option.
    let e = l
        .upgrade(&c, "Contoso", "CIC", "3.0", "4.0", &sel, false, "t")
        .unwrap_err();
    assert!(matches!(e, IssuerError::NothingToUpgrade { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 20);
    let e = l
        .upgrade(
            &c,
            "Contoso",
            "CIC",
            "3.0",
            "4.0",
            &UpgradeSelection::Parts(vec![AL02.into()]),
            false,
            "t",
        )
        .unwrap_err();
    assert!(matches!(e, IssuerError::PartMismatch { .. }), "{e:?}");
    let e = l
        .upgrade(
            &c,
            "Contoso",
            "CIC",
            "3.0",
            "4.0",
            &UpgradeSelection::Parts(vec!["SW-9".into()]),
            false,
            "t",
        )
        .unwrap_err();
    assert!(matches!(e, IssuerError::UnknownPart { .. }), "{e:?}");
}

#[test]
fn every_change_appends_an_audit_row_with_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, f1) = three_oh(dir.path());
    let mut u = upd();
    u.add = vec![pq("SW-001-3.0-AL02", 1)];
    let f2 = l.update(&c, &f1, &u, &key, None, Timestamp::now()).unwrap();
    l.deactivate(&f2.file_id.to_string(), "t", Timestamp::now())
        .unwrap();
    l.upgrade(
        &c,
        "Contoso",
        "CIC",
        "3.0",
        "4.0",
        &UpgradeSelection::Mirror,
        false,
        "t",
    )
    .unwrap();
    let rows = audit_rows(l.raw_for_tests());
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "account.add",
        "site.add",
        "site.set-active",
        "order.add",
        "file.issue",
        "file.update",
        "file.deactivate",
        "order.upgrade",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    for AuditRow {
        action,
        actor,
        at,
        before,
        after,
        ..
    } in &rows
    {
        assert!(!actor.is_empty() && *at > 0, "{action}");
        assert!(after.is_some(), "{action} has no after");
        if [
            "site.set-active",
            "file.issue",
            "file.update",
            "file.deactivate",
            "order.upgrade",
        ]
        .contains(&action.as_str())
        {
            assert!(before.is_some(), "{action} has no before");
        }
    }
    let json = |s: &Option<String>| {
        serde_json::from_str::<serde_json::Value>(s.as_deref().unwrap()).unwrap()
    };
    let d = rows.iter().find(|r| r.action == "file.deactivate").unwrap();
    let used = |v: &serde_json::Value| {
        v["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["used"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(
        used(&json(&d.before)) - used(&json(&d.after)),
        22,
        "before/after counters of SL03 + 21 AL02"
    );
    assert!(l.verify_audit(None).unwrap().intact());
}

#[test]
fn cli_update_deactivate_activity_show_upgrade_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let key = unencrypted_key(dir.path());
    let k = key.to_str().unwrap();
    let db = cli_ledger(
        dir.path(),
        &[
            (SL03, 1),
            (AL02, 50),
            ("SW-001-3.0-AL04", 9),
            ("SW-001-4.0-SS03", 1),
        ],
        Units::Perpetual,
    );
    let (h1, h2) = (host(1), host(2));
    let o1 = dir.path().join("1.i3lic");
    let add = format!("{AL02}=40");
    let id = ok(
        &db,
        &IssueFlags {
            license_type: "production",
            host_id: &h1,
            machine: "ic1",
            server_part: SL03,
            add: Some(&add),
            key: k,
            out: o1.to_str().unwrap(),
        }
        .args(),
    );
    let id = id.trim();
    let o2 = dir.path().join("2.i3lic");
    let new = ok(
        &db,
        &[
            "update",
            id,
            "--switchover-host-id",
            &h2,
            "--switchover-machine",
            "ic2",
            "--add",
            &format!("{AL02}=10"),
            "--key",
            k,
            "--out",
            o2.to_str().unwrap(),
        ],
    );
    let new = new.trim();
    assert_eq!(new.len(), 32);
    let o3 = dir.path().join("3.i3lic");
    let r = run(
        &db,
        &[
            "update",
            id,
            "--add",
            &format!("{AL02}=1"),
            "--key",
            k,
            "--out",
            o3.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(20));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("not active") && err.contains(new), "{err}");
    assert!(!o3.exists());
    let act = ok(
        &db,
        &["activity", "--account", "Contoso", "--active", "all"],
    );
    assert!(act.contains(&format!("superseded by {new}")), "{act}");
    assert!(act.contains("ic1 + ic2"), "{act}");
    let j: serde_json::Value =
        serde_json::from_str(&ok(&db, &["activity", "--account", "Contoso", "--json"])).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 1, "active only by default");
    assert_eq!(j[0]["id"], new);
    let show = ok(&db, &["show", new]);
    for s in [
        "CIC 4.0",
        "ic2",
        &h2,
        "I3_ACCESS_CLIENT (50 assigned, 0 pooled)",
        &format!("{AL02} Business Client (50)"),
        &format!("Supersedes       {id}"),
    ] {
        assert!(show.contains(s), "{s} missing:\n{show}");
    }
    let d = ok(&db, &["deactivate", new, "--approve"]);
    assert!(d.contains(&format!("returned 50 x {AL02}")), "{d}");
    let r = run(&db, &["deactivate", new]);
    assert_eq!(r.status.code(), Some(20));
    assert!(String::from_utf8_lossy(&r.stderr).contains("deactivated"));
    let r = run(&db, &["activity", "--active", "maybe"]);
    assert_eq!(r.status.code(), Some(2));
    let r = run(
        &db,
        &[
            "upgrade",
            "--account",
            "Contoso",
            "--from",
            "3.0",
            "--to",
            "4.0",
        ],
    );
    assert_eq!(r.status.code(), Some(2), "neither --mirror nor --part");
    let up = ok(
        &db,
        &[
            "upgrade",
            "--account",
            "Contoso",
            "--from",
            "3.0",
            "--to",
            "4.0",
            "--part",
            "SW-001-3.0-AL04",
        ],
    );
    assert!(up.contains("SW-001-4.0-AL04"), "{up}");
    let v = ok(&db, &["audit", "verify"]);
    assert!(v.starts_with("audit log intact"), "{v}");
    let head = ok(&db, &["audit", "head"]);
    ok(&db, &["audit", "verify", "--head", head.trim()]);
}

#[test]
fn summary_for_one_site_has_one_header_and_aligned_columns() {
    let dir = tempfile::tempdir().unwrap();
    let db = cli_ledger(dir.path(), &[(SL03, 1), (AL02, 50)], Units::Perpetual);
    let s = ok(&db, &["summary", "--account", "Contoso", "--site", "HQ"]);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines[0], "Account: Contoso  Install site: HQ", "{s}");
    assert!(lines[1].starts_with("Part Number"));
    // Every number column ends at the same place, whatever the description's length.
    let ends: Vec<usize> = lines[1..]
        .iter()
        .filter(|l| !l.trim_start().starts_with("per unit"))
        .map(|l| l.len())
        .collect();
    assert!(ends.windows(2).all(|w| w[0] == w[1]), "{s}");
    assert!(s.contains("Included w/ Server"));
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    update_adds_the_switchover_server_later_and_supersedes_the_old_file,
    update_changes_quantities_with_add_and_set,
    update_beyond_what_is_available_changes_nothing,
    updating_an_inactive_or_superseded_file_is_refused,
    an_update_that_changes_nothing_is_refused,
    an_update_never_renews_a_time_limited_file,
    deactivate_returns_units_once,
    activity_filters_like_the_seed_tab,
    show_is_the_view_license_page,
    upgrade_with_mirroring_moves_every_part_with_an_upgrade_option,
    upgrade_without_mirroring_moves_only_the_parts_named,
    every_change_appends_an_audit_row_with_before_and_after,
);
