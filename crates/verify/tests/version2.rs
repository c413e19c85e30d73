//! Version-2 files on a server: rollback decided by generation, not by clocks; perpetual files
//! never expire; strong host bindings; the signed rules exposed read-only.

mod common;

use std::process::Command;

use format::{Excludes, FormatVersion, Holder, Implies, KeyRule, Method, Requires, Rules};
use verify::{HostRole, HostSource, StateFile, TrustStore, Verifier, VerifyError};

use common::*;

fn trust() -> TrustStore {
    TrustStore::new([vendor_key().public_key().clone()]).unwrap()
}

fn verifier(state: &StateFile) -> Verifier {
    Verifier::for_product(trust(), "CIC", "4.0")
        .host(HostSource::Code(host_a()))
        .at(mid())
        .state_file(state.clone())
}

/// Generation `generation` of the lineage of file 1, issued at `issued`.
fn generation(id: u8, generation: u32, supersedes: Option<u8>, issued: &str) -> Vec<u8> {
    let mut a = in_chain(base(), id, 1, generation, supersedes);
    a.issued_at = ts(issued);
    a.valid_from = ts(issued);
    a.expires_at = format::Timestamp::PERPETUAL;
    signed(&a, &vendor_key()).into_bytes()
}

#[test]
fn a_chain_issued_within_one_second_still_refuses_its_older_files() {
    // The review's case: A -> B -> C issued in the same second; C is loaded, then A. Time
    // cannot order them; the generation does.
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let t = "2024-05-01T12:00:00Z";
    let a = generation(1, 1, None, t);
    let b = generation(2, 2, Some(1), t);
    let c = generation(3, 3, Some(2), t);

    verifier(&sf).load(&c).unwrap();
    let before = std::fs::read(sf.path()).unwrap();
    for (older, gen) in [(&a, 1), (&b, 2)] {
        match verifier(&sf).load(older) {
            Err(
                e @ VerifyError::OlderGeneration {
                    generation,
                    accepted_generation: 3,
                    ..
                },
            ) => {
                assert_eq!(generation, gen);
                assert_eq!(e.exit_code(), 16);
                assert_eq!(e.kind(), "older-generation");
            }
            r => panic!("generation {gen} after 3: {r:?}"),
        }
    }
    assert_eq!(
        std::fs::read(sf.path()).unwrap(),
        before,
        "a refusal writes nothing"
    );
    // The newest generation loads again (a restart).
    let l = verifier(&sf).load(&c).unwrap();
    assert_eq!(l.generation(), Some(3));
    assert_eq!(l.lineage(), file_id(1));
    assert_eq!(l.format_version(), FormatVersion::V3);
    let st = sf.read().unwrap().unwrap();
    assert_eq!(st.lineages().len(), 1);
    assert_eq!(st.lineages()[0].generation, 3);
    assert_eq!(st.lineages()[0].file_id, file_id(3));
}

#[test]
fn the_chain_loads_in_order_within_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let t = "2024-05-01T12:00:00Z";
    for (id, gen, sup) in [(1, 1, None), (2, 2, Some(1)), (3, 3, Some(2))] {
        verifier(&sf)
            .load(&generation(id, gen, sup, t))
            .unwrap_or_else(|e| panic!("generation {gen}: {e}"));
    }
    // Each earlier generation is refused now.
    assert!(matches!(
        verifier(&sf).load(&generation(2, 2, Some(1), t)),
        Err(VerifyError::OlderGeneration {
            generation: 2,
            accepted_generation: 3,
            ..
        })
    ));
}

#[test]
fn an_update_issued_from_a_clock_five_minutes_behind_loads_after_the_file_it_supersedes() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let first = generation(1, 1, None, "2024-05-01T12:00:00Z");
    let update = generation(2, 2, Some(1), "2024-05-01T11:55:00Z");
    verifier(&sf).load(&first).unwrap();
    let l = verifier(&sf).load(&update).expect("the update loads");
    assert_eq!(l.generation(), Some(2));
    // And the file it replaced cannot come back.
    assert!(matches!(
        verifier(&sf).load(&first),
        Err(VerifyError::OlderGeneration {
            generation: 1,
            accepted_generation: 2,
            ..
        })
    ));
}

