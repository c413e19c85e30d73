//! A switchover pair needs a switchover server item: with none of the product's available,
//! a pair (a new file or a switchover host added by an update) is refused with that reason,
//! exit code 20 (ledger refused), and nothing is recorded.

mod common;

use std::path::Path;

use common::{
    add_orders, cli_order, counts, host, ledger, ok, request, run, summary_text, unencrypted_key,
    update_by, IssueFlags, Units, AL02, SL03,
};
use format::{LicenseType, SecretKey, Timestamp};
use issuer::IssuerError;

const SS03: &str = "SW-001-4.0-SS03";

fn pair() -> issuer::IssueRequest {
    let mut r = request(LicenseType::Production, SL03, &[(AL02, 2)]);
    r.switchover_host_id = Some(host(2));
    r.switchover_machine = Some("ic2".into());
    r
}

#[test]
fn a_pair_without_a_switchover_item_available_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut l, c) = ledger(dir.path());
    add_orders(&mut l, &c, &[(SL03, 2), (AL02, 10)], Units::Perpetual);
    let key = SecretKey::generate();
    let e = l
        .issue(&c, &pair(), &key, None, Timestamp::now())
        .unwrap_err();
    assert!(
        matches!(&e, IssuerError::NoSwitchoverItem { account, category }
            if account == "Contoso" && category == "CIC 4.0"),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 20);
    let m = e.to_string();
    assert!(
        m.contains("no switchover server item of CIC 4.0 available")
            && m.contains("--switchover-part"),
        "{m}"
    );
    assert_eq!(counts(&l, &c, SL03), Some((2, 0, 2)), "nothing recorded");

    // A file without the pair, then an update that adds the switchover host: refused too.
    let one = request(LicenseType::Production, SL03, &[]);
    let id = l
        .issue(&c, &one, &key, None, Timestamp::now())
        .unwrap()
        .file_id
        .to_string();
    let mut u = update_by("t");
    u.switchover_host_id = Some(host(2));
    u.switchover_machine = Some("ic2".into());
    let e = l
        .update(&c, &id, &u, &key, None, Timestamp::now())
        .unwrap_err();
    assert!(matches!(e, IssuerError::NoSwitchoverItem { .. }), "{e:?}");

    // With a switchover item ordered, the same pair is issued.
    add_orders(&mut l, &c, &[(SS03, 1)], Units::Perpetual);
    l.issue(&c, &pair(), &key, None, Timestamp::now()).unwrap();
}

postgres_too!(a_pair_without_a_switchover_item_available_is_refused);

fn cli_refuses_a_pair_without_a_switchover_item(dir: &Path, db: &Path) {
    ok(db, &["account", "add", "Contoso"]);
    ok(db, &["site", "add", "--account", "Contoso", "--name", "HQ"]);
    cli_order(db, SL03, 1, Units::Perpetual);
    let key = unencrypted_key(dir);
    let out = dir.join("pair.i3lic");
    let (h1, h2) = (host(1), host(2));
    let mut args = IssueFlags {
        license_type: "production",
        host_id: &h1,
        machine: "ic1",
        server_part: SL03,
        add: None,
        key: key.to_str().unwrap(),
        out: out.to_str().unwrap(),
    }
    .args();
    args.extend([
        "--switchover-host-id",
        h2.as_str(),
        "--switchover-machine",
        "ic2",
    ]);
    let before = summary_text(db);
    let o = run(db, &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(20), "{err}");
    assert!(
        err.contains("has no switchover server item of CIC 4.0 available"),
        "{err}"
    );
    assert!(!out.exists());
    assert_eq!(summary_text(db), before);
}

mod cli {
    use super::*;
    cli_on_both!(refuses_a_pair_without_a_switchover_item => cli_refuses_a_pair_without_a_switchover_item);
}
