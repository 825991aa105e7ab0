#!/usr/bin/env bash
# Builds the browser app (frontend/) with Trunk into dist/ (release, wasm-opt
# -Oz), then the <roster-validator> web component into dist/widget/. Uses
# only local tools: run scripts/install-tools.sh once first.
#
#   bash scripts/build-frontend.sh [--no-widget] [trunk build arguments…]
#
# --no-widget builds the app only (a first run need not wait for the web
# component). Other arguments go to the app's `trunk build`, e.g.
# `--public-url /app/`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# npm binaryen's wasm-opt first: Trunk uses a tool from PATH only when its
# version matches the pin in Trunk.toml, and offline = true forbids downloads.
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

for tool in trunk wasm-bindgen wasm-opt; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "build-frontend: $tool not found; run scripts/install-tools.sh first" >&2
        exit 1
    }
done

widget=1
if [[ "${1:-}" == "--no-widget" ]]; then
    widget=0
    shift
fi

trunk build --release "$@"
if [[ "$widget" == 0 ]]; then
    exit 0
fi
# The <roster-validator> web component (frontend/widget/), after the app,
# whose build empties dist/: fixed file names, since portals link them.
trunk build --release --filehash false --dist dist/widget --public-url /widget/ frontend/widget/index.html
