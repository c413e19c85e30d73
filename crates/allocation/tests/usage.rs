//! Usage history (DESIGN.md "Usage history"): "Every acquisition, release, denial (with its
//! reason), load and administrator change is recorded with its time in the allocation store
//! (bounded retention, default 400 days)", and the usage report gives "per license key and
//! period, the peak in use (assignable configured and concurrent in use), denials by reason,
//! and the licensed count". On both engines.

mod common;

use allocation::{
    date_text, AllocError, EventKind, Method, Period, Place, PoolCounts, StationKind, Target,
    UsageReport, UsageRow, RETENTION_DAYS,
};
use common::*;
use format::Rules;

const DAY: i64 = 86_400;

/// Client Access: 5 assignable, 2 concurrent; Basic Station 5 and 1.
fn site() -> Env {
    env(&file(&[(CLIENT, 5, 2), (BASIC, 5, 1)], Rules::default()))
}

/// The start of the clock's day.
fn today(env: &Env) -> i64 {
    let now = env.alloc.now();
    now - now.rem_euclid(DAY)
}

fn row<'a>(r: &'a UsageReport, period: &str, key: &str) -> &'a UsageRow {
    r.rows
        .iter()
        .find(|x| x.period == period && x.key == key)
        .unwrap_or_else(|| panic!("no row {period} {key} in {:#?}", r.rows))
}

fn counts(assignable: u32, concurrent: u32) -> PoolCounts {
    PoolCounts {
        assignable,
        concurrent,
    }
}

fn concurrent_users(env: &Env, names: &[&str]) {
    for n in names {
        env.alloc.add_user(n, Method::Concurrent, None).unwrap();
        env.alloc.allocate(Target::User(n), &[CLIENT]).unwrap();
    }
}

#[test]
fn peaks_per_day_with_the_level_carried_into_quiet_days() {
    let env = site();
    let day0 = today(&env);
    concurrent_users(&env, &["u1", "u2"]);
    env.alloc.add_user("a1", Method::Assignable, None).unwrap();
    env.alloc.allocate(Target::User("a1"), &[CLIENT]).unwrap();
    let s1 = env.alloc.login("u1", Place::Nowhere, Some(3600)).unwrap();
    let s2 = env.alloc.login("u2", Place::Nowhere, Some(86_400)).unwrap();
    env.alloc.logout(&s1.id).unwrap();
    // Day 1: nothing changes (u2 stays logged on); day 2: u2 logs off.
    env.clock.advance(DAY - 10);
    env.alloc.heartbeat(&s2.id).unwrap();
    env.clock.advance(DAY - 10);
    env.alloc.logout(&s2.id).unwrap();
    // Day 3: nothing at all.
    env.clock.advance(DAY);

    let r = env.alloc.usage(day0, day0 + 3 * DAY, Period::Day).unwrap();
    assert_eq!(r.by, Period::Day);
    assert_eq!(r.from, date_text(day0));
    let d: Vec<String> = (0..4).map(|i| date_text(day0 + i * DAY)).collect();
    assert_eq!(row(&r, &d[0], CLIENT).peak, counts(1, 2));
    assert_eq!(row(&r, &d[1], CLIENT).peak, counts(1, 1), "carried over");
    assert_eq!(
        row(&r, &d[2], CLIENT).peak,
        counts(1, 1),
        "the level it started with"
    );
    assert_eq!(row(&r, &d[3], CLIENT).peak, counts(1, 0));
    for day in &d {
        assert_eq!(row(&r, day, CLIENT).licensed, counts(5, 2));
        assert_eq!(row(&r, day, BASIC).licensed, counts(5, 1));
        assert_eq!(row(&r, day, BASIC).peak, counts(0, 0));
    }
    // Every key in every period, in period order.
    assert_eq!(r.rows.len(), 8);
    assert!(r.rows.windows(2).all(|w| w[0].start <= w[1].start));

    // A range starting on a quiet day takes the level from before it.
    let r = env
        .alloc
        .usage(day0 + DAY, day0 + DAY, Period::Day)
        .unwrap();
    assert_eq!(row(&r, &d[1], CLIENT).peak, counts(1, 1));
    assert_eq!(r.rows.len(), 2);
}

