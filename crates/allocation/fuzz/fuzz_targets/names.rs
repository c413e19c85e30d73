//! Any text as the names, keys and phone numbers `licadmin` reads from its command line.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    // One store per fuzzing process; names added by an input are removed after its check.
    thread_local!(static FIX: checks::Names = checks::Names::new());
    FIX.with(|f| checks::check_names(f, data));
});
