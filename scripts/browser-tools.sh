#!/usr/bin/env bash
# Installs what the portal's browser tests (tests/tests/browser/) need, where it is missing:
# Debian's chromium and chromium-driver (apt-get), and axe-core from the npm registry into
# target/browser-tools/ (outside the sources; never committed). Run by .ci/run, or by hand:
# bash scripts/browser-tools.sh
set -euo pipefail
AXE_VERSION=4.14.1 # keep in step with AXE_VERSION in tests/src/webdriver.rs
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${CARGO_TARGET_DIR:-$root/target}/browser-tools"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "Installing Chromium and ChromeDriver (Debian packages chromium, chromium-driver)..." >&2
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
fi

axe="$tools/node_modules/axe-core"
if [ "$(node -p "require('$axe/package.json').version" 2>/dev/null || true)" != "$AXE_VERSION" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "Installing Node.js and npm (Debian packages nodejs, npm)..." >&2
        as_root apt-get update -qq >&2
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
    fi
    echo "Installing axe-core@$AXE_VERSION into $tools..." >&2
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-save --no-audit --no-fund --loglevel=error "axe-core@$AXE_VERSION" >&2
fi
test -f "$axe/axe.min.js"
