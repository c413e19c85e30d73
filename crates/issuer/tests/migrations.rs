//! The ledger's migrations (`migrations/sqlite/NNNN_name.sql`), each tested from the schema
//! before it: a ledger at schema v, built from the migration files 1..=v themselves and
//! holding accounts, sites, orders, issued files and audit rows, opens at the current
//! schema with every file byte-identical, its audit chain verifying, and exactly the schema
//! a new ledger has. A migration that fails leaves the ledger as it was, byte for byte.

mod common;

use std::path::{Path, PathBuf};

use common::{add_orders, ledger, request, update_by, Units, AL02, SL03};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::ledger::SCHEMA_VERSION;
use issuer::{IssuerError, Ledger, Role, UpdateRequest};
use store::TxExt;

/// The migration files, in order, as `(version, path)`.
fn migration_files() -> Vec<(i64, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut files: Vec<(i64, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name[..4].parse().unwrap(), p)
        })
        .collect();
    files.sort();
    assert_eq!(files.last().unwrap().0, SCHEMA_VERSION);
    files
}

/// A ledger of this build with two accounts, sites, orders, issued, updated and deactivated
/// files and their audit rows (and, with `portal`, a portal user). Returns its path and the
/// ids of its files.
fn source(dir: &Path, portal: bool) -> (PathBuf, Vec<String>) {
    let (mut l, c) = ledger(dir);
    add_orders(&mut l, &c, &[(SL03, 3), (AL02, 50)], Units::Perpetual);
    add_orders(&mut l, &c, &[(AL02, 5)], Units::NonPerpetual);
    l.add_account("Fabrikam", "t").unwrap();
    let key = SecretKey::generate();
    let r = request(LicenseType::Production, SL03, &[(AL02, 10)]);
    let a = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    let b = l.issue(&c, &r, &key, None, Timestamp::now()).unwrap();
    let a2 = l
        .update(
            &c,
            &a.file_id.to_string(),
            &UpdateRequest {
                machine: Some("ic9".into()),
                ..update_by("t")
            },
            &key,
            None,
            Timestamp::now(),
        )
        .unwrap();
    l.deactivate(&b.file_id.to_string(), "t", Timestamp::now())
        .unwrap();
    if portal {
        l.add_portal_user(
            "ann@contoso.example",
            Role::Customer,
            false,
            &["Contoso".into()],
            "$argon2id$x",
            "t",
        )
        .unwrap();
    }
    let ids = [a, b, a2].iter().map(|i| i.file_id.to_string()).collect();
    (dir.join("ledger.db"), ids)
}

/// The SQL of the migration files 1..=v.
fn migrations_up_to(v: i64) -> Vec<String> {
    migration_files()
        .into_iter()
        .filter(|(n, _)| *n <= v)
        .map(|(_, file)| std::fs::read_to_string(file).unwrap())
        .collect()
}

/// A fixture of `tests/fixtures/shipped`: schema SQL as an earlier release ran it.
fn shipped(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/shipped")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

/// A ledger at schema `v` at `dst`, made by running `sql` (in WAL mode, as every release
/// has kept it) and holding the rows of `src` that schema has columns for.
fn build(sql: &[String], v: i64, src: &Path, dst: &Path) {
    let c = store_sqlite::open_raw(dst).unwrap();
    let _: String = c
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    for s in sql {
        c.execute_batch(s).unwrap();
    }
    c.execute_batch(&format!("PRAGMA user_version = {v}"))
        .unwrap();
    c.execute("ATTACH DATABASE ?1 AS src", [src.to_str().unwrap()])
        .unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' ORDER BY rootpage")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in tables {
        let cols: Vec<String> = c
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{t}', 'main')"
            ))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let cols = cols.join(", ");
        c.execute_batch(&format!(
            "INSERT INTO main.{t} ({cols}) SELECT {cols} FROM src.{t}"
        ))
        .unwrap();
    }
    c.execute_batch("DETACH DATABASE src").unwrap();
}

/// A ledger at schema `v` made from the migration files 1..=v, holding `src`'s rows.
fn at_schema(v: i64, src: &Path, dst: &Path) {
    build(&migrations_up_to(v), v, src, dst);
}

