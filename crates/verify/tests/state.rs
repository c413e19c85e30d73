//! The state file across a server's life: newer files, rollbacks, clock steps.

mod common;

use format::{Activation, Timestamp};
use verify::{
    HostSource, StateFile, TrustStore, Verifier, VerifyError, DEFAULT_CLOCK_TOLERANCE_SECS,
};

use common::*;

fn verifier(state: &StateFile, at: Timestamp) -> Verifier {
    Verifier::for_product(
        TrustStore::new([vendor_key().public_key().clone()]).unwrap(),
        "CIC",
        "4.0",
    )
    .host(HostSource::Code(host_a()))
    .at(at)
    .state_file(state.clone())
}

fn file(n: u8, issued: &str, supersedes: Option<u8>) -> Vec<u8> {
    let a = Activation {
        file_id: file_id(n),
        supersedes: supersedes.map(file_id),
        issued_at: ts(issued),
        valid_from: ts(issued),
        ..base()
    };
    signed(&a, &vendor_key()).into_bytes()
}

#[test]
fn newer_files_are_accepted_and_rollbacks_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let f1 = file(1, "2024-01-01T00:00:00Z", None);
    let f2 = file(2, "2024-02-01T00:00:00Z", Some(1));
    let f3 = file(3, "2024-01-15T00:00:00Z", None);
    let at = ts("2024-03-01T00:00:00Z");

    verifier(&sf, at).load(&f1).unwrap();
    let st = sf.read().unwrap().unwrap();
    assert_eq!(st.newest().unwrap().file_id, file_id(1));
    assert_eq!(st.latest_seen(), at);

    // The same file again is fine (a restart).
    verifier(&sf, at).load(&f1).unwrap();
    // A newer file that supersedes it.
    verifier(&sf, at).load(&f2).unwrap();
    let st = sf.read().unwrap().unwrap();
    assert_eq!(st.newest().unwrap().file_id, file_id(2));
    assert_eq!(st.superseded(), &[file_id(1)]);

    // The superseded file, and an older unrelated file, are refused; state unchanged.
    let before = std::fs::read(sf.path()).unwrap();
    assert!(matches!(
        verifier(&sf, at).load(&f1),
        Err(VerifyError::Superseded { file_id: id }) if id == file_id(1)
    ));
    match verifier(&sf, at).load(&f3) {
        Err(VerifyError::OlderFile {
            file_id: id,
            newest_id,
            ..
        }) => {
            assert_eq!(id, file_id(3));
            assert_eq!(newest_id, file_id(2));
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(std::fs::read(sf.path()).unwrap(), before);
    // Exit codes: rollback has its own.
    assert_eq!(verifier(&sf, at).load(&f3).unwrap_err().exit_code(), 16);
}

#[test]
fn a_clock_set_back_is_refused_beyond_the_tolerance_only() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let f = file(1, "2024-01-01T00:00:00Z", None);
    let seen = ts("2024-12-31T00:00:00Z");
    verifier(&sf, seen).load(&f).unwrap();

    // 12 hours back: accepted, and judged at the latest time seen.
    let l = verifier(&sf, seen.plus_secs(-12 * 3600)).load(&f).unwrap();
    assert_eq!(l.checked_at(), seen);
    // Exactly the tolerance back: accepted.
    verifier(&sf, seen.plus_secs(-DEFAULT_CLOCK_TOLERANCE_SECS))
        .load(&f)
        .unwrap();
    // A second more: refused, with both times named.
    match verifier(&sf, seen.plus_secs(-DEFAULT_CLOCK_TOLERANCE_SECS - 1)).load(&f) {
        Err(e @ VerifyError::ClockSetBack { .. }) => {
            assert_eq!(e.exit_code(), 14);
            if let VerifyError::ClockSetBack { latest_seen, .. } = e {
                assert_eq!(latest_seen, seen);
            }
        }
        r => panic!("{r:?}"),
    }
    // Setting the clock back cannot stretch an expiry: the file expires 2025-01-01 with 30
    // days of grace; once 2025-02-15 was seen, a clock at 2025-02-14 still finds it expired.
    let late = ts("2025-02-15T00:00:00Z");
    assert!(matches!(
        verifier(&sf, late).load(&f),
        Err(VerifyError::Expired { .. })
    ));
    verifier(&sf, late).record_time().unwrap();
    assert!(matches!(
        verifier(&sf, late.plus_secs(-86_000)).load(&f),
        Err(VerifyError::Expired { now, .. }) if now == late
    ));
    // A custom tolerance, named as it is in the message (not as a '0-hour' one).
    let strict = sf.clone().with_tolerance_secs(60);
    let v = verifier(&strict, late.plus_secs(-61));
    let e = v.record_time().unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::ClockSetBack {
                tolerance_secs: 60,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("the 60-second tolerance"), "{e}");
}

