#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's package, installed if missing)
# in a temporary directory on a loopback port, runs the given command with
# WHARF_TEST_DATABASE pointing at it, and removes it afterwards.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "postgres: installing postgresql" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq postgresql >/dev/null
fi
bin=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
dir=$(mktemp -d)
chown postgres "$dir"
port=$((20000 + RANDOM % 20000))
as_pg() { su postgres -s /bin/sh -c "$*"; }
cleanup() {
	as_pg "$bin/pg_ctl -D $dir/data -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
as_pg "$bin/initdb -D $dir/data -A trust -U postgres" >/dev/null
as_pg "$bin/pg_ctl -D $dir/data -l $dir/log -o '-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' -w start" >/dev/null
as_pg "$bin/createdb -h 127.0.0.1 -p $port -U postgres wharf"
export WHARF_TEST_DATABASE="postgres://postgres@127.0.0.1:$port/wharf?sslmode=disable"
"$@"