/// Open the ledger at `db` (of an older schema or not) and check that it is at the current
/// schema with `src`'s files byte-identical, its audit chain verifying and the same as
/// `src`'s, its counters right, and that it takes a new file. `what` names the case.
fn opens_with_its_files(db: &Path, src: &Path, ids: &[String], what: &str) {
    let catalog = issuer::Catalog::built_in().unwrap();
    let src_ledger = Ledger::open(src).unwrap();
    let mut l = Ledger::open(db).unwrap();
    assert_eq!(user_version(db), SCHEMA_VERSION, "{what}");
    for id in ids {
        assert_eq!(
            l.file_bytes(id).unwrap(),
            src_ledger.file_bytes(id).unwrap(),
            "file {id}, {what}"
        );
        let (shown, recorded) = (
            l.show(&catalog, id).unwrap(),
            src_ledger.show(&catalog, id).unwrap(),
        );
        if l.raw_for_tests()
            .query_row(
                "SELECT activation IS NULL FROM files WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
        {
            // Schema 1 kept no signed payload: `show` rebuilds what its rows hold.
            assert_eq!(
                (&shown.status, &shown.sha256, &shown.activation.licenses),
                (
                    &recorded.status,
                    &recorded.sha256,
                    &recorded.activation.licenses
                ),
                "show {id}, {what}"
            );
        } else {
            assert_eq!(shown, recorded, "show {id}, {what}");
        }
    }
    let audit = l.verify_audit(None).unwrap();
    assert!(audit.intact(), "{what}: {:?}", audit.problems);
    let src_audit = src_ledger.verify_audit(None).unwrap();
    assert_eq!(
        (audit.rows, &audit.head_hash),
        (src_audit.rows, &src_audit.head_hash),
        "{what}"
    );
    assert!(l.verify_usage().unwrap().is_empty(), "{what}");
    assert_eq!(
        l.portal_users().unwrap(),
        src_ledger.portal_users().unwrap()
    );
    // The migrated ledger takes new files.
    let key = SecretKey::generate();
    let r = request(LicenseType::Production, SL03, &[(AL02, 1)]);
    l.issue(&catalog, &r, &key, None, Timestamp::now()).unwrap();
    assert!(l.verify_audit(None).unwrap().intact(), "{what}");
}

/// Every object of the schema with its SQL text, as SQLite keeps it.
fn schema(db: &Path) -> Vec<(String, String, Option<String>)> {
    let c = store_sqlite::open_raw(db).unwrap();
    let mut st = c
        .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn user_version(db: &Path) -> i64 {
    store_sqlite::open_raw(db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_new_ledger_has_every_migration_applied() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Ledger::open(&fresh).unwrap());
    let by_hand = dir.path().join("by-hand.db");
    let c = store_sqlite::open_raw(&by_hand).unwrap();
    for (_, file) in migration_files() {
        c.execute_batch(&std::fs::read_to_string(file).unwrap())
            .unwrap();
    }
    drop(c);
    assert_eq!(user_version(&fresh), SCHEMA_VERSION);
    assert_eq!(schema(&fresh), schema(&by_hand));
}

#[test]
fn a_ledger_of_every_older_schema_is_migrated_keeping_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Ledger::open(&fresh).unwrap());
    for v in 1..SCHEMA_VERSION {
        let src_dir = dir.path().join(format!("src-{v}"));
        std::fs::create_dir(&src_dir).unwrap();
        // Portal users exist from schema 3 on.
        let (src, ids) = source(&src_dir, v >= 3);
        let db = dir.path().join(format!("schema-{v}.db"));
        at_schema(v, &src, &db);
        assert_eq!(user_version(&db), v);
        opens_with_its_files(&db, &src, &ids, &format!("from schema {v}"));
        assert_eq!(schema(&db), schema(&fresh), "migrated from schema {v}");
    }
}

/// Tables, columns, indexes, foreign keys and triggers, without the text of each
/// `CREATE TABLE` (a column added by `ALTER TABLE` is written at the end of it).
fn structure(db: &Path) -> Vec<String> {
    let c = store_sqlite::open_raw(db).unwrap();
    let rows = |sql: &str| -> Vec<String> {
        let mut st = c.prepare(sql).unwrap();
        let out = st
            .query_map([], |r| {
                (0..r.len())
                    .map(|i| Ok(format!("{:?}", r.get::<store::Value>(i)?)))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|v| v.join(" "))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out
    };
    let mut out = rows(
        "SELECT type, name, tbl_name, CASE type WHEN 'table' THEN NULL ELSE sql END
         FROM sqlite_master ORDER BY type, name",
    );
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in tables {
        out.push(format!("table {t}"));
        out.extend(rows(&format!("SELECT * FROM pragma_table_xinfo('{t}')")));
        out.extend(rows(&format!(
            "SELECT * FROM pragma_foreign_key_list('{t}')"
        )));
        out.extend(rows(&format!("SELECT * FROM pragma_index_list('{t}')")));
    }
    out
}

/// Ledgers as earlier releases created them, whose `CREATE TABLE` texts differ from the
/// migration files' (a new ledger got each table whole): they open with every file
/// byte-identical and the structure of a new ledger.
#[test]
fn ledgers_made_by_earlier_releases_open_keeping_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(Ledger::open(&fresh).unwrap());
    let migration = |v: i64| migrations_up_to(v).pop().unwrap();
    let made = [
        (1, vec![migration(1)]),
        (2, vec![shipped("ledger-2.sql")]),
        (3, vec![shipped("ledger-2.sql"), migration(3)]),
        (4, vec![shipped("ledger-2.sql"), shipped("portal-4.sql")]),
    ];
    for (v, sql) in made {
        let src_dir = dir.path().join(format!("src-{v}"));
        std::fs::create_dir(&src_dir).unwrap();
        let (src, ids) = source(&src_dir, v >= 3);
        let db = dir.path().join(format!("release-{v}.db"));
        build(&sql, v, &src, &db);
        opens_with_its_files(
            &db,
            &src,
            &ids,
            &format!("made by the release of schema {v}"),
        );
        assert_eq!(structure(&db), structure(&fresh), "release of schema {v}");
    }
}

