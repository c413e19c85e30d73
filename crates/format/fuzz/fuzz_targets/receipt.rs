//! Any bytes through the release-receipt parser and verifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "receipt_checks.rs"]
mod receipt_checks;

fuzz_target!(|data: &[u8]| {
    thread_local!(static KEY: format::SecretKey = receipt_checks::receipt_key());
    KEY.with(|key| receipt_checks::check_receipt(data, key));
});