#[test]
fn a_corrupt_state_file_is_an_error_not_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    std::fs::write(sf.path(), b"\x00\x01garbage").unwrap();
    let f = file(1, "2024-01-01T00:00:00Z", None);
    let e = verifier(&sf, mid()).load(&f).unwrap_err();
    assert!(matches!(e, VerifyError::StateCorrupt { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 3);
    assert_eq!(std::fs::read(sf.path()).unwrap(), b"\x00\x01garbage");
}

#[test]
fn an_unwritable_state_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("missing-folder").join("state.json"));
    let f = file(1, "2024-01-01T00:00:00Z", None);
    let e = verifier(&sf, mid()).load(&f).unwrap_err();
    assert!(matches!(e, VerifyError::StateIo { .. }), "{e:?}");
    assert_eq!(e.exit_code(), 4);
}

#[test]
fn read_only_state_checks_without_recording() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let f = file(1, "2024-01-01T00:00:00Z", None);
    verifier(&sf, mid()).state_read_only().load(&f).unwrap();
    assert!(sf.read().unwrap().is_none());
}

#[test]
fn record_time_on_another_thread_never_loses_an_accepted_file() {
    // A server records the time from a timer thread while an administrator's reload runs on
    // another: each is a read-modify-write of the same state file, and an interleaving that
    // writes back a stale read would forget the newest file (and what it superseded), so an
    // older file would be accepted again.
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let at = ts("2024-06-01T00:00:00Z");
    let files: Vec<Vec<u8>> = (1..=40u8)
        .map(|n| {
            let issued = Timestamp::from_unix(ts("2024-01-01T00:00:00Z").unix() + i64::from(n))
                .unwrap()
                .to_string();
            file(n, &issued, (n > 1).then(|| n - 1))
        })
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let v = verifier(&sf, at);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                v.record_time().unwrap();
            }
        });
        let v = verifier(&sf, at);
        for f in &files {
            v.load(f).unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let st = sf.read().unwrap().unwrap();
    assert_eq!(st.newest().unwrap().file_id, file_id(40));
    assert_eq!(st.superseded(), (1..40u8).map(file_id).collect::<Vec<_>>());
}

/// The uid this test runs as (the owner of a file it creates).
#[cfg(unix)]
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    let f = tempfile::tempfile().unwrap();
    f.metadata().unwrap().uid()
}

#[cfg(unix)]
fn owner_and_mode(p: &std::path::Path) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.uid(), m.gid(), m.mode() & 0o7777)
}

