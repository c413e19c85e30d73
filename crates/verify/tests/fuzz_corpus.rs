//! Replays every file of the fuzz corpus (`fuzz/corpus/state/`) through the same checks the
//! fuzz target runs, so inputs found by fuzzing keep being tested by `cargo test`.

use std::fs;
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

#[test]
fn state_corpus_replays_without_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/state");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 15,
        "the state corpus has {} files",
        files.len()
    );
    let dir = checks::state_dir();
    let probe = tempfile::tempdir().expect("temporary folder");
    let mut readable = 0;
    for path in &files {
        let bytes = fs::read(path).expect("read corpus file");
        let outcome = std::panic::catch_unwind(|| checks::check_state(dir.path(), &bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        let copy = probe.path().join("state.json");
        fs::write(&copy, &bytes).expect("write");
        readable += usize::from(matches!(verify::StateFile::new(&copy).read(), Ok(Some(_))));
    }
    // The corpus must keep reaching the load-against-state checks, not only the refusals.
    assert!(readable >= 8, "only {readable} corpus state files read");
}
