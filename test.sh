#!/usr/bin/env bash
# Runs every test of the workspace (unit, integration, end-to-end across the binaries, doc
# tests, fuzz-corpus replays). Installs the toolchain first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/toolchain.sh
cargo test --workspace --locked "$@"
