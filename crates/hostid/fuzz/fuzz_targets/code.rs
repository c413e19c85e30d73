//! Any bytes as a typed host-ID code: parse, print, parse again, match.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_code(data));