#[test]
fn another_file_of_the_same_generation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    verifier(&sf)
        .load(&generation(2, 2, Some(1), "2024-05-01T12:00:00Z"))
        .unwrap();
    assert!(matches!(
        verifier(&sf).load(&generation(9, 2, Some(1), "2024-05-02T12:00:00Z")),
        Err(VerifyError::OlderGeneration {
            generation: 2,
            accepted_generation: 2,
            ..
        })
    ));
    // Another lineage is not affected.
    let mut other = in_chain(base(), 7, 7, 1, None);
    other.issued_at = ts("2024-01-01T00:00:00Z");
    other.valid_from = other.issued_at;
    verifier(&sf)
        .load(signed(&other, &vendor_key()).as_bytes())
        .unwrap();
}

#[test]
fn a_state_file_of_the_previous_format_is_read_and_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    std::fs::write(
        &path,
        r#"{"format":"i3lic-verify-state/1","latest_seen":"2024-05-01T00:00:00Z","newest":null,"superseded":[]}"#,
    )
    .unwrap();
    let sf = StateFile::new(&path);
    verifier(&sf)
        .load(&generation(1, 1, None, "2024-05-01T12:00:00Z"))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("i3lic-verify-state/2"), "{text}");
    assert!(text.contains("\"lineages\""), "{text}");
}

#[test]
fn a_perpetual_file_never_expires() {
    let mut a = in_chain(base(), 1, 1, 1, None);
    a.expires_at = format::Timestamp::PERPETUAL;
    a.grace_days = 30;
    let file = signed(&a, &vendor_key());
    for at in [
        "2099-12-31T23:59:59Z",
        "2100-03-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        let l = Verifier::for_product(trust(), "CIC", "4.0")
            .host(HostSource::Code(host_a()))
            .at(ts(at))
            .load(file.as_bytes())
            .unwrap_or_else(|e| panic!("at {at}: {e}"));
        assert!(l.is_perpetual());
        assert!(!l.in_grace(), "at {at}");
        assert!(l.warnings().is_empty(), "at {at}: {:?}", l.warnings());
        assert_eq!(l.days_left(), None);
        assert!(l.usable_at(ts(at)));
    }
}

