#!/usr/bin/env bash
# Installs the tools that build RosterGate's browser app (frontend/) on a new
# machine: the wasm32 Rust target, Trunk, wasm-bindgen-cli (the version
# Cargo.lock pins) and wasm-opt from npm `binaryen` (node_modules/.bin).
# Idempotent: a tool already at the right version is left alone, so a second
# run takes seconds. Needs rustup, cargo, a C compiler and npm; reaches only
# crates.io and npm (nothing is downloaded from GitHub).
#
#   bash scripts/install-tools.sh && bash scripts/build-frontend.sh
set -euo pipefail

TRUNK_VERSION=0.21.14
WASM_TARGET=wasm32-unknown-unknown

cd "$(dirname "${BASH_SOURCE[0]}")/.."
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN:$PATH"

say() { printf '==> %s\n' "$*"; }
need() {
    command -v "$1" >/dev/null 2>&1 || {
        printf 'install-tools: %s not found. %s\n' "$1" "$2" >&2
        exit 1
    }
}
need rustup "Install Rust with rustup first."
need cargo "Install Rust with rustup first."
need npm "Install Node.js (with npm) first, e.g. apt-get install -y nodejs npm."
need cc "cargo install needs a C compiler, e.g. apt-get install -y build-essential."

# The version of the first [[package]] named $1 in Cargo.lock.
locked_version() {
    awk -v want="$1" -F'"' '
        $0 == "[[package]]" { name = "" }
        $1 == "name = " { name = $2 }
        $1 == "version = " && name == want { print $2; exit }
    ' Cargo.lock
}

# 1. The WebAssembly target.
if rustup target list --installed | grep -qx "$WASM_TARGET"; then
    say "$WASM_TARGET: installed"
else
    say "$WASM_TARGET: installing"
    rustup target add "$WASM_TARGET"
fi

# 2. Trunk (0.22 needs a newer rustc than this project's toolchain).
if [[ "$(trunk --version 2>/dev/null || true)" == "trunk $TRUNK_VERSION" ]]; then
    say "trunk $TRUNK_VERSION: installed"
else
    say "trunk $TRUNK_VERSION: installing (takes several minutes)"
    # Without its default features (TLS for downloading tools, and its own
    # update check): Trunk runs offline here (Trunk.toml), and 16 crates fewer
    # build (about a tenth less CPU time, measured).
    cargo install trunk --locked --version "$TRUNK_VERSION" --no-default-features
fi

# 3. wasm-bindgen-cli, exactly the wasm-bindgen version in Cargo.lock. Not
#    --locked: its own lockfile names a crate version crates.io lacks.
if [[ ! -f Cargo.lock ]]; then
    say "Cargo.lock: missing, resolving dependencies"
    cargo generate-lockfile
fi
WASM_BINDGEN_VERSION="$(locked_version wasm-bindgen)"
if [[ -z "$WASM_BINDGEN_VERSION" ]]; then
    echo "install-tools: no wasm-bindgen package in Cargo.lock" >&2
    exit 1
fi
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" == "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    say "wasm-bindgen-cli $WASM_BINDGEN_VERSION: installed"
else
    say "wasm-bindgen-cli $WASM_BINDGEN_VERSION: installing (takes a few minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
TRUNK_PIN="$(awk -F'"' '$1 ~ /^wasm_bindgen *= *$/ { print $2; exit }' Trunk.toml)"
if [[ "$TRUNK_PIN" != "$WASM_BINDGEN_VERSION" ]]; then
    echo "install-tools: Trunk.toml pins wasm_bindgen = \"$TRUNK_PIN\" but Cargo.lock has $WASM_BINDGEN_VERSION; make them equal" >&2
    exit 1
fi

# 4. wasm-opt from npm binaryen (Debian's binaryen is too old for current
#    rustc output). Skipped when node_modules is newer than the lockfile.
if [[ -f node_modules/.package-lock.json && -x node_modules/.bin/wasm-opt
      && node_modules/.package-lock.json -nt package.json ]] \
   && { [[ ! -f package-lock.json ]] || [[ node_modules/.package-lock.json -nt package-lock.json ]]; }; then
    say "node_modules: up to date"
elif [[ -f package-lock.json ]]; then
    say "node_modules: npm ci"
    npm ci --no-audit --no-fund
else
    say "node_modules: npm install (no package-lock.json)"
    npm install --no-audit --no-fund
fi

# 5. The crates the build needs (Trunk's `offline` covers its tools only).
say "crates: cargo fetch"
cargo fetch --quiet

say "$(trunk --version), $(wasm-bindgen --version), $(node_modules/.bin/wasm-opt --version)"
