//! Any bytes as a public or secret key file: parse, write, parse again, sign and verify.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_keys(data));
