#!/usr/bin/env bash
# Runs the browser journey in headless Chromium (Debian's package, installed
# here if missing) and keeps its screenshots in .cache/screenshots.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
	echo "browser-e2e: installing chromium" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq chromium >/dev/null
fi
# axe-core, pinned, for the accessibility check of the main pages.
axe_version=4.11.0
export WHARF_AXE=$PWD/.cache/axe/node_modules/axe-core/axe.min.js
if ! grep -qs "\"version\": \"$axe_version\"" .cache/axe/node_modules/axe-core/package.json; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "browser-e2e: installing npm" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null
		apt-get install -y -qq npm >/dev/null
	fi
	echo "browser-e2e: installing axe-core $axe_version" >&2
	npm install --prefix .cache/axe --no-audit --no-fund --no-save "axe-core@$axe_version" >/dev/null
fi
# The oras CLI, pinned, attaches an SBOM the way a team would.
oras_version=v1.3.6
export WHARF_ORAS=$PWD/.cache/bin/oras
if ! "$WHARF_ORAS" version 2>/dev/null | grep -q "${oras_version#v}"; then
	echo "browser-e2e: building oras $oras_version" >&2
	GOBIN=$PWD/.cache/bin go install "oras.land/oras/cmd/oras@$oras_version"
fi
shots=${WHARF_SCREENSHOTS:-$PWD/.cache/screenshots}
mkdir -p "$shots"
WHARF_BROWSER_E2E=1 WHARF_SCREENSHOTS="$shots" go test -count=1 -timeout 10m -run '^TestBrowser' -v ./web/ 2>&1 |
	grep -E '^(=== RUN|--- |\s+---|ok|FAIL|PASS|panic)|_test.go'
status=${PIPESTATUS[0]}
echo "browser-e2e: screenshots in $shots"
exit "$status"