/// The server runs as its own user; root runs the documented `licverify --state` check. The
/// rewrite used to leave the state file `root:root 0600`, and the server's next load failed
/// with "Permission denied". It keeps the file's owner, group and mode.
#[cfg(unix)]
#[test]
fn a_rewrite_keeps_the_state_files_owner_group_and_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    verifier(&sf, ts("2024-03-01T00:00:00Z"))
        .load(&file(1, "2024-01-01T00:00:00Z", None))
        .unwrap();
    // A new state file is private to its writer.
    let me = current_uid();
    assert_eq!(owner_and_mode(sf.path()).2, 0o600);
    if me != 0 {
        eprintln!("note: skipped the owner part: giving a file to nobody needs root");
        return;
    }
    std::os::unix::fs::chown(sf.path(), Some(65534), Some(65534)).unwrap();
    std::fs::set_permissions(sf.path(), std::fs::Permissions::from_mode(0o640)).unwrap();
    // No lock file yet (the server has not updated it): the one root creates is the
    // server's too, or the server could not take the lock any more.
    std::fs::remove_file(sf.lock_path()).unwrap();
    let before = std::fs::read(sf.path()).unwrap();
    verifier(&sf, ts("2024-03-02T00:00:00Z"))
        .load(&file(2, "2024-02-01T00:00:00Z", Some(1)))
        .unwrap();
    assert_ne!(std::fs::read(sf.path()).unwrap(), before, "not rewritten");
    assert_eq!(owner_and_mode(sf.path()), (65534, 65534, 0o640));
    assert_eq!(owner_and_mode(&sf.lock_path()), (65534, 65534, 0o600));
    assert_eq!(
        sf.read().unwrap().unwrap().newest().unwrap().file_id,
        file_id(2)
    );
}

