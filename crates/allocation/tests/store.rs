//! The store file itself: a version-1 store is migrated to the current schema when opened,
//! `check` finds what is broken in a store (each kind of damage made by hand here), and a
//! file that `open` refuses is left byte for byte as it was.

mod common;

use allocation::{AllocError, Allocator, Method, Place, StationKind, Target, SCHEMA_VERSION};
use common::*;
use format::Rules;
use store::TxExt as _;

/// A store with users, stations, allocations and sessions of every kind.
fn populated() -> Env {
    let env = env(&file(
        &[(CLIENT, 10, 10), (BASIC, 10, 2), (ACD1, 10, 10)],
        Rules::default(),
    ));
    let a = &env.alloc;
    a.add_station("desk-1", StationKind::Workstation).unwrap();
    a.add_station("desk-2", StationKind::Workstation).unwrap();
    a.allocate(Target::Station("desk-1"), &[BASIC, CLIENT])
        .unwrap();
    a.allocate(Target::Station("desk-2"), &[BASIC]).unwrap();
    a.disable_station("desk-2").unwrap();
    a.add_user("alice", Method::Assignable, None).unwrap();
    a.allocate(Target::User("alice"), &[CLIENT, ACD1]).unwrap();
    a.add_user("bob", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("bob"), &[CLIENT, ACD1]).unwrap();
    a.add_user("carol", Method::Concurrent, None).unwrap();
    a.allocate(Target::User("carol"), &[CLIENT]).unwrap();
    a.login("alice", Place::Station("desk-1".into()), None)
        .unwrap();
    a.login("bob", Place::Remote("+13175550100".into()), None)
        .unwrap();
    a.login("carol", Place::Nowhere, Some(60)).unwrap();
    env
}

/// Turn a current store back into a version-1 store: the schema without `configured_counts`
/// (nor version 3's identity and history).
fn downgrade_to_v1(path: &std::path::Path) {
    downgrade_to_v3_sqlite(path);
    let c = store_sqlite::open_raw(path).unwrap();
    c.execute_batch(
        "DROP TABLE store_hosts; DROP TABLE store_keys; DROP TABLE store_state;
         DROP TABLE lineages; DROP TABLE superseded; DROP TABLE admin_log;
         ALTER TABLE license DROP COLUMN signer_key;
         DROP TRIGGER user_grants_cfg_ins; DROP TRIGGER user_grants_cfg_del;
         DROP TRIGGER station_grants_cfg_ins; DROP TRIGGER station_grants_cfg_del;
         DROP TRIGGER station_grants_cfg_upd; DROP TABLE configured_counts;
         PRAGMA user_version = 1;",
    )
    .unwrap();
}

#[test]
fn a_version_1_store_is_migrated_when_opened_and_reports_the_same() {
    let env = populated();
    // carol's session lapses: the report counts live sessions only.
    env.clock.advance(120);
    let before = env.alloc.report().unwrap();
    assert_eq!(SCHEMA_VERSION, 8);
    let path = env.path();
    downgrade_to_v1(&path);
    let c = store_sqlite::open_raw(&path).unwrap();
    let v: i32 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    drop(c);

    let a = env.reopen();
    let v: i32 = store_sqlite::open_raw(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION);
    assert_eq!(a.report().unwrap(), before);
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
    let client = before.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(
        (
            client.assignable_configured,
            client.concurrent_configured,
            client.concurrent_in_use
        ),
        (2, 2, 1)
    );
    let basic = before.keys.iter().find(|k| k.name == BASIC).unwrap();
    // desk-1 (desk-2 is disabled), and bob's dynamic remote station from the pool.
    assert_eq!(
        (
            basic.assignable_configured,
            basic.assignable_dynamic,
            basic.concurrent_in_use
        ),
        (1, 0, 1)
    );
    // The migrated counters keep counting (alice is logged on: her session ends first).
    a.deallocate_with(
        Target::User("alice"),
        &[CLIENT],
        allocation::InUse::EndSession,
    )
    .unwrap();
    a.enable_station("desk-2").unwrap();
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
    let r = a.report().unwrap();
    let client = r.keys.iter().find(|k| k.name == CLIENT).unwrap();
    let basic = r.keys.iter().find(|k| k.name == BASIC).unwrap();
    assert_eq!(
        (client.assignable_configured, basic.assignable_configured),
        (1, 2)
    );
}

#[test]
fn two_allocators_opening_a_version_1_store_at_once_migrate_it_once() {
    let env = populated();
    let path = env.path();
    downgrade_to_v1(&path);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || Allocator::open(p, verifier()).map(|_| ()))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert_eq!(env.reopen().check().unwrap(), Vec::<String>::new());
}

