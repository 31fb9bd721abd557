#!/usr/bin/env bash
# Builds trivy once with `go install` at a pinned version (with
# GOEXPERIMENT=jsonv2, which it needs) into .cache/bin (rebuilt if the pin
# moves), and tools/trivydb, which writes tiny offline vulnerability DB
# bundles, into .cache/bin/trivydb (rebuilt when its sources change), then
# runs the given command with WHARF_TRIVY and WHARF_TRIVYDB naming them.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIVY_VERSION=v0.74.0
bin=$PWD/.cache/bin
mkdir -p "$bin"
if ! go version -m "$bin/trivy" 2>/dev/null | grep -q "mod	github.com/aquasecurity/trivy	$TRIVY_VERSION	"; then
	echo "building trivy $TRIVY_VERSION into .cache/bin (once; takes minutes)" >&2
	GOEXPERIMENT=jsonv2 GOBIN="$bin" GOFLAGS=-buildvcs=false go install \
		-ldflags "-X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}" \
		"github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION"
fi
sum=$(cat tools/trivydb/go.mod tools/trivydb/go.sum tools/trivydb/*.go | sha256sum | cut -d' ' -f1)
if [ ! -x "$bin/trivydb" ] || [ "$(cat "$bin/trivydb.sum" 2>/dev/null)" != "$sum" ]; then
	echo "building tools/trivydb into .cache/bin" >&2
	(cd tools/trivydb && GOFLAGS=-buildvcs=false go build -o "$bin/trivydb" .)
	echo "$sum" >"$bin/trivydb.sum"
fi
WHARF_TRIVY=$bin/trivy WHARF_TRIVYDB=$bin/trivydb exec "$@"
