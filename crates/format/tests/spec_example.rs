//! docs/FORMAT.md's complete example verifies with the public key printed beside it, is exactly
//! what this crate writes for those contents with the demo key, and the figures the
//! specification quotes about it (signed-message length, prefix, hash, key id) hold.

mod common;

use std::fs;
use std::path::PathBuf;

use format::{KeyId, PublicKey, SecretKey, UnverifiedFile};
use sha2::{Digest, Sha256};

fn repo_file(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The ```text blocks after the "Complete example" heading: the file, then the public key.
fn example_blocks(doc: &str) -> (String, String) {
    let start = doc
        .find("## 10. Complete example")
        .expect("the example section");
    let mut blocks = doc[start..]
        .split("```text\n")
        .skip(1)
        .map(|b| b.split_once("```").expect("a closed block").0.to_owned());
    let file = blocks.next().expect("the example file");
    let key = blocks.next().expect("the example public key");
    (file, key)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_example_in_format_md_verifies_and_is_what_the_crate_writes() {
    let doc = repo_file("docs/FORMAT.md");
    let (file, key_text) = example_blocks(&doc);
    let key = PublicKey::from_text(&key_text).expect("the example key parses");

    let verified = UnverifiedFile::parse(file.as_bytes())
        .expect("the example parses")
        .verify(&key)
        .expect("the example verifies with its key");
    let crlf = file.replace('\n', "\r\n");
    let again = format::verify_bytes(crlf.as_bytes(), [&key]).expect("CRLF copy verifies");
    assert_eq!(again, verified);

    // The key is the published demo key, and the file is what sign() writes with it.
    let demo_pub = PublicKey::from_text(&repo_file("keys-example/demo.pub")).expect("demo.pub");
    assert_eq!(key, demo_pub);
    let demo = SecretKey::from_text(&repo_file("keys-example/demo.key")).expect("demo.key");
    let mut contents = common::sample();
    contents.restrictions.clear();
    assert_eq!(verified.activation(), &contents);
    assert_eq!(
        format::sign_v1(&contents, &demo).expect("sign"),
        file,
        "FORMAT.md's example is stale"
    );
    assert!(doc.contains(&format!("The file ({} bytes, LF line endings)", file.len())));

    // Section 5's figures about the signed message.
    let parsed = UnverifiedFile::parse(file.as_bytes()).expect("parse");
    let m = parsed.signed_bytes();
    assert!(doc.contains(&format!("the message is {} bytes", m.len())));
    assert!(doc.contains(&format!("`{}` (`i3lic-activation/1` NUL)", hex(&m[..19]))));
    assert!(doc.contains(&format!("followed by\n`{}` (the key id)", hex(&m[19..27]))));
    assert_eq!(&m[19..27], &key.key_id().0);
    assert!(doc.contains(&format!("`{}`.", hex(&Sha256::digest(m)))));

    // Section 6's key-id derivation example.
    let raw = key.to_bytes();
    let derived = Sha256::new()
        .chain_update(b"i3lic/key-id/v1\0")
        .chain_update(raw)
        .finalize();
    assert_eq!(&derived[..8], &key.key_id().0);
    assert_eq!(KeyId::derive(&raw), key.key_id());
    assert!(doc.contains(&format!("`{}` has the id\n`{}`", hex(&raw), key.key_id())));
}
