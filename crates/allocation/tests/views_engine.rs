//! The allocator's views (what `licadmin license`, `station list`, `session list`, `org list`,
//! `report` and `load` show), on both engines.

mod common;

use allocation::{AllocError, Method, Place, StationKind, Target};
use common::*;
use format::{sign, Activation, Host, LicenseType, Restriction, Rules, Timestamp};

const ACD2: &str = "I3_ACCESS_ACD_MEDIA_2";

fn other_host() -> hostid::HostId {
    hostid::HostId::from_components(&hostid::Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

/// A development pair: restrictions, a feature, an expiry with grace, a switchover host.
fn development_pair() -> Activation {
    let mut a = activation(
        &[(CLIENT, 5, 2), (BASIC, 5, 3), (ACD1, 0, 0)],
        Rules::default(),
    );
    a.license_type = LicenseType::DevelopmentSmall;
    a.restrictions = vec![Restriction::HourlyDisconnect, Restriction::NotForProduction];
    a.features = vec!["I3_FEATURE_SIP".into()];
    a.expires_at = Timestamp::now().plus_days(100);
    a.grace_days = 30;
    a.switchover_host = Some(Host::new(other_host(), "ic2"));
    a
}

#[test]
fn engine_stations_and_sessions() {
    let e = env(&file(&[(CLIENT, 2, 2), (BASIC, 2, 1)], Rules::default()));
    let a = &e.alloc;
    a.add_station("b-desk", StationKind::Workstation).unwrap();
    a.add_station("a-remote", StationKind::Remote).unwrap();
    a.allocate(Target::Station("b-desk"), &[BASIC, CLIENT])
        .unwrap();
    a.add_user("zoe", Method::Assignable, None).unwrap();
    a.allocate(Target::User("zoe"), &[CLIENT]).unwrap();
    a.add_user("carl", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("carl"), &[CLIENT]).unwrap();
    let zoe = a
        .login("zoe", Place::Station("b-desk".into()), Some(60))
        .unwrap();
    let carl = a
        .login("carl", Place::Remote("+13175550100".into()), None)
        .unwrap();

    let s = a.stations(None).unwrap();
    assert_eq!(
        s.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["a-remote", "b-desk"]
    );
    assert_eq!(
        (s[0].kind, s[0].licensing, s[0].licenses.len()),
        (StationKind::Remote, true, 0)
    );
    assert_eq!(s[1].licenses, [CLIENT, BASIC]);
    let on = s[1].logged_on.as_ref().unwrap();
    assert_eq!(
        (on.user.as_str(), on.session.as_str()),
        ("zoe", zoe.id.as_str())
    );
    assert_eq!(a.stations(Some(BASIC)).unwrap().len(), 1);
    assert!(a.stations(Some("bad key")).is_err());

    let l = a.session_list().unwrap();
    assert_eq!(
        l.iter().map(|s| s.user.as_str()).collect::<Vec<_>>(),
        ["carl", "zoe"]
    );
    assert_eq!(l[0].session, carl.id);
    assert_eq!(l[0].remote_number.as_deref(), Some("+13175550100"));
    assert_eq!(
        (l[0].acquired.clone(), l[0].licenses.clone()),
        (
            vec![CLIENT.to_string(), BASIC.to_string()],
            vec![CLIENT.to_string(), BASIC.to_string()]
        )
    );
    // zoe holds her own Client Access and the station's two licenses.
    assert_eq!(l[1].licenses, [CLIENT, BASIC]);
    assert!(l[1].acquired.is_empty());
    assert_eq!(l[1].lease_expires_at.unix(), 1_800_000_000 + 60);
    // A lapsed lease is no session and holds the station no more.
    e.clock.advance(61);
    assert_eq!(a.session_list().unwrap().len(), 1);
    assert!(a.stations(None).unwrap()[1].logged_on.is_none());
}

#[test]
fn engine_organizations_count_use_as_the_cap_does() {
    let e = env(&file(&[(CLIENT, 2, 2), (ORG, 3, 0)], Rules::default()));
    let a = &e.alloc;
    assert_eq!(a.organizations().unwrap().organizations_allowed, Some(3));
    a.add_organization("t1").unwrap();
    a.add_organization("t2").unwrap();
    a.set_organization_limit("t1", CLIENT, Some(1), Some(2))
        .unwrap();
    a.add_user("u1", Method::Assignable, Some("t1")).unwrap();
    a.add_user("u2", Method::Concurrent, Some("t1")).unwrap();
    a.add_user("u3", Method::Assignable, Some("t1")).unwrap();
    a.allocate(Target::User("u1"), &[CLIENT]).unwrap();
    a.allocate(Target::User("u2"), &[CLIENT]).unwrap();
    let used = |a: &allocation::Allocator| a.organizations().unwrap().organizations[0].keys[0].used;
    assert_eq!(used(a), 1, "a concurrent user's configured key is not used");
    a.login("u2", Place::Nowhere, None).unwrap();
    assert_eq!(used(a), 2, "its session's key is");
    // At the maximum the view shows, the cap refuses.
    assert!(matches!(
        a.allocate(Target::User("u3"), &[CLIENT]),
        Err(AllocError::OrganizationCap { .. })
    ));
    let l = a.organizations().unwrap();
    let t1 = &l.organizations[0];
    assert_eq!((t1.name.as_str(), t1.users), ("t1", 3));
    assert_eq!(
        (t1.keys[0].key.as_str(), t1.keys[0].min, t1.keys[0].max),
        (CLIENT, 1, Some(2))
    );
    assert_eq!(t1.keys[0].description, Some("Client Access"));
    assert_eq!(
        (l.organizations[1].name.as_str(), l.organizations[1].users),
        ("t2", 0)
    );
    assert!(l.organizations[1].keys.is_empty());
}

#[test]
fn engine_report_and_license_views() {
    let e = env(&sign(&development_pair(), &vendor()).unwrap());
    let r = e.alloc.report_view().unwrap();
    assert_eq!(
        (r.license_type, r.type_label, r.perpetual),
        ("development-small", "Development (small)", false)
    );
    assert!(
        r.days_left.is_some_and(|d| (98..=100).contains(&d)),
        "{:?}",
        r.days_left
    );
    let names: Vec<&str> = r.keys.iter().map(|k| k.counts.name.as_str()).collect();
    assert_eq!(names, [ACD1, CLIENT, BASIC], "every key, held or not");
    assert_eq!(r.keys[2].description, Some("Basic Station"));
    assert!(r.keys[2].dynamic_remote_pool && !r.keys[1].dynamic_remote_pool);
    let l = e.alloc.license_view().unwrap();
    assert_eq!(l.file_id, r.file_id);
    assert_eq!(l.hosts.len(), 2);
    assert!(l.hosts[0].this_server && !l.hosts[1].this_server);
    assert_eq!(l.licenses[1].name, CLIENT, "the file's order");
    assert_eq!(allocation::key_description("I3_NOT_A_CATALOG_KEY"), None);
}

#[test]
fn engine_load_showing_changes() {
    let e = env(&file(&[(CLIENT, 2, 0), (ACD1, 1, 0)], Rules::default()));
    let mut next = activation(&[(CLIENT, 1, 3), (ACD2, 1, 0)], Rules::default());
    next.sold_to = "Fabrikam".into();
    let v = e
        .alloc
        .load_showing_changes(sign(&next, &vendor()).unwrap().as_bytes())
        .unwrap();
    let c = v.changes.unwrap();
    assert_eq!(
        c.added.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(),
        [ACD2]
    );
    assert_eq!(
        c.removed.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(),
        [ACD1]
    );
    let k = &c.changed[0];
    assert_eq!(
        (
            k.assigned_before,
            k.assigned_after,
            k.pooled_before,
            k.pooled_after
        ),
        (2, 1, 0, 3)
    );
    assert_eq!(v.warnings.len(), 1);
    assert_eq!(v.warnings[0].kind, "other-account");
    assert_eq!(v.report.file_id, next.file_id.to_string());
    // A refused file changes nothing and says nothing changed.
    assert!(e.alloc.load_showing_changes(b"not a file").is_err());
    assert_eq!(
        e.alloc.license_view().unwrap().file_id,
        next.file_id.to_string()
    );
}

postgres_too!(
    engine_stations_and_sessions,
    engine_organizations_count_use_as_the_cap_does,
    engine_report_and_license_views,
    engine_load_showing_changes,
);
