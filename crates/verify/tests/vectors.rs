//! The attack vectors in `tests/data/`, run through the library and through `licverify`.

mod cases;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use format::{HostId, PublicKey, Timestamp};
use verify::{HostRole, HostSource, ProductCheck, StateFile, TrustStore, Verifier, VerifyError};

use common::*;

/// Rewrite the committed vectors from `cases.rs`.
#[test]
#[ignore = "writes tests/data; run with --ignored to regenerate the vectors"]
fn regenerate() {
    let root = cases::data_dir();
    for (rel, bytes) in cases::files() {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
}

#[test]
fn committed_vectors_are_what_the_generator_makes() {
    let root = cases::data_dir();
    let files = cases::files();
    for (rel, bytes) in &files {
        let on_disk = std::fs::read(root.join(rel))
            .unwrap_or_else(|e| panic!("{}: {e} (run the regenerate test)", rel.display()));
        assert!(
            on_disk == *bytes,
            "{} differs from the generator's output",
            rel.display()
        );
    }
    // No stray folders: every folder is a generated vector.
    let names: Vec<String> = cases::all().iter().map(|v| v.name.to_string()).collect();
    for e in std::fs::read_dir(&root).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            n == "keys" || n == "README.md" || names.contains(&n),
            "stray {n}"
        );
    }
}

/// `case.txt` as read from disk.
struct Case {
    dir: PathBuf,
    fields: BTreeMap<String, Vec<String>>,
}

