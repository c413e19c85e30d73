//! What the CLI prints: `show` with values not given, `download`, and a missing `--out` folder.

mod common;

use common::{cli_ledger, host, ok, run, summary_json, unencrypted_key, IssueFlags, Units};
use store::TxExt;

/// A media-server file for MS01 on `machine`, without add-ons.
fn media_server<'a>(
    host_id: &'a str,
    machine: &'a str,
    key: &'a str,
    out: &'a str,
) -> IssueFlags<'a> {
    IssueFlags {
        license_type: "media-server",
        host_id,
        machine,
        server_part: "SW-001-4.0-MS01",
        add: None,
        key,
        out,
    }
}

/// Contoso with MS01 ×2 and one media-server file "ms1.i3lic"; returns the ledger, key and id.
fn issued(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let db = cli_ledger(dir, &[("SW-001-4.0-MS01", 2)], Units::Perpetual);
    let key = unencrypted_key(dir);
    let h = host(3);
    let out = dir.join("ms1.i3lic");
    let id = ok(
        &db,
        &media_server(&h, "ms1", key.to_str().unwrap(), out.to_str().unwrap()).args(),
    );
    (db, key, id.trim().to_string())
}

#[test]
fn show_prints_a_dash_for_values_not_given_and_no_trailing_blanks() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, id) = issued(dir.path());
    let shown = ok(&db, &["show", &id]);
    for line in shown.lines() {
        assert_eq!(line, line.trim_end(), "trailing blanks: {line:?}");
    }
    let value = |k: &str| {
        shown
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {k} line in\n{shown}"))
            .to_string()
    };
    assert_eq!(value("Machine Type"), "-");
    assert_eq!(value("Mail Connector"), "-");
    for cmd in [&["catalog", "list"][..], &["activity"][..]] {
        for line in ok(&db, cmd).lines() {
            assert_eq!(line, line.trim_end(), "{cmd:?}: trailing blanks: {line:?}");
        }
    }
}

#[test]
fn download_says_what_it_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, id) = issued(dir.path());
    let again = dir.path().join("again.i3lic");
    let o = run(&db, &["download", &id, "--out", again.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("wrote {}", again.display())) && err.contains(&id),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&again).unwrap(),
        std::fs::read(dir.path().join("ms1.i3lic")).unwrap()
    );
}

#[test]
fn a_missing_out_folder_is_named_as_typed_not_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key, _) = issued(dir.path());
    let h = host(4);
    let out = dir.path().join("no").join("such").join("ms2.i3lic");
    let o = run(
        &db,
        &media_server(&h, "ms2", key.to_str().unwrap(), out.to_str().unwrap()).args(),
    );
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&out.display().to_string()) && !err.contains(".ms2.i3lic."),
        "{err}"
    );
    // Nothing was recorded.
    let s = summary_json(&db);
    assert_eq!(s["parts"][0]["used"].as_u64(), Some(1));
}

/// An `--out` that names a folder used to fail at the rename, after the commit: exit 4 with
/// the units taken, the file recorded, and neither its id nor a way back in the message (a
/// retry took the units again). It is refused before anything is recorded, for `issue`,
/// `update` and `download`.
#[test]
fn an_out_that_is_a_folder_is_refused_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key, id) = issued(dir.path());
    let folder = dir.path().join("out");
    std::fs::create_dir(&folder).unwrap();
    let head = ok(&db, &["audit", "head"]);
    let h = host(4);
    let o = run(
        &db,
        &media_server(&h, "ms2", key.to_str().unwrap(), folder.to_str().unwrap()).args(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains(&folder.display().to_string()) && err.contains("folder"),
        "{err}"
    );
    assert_eq!(ok(&db, &["audit", "head"]), head, "something was recorded");
    assert_eq!(
        summary_json(&db)["parts"][0]["used"].as_u64(),
        Some(1),
        "units were taken"
    );
    let o = run(
        &db,
        &[
            "update",
            &id,
            "--machine",
            "ms9",
            "--key",
            key.to_str().unwrap(),
            "--out",
            folder.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(ok(&db, &["audit", "head"]), head, "the update was recorded");
    let o = run(&db, &["download", &id, "--out", folder.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(4));
    assert!(folder.is_dir() && std::fs::read_dir(&folder).unwrap().count() == 0);
}

/// A terminal escape: sets the window title and clears the screen when printed raw.
const ESCAPE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";

/// No raw control character but the line break in what a command printed.
fn assert_no_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what} printed a raw control character: {text:?}"
    );
}

