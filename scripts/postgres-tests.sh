#!/usr/bin/env bash
# The metadata tests and the OCI conformance suite again, on PostgreSQL
# (a throwaway server started by scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -timeout 20m ./models/ ./server/api/ ./server/auth/ ./server/indexer/ ./server/registry/ ./server/gc/ ./web/
WHARF_DATABASE="$WHARF_TEST_DATABASE" bash scripts/conformance.sh
