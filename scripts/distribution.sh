#!/usr/bin/env bash
# Runs the given command with WHARF_DISTRIBUTION pointing at CNCF
# Distribution's registry binary, built once with `go install` at a pinned
# version into .cache/bin (rebuilt if the pin moves). Tests that need a real
# upstream registry (server/mirror/mirrortest.DistributionBinary) start
# their own instances of it and skip without the variable.
#
#   scripts/distribution.sh go test ./server/mirror/...
set -euo pipefail
cd "$(dirname "$0")/.."
DIST_VERSION=v3.1.2
DIST_PKG=github.com/distribution/distribution/v3/cmd/registry
mkdir -p .cache/bin
if [ -x .cache/bin/registry ] && go version -m .cache/bin/registry 2>/dev/null |
	grep -qE "^[[:space:]]+mod[[:space:]]+github.com/distribution/distribution/v3[[:space:]]+$DIST_VERSION[[:space:]]"; then
	:
else
	echo "distribution: building $DIST_PKG@$DIST_VERSION (a few minutes, once)" >&2
	GOBIN="$PWD/.cache/bin" GOFLAGS=-buildvcs=false GOWORK=off go install "$DIST_PKG@$DIST_VERSION"
fi
WHARF_DISTRIBUTION=$PWD/.cache/bin/registry exec "$@"