#[test]
fn a_migration_that_fails_midway_leaves_the_ledger_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let src_dir = dir.path().join("src");
    std::fs::create_dir(&src_dir).unwrap();
    let (src, ids) = source(&src_dir, false);
    let db = dir.path().join("schema-1.db");
    at_schema(1, &src, &db);
    // A table of schema 3 already there: migration 2 applies, then 3 fails halfway through.
    let c = store_sqlite::open_raw(&db).unwrap();
    c.execute_batch("CREATE TABLE requests (note TEXT);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&db).unwrap();
    let schema_before = schema(&db);

    match Ledger::open(&db) {
        Err(e @ IssuerError::LedgerFormat { .. }) => {
            assert_eq!(e.exit_code(), 3);
            let m = e.to_string();
            for part in [
                "0003_portal.sql line 27 (table requests already exists)",
                "left at schema 1",
            ] {
                assert!(m.contains(part), "{m}");
            }
        }
        other => panic!("expected LedgerFormat, got {other:?}"),
    }
    let o = common::run(&db, &["account", "list"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("0003_portal.sql"));
    assert!(
        std::fs::read(&db).unwrap() == before,
        "the ledger was changed"
    );
    assert_eq!(user_version(&db), 1);
    assert_eq!(schema(&db), schema_before);

    // Without the stray table it migrates, its files intact.
    let c = store_sqlite::open_raw(&db).unwrap();
    c.execute_batch("DROP TABLE requests;").unwrap();
    drop(c);
    let l = Ledger::open(&db).unwrap();
    let src = Ledger::open(&src).unwrap();
    for id in &ids {
        assert_eq!(l.file_bytes(id).unwrap(), src.file_bytes(id).unwrap());
    }
    assert_eq!(user_version(&db), SCHEMA_VERSION);
}

/// The lookup of a production file's active recovery files, run by every deactivation and
/// update, reads the index of schema 9 rather than the whole files table (which made
/// deactivating slower as the ledger grew).
#[test]
fn the_recovery_file_lookup_uses_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    drop(Ledger::open(&db).unwrap());
    let c = store_sqlite::open_raw(&db).unwrap();
    let plan: Vec<String> = c
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM files WHERE related_production = ?1 AND active = 1 ORDER BY seq",
        )
        .unwrap()
        .query_map([1_i64], |r| r.get::<String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|s| s.contains("files_related_production")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|s| s.starts_with("SCAN files")),
        "{plan:?}"
    );
}

/// Activation File Activity's default list (an account's active files, newest first) counts
/// from the index of schema 10 alone and reads its page in that index's order, rather than
/// every file row of the account (which halved the portal's activity page on a large ledger).
#[test]
fn the_active_files_of_an_account_are_counted_and_listed_from_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    drop(Ledger::open(&db).unwrap());
    let c = store_sqlite::open_raw(&db).unwrap();
    let plan = |sql: &str| -> Vec<String> {
        c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map([5_i64], |r| r.get::<String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let count = plan("SELECT count(*) FROM files f WHERE f.account_id = ?1 AND f.active = 1");
    assert!(
        count
            .iter()
            .any(|s| s.contains("COVERING INDEX files_account_active")),
        "{count:?}"
    );
    let page = plan(
        "SELECT f.id FROM files f JOIN accounts a ON a.id = f.account_id \
         JOIN sites s ON s.id = f.site_id WHERE f.account_id = ?1 AND f.active = 1 \
         ORDER BY f.generated_at DESC, f.seq DESC LIMIT 50",
    );
    assert!(
        page.iter().any(|s| s.contains("files_account_active")),
        "{page:?}"
    );
    assert!(
        !page.iter().any(|s| s.contains("TEMP B-TREE")),
        "the page is read in index order, not sorted: {page:?}"
    );
}
