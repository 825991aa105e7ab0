#!/usr/bin/env bash
# Starts a local PostgreSQL server for the database tests (installing it from
# Debian's packages where missing) and makes the role the tests use:
#   postgres://rostergate:rostergate@127.0.0.1:PORT/postgres  (may create databases)
# Prints that URL on its last line. Needs root (CI and these machines run as root).
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "PostgreSQL: installing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
fi
VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$VERSION main"; then
    say "PostgreSQL $VERSION: creating the main cluster"
    pg_createcluster "$VERSION" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $4}' | grep -qx online; then
    say "PostgreSQL $VERSION: starting"
    pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 30); do
    su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
    sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname = 'rostergate'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"CREATE ROLE rostergate LOGIN CREATEDB PASSWORD 'rostergate'\"" >&2
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $3}')"
say "PostgreSQL $VERSION: ready on port $PORT"
echo "postgres://rostergate:rostergate@127.0.0.1:$PORT/postgres"
