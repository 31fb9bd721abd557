# Wharf. `make run` serves it; `make test` runs every test.
GO ?= go
BIN := bin/wharf

.PHONY: build run test unit conformance e2e-scan e2e-docker e2e-tls e2e-mirror e2e-mail e2e-browser test-postgres test-replicas bench fmt vet fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/wharf

run: build
	./$(BIN) serve --addr 127.0.0.1:5000 --data-dir ./data

test: vet unit conformance e2e-scan e2e-docker e2e-tls e2e-mirror e2e-mail e2e-browser test-postgres test-replicas

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy -diff
	cd bench && $(GO) mod tidy -diff

unit:
	$(GO) test -race -count=1 -timeout 30m ./...
	cd bench && $(GO) test -count=1 ./...

conformance:
	bash scripts/conformance.sh

# Vulnerability scans with the real trivy v0.74.0 (built once with go
# install into .cache/bin, with tools/trivydb for its offline databases).
e2e-scan:
	bash scripts/trivy.sh $(GO) test -count=1 -timeout 10m -run '^TestScan' -v ./cmd/wharf/

# Installs Debian's docker.io and starts dockerd if needed; cosign and
# trivy are built once with go install into .cache/bin.
e2e-docker:
	bash scripts/dockerd.sh bash scripts/distribution.sh bash scripts/cosign.sh bash scripts/trivy.sh bash scripts/docker-e2e.sh

# HTTPS: the conformance suite over TLS, and certificates got and renewed
# by ACME from Pebble (built once with go install into .cache/bin).
e2e-tls:
	CONFORMANCE_TLS=1 CONFORMANCE_RESULTS=$(CURDIR)/.cache/conformance-tls bash scripts/conformance.sh
	bash scripts/pebble.sh $(GO) test -count=1 -timeout 10m -run '^TestACMEWithPebble$$' -v ./cmd/wharf/

# Pull-through mirrors of a real CNCF Distribution 3.1.2 (built once with
# go install into .cache/bin) and of a second Wharf, behind a fault proxy.
e2e-mirror:
	bash scripts/distribution.sh $(GO) test -count=1 -race -timeout 10m -run '^TestMirror' -v ./server/mirror/ ./cmd/wharf/

# Password reset by e-mail through a real SMTP sink, mailpit v1.33.1
# (built once with go install into .cache/bin).
e2e-mail:
	bash scripts/mailpit.sh $(GO) test -count=1 -race -timeout 10m -run '^TestMail' -v ./web/

# Installs Debian's postgresql if needed and runs the metadata tests and the
# conformance suite on a throwaway PostgreSQL server.
test-postgres:
	bash scripts/postgres.sh bash scripts/postgres-tests.sh

# Two replicas sharing a throwaway PostgreSQL and MinIO (built once with
# go install into .cache/bin), with the conformance suite and docker.
test-replicas:
	bash scripts/postgres.sh bash scripts/minio.sh bash scripts/dockerd.sh bash scripts/replicas.sh

# Installs Debian's chromium if needed; screenshots land in .cache/screenshots. Single
# sign-on runs against a real OpenID Connect provider (tools/oidcprovider)
# and docker logs in with the token it leads to.
e2e-browser:
	WHARF_DOCKER_E2E=1 bash scripts/oidc.sh bash scripts/dockerd.sh bash scripts/browser-e2e.sh

bench:
	bash scripts/postgres.sh bash scripts/minio.sh bash scripts/bench.sh
	$(GO) test -run '^$$' -bench 'BenchmarkPages' -benchtime 200x ./web/
	bash -o pipefail -c "$(GO) test -count=1 -run '^TestFanOutLosesNothing$$' -v ./server/api/ | grep -E 'deliveries/s|^(ok|FAIL)'"
	bash -o pipefail -c "$(GO) test -run '^$$' -bench 'BenchmarkSearch' -benchtime 300x -timeout 20m -v ./search/ | grep -E 'indexed|compacted|p50 |^(ok|FAIL|---)'"

fuzz:
	bash scripts/fuzz.sh

clean:
	rm -rf bin .cache