impl Case {
    fn read(dir: &Path) -> Case {
        let text = std::fs::read_to_string(dir.join("case.txt")).unwrap();
        let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (k, v) = line.split_once(": ").unwrap();
            fields.entry(k.into()).or_default().push(v.into());
        }
        Case {
            dir: dir.to_owned(),
            fields,
        }
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn name(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    fn trust(&self) -> Vec<PathBuf> {
        self.fields["trust"]
            .iter()
            .map(|t| cases::data_dir().join("keys").join(t))
            .collect()
    }

    fn host(&self) -> HostId {
        self.get("host-id").unwrap().parse().unwrap()
    }

    fn at(&self) -> Timestamp {
        self.get("at").unwrap().parse().unwrap()
    }

    /// A verifier as the case says, with the state file copied to `tmp`.
    fn verifier(&self, tmp: &Path) -> Verifier {
        let keys = self
            .trust()
            .iter()
            .map(|p| PublicKey::from_text(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect::<Vec<_>>();
        let product = match (self.get("product"), self.get("version")) {
            (Some(p), Some(v)) => ProductCheck::Expect {
                product: p.into(),
                version: v.into(),
            },
            _ => ProductCheck::Any,
        };
        let mut v = Verifier::new(TrustStore::new(keys).unwrap(), product)
            .host(HostSource::Code(self.host()))
            .at(self.at());
        if let Some(s) = self.get("state") {
            let copy = tmp.join(s);
            std::fs::copy(self.dir.join(s), &copy).unwrap();
            v = v.state_file(StateFile::new(copy));
        }
        v
    }
}

fn all_cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases::data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.txt").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 25, "only {} vectors found", dirs.len());
    dirs.iter().map(|d| Case::read(d)).collect()
}

/// Match the error on its variant (not its message).
fn is_variant(e: &VerifyError, kind: &str) -> bool {
    match kind {
        "malformed" => matches!(e, VerifyError::Malformed(_)),
        "unsupported-version" => matches!(e, VerifyError::UnsupportedVersion { .. }),
        "untrusted-key" => matches!(e, VerifyError::UntrustedKey { .. }),
        "signature-invalid" => matches!(e, VerifyError::SignatureInvalid { .. }),
        "product-mismatch" => matches!(e, VerifyError::ProductMismatch { .. }),
        "version-mismatch" => matches!(e, VerifyError::VersionMismatch { .. }),
        "host-mismatch" => matches!(e, VerifyError::HostMismatch { .. }),
        "expired" => matches!(e, VerifyError::Expired { .. }),
        "not-yet-valid" => matches!(e, VerifyError::NotYetValid { .. }),
        "clock-before-issuance" => matches!(e, VerifyError::ClockBeforeIssuance { .. }),
        "clock-set-back" => matches!(e, VerifyError::ClockSetBack { .. }),
        "older-file" => matches!(e, VerifyError::OlderFile { .. }),
        "superseded" => matches!(e, VerifyError::Superseded { .. }),
        "state-corrupt" => matches!(e, VerifyError::StateCorrupt { .. }),
        other => panic!("case.txt names an unknown outcome {other}"),
    }
}

#[test]
fn every_vector_has_the_outcome_its_case_names() {
    for case in all_cases() {
        let name = case.name();
        let tmp = tempfile::tempdir().unwrap();
        let bytes = std::fs::read(case.dir.join("license.i3lic")).unwrap();
        let result = case.verifier(tmp.path()).load(&bytes);
        let expect = case.get("expect").unwrap();
        let exit: i32 = case.get("exit").unwrap().parse().unwrap();
        match (&result, expect) {
            (Ok(l), "ok") => {
                let role = match l.role() {
                    HostRole::Primary => "primary",
                    HostRole::Switchover => "switchover",
                };
                assert_eq!(Some(role), case.get("role"), "{name}");
                assert_eq!(
                    l.in_grace().to_string(),
                    case.get("in-grace").unwrap(),
                    "{name}"
                );
                assert_eq!(
                    l.signed_with_demo_key().to_string(),
                    case.get("demo-key").unwrap(),
                    "{name}"
                );
                assert_eq!(exit, 0, "{name}");
            }
            (Err(e), kind) if kind != "ok" => {
                assert!(is_variant(e, kind), "{name}: expected {kind}, got {e:?}");
                assert_eq!(e.exit_code(), exit, "{name}: {e}");
            }
            _ => panic!("{name}: expected {expect}, got {result:?}"),
        }
    }
}

#[test]
fn licverify_gives_each_vector_its_exit_code() {
    let bin = env!("CARGO_BIN_EXE_licverify");
    for case in all_cases() {
        let name = case.name();
        let tmp = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(case.dir.join("license.i3lic"));
        for t in case.trust() {
            cmd.arg("--trust").arg(t);
        }
        cmd.args(["--host-id", case.get("host-id").unwrap()]);
        cmd.args(["--at", case.get("at").unwrap()]);
        if let (Some(p), Some(v)) = (case.get("product"), case.get("version")) {
            cmd.args(["--product", p, "--version", v]);
        }
        if let Some(s) = case.get("state") {
            let copy = tmp.path().join(s);
            std::fs::copy(case.dir.join(s), &copy).unwrap();
            cmd.arg("--state").arg(&copy);
        }
        let out = cmd.arg("--json").output().unwrap();
        let exit: i32 = case.get("exit").unwrap().parse().unwrap();
        assert_eq!(out.status.code(), Some(exit), "{name}: {out:?}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["valid"], exit == 0, "{name}");
        if exit == 0 {
            assert!(json["error"].is_null(), "{name}");
            assert_eq!(json["license"]["role"], case.get("role").unwrap(), "{name}");
        } else {
            assert_eq!(json["error"]["code"], exit, "{name}");
            assert_eq!(json["error"]["kind"], case.get("expect").unwrap(), "{name}");
            assert!(json["license"].is_null(), "{name}");
        }
    }
}

#[test]
fn every_single_bit_flip_of_a_valid_file_is_refused() {
    let case = Case::read(&cases::data_dir().join("valid-minimal"));
    let tmp = tempfile::tempdir().unwrap();
    let verifier = case.verifier(tmp.path());
    let good = std::fs::read(case.dir.join("license.i3lic")).unwrap();
    verifier.load(&good).expect("the unflipped file is valid");
    // Split the bytes over the available cores; each thread flips bits in its own copy.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = good.len().div_ceil(threads);
    let kinds: BTreeMap<&'static str, usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (verifier, good) = (&verifier, &good);
                s.spawn(move || {
                    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
                    let mut bytes = good.clone();
                    for i in (t * chunk)..((t + 1) * chunk).min(good.len()) {
                        for bit in 0..8 {
                            bytes[i] ^= 1 << bit;
                            match verifier.load(&bytes) {
                                Ok(_) => panic!("flipping bit {bit} of byte {i} was accepted"),
                                Err(e) => {
                                    assert!(
                                        matches!(
                                            e,
                                            VerifyError::Malformed(_)
                                                | VerifyError::UnsupportedVersion { .. }
                                                | VerifyError::UntrustedKey { .. }
                                                | VerifyError::SignatureInvalid { .. }
                                        ),
                                        "byte {i} bit {bit}: {e:?}"
                                    );
                                    *kinds.entry(e.kind()).or_default() += 1;
                                }
                            }
                            bytes[i] ^= 1 << bit;
                        }
                    }
                    kinds
                })
            })
            .collect();
        let mut all = BTreeMap::new();
        for h in handles {
            for (k, n) in h.join().expect("flip thread") {
                *all.entry(k).or_default() += n;
            }
        }
        all
    });
    // Every part of the file was exercised: armor, key id, signed payload.
    assert_eq!(kinds.values().sum::<usize>(), good.len() * 8);
    for k in ["malformed", "untrusted-key", "signature-invalid"] {
        assert!(kinds.get(k).copied().unwrap_or(0) > 0, "{kinds:?}");
    }
}

