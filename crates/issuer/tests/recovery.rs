//! Disaster-recovery files follow their production file through updates.

mod common;

use common::{host, issued_production, pq, request, update_by, AL02, SL03};
use format::{LicenseType, Timestamp};
use issuer::{IssuerError, UpdateRequest};

#[test]
fn updating_a_production_file_points_its_recovery_files_at_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c, key, prod_id) = issued_production(
        dir.path(),
        &[(SL03, 1), ("SW-001-4.0-DR03", 2), (AL02, 200)],
        &[(AL02, 40)],
        Timestamp::now(),
    );
    let mut dr = request(
        LicenseType::DisasterRecovery,
        "SW-001-4.0-DR03",
        &[(AL02, 30)],
    );
    dr.host_id = host(9);
    dr.machine = "dr1".into();
    dr.related = Some(prod_id.clone());
    let dr_id = l
        .issue(&c, &dr, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();

    // Lowering production below the recovery file's counts is refused; nothing changes.
    let lower = UpdateRequest {
        set: vec![pq(AL02, 20)],
        ..update_by("t")
    };
    match l.update(&c, &prod_id, &lower, &key, None, Timestamp::now()) {
        Err(IssuerError::RecoveryAboveProduction {
            recovery,
            has: 30,
            allowed: 20,
            ..
        }) => assert_eq!(recovery, dr_id),
        other => panic!("expected the update refused, got {other:?}"),
    }
    assert!(l.show(&c, &prod_id).unwrap().active);
    assert_eq!(
        l.show(&c, &dr_id).unwrap().related_production.as_deref(),
        Some(prod_id.as_str())
    );

    // A compatible update moves the recovery file to the new production file.
    let more = UpdateRequest {
        add: vec![pq(AL02, 10)],
        ..update_by("t")
    };
    let new_id = l
        .update(&c, &prod_id, &more, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();
    assert_eq!(
        l.show(&c, &dr_id).unwrap().related_production.as_deref(),
        Some(new_id.as_str())
    );
    let audit: String = l
        .connection()
        .query_row(
            "SELECT after FROM audit WHERE action = 'file.update' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let audit: serde_json::Value = serde_json::from_str(&audit).unwrap();
    assert_eq!(
        audit["disaster_recovery_moved"],
        serde_json::json!([dr_id.clone()])
    );
    assert!(l.verify_audit(None).unwrap().intact());

    // The recovery file can now be updated against the active production file.
    let dr_more = UpdateRequest {
        add: vec![pq(AL02, 20)],
        ..update_by("t")
    };
    let dr2 = l
        .update(&c, &dr_id, &dr_more, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();
    assert_eq!(
        l.show(&c, &dr2).unwrap().related_production.as_deref(),
        Some(new_id.as_str())
    );
    // The superseded recovery file keeps the production file it pointed at when it stopped
    // being active.
    let inactive_related: Option<String> = l
        .connection()
        .query_row(
            "SELECT r.id FROM files d JOIN files r ON r.seq = d.related_production WHERE d.id = ?1",
            [&dr_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(inactive_related.as_deref(), Some(new_id.as_str()));
}
