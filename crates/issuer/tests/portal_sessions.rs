//! The portal's browser sessions in the ledger: found from any connection, kept across a
//! reopen, ended singly or per user, expired by idle and absolute timeouts, capped (the
//! expired first, then the least recently used), touched at most once a minute, never
//! audited and never copied. On SQLite and (`postgres_too!`) on PostgreSQL.

mod common;

use std::time::Duration;

use common::open;
use issuer::ledger::{PortalSession, SessionLimits, TOUCH_INTERVAL_MS};
use issuer::{Ledger, Role};

/// 30 minutes idle, 12 hours in all, at most `max`.
fn limits(max: u64) -> SessionLimits {
    SessionLimits {
        idle: Duration::from_secs(30 * 60),
        absolute: Duration::from_secs(12 * 3600),
        max,
    }
}

const MINUTE: i64 = 60_000;
/// A time to start from (Unix milliseconds).
const T0: i64 = 1_800_000_000_000;

fn digest(n: u8) -> [u8; 32] {
    [n; 32]
}

fn session(user_id: Option<i64>, at: i64) -> PortalSession {
    PortalSession {
        user_id,
        epoch: 0,
        csrf: format!("csrf-{at}"),
        created_at: at,
        last_seen: at,
    }
}

/// A ledger with portal user ann; her id.
fn with_user(l: &mut Ledger) -> i64 {
    l.add_account("Contoso", "t").unwrap();
    l.add_portal_user(
        "ann@contoso.example",
        Role::Customer,
        false,
        &["Contoso".into()],
        "$argon2id$x",
        "t",
    )
    .unwrap()
    .id
}

fn audit_rows(l: &Ledger) -> usize {
    common::audit_rows(l.raw_for_tests()).len()
}

#[test]
fn a_session_is_found_from_another_connection_and_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(dir.path());
    let ann = with_user(&mut a);
    let b = open(dir.path());
    let audited = audit_rows(&a);
    let s = session(Some(ann), T0);
    a.create_portal_session(&digest(1), &s, &limits(10))
        .unwrap();
    assert_eq!(
        b.portal_session(&digest(1), T0 + 1, &limits(10)).unwrap(),
        Some(s.clone())
    );
    assert_eq!(b.portal_session(&digest(2), T0, &limits(10)).unwrap(), None);
    // Anonymous sessions are kept too.
    a.create_portal_session(&digest(3), &session(None, T0), &limits(10))
        .unwrap();
    assert_eq!(
        b.portal_session(&digest(3), T0, &limits(10))
            .unwrap()
            .unwrap()
            .user_id,
        None
    );
    drop((a, b));
    let mut c = open(dir.path());
    assert_eq!(
        c.portal_session(&digest(1), T0 + MINUTE, &limits(10))
            .unwrap(),
        Some(s)
    );
    assert!(c.end_portal_session(&digest(1)).unwrap());
    assert!(!c.end_portal_session(&digest(1)).unwrap());
    let d = open(dir.path());
    assert_eq!(d.portal_session(&digest(1), T0, &limits(10)).unwrap(), None);
    // Bookkeeping, not audited changes.
    assert_eq!(audit_rows(&d), audited);
}