#[test]
fn a_strong_binding_needs_the_strong_code_and_a_short_binding_takes_either() {
    let mut a = in_chain(base(), 1, 1, 1, None);
    a.primary_host.host_id = host_a_strong();
    a.switchover_host.as_mut().unwrap().host_id = host_b_strong();
    let strong_file = signed(&a, &vendor_key());
    assert!(strong_file.contains("\"form\": \"strong\""));
    let on = |h| {
        Verifier::for_product(trust(), "CIC", "4.0")
            .host(HostSource::Code(h))
            .at(mid())
    };
    assert_eq!(
        on(host_a_strong())
            .load(strong_file.as_bytes())
            .unwrap()
            .role(),
        HostRole::Primary
    );
    assert_eq!(
        on(host_b_strong())
            .load(strong_file.as_bytes())
            .unwrap()
            .role(),
        HostRole::Switchover
    );
    // The same machine's short code cannot prove a strong binding: refused, and told why.
    let e = on(host_a()).load(strong_file.as_bytes()).unwrap_err();
    assert!(matches!(e, VerifyError::HostMismatch { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 12);
    assert!(e.to_string().contains("gethostid --strong"), "{e}");

    // A file bound to short codes is checked by a server reading its strong code.
    let short_file = signed(&in_chain(base(), 2, 2, 1, None), &vendor_key());
    assert_eq!(
        on(host_a_strong())
            .load(short_file.as_bytes())
            .unwrap()
            .role(),
        HostRole::Primary
    );
}

#[test]
fn the_signed_rules_are_exposed_read_only() {
    let mut a = in_chain(base(), 1, 1, 1, None);
    a.rules = Rules {
        keys: vec![KeyRule {
            key: "I3_ACCESS_CLIENT_00".into(),
            holders: vec![Holder::User],
            methods: vec![Method::Concurrent],
        }],
        requires: vec![Requires {
            key: "I3_ACCESS_CLIENT_01".into(),
            any_of: vec!["I3_ACCESS_CLIENT_00".into()],
        }],
        implies: vec![Implies {
            key: "I3_ACCESS_CLIENT_02".into(),
            implied: "I3_ACCESS_CLIENT_00".into(),
        }],
        excludes: vec![Excludes {
            keys: vec!["I3_ACCESS_CLIENT_01".into(), "I3_ACCESS_CLIENT_02".into()],
        }],
    };
    let file = signed(&a, &vendor_key());
    let l = Verifier::for_product(trust(), "CIC", "4.0")
        .host(HostSource::Code(host_a()))
        .at(mid())
        .load(file.as_bytes())
        .unwrap();
    let r = l.rules();
    assert_eq!(r.holders("I3_ACCESS_CLIENT_00"), &[Holder::User]);
    assert_eq!(r.methods("I3_ACCESS_CLIENT_00"), &[Method::Concurrent]);
    assert_eq!(r.holders("I3_ACCESS_CLIENT_01"), format::ALL_HOLDERS);
    assert_eq!(
        r.requires("I3_ACCESS_CLIENT_01"),
        vec![&["I3_ACCESS_CLIENT_00".to_string()][..]]
    );
    assert_eq!(
        r.implies("I3_ACCESS_CLIENT_02"),
        vec!["I3_ACCESS_CLIENT_00"]
    );
    assert_eq!(
        r.excluded_with("I3_ACCESS_CLIENT_01"),
        vec!["I3_ACCESS_CLIENT_02"]
    );

    // licverify --json shows them, with the chain and the format version.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.i3lic");
    std::fs::write(&path, &file).unwrap();
    let pubkey = dir.path().join("vendor.pub");
    std::fs::write(&pubkey, vendor_key().public_key().to_text("vendor")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_licverify"))
        .arg(&path)
        .arg("--trust")
        .arg(&pubkey)
        .args([
            "--host-id",
            &host_a().to_string(),
            "--at",
            "2024-06-01T00:00:00Z",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lic = &v["license"];
    assert_eq!(lic["format_version"], 3);
    assert_eq!(lic["activation"]["chain"]["generation"], 1);
    assert_eq!(
        lic["activation"]["rules"]["implies"][0]["implied"],
        "I3_ACCESS_CLIENT_00"
    );
    assert_eq!(
        lic["activation"]["rules"]["keys"][0]["methods"][0],
        "concurrent"
    );
}

#[test]
fn licverify_refuses_an_older_generation_with_exit_16() {
    let dir = tempfile::tempdir().unwrap();
    let pubkey = dir.path().join("vendor.pub");
    std::fs::write(&pubkey, vendor_key().public_key().to_text("vendor")).unwrap();
    let state = dir.path().join("state.json");
    let t = "2024-05-01T12:00:00Z";
    let run = |name: &str, bytes: Vec<u8>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        Command::new(env!("CARGO_BIN_EXE_licverify"))
            .arg(&path)
            .arg("--trust")
            .arg(&pubkey)
            .args(["--host-id", &host_a().to_string()])
            .arg("--state")
            .arg(&state)
            .output()
            .unwrap()
    };
    let c = run("c.i3lic", generation(3, 3, Some(2), t));
    assert!(c.status.success(), "{c:?}");
    let a = run("a.i3lic", generation(1, 1, None, t));
    assert_eq!(a.status.code(), Some(16), "{a:?}");
    let err = String::from_utf8_lossy(&a.stderr);
    assert!(
        err.contains("generation 1") && err.contains("generation 3"),
        "{err}"
    );
}
