#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests where missing (as root,
# like CI and these machines). Playwright drives it through playwright-core;
# nothing downloads a browser of its own.
set -euo pipefail
# chromium-driver runs the wasm-bindgen component tests in the same browser.
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "==> chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || true))"
    exit 0
fi
echo "==> chromium: installing from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium chromium-driver