#[test]
fn sessions_end_when_idle_or_old() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    let ann = with_user(&mut l);
    let lim = limits(10);
    l.create_portal_session(&digest(1), &session(Some(ann), T0), &lim)
        .unwrap();
    let idle = 30 * MINUTE;
    assert!(l
        .portal_session(&digest(1), T0 + idle - 1, &lim)
        .unwrap()
        .is_some());
    assert!(l
        .portal_session(&digest(1), T0 + idle, &lim)
        .unwrap()
        .is_none());
    // An expired session is not brought back by a touch.
    assert!(!l.touch_portal_session(&digest(1), T0 + idle, &lim).unwrap());
    // Touched every 20 minutes, it lives until 12 hours after it began, not a moment more.
    l.create_portal_session(&digest(2), &session(Some(ann), T0), &lim)
        .unwrap();
    let absolute = 12 * 60 * MINUTE;
    let mut t = T0;
    while t + 20 * MINUTE < absolute + T0 {
        t += 20 * MINUTE;
        assert!(l.touch_portal_session(&digest(2), t, &lim).unwrap(), "{t}");
    }
    assert!(l
        .portal_session(&digest(2), T0 + absolute - 1, &lim)
        .unwrap()
        .is_some());
    assert!(l
        .portal_session(&digest(2), T0 + absolute, &lim)
        .unwrap()
        .is_none());
    // Expired sessions are purged, boundedly.
    assert_eq!(l.portal_session_count().unwrap(), 2);
    assert_eq!(l.purge_portal_sessions(T0 + absolute, &lim, 1).unwrap(), 1);
    assert_eq!(l.purge_portal_sessions(T0 + absolute, &lim, 10).unwrap(), 1);
    assert_eq!(l.portal_session_count().unwrap(), 0);
}

#[test]
fn a_touch_writes_only_once_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    let ann = with_user(&mut l);
    let watcher = open(dir.path());
    let lim = limits(10);
    l.create_portal_session(&digest(1), &session(Some(ann), T0), &lim)
        .unwrap();
    let before = watcher.change_counter().unwrap();
    for t in [T0 + 1, T0 + TOUCH_INTERVAL_MS - 1] {
        assert!(!l.touch_portal_session(&digest(1), t, &lim).unwrap());
    }
    assert_eq!(
        watcher.change_counter().unwrap(),
        before,
        "a recent session is not written"
    );
    assert_eq!(
        watcher
            .portal_session(&digest(1), T0 + 2, &lim)
            .unwrap()
            .unwrap()
            .last_seen,
        T0
    );
    assert!(l
        .touch_portal_session(&digest(1), T0 + TOUCH_INTERVAL_MS, &lim)
        .unwrap());
    assert_ne!(watcher.change_counter().unwrap(), before);
    assert_eq!(
        watcher
            .portal_session(&digest(1), T0 + TOUCH_INTERVAL_MS, &lim)
            .unwrap()
            .unwrap()
            .last_seen,
        T0 + TOUCH_INTERVAL_MS
    );
    // Ending nothing writes nothing either.
    let before = watcher.change_counter().unwrap();
    assert!(!l.end_portal_session(&digest(9)).unwrap());
    assert_eq!(l.end_portal_user_sessions(ann + 100).unwrap(), 0);
    assert_eq!(watcher.change_counter().unwrap(), before);
}

#[test]
fn the_cap_drops_expired_sessions_then_the_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    let ann = with_user(&mut l);
    let lim = limits(3);
    // Session 1 is old enough to be expired at T0; 2 and 3 live, 3 used more recently.
    l.create_portal_session(&digest(1), &session(Some(ann), T0 - 31 * MINUTE), &lim)
        .unwrap();
    l.create_portal_session(&digest(2), &session(Some(ann), T0 - 5 * MINUTE), &lim)
        .unwrap();
    l.create_portal_session(&digest(3), &session(None, T0 - 4 * MINUTE), &lim)
        .unwrap();
    assert!(l
        .touch_portal_session(&digest(2), T0 - 2 * MINUTE, &lim)
        .unwrap());
    // Full: the expired one goes, nothing else.
    l.create_portal_session(&digest(4), &session(Some(ann), T0), &lim)
        .unwrap();
    assert_eq!(l.portal_session_count().unwrap(), 3);
    for (n, live) in [(2, true), (3, true), (4, true)] {
        assert_eq!(
            l.portal_session(&digest(n), T0, &lim).unwrap().is_some(),
            live,
            "{n}"
        );
    }
    // Full of live ones: the least recently used (3) goes.
    l.create_portal_session(&digest(5), &session(Some(ann), T0 + 1), &lim)
        .unwrap();
    assert_eq!(l.portal_session_count().unwrap(), 3);
    assert!(l.portal_session(&digest(3), T0, &lim).unwrap().is_none());
    for n in [2, 4, 5] {
        assert!(l
            .portal_session(&digest(n), T0 + 1, &lim)
            .unwrap()
            .is_some());
    }
}

