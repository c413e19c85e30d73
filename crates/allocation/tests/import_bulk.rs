//! `import users` checks every line against what the store held plus what the lines before
//! it add, and writes them in bulk: each refusal names the line, column and error that
//! adding the users one at a time would give, and what it records is the same.

mod common;

use std::sync::Arc;

use allocation::{
    AllocError, Allocator, ImportKind, ManualClock, Method, StoreLocation, Target, UserFilter,
};
use common::*;
use format::Rules;

/// Add `rows` (name, method, organization, keys) one at a time; the index of the first
/// refused and its error.
fn one_at_a_time(
    a: &Allocator,
    rows: &[(&str, Method, Option<&str>, &[&str])],
) -> Option<(usize, AllocError)> {
    for (i, (name, method, org, keys)) in rows.iter().enumerate() {
        if let Err(e) = a.add_user(name, *method, *org) {
            return Some((i, e));
        }
        if !keys.is_empty() {
            if let Err(e) = a.allocate(Target::User(name), keys) {
                return Some((i, e));
            }
        }
    }
    None
}

fn csv(rows: &[(&str, Method, Option<&str>, &[&str])]) -> String {
    let mut s = String::from("name,method,organization,licenses\n");
    for (name, method, org, keys) in rows {
        s.push_str(&format!(
            "{name},{method},{},{}\n",
            org.unwrap_or(""),
            keys.join(";")
        ));
    }
    s
}

/// A store of `assigned` and `pooled` Client Access with `before` assignable users holding
/// it; with `limits`, tenant-a may use at most 2 and tenant-b keeps 4 for itself.
fn site(assigned: u32, pooled: u32, before: usize, limits: bool, reference: bool) -> Env {
    let f = file(
        &[(CLIENT, assigned, pooled), (ACD1, 50, 50), (ORG, 2, 0)],
        Rules::default(),
    );
    let env = if reference { sqlite_env(&f) } else { env(&f) };
    for o in ["tenant-a", "tenant-b"] {
        env.alloc.add_organization(o).unwrap();
    }
    if limits {
        env.alloc
            .set_organization_limit("tenant-a", CLIENT, None, Some(2))
            .unwrap();
        env.alloc
            .set_organization_limit("tenant-b", CLIENT, Some(4), None)
            .unwrap();
    }
    for i in 0..before {
        let u = format!("before{i}");
        env.alloc.add_user(&u, Method::Assignable, None).unwrap();
        env.alloc.allocate(Target::User(&u), &[CLIENT]).unwrap();
    }
    env
}

/// The store one line at a time is compared with: on SQLite whatever the engine under test
/// (on PostgreSQL a test has one database).
fn sqlite_env(file: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_800_000_000);
    let alloc = Allocator::open_at(
        &StoreLocation::Sqlite(dir.path().join("reference.db")),
        verifier(),
        Arc::new(clock.clone()),
    )
    .unwrap();
    alloc.load(file.as_bytes()).unwrap();
    Env { dir, clock, alloc }
}

fn users(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = env
        .alloc
        .users(&UserFilter::default())
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.name)
        .collect();
    v.sort();
    v
}

/// The import of `rows` on one store and the same one at a time on another: the same first
/// refusal (line = index + 2), nothing imported.
fn refused_alike(
    store: (u32, u32, usize, bool),
    rows: &[(&str, Method, Option<&str>, &[&str])],
    kind: &str,
) {
    let (a, p, before, limits) = store;
    let (bulk, single) = (
        site(a, p, before, limits, false),
        site(a, p, before, limits, true),
    );
    let had = users(&bulk);
    let e = bulk
        .alloc
        .import(ImportKind::Users, csv(rows).as_bytes())
        .unwrap_err();
    let (i, expected) = one_at_a_time(&single.alloc, rows).expect("refused one at a time");
    let AllocError::AtLine {
        line,
        column,
        source,
    } = &e
    else {
        panic!("not at a line: {e}");
    };
    assert_eq!(*line, i as u64 + 2, "{e}");
    assert_eq!(source.kind(), kind, "{e}");
    assert_eq!(source.to_string(), expected.to_string());
    let col = if kind == "already-exists" {
        "name"
    } else {
        "licenses"
    };
    assert_eq!(column.as_deref(), Some(col), "{e}");
    assert_eq!(users(&bulk), had, "nothing imported");
}

#[test]
fn each_line_counts_the_licenses_the_lines_before_it_took() {
    const A: Method = Method::Assignable;
    const C: Method = Method::Concurrent;
    // 10 assignable Client Access, 3 held before: the eighth assignable line is refused;
    // concurrent lines between take none.
    let mut rows: Vec<(&str, Method, Option<&str>, &[&str])> = Vec::new();
    let names = ["u1", "u2", "c1", "u3", "u4", "c2", "u5", "u6", "u7", "u8"];
    for n in names {
        rows.push((
            n,
            if n.starts_with('c') { C } else { A },
            None,
            &[CLIENT][..],
        ));
    }
    refused_alike((10, 5, 3, false), &rows, "no-license-available");
}

