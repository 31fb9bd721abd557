#!/usr/bin/env bash
# Builds cosign once with `go install` at a pinned version into
# .cache/bin (rebuilt if the pin moves), then runs the given command with
# WHARF_COSIGN naming it.
set -euo pipefail
cd "$(dirname "$0")/.."
COSIGN_VERSION=v2.6.5
bin=$PWD/.cache/bin
mkdir -p "$bin"
if ! go version -m "$bin/cosign" 2>/dev/null | grep -q "mod	github.com/sigstore/cosign/v2	$COSIGN_VERSION"; then
	echo "building cosign $COSIGN_VERSION into .cache/bin (once)" >&2
	GOBIN="$bin" GOFLAGS=-buildvcs=false go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
fi
WHARF_COSIGN=$bin/cosign exec "$@"