/// Run `damage` on the store with foreign keys off, then `check` with another allocator.
fn damaged(damage: &str) -> Vec<String> {
    let env = populated();
    assert_eq!(env.alloc.check().unwrap(), Vec::<String>::new());
    let c = store_sqlite::open_raw(env.path()).unwrap();
    // (The bundled SQLite turns foreign keys on by default.)
    c.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    c.execute_batch(damage).unwrap();
    drop(c);
    env.reopen().check().unwrap()
}

#[test]
fn check_finds_every_kind_of_damage() {
    let found = |damage: &str, want: &str| {
        let problems = damaged(damage);
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{damage}: {problems:?}"
        );
    };
    found(
        "UPDATE usage_counts SET n = n + 1 WHERE key = 'I3_ACCESS_CLIENT' AND pool = 'assignable'",
        "usage counter of assignable is off by -1",
    );
    found(
        "UPDATE configured_counts SET n = n + 2 WHERE key = 'I3_ACCESS_CLIENT' AND pool = 'concurrent'",
        "configured counter of concurrent is off by -2",
    );
    found(
        "DELETE FROM users WHERE name = 'bob'",
        "refers to a missing row of users",
    );
    found(
        "DELETE FROM stations WHERE name = 'desk-1'",
        "refers to a missing row of stations",
    );
    found(
        "UPDATE user_grants SET consumes = 1 - consumes WHERE key = 'I3_ACCESS_ACD_MEDIA_1'",
        "counted against the wrong count",
    );
    found(
        "UPDATE users SET name = ' alice' WHERE name = 'alice'",
        "starts or ends with a blank",
    );
    found(
        "UPDATE sessions SET remote_number = '+1' WHERE station_id IS NOT NULL",
        "both at a station and a remote number",
    );
    found("UPDATE sessions SET lease = 100000", "lease 100000 s");
    found(
        "UPDATE license SET file_id = '00000000000000000000000000000000'",
        "the stored file's columns do not match its bytes",
    );
    // Above what the file allows, not recorded at a load.
    found(
        "INSERT INTO users (id, name, method) VALUES (100, 'u100', 'assignable');
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12)
         INSERT INTO users (name, method) SELECT 'x' || i, 'assignable' FROM n;
         INSERT INTO user_grants (user_id, key, explicit, consumes)
             SELECT id, 'I3_ACCESS_ACD_MEDIA_1', 1, 1 FROM users WHERE name LIKE 'x%';",
        "assignable in use, 10 allowed",
    );
    // Bytes that no longer verify are the license error.
    let env = populated();
    let c = store_sqlite::open_raw(env.path()).unwrap();
    c.execute_batch("UPDATE license SET bytes = CAST('not a file' AS BLOB)")
        .unwrap();
    drop(c);
    assert!(env.reopen().check().is_err());
}

/// Open the store file holding `bytes`: the refusal, and whether the file is as it was.
fn open_refused(bytes: &[u8]) -> (AllocError, bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.db");
    std::fs::write(&path, bytes).unwrap();
    let e = match Allocator::open(&path, verifier()) {
        Ok(_) => panic!("the file was opened as a store"),
        Err(e) => e,
    };
    (e, std::fs::read(&path).unwrap() == bytes)
}

#[test]
fn a_store_file_with_tables_but_no_schema_version_is_refused_and_left_unchanged() {
    // Found by the `open` fuzz target: a store file (i3lic's application id, not in WAL
    // mode) whose schema version reads 0. It used to be switched to WAL, which rewrote its
    // header, before the missing schema version was noticed and the file refused.
    let bytes = include_bytes!("data/open-crash-ceb04e02ffde352def213e304259d9babb712e41");
    assert_eq!(bytes.len(), 102_400);
    let (e, unchanged) = open_refused(bytes);
    assert!(
        matches!(&e, AllocError::NotAStore { reason, .. }
            if reason == "it holds tables but no schema version"),
        "{e:?}"
    );
    assert_eq!((e.kind(), e.exit_code()), ("not-a-store", 3), "{e}");
    assert!(unchanged, "the refused file was changed");
}

/// A populated store as a version-1 store in rollback-journal mode (a file SQLite switches to
/// WAL by rewriting its header), changed by `finish` with foreign keys off: its bytes.
fn version_1_store_file(finish: impl FnOnce(&dyn store::Connection, &std::path::Path)) -> Vec<u8> {
    let Env { dir, alloc, .. } = populated();
    drop(alloc);
    let path = dir.path().join("alloc.db");
    downgrade_to_v1(&path);
    let c = store_sqlite::open_raw(&path).unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    finish(&*c, &path);
    drop(c);
    std::fs::read(&path).unwrap()
}

