#!/usr/bin/env bash
# Starts a throwaway MinIO (built once with `go install` at a pinned
# version into .cache/bin) on a loopback port, runs the given command with
# WHARF_TEST_S3_* pointing at it, and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
mkdir -p .cache/bin
if [ ! -x .cache/bin/minio ] || [ "$(cat .cache/bin/minio.version 2>/dev/null)" != "$MINIO_VERSION" ]; then
	echo "minio: building github.com/minio/minio@$MINIO_VERSION (a few minutes, once)" >&2
	GOBIN="$PWD/.cache/bin" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
	echo "$MINIO_VERSION" >.cache/bin/minio.version
fi
dir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT
export MINIO_ROOT_USER=wharftest MINIO_ROOT_PASSWORD=wharftest-secret MINIO_BROWSER=off MINIO_UPDATE=off
.cache/bin/minio server --quiet --address "127.0.0.1:$port" "$dir/data" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/minio/health/live" >/dev/null || { echo "minio: did not start" >&2; cat "$dir/log" >&2; exit 1; }
export WHARF_TEST_S3_ENDPOINT="127.0.0.1:$port" WHARF_TEST_S3_ACCESS_KEY=wharftest WHARF_TEST_S3_SECRET_KEY=wharftest-secret
"$@"
