//! For tests of the crates that use a PostgreSQL store: a server to test against and a fresh
//! database on it, dropped afterwards.

use std::sync::atomic::{AtomicU64, Ordering};

/// The URL of the test server (`I3LIC_TEST_POSTGRES`, whose user may `CREATE DATABASE`), or
/// `None` after one line on standard error when it is unset. In CI (`CI=true`) an unset
/// variable panics: PostgreSQL tests must never be skipped there.
pub fn test_server() -> Option<String> {
    match std::env::var("I3LIC_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "I3LIC_TEST_POSTGRES is not set: PostgreSQL tests must not skip in CI (./test.sh starts a throwaway server)"
            );
            eprintln!("skipping PostgreSQL test: I3LIC_TEST_POSTGRES is not set (./test.sh starts a throwaway server)");
            None
        }
    }
}

/// A database made for one test on the test server, dropped (with any connection still on
/// it) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    server: String,
    name: String,
}

/// The URL `server` with its database replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let scheme_end = server.find("://").map_or(0, |i| i + 3);
    let (base, query) = match server.find('?') {
        Some(q) => (&server[..q], &server[q..]),
        None => (server, ""),
    };
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{name}{query}", &base[..host_end])
}

fn admin(server: &str) -> postgres::Client {
    crate::connect(server)
        .unwrap_or_else(|e| panic!("cannot use the test server (I3LIC_TEST_POSTGRES): {e}"))
        .0
}

/// A new, empty UTF-8 database with C collation on the test server; `None` when there is
/// no test server (see [`test_server`]). Panics when the server refuses: a test cannot go on.
pub fn fresh_database() -> Option<TestDatabase> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let server = test_server()?;
    let random = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish() & 0xffff_ffff
    };
    let name = format!(
        "i3lic_test_{}_{}_{random:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin(&server)
        .batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        ))
        .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
    Some(TestDatabase {
        url: with_database(&server, &name),
        server,
        name,
    })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok((mut c, _)) = crate::connect(&self.server) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_is_replaced_in_the_url() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5/t1"
        );
        assert_eq!(
            super::with_database("postgres://h:5", "t1"),
            "postgres://h:5/t1"
        );
        assert_eq!(
            super::with_database("postgres://h/x?sslmode=disable", "t1"),
            "postgres://h/t1?sslmode=disable"
        );
    }
}
