#!/usr/bin/env bash
# The metadata tests and the OCI conformance suite again, on PostgreSQL
# (a throwaway server started by scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# Every package whose tests choose their database through server/testutil
# (or read WHARF_TEST_DATABASE themselves), so that none is left out.
pkgs=$(git ls-files '*_test.go' | xargs grep -lE 'testutil\.|WHARF_TEST_DATABASE' | xargs -n1 dirname | sort -u | sed 's|^|./|')
echo "postgres tests: $(echo $pkgs)"
go test -count=1 -timeout 25m $pkgs
WHARF_DATABASE="$WHARF_TEST_DATABASE" bash scripts/conformance.sh
