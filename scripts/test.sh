#!/usr/bin/env bash
# Runs every test of the workspace: formatting and lints, the native tests
# (schema crate, command line), the WebAssembly tests in Node (schema crate and
# browser app), and the Trunk release build of the browser app.
# Needs the tools of scripts/install-tools.sh (run it first on a new machine).
#
#   bash scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
WASM=wasm32-unknown-unknown

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (native crates, then the browser crates for wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy -p frontend -p shared --target "$WASM" --lib --bins --tests -- -D warnings

step "native tests: schema crate and command line"
cargo test

step "WebAssembly tests in Node: schema crate and browser app"
cargo test -p shared --target "$WASM" --test wasm
cargo test -p frontend --target "$WASM"

step "browser app: trunk build --release"
bash scripts/build-frontend.sh
