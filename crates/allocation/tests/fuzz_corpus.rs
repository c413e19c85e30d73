//! Replays every file of the fuzz corpus (`fuzz/corpus/store/`) through the same checks the
//! fuzz target runs, so inputs found by fuzzing keep being tested by `cargo test`.

use std::fs;
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

#[test]
fn store_corpus_replays() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/store");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "the store corpus has {} files",
        files.len()
    );
    let fixture = checks::Fixture::new();
    for path in &files {
        let bytes = fs::read(path).expect("read corpus file");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            checks::check(&fixture, &bytes)
        }));
        assert!(outcome.is_ok(), "{} failed", path.display());
    }
}
