//! The committed test vectors under `tests/vectors/`: each `NAME.expect` names the outcome of
//! checking `NAME.i3lic` (or the input its recipe describes) against the trust store
//! `key-a.pub` + `key-b.pub`. Also: every single-bit flip of a signed file is refused.

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::{key_a, key_b, sample_for, variant, vectors, vectors_dir, VERSIONS};
use format::{verify_bytes, FormatError, FormatVersion, PublicKey, UnverifiedFile};

/// The `key: value` lines of an `.expect` file.
fn expect_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn trust_store(version: FormatVersion) -> Vec<PublicKey> {
    ["key-a.pub", "key-b.pub"]
        .iter()
        .map(|f| {
            let text = fs::read_to_string(vectors_dir(version).join(f)).expect("read public key");
            PublicKey::from_text(&text).expect("public key parses")
        })
        .collect()
}

/// The input of a vector: its `.i3lic` file, or the file its recipe pads.
fn input_of(version: FormatVersion, name: &str, fields: &BTreeMap<String, String>) -> Vec<u8> {
    match (fields.get("source"), fields.get("pad-to")) {
        (Some(source), Some(pad_to)) => {
            let mut bytes =
                fs::read(vectors_dir(version).join(source)).expect("read recipe source");
            let len: usize = pad_to.parse().expect("pad-to is a number");
            assert!(bytes.len() <= len, "{name}: source longer than pad-to");
            bytes.resize(len, b'\n');
            bytes
        }
        (None, None) => fs::read(vectors_dir(version).join(format!("{name}.i3lic")))
            .unwrap_or_else(|e| panic!("{name}.i3lic: {e}")),
        _ => panic!("{name}: a recipe needs both source and pad-to"),
    }
}

#[test]
fn every_vector_has_its_expected_outcome() {
    for version in VERSIONS {
        check_vectors(version);
    }
}

fn check_vectors(version: FormatVersion) {
    let trusted = trust_store(version);
    let mut count = 0;
    let mut outcomes = BTreeMap::<String, usize>::new();
    let mut entries: Vec<_> = fs::read_dir(vectors_dir(version))
        .expect("vectors folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "expect"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let fields = expect_fields(&fs::read_to_string(&path).expect("read .expect"));
        let expect = fields
            .get("expect")
            .unwrap_or_else(|| panic!("{name}: no expect line"));
        let exit: i32 = fields
            .get("exit")
            .and_then(|e| e.parse().ok())
            .unwrap_or_else(|| panic!("{name}: no exit line"));
        let bytes = input_of(version, name, &fields);
        match verify_bytes(&bytes, &trusted) {
            Ok(verified) => {
                assert_eq!(expect, "ok", "{name}: accepted, expected {expect}");
                assert_eq!(exit, 0, "{name}");
                assert_eq!(verified.version(), version, "{name}: version");
                assert_eq!(
                    verified.activation(),
                    &sample_for(version),
                    "{name}: contents differ"
                );
            }
            Err(e) => {
                assert_eq!(variant(&e), expect, "{name}: got {e:?}");
                assert_eq!(e.exit_code(), exit, "{name}: exit code of {e:?}");
            }
        }
        *outcomes.entry(expect.clone()).or_default() += 1;
        count += 1;
    }
    assert_eq!(
        count,
        vectors(version).len(),
        "every generated vector of {version} is committed"
    );
    for needed in [
        "ok",
        "SignatureInvalid",
        "UntrustedKey",
        "Truncated",
        "Empty",
        "TooLarge",
        "UnsupportedVersion",
        "NotUtf8",
        "UnknownField",
        "MissingSection",
        "DuplicateSection",
    ] {
        assert!(
            outcomes.contains_key(needed),
            "no {version} vector expects {needed}"
        );
    }
}

#[test]
fn committed_vectors_are_what_the_generator_makes() {
    for version in VERSIONS {
        committed_vectors_of(version);
    }
}

fn committed_vectors_of(version: FormatVersion) {
    let dir = vectors_dir(version);
    for v in vectors(version) {
        let expect = fs::read_to_string(dir.join(format!("{}.expect", v.name)))
            .unwrap_or_else(|e| panic!("{}.expect: {e}", v.name));
        assert_eq!(expect, v.expect_text(), "{}.expect is stale", v.name);
        let path = dir.join(format!("{}.i3lic", v.name));
        match &v.bytes {
            Some(b) => assert_eq!(
                &fs::read(&path).expect("read vector"),
                b,
                "{} is stale",
                v.name
            ),
            None => assert!(
                !path.exists(),
                "{} is made by the test, not committed",
                v.name
            ),
        }
    }
    for (file, key) in [("key-a.pub", key_a()), ("key-b.pub", key_b())] {
        let text = fs::read_to_string(dir.join(file)).expect("read key");
        assert_eq!(
            text,
            key.public_key().to_text(file.trim_end_matches(".pub"))
        );
    }
}

/// Rewrites `tests/vectors/` and `tests/vectors-v2/` from the generator in
/// `tests/common/mod.rs`: `cargo test -p i3lic-format --test vectors -- --ignored regenerate`.
#[test]
#[ignore = "writes the committed vectors; run by hand after changing the generator"]
fn regenerate() {
    for version in VERSIONS {
        regenerate_version(version);
    }
}

