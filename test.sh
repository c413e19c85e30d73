#!/usr/bin/env bash
# Runs every test of the workspace (unit, integration, end-to-end across the binaries, doc
# tests, fuzz-corpus replays). Installs the toolchain first on a fresh machine, and starts a
# throwaway PostgreSQL server for the PostgreSQL store's tests unless I3LIC_TEST_POSTGRES names one.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/toolchain.sh
. scripts/postgres-test.sh
cargo test --workspace --locked "$@"