#[test]
fn hours_and_months_fold_the_same_counters() {
    let env = site();
    let day0 = today(&env);
    concurrent_users(&env, &["u1", "u2"]);
    // 08:00 (the test clock's hour): u1; 10:00: u2 as well; 11:00: u1 leaves.
    let s1 = env.alloc.login("u1", Place::Nowhere, Some(86_400)).unwrap();
    env.clock.advance(2 * 3600);
    env.alloc.login("u2", Place::Nowhere, Some(86_400)).unwrap();
    env.clock.advance(3600);
    env.alloc.logout(&s1.id).unwrap();
    env.clock.advance(3600);

    let r = env.alloc.usage(day0, day0, Period::Hour).unwrap();
    let hour = |h: u32| format!("{}T{h:02}:00Z", date_text(day0));
    assert_eq!(row(&r, &hour(7), CLIENT).peak.concurrent, 0);
    assert_eq!(row(&r, &hour(8), CLIENT).peak.concurrent, 1);
    assert_eq!(row(&r, &hour(9), CLIENT).peak.concurrent, 1, "carried over");
    assert_eq!(row(&r, &hour(10), CLIENT).peak.concurrent, 2);
    assert_eq!(
        row(&r, &hour(11), CLIENT).peak.concurrent,
        2,
        "the level it started with"
    );
    assert_eq!(row(&r, &hour(12), CLIENT).peak.concurrent, 1);
    // No period after now.
    assert!(r.rows.iter().all(|x| x.start <= env.alloc.now()));

    let month = &date_text(day0)[..7];
    let r = env
        .alloc
        .usage(day0 - 40 * DAY, day0, Period::Month)
        .unwrap();
    assert_eq!(row(&r, month, CLIENT).peak.concurrent, 2);
    assert!(r.rows.iter().filter(|x| x.key == CLIENT).count() >= 2);
}

#[test]
fn denials_are_counted_per_key_period_and_reason_and_logged() {
    let env = site();
    let day0 = today(&env);
    concurrent_users(&env, &["u1", "u2", "u3"]);
    env.alloc.login("u1", Place::Nowhere, Some(86_400)).unwrap();
    env.alloc.login("u2", Place::Nowhere, Some(86_400)).unwrap();
    let e = env.alloc.login("u3", Place::Nowhere, None).unwrap_err();
    assert_eq!(e.kind(), "no-license-available");
    env.alloc
        .add_station("desk-1", StationKind::Workstation)
        .unwrap();
    env.alloc.add_user("r2", Method::Assignable, None).unwrap();
    // A rule: a station logon without a Basic Station on the station.
    let e = env
        .alloc
        .login("r2", Place::Station("desk-1".into()), None)
        .unwrap_err();
    assert_eq!(e.kind(), "rule-station");
    env.clock.advance(DAY - 60);
    let e = env.alloc.login("u3", Place::Nowhere, None).unwrap_err();
    assert_eq!(e.kind(), "no-license-available");
    let e = env.alloc.login("u3", Place::Nowhere, None).unwrap_err();
    assert_eq!(e.kind(), "no-license-available");

    let r = env.alloc.usage(day0, day0 + DAY, Period::Day).unwrap();
    let (d0, d1) = (date_text(day0), date_text(day0 + DAY));
    assert_eq!(
        row(&r, &d0, CLIENT).denials.get("no-license-available"),
        Some(&1)
    );
    assert_eq!(row(&r, &d0, BASIC).denials.get("rule-station"), Some(&1));
    assert_eq!(
        row(&r, &d1, CLIENT).denials.get("no-license-available"),
        Some(&2)
    );
    assert!(row(&r, &d1, BASIC).denials.is_empty());

    let denies: Vec<_> = env
        .alloc
        .events(100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Deny)
        .collect();
    assert_eq!(denies.len(), 4);
    assert_eq!(denies[0].who, "user 'u3'");
    assert_eq!(denies[0].key.as_deref(), Some(CLIENT));
    assert!(denies[0].detail.starts_with("no-license-available: "));
    // A refusal that is no denial (an unknown user) is not one.
    env.alloc.login("nobody", Place::Nowhere, None).unwrap_err();
    assert_eq!(env.alloc.events(1).unwrap()[0].kind, EventKind::Deny);
    assert_eq!(env.alloc.events(1).unwrap()[0].at, env.alloc.now());
}

