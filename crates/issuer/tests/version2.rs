//! What the issuer writes as format version 2: a new file starts its lineage, an update
//! continues it (also from a version-1 file recorded before version 2), strong host IDs are
//! accepted and recorded as such, and a pair whose hosts match each other is refused.

mod common;

use common::{host, issued_production, ledger, request, update_by, AL02, SL03};
use format::{FormatVersion, LicenseType, SecretKey, Timestamp, UnverifiedFile, VerifiedFile};
use hostid::{CodeForm, Components, HostId};
use store::TxExt;

fn read(bytes: &[u8], key: &SecretKey) -> VerifiedFile {
    UnverifiedFile::parse(bytes)
        .unwrap()
        .verify(key.public_key())
        .unwrap()
}

fn components(mac: u8) -> Components {
    Components {
        machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".into()),
        dmi_uuid: Some("4C4C4544-004B-4B10-804B-B4C04F4D3732".into()),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, mac]],
        cpu: None,
    }
}

#[test]
fn a_new_file_starts_its_lineage_and_each_update_is_the_next_generation() {
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let (mut l, c, key, first) =
        issued_production(dir.path(), &[(SL03, 1), (AL02, 50)], &[(AL02, 10)], now);
    let bytes = l.file_bytes(&first).unwrap();
    let v = read(&bytes, &key);
    assert_eq!(v.version(), FormatVersion::V3);
    let a = v.activation();
    assert_eq!(a.lineage().to_string(), first);
    assert_eq!(a.generation(), Some(1));

    let mut u = update_by("Updater");
    u.add = vec![common::pq(AL02, 5)];
    let second = l.update(&c, &first, &u, &key, None, now).unwrap();
    let b = read(&second.bytes, &key).into_activation();
    assert_eq!(b.lineage().to_string(), first);
    assert_eq!(b.generation(), Some(2));
    assert_eq!(b.supersedes.map(|s| s.to_string()), Some(first.clone()));

    let third = l
        .update(&c, &second.file_id.to_string(), &u, &key, None, now)
        .unwrap();
    let c3 = read(&third.bytes, &key).into_activation();
    assert_eq!(c3.lineage().to_string(), first);
    assert_eq!(c3.generation(), Some(3));
}

#[test]
fn updating_a_version_1_file_writes_version_2_of_the_same_lineage() {
    // A ledger from before version 2: its files' bytes are version 1 and their recorded
    // payloads have no chain. Made here by rewriting a file's row as such a ledger holds it.
    let dir = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let (mut l, c, key, old) =
        issued_production(dir.path(), &[(SL03, 1), (AL02, 50)], &[(AL02, 10)], now);
    let mut a = read(&l.file_bytes(&old).unwrap(), &key).into_activation();
    a.chain = None;
    a.rules = Default::default();
    let v1 = format::sign_v1(&a, &key).unwrap();
    let json = serde_json::to_string(&a).unwrap();
    assert!(!json.contains("\"chain\":{"), "{json}");
    // Recorded files are immutable (a trigger): lift it for this rewrite only.
    let conn = l.raw_for_tests();
    conn.execute_batch("DROP TRIGGER files_immutable").unwrap();
    conn.execute(
        "UPDATE files SET bytes = ?1, activation = ?2 WHERE id = ?3",
        store::params![v1.as_bytes(), json, old],
    )
    .unwrap();
    // download gives the recorded version-1 bytes.
    assert_eq!(l.file_bytes(&old).unwrap(), v1.as_bytes());
    assert_eq!(
        read(&l.file_bytes(&old).unwrap(), &key).version(),
        FormatVersion::V1
    );

    let mut u = update_by("Updater");
    u.add = vec![common::pq(AL02, 5)];
    let new = l.update(&c, &old, &u, &key, None, now).unwrap();
    let v = read(&new.bytes, &key);
    assert_eq!(v.version(), FormatVersion::V3);
    assert_eq!(v.activation().lineage().to_string(), old);
    assert_eq!(v.activation().generation(), Some(2));
}

#[test]
fn a_strong_host_id_is_accepted_and_recorded_in_its_form() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    common::add_orders(&mut l, &c, &[(SL03, 1)], common::Units::Perpetual);
    let strong = HostId::strong_from_components(&components(0x5c)).unwrap();
    let mut req = request(LicenseType::Production, SL03, &[]);
    // As a customer pastes it: lower case is fine on input.
    req.host_id = strong.to_string().to_lowercase();
    let key = SecretKey::generate();
    let issued = l.issue(&c, &req, &key, None, Timestamp::now()).unwrap();
    let text = String::from_utf8(issued.bytes.clone()).unwrap();
    assert!(
        text.contains(&format!("\"host_id\": \"{strong}\"")),
        "{text}"
    );
    assert!(text.contains("\"form\": \"strong\""), "{text}");
    let a = read(&issued.bytes, &key).into_activation();
    assert_eq!(a.primary_host.host_id.form(), CodeForm::Strong);
}

#[test]
fn a_pair_whose_hosts_match_each_other_is_refused_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    common::add_orders(
        &mut l,
        &c,
        &[(SL03, 1), ("SW-001-4.0-SS03", 1)],
        common::Units::Perpetual,
    );
    let primary = HostId::from_components(&components(0x5c)).unwrap();
    // The same machine identity and DMI UUID, another network card: the tolerant rule says
    // this is the primary host, so a server could not tell which role it has.
    let near = HostId::from_components(&components(0x99)).unwrap();
    assert_ne!(primary, near);
    assert!(hostid::match_codes(&primary, &near).is_match());
    let mut req = request(LicenseType::Production, SL03, &[]);
    req.host_id = primary.to_string();
    req.switchover_host_id = Some(near.to_string());
    req.switchover_machine = Some("ic2".into());
    let before = l.summary(&c, "Contoso", None).unwrap();
    let e = l
        .issue(&c, &req, &SecretKey::generate(), None, Timestamp::now())
        .unwrap_err();
    assert!(e.to_string().contains("matches the primary host"), "{e}");
    assert_eq!(e.exit_code(), 3, "{e:?}");
    assert_eq!(l.summary(&c, "Contoso", None).unwrap(), before);
    // A different machine is fine.
    req.switchover_host_id = Some(host(2));
    l.issue(&c, &req, &SecretKey::generate(), None, Timestamp::now())
        .unwrap();
}

// The same tests with the ledger on PostgreSQL.
postgres_too!(
    a_new_file_starts_its_lineage_and_each_update_is_the_next_generation,
    a_strong_host_id_is_accepted_and_recorded_in_its_form,
    a_pair_whose_hosts_match_each_other_is_refused_before_anything_is_recorded,
);
