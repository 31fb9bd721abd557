#!/usr/bin/env bash
# Runs the given command with a real Docker engine: installs Debian's
# docker.io if needed, starts dockerd (vfs storage, no iptables or bridge:
# this machine has no network beyond loopback) unless one answers, and
# stops the engine it started.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dockerd >/dev/null 2>&1; then
	echo "dockerd: installing docker.io" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq docker.io >/dev/null
fi

started=""
log=$(mktemp)
cleanup() {
	if [ -n "$started" ]; then
		kill "$started" 2>/dev/null || true
		wait "$started" 2>/dev/null || true
	fi
	rm -f "$log"
}
trap cleanup EXIT

if ! docker info >/dev/null 2>&1; then
	dockerd --storage-driver=vfs --iptables=false --bridge=none >"$log" 2>&1 &
	started=$!
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	docker info >/dev/null 2>&1 || { echo "dockerd: dockerd did not start" >&2; tail -30 "$log" >&2; exit 1; }
fi

"$@"
