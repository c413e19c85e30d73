//! Replays every file of the release-receipt fuzz corpora (`fuzz/corpus/receipt/` and
//! `fuzz/corpus/receipt_facts/`) through the same checks the fuzz targets run, so inputs
//! found by fuzzing keep being tested by `cargo test`. The hand-made seeds (`seed-*`) are
//! written by `cargo test -p i3lic-format --test fuzz_receipt_corpus -- --ignored write_seeds`.

use std::fs;
use std::path::PathBuf;

use format::receipt::{Receipt, ReleaseFacts};
use format::SecretKey;

#[path = "../fuzz/fuzz_targets/receipt_checks.rs"]
mod receipt_checks;

fn dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir(target))
        .unwrap_or_else(|e| panic!("{}: {e}", dir(target).display()))
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
fn receipt_corpus_replays_without_panic() {
    let key = receipt_checks::receipt_key();
    let files = corpus("receipt");
    assert!(
        files.len() >= 10,
        "the receipt corpus has {} files",
        files.len()
    );
    let mut verified = 0;
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| receipt_checks::check_receipt(bytes, &key));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        verified += usize::from(
            std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| Receipt::parse(t).ok())
                .is_some_and(|r| r.verify(key.public_key()).is_ok()),
        );
    }
    // The corpus must keep reaching the checks of a receipt that verifies.
    assert!(verified >= 3, "only {verified} corpus receipts verify");
}

#[test]
fn receipt_facts_corpus_replays_without_panic() {
    let key = receipt_checks::receipt_key();
    let files = corpus("receipt_facts");
    assert!(
        files.len() >= 10,
        "the receipt_facts corpus has {} files",
        files.len()
    );
    for (path, bytes) in &files {
        let outcome = std::panic::catch_unwind(|| receipt_checks::check_facts(bytes, &key));
        assert!(outcome.is_ok(), "{} panicked", path.display());
    }
}

/// The receipt of docs/FORMAT.md section 20 verifies with the fixed key, so the seeds and the
/// checks' defaults are the documented ones.
#[test]
fn the_defaults_are_the_documented_receipt() {
    let key = receipt_checks::receipt_key();
    let doc =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/FORMAT.md"))
            .expect("docs/FORMAT.md");
    let r = Receipt::parse(&documented_receipt(&doc)).expect("the documented receipt parses");
    r.verify(key.public_key()).expect("and verifies");
    let lines: Vec<String> = receipt_checks::HEADERS
        .iter()
        .zip(receipt_checks::DEFAULTS)
        .map(|(n, v)| format!("{n}: {v}\n"))
        .collect();
    let mut signed = format::receipt::RECEIPT_CONTEXT.to_vec();
    signed.extend_from_slice(lines.concat().as_bytes());
    assert_eq!(r.signed_bytes(), signed.as_slice());
}

/// The receipt example of docs/FORMAT.md section 20 (the second receipt text block).
fn documented_receipt(doc: &str) -> String {
    let begin = format!("```text\n{}", format::receipt::RECEIPT_BEGIN);
    let at = doc
        .match_indices(&begin)
        .nth(1)
        .map(|(i, _)| i + "```text\n".len())
        .expect("the receipt example");
    let end = doc[at..].find("```").expect("its end") + at;
    doc[at..end].to_string()
}

fn facts(generation: u32, host: &str) -> ReleaseFacts {
    ReleaseFacts {
        file_id: receipt_checks::DEFAULTS[1].parse().expect("file id"),
        lineage: receipt_checks::DEFAULTS[2].parse().expect("lineage"),
        generation,
        host_id: host.parse().expect("host"),
        released_at: receipt_checks::DEFAULTS[5].parse().expect("time"),
    }
}

/// Writes the hand-made seeds: receipts (the documented one, others signed with the fixed key
/// and with another, a strong host, generation 0 and the largest, CRLF, a byte-order mark,
/// blank lines around, cut short, a value out of its spelling, a flipped signature) and the
/// header values the facts target signs.
#[test]
#[ignore = "writes the seed files; run by hand"]
fn write_seeds() {
    let key = receipt_checks::receipt_key();
    let other = SecretKey::from_seed(&[0x11; 32]);
    let strong = "2Q2H4-74BA6-JQBB1-KMZKW-HY4W2-WE9XD-V8KFM-BKSWP-A0000-00000-0000K-ZWJ4T";
    let short = receipt_checks::DEFAULTS[4];
    let doc =
        fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/FORMAT.md"))
            .expect("docs/FORMAT.md");
    let documented = documented_receipt(&doc);
    let strong_receipt = Receipt::sign(&facts(0, strong), &key);
    let mut flipped = documented.clone().into_bytes();
    let sig_at = documented
        .find("-----BEGIN I3LIC SIGNATURE-----\n")
        .expect("sig")
        + 33;
    flipped[sig_at] = if flipped[sig_at] == b'A' { b'B' } else { b'A' };
    let receipts = [
        ("documented", documented.clone()),
        ("strong", strong_receipt.clone()),
        (
            "max-generation",
            Receipt::sign(&facts(u32::MAX, short), &key),
        ),
        ("other-key", Receipt::sign(&facts(3, strong), &other)),
        ("crlf", documented.replace('\n', "\r\n")),
        ("bom-blanks", format!("\u{feff}\n \n{documented}\n\t\n")),
        ("trailing-blanks", documented.replace('\n', " \t\n")),
        ("cut", documented[..documented.len() - 40].to_string()),
        ("no-final-lf", documented.trim_end().to_string()),
        ("upper-hex", documented.replace("5e1f0c2b", "5E1F0C2B")),
        (
            "generation-03",
            documented.replace("Generation: 3", "Generation: 03"),
        ),
        (
            "format-2",
            documented.replace("i3lic-release/1", "i3lic-release/2"),
        ),
        (
            "flipped-signature",
            String::from_utf8(flipped).expect("ASCII"),
        ),
        ("text-after", format!("{documented}more\n")),
    ];
    fs::create_dir_all(dir("receipt")).expect("corpus dir");
    for (name, text) in receipts {
        fs::write(dir("receipt").join(format!("seed-{name}")), text).expect("write seed");
    }
    let other_hex = format::install_key::to_hex(other.public_key());
    let values = |changes: &[(usize, &str)]| {
        let mut v = receipt_checks::DEFAULTS.map(str::to_string);
        for (i, s) in changes {
            v[*i] = s.to_string();
        }
        v.join("\n")
    };
    let facts_seeds = [
        ("documented", values(&[])),
        ("strong", values(&[(4, strong), (3, "0")])),
        ("max-generation", values(&[(3, "4294967295")])),
        ("other-key", values(&[(6, &other_hex)])),
        ("generation-overflow", values(&[(3, "4294967296")])),
        ("generation-plus", values(&[(3, "+3")])),
        (
            "upper-hex",
            values(&[(1, "5E1F0C2B7D9A4410863FE2510BC49728")]),
        ),
        ("lower-host", values(&[(4, &short.to_lowercase())])),
        ("time-offset", values(&[(5, "2026-12-07T17:00:00+00:00")])),
        ("leap-day", values(&[(5, "2028-02-29T23:59:59Z")])),
        ("small-order-key", values(&[(6, &"0".repeat(64))])),
        ("trailing-blank", values(&[(3, "3 ")])),
        ("format-only", "i3lic-release/1".to_string()),
    ];
    fs::create_dir_all(dir("receipt_facts")).expect("corpus dir");
    for (name, text) in facts_seeds {
        fs::write(dir("receipt_facts").join(format!("seed-{name}")), text).expect("write seed");
    }
}