/// `$USER` holding an escape sequence used to be stored as `deactivated_by` (every other name
/// was checked) and printed raw by `show`. It is skipped with a warning: the name of the
/// process's account is recorded instead.
#[test]
fn a_user_variable_holding_an_escape_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, id) = issued(dir.path());
    let o = common::command(&db)
        .args(["deactivate", &id])
        .env("USER", ESCAPE)
        .env_remove("LOGNAME")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("$USER is not a usable name"), "{err}");
    assert_no_controls("deactivate", &o.stderr);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["show", &id, "--json"])).unwrap();
    let by = shown["deactivated_by"].as_str().unwrap();
    assert!(!by.is_empty() && !by.contains('\u{1b}'), "{by:?}");
    assert!(err.contains(&format!("recording '{by}' instead")), "{err}");
    let conn = store_sqlite::open_raw(&db).unwrap();
    for (table, column) in [("files", "deactivated_by"), ("audit", "actor")] {
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE instr({column}, char(27)) > 0"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table}.{column} holds an escape");
    }
}

/// The library refuses such a name whatever the caller: every change's actor passes the one
/// check of ledger texts, and the refused change leaves nothing behind.
#[test]
fn the_ledger_refuses_a_control_character_in_who_made_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, id) = issued(dir.path());
    let mut l = issuer::Ledger::open(&db).unwrap();
    let catalog = issuer::Catalog::built_in().unwrap();
    let refused = |r: Result<(), issuer::IssuerError>| match r {
        Err(e @ issuer::IssuerError::MalformedRequest { .. }) => assert_eq!(e.exit_code(), 3),
        other => panic!("{other:?}"),
    };
    refused(
        l.deactivate(&id, ESCAPE, format::Timestamp::now())
            .map(drop),
    );
    refused(l.add_account("Fabrikam", ESCAPE));
    refused(
        l.add_order(&catalog, "Contoso", "SW-001-4.0-MS01", 1, true, "bell\u{7}")
            .map(drop),
    );
    refused(l.set_site_active("Contoso", "HQ", false, " padded"));
    assert_eq!(l.show(&catalog, &id).unwrap().status, "active");
    assert_eq!(l.accounts().unwrap(), ["Contoso"]);
}

/// Whatever the ledger holds (here edited directly in SQLite), the commands print control
/// characters escaped: `show`, `site list`, `account list`, `activity`, and the errors that
/// repeat a value given.
#[test]
fn values_edited_into_the_ledger_print_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, id) = issued(dir.path());
    ok(&db, &["deactivate", &id]);
    let conn = store_sqlite::open_raw(&db).unwrap();
    conn.execute("UPDATE files SET deactivated_by = ?1", [ESCAPE])
        .unwrap();
    conn.execute("UPDATE sites SET city = ?1", [ESCAPE])
        .unwrap();
    conn.execute("UPDATE accounts SET name = name || ?1", [ESCAPE])
        .unwrap();
    drop(conn);
    let account = format!("Contoso{ESCAPE}");
    for args in [
        &["show", &id][..],
        &["site", "list", "--account", &account],
        &["account", "list"],
        &["activity", "--active", "all"],
    ] {
        let o = run(&db, args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_no_controls(&format!("{args:?}"), &o.stdout);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    // An error naming a value given on the command line.
    let o = run(&db, &["summary", "--account", &format!("Nobody{ESCAPE}")]);
    assert_eq!(o.status.code(), Some(20));
    assert_no_controls("summary", &o.stderr);
    assert!(String::from_utf8_lossy(&o.stderr).contains("Nobody\\u{1b}"));
    // JSON stays JSON (serde escapes control characters itself), and download stays exact.
    let json: serde_json::Value = serde_json::from_str(&ok(&db, &["show", &id, "--json"])).unwrap();
    assert_eq!(json["deactivated_by"].as_str(), Some(ESCAPE));
    let o = run(&db, &["download", &id, "--out", "-"]);
    assert_eq!(
        o.stdout,
        std::fs::read(dir.path().join("ms1.i3lic")).unwrap()
    );
}

/// A standard output whose reader is already gone: writing to it fails with a broken pipe.
fn closed_stdout() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// `issuer activity | head -1` used to exit 4 with "writing output: Broken pipe". A reader
/// that went away ends the output quietly: the command keeps the status it would have had
/// (what it did, such as issuing a file, is done), and says nothing about the pipe.
#[test]
fn a_closed_output_pipe_ends_quietly_with_the_commands_own_status() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key, id) = issued(dir.path());
    let quiet = |args: &[&str]| {
        let o = common::tester(&db)
            .args(args)
            .stdout(closed_stdout())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            !err.contains("Broken pipe")
                && !err.contains("writing output")
                && !err.contains("panicked"),
            "{args:?}: {err}"
        );
        (o.status.code(), err)
    };
    for args in [
        &["activity"][..],
        &["activity", "--json"],
        &["show", &id],
        &["account", "list"],
        &["summary", "--account", "Contoso"],
        &["audit", "verify"],
        &["download", &id, "--out", "-"],
    ] {
        assert_eq!(quiet(args), (Some(0), String::new()), "{args:?}");
    }
    // A refusal keeps its own status.
    assert_eq!(quiet(&["show", "0123"]).0, Some(20));
    // An issue whose id could not be printed is still issued and written.
    let h = host(5);
    let out = dir.path().join("ms2.i3lic");
    let (code, err) =
        quiet(&media_server(&h, "ms2", key.to_str().unwrap(), out.to_str().unwrap()).args());
    assert_eq!(code, Some(0), "{err}");
    assert!(out.exists());
    assert_eq!(summary_json(&db)["parts"][0]["used"].as_u64(), Some(2));
    // Any other failure to write is still an I/O error.
    #[cfg(target_os = "linux")]
    if let Ok(full) = std::fs::File::create("/dev/full") {
        let o = common::tester(&db)
            .args(["account", "list"])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(4));
        assert!(String::from_utf8_lossy(&o.stderr).contains("writing output"));
    }
}

