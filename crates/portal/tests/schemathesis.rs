//! The OpenAPI document against the implementation: schemathesis (from PyPI) generates
//! requests from `/api/v1/openapi.json` and sends them to the real `portal` binary.
//!
//! Checks: no 5xx, statuses and content types the document lists, response bodies that
//! match their schemas, and schema-violating requests refused. Left out is schemathesis'
//! "schema-valid data is accepted": the API refuses data the schema cannot describe (a
//! host-ID code with a wrong check character, an unknown part, an empty line of text)
//! with 400, 409 or 422, on purpose.
//!
//! Runs when `st` is on PATH; with `I3LIC_SCHEMATHESIS=required` (as CI sets) a missing
//! `st` is a failure instead of a skip.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use issuer::{Catalog, Ledger, Role, SiteDetails};

fn st() -> Option<String> {
    let found = Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("st".into());
    }
    if std::env::var("I3LIC_SCHEMATHESIS").as_deref() == Ok("required") {
        panic!("schemathesis (`st`) is required here but not on PATH: pip install schemathesis");
    }
    None
}

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    let Some(st) = st() else {
        eprintln!("skipped: schemathesis (`st`) is not installed (pip install schemathesis)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let catalog = Catalog::built_in().unwrap();
    let token = {
        let mut l = Ledger::open(&db).unwrap();
        l.add_account("Contoso", "t").unwrap();
        l.add_site("Contoso", "HQ", &SiteDetails::default(), "t")
            .unwrap();
        for (p, q) in [("SW-001-4.0-SL03", 100), ("SW-001-4.0-AL02", 1000)] {
            l.add_order(&catalog, "Contoso", p, q, true, "t").unwrap();
        }
        let hash =
            portal::auth::hash_password("st@vendor.example", "schemathesis-password").unwrap();
        l.add_portal_user("st@vendor.example", Role::Staff, false, &[], &hash, "t")
            .unwrap();
        let (t, d) = portal::auth::new_token();
        l.add_portal_token("st@vendor.example", &d, "st", "t")
            .unwrap();
        t
    };
    let key = dir.path().join("demo.key");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../keys-example/demo.key"),
        &key,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", "127.0.0.1:0", "--key"])
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("portal listening on ")
        .unwrap_or_else(|| panic!("portal did not start: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    let out = Command::new(st)
        .args([
            "run",
            &format!("{base}/api/v1/openapi.json"),
            "--url",
            &base,
        ])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args(["--max-examples", "25", "--seed", "1", "--no-color"])
        .env("SCHEMATHESIS_HOOKS", "")
        // schemathesis keeps a cache folder where it runs: in the test's own folder.
        .current_dir(dir.path())
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
}
