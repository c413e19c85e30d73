//! The ledger's rules (`issuer::ledger::policy`) as every caller meets them: the library
//! (which the portal calls) signs the recorded spelling of names whatever case it is given,
//! a retired order line has nothing available in any listing, and a related production
//! file's id is spelled as every other file id.

mod common;

use common::{add_orders, host, ledger, pq, request, update_by, Units, AL02, SL03};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::UpgradeSelection;
use store::TxExt;

/// Names and part numbers given in another case are signed and recorded as the ledger and
/// the catalog spell them, through `issue`, `issue_each` (the portal's group commit),
/// `issue_batch` and `update`; an update's part in another case is the same part.
#[test]
fn a_signed_file_carries_the_recorded_spelling_whatever_case_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 4), (AL02, 40)], Units::Perpetual);
    let key = SecretKey::generate();
    let typed = |n: u8| {
        let mut r = request(LicenseType::Production, "sw-001-4.0-sl03", &[]);
        r.account = "CONTOSO".into();
        r.site = "hq".into();
        r.add = vec![pq("Sw-001-4.0-al02", 3)];
        r.host_id = host(n);
        r.machine = format!("m{n}");
        r
    };
    let one = l
        .issue(&c, &typed(1), &key, None, Timestamp::now())
        .unwrap();
    let each = l
        .issue_each(&c, &[typed(2)], &key, Timestamp::now())
        .unwrap()
        .remove(0)
        .unwrap();
    let batch = l
        .issue_batch(&c, &[typed(3)], &key, None, Timestamp::now())
        .unwrap()
        .remove(0);
    for id in [&one.file_id, &each.file_id, &batch.file_id] {
        let d = l.show(&c, &id.to_string()).unwrap();
        let a = &d.activation;
        assert_eq!(
            (a.sold_to.as_str(), a.install_site.as_str()),
            ("Contoso", "HQ")
        );
        assert_eq!(d.server_part, SL03);
        let items: Vec<(&str, u32)> = a
            .ordered_items
            .iter()
            .map(|i| (i.part.as_str(), i.quantity))
            .collect();
        assert_eq!(items, [(SL03, 1), (AL02, 3)], "{id}");
    }
    // An update adding units of a part typed in another case grows that item.
    let mut u = update_by("t");
    u.add = vec![pq("sw-001-4.0-AL02", 2)];
    let up = l
        .update(
            &c,
            &one.file_id.to_string(),
            &u,
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap();
    let d = l.show(&c, &up.file_id.to_string()).unwrap();
    let items: Vec<(&str, u32)> = d
        .activation
        .ordered_items
        .iter()
        .map(|i| (i.part.as_str(), i.quantity))
        .collect();
    assert_eq!(items, [(SL03, 1), (AL02, 5)]);
    assert!(l.verify_usage().unwrap().is_empty());
}

/// An upgraded (retired) order line has nothing available in the order list, as in the
/// summary and for allocation: no new file draws on it.
#[test]
fn a_retired_order_line_has_nothing_available() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[("SW-001-3.0-SL03", 1), ("SW-001-3.0-AL02", 35)],
        Units::Perpetual,
    );
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
    let lines = l.orders("Contoso").unwrap();
    let retired: Vec<_> = lines.iter().filter(|o| !o.active).collect();
    assert!(!retired.is_empty(), "{lines:?}");
    for o in &retired {
        assert_eq!(o.available, 0, "{o:?}");
    }
    // The open lines' availability adds up to the summary's, part by part.
    let s = l.summary(&c, "Contoso", None).unwrap();
    for p in &s.parts {
        let open: u64 = lines
            .iter()
            .filter(|o| o.part == p.part)
            .map(|o| o.available)
            .sum();
        assert_eq!(open, p.available, "{}", p.part);
    }
}

/// The related production file of a disaster-recovery file is spelled as any file id a
/// user gives: any case, blanks around it ignored.
#[test]
fn a_related_production_id_is_accepted_in_any_case() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(
        &mut l,
        &c,
        &[(SL03, 1), ("SW-001-4.0-DR03", 1), (AL02, 50)],
        Units::Perpetual,
    );
    let key = SecretKey::generate();
    let prod = l
        .issue(
            &c,
            &request(LicenseType::Production, SL03, &[(AL02, 10)]),
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap()
        .file_id
        .to_string();
    let mut dr = request(
        LicenseType::DisasterRecovery,
        "SW-001-4.0-DR03",
        &[(AL02, 10)],
    );
    dr.host_id = host(9);
    dr.machine = "dr".into();
    dr.related = Some(format!(" {} ", prod.to_uppercase()));
    let f = l.issue(&c, &dr, &key, None, Timestamp::now()).unwrap();
    let d = l.show(&c, &f.file_id.to_string()).unwrap();
    assert_eq!(d.related_production.as_deref(), Some(prod.as_str()));
}

/// `verify_usage` names each order line whose counter differs from its active files' usage
/// (the comparison is the ledger's, not the query's), and nothing on a healthy ledger.
#[test]
fn a_counter_out_of_step_with_the_files_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 1), (AL02, 10)], Units::Perpetual);
    let key = SecretKey::generate();
    let req = request(LicenseType::Production, SL03, &[(AL02, 3)]);
    l.issue(&c, &req, &key, None, Timestamp::now()).unwrap();
    assert_eq!(l.verify_usage().unwrap(), vec![]);
    // Changed behind the ledger's back (as a hand edit of the database would).
    l.raw_for_tests()
        .execute("UPDATE orders SET used = used + 1 WHERE part = ?1", [AL02])
        .unwrap();
    let line = l
        .orders("Contoso")
        .unwrap()
        .into_iter()
        .find(|o| o.part == AL02)
        .unwrap();
    assert_eq!(
        l.verify_usage().unwrap(),
        vec![(line.id, AL02.to_string(), 4, 3)]
    );
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    a_signed_file_carries_the_recorded_spelling_whatever_case_was_given,
    a_retired_order_line_has_nothing_available,
    a_related_production_id_is_accepted_in_any_case,
    a_counter_out_of_step_with_the_files_is_named,
);