#[test]
fn the_log_has_every_kind_newest_last() {
    let env = site();
    env.alloc.add_user("u1", Method::Concurrent, None).unwrap();
    env.alloc.allocate(Target::User("u1"), &[CLIENT]).unwrap();
    // Allocating what is held already changes nothing and records nothing.
    assert!(env
        .alloc
        .allocate(Target::User("u1"), &[CLIENT])
        .unwrap()
        .is_empty());
    env.alloc
        .add_station("desk-1", StationKind::Workstation)
        .unwrap();
    env.alloc
        .allocate(Target::Station("desk-1"), &[BASIC, CLIENT])
        .unwrap();
    let s = env
        .alloc
        .login("u1", Place::Station("desk-1".into()), Some(60))
        .unwrap();
    env.alloc.logout(&s.id).unwrap();
    let s = env.alloc.login("u1", Place::Nowhere, Some(60)).unwrap();
    env.clock.advance(61);
    env.alloc
        .deallocate(Target::Station("desk-1"), &[CLIENT])
        .unwrap();
    env.alloc.remove_station("desk-1").unwrap();

    let log = env.alloc.events(50).unwrap();
    let lines: Vec<(EventKind, &str, Option<&str>)> = log
        .iter()
        .map(|e| (e.kind, e.who.as_str(), e.key.as_deref()))
        .collect();
    use EventKind::*;
    assert_eq!(
        lines,
        [
            (Load, log[0].who.as_str(), None),
            (Change, "user 'u1'", None),
            (Change, "user 'u1'", Some(CLIENT)),
            (Change, "station 'desk-1'", None),
            (Acquire, "station 'desk-1'", Some(CLIENT)),
            (Acquire, "station 'desk-1'", Some(BASIC)),
            (Acquire, "user 'u1'", Some(CLIENT)),
            (Release, "user 'u1'", Some(CLIENT)),
            (Acquire, "user 'u1'", Some(CLIENT)),
            (Release, "user 'u1'", Some(CLIENT)),
            (Release, "station 'desk-1'", Some(CLIENT)),
            (Change, "station 'desk-1'", None),
        ]
    );
    assert!(log
        .windows(2)
        .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));
    assert!(
        log[7].detail.ends_with("ended: logged-off"),
        "{}",
        log[7].detail
    );
    assert_eq!(
        log[9].detail,
        format!("session {} ended: lease-lapsed", s.id)
    );
    assert!(log[6].detail.contains("at station 'desk-1'"));
    assert_eq!(log[2].detail, "configured (not consumed)");
    // --last N: the newest N, still newest last.
    let last2 = env.alloc.events(2).unwrap();
    assert_eq!(last2, log[10..]);
}

#[test]
fn a_rolled_back_change_records_nothing() {
    let env = site();
    concurrent_users(&env, &["u1"]);
    env.alloc
        .add_station("desk-1", StationKind::Workstation)
        .unwrap();
    let s = env.alloc.login("u1", Place::Nowhere, Some(600)).unwrap();
    let before = env.alloc.events(1000).unwrap();
    // Logging on elsewhere ends the first session, then the station refuses: all rolled back.
    let e = env
        .alloc
        .login("u1", Place::Station("desk-1".into()), None)
        .unwrap_err();
    assert!(matches!(e, AllocError::Rule { .. }), "{e}");
    assert_eq!(env.alloc.sessions().unwrap()[0].id, s.id);
    let after = env.alloc.events(1000).unwrap();
    // Only the denial, in its own transaction: no release of the first session.
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.last().unwrap().kind, EventKind::Deny);
    // Nor did the peak counters move: the level the next day starts with is still 1.
    let day0 = today(&env);
    env.alloc.heartbeat(&s.id).unwrap();
    env.clock.advance(DAY);
    let r = env
        .alloc
        .usage(day0 + DAY, day0 + DAY, Period::Day)
        .unwrap();
    assert_eq!(row(&r, &date_text(day0 + DAY), CLIENT).peak.concurrent, 1);
}