/// A user who may write the folder but cannot give the new file the old one's owner (not
/// root) writes nothing, and says why, rather than take the state file over.
#[cfg(unix)]
#[test]
fn a_rewrite_that_cannot_keep_the_owner_writes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;
    if current_uid() != 0 {
        eprintln!(
            "note: skipped: running a check as another user than the file's owner needs root"
        );
        return;
    }
    let setpriv = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    if !Command::new("setpriv")
        .args(setpriv)
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("note: skipped: setpriv cannot run a command as nobody here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    verifier(&sf, ts("2024-03-01T00:00:00Z"))
        .load(&file(1, "2024-01-01T00:00:00Z", None))
        .unwrap();
    std::fs::set_permissions(sf.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    // The lock file is shared here, so only the owner stands in the way.
    std::fs::set_permissions(sf.lock_path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let before = std::fs::read(sf.path()).unwrap();
    let f2 = dir.path().join("f2.i3lic");
    let perpetual = Activation {
        file_id: file_id(2),
        supersedes: Some(file_id(1)),
        issued_at: ts("2024-02-01T00:00:00Z"),
        valid_from: ts("2024-02-01T00:00:00Z"),
        expires_at: Timestamp::PERPETUAL,
        ..base()
    };
    std::fs::write(&f2, signed(&perpetual, &vendor_key())).unwrap();
    let trust = dir.path().join("vendor.pub");
    std::fs::write(&trust, vendor_key().public_key().to_text("vendor")).unwrap();
    let bin = dir.path().join("licverify");
    std::fs::copy(env!("CARGO_BIN_EXE_licverify"), &bin).unwrap();
    for p in [&f2, &trust, &bin] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = Command::new("setpriv")
        .args(setpriv)
        .arg(&bin)
        .arg(&f2)
        .arg("--trust")
        .arg(&trust)
        .args(["--host-id", &host_a().to_string(), "--state"])
        .arg(sf.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("owner 0:0") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(std::fs::read(sf.path()).unwrap(), before);
    assert_eq!(owner_and_mode(sf.path()), (0, 0, 0o644));
}

/// A state path that is a symbolic link used to be read through the link and then replaced
/// by a regular file on the first write, leaving the link's target stale (and a dangling
/// link let the write create a file wherever it pointed). Links are refused, for the state
/// file and its lock file, by updates and read-only checks alike, and left as they are.
#[cfg(unix)]
#[test]
fn a_state_path_that_is_a_symbolic_link_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let at = ts("2024-03-01T00:00:00Z");
    let f1 = file(1, "2024-01-01T00:00:00Z", None);
    let target = dir.path().join("real-state.json");
    let link = dir.path().join("state.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let through_link = StateFile::new(&link);
    let refused =
        |r: Result<verify::License, VerifyError>, what: &str, path: &std::path::Path| match r {
            Err(
                e @ VerifyError::NotRegularFile {
                    what: w,
                    file_type: "a symbolic link",
                    ..
                },
            ) => {
                assert_eq!(w, what);
                assert_eq!(e.exit_code(), 4);
                assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
            other => panic!("{other:?}"),
        };
    // Dangling: nothing is created where it points.
    refused(verifier(&through_link, at).load(&f1), "state file", &link);
    assert!(!target.exists());
    // Pointing at a real state file: neither is changed, by an update or a check.
    verifier(&StateFile::new(&target), at).load(&f1).unwrap();
    let before = std::fs::read(&target).unwrap();
    refused(verifier(&through_link, at).load(&f1), "state file", &link);
    refused(
        verifier(&through_link, at).state_read_only().load(&f1),
        "state file",
        &link,
    );
    assert_eq!(std::fs::read(&target).unwrap(), before);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    // A lock file that is a link.
    let sf = StateFile::new(dir.path().join("other.json"));
    let elsewhere = dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, sf.lock_path()).unwrap();
    refused(
        verifier(&sf, at).load(&f1),
        "state lock file",
        &sf.lock_path(),
    );
    assert!(!elsewhere.exists() && !sf.path().exists());
}

/// A member given twice, at the top or in a nested object, is `state-corrupt` (FORMAT.md
/// 13.4): which of the two counts would be a guess, and a guess could undo a rollback record.
/// The file is left as it is.
#[test]
fn a_state_member_given_twice_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let sf = StateFile::new(dir.path().join("state.json"));
    let at = ts("2024-03-01T00:00:00Z");
    let f1 = file(1, "2024-01-01T00:00:00Z", None);
    verifier(&sf, at).load(&f1).unwrap();
    let good = std::fs::read_to_string(sf.path()).unwrap();
    let id = file_id(1).to_string();
    let twice = [
        good.replacen(
            "\"latest_seen\":",
            "\"latest_seen\": \"2020-01-01T00:00:00Z\",\n  \"latest_seen\":",
            1,
        ),
        good.replacen(
            "\"superseded\":",
            "\"superseded\": [],\n  \"superseded\":",
            1,
        ),
        good.replacen(
            &format!("\"file_id\": \"{id}\""),
            &format!("\"file_id\": \"{id}\", \"file_id\": \"{id}\""),
            1,
        ),
    ];
    for text in twice {
        assert_ne!(text, good);
        std::fs::write(sf.path(), &text).unwrap();
        match verifier(&sf, at).load(&f1) {
            Err(e @ VerifyError::StateCorrupt { .. }) => {
                assert_eq!(e.exit_code(), 3);
                assert!(e.to_string().contains("duplicate field"), "{e}");
            }
            other => panic!("{text}: {other:?}"),
        }
        assert_eq!(std::fs::read_to_string(sf.path()).unwrap(), text);
    }
}

/// A state path that is a FIFO (or a device, `--state /dev/null`) is refused before an update
/// takes its lock: no `.lock` file is made beside it (as root, `/dev/null.lock` in `/dev`).
#[cfg(unix)]
#[test]
fn a_state_path_that_is_not_a_regular_file_gets_no_lock_file_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let at = ts("2024-03-01T00:00:00Z");
    let fifo = dir.path().join("state.json");
    if !std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("note: skipped: mkfifo is not available");
        return;
    }
    let sf = StateFile::new(&fifo);
    match verifier(&sf, at).load(&file(1, "2024-01-01T00:00:00Z", None)) {
        Err(
            e @ VerifyError::NotRegularFile {
                what: "state file", ..
            },
        ) => assert_eq!(e.exit_code(), 4),
        other => panic!("{other:?}"),
    }
    assert!(!sf.lock_path().exists(), "a lock file was made beside it");
}
