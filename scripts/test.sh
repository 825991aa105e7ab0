#!/usr/bin/env bash
# Runs every test of the workspace: formatting and lints, the native tests
# (schema crate, command line, server on SQLite and, when
# ROSTERGATE_TEST_POSTGRES names one, PostgreSQL), the WebAssembly tests in
# Node, the Trunk release build of the browser app, and the browser tests in
# headless Chromium against the real server. Installs the build tools and
# Chromium first where missing (scripts/install-tools.sh, install-browser.sh).
#
#   bash scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
WASM=wasm32-unknown-unknown

step() { printf '\n==> %s\n' "$*"; }

step "tools"
bash scripts/install-tools.sh
bash scripts/install-browser.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (native crates, then the browser crates for wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend -p shared --target "$WASM" --lib --bins --tests -- -D warnings

step "native tests: schema crate and command line"
cargo test

step "WebAssembly tests: schema crate and browser app in Node, components in headless Chromium"
cargo test -p shared --target "$WASM" --test wasm
# Tests marked run_in_browser go to Chromium through chromedriver, with the
# flags in frontend/webdriver.json; the others run in Node.
CHROMEDRIVER=/usr/bin/chromedriver cargo test -p frontend --target "$WASM"

step "browser app: trunk build --release"
bash scripts/build-frontend.sh

step "browser tests: headless Chromium against rostergate serve"
cargo build -p backend --bin rostergate
ROSTERGATE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/rostergate" node --test tests/browser/
