//! The attack vectors under `tests/data/`: one folder per scenario, each with the file
//! (`license.i3lic`), an optional server state (`state.json`), the expected outcome
//! (`case.txt`) and a `README.md`. Built here deterministically; `cargo test -p i3lic-verify
//! --test vectors -- --ignored regenerate` rewrites them, and a normal test checks that the
//! committed files are exactly what this code produces.
#![allow(dead_code)]

use std::path::PathBuf;

use format::{sign_payload_text_as, Activation, FormatVersion, LicenseType, SecretKey, Timestamp};

/// The JSON payload of a signed file: the lines between the Key-Id header and the signature.
fn payload_of(text: &str) -> String {
    let start = text.find("\n{\n").expect("payload start") + 1;
    let end = text
        .find(format::SIGNATURE_MARKER)
        .expect("signature marker");
    text[start..end].to_owned()
}
use hostid::HostId;

use crate::common::*;

/// One scenario.
pub struct Vector {
    pub name: &'static str,
    pub about: &'static str,
    pub license: Vec<u8>,
    pub state: Option<String>,
    pub trust: Vec<&'static str>,
    pub host: HostId,
    pub at: Timestamp,
    pub product: Option<(&'static str, &'static str)>,
    /// `ok` or the error kind ([`verify::VerifyError::kind`]).
    pub expect: &'static str,
    pub exit: i32,
    pub role: Option<&'static str>,
    pub in_grace: bool,
    pub demo_key: bool,
}

impl Vector {
    fn ok(name: &'static str, about: &'static str, license: impl Into<Vec<u8>>) -> Vector {
        Vector {
            name,
            about,
            license: license.into(),
            state: None,
            trust: vec!["vendor.pub"],
            host: host_a(),
            at: mid(),
            product: Some(("CIC", "4.0")),
            expect: "ok",
            exit: 0,
            role: Some("primary"),
            in_grace: false,
            demo_key: false,
        }
    }

    fn err(
        name: &'static str,
        about: &'static str,
        license: impl Into<Vec<u8>>,
        expect: &'static str,
        exit: i32,
    ) -> Vector {
        Vector {
            expect,
            exit,
            role: None,
            ..Vector::ok(name, about, license)
        }
    }

    /// The `case.txt` text.
    pub fn case_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("# {}\n", self.about.lines().next().unwrap_or("")));
        s.push_str(&format!("expect: {}\n", self.expect));
        s.push_str(&format!("exit: {}\n", self.exit));
        for t in &self.trust {
            s.push_str(&format!("trust: {t}\n"));
        }
        s.push_str(&format!("host-id: {}\n", self.host));
        s.push_str(&format!("at: {}\n", self.at));
        if let Some((p, v)) = self.product {
            s.push_str(&format!("product: {p}\nversion: {v}\n"));
        }
        if self.state.is_some() {
            s.push_str("state: state.json\n");
        }
        if let Some(r) = self.role {
            s.push_str(&format!("role: {r}\n"));
        }
        if self.expect == "ok" {
            s.push_str(&format!("in-grace: {}\n", self.in_grace));
            s.push_str(&format!("demo-key: {}\n", self.demo_key));
        }
        s
    }

    /// The `README.md` text.
    pub fn readme(&self) -> String {
        let outcome = if self.expect == "ok" {
            format!(
                "accepted (exit 0), role {}{}{}",
                self.role.unwrap_or("?"),
                if self.in_grace { ", in grace" } else { "" },
                if self.demo_key {
                    ", demo-key warning"
                } else {
                    ""
                }
            )
        } else {
            format!("refused with `{}` (exit {})", self.expect, self.exit)
        };
        let mut cmd = format!(
            "licverify license.i3lic {} --host-id {} --at {}",
            self.trust
                .iter()
                .map(|t| format!("--trust ../keys/{t}"))
                .collect::<Vec<_>>()
                .join(" "),
            self.host,
            self.at
        );
        if let Some((p, v)) = self.product {
            cmd.push_str(&format!(" --product {p} --version {v}"));
        }
        if self.state.is_some() {
            cmd.push_str(" --state state.json");
        }
        format!(
            "# {}\n\n{}\n\nOutcome: {outcome}.\n\n```sh\n{cmd}\n```\n\nMade by `tests/cases/mod.rs`; `case.txt` holds the same in machine-readable form.\n",
            self.name,
            self.about.trim()
        )
    }
}

