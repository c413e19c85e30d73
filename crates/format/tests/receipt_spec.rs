//! docs/FORMAT.md section 20: the example receipt verifies with the install key printed beside
//! it, is what `Receipt::sign` writes for the facts it states, and the figures given hold.

mod common;

use format::receipt::{Receipt, ReceiptError, ReleaseFacts};
use format::{install_key, Timestamp};
use sha2::{Digest, Sha256};

fn doc() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/FORMAT.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn example() -> (String, String) {
    let doc = doc();
    let sec = &doc[doc.find("\n### 20.3 Example").expect("section 20.3")..];
    let block = sec
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split_once("```"))
        .expect("the example receipt")
        .0
        .to_owned();
    (block, sec.to_owned())
}

#[test]
fn the_example_receipt_verifies_and_is_what_sign_writes() {
    let (text, sec) = example();
    let key_hex = install_key::to_hex(common::install_key().public_key());
    assert!(sec.contains(&format!("`{key_hex}`")));
    let key = install_key::from_hex("install key", &key_hex).expect("key");
    let receipt = Receipt::parse(&text).expect("the example parses");
    receipt.verify(&key).expect("the example verifies");

    let a = common::sample_v3();
    let facts = ReleaseFacts {
        file_id: a.file_id,
        lineage: a.chain.expect("chain").lineage,
        generation: 3,
        host_id: a.primary_host.host_id,
        released_at: "2026-12-07T17:00:00Z".parse::<Timestamp>().expect("time"),
    };
    assert_eq!(receipt.facts(), &facts);
    assert_eq!(Receipt::sign(&facts, &common::install_key()), text);
    assert!(sec.contains(&format!("The receipt ({} bytes", text.len())));

    let m = receipt.signed_bytes();
    let digest: String = Sha256::digest(m)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let flat: String = sec.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("is {} bytes, with SHA-256 `{digest}`", m.len())));
    assert!(m.starts_with(b"i3lic-release/1\0Format: i3lic-release/1\n"));

    let altered = text.replace("Generation: 3", "Generation: 4");
    assert_eq!(
        Receipt::parse(&altered).expect("parses").verify(&key),
        Err(ReceiptError::SignatureInvalid)
    );
}
