//! What a store remembers whoever runs a command on it: the hosts it serves and the keys it
//! trusts (another server's file, or a file signed by a key the store does not trust, is
//! refused until an administrator re-targets it), its rollback history (an older generation
//! stays refused after a load of another lineage), the latest time it saw (a clock set back
//! is refused), and the rules of its stored file (which bind deallocation whatever a
//! command's trust or host).

mod common;

use std::process::{Command, Output};
use std::sync::Arc;

use allocation::{AllocError, Allocator, Method, Place, RuleKind, Target};
use common::*;
use format::{sign, Rules, SecretKey, Timestamp};
use hostid::{Components, HostId};
use store::TxExt as _;
use verify::{HostSource, TrustStore, Verifier};

const BIN: &str = env!("CARGO_BIN_EXE_licadmin");

fn other_host() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

/// A first file for `host`, signed by `key`.
fn file_for(host: HostId, key: &SecretKey, licenses: &[(&str, u32, u32)]) -> String {
    let mut a = activation(licenses, Rules::default());
    a.primary_host.host_id = host;
    sign(&a, key).unwrap()
}

fn verifier_as(host: HostId, keys: &[&SecretKey]) -> Verifier {
    Verifier::for_product(
        TrustStore::new(keys.iter().map(|k| k.public_key().clone())).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host))
}

fn open_as(env: &Env, v: Verifier) -> Allocator {
    Allocator::open_with_clock(env.path(), v, Arc::new(env.clock.clone())).unwrap()
}

fn assignable_allowed(a: &Allocator, key: &str) -> u32 {
    a.report()
        .unwrap()
        .keys
        .iter()
        .find(|k| k.name == key)
        .map_or(0, |k| k.assignable_allowed)
}

