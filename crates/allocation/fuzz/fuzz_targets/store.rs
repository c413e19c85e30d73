//! Any bytes as names given to the allocator, or as the file at the store path.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    // One store per fuzzing process; names added by an input are removed after its check.
    thread_local!(static FIX: checks::Fixture = checks::Fixture::new());
    FIX.with(|f| checks::check(f, data));
});
