#!/usr/bin/env bash
# Runs every test of the workspace (unit, integration, end-to-end across the binaries, doc
# tests, fuzz-corpus replays). Installs the toolchain first on a fresh machine, and starts a
# throwaway PostgreSQL server for the PostgreSQL store's tests unless I3LIC_TEST_POSTGRES names one.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/toolchain.sh
# The TLS tests (license server, PostgreSQL connections) make their certificates with the
# openssl command.
if ! command -v openssl >/dev/null 2>&1; then
    echo "Installing openssl (the TLS tests make their certificates with it)..." >&2
    if [ "$(id -u)" = 0 ]; then
        { apt-get update -qq && apt-get install -y -qq openssl; } >&2 || true
    else
        { sudo apt-get update -qq && sudo apt-get install -y -qq openssl; } >&2 || true
    fi
fi
. scripts/postgres-test.sh
cargo test --workspace --locked "$@"
