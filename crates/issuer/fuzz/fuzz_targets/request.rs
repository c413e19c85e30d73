//! Any bytes as an `issuer issue --request FILE` request: plan it against the built-in catalog, sign and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_request(data));
