//! The process benchmark's baseline: a Rust program built the same way as `gethostid` that
//! only prints a code and exits. `benches/gethostid.rs` measures `gethostid` against it.

fn main() {
    println!("1NKRG-23000-002B3-BW000-00GGJ");
}
