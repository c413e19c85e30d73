//! Any bytes as an issuer secret key file, unencrypted or passphrase-encrypted.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_keyfile(data));
