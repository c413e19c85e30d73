//! Real `licadmin` processes racing for the last licenses: exactly as many succeed as there
//! are licenses left; every other one exits 21 and changes nothing.

mod common;

use std::process::{Child, Command, Stdio};

use allocation::{Method, Target};
use common::*;
use format::Rules;

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");
const RACERS: usize = 24;

/// What `--store` names: the test's SQLite file, or its PostgreSQL database.
fn store_arg(env: &Env) -> std::ffi::OsString {
    match location(env.dir.path()) {
        allocation::StoreLocation::Sqlite(p) => p.into_os_string(),
        allocation::StoreLocation::Postgres(url) => url.into(),
    }
}

fn spawn_all(
    env: &Env,
    pub_key: &std::path::Path,
    args: impl Fn(usize) -> Vec<String>,
) -> Vec<i32> {
    let host = host().to_string();
    let children: Vec<Child> = (0..RACERS)
        .map(|i| {
            Command::new(BIN)
                .env_remove("I3LIC_TRUST")
                .arg("--store")
                .arg(store_arg(env))
                .arg("--trust")
                .arg(pub_key)
                .args(["--host-id", &host])
                .args(args(i))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            let code = o.status.code().unwrap();
            assert!(
                code == 0 || code == 21,
                "exit {code}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            code
        })
        .collect()
}

#[test]
fn processes_racing_for_the_last_licenses_get_exactly_what_is_left() {
    // 1 assignable and 3 concurrent Client Access licenses left for 24 processes each.
    let env = env(&file(&[(CLIENT, 2, 3)], Rules::default()));
    let key = env.dir.path().join("vendor.pub");
    std::fs::write(&key, vendor().public_key().to_text("vendor")).unwrap();
    env.alloc
        .add_user("first", Method::Assignable, None)
        .unwrap();
    env.alloc
        .allocate(Target::User("first"), &[CLIENT])
        .unwrap();
    for i in 0..RACERS {
        env.alloc
            .add_user(&format!("a{i}"), Method::Assignable, None)
            .unwrap();
        env.alloc
            .add_user(&format!("c{i}"), Method::Concurrent, None)
            .unwrap();
        env.alloc
            .allocate(Target::User(&format!("c{i}")), &[CLIENT])
            .unwrap();
    }

    let logons = spawn_all(&env, &key, |i| {
        vec!["login".into(), "--user".into(), format!("c{i}")]
    });
    assert_eq!(logons.iter().filter(|c| **c == 0).count(), 3, "{logons:?}");
    assert_eq!(logons.iter().filter(|c| **c == 21).count(), RACERS - 3);

    let allocations = spawn_all(&env, &key, |i| {
        vec![
            "allocate".into(),
            "--user".into(),
            format!("a{i}"),
            CLIENT.into(),
        ]
    });
    assert_eq!(
        allocations.iter().filter(|c| **c == 0).count(),
        1,
        "{allocations:?}"
    );

    // The processes time leases by the system clock; so does this check.
    let system = allocation::Allocator::open_at(
        &location(env.dir.path()),
        verifier(),
        std::sync::Arc::new(allocation::SystemClock),
    )
    .unwrap();
    let r = system.report().unwrap();
    let k = r.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!((k.assignable_configured, k.concurrent_in_use), (2, 3));
    assert!(system.check().unwrap().is_empty());
}

// The same race with the pool on PostgreSQL: processes of any number of servers share it.
postgres_too!(processes_racing_for_the_last_licenses_get_exactly_what_is_left);
