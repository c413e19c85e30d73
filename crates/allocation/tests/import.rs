//! `import users|stations`: a whole site from a CSV file, in one transaction (all or nothing),
//! an error naming the line and the column.

mod common;

use allocation::{AllocError, ImportKind, Method, UserFilter, MAX_IMPORT_BYTES};
use common::*;
use format::Rules;

fn site() -> Env {
    let env = env(&file(
        &[
            (CLIENT, 10, 10),
            (ACD1, 10, 10),
            (BASIC, 10, 0),
            (ORG, 2, 0),
        ],
        Rules::default(),
    ));
    env.alloc.add_organization("tenant-a").unwrap();
    env
}

fn names(env: &Env) -> Vec<String> {
    env.alloc
        .users(&UserFilter::default())
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.name)
        .collect()
}

/// The line, column and inner error of an import error.
fn at(e: &AllocError) -> (u64, Option<&str>, &AllocError) {
    match e {
        AllocError::AtLine {
            line,
            column,
            source,
        } => (*line, column.as_deref(), source),
        other => panic!("not an error at a line: {other}"),
    }
}

#[test]
fn quoted_fields_a_bom_and_crlf_line_ends_are_read_as_rfc_4180_says() {
    let env = site();
    let csv = format!(
        "\u{feff}name,method,organization,licenses\r\n\"Smith, Bob\",concurrent,tenant-a,\"{CLIENT};{ACD1}\"\r\nalice,,,{CLIENT}\r\n\"Say \"\"Hi\"\" Sam\",assignable,, \r\n"
    );
    let r = env.alloc.import(ImportKind::Users, csv.as_bytes()).unwrap();
    assert_eq!((r.added, r.allocated), (3, 3), "{r:?}");
    let list = env.alloc.users(&UserFilter::default()).unwrap().users;
    let bob = list.iter().find(|u| u.name == "Smith, Bob").unwrap();
    assert_eq!(bob.method, Method::Concurrent);
    assert_eq!(bob.organization.as_deref(), Some("tenant-a"));
    assert_eq!(bob.licenses, vec![ACD1.to_string(), CLIENT.to_string()]);
    let alice = list.iter().find(|u| u.name == "alice").unwrap();
    assert_eq!(
        alice.method,
        Method::Assignable,
        "an empty method is assignable"
    );
    assert!(list
        .iter()
        .any(|u| u.name == "Say \"Hi\" Sam" && u.licenses.is_empty()));
    // The columns in another order, LF line ends.
    let csv = format!("licenses,name,organization,method\n{CLIENT},carol,,assignable\n");
    env.alloc.import(ImportKind::Users, csv.as_bytes()).unwrap();
    assert!(names(&env).contains(&"carol".to_string()));
    assert!(env.alloc.check().unwrap().is_empty());
}

#[test]
fn a_bad_line_in_the_middle_leaves_nothing_imported_and_is_named() {
    let env = site();
    let csv = format!(
        "name,method,organization,licenses\nu1,assignable,,{CLIENT}\nu2,assignable,,{CLIENT};{BASIC}\nu3,assignable,,{CLIENT}\n"
    );
    let e = env
        .alloc
        .import(ImportKind::Users, csv.as_bytes())
        .unwrap_err();
    let (line, column, inner) = at(&e);
    assert_eq!((line, column), (3, Some("licenses")), "{e}");
    assert_eq!(inner.exit_code(), 22, "Basic Station is station only: {e}");
    assert_eq!(e.exit_code(), 22);
    assert!(
        e.to_string().starts_with("line 3, column licenses: "),
        "{e}"
    );
    assert!(e.to_string().ends_with("nothing was imported"), "{e}");
    assert!(names(&env).is_empty(), "all or nothing");
    let client = env.alloc.report().unwrap();
    assert!(client.keys.iter().all(|k| k.assignable_configured == 0));
    assert!(env.alloc.check().unwrap().is_empty());
}

