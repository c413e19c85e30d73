//! A file loaded by another process reaches an allocator at its next operation; one that
//! does not verify on its host is set aside by a server (which keeps the license it had and
//! says why) and reported as an error by anything else.

mod common;

use std::sync::Arc;

use allocation::{Allocator, SystemClock};
use common::*;
use format::{sign, Chain, Host, Rules};
use hostid::{Components, HostId};
use verify::{HostSource, TrustStore, Verifier};

fn host_b() -> HostId {
    HostId::from_components(&Components {
        machine_id: Some("ffffffffffffffffffffffffffffffff".into()),
        macs: vec![[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]],
        ..Default::default()
    })
    .unwrap()
}

fn as_host(env: &Env, host: HostId) -> Allocator {
    let v = Verifier::for_product(
        TrustStore::new([vendor().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host));
    Allocator::open_at(&location(env.dir.path()), v, Arc::new(SystemClock)).unwrap()
}

/// The next generation after `previous` (generation `generation - 1`, lineage `lineage`),
/// for the primary host and `switchover`.
fn next(
    lineage: format::FileId,
    previous: format::FileId,
    generation: u32,
    switchover: Option<HostId>,
    pooled: u32,
) -> (String, format::FileId) {
    let mut a = activation(&[(CLIENT, 0, pooled)], Rules::default());
    a.chain = Some(Chain {
        lineage,
        generation,
    });
    a.supersedes = Some(previous);
    a.switchover_host = switchover.map(|h| Host::new(h, "ic2"));
    (sign(&a, &vendor()).unwrap(), a.file_id)
}

#[test]
fn a_server_keeps_its_license_when_the_new_file_does_not_name_its_host() {
    let mut first = activation(&[(CLIENT, 0, 3)], Rules::default());
    first.switchover_host = Some(Host::new(host_b(), "ic2"));
    let env = env(&sign(&first, &vendor()).unwrap());
    let server = as_host(&env, host_b());
    server.keep_license_on_failure();
    let command = as_host(&env, host_b());
    assert_eq!(server.license().unwrap().file_id(), first.file_id);
    // Loaded on the primary: both hosts named, the server uses it at once.
    let (both, both_id) = next(first.file_id, first.file_id, 2, Some(host_b()), 5);
    env.alloc.load(both.as_bytes()).unwrap();
    assert_eq!(server.license().unwrap().file_id(), both_id);
    // The store serves the primary alone now, and takes a file for it alone.
    env.alloc
        .retarget(&[host()], &[vendor().public_key().clone()])
        .unwrap();
    let (alone, alone_id) = next(first.file_id, both_id, 3, None, 7);
    env.alloc.load(alone.as_bytes()).unwrap();
    assert_eq!(env.alloc.license().unwrap().file_id(), alone_id);
    // The switchover server keeps the file it had, and says why.
    assert_eq!(server.license().unwrap().file_id(), both_id);
    let why = server.refused_load().expect("a reason");
    assert!(why.contains("exit 12"), "{why}");
    assert!(why.contains(&host_b().to_string()), "{why}");
    let report = server.report().unwrap();
    let k = report.keys.iter().find(|k| k.name == CLIENT).unwrap();
    assert_eq!(k.concurrent_allowed, 5);
    // A command on that host keeps nothing: the stored file's error.
    let e = command.license().unwrap_err();
    assert_eq!(e.exit_code(), 12, "{e}");
    assert!(command.refused_load().is_none());
    // The pair named again: the server uses the new file, nothing is set aside.
    env.alloc
        .retarget(&[host(), host_b()], &[vendor().public_key().clone()])
        .unwrap();
    let (again, again_id) = next(first.file_id, alone_id, 4, Some(host_b()), 9);
    env.alloc.load(again.as_bytes()).unwrap();
    assert_eq!(server.license().unwrap().file_id(), again_id);
    assert!(server.refused_load().is_none());
}

postgres_too!(a_server_keeps_its_license_when_the_new_file_does_not_name_its_host);
