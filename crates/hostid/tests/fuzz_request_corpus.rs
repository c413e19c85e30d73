//! Replays every file of the request-code fuzz corpus (`fuzz/corpus/request/`) through the
//! same checks the fuzz target runs, so inputs found by fuzzing keep being tested by
//! `cargo test`. The hand-made seeds (`seed-*`) are written by
//! `cargo test -p i3lic-hostid --test fuzz_request_corpus -- --ignored write_seeds`.

use std::fs;
use std::path::PathBuf;

use hostid::{HostId, RequestCode};

#[path = "../fuzz/fuzz_targets/request_checks.rs"]
mod request_checks;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/request")
}

#[test]
fn request_corpus_replays_without_panic() {
    let mut files: Vec<PathBuf> = fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("{}: {e}", dir().display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "the request corpus has {} files",
        files.len()
    );
    let mut accepted = 0;
    for path in &files {
        let bytes = fs::read(path).expect("read corpus file");
        let outcome = std::panic::catch_unwind(|| request_checks::check_request(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        accepted += usize::from(
            std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| t.parse::<RequestCode>().ok())
                .is_some(),
        );
    }
    // The corpus must keep reaching the accepted-code checks, not only the refusals.
    assert!(accepted >= 5, "only {accepted} corpus codes parse");
}

/// The strong host-ID codes of the `code` corpus (real and generated machines).
fn strong_hosts() -> Vec<HostId> {
    let code = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/code");
    let mut files: Vec<PathBuf> = fs::read_dir(code)
        .expect("code corpus")
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    let mut hosts: Vec<HostId> = files
        .iter()
        .filter_map(|p| fs::read_to_string(p).ok())
        .filter_map(|t| t.parse::<HostId>().ok())
        .filter(|h| h.form() == hostid::CodeForm::Strong)
        .collect();
    hosts.dedup();
    hosts
}

/// Writes the hand-made seeds of the corpus: the request code of docs/HOSTID.md section 12,
/// codes for the strong hosts of the `code` corpus, the lenient spellings a person pastes,
/// and near misses (a changed, missing or added character; a host-ID code; junk).
#[test]
#[ignore = "writes the seed files; run by hand"]
fn write_seeds() {
    let doc_key: [u8; 32] = std::array::from_fn(|i| {
        u8::from_str_radix(
            &"ed3234b276d4ceda57d59bad14fbaf5a773c0f318c999de3a60d53c5a5b34c05"[2 * i..2 * i + 2],
            16,
        )
        .expect("hex")
    });
    let keys = [
        doc_key,
        [0; 32],
        [0xff; 32],
        std::array::from_fn(|i| i as u8),
    ];
    let hosts = strong_hosts();
    assert!(hosts.len() >= 3, "{} strong hosts", hosts.len());
    let mut seeds: Vec<(String, String)> = Vec::new();
    for (h, host) in hosts.iter().take(4).enumerate() {
        for (k, key) in keys.iter().enumerate() {
            let code = RequestCode::new(*host, *key).expect("strong").to_string();
            seeds.push((format!("h{h}-k{k}"), code));
        }
    }
    let code = RequestCode::new(hosts[0], doc_key)
        .expect("strong")
        .to_string();
    let mut changed = code.clone().into_bytes();
    changed[10] = if changed[10] == b'A' { b'B' } else { b'A' };
    let near = [
        ("lower", code.to_lowercase()),
        ("spaces", code.replace('-', " ")),
        ("plain", code.replace('-', "")),
        ("padded", format!("  {code}\n")),
        ("lookalike", code.replace('0', "O").replace('1', "l")),
        ("changed", String::from_utf8(changed).expect("ASCII")),
        ("short-by-one", code[..code.len() - 1].to_string()),
        ("long-by-one", format!("{code}0")),
        ("version-4", format!("4{}", &code[1..])),
        ("host-code", hosts[0].to_string()),
        ("short-host-code", hosts[0].to_short().to_string()),
        ("bad-char", code.replace('A', "U")),
        ("empty", String::new()),
        ("too-long", "3".repeat(400)),
    ];
    seeds.extend(near.into_iter().map(|(n, c)| (n.to_string(), c)));
    fs::create_dir_all(dir()).expect("corpus dir");
    for (name, text) in seeds {
        fs::write(dir().join(format!("seed-{name}")), text).expect("write seed");
    }
}
