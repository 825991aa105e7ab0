#!/usr/bin/env bash
# Builds and runs RosterGate: installs the build tools if missing, builds the
# browser app with Trunk, and serves it with `rostergate serve`
# (http://127.0.0.1:8080/ unless ROSTERGATE_BIND says otherwise), with the
# demo district seeded and a fresh sign-in for it printed. The embeddable
# web component (served under /widget/) is built too with ROSTERGATE_WIDGET=1.
#
#   bash scripts/run.sh [serve arguments…]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-tools.sh
if [[ "${ROSTERGATE_WIDGET:-0}" == 1 ]]; then
    bash scripts/build-frontend.sh
else
    bash scripts/build-frontend.sh --no-widget
fi
exec cargo run --release -p backend --bin rostergate -- serve --demo "$@"
