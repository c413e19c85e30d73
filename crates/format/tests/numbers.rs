//! Numbers at the edges FORMAT.md section 9 draws: a number whose value rounds (to the nearest
//! double, ties to even) to infinity is `MalformedPayload`; any other number where a count is
//! expected is `InvalidValue`, including the largest double itself and the integers just
//! below the bound. A `-0` inside an exponent (`3e-01`) is not "a number starting with -0".

mod common;

use common::{key_a, payload_of, sample_v2, variant};
use format::{FormatError, FormatVersion, UnverifiedFile};

/// 2^1024 − 2^970: the least value that rounds to infinity (the midpoint between the largest
/// double and 2^1024, which ties to even, upwards).
const BOUND: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";
/// The largest double, (2^53 − 1) · 2^971, written out.
const MAX: &str = "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368";

/// The version-2 sample's payload with its first `"pooled": 0` written `number`, and
/// `change` applied to the text.
fn with_pooled(number: &str, change: impl Fn(String) -> String) -> Result<(), FormatError> {
    let text = format::sign_v2(&sample_v2(), &key_a()).unwrap();
    let json =
        change(payload_of(&text).replacen("\"pooled\": 0", &format!("\"pooled\": {number}"), 1));
    let signed = format::sign_payload_text_as(&json, &key_a(), FormatVersion::V2);
    UnverifiedFile::parse(signed.as_bytes())?
        .verify_with([key_a().public_key()])
        .map(drop)
}

fn kind(number: &str) -> &'static str {
    variant(&with_pooled(number, |j| j).unwrap_err())
}

fn below(n: &str) -> String {
    // n ends in a non-zero digit here.
    let mut b = n.as_bytes().to_vec();
    *b.last_mut().unwrap() -= 1;
    String::from_utf8(b).unwrap()
}

#[test]
fn numbers_at_the_largest_double_are_invalid_values_and_beyond_it_malformed() {
    assert_eq!(BOUND.len(), 309);
    let invalid = [
        "1.7976931348623157e308".to_string(), // the largest double
        "1.7976931348623158e308".into(),      // rounds down to it
        "-1.7976931348623157e308".into(),
        MAX.into(),
        below(BOUND), // the largest integer below the bound
        format!("{}.99999999999999999999", below(BOUND)),
        format!("0.{}e309", below(BOUND)),
        "18446744073709551616".into(), // 2^64: read as a fraction
        "1e-400".into(),               // rounds to 0
        "1e308".into(),
    ];
    for n in &invalid {
        let e = with_pooled(n, |j| j).unwrap_err();
        assert_eq!(
            variant(&e),
            "InvalidValue",
            "{}: {e}",
            &n[..n.len().min(30)]
        );
        assert!(e.to_string().contains("pooled"), "{e}");
    }
    let malformed = [
        BOUND.to_string(),
        format!("-{BOUND}"),
        format!("{BOUND}.0"),
        format!("0.{BOUND}e309"),
        "1.7976931348623159e308".into(),
        format!("{}.{}e308", &BOUND[..1], &BOUND[1..]),
        "2e308".into(),
        "1e309".into(),
        "1e400".into(),
    ];
    for n in &malformed {
        assert_eq!(kind(n), "MalformedPayload", "{}", &n[..n.len().min(30)]);
    }
}

#[test]
fn a_minus_zero_exponent_is_not_a_number_starting_with_minus_zero() {
    for n in ["3e-01", "25E-0", "1e-0", "0E-00"] {
        let e = with_pooled(n, |j| j).unwrap_err();
        assert_eq!(variant(&e), "InvalidValue", "{n}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("not an integer"), "{n}: {msg}");
        assert!(!msg.contains("-0"), "{n}: {msg}");
    }
    for n in ["-0", "-0.0", "-0.5", "-0e1"] {
        let e = with_pooled(n, |j| j).unwrap_err();
        assert_eq!(variant(&e), "InvalidValue", "{n}: {e}");
        assert!(
            e.to_string()
                .contains(&format!("the number {n} starts with -0")),
            "{n}: {e}"
        );
    }
    // The order of section 7.5: a number starting with -0 is refused at step 2, before a
    // version member is missing (step 3); an exponent's -0 is not, so the missing member is
    // what is reported.
    let without_generation = |j: String| j.replacen("\n  \"generation\": 3,", "", 1);
    let e = with_pooled("25E-0", without_generation).unwrap_err();
    assert_eq!(variant(&e), "MissingField", "{e}");
    let e = with_pooled("-0", without_generation).unwrap_err();
    assert_eq!(variant(&e), "InvalidValue", "{e}");
}
