#!/usr/bin/env bash
# Runs the pinned upstream OCI distribution-spec conformance suite against a
# fresh Wharf with every workflow on. Fails unless 0 tests fail or skip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p .cache/bin
(cd tools/conformance && go build -o "$root/.cache/bin/oci-conformance" github.com/opencontainers/distribution-spec/conformance)
work=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# CONFORMANCE_TLS=1 serves the fresh Wharf over HTTPS, with a certificate
# from a CA made here that the suite trusts (SSL_CERT_FILE) and nothing
# else does.
tls=${CONFORMANCE_TLS:-}
tlsflags=()
if [ -n "$tls" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=Wharf conformance CA" \
		-keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$work/key.pem" -out "$work/req.pem" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$work/ext.cnf"
	openssl x509 -req -in "$work/req.pem" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
		-extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null
	tlsflags=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem")
	export SSL_CERT_FILE="$work/ca.pem"
fi

# CONFORMANCE_TARGET=host:port runs the suite against a registry already
# serving there (with CONFORMANCE_USER and CONFORMANCE_PASSWORD), such as
# the replicas behind TestReplicas' balancer.
user=${CONFORMANCE_USER:-conformance} password=${CONFORMANCE_PASSWORD:-conformance-pass-1}
addr=${CONFORMANCE_TARGET:-}
if [ -z "$addr" ]; then
	make -s build
	printf '%s\n' "$password" | bin/wharf user create "$user" --email conformance@example.com --password-stdin --data-dir "$work/data" >/dev/null
	bin/wharf serve --addr 127.0.0.1:0 --data-dir "$work/data" --log-level info "${tlsflags[@]}" >"$work/wharf.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do
		addr=$(sed -n 's/.*msg="wharf listening" addr=\([0-9.:]*\).*/\1/p' "$work/wharf.log" | head -1)
		[ -n "$addr" ] && break
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "conformance: wharf did not start" >&2; cat "$work/wharf.log" >&2; exit 1; }
fi

results=${CONFORMANCE_RESULTS:-$root/.cache/conformance}
rm -rf "$results"
export OCI_REGISTRY="$addr" OCI_TLS=disabled OCI_VERSION=1.1
[ -n "$tls" ] && export OCI_TLS=enabled
export OCI_REPO1=conformance/repo1 OCI_REPO2=conformance/repo2
export OCI_USERNAME="$user" OCI_PASSWORD="$password"
export OCI_RESULTS_DIR="$results" OCI_LOG=warn
export OCI_API_PULL=true OCI_API_PUSH=true
export OCI_API_BLOBS_ATOMIC=true OCI_API_BLOBS_DELETE=true OCI_API_BLOBS_DIGEST_HEADER=true
export OCI_API_BLOBS_MOUNT_ANONYMOUS=true OCI_API_BLOBS_UPLOAD_CANCEL=true
export OCI_API_MANIFESTS_ATOMIC=true OCI_API_MANIFESTS_DELETE=true OCI_API_MANIFESTS_DIGEST_HEADER=true
export OCI_API_MANIFESTS_TAG_PARAM=true
export OCI_API_TAGS_ATOMIC=true OCI_API_TAGS_DELETE=true OCI_API_TAGS_LIST=true
export OCI_API_REFERRER=true
export OCI_DATA_IMAGE=true OCI_DATA_INDEX=true OCI_DATA_INDEX_LIST=true OCI_DATA_SPARSE=false
export OCI_DATA_ARTIFACT=true OCI_DATA_SUBJECT=true OCI_DATA_SUBJECT_MISSING=true
export OCI_DATA_ARTIFACT_LIST=true OCI_DATA_SUBJECT_LIST=true OCI_DATA_DATA_FIELD=true
export OCI_DATA_NONDISTRIBUTABLE=true OCI_DATA_CUSTOM_FIELDS=true OCI_DATA_NO_LAYERS=true
export OCI_DATA_EMPTY_BLOB=true OCI_DATA_SHA512=true

status=0
(cd "$work" && "$root/.cache/bin/oci-conformance") | tee "$work/summary.txt" || status=$?
if [ "$status" -ne 0 ]; then
	echo "conformance: the suite reported failures (exit $status); report in $results/report.html" >&2
	[ -f "$work/wharf.log" ] && { echo "--- wharf log ---" >&2; tail -50 "$work/wharf.log" >&2; }
	exit 1
fi
count() { sed -n "s/^ *$1\.*: *\([0-9]*\)$/\1/p" "$work/summary.txt" | tail -1; }
passed=$(count Pass) failed=$(count FAIL) skipped=$(count Skip) errored=$(count Error)
if [ -z "$passed" ] || [ "$failed" != 0 ] || [ "$skipped" != 0 ] || [ "$errored" != 0 ]; then
	echo "conformance: failed=$failed skipped=$skipped errors=$errored; report in $results/report.html" >&2
	exit 1
fi
echo "conformance${tls:+ over TLS}: $passed passed, 0 failed, 0 skipped"
