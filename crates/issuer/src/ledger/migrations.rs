//! The ledger's schema, one migration file per step, in `migrations/sqlite/NNNN_name.sql`
//! and `migrations/postgres/NNNN_name.sql` (embedded at build time). Migration N takes a ledger from schema N-1 to schema N; a new
//! ledger applies every one in order, so it has exactly the schema a migrated old ledger has.
//! The engine records the number of the last migration applied (SQLite's `user_version`).

use store::{Migration, Schema};

macro_rules! migration {
    ($version:literal, $name:literal) => {
        migration!("sqlite", $version, $name)
    };
    ($engine:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $engine, "/", $name)),
        }
    };
}

/// Tables every schema version has: a database that claims a ledger schema but lacks one of
/// them is another program's.
const TABLES: &[&str] = &[
    "accounts",
    "sites",
    "orders",
    "files",
    "file_usage",
    "file_licenses",
    "audit",
];

/// Every migration of the SQLite ledger, in order; versions run 1, 2, 3 … without a gap.
pub(super) const SQLITE_MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_ledger.sql"),
    migration!(2, "0002_file_activation.sql"),
    migration!(3, "0003_portal.sql"),
    migration!(4, "0004_sessions_epoch.sql"),
    migration!(5, "0005_portal_sessions.sql"),
    migration!(6, "0006_deactivations.sql"),
    migration!(7, "0007_idempotency.sql"),
    migration!(8, "0008_request_details.sql"),
    migration!(9, "0009_related_production_index.sql"),
    migration!(10, "0010_files_account_active_index.sql"),
];

/// The SQLite ledger's schema.
pub(super) const SQLITE: Schema = Schema {
    what: "ledger",
    migrations: SQLITE_MIGRATIONS,
    tables: TABLES,
    application_id: None,
};

/// Every migration of the PostgreSQL ledger, in order, from schema 4 on.
pub(super) const POSTGRES_MIGRATIONS: &[Migration] = &[
    migration!("postgres", 4, "0004_ledger.sql"),
    migration!("postgres", 5, "0005_portal_sessions.sql"),
    migration!("postgres", 6, "0006_deactivations.sql"),
    migration!("postgres", 7, "0007_idempotency.sql"),
    migration!("postgres", 8, "0008_request_details.sql"),
    migration!("postgres", 9, "0009_related_production_index.sql"),
    migration!("postgres", 10, "0010_files_account_active_index.sql"),
];

/// The PostgreSQL ledger's schema: it begins at schema 4, the version PostgreSQL ledgers were
/// added in (the same tables as an SQLite ledger of schema 4); later versions add files
/// numbered as the SQLite ones.
pub(super) const POSTGRES: Schema = Schema {
    what: "ledger",
    migrations: POSTGRES_MIGRATIONS,
    tables: TABLES,
    application_id: None,
};

// The schema version this build writes is the last migration's, on both engines.
const _: () =
    assert!(POSTGRES.migrations[POSTGRES.migrations.len() - 1].version == super::SCHEMA_VERSION);
const _: () =
    assert!(SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.len() - 1].version == super::SCHEMA_VERSION);

#[cfg(test)]
mod tests {
    use super::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS as SQLITE};

    /// The PostgreSQL list names every file of its folder, from schema 4 on without a gap,
    /// and each later file has the number of the SQLite migration it matches.
    #[test]
    fn the_postgres_table_is_its_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let names: Vec<&str> = POSTGRES_MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(files, names);
        for (i, m) in POSTGRES_MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 4, "{}", m.name);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
            if m.version > 4 {
                assert_eq!(m.name, SQLITE[m.version as usize - 1].name);
            }
        }
    }

    /// The table names every file of the folder, numbered 1, 2, 3 … in order, so a file
    /// added to the folder cannot be left out of the build.
    #[test]
    fn the_table_is_the_folder() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        let names: Vec<&str> = SQLITE.iter().map(|m| m.name).collect();
        assert_eq!(files, names);
        for (i, m) in SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
            assert!(m.name.ends_with(".sql"), "{}", m.name);
        }
    }
}
