#!/usr/bin/env bash
# Sourced by demo.sh and test.sh: makes sure a Rust toolchain and a C compiler (for the
# bundled SQLite) are present, installing them on a fresh machine.
if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "Installing the Rust toolchain (rustup, minimal profile)..." >&2
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal >&2
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
fi
if ! command -v cc >/dev/null 2>&1; then
    echo "Installing a C compiler (needed to build the embedded SQLite)..." >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && apt-get install -y -qq gcc >&2
    else
        sudo apt-get update -qq >&2 && sudo apt-get install -y -qq gcc >&2
    fi
fi
