//! Any bytes as the file at the store path, opened by `Allocator::open`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    thread_local!(static FIX: checks::Open = checks::Open::new());
    FIX.with(|f| checks::check_open(f, data));
});