fn verifier_on(host: HostId) -> Verifier {
    Verifier::for_product(
        TrustStore::new([vendor_key().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host))
    .at(mid())
}

#[test]
fn the_same_file_verifies_on_both_hosts_of_its_pair_and_on_neither_of_another() {
    let file = signed(&base(), &vendor_key());
    let on_a = verifier_on(host_a()).load(file.as_bytes()).unwrap();
    let on_b = verifier_on(host_b()).load(file.as_bytes()).unwrap();
    assert_eq!(on_a.role(), HostRole::Primary);
    assert_eq!(on_a.matched_host().machine, "ic1");
    assert_eq!(on_b.role(), HostRole::Switchover);
    assert_eq!(on_b.matched_host().machine, "ic2");
    assert_eq!(on_a.activation(), on_b.activation());
    for (host, also) in [
        (host_a_no_dmi(), HostRole::Primary),
        (host_a_new_nic(), HostRole::Primary),
    ] {
        assert_eq!(
            verifier_on(host).load(file.as_bytes()).unwrap().role(),
            also
        );
    }
    for other in [host_d(), host_e(), host_c(), host_a_clone()] {
        match verifier_on(other).load(file.as_bytes()) {
            Err(VerifyError::HostMismatch {
                found,
                primary,
                switchover,
            }) => {
                assert_eq!(*found, other);
                assert_eq!(*primary, host_a());
                assert_eq!(switchover.map(|s| *s), Some(host_b()));
            }
            r => panic!("{other}: {r:?}"),
        }
    }
    // A file for the pair D/E: accepted on D and E, refused on A and B.
    let mut de = base();
    de.primary_host.host_id = host_d();
    de.switchover_host.as_mut().unwrap().host_id = host_e();
    let de = signed(&de, &vendor_key());
    assert_eq!(
        verifier_on(host_d()).load(de.as_bytes()).unwrap().role(),
        HostRole::Primary
    );
    assert_eq!(
        verifier_on(host_e()).load(de.as_bytes()).unwrap().role(),
        HostRole::Switchover
    );
    for h in [host_a(), host_b()] {
        assert!(matches!(
            verifier_on(h).load(de.as_bytes()),
            Err(VerifyError::HostMismatch { .. })
        ));
    }
}
