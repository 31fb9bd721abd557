#!/usr/bin/env bash
# Builds mailpit, an SMTP sink with an HTTP API, once with `go install` at
# a pinned version into .cache/bin, then runs the given command with
# WHARF_MAILPIT naming the binary (the mail tests start their own on
# loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
MAILPIT_VERSION=v1.33.1
bin=$PWD/.cache/bin
mkdir -p "$bin"
if [ ! -x "$bin/mailpit" ] || [ "$(cat "$bin/mailpit.version" 2>/dev/null)" != "$MAILPIT_VERSION" ]; then
	echo "mailpit: building github.com/axllent/mailpit@$MAILPIT_VERSION (once)" >&2
	GOBIN="$bin" GOFLAGS=-buildvcs=false go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
	echo "$MAILPIT_VERSION" >"$bin/mailpit.version"
fi
WHARF_MAILPIT=$bin/mailpit exec "$@"
