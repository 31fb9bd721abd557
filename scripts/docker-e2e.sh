#!/usr/bin/env bash
# Runs the docker CLI end-to-end tests (TestDockerCLI, TestDockerTLS over
# HTTPS, TestDockerMirror, TestDockerImmutableTag, TestDockerRobot, TestDockerTeam, TestDockerPolicy and TestCosign with cosign,
# TestDockerSeverityPolicy with trivy) against a real Docker engine (make
# e2e-docker starts one with scripts/dockerd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
WHARF_DOCKER_E2E=1 go test -count=1 -timeout 15m -run '^(TestDockerCLI|TestDockerTLS|TestDockerMirror|TestDockerPolicy|TestDockerSeverityPolicy|TestDockerImmutableTag|TestDockerRetention|TestDockerRobot|TestDockerTeam|TestCosign)$' -v ./cmd/wharf/ 2>&1 | grep -E '^(=== RUN|--- |\s+---|ok|FAIL|PASS|panic)|_test.go' 
exit "${PIPESTATUS[0]}"
