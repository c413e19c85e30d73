//! `issuer deactivate` with and without `--receipt`, `--approve`, `issuer account edit
//! --rehosts-per-year`, and the warning of `issuer issue` for a production file bound to a
//! short host-ID code, through the binary on both engines.

mod common;

use std::path::Path;

use common::{
    cli_ledger_at, ok, run, summary_json, summary_part, unencrypted_key, IssueFlags, Units, AL02,
    SL03,
};
use format::receipt::{Receipt, ReleaseFacts};
use format::{FileId, SecretKey, Timestamp};
use hostid::{Components, HostId, RequestCode};

fn strong(n: u8) -> HostId {
    HostId::strong_from_components(&Components {
        machine_id: Some(format!("{n:02x}1e2d3c4b5a69788796a5b4c3d2e1f0")),
        macs: vec![[0x00, 0x1b, 0x21, 0x3a, 0x4b, n]],
        ..Default::default()
    })
    .unwrap()
}

/// Issue a production file for `host` (10 x AL02); returns (id, stderr).
fn issue(dir: &Path, db: &Path, host: &str, name: &str) -> (String, String) {
    let key = unencrypted_key(dir);
    let out = dir.join(name);
    let f = IssueFlags {
        license_type: "production",
        host_id: host,
        machine: "ic1",
        server_part: SL03,
        add: Some("SW-001-4.0-AL02=10"),
        key: key.to_str().unwrap(),
        out: out.to_str().unwrap(),
    };
    let o = run(db, &f.args());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        String::from_utf8_lossy(&o.stdout).trim().to_string(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn al02(db: &Path) -> (u64, u64) {
    let s = summary_json(db);
    let p = summary_part(&s, AL02);
    (p["used"].as_u64().unwrap(), p["pending"].as_u64().unwrap())
}

fn pending_approve_receipt_allowance(dir: &Path, db: &Path) {
    cli_ledger_at(db, &[(SL03, 4), (AL02, 40)], Units::Perpetual);

    // A short code for a production file: issued, with a warning.
    let short = strong(1).to_short().to_string();
    let (first, err) = issue(dir, db, &short, "a.i3lic");
    assert!(err.contains("warning: a short host-ID code"), "{err}");
    let (_, err) = issue(dir, db, &strong(2).to_string(), "b.i3lic");
    assert!(!err.contains("warning"), "{err}");

    // Without a receipt: pending, still used, shown in the summary.
    let out = ok(db, &["deactivate", &first]);
    assert!(out.contains("pending 10 x SW-001-4.0-AL02"), "{out}");
    assert!(out.contains("--approve"), "{out}");
    assert_eq!(al02(db), (20, 10));
    let text = ok(db, &["summary", "--account", "Contoso"]);
    assert!(text.contains("pending: 10 x SW-001-4.0-AL02"), "{text}");
    let out = ok(db, &["deactivate", &first, "--approve", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["how"], "approved");
    assert_eq!(al02(db), (10, 0));

    // A receipt for a file bound to a request code.
    let install = SecretKey::from_seed(&[0x61; 32]);
    let code = RequestCode::new(strong(3), install.public_key().to_bytes())
        .unwrap()
        .to_string();
    let (bound, _) = issue(dir, db, &code, "c.i3lic");
    let fid: FileId = bound.parse().unwrap();
    let receipt = Receipt::sign(
        &ReleaseFacts {
            file_id: fid,
            lineage: fid,
            generation: 1,
            host_id: strong(3),
            released_at: Timestamp::now(),
        },
        &install,
    );
    let path = dir.join("receipt.txt");
    std::fs::write(&path, &receipt[..100]).unwrap();
    let o = run(
        db,
        &["deactivate", &bound, "--receipt", path.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("malformed receipt"));
    assert_eq!(al02(db), (20, 0));
    std::fs::write(&path, &receipt).unwrap();
    let out = ok(
        db,
        &["deactivate", &bound, "--receipt", path.to_str().unwrap()],
    );
    assert!(out.contains("deactivated with receipt"), "{out}");
    assert_eq!(al02(db), (10, 0));
    let o = run(
        db,
        &["deactivate", &bound, "--receipt", path.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(20));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already used"));

    // The allowance: one a year.
    let out = ok(
        db,
        &[
            "account",
            "edit",
            "Contoso",
            "--rehosts-per-year",
            "1",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["per_year"].as_u64(), v["used"].as_u64()),
        (Some(1), Some(0))
    );
    let (c, _) = issue(dir, db, &strong(4).to_string(), "d.i3lic");
    let out = ok(db, &["deactivate", &c]);
    assert!(out.contains("under the rehost allowance"), "{out}");
    let (d, _) = issue(dir, db, &strong(5).to_string(), "e.i3lic");
    let out = ok(db, &["deactivate", &d]);
    assert!(out.contains("pending"), "{out}");
    let out = ok(db, &["account", "edit", "Contoso"]);
    assert!(out.contains("rehosts per year: 1 (1 used"), "{out}");
    ok(db, &["audit", "verify"]);
}

cli_on_both!(deactivate_pending_approve_receipt_allowance => pending_approve_receipt_allowance);
