#!/usr/bin/env bash
# Starts two RosterGate server processes on one database, for trying out
# scale-out locally: put any load balancer in front of them (no sticky
# sessions needed: staged uploads, upload sessions and sign-in limits are
# database rows), or call either directly. Stops both on Ctrl-C or SIGTERM.
#
#   DATABASE_URL=postgres://user:password@127.0.0.1/rostergate bash scripts/serve-two.sh
#
# DATABASE_URL: the database both use (default: a database `rostergate_trial`
#   on the local PostgreSQL that scripts/start-postgres.sh starts).
# ROSTERGATE_PORTS: the two ports (default "8081 8082").
# ROSTERGATE_BIN: the server binary (default: target/release/rostergate,
#   built if missing). Extra arguments go to both `rostergate serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

read -r -a ports <<<"${ROSTERGATE_PORTS:-8081 8082}"
if [[ ${#ports[@]} -ne 2 ]]; then
    echo "serve-two: ROSTERGATE_PORTS must name two ports" >&2
    exit 2
fi
if [[ -z "${DATABASE_URL:-}" ]]; then
    server="$(bash scripts/start-postgres.sh | tail -n 1)"
    base="${server%/*}"
    psql "$server" -qtAc "SELECT 1 FROM pg_database WHERE datname = 'rostergate_trial'" | grep -q 1 ||
        psql "$server" -qc "CREATE DATABASE rostergate_trial"
    export DATABASE_URL="$base/rostergate_trial"
fi
bin="${ROSTERGATE_BIN:-${CARGO_TARGET_DIR:-target}/release/rostergate}"
if [[ ! -x "$bin" ]]; then
    cargo build --release -p backend --bin rostergate
fi

pids=()
# Stopping: each server gets SIGTERM (and finishes its requests in flight).
stop() {
    trap - INT TERM EXIT
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait
    exit 0
}
trap stop INT TERM EXIT
for port in "${ports[@]}"; do
    "$bin" serve --bind "127.0.0.1:$port" "$@" &
    pids+=("$!")
done
echo "serve-two: RosterGate on http://127.0.0.1:${ports[0]}/ and http://127.0.0.1:${ports[1]}/ (one database)"
wait