#[test]
fn an_organizations_maximum_counts_the_lines_before_it() {
    const A: Method = Method::Assignable;
    let a = Some("tenant-a");
    // tenant-a's maximum of 2: its third user is refused.
    refused_alike(
        (20, 5, 0, true),
        &[
            ("a1", A, a, &[CLIENT]),
            ("x", A, None, &[CLIENT]),
            ("a2", A, a, &[CLIENT]),
            ("a3", A, a, &[CLIENT]),
        ],
        "organization-cap",
    );
}

#[test]
fn the_other_organizations_reserves_count_the_lines_before_it() {
    const A: Method = Method::Assignable;
    // 8 assignable, tenant-b keeps 4 of them: the fifth user outside it is refused.
    let names = ["n1", "n2", "n3", "n4", "n5", "n6"];
    let rows: Vec<(&str, Method, Option<&str>, &[&str])> =
        names.iter().map(|n| (*n, A, None, &[CLIENT][..])).collect();
    refused_alike((8, 0, 0, true), &rows, "reserved");
}

#[test]
fn a_name_twice_in_the_file_is_refused_at_its_second_line() {
    const C: Method = Method::Concurrent;
    refused_alike(
        (10, 5, 1, false),
        &[
            ("bob", C, None, &[CLIENT]),
            ("carol", C, None, &[]),
            ("bob", C, None, &[ACD1]),
        ],
        "already-exists",
    );
}

#[test]
fn a_name_the_store_has_is_refused_at_its_line() {
    const C: Method = Method::Concurrent;
    refused_alike(
        (10, 5, 1, false),
        &[("carol", C, None, &[]), ("before0", C, None, &[])],
        "already-exists",
    );
}

#[test]
fn an_import_records_what_adding_one_at_a_time_records() {
    let rules = Rules {
        implies: vec![implies(SUPERVISOR, ACD1)],
        ..Rules::default()
    };
    let f = file(
        &[
            (CLIENT, 10, 10),
            (ACD1, 10, 10),
            (SUPERVISOR, 10, 10),
            (ORG, 1, 0),
        ],
        rules,
    );
    let (bulk, single) = (env(&f), sqlite_env(&f));
    for e in [&bulk, &single] {
        e.alloc.add_organization("tenant-a").unwrap();
        e.alloc
            .add_user("before", Method::Assignable, None)
            .unwrap();
    }
    let rows: Vec<(&str, Method, Option<&str>, &[&str])> = vec![
        (
            "alice",
            Method::Assignable,
            Some("tenant-a"),
            &[CLIENT, SUPERVISOR],
        ),
        ("bob", Method::Concurrent, None, &[SUPERVISOR]),
        ("carol", Method::Concurrent, None, &[]),
        ("dave", Method::Assignable, None, &[ACD1, SUPERVISOR]),
    ];
    let r = bulk
        .alloc
        .import(ImportKind::Users, csv(&rows).as_bytes())
        .unwrap();
    assert_eq!((r.added, r.allocated), (4, 7), "{r:?}");
    assert!(one_at_a_time(&single.alloc, &rows).is_none());
    let list = |e: &Env| e.alloc.users(&UserFilter::default()).unwrap();
    assert_eq!(format!("{:?}", list(&bulk)), format!("{:?}", list(&single)));
    assert_eq!(
        format!("{:?}", bulk.alloc.report().unwrap()),
        format!("{:?}", single.alloc.report().unwrap())
    );
    let events = |e: &Env| -> Vec<(String, String, Option<String>, String)> {
        e.alloc
            .events(100)
            .unwrap()
            .into_iter()
            .map(|v| (v.kind.to_string(), v.who, v.key, v.detail))
            .collect()
    };
    assert_eq!(events(&bulk), events(&single));
    // Only SUPERVISOR was asked for by bob: ACD1 came with it, and goes with it.
    bulk.alloc
        .deallocate(Target::User("bob"), &[SUPERVISOR])
        .unwrap();
    assert!(list(&bulk)
        .users
        .iter()
        .any(|u| u.name == "bob" && u.licenses.is_empty()));
    let day = allocation::parse_date("2027-01-15").unwrap();
    let usage = |e: &Env| {
        format!(
            "{:?}",
            e.alloc.usage(day, day, allocation::Period::Day).unwrap()
        )
    };
    single
        .alloc
        .deallocate(Target::User("bob"), &[SUPERVISOR])
        .unwrap();
    assert_eq!(usage(&bulk), usage(&single));
    assert!(bulk.alloc.check().unwrap().is_empty());
}

postgres_too!(
    each_line_counts_the_licenses_the_lines_before_it_took,
    an_organizations_maximum_counts_the_lines_before_it,
    the_other_organizations_reserves_count_the_lines_before_it,
    a_name_twice_in_the_file_is_refused_at_its_second_line,
    a_name_the_store_has_is_refused_at_its_line,
    an_import_records_what_adding_one_at_a_time_records,
);
