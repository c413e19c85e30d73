//! Any bytes as a product catalog (`issuer --catalog FILE`): parse, then plan a file from every server part.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check_catalog(data));
