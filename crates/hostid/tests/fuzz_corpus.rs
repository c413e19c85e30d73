//! Replays every file of the fuzz corpus (`fuzz/corpus/code/`) through the same checks the
//! fuzz target runs, so inputs found by fuzzing keep being tested by `cargo test`.

use std::fs;
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

#[test]
fn code_corpus_replays_without_panic() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/code");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the code corpus has {} files",
        files.len()
    );
    let mut accepted = 0;
    let mut strong = 0;
    for path in &files {
        let bytes = fs::read(path).expect("read corpus file");
        let outcome = std::panic::catch_unwind(|| checks::check_code(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        if let Some(id) = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.parse::<hostid::HostId>().ok())
        {
            accepted += 1;
            strong += usize::from(id.form() == hostid::CodeForm::Strong);
        }
    }
    // The corpus must keep reaching the accepted-code checks, not only the refusals.
    assert!(accepted >= 5, "only {accepted} corpus codes parse");
    assert!(
        strong >= 5,
        "only {strong} corpus codes parse as strong codes"
    );
}
