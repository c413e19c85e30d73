//! The process benchmark's baseline: a Rust program built the same way as `gethostid` that
//! only prints a code and exits. `benches/gethostid.rs` measures `gethostid` against it.

fn main() {
    println!("1Q2H4-74KMZ-KWXDV-8K000-00KZQ");
}