#[test]
fn a_new_file_changes_the_licensed_count_from_its_day_on() {
    let (mut chain, first) = Chain_::first(&[(CLIENT, 5, 2)], Rules::default());
    let env = env(&first);
    let day0 = today(&env);
    env.clock.advance(2 * DAY);
    let next = chain.next(&[(CLIENT, 8, 4), (SUPERVISOR, 1, 0)], Rules::default());
    env.alloc.load(next.as_bytes()).unwrap();
    let r = env.alloc.usage(day0, day0 + 2 * DAY, Period::Day).unwrap();
    assert_eq!(row(&r, &date_text(day0), CLIENT).licensed, counts(5, 2));
    assert_eq!(
        row(&r, &date_text(day0 + DAY), CLIENT).licensed,
        counts(5, 2)
    );
    assert_eq!(
        row(&r, &date_text(day0 + 2 * DAY), CLIENT).licensed,
        counts(8, 4)
    );
    assert_eq!(row(&r, &date_text(day0), SUPERVISOR).licensed, counts(0, 0));
    assert_eq!(
        row(&r, &date_text(day0 + 2 * DAY), SUPERVISOR).licensed,
        counts(1, 0)
    );
    let log = env.alloc.events(10).unwrap();
    assert_eq!(log.last().unwrap().kind, EventKind::Load);
    assert!(log.last().unwrap().detail.starts_with("loaded, replacing "));
}

#[test]
fn history_past_the_retention_is_purged_at_most_hourly() {
    let env = site();
    concurrent_users(&env, &["old"]);
    let first = env.alloc.events(1).unwrap()[0].clone();
    // A write just before the first event is past the retention: nothing old to purge yet.
    env.clock.advance(RETENTION_DAYS * DAY - 600);
    env.alloc.add_user("a", Method::Assignable, None).unwrap();
    // 20 minutes on, the first event is past it, but the last purge was under an hour ago.
    env.clock.advance(1200);
    env.alloc.add_user("b", Method::Assignable, None).unwrap();
    assert!(env.alloc.events(1000).unwrap().contains(&first));
    // An hour later it goes, and only what is past the retention goes.
    env.clock.advance(3600);
    env.alloc.add_user("c", Method::Assignable, None).unwrap();
    let log = env.alloc.events(1000).unwrap();
    assert!(!log.contains(&first));
    assert_eq!(
        log.iter().filter(|e| e.who.starts_with("user '")).count(),
        3,
        "{log:#?}"
    );
    // The licensed count of the purged past still stands (the newest load's counts stay).
    let day = today(&env);
    let r = env.alloc.usage(day, day, Period::Day).unwrap();
    assert_eq!(row(&r, &date_text(day), CLIENT).licensed, counts(5, 2));
}

#[test]
fn a_range_that_ends_before_it_starts_or_is_too_long_is_refused() {
    let env = site();
    let day0 = today(&env);
    let e = env.alloc.usage(day0, day0 - DAY, Period::Day).unwrap_err();
    assert_eq!(e.kind(), "invalid-input");
    let e = env
        .alloc
        .usage(day0 - 3 * 365 * DAY, day0, Period::Hour)
        .unwrap_err();
    assert!(e.to_string().contains("periods"), "{e}");
    // Before anything happened: every licensed key, at zero.
    let r = env
        .alloc
        .usage(day0 - 2 * DAY, day0 - DAY, Period::Day)
        .unwrap();
    assert!(r.rows.iter().all(|x| x.peak == counts(0, 0)));
}

postgres_too!(
    peaks_per_day_with_the_level_carried_into_quiet_days,
    hours_and_months_fold_the_same_counters,
    denials_are_counted_per_key_period_and_reason_and_logged,
    the_log_has_every_kind_newest_last,
    a_rolled_back_change_records_nothing,
    a_new_file_changes_the_licensed_count_from_its_day_on,
    history_past_the_retention_is_purged_at_most_hourly,
    a_range_that_ends_before_it_starts_or_is_too_long_is_refused,
);
