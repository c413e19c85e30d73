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
