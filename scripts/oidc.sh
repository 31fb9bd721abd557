#!/usr/bin/env bash
# Builds the OpenID Connect provider of the single sign-on tests
# (tools/oidcprovider: zitadel/oidc's example provider, pinned in its
# go.mod) once into .cache/bin, then runs the given command with
# WHARF_OIDC_PROVIDER naming the binary (the tests start it on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.cache/bin
mkdir -p "$bin"
stamp=$(sha256sum tools/oidcprovider/go.sum tools/oidcprovider/main.go | sha256sum | cut -c1-16)
if [ ! -x "$bin/oidcprovider" ] || [ "$(cat "$bin/oidcprovider.version" 2>/dev/null)" != "$stamp" ]; then
	echo "oidc: building tools/oidcprovider (zitadel/oidc, once)" >&2
	(cd tools/oidcprovider && GOFLAGS=-buildvcs=false go build -o "$bin/oidcprovider" .)
	echo "$stamp" >"$bin/oidcprovider.version"
fi
WHARF_OIDC_PROVIDER=$bin/oidcprovider exec "$@"
