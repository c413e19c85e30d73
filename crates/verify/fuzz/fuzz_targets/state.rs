//! Any bytes as a server's state file: read it, then load an activation file against it.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    // One folder per fuzzing process; each input's state file is removed after its check.
    thread_local!(static DIR: tempfile::TempDir = checks::state_dir());
    DIR.with(|dir| checks::check_state(dir.path(), data));
});