#[test]
fn each_bad_field_is_named_by_its_line_and_column() {
    let env = site();
    let header = "name,method,organization,licenses\nok,assignable,,\n";
    for (row, line, column, kind) in [
        ("bob,sometimes,,", 3, Some("method"), "invalid-input"),
        (
            "bob,assignable,nowhere,",
            3,
            Some("organization"),
            "unknown-organization",
        ),
        (
            "bob,assignable,,not-a-key",
            3,
            Some("licenses"),
            "invalid-name",
        ),
        ("ok,assignable,,", 3, Some("name"), "already-exists"),
        ("b\u{202e}ob,assignable,,", 3, Some("name"), "invalid-name"),
        ("bob,assignable", 3, None, "invalid-input"),
        ("bob,assignable,,,extra", 3, None, "invalid-input"),
    ] {
        let csv = format!("{header}{row}\n");
        let e = env
            .alloc
            .import(ImportKind::Users, csv.as_bytes())
            .unwrap_err();
        let (l, c, inner) = at(&e);
        assert_eq!((l, c, inner.kind()), (line, column, kind), "{row:?}: {e}");
        assert!(names(&env).is_empty(), "{row:?}");
    }
}

#[test]
fn a_missing_or_unknown_column_is_refused_at_the_header() {
    let env = site();
    for (csv, column, words) in [
        (
            "name,method,licenses\nbob,assignable,\n",
            "organization",
            "lacks the column",
        ),
        (
            "name,method,org,licenses\nbob,assignable,,\n",
            "org",
            "unknown column",
        ),
        (
            "name,name,method,organization,licenses\n",
            "name",
            "named twice",
        ),
        (
            "name,kind,licenses\ndesk,workstation,\n",
            "kind",
            "unknown column",
        ),
    ] {
        let e = env
            .alloc
            .import(ImportKind::Users, csv.as_bytes())
            .unwrap_err();
        let (l, c, _) = at(&e);
        assert_eq!((l, c), (1, Some(column)), "{csv:?}: {e}");
        assert!(e.to_string().contains(words), "{e}");
        assert_eq!(e.exit_code(), 3);
    }
    // An empty file has no header.
    let e = env.alloc.import(ImportKind::Users, b"").unwrap_err();
    assert_eq!(at(&e).0, 1, "{e}");
    assert!(names(&env).is_empty());
}

#[test]
fn stations_are_imported_with_their_licenses_and_warned_about_without_basic_station() {
    let env = site();
    let csv = format!(
        "name,kind,licenses\ndesk-1,workstation,{BASIC};{CLIENT}\nfax-1,fax,\nphone-1,,{BASIC}\n"
    );
    let r = env
        .alloc
        .import(ImportKind::Stations, csv.as_bytes())
        .unwrap();
    assert_eq!((r.added, r.allocated), (3, 3), "{r:?}");
    assert_eq!(r.warnings.len(), 1, "{r:?}");
    assert!(r.warnings[0].contains("fax-1"), "{r:?}");
    let e = env
        .alloc
        .import(
            ImportKind::Stations,
            b"name,kind,licenses\ndesk-2,tablet,\n",
        )
        .unwrap_err();
    assert_eq!(at(&e).1, Some("kind"), "{e}");
    assert!(env.alloc.check().unwrap().is_empty());
}

#[test]
fn a_file_above_the_bound_is_refused_before_it_is_read() {
    let env = site();
    let big = vec![b'a'; MAX_IMPORT_BYTES + 1];
    let e = env.alloc.import(ImportKind::Users, &big).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("at most"), "{e}");
    let path = env.dir.path().join("big.csv");
    std::fs::write(&path, &big).unwrap();
    let e = env.alloc.import_file(ImportKind::Users, &path).unwrap_err();
    assert!(e.to_string().contains("at most"), "{e}");
    let e = env
        .alloc
        .import_file(ImportKind::Users, env.dir.path().join("missing.csv"))
        .unwrap_err();
    assert_eq!(e.exit_code(), 4, "{e}");
}

postgres_too!(
    quoted_fields_a_bom_and_crlf_line_ends_are_read_as_rfc_4180_says,
    a_bad_line_in_the_middle_leaves_nothing_imported_and_is_named,
    each_bad_field_is_named_by_its_line_and_column,
    a_missing_or_unknown_column_is_refused_at_the_header,
    stations_are_imported_with_their_licenses_and_warned_about_without_basic_station,
);
