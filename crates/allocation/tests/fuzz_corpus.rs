//! Replays every file of the fuzz corpora (`fuzz/corpus/names/`, `fuzz/corpus/open/`) through
//! the same checks the fuzz targets run, so inputs found by fuzzing keep being tested by
//! `cargo test`.

use std::fs;
use std::path::PathBuf;

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "the {name} corpus has {} files",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read corpus file");
            (p, b)
        })
        .collect()
}

fn replay(name: &str, check: impl Fn(&[u8])) {
    for (path, bytes) in corpus(name) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(outcome.is_ok(), "{} failed", path.display());
    }
}

#[test]
fn names_corpus_replays() {
    let f = checks::Names::new();
    replay("names", |b| checks::check_names(&f, b));
}

#[test]
fn open_corpus_replays() {
    let f = checks::Open::new();
    replay("open", |b| checks::check_open(&f, b));
}
