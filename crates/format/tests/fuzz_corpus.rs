//! Replays every file of the fuzz corpus (`fuzz/corpus/{parse,payload}/`) through the same
//! checks the fuzz targets run, so inputs found by fuzzing keep being tested by `cargo test`.

use std::fs;
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read corpus file");
            (p, b)
        })
        .collect()
}

#[test]
fn parse_corpus_replays_without_panic() {
    let key = checks::fuzz_key();
    let files = corpus("parse");
    assert!(
        files.len() >= 50,
        "the parse corpus has {} files",
        files.len()
    );
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| checks::check_file(bytes, &key));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

#[test]
fn payload_corpus_replays_without_panic() {
    let key = checks::fuzz_key();
    let files = corpus("payload");
    assert!(
        files.len() >= 20,
        "the payload corpus has {} files",
        files.len()
    );
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| checks::check_payload(bytes, &key));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

#[test]
fn keys_corpus_replays_without_panic() {
    let files = corpus("keys");
    assert!(
        files.len() >= 10,
        "the keys corpus has {} files",
        files.len()
    );
    let mut public = 0;
    let mut secret = 0;
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| checks::check_keys(bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        let text = String::from_utf8_lossy(bytes);
        public += usize::from(format::PublicKey::from_text(&text).is_ok());
        secret += usize::from(format::SecretKey::from_text(&text).is_ok());
    }
    // The corpus must keep reaching the accepted-key checks of both kinds.
    assert!(
        public >= 3 && secret >= 2,
        "{public} public, {secret} secret keys parse"
    );
}
