//! Any text as a properly signed payload: reaches the JSON payload parser and value checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    thread_local!(static KEY: format::SecretKey = checks::fuzz_key());
    KEY.with(|key| checks::check_payload(data, key));
});