#[test]
fn a_users_sessions_end_together_and_with_a_new_password_or_disable() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    let ann = with_user(&mut l);
    let bob = l
        .add_portal_user(
            "bob@contoso.example",
            Role::Staff,
            false,
            &[],
            "$argon2id$x",
            "t",
        )
        .unwrap()
        .id;
    let lim = limits(10);
    for (n, u) in [(1, ann), (2, ann), (3, bob)] {
        l.create_portal_session(&digest(n), &session(Some(u), T0), &lim)
            .unwrap();
    }
    l.create_portal_session(&digest(4), &session(None, T0), &lim)
        .unwrap();
    assert_eq!(l.end_portal_user_sessions(ann).unwrap(), 2);
    assert_eq!(l.portal_session_count().unwrap(), 2);
    assert!(l.portal_session(&digest(3), T0, &lim).unwrap().is_some());
    l.set_portal_password("bob@contoso.example", "$argon2id$y", "t")
        .unwrap();
    assert!(l.portal_session(&digest(3), T0, &lim).unwrap().is_none());
    l.create_portal_session(&digest(5), &session(Some(ann), T0), &lim)
        .unwrap();
    l.set_portal_user_active("ann@contoso.example", false, "t")
        .unwrap();
    assert!(l.portal_session(&digest(5), T0, &lim).unwrap().is_none());
    // The anonymous one is nobody's.
    assert_eq!(l.portal_session_count().unwrap(), 1);
}

#[test]
fn sessions_are_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    let mut l = open(dir.path());
    let ann = with_user(&mut l);
    l.create_portal_session(&digest(1), &session(Some(ann), T0), &limits(10))
        .unwrap();
    let target = dir.path().join("copy.db");
    issuer::ledger::copy::copy(&l, target.as_path(), &mut |_| Ok(())).unwrap();
    let c = Ledger::open(&target).unwrap();
    assert_eq!(c.portal_users().unwrap(), l.portal_users().unwrap());
    assert_eq!(c.portal_session_count().unwrap(), 0);
}

postgres_too!(
    a_session_is_found_from_another_connection_and_after_a_reopen,
    sessions_end_when_idle_or_old,
    a_touch_writes_only_once_a_minute,
    the_cap_drops_expired_sessions_then_the_least_recently_used,
    a_users_sessions_end_together_and_with_a_new_password_or_disable,
    sessions_are_not_copied,
);

/// A PostgreSQL ledger of schema 4 (made before sessions were kept) gets the table on open.
#[test]
fn a_postgres_ledger_of_schema_4_is_migrated() {
    common::on_postgres(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut l = open(dir.path());
        let ann = with_user(&mut l);
        store::TxExt::execute_batch(
            l.raw_for_tests(),
            "DROP INDEX files_related_production; DROP INDEX files_account_active; \
             ALTER TABLE requests DROP COLUMN contact_name, DROP COLUMN contact_email, \
             DROP COLUMN deployment_type, DROP COLUMN implementation_type, \
             DROP COLUMN order_number; \
             DROP TABLE idempotency; DROP TABLE deactivations; \
             ALTER TABLE accounts DROP COLUMN rehosts_per_year; \
             DROP TABLE portal_sessions; UPDATE i3lic_store SET schema_version = 4",
        )
        .unwrap();
        drop(l);
        let mut l = open(dir.path());
        l.create_portal_session(&digest(1), &session(Some(ann), T0), &limits(10))
            .unwrap();
        assert!(l
            .portal_session(&digest(1), T0, &limits(10))
            .unwrap()
            .is_some());
        let v: i64 = store::TxExt::query_row(
            l.raw_for_tests(),
            "SELECT schema_version FROM i3lic_store",
            [],
            |r| r.get(0),
        )
        .unwrap();
        assert_eq!(v, issuer::ledger::SCHEMA_VERSION);
    });
}