#[test]
fn a_version_1_store_found_damaged_while_migrated_is_refused_and_left_unchanged() {
    let mut bytes = version_1_store_file(|_, _| {});
    // The root page of user_grants, read by the migration, made unreadable.
    let root: i64 = {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("copy.db");
        std::fs::write(&p, &bytes).unwrap();
        store_sqlite::open_raw(&p)
            .unwrap()
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = 'user_grants'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let page = usize::try_from(root - 1).unwrap() * 4096;
    bytes[page..page + 16].fill(0xff);
    let (e, unchanged) = open_refused(&bytes);
    assert!(unchanged, "the refused file was changed ({e})");
    assert_eq!((e.kind(), e.exit_code()), ("not-a-store", 3), "{e}");
}

#[test]
fn a_store_file_of_an_unknown_schema_version_is_refused_and_left_unchanged() {
    for v in [-1, SCHEMA_VERSION + 1] {
        let bytes = version_1_store_file(|c, _| {
            c.execute_batch(&format!("PRAGMA user_version = {}", v))
                .unwrap();
        });
        let (e, unchanged) = open_refused(&bytes);
        assert!(
            matches!(&e, AllocError::NotAStore { reason, .. }
                if reason.starts_with(&format!("schema version {v};"))),
            "{e:?}"
        );
        assert!(unchanged, "the refused file (version {v}) was changed");
    }
}

/// The tables of schemas 5 to 8, dropped (SQLite).
const SQLITE_DROP_V5_TO_V8: &str =
    "DROP TABLE install_key; DROP TABLE released; DROP TABLE checkouts; DROP TABLE workgroup_members; DROP TABLE workgroups; DROP TABLE user_kept_grants; DROP TABLE user_settings;
     DROP TRIGGER usage_counts_peak_ins; DROP TRIGGER usage_counts_peak_upd;
     DROP TABLE usage_events; DROP TABLE usage_peaks; DROP TABLE usage_denials;
     DROP TABLE usage_licensed; DROP TABLE history_state;";

/// An SQLite store taken back to schema 3.
fn downgrade_to_v3_sqlite(path: &std::path::Path) {
    store_sqlite::open_raw(path)
        .unwrap()
        .execute_batch(&format!(
            "{SQLITE_DROP_V5_TO_V8} DROP TABLE tokens; DROP TABLE ended_sessions; PRAGMA user_version = 3;"
        ))
        .unwrap();
}

/// Take the store back to schema 3 (the release before the license server's tables), on
/// either engine.
fn downgrade_to_v3(env: &Env) {
    match location(env.dir.path()) {
        allocation::StoreLocation::Sqlite(path) => {
            downgrade_to_v3_sqlite(&path);
        }
        allocation::StoreLocation::Postgres(url) => {
            let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
            c.batch_execute(
                "DROP TABLE install_key; DROP TABLE released; DROP TRIGGER usage_counts_peak ON usage_counts; DROP FUNCTION usage_counts_peak();
                 DROP TABLE usage_events; DROP TABLE usage_peaks; DROP TABLE usage_denials;
                 DROP TABLE usage_licensed; DROP TABLE history_state;
                 DROP TABLE checkouts; DROP TABLE workgroup_members; DROP TABLE workgroups; DROP TABLE user_kept_grants; DROP TABLE user_settings; DROP TABLE tokens; DROP TABLE ended_sessions;
                 UPDATE i3lic_store SET schema_version = 3, changes = changes + 1;",
            )
            .unwrap();
        }
    }
}

#[test]
fn a_version_3_store_gets_the_license_servers_tables_when_opened() {
    let env = populated();
    let before = env.alloc.report().unwrap();
    downgrade_to_v3(&env);
    let a = env.reopen();
    assert_eq!(a.report().unwrap(), before);
    // The new tables work: a token, and why a session ended.
    let t = a.create_token("ci").unwrap();
    assert_eq!(a.check_token(&t).unwrap().as_deref(), Some("ci"));
    let s = a.login("carol", Place::Nowhere, Some(60)).unwrap();
    a.logout(&s.id).unwrap();
    assert_eq!(a.session_end(&s.id).unwrap().unwrap().reason, "logged-off");
    assert_eq!(a.check().unwrap(), Vec::<String>::new());
}

postgres_too!(a_version_3_store_gets_the_license_servers_tables_when_opened);
