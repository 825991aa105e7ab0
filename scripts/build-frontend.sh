#!/usr/bin/env bash
# Builds the browser app (frontend/) with Trunk into dist/ (release, wasm-opt
# -Oz). Uses only local tools: run scripts/install-tools.sh once first.
# Extra arguments go to `trunk build`, e.g. `--public-url /app/`.
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

trunk build --release "$@"
# The <roster-validator> web component (frontend/widget/), after the app,
# whose build empties dist/: fixed file names, since portals link them.
trunk build --release --filehash false --dist dist/widget --public-url /widget/ frontend/widget/index.html
