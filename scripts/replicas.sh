#!/usr/bin/env bash
# Two Wharf replicas on one PostgreSQL and one MinIO, with a Docker
# engine: the conformance suite through a round-robin balancer, then
# docker push through one replica and pull, search and webhooks through the
# other (TestReplicas). make test runs it as
#   scripts/postgres.sh scripts/minio.sh scripts/dockerd.sh scripts/replicas.sh
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 ./server/storage/s3/
# Garbage collection racing pushes, on PostgreSQL and MinIO.
go test -count=1 -run 'TestConcurrentPushDeleteRepushWhileCollecting|TestDeleteCollectRepushPull' ./server/gc/
WHARF_REPLICAS_E2E=1 go test -count=1 -timeout 20m -run '^TestReplicas$' -v ./cmd/wharf/ 2>&1 | grep -E '^(=== RUN|--- |\s+---|ok|FAIL|PASS|panic)|_test.go'
exit "${PIPESTATUS[0]}"