/// Characters that make a name read differently from what it holds: bidirectional embeddings,
/// overrides and isolates, marks, zero-width characters, the byte-order mark, line and
/// paragraph separators.
const HIDDEN: &[char] = &[
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}',
    '\u{FEFF}', '\u{2028}', '\u{2029}',
];

/// No raw refused character ([`format::text::is_refused_char`]) but the line break.
fn assert_nothing_hidden(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text
            .chars()
            .any(|c| format::text::is_refused_char(c) && c != '\n'),
        "{what} printed a refused character raw: {text:?}"
    );
}

/// Names used to accept these characters and print them raw (`Fab\u{202E}...` reads
/// reversed). Every name and text the ledger keeps, the portal's e-mail addresses and the
/// catalog's text refuse them as control characters, naming the character and its place.
#[test]
fn hidden_characters_are_refused_in_names_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key, _) = issued(dir.path());
    let catalog = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/cic.catalog"),
    )
    .unwrap();
    let (line, _) = catalog
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("SW-001-4.0-MS01"))
        .unwrap();
    for &c in HIDDEN {
        let named =
            |at: usize, of: usize| format!("U+{:04X} at character {at} of {of}", u32::from(c));
        let name = format!("Fab{c}rikam");
        for args in [
            &["account", "add", &name][..],
            &["site", "add", "--account", "Contoso", "--name", &name],
        ] {
            let o = run(&db, args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(3), "{args:?}: {err}");
            assert!(err.contains(&named(4, 9)), "{args:?}: {err}");
            assert_nothing_hidden(&format!("{args:?}"), &o.stderr);
        }
        // A machine name goes into the file (a text value) and names the batch output file.
        let h = host(9);
        let out = dir.path().join("x.i3lic");
        let o = run(
            &db,
            &media_server(&h, &name, key.to_str().unwrap(), out.to_str().unwrap()).args(),
        );
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!out.exists());
        assert!(issuer::batch_file_name(&name).is_err());
        let e = issuer::ledger::check_email(&format!("ab{c}@b.example")).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains(&named(3, 13)), "{e}");
        let edited: String = catalog
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let l = if i == line {
                    l.replacen("Media", &format!("Me{c}dia"), 1)
                } else {
                    l.into()
                };
                l + "\n"
            })
            .collect();
        assert_ne!(edited, catalog);
        let e = issuer::Catalog::parse(&edited).unwrap_err().to_string();
        assert!(e.contains(&format!("U+{:04X}", u32::from(c))), "{e}");
    }
    assert_eq!(ok(&db, &["account", "list"]), "Contoso\n");
}

/// A name stored before these characters were refused (here edited in SQLite) prints escaped:
/// an override cannot reorder the line, an invisible character shows.
#[test]
fn hidden_characters_already_in_the_ledger_print_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _, _) = issued(dir.path());
    let conn = store_sqlite::open_raw(&db).unwrap();
    conn.execute(
        "UPDATE accounts SET name = ?1",
        ["Con\u{202E}oso\u{200B}\u{2028}"],
    )
    .unwrap();
    drop(conn);
    let o = run(&db, &["account", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_nothing_hidden("account list", &o.stdout);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Con\\u{202e}oso\\u{200b}\\u{2028}\n"
    );
    let o = run(&db, &["summary", "--account", "No\u{2067}body"]);
    assert_eq!(o.status.code(), Some(20));
    assert_nothing_hidden("summary", &o.stderr);
}
