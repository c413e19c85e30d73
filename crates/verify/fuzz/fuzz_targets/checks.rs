//! The checks each fuzz input goes through. Shared by the fuzz target and by the crate's
//! corpus-replay test (`tests/fuzz_corpus.rs`), so a corpus file replays exactly as fuzzed.
//!
//! The state file is read through `StateFile::read` from a real file (the only way a server
//! reads it), written for each input into a private folder the caller owns ([`state_dir`]).

// The replay test uses the fixture too.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use format::{sign_v1, FileId, SecretKey, Timestamp, UnverifiedFile};
use hostid::HostId;
use verify::{HostSource, StateFile, TrustStore, Verifier, VerifyError, MAX_SUPERSEDED};

/// The verifier tests' vendor key (fixed seed, see `tests/data/README.md`).
const VENDOR_SEED: [u8; 32] = [0x11; 32];
/// The file the fixture loads is made from this committed test vector.
const VALID: &[u8] = include_bytes!("../../tests/data/valid/license.i3lic");
/// Host A of the test vectors: the loaded file's primary host.
pub const HOST_A: &str = "1Z9K8-EE16R-PK8ZV-PXR0D-E8A0B";
/// The id of the file the fixture loads.
pub const LOADED_ID: &str = "f1000000000000000000000000000004";
/// The id the loaded file supersedes.
pub const SUPERSEDED_ID: &str = "f1000000000000000000000000000001";
/// When the checks load: 2024-06-01T00:00:00Z.
pub const NOW: i64 = 1_717_200_000;

/// What every input is checked against: a signed file that supersedes another and a
/// verifier that trusts its key.
pub struct Fixture {
    file: String,
    issued_at: Timestamp,
    trust: TrustStore,
    host: HostId,
}

/// A private folder for the state file: on tmpfs when there is one (each accepted input
/// writes and syncs a state file). Removed when dropped.
pub fn state_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("i3lic-verify-fuzz-")
            .tempdir_in(shm)
    } else {
        tempfile::Builder::new()
            .prefix("i3lic-verify-fuzz-")
            .tempdir()
    };
    dir.expect("a temporary folder")
}

/// The fixture, made once per process.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = SecretKey::from_seed(&VENDOR_SEED);
        let mut a = UnverifiedFile::parse(VALID)
            .and_then(|f| f.verify(key.public_key()))
            .expect("the valid test vector verifies")
            .into_activation();
        a.file_id = LOADED_ID.parse().expect("file id");
        a.supersedes = Some(SUPERSEDED_ID.parse().expect("file id"));
        a.issued_at = "2024-05-01T00:00:00Z".parse().expect("time");
        a.valid_from = a.issued_at;
        Fixture {
            // A version-1 file: its rollback rule reads every part of the state (the newest
            // file by issuance, the superseded ids); version-2 files read the lineages.
            file: sign_v1(&a, &key).expect("the fixture file signs"),
            issued_at: a.issued_at,
            trust: TrustStore::new([key.public_key().clone()]).expect("trust store"),
            host: HOST_A.parse().expect("host A"),
        }
    })
}

/// Any bytes as a state file. Reading must return, never panic: `None` never (the file
/// exists), a corrupt file is `StateCorrupt`. A state that reads is then used for a load: it
/// is accepted and recorded (the new state reads back, keeps the latest time seen and the
/// newest file, and stays within its bounds), or refused with a rollback or clock error and
/// the state file left byte for byte as it was. The state file is removed afterwards.
pub fn check_state(dir: &Path, data: &[u8]) {
    let path = dir.join("state.json");
    std::fs::write(&path, data).expect("write the state file");
    check_state_file(&path, data);
    std::fs::remove_file(&path).expect("remove the state file");
}

fn check_state_file(path: &Path, data: &[u8]) {
    let fx = fixture();
    let sf = StateFile::new(path);
    let before = match sf.read() {
        Ok(Some(s)) => s,
        Ok(None) => panic!("an existing state file read as missing"),
        Err(VerifyError::StateCorrupt { .. }) => return,
        Err(e) => panic!("reading a state file failed with {e:?}"),
    };
    assert!(before.superseded().len() <= MAX_SUPERSEDED);
    let now = Timestamp::from_unix(NOW).expect("time");
    let verifier = Verifier::for_product(fx.trust.clone(), "CIC", "4.0")
        .host(HostSource::Code(fx.host))
        .at(now)
        .state_file(sf.clone());
    let loaded_id: FileId = LOADED_ID.parse().expect("file id");
    match verifier.load(fx.file.as_bytes()) {
        Ok(license) => {
            let after = sf
                .read()
                .expect("a recorded state reads back")
                .expect("a recorded state exists");
            assert_eq!(after.latest_seen(), before.latest_seen().max(now));
            assert!(after.superseded().len() <= MAX_SUPERSEDED);
            let newest = after.newest().expect("a load records the newest file");
            match before.newest() {
                Some(n) if n.file_id == loaded_id && n.issued_at > fx.issued_at => {
                    assert_eq!(newest, n)
                }
                _ => {
                    assert_eq!(newest.file_id, loaded_id);
                    assert_eq!(newest.issued_at, fx.issued_at);
                    assert!(after
                        .superseded()
                        .contains(&SUPERSEDED_ID.parse().expect("file id")));
                }
            }
            assert!(!before.superseded().contains(&loaded_id));
            drop(license);
            // Loading the same file again is accepted against the state just written.
            assert!(verifier.load(fx.file.as_bytes()).is_ok());
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    VerifyError::ClockSetBack { .. }
                        | VerifyError::Expired { .. }
                        | VerifyError::OlderFile { .. }
                        | VerifyError::Superseded { .. }
                ),
                "unexpected refusal: {e:?}"
            );
            let unchanged = std::fs::read(path).expect("read the state file");
            assert_eq!(unchanged, data, "a refused load changed the state file");
        }
    }
}
