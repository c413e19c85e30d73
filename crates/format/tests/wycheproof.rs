//! The crate's signature check (`PublicKey::from_bytes` + `PublicKey::verify_strict`, the path
//! every activation file takes) answers all Wycheproof Ed25519 vectors as the file says.

use format::PublicKey;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Suite {
    number_of_tests: usize,
    test_groups: Vec<Group>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Group {
    public_key: GroupKey,
    tests: Vec<Case>,
}

#[derive(Deserialize)]
struct GroupKey {
    pk: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    tc_id: u32,
    comment: String,
    msg: String,
    sig: String,
    result: String,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The crate's answer: does `sig` sign `msg` under the raw key `pk`?
fn accepts(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(pk) = <[u8; 32]>::try_from(pk) else {
        return false;
    };
    match PublicKey::from_bytes(&pk) {
        Ok(key) => key.verify_strict(msg, sig).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn every_wycheproof_ed25519_vector_is_answered_as_the_file_says() {
    let text = include_str!("data/wycheproof/ed25519_test.json");
    let suite: Suite = serde_json::from_str(text).expect("the vector file parses");
    let mut checked = 0;
    let (mut valid, mut invalid) = (0, 0);
    for group in &suite.test_groups {
        let pk = hex(&group.public_key.pk);
        for case in &group.tests {
            let expected = match case.result.as_str() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {}: result '{other}' is not valid/invalid", case.tc_id),
            };
            let got = accepts(&pk, &hex(&case.msg), &hex(&case.sig));
            assert_eq!(
                got, expected,
                "tcId {} ({}): expected {}",
                case.tc_id, case.comment, case.result
            );
            if expected {
                valid += 1;
            } else {
                invalid += 1;
            }
            checked += 1;
        }
    }
    assert_eq!(checked, suite.number_of_tests);
    assert_eq!((checked, valid, invalid), (150, 88, 62));
}