fn state_json(latest_seen: &str, newest: Option<(u8, &str)>, superseded: &[u8]) -> String {
    let v = serde_json::json!({
        "format": "i3lic-verify-state/1",
        "latest_seen": latest_seen,
        "newest": newest.map(|(n, t)| serde_json::json!({"file_id": file_id(n).to_string(), "issued_at": t})),
        "superseded": superseded.iter().map(|n| file_id(*n).to_string()).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).expect("json");
    s.push('\n');
    s
}

fn with(f: impl FnOnce(&mut Activation)) -> Activation {
    let mut a = base();
    f(&mut a);
    a
}

/// Re-point a file signed by `signer` at another key id in its Key-Id header.
fn claim_key(text: &str, signer: &SecretKey, claimed: &SecretKey) -> String {
    text.replace(
        &format!("Key-Id: {}", signer.key_id()),
        &format!("Key-Id: {}", claimed.key_id()),
    )
}

/// Every vector.
pub fn all() -> Vec<Vector> {
    let vendor = vendor_key();
    let other = other_key();
    let valid = signed(&base(), &vendor);
    let mut v = Vec::new();

    v.push(Vector::ok(
        "valid",
        "A valid one-year development file for host A (switchover host B), checked on host A.",
        valid.clone(),
    ));
    let minimal = with(|a| {
        a.switchover_host = None;
        a.system_type = String::new();
        a.mail_connector = String::new();
        a.bundle = String::new();
        a.description = String::new();
        a.features.truncate(1);
        a.licenses.truncate(1);
        a.ordered_items.clear();
        a.restrictions.clear();
    });
    v.push(Vector::ok(
        "valid-minimal",
        "A valid file with as little in it as the format allows (one feature, one license key, no switchover host); the every-bit-flip test runs on it.",
        signed(&minimal, &vendor),
    ));
    v.push(Vector {
        host: host_b(),
        role: Some("switchover"),
        ..Vector::ok(
            "switchover-host",
            "The same file checked on its switchover host B: accepted, and the license says the role is switchover.",
            valid.clone(),
        )
    });
    v.push(Vector {
        host: host_a_new_nic(),
        ..Vector::ok(
            "network-card-replaced",
            "Host A after its network cards were replaced (machine identity and DMI UUID unchanged): still host A under the tolerant matching rule.",
            valid.clone(),
        )
    });
    v.push(Vector {
        at: ts("2025-02-01T00:00:00Z"),
        ..Vector::err(
            "expired",
            "Checked after the expiry (2025-01-01) and after the 30-day signed grace period (2025-01-31).",
            valid.clone(),
            "expired",
            13,
        )
    });
    v.push(Vector {
        at: ts("2025-01-15T00:00:00Z"),
        in_grace: true,
        ..Vector::ok(
            "in-grace",
            "Checked 14 days after expiry, within the 30-day signed grace period: accepted with a warning, and the license reports that it is in grace.",
            valid.clone(),
        )
    });
    let trial = with(|a| {
        a.license_type = LicenseType::Trial;
        a.grace_days = 0;
        a.expires_at = ts("2024-03-01T00:00:00Z");
        a.switchover_host = None;
    });
    v.push(Vector {
        at: ts("2024-03-01T00:00:01Z"),
        ..Vector::err(
            "trial-expired-no-grace",
            "A trial file (no grace period) checked one second after its expiry.",
            signed(&trial, &vendor),
            "expired",
            13,
        )
    });
    let later = with(|a| a.valid_from = ts("2024-09-01T00:00:00Z"));
    v.push(Vector::err(
        "not-yet-valid",
        "A file valid from 2024-09-01 (issued 2024-01-01) checked on 2024-06-01.",
        signed(&later, &vendor),
        "not-yet-valid",
        14,
    ));
    v.push(Vector {
        at: ts("2001-01-01T00:00:00Z"),
        ..Vector::err(
            "before-issuance",
            "Checked with a clock reading 2001-01-01, before the file was issued (2024-01-01): the clock is wrong or was set back.",
            valid.clone(),
            "clock-before-issuance",
            14,
        )
    });
    v.push(Vector::err(
        "untrusted-key",
        "A well-formed file signed by a key the server does not trust.",
        signed(&base(), &other),
        "untrusted-key",
        11,
    ));
    v.push(Vector::err(
        "bad-signature",
        "A file signed by another key whose Key-Id header was changed to the trusted key's id: the key is trusted, the signature does not verify under it.",
        claim_key(&signed(&base(), &other), &other, &vendor),
        "signature-invalid",
        10,
    ));
    v.push(Vector::err(
        "tampered-payload",
        "The valid file with one signed value edited (the primary machine name ic1 changed to ic9).",
        valid.replace("\"ic1\"", "\"ic9\""),
        "signature-invalid",
        10,
    ));
    v.push(Vector::err(
        "tampered-count",
        "The valid file with a license count raised from 10 to 99 in an editor.",
        valid.replacen("\"assigned\": 10,", "\"assigned\": 99,", 1),
        "signature-invalid",
        10,
    ));
    v.push(Vector {
        host: host_c(),
        ..Vector::err(
            "wrong-host",
            "The valid file checked on an unrelated machine C.",
            valid.clone(),
            "host-mismatch",
            12,
        )
    });
    v.push(Vector {
        host: host_a_clone(),
        ..Vector::err(
            "clone-one-component",
            "A clone of host A sharing only its machine identity (and CPU model) but not its DMI UUID or network cards: refused.",
            valid.clone(),
            "host-mismatch",
            12,
        )
    });
    v.push(Vector {
        product: Some(("XYZ", "4.0")),
        ..Vector::err(
            "wrong-product",
            "A CIC file loaded by a server of product XYZ.",
            valid.clone(),
            "product-mismatch",
            15,
        )
    });
    v.push(Vector {
        product: Some(("CIC", "4.1")),
        ..Vector::err(
            "wrong-version",
            "A CIC 4.0 file loaded by a CIC 4.1 server.",
            valid.clone(),
            "version-mismatch",
            15,
        )
    });
    v.push(Vector {
        product: Some(("CIC", "4.0.3")),
        ..Vector::ok(
            "service-update-version",
            "A CIC 4.0 file loaded by a CIC 4.0.3 server (a service update of the licensed version).",
            valid.clone(),
        )
    });
    v.push(Vector {
        state: Some(state_json("2024-06-10T00:00:00Z", Some((1, "2024-01-01T00:00:00Z")), &[])),
        ..Vector::err(
            "clock-set-back",
            "The server's state file saw 2024-06-10; the clock now reads 2024-06-01, nine days back, beyond the 24-hour tolerance.",
            valid.clone(),
            "clock-set-back",
            14,
        )
    });
    v.push(Vector {
        state: Some(state_json("2024-06-01T12:00:00Z", Some((1, "2024-01-01T00:00:00Z")), &[])),
        ..Vector::ok(
            "clock-back-within-tolerance",
            "The state file saw 2024-06-01T12:00; the clock reads 2024-06-01T00:00, 12 hours back, within the 24-hour tolerance (an NTP correction is not an outage). The file already accepted loads again; validity is judged at the latest time seen.",
            valid.clone(),
        )
    });
    v.push(Vector {
        state: Some(state_json("2024-05-01T00:00:00Z", Some((2, "2024-03-01T00:00:00Z")), &[])),
        ..Vector::err(
            "older-file",
            "The server already accepted file ...02 issued 2024-03-01; this file was issued 2024-01-01 (rollback to an older file).",
            valid.clone(),
            "older-file",
            16,
        )
    });
    v.push(Vector {
        state: Some(state_json("2024-05-01T00:00:00Z", Some((3, "2024-04-01T00:00:00Z")), &[1])),
        ..Vector::err(
            "superseded-file",
            "The server accepted file ...03, which superseded this file (...01); loading it again is refused.",
            valid.clone(),
            "superseded",
            16,
        )
    });
    v.push(Vector {
        state: Some(state_json("2024-05-01T00:00:00Z", Some((0, "2023-06-01T00:00:00Z")), &[])),
        ..Vector::ok(
            "newer-file-after-older",
            "The server last accepted a file issued 2023-06-01; this newer file is accepted and becomes the newest.",
            valid.clone(),
        )
    });
    v.push(Vector {
        state: Some("{\"format\": \"i3lic-verify-state/1\", \"latest_seen\": \"2024-05-".into()),
        ..Vector::err(
            "corrupt-state",
            "The server's state file is truncated: a clear error, never a silent reset.",
            valid.clone(),
            "state-corrupt",
            3,
        )
    });
    v.push(Vector::err(
        "unsupported-format-version",
        "A file claiming format i3lic-activation/4, which this build does not read.",
        valid.replace("Format: i3lic-activation/1", "Format: i3lic-activation/4"),
        "unsupported-version",
        3,
    ));
    v.push(Vector::ok(
        "crlf-copy",
        "The valid file after a CRLF conversion and trailing blanks added: the signed bytes are normalised, so it still verifies.",
        valid.replace('\n', "  \r\n"),
    ));
    v.push(Vector::err(
        "empty",
        "An empty file.",
        Vec::new(),
        "malformed",
        3,
    ));
    v.push(Vector::err(
        "truncated",
        "The valid file cut off in the middle of its payload.",
        valid.as_bytes()[..valid.len() / 2].to_vec(),
        "malformed",
        3,
    ));
    v.push(Vector::err(
        "unknown-field",
        "A validly signed payload with a field this format version does not define.",
        sign_payload_text_as(
            &payload_of(&valid).replacen('{', "{\n  \"max_users_unlimited\": true,", 1),
            &vendor,
            FormatVersion::V1,
        ),
        "malformed",
        3,
    ));
    v.push(Vector {
        trust: vec!["demo.pub"],
        demo_key: true,
        ..Vector::ok(
            "demo-key",
            "A file signed with the published demo key, which the checker trusts: accepted with a warning that anyone can make such files.",
            signed(&base(), &demo_key()),
        )
    });
    v.push(Vector {
        trust: vec!["vendor.pub", "other.pub"],
        ..Vector::ok(
            "rotated-key",
            "A file signed by the second of two trusted keys (key rotation).",
            signed(&base(), &other),
        )
    });
    v
}

/// The trusted key files under `tests/data/keys/`.
pub fn keys() -> Vec<(&'static str, String)> {
    vec![
        ("vendor.pub", vendor_key().public_key().to_text("vendor")),
        ("other.pub", other_key().public_key().to_text("other")),
        (
            "demo.pub",
            include_str!("../../../../keys-example/demo.pub").to_string(),
        ),
    ]
}

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
}

/// Every file of the vectors: path relative to `tests/data/` and contents.
pub fn files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, text) in keys() {
        out.push((PathBuf::from("keys").join(name), text.into_bytes()));
    }
    for v in all() {
        let d = PathBuf::from(v.name);
        out.push((d.join("license.i3lic"), v.license.clone()));
        out.push((d.join("case.txt"), v.case_text().into_bytes()));
        out.push((d.join("README.md"), v.readme().into_bytes()));
        if let Some(s) = &v.state {
            out.push((d.join("state.json"), s.clone().into_bytes()));
        }
    }
    out
}
