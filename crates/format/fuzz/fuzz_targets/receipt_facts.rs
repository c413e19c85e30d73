//! Any text as the header values of a receipt signed with a fixed key: reaches the value checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "receipt_checks.rs"]
mod receipt_checks;

fuzz_target!(|data: &[u8]| {
    thread_local!(static KEY: format::SecretKey = receipt_checks::receipt_key());
    KEY.with(|key| receipt_checks::check_facts(data, key));
});
