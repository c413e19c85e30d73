//! Any bytes as a pasted request code: parse, print, parse again, change a character.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "request_checks.rs"]
mod request_checks;

fuzz_target!(|data: &[u8]| request_checks::check_request(data));
