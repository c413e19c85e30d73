//! The ledger's schema, one migration file per step, in `migrations/sqlite/NNNN_name.sql`
//! (embedded at build time). Migration N takes a ledger from schema N-1 to schema N; a new
//! ledger applies every one in order, so it has exactly the schema a migrated old ledger has.
//! `PRAGMA user_version` holds the number of the last migration applied.

use rusqlite::Transaction;

use crate::error::IssuerError;

/// One step of the schema.
pub(super) struct Migration {
    /// The schema version this step produces (the file's number).
    pub(super) version: i64,
    /// The file's name, for messages.
    pub(super) name: &'static str,
    /// The file's SQL.
    pub(super) sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/sqlite/", $name)),
        }
    };
}

/// Every migration of the SQLite ledger, in order; versions run 1, 2, 3 … without a gap.
pub(super) const SQLITE: &[Migration] = &[
    migration!(1, "0001_ledger.sql"),
    migration!(2, "0002_file_activation.sql"),
    migration!(3, "0003_portal.sql"),
    migration!(4, "0004_sessions_epoch.sql"),
];

// The schema version this build writes is the last migration's.
const _: () = assert!(SQLITE[SQLITE.len() - 1].version == super::SCHEMA_VERSION);

/// Apply the migrations after schema `from` (0: a new, empty database) inside `tx`, and set
/// `user_version` to the last one. The caller commits; on an error nothing of it is kept
/// once `tx` is dropped. A step that fails for a reason other than I/O (a table or column
/// already there, say) is [`IssuerError::LedgerFormat`] naming the file and both versions.
pub(super) fn apply(
    tx: &Transaction<'_>,
    from: i64,
    path: &std::path::Path,
) -> Result<(), IssuerError> {
    for m in SQLITE.iter().filter(|m| m.version > from) {
        tx.execute_batch(m.sql).map_err(|e| {
            let why = engine_message(m, &e);
            let e = IssuerError::Database(e);
            if e.exit_code() != 1 {
                // I/O, a full disk, a corrupt file: reported as such.
                return e;
            }
            let to = super::SCHEMA_VERSION;
            let reason = if from == 0 {
                format!("creating schema {to} failed at {why}; nothing was written")
            } else {
                format!(
                    "migrating schema {from} to {to} failed at {why}; the ledger was left at schema {from}"
                )
            };
            IssuerError::LedgerFormat {
                path: path.to_path_buf(),
                reason,
            }
        })?;
    }
    tx.pragma_update(None, "user_version", super::SCHEMA_VERSION)?;
    Ok(())
}

/// Where and why `m` failed: `0003_portal.sql line 23 (table requests already exists)`,
/// without the SQL text the engine's message carries.
fn engine_message(m: &Migration, e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError {
            msg, sql, offset, ..
        } => {
            // `sql` is what was left of the file when the failing statement began.
            let at = m.sql.len().saturating_sub(sql.len()) + usize::try_from(*offset).unwrap_or(0);
            let line = m.sql.get(..at).map_or(0, |s| s.matches('\n').count()) + 1;
            format!("{} line {line} ({msg})", m.name)
        }
        rusqlite::Error::SqliteFailure(_, Some(msg)) => format!("{} ({msg})", m.name),
        other => format!("{} ({other})", m.name),
    }
}

#[cfg(test)]
mod tests {
    use super::SQLITE;

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