/// `licadmin --store S --trust T... --host-id H ARGS`.
fn licadmin(env: &Env, trust: &[&std::path::Path], host: HostId, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.env_remove("I3LIC_TRUST").env_remove("I3LIC_STORE");
    c.arg("--store").arg(env.path());
    for t in trust {
        c.arg("--trust").arg(t);
    }
    c.args(["--host-id", &host.to_string()]).args(args);
    c.output().unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

fn write_pub(env: &Env, name: &str, key: &SecretKey) -> std::path::PathBuf {
    let p = env.dir.path().join(name);
    std::fs::write(&p, key.public_key().to_text("vendor")).unwrap();
    p
}

#[test]
fn another_servers_bigger_file_is_refused_until_the_store_is_retargeted() {
    let env = env(&file(&[(CLIENT, 10, 0)], Rules::default()));
    let id = env.alloc.identity().unwrap();
    assert_eq!(id.hosts, [host().to_string()]);
    assert_eq!(id.keys.len(), 1);
    assert_eq!(id.keys[0].key_id, vendor().key_id().to_string());
    assert_eq!(id.log.len(), 1);
    assert_eq!(id.log[0].action, "identity-recorded");

    // Another server's genuine file, loaded as that server: the store serves this host.
    let bigger = file_for(other_host(), &vendor(), &[(CLIENT, 61, 0)]);
    let as_other = open_as(&env, verifier_as(other_host(), &[&vendor()]));
    let e = as_other.load(bigger.as_bytes()).unwrap_err();
    assert!(matches!(e, AllocError::StoreHostMismatch { .. }), "{e:?}");
    assert_eq!((e.exit_code(), e.kind()), (12, "store-host-mismatch"));
    assert!(e.to_string().contains("licadmin store retarget"), "{e}");
    // A file signed by a key this command trusts but the store does not.
    let foreign = file_for(host(), &other_vendor(), &[(CLIENT, 61, 0)]);
    let both = open_as(&env, verifier_as(host(), &[&vendor(), &other_vendor()]));
    let e = both.load(foreign.as_bytes()).unwrap_err();
    assert!(matches!(e, AllocError::StoreUntrustedKey { .. }), "{e:?}");
    assert_eq!((e.exit_code(), e.kind()), (11, "store-untrusted-key"));
    assert!(both.preview(foreign.as_bytes()).is_err());
    assert_eq!(assignable_allowed(&env.alloc, CLIENT), 10, "nothing loaded");

    // The same through licadmin.
    let vendor_pub = write_pub(&env, "vendor.pub", &vendor());
    let other_pub = write_pub(&env, "other.pub", &other_vendor());
    let big = env.dir.path().join("big.i3lic");
    std::fs::write(&big, &bigger).unwrap();
    let o = licadmin(
        &env,
        &[&vendor_pub],
        other_host(),
        &["load", big.to_str().unwrap()],
    );
    assert_eq!(code(&o), 12, "{}", String::from_utf8_lossy(&o.stderr));
    let f = env.dir.path().join("foreign.i3lic");
    std::fs::write(&f, &foreign).unwrap();
    let o = licadmin(
        &env,
        &[&vendor_pub, &other_pub],
        host(),
        &["load", f.to_str().unwrap()],
    );
    assert_eq!(code(&o), 11, "{}", String::from_utf8_lossy(&o.stderr));

    // An administrator re-targets the store explicitly: logged, and then the file loads.
    let other = other_host().to_string();
    let o = licadmin(
        &env,
        &[&vendor_pub],
        host(),
        &[
            "store",
            "retarget",
            "--host",
            &other,
            "--key",
            vendor_pub.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = licadmin(
        &env,
        &[&vendor_pub],
        other_host(),
        &["load", big.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = licadmin(
        &env,
        &[&vendor_pub],
        other_host(),
        &["store", "show", "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["hosts"], serde_json::json!([other]));
    let log = v["log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{v}");
    assert_eq!(log[1]["action"], "retargeted");
    assert!(log[1]["detail"].as_str().unwrap().contains(&other), "{v}");
    assert!(
        log[1]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("was: hosts {}", host())),
        "{v}"
    );
    // A bad code or key changes nothing.
    let o = licadmin(
        &env,
        &[&vendor_pub],
        host(),
        &[
            "store",
            "retarget",
            "--host",
            "NOT-A-CODE",
            "--key",
            vendor_pub.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 3);
    let o = licadmin(
        &env,
        &[&vendor_pub],
        host(),
        &["store", "retarget", "--key", "x.pub"],
    );
    assert_eq!(code(&o), 2, "--host is required");
    assert_eq!(env.reopen().identity().unwrap().hosts, [other]);
}

#[test]
fn a_switchover_pairs_store_serves_both_hosts_its_first_file_names() {
    let mut a = activation(&[(CLIENT, 10, 0)], Rules::default());
    a.switchover_host = Some(format::Host {
        host_id: other_host(),
        machine: "ic2".into(),
        install_key: None,
    });
    let env = env(&sign(&a, &vendor()).unwrap());
    let mut hosts = env.alloc.identity().unwrap().hosts;
    hosts.sort();
    let mut want = vec![host().to_string(), other_host().to_string()];
    want.sort();
    assert_eq!(hosts, want);
    // A file naming only one of the pair's hosts is refused, from either host.
    let only_other = file_for(other_host(), &vendor(), &[(CLIENT, 61, 0)]);
    let e = open_as(&env, verifier_as(other_host(), &[&vendor()]))
        .load(only_other.as_bytes())
        .unwrap_err();
    assert_eq!(e.exit_code(), 12, "{e}");
}

/// Turn the store back into a version-2 store (the previous release's schema).
fn downgrade_to_v2(path: &std::path::Path) {
    let c = store_sqlite::open_raw(path).unwrap();
    c.execute_batch(
        "DROP TABLE install_key; DROP TABLE released; DROP TRIGGER usage_counts_peak_ins; DROP TRIGGER usage_counts_peak_upd;
         DROP TABLE usage_events; DROP TABLE usage_peaks; DROP TABLE usage_denials;
         DROP TABLE usage_licensed; DROP TABLE history_state;
         DROP TABLE checkouts; DROP TABLE workgroup_members; DROP TABLE workgroups; DROP TABLE user_kept_grants; DROP TABLE user_settings; DROP TABLE tokens; DROP TABLE ended_sessions;
         DROP TABLE store_hosts; DROP TABLE store_keys; DROP TABLE store_state;
         DROP TABLE lineages; DROP TABLE superseded; DROP TABLE admin_log;
         ALTER TABLE license DROP COLUMN signer_key;
         PRAGMA user_version = 2;",
    )
    .unwrap();
}

#[test]
fn a_store_of_the_previous_release_adopts_the_identity_of_its_loaded_file() {
    let (mut chain, first) = Chain_::first(&[(CLIENT, 61, 0)], Rules::default());
    let env = env(&first);
    env.alloc
        .load(chain.next(&[(CLIENT, 10, 0)], Rules::default()).as_bytes())
        .unwrap();
    downgrade_to_v2(&env.path());

    // Opened by a command with other options: it adopts the hosts of its loaded file and the
    // key that signed it, not the command's host.
    let a = open_as(
        &env,
        verifier_as(other_host(), &[&vendor(), &other_vendor()]),
    );
    let v: i32 = store_sqlite::open_raw(env.path())
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, allocation::SCHEMA_VERSION);
    let id = a.identity().unwrap();
    assert_eq!(id.hosts, [host().to_string()]);
    assert_eq!(
        id.keys.iter().map(|k| k.key_id.clone()).collect::<Vec<_>>(),
        [vendor().key_id().to_string()]
    );
    assert_eq!(id.log[0].action, "identity-adopted");
    // Its history starts from the loaded file: the first generation stays refused.
    assert_eq!(id.lineages.len(), 1);
    assert_eq!(id.lineages[0].generation, 2);
    let e = env.reopen().load(first.as_bytes()).unwrap_err();
    assert_eq!(e.exit_code(), 16, "{e}");
    // Another server's file and another key are refused.
    let bigger = file_for(other_host(), &vendor(), &[(CLIENT, 61, 0)]);
    assert_eq!(a.load(bigger.as_bytes()).unwrap_err().exit_code(), 12);
    let foreign = file_for(host(), &other_vendor(), &[(CLIENT, 61, 0)]);
    let both = open_as(&env, verifier_as(host(), &[&vendor(), &other_vendor()]));
    assert_eq!(both.load(foreign.as_bytes()).unwrap_err().exit_code(), 11);
    assert_eq!(env.reopen().check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_previous_release_store_opened_without_its_key_adopts_later() {
    let env = env(&file(&[(CLIENT, 10, 0)], Rules::default()));
    downgrade_to_v2(&env.path());
    // A command that cannot check the file's signature records nothing.
    let a = open_as(&env, verifier_as(host(), &[&other_vendor()]));
    assert!(a.identity().unwrap().hosts.is_empty());
    drop(a);
    let a = env.reopen();
    assert_eq!(a.identity().unwrap().hosts, [host().to_string()]);
}

#[test]
fn an_older_generation_stays_refused_after_a_load_of_another_lineage() {
    // The larger first generation, superseded by a smaller update; then a file of another
    // lineage, then the larger generation again.
    let (mut a_chain, a1) = Chain_::first(&[(CLIENT, 61, 0)], Rules::default());
    let env = env(&a1);
    let a2 = a_chain.next(&[(CLIENT, 10, 0)], Rules::default());
    env.alloc.load(a2.as_bytes()).unwrap();
    let (mut b_chain, b1) = Chain_::first(&[(CLIENT, 10, 0)], Rules::default());
    env.alloc.load(b1.as_bytes()).unwrap();
    let e = env.alloc.load(a1.as_bytes()).unwrap_err();
    assert_eq!((e.exit_code(), e.kind()), (16, "older-generation"), "{e}");
    assert!(env.alloc.preview(a1.as_bytes()).is_err());
    // From another allocator (another process) too.
    assert_eq!(
        env.reopen().load(a1.as_bytes()).unwrap_err().exit_code(),
        16
    );
    assert_eq!(assignable_allowed(&env.alloc, CLIENT), 10);
    // The newest generation of a lineage may come back; a newer one of b loads.
    env.alloc.load(a2.as_bytes()).unwrap();
    env.alloc
        .load(
            b_chain
                .next(&[(CLIENT, 12, 0)], Rules::default())
                .as_bytes(),
        )
        .unwrap();
    // b's first generation is superseded, whichever lineage was loaded last.
    env.alloc.load(a2.as_bytes()).unwrap();
    let e = env.alloc.load(b1.as_bytes()).unwrap_err();
    assert_eq!(e.exit_code(), 16, "{e}");
    let id = env.alloc.identity().unwrap();
    assert_eq!(id.lineages.len(), 2);
    assert_eq!(id.superseded, 2);
}

/// A file issued ten days ago that expired an hour ago.
fn expired_file() -> String {
    let now = Timestamp::now();
    let mut a = activation(&[(CLIENT, 10, 0)], Rules::default());
    a.issued_at = now.plus_days(-10);
    a.valid_from = a.issued_at;
    a.expires_at = now.plus_secs(-3600);
    a.license_type = format::LicenseType::DevelopmentSmall;
    sign(&a, &vendor()).unwrap()
}

#[test]
fn a_clock_set_back_beyond_the_tolerance_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = location(dir.path());
    let now = Timestamp::now();
    let at = |t: Timestamp| {
        Allocator::open_at(&path, verifier().at(t), Arc::new(allocation::SystemClock)).unwrap()
    };
    // Loaded while it was valid (two days ago).
    at(now.plus_days(-2))
        .load(expired_file().as_bytes())
        .unwrap();
    // Used today: expired.
    let today = at(now);
    today.add_user("alice", Method::Assignable, None).unwrap();
    let e = today.report().unwrap_err();
    assert_eq!(e.exit_code(), 13, "{e}");
    // The clock set back two days, to when it was valid: refused as set back.
    let back = at(now.plus_days(-2));
    let e = back.report().unwrap_err();
    assert!(matches!(e, AllocError::ClockSetBack { .. }), "{e:?}");
    assert_eq!((e.exit_code(), e.kind()), (14, "clock-set-back"));
    assert!(e.to_string().contains("24-hour tolerance"), "{e}");
    assert_eq!(
        back.allocate(Target::User("alice"), &[CLIENT])
            .unwrap_err()
            .exit_code(),
        14
    );
    assert_eq!(
        back.load(file(&[(CLIENT, 1, 0)], Rules::default()).as_bytes())
            .unwrap_err()
            .exit_code(),
        14
    );
    // Within the tolerance the file is checked at the latest time seen: still expired.
    let e = at(now.plus_secs(-23 * 3600)).report().unwrap_err();
    assert_eq!(e.exit_code(), 13, "{e}");
    // The latest time seen never goes back.
    let seen = at(now).identity().unwrap().latest_seen.unwrap();
    assert!(seen >= now.to_string(), "{seen}");
}

fn requires_rules() -> Rules {
    Rules {
        requires: vec![requires(SUPERVISOR, &[CLIENT])],
        ..Default::default()
    }
}

#[test]
fn deallocate_obeys_the_stored_files_rules_whatever_the_commands_trust_or_host() {
    let env = env(&file(
        &[(CLIENT, 5, 0), (SUPERVISOR, 5, 0)],
        requires_rules(),
    ));
    env.alloc
        .add_user("alice", Method::Assignable, None)
        .unwrap();
    env.alloc
        .allocate(Target::User("alice"), &[CLIENT, SUPERVISOR])
        .unwrap();
    for v in [
        verifier_as(host(), &[&other_vendor()]),
        verifier_as(other_host(), &[&vendor()]),
        verifier().at(Timestamp::now().plus_days(-30)),
    ] {
        let a = open_as(&env, v);
        let e = a.deallocate(Target::User("alice"), &[CLIENT]).unwrap_err();
        assert_eq!(e.rule(), Some(RuleKind::Requires), "{e:?}");
    }
    // licadmin with another key or another host.
    let other_pub = write_pub(&env, "other.pub", &other_vendor());
    let vendor_pub = write_pub(&env, "vendor.pub", &vendor());
    for (trust, h) in [(&other_pub, host()), (&vendor_pub, other_host())] {
        let o = licadmin(
            &env,
            &[trust],
            h,
            &["deallocate", "--user", "alice", CLIENT],
        );
        assert_eq!(code(&o), 22, "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Without any trusted key: the stored file's own signer decides.
    let mut c = Command::new(BIN);
    c.env_remove("I3LIC_TRUST").arg("--store").arg(env.path());
    let o = c
        .args(["deallocate", "--user", "alice", CLIENT])
        .output()
        .unwrap();
    assert_eq!(code(&o), 22, "{}", String::from_utf8_lossy(&o.stderr));
    // In the right order it goes.
    let a = open_as(&env, verifier_as(host(), &[&other_vendor()]));
    a.deallocate(Target::User("alice"), &[SUPERVISOR]).unwrap();
    a.deallocate(Target::User("alice"), &[CLIENT]).unwrap();
    assert_eq!(env.reopen().check().unwrap(), Vec::<String>::new());
}

#[test]
fn licadmin_refuses_a_clock_set_back_behind_the_stores_latest_time_seen() {
    let env = env(&file(&[(CLIENT, 10, 0)], Rules::default()));
    let vendor_pub = write_pub(&env, "vendor.pub", &vendor());
    assert_eq!(
        code(&licadmin(&env, &[&vendor_pub], host(), &["report"])),
        0
    );
    env.alloc.add_user("x", Method::Assignable, None).unwrap();
    // The store saw a time two days ahead of this clock (the clock was set back since).
    let ahead = Timestamp::now().plus_days(2).unix();
    store_sqlite::open_raw(env.path())
        .unwrap()
        .execute("UPDATE store_state SET latest_seen = ?1", [ahead])
        .unwrap();
    for args in [&["report"][..], &["allocate", "--user", "x", CLIENT]] {
        let o = licadmin(&env, &[&vendor_pub], host(), args);
        assert_eq!(
            code(&o),
            14,
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("set back"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let f = env.dir.path().join("next.i3lic");
    std::fs::write(&f, file(&[(CLIENT, 12, 0)], Rules::default())).unwrap();
    let o = licadmin(&env, &[&vendor_pub], host(), &["load", f.to_str().unwrap()]);
    assert_eq!(code(&o), 14, "{}", String::from_utf8_lossy(&o.stderr));
    // One day ahead is within the tolerance.
    let ahead = Timestamp::now().plus_secs(23 * 3600).unix();
    store_sqlite::open_raw(env.path())
        .unwrap()
        .execute("UPDATE store_state SET latest_seen = ?1", [ahead])
        .unwrap();
    assert_eq!(
        code(&licadmin(&env, &[&vendor_pub], host(), &["report"])),
        0
    );
}

#[test]
fn retarget_takes_one_or_two_hosts_and_at_least_one_key_and_check_sees_a_wrong_signer() {
    let env = env(&file(&[(CLIENT, 10, 0)], Rules::default()));
    let third = HostId::from_components(&Components {
        machine_id: Some("0123456789abcdef0123456789abcdef".into()),
        macs: vec![[0x02, 0x99, 0x88, 0x77, 0x66, 0x55]],
        ..Default::default()
    })
    .unwrap();
    let key = vendor().public_key().clone();
    for (hosts, keys) in [
        (vec![], vec![key.clone()]),
        (vec![host(), other_host(), third], vec![key.clone()]),
        (vec![host()], vec![]),
    ] {
        let e = env.alloc.retarget(&hosts, &keys).unwrap_err();
        assert_eq!((e.exit_code(), e.kind()), (3, "invalid-input"), "{e}");
    }
    assert_eq!(env.alloc.identity().unwrap().log.len(), 1, "nothing logged");
    // The signer kept beside the stored file must be the one that signed it.
    store_sqlite::open_raw(env.path())
        .unwrap()
        .execute(
            "UPDATE license SET signer_key = ?1",
            [other_vendor().public_key().to_text("x")],
        )
        .unwrap();
    let problems = env.reopen().check().unwrap();
    assert!(
        problems.iter().any(|p| p.contains("did not sign it")),
        "{problems:?}"
    );
}

/// A heartbeat uses the license as a logon does: with the file expired, or the clock set back
/// behind the store's latest time seen, the lease is not renewed (13, 14) and the session
/// lapses, so its seat comes back.
#[test]
fn a_heartbeat_is_refused_once_the_file_expired_or_the_clock_was_set_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = location(dir.path());
    let now = Timestamp::now();
    let at = |t: Timestamp| {
        Allocator::open_at(&path, verifier().at(t), Arc::new(allocation::SystemClock)).unwrap()
    };
    let then = at(now.plus_days(-2));
    then.load(expired_file().as_bytes()).unwrap();
    then.add_user("alice", Method::Assignable, None).unwrap();
    then.allocate(Target::User("alice"), &[CLIENT]).unwrap();
    let session = then.login("alice", Place::Nowhere, None).unwrap();
    then.heartbeat(&session.id).unwrap();
    // Today the file has expired.
    let e = at(now).heartbeat(&session.id).unwrap_err();
    assert_eq!(e.exit_code(), 13, "{e}");
    // A change today records today as seen; then the clock set back to when the file was
    // valid is refused as set back.
    at(now).add_user("bob", Method::Assignable, None).unwrap();
    let e = at(now.plus_days(-2)).heartbeat(&session.id).unwrap_err();
    assert_eq!((e.exit_code(), e.kind()), (14, "clock-set-back"), "{e}");
}

/// The store trusts whole keys, not key ids: a file is checked again with the key the store
/// holds under its signer's id, so a key that only shared the 8-byte id would be refused (11).
/// Shown by putting another key's text under the vendor's id in the store.
#[test]
fn a_file_is_checked_with_the_whole_key_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alloc.db");
    let alloc = Allocator::open(&path, verifier()).unwrap();
    alloc
        .load(file(&[(CLIENT, 5, 0)], Rules::default()).as_bytes())
        .unwrap();
    drop(alloc);
    let id = vendor().public_key().key_id().to_string();
    let n = store_sqlite::open_raw(&path)
        .unwrap()
        .execute(
            "UPDATE store_keys SET public_key = ?1 WHERE key_id = ?2",
            [other_vendor().public_key().to_text(&id), id],
        )
        .unwrap();
    assert_eq!(n, 1);
    let e = Allocator::open(&path, verifier())
        .unwrap()
        .load(file(&[(CLIENT, 6, 0)], Rules::default()).as_bytes())
        .unwrap_err();
    assert_eq!(
        (e.exit_code(), e.kind()),
        (11, "store-untrusted-key"),
        "{e}"
    );
}

postgres_too!(
    an_older_generation_stays_refused_after_a_load_of_another_lineage,
    a_clock_set_back_beyond_the_tolerance_is_refused,
    a_heartbeat_is_refused_once_the_file_expired_or_the_clock_was_set_back,
);
