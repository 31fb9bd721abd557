#!/usr/bin/env bash
# Builds Pebble, Let's Encrypt's ACME test server, and its DNS companion
# pebble-challtestsrv once with `go install` at a pinned version into
# .cache/bin, then runs the given command with WHARF_PEBBLE naming that
# directory (the ACME test starts its own servers on loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
PEBBLE_VERSION=v2.10.3
bin=$PWD/.cache/bin
mkdir -p "$bin"
if [ ! -x "$bin/pebble" ] || [ ! -x "$bin/pebble-challtestsrv" ] || [ "$(cat "$bin/pebble.version" 2>/dev/null)" != "$PEBBLE_VERSION" ]; then
	echo "pebble: building github.com/letsencrypt/pebble/v2@$PEBBLE_VERSION (once)" >&2
	GOBIN="$bin" GOFLAGS=-buildvcs=false go install \
		"github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" \
		"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION"
	echo "$PEBBLE_VERSION" >"$bin/pebble.version"
fi
WHARF_PEBBLE=$bin exec "$@"