fn regenerate_version(version: FormatVersion) {
    let dir = vectors_dir(version);
    fs::create_dir_all(&dir).expect("create vectors folder");
    for entry in fs::read_dir(&dir).expect("vectors folder") {
        let path = entry.expect("dir entry").path();
        if path
            .extension()
            .is_some_and(|x| x == "i3lic" || x == "expect")
        {
            fs::remove_file(&path).expect("remove old vector");
        }
    }
    for v in vectors(version) {
        if let Some(b) = &v.bytes {
            fs::write(dir.join(format!("{}.i3lic", v.name)), b).expect("write vector");
        }
        fs::write(dir.join(format!("{}.expect", v.name)), v.expect_text()).expect("write expect");
    }
    for (file, key) in [("key-a.pub", key_a()), ("key-b.pub", key_b())] {
        let text = key.public_key().to_text(file.trim_end_matches(".pub"));
        fs::write(dir.join(file), text).expect("write key");
    }
}

/// Flip each bit of `file` at the given byte offsets in turn; each flipped copy must either
/// be refused, or (only where the flip is undone by normalisation) verify with exactly the
/// original signed bytes and contents. Returns how many flips were accepted that way.
fn flip_bits(file: &[u8], offsets: &[usize], trusted: &[PublicKey]) -> usize {
    let original = UnverifiedFile::parse(file).expect("sample parses");
    let expected = original.verify_with(trusted).expect("sample verifies");
    let bits: Vec<usize> = offsets
        .iter()
        .flat_map(|&o| (0..8).map(move |b| o * 8 + b))
        .collect();
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    // Two threads: each check is a full signature verification.
    std::thread::scope(|s| {
        for chunk in bits.chunks(bits.len().div_ceil(2).max(1)) {
            let (accepted, original, expected) = (&accepted, &original, &expected);
            s.spawn(move || {
                let mut copy = file.to_vec();
                for &bit in chunk {
                    copy[bit / 8] ^= 1 << (bit % 8);
                    match UnverifiedFile::parse(&copy) {
                        Err(_) => {}
                        Ok(p) => {
                            if let Ok(v) = p.verify_with(trusted) {
                                assert_eq!(
                                    p.signed_bytes(),
                                    original.signed_bytes(),
                                    "flip of bit {bit} accepted with different signed bytes"
                                );
                                assert_eq!(&v, expected, "flip of bit {bit} changed the contents");
                                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }
                    copy[bit / 8] ^= 1 << (bit % 8);
                }
            });
        }
    });
    accepted.into_inner()
}

#[test]
fn every_single_bit_flip_of_a_signed_file_is_refused() {
    // The file as sign() writes it has no trailing blanks and no CR, so no flip can be
    // normalised away: a flip either breaks the armor or changes the signed bytes (a byte
    // turned into a trailing blank is removed, which changes them too). Every one is refused.
    let text = format::sign(&common::sample_v2(), &key_a()).expect("sign");
    let trusted = [key_a().public_key().clone()];
    let all: Vec<usize> = (0..text.len()).collect();
    assert_eq!(flip_bits(text.as_bytes(), &all, &trusted), 0);
}

#[test]
fn bit_flips_of_a_mangled_file_pass_only_when_normalised_away() {
    // With a CR and a trailing tab on every line, a flip that turns one removable trailing
    // byte into another leaves the normalised bytes identical; those are the only flips that
    // may verify, and flip_bits checks they give the original signed bytes and contents.
    let text = format::sign(&common::sample_v2(), &key_a()).expect("sign");
    let mangled: String = text.lines().map(|l| format!("{l}\t\r\n")).collect();
    let trusted = [key_a().public_key().clone()];
    let all: Vec<usize> = (0..mangled.len()).collect();
    let accepted = flip_bits(mangled.as_bytes(), &all, &trusted);
    // Flipping bit 2 of the tab (0x09) gives CR (0x0D) and flipping bit 2 of the CR gives a
    // tab: both are removed by normalisation. No other single-bit flip of a tab, CR or LF
    // gives a removable byte (space, 0x20, is two or more bits away from each), a last
    // character turned into a blank is removed (which changes the signed bytes), and any
    // other flip breaks the armor or changes a signed byte. So exactly two flips per line pass.
    assert_eq!(accepted, 2 * text.lines().count());
}

#[test]
fn an_untrusted_or_mismatched_key_is_named() {
    let text = format::sign(&common::sample_v2(), &key_a()).expect("sign");
    let parsed = UnverifiedFile::parse(text.as_bytes()).expect("parse");
    assert!(matches!(
        parsed.verify(key_b().public_key()),
        Err(FormatError::KeyIdMismatch { file, key }) if file == key_a().key_id() && key == key_b().key_id()
    ));
    assert!(matches!(
        parsed.verify_with([key_b().public_key()]),
        Err(FormatError::UntrustedKey { key_id }) if key_id == key_a().key_id()
    ));
}

#[test]
fn unsigned_header_text_is_escaped_in_errors() {
    // The Format header is read before any signature check: whatever it holds is attacker
    // text, and must not reach a terminal or log line with its control characters (an escape
    // sequence, or a carriage return that overwrites the line).
    let text = format!(
        "{}\nFormat: i3lic-activation/2\u{1b}[2K\rall good\nKey-Id: 0011223344556677\n{{}}\n",
        format::BEGIN_MARKER
    );
    let e = format::UnverifiedFile::parse(text.as_bytes()).unwrap_err();
    let format::FormatError::UnsupportedVersion { found, .. } = &e else {
        panic!("{e:?}");
    };
    assert!(!found.chars().any(char::is_control), "{found:?}");
    let msg = e.to_string();
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
    assert!(
        msg.contains("i3lic-activation/2\\u{1b}[2K\\rall good"),
        "{msg}"
    );
}
