#!/usr/bin/env bash
# scripts/bench.sh — `make bench`: Wharf vs CNCF Distribution, side by side.
#
# Both registries are driven by the same load generator (bench/cmd/regbench)
# with the same flags, one after the other on this machine, so the numbers
# are directly comparable. Each registry gets a fresh data dir on loopback;
# only one registry is under load at a time, and Distribution is stopped
# (and its data deleted) before Wharf is measured, so neither pays for the
# other's dirty page cache or disk usage.
#
# Auth is on for both, the way docker uses a registry:
#   * Wharf is started first. It is the Docker token server for both sides:
#     `GET /v2/` answers 401 with `Bearer realm="<wharf>/v2/token",
#     service="<host:port>"`, and the realm issues ES256 JWTs (iss = Wharf's
#     base URL, aud = service, header kid) that live 5 minutes. A user
#     `bench` is created; it owns the namespace bench/, so a token for
#     repository:bench/regbench:pull,push grants both.
#   * `regbench -token-info` reads the realm and service from that challenge,
#     fetches a token for bench/regbench to learn the issuer (and checks its
#     audience and grants), and saves Wharf's public key set from
#     /.well-known/jwks.json into the temp dir.
#   * Distribution runs with `auth: token:` set to that realm, service and
#     issuer and `jwks:` to that file (keys matched by kid, ES256 only,
#     no autoredirect), so it accepts exactly Wharf's tokens.
#   * regbench runs with `-auth token -user bench` against both: it never
#     sends Basic credentials to a registry; it learns the realm from the 401
#     on /v2/, fetches one token per scope from Wharf's realm (Basic there),
#     caches it and sends it as Bearer on every request, renewing it before
#     it expires. The token a timed transfer needs is fetched before its
#     clock starts (and rate tests warm up first), so Wharf's first-login
#     password hash (~150 ms) is never timed on either side. Its
#     token_fetches and auth_401s results (summed over both regbench runs of
#     a side) show that tokens are fetched once per scope and reused.
#   * Wharf keeps running (idle, serving a few token requests) while
#     Distribution is measured, then is measured itself.
#
# Reading the numbers: Wharf fsyncs a blob before answering the commit PUT;
# Distribution's filesystem driver never fsyncs, so its pushes end while
# the data is still dirty in the page cache (regbench logs the PATCH/PUT
# split). The machine is shared and noisy: compare several runs.
#
# Knobs (environment):
#   BENCH_BLOB_SIZE      big blob size in bytes for push/pull   (536870912)
#   BENCH_DURATION       length of each request-rate test       (10s)
#   BENCH_CONCURRENCY    concurrent clients for those tests     (16)
#   BENCH_RSS_BLOB_SIZE  blob pushed while measuring peak RSS   (2147483648)
#   BENCH_MIRRORS        0 skips the mirror cases (see there)   (1)
#   BENCH_MAIN           0 skips everything before them         (1)
#
# Run under scripts/postgres.sh and scripts/minio.sh (as `make bench` does),
# two more sides compare the scale-out setup, after the first two and in the
# same way: "s3+pg" is Wharf with its metadata in that PostgreSQL and its
# blobs in that MinIO, and the token server of "distribution-s3", the same
# Distribution with its S3 driver on that MinIO (all on this machine's
# loopback). The second ratio compares these two.
#
#   BENCH_WHARF_BIN      use this wharf binary instead of `make build`'s
#                        bin/wharf (e.g. a build saved while the tree is
#                        being edited, or an older build to compare with)
#   BENCH_WHARF_CMD      replace the measured Wharf, for testing the harness
#                        (the wharf binary still runs as the token server):
#                        "distribution" runs a second Distribution, with the
#                        same token auth, in its place; anything else is a
#                        simple command in which {addr} and {data} are
#                        substituted (it is measured with -auth token too,
#                        so it must accept Wharf's tokens or need no auth;
#                        use `env VAR=x cmd` for variables).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DIST_VERSION=v3.1.2
DIST_PKG=github.com/distribution/distribution/v3/cmd/registry
BLOB_SIZE=${BENCH_BLOB_SIZE:-536870912}
DURATION=${BENCH_DURATION:-10s}
CONC=${BENCH_CONCURRENCY:-16}
RSS_BLOB_SIZE=${BENCH_RSS_BLOB_SIZE:-2147483648}
RSS_LIMIT_MIB=100
if ((RSS_BLOB_SIZE % (1 << 30) == 0)); then RSS_LABEL=$((RSS_BLOB_SIZE >> 30))GiB; else RSS_LABEL=${RSS_BLOB_SIZE}B; fi
WHARF_CMD=${BENCH_WHARF_CMD:-}
CACHE=$ROOT/.cache
BIN=$CACHE/bin
REGBENCH=$BIN/regbench
WHARF_USER=bench
REPO=bench/regbench # in the bench user's namespace on Wharf; same name on Distribution
WHARF_PASS="Bench-Pw-1-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# --- setup -------------------------------------------------------------------

# .cache/ holds the pinned Distribution binary and regbench; keep it out of git.
if ! { [ -f .gitignore ] && grep -qxF '.cache/' .gitignore; }; then
	if [ -s .gitignore ] && [ -n "$(tail -c1 .gitignore)" ]; then echo >>.gitignore; fi
	echo '.cache/' >>.gitignore
fi
mkdir -p "$BIN"

# Wharf is always needed: even when BENCH_WHARF_CMD replaces the measured
# side, it is the token server.
WHARF_BIN=${BENCH_WHARF_BIN:-}
if [ -n "$WHARF_BIN" ]; then
	[ -x "$WHARF_BIN" ] || die "BENCH_WHARF_BIN=$WHARF_BIN is not an executable"
	WHARF_BIN=$(cd "$(dirname "$WHARF_BIN")" && pwd)/$(basename "$WHARF_BIN")
	log "using $WHARF_BIN (BENCH_WHARF_BIN; no make build)"
else
	log "building wharf (make build)"
	make build
	[ -x bin/wharf ] || die "make build did not produce bin/wharf"
	WHARF_BIN=$ROOT/bin/wharf
fi

# Pinned Distribution, built once into .cache/bin (rebuilt if the pin moves).
if [ -x "$BIN/registry" ] && go version -m "$BIN/registry" 2>/dev/null |
	grep -qE "^[[:space:]]+mod[[:space:]]+github.com/distribution/distribution/v3[[:space:]]+$DIST_VERSION[[:space:]]"; then
	log "distribution $DIST_VERSION already in $BIN"
else
	log "installing distribution $DIST_VERSION (first run only, takes a few minutes)"
	GOBIN="$BIN" GOWORK=off go install "$DIST_PKG@$DIST_VERSION"
fi

log "building regbench"
(cd bench && GOWORK=off go build -o "$REGBENCH" ./cmd/regbench)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/wharf-bench.XXXXXX")
SERVER_PID= # the registry being measured
UPSTREAM_PID= # the mirror cases' upstream
WHARF_PID=  # $WHARF_BIN, the token server (and the measured Wharf)
WHARF_URL=
WHARF_DIR=
RB_PID=
CURRENT_SIDE=
cleanup() {
	local rc=$?
	if [ -n "$RB_PID" ]; then
		kill -TERM "$RB_PID" 2>/dev/null || true # timeout(1) passes it on
		wait "$RB_PID" 2>/dev/null || true
	fi
	if [ "$rc" != 0 ] && [ -n "$CURRENT_SIDE" ] && [ -f "$TMP/$CURRENT_SIDE/server.log" ]; then
		printf '\n--- last lines of the %s server log ---\n' "$CURRENT_SIDE" >&2
		tail -n 20 "$TMP/$CURRENT_SIDE/server.log" >&2 || true
	fi
	if [ "$rc" != 0 ] && [ -n "$WHARF_PID" ] && [ "$SERVER_PID" != "$WHARF_PID" ] && [ -f "$WHARF_DIR/server.log" ]; then
		printf '\n--- last lines of the wharf (token server) log ---\n' >&2
		tail -n 10 "$WHARF_DIR/server.log" >&2 || true
	fi
	[ -n "$SERVER_PID" ] && stop_server
	[ -n "$WHARF_PID" ] && stop_pid "$WHARF_PID"
	[ -n "$UPSTREAM_PID" ] && stop_pid "$UPSTREAM_PID"
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each side needs room for both blobs, and a registry may briefly hold an
# upload twice (temp file + committed blob).
need_kib=$(((BLOB_SIZE + RSS_BLOB_SIZE) * 2 / 1024 + 262144))
have_kib=$(df -Pk "$TMP" | awk 'NR==2 {print $4}')
[ "$have_kib" -ge "$need_kib" ] || die "need $((need_kib / 1024)) MiB free in $TMP, have $((have_kib / 1024)) MiB"

# --- servers -----------------------------------------------------------------

# wait_ready NAME URL PID waits until URL answers HTTP and PID is alive.
wait_ready() {
	local name=$1 url=$2 pid=$3
	if ! "$REGBENCH" -registry "$url" -only ping -wait 30s 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; then
		die "$name did not come up on $url"
	fi
}

# stop_server stops the measured registry; if that is the token server
# too, it is then gone as well.
stop_server() {
	local pid=$SERVER_PID
	SERVER_PID=
	[ "$pid" = "$WHARF_PID" ] && WHARF_PID=
	stop_pid "$pid"
}

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# start_distribution NAME: filesystem storage, token auth trusting Wharf's
# key (TOKEN_* and $JWKS, see the header), access log and OpenTelemetry off
# (v3 otherwise tries to export traces to localhost:4318 on every request,
# which would be measured as registry overhead).
start_distribution() {
	local name=$1 port dir storage
	port=$("$REGBENCH" -free-port)
	dir=$TMP/$name
	mkdir -p "$dir/data"
	storage="  filesystem:
    rootdirectory: $dir/data"
	if [ -n "${DIST_S3:-}" ]; then
		# Its S3 driver does not make its bucket. Blobs are served through
		# it, not by redirect, as Wharf does by default.
		curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$WHARF_TEST_S3_ACCESS_KEY:$WHARF_TEST_S3_SECRET_KEY" \
			-X PUT "http://$WHARF_TEST_S3_ENDPOINT/bench-distribution" >/dev/null ||
			die "cannot create the bench-distribution bucket"
		storage="  s3:
    accesskey: $WHARF_TEST_S3_ACCESS_KEY
    secretkey: $WHARF_TEST_S3_SECRET_KEY
    region: us-east-1
    regionendpoint: http://$WHARF_TEST_S3_ENDPOINT
    forcepathstyle: true
    bucket: bench-distribution
    secure: false
    v4auth: true
  redirect:
    disable: true"
	fi
	# DIST_PROXY=URL: a pull-through cache of that registry (its proxy
	# mode); DIST_NOAUTH=1: no auth (the upstream of the mirror cases).
	local auth="auth:
  token:
    realm: \"$TOKEN_REALM\"
    service: \"$TOKEN_SERVICE\"
    issuer: \"$TOKEN_ISSUER\"
    jwks: \"$JWKS\"
    signingalgorithms: [ES256]
    autoredirect: false"
	[ -n "${DIST_NOAUTH:-}" ] && auth=
	[ -n "${DIST_PROXY:-}" ] && auth="$auth
proxy:
  remoteurl: $DIST_PROXY"
	cat >"$dir/config.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		  accesslog:
		    disabled: true
		storage:
		$storage
		  cache:
		    blobdescriptor: inmemory
		http:
		  addr: 127.0.0.1:$port
		  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		$auth
	EOF
	OTEL_SDK_DISABLED=true OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \
		"$BIN/registry" serve "$dir/config.yml" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	SERVER_URL=http://127.0.0.1:$port
	wait_ready "$name" "$SERVER_URL" "$SERVER_PID"
}

# start_token_server: $WHARF_BIN with a fresh data dir and the bench user;
# it serves tokens for both sides and, unless BENCH_WHARF_CMD replaces it,
# is the measured Wharf as well. Sets WHARF_PID, WHARF_URL and TOKEN_*, and
# writes Wharf's JWKS to $JWKS.
start_token_server() {
	local side=${1:-wharf} port dir addr
	port=$("$REGBENCH" -free-port)
	addr=127.0.0.1:$port
	dir=$TMP/$side
	[ -n "$WHARF_CMD" ] && [ "$side" = wharf ] && dir=$TMP/token-server
	WHARF_DIR=$dir
	mkdir -p "$dir/data"
	# Create the user before serving (no concurrent writers on a fresh data
	# dir); if this build needs the server's initialisation first, retry
	# once it is up.
	local created=0
	if printf '%s' "$WHARF_PASS" | env "${TOKEN_ENV[@]}" "$WHARF_BIN" user create "$WHARF_USER" --email bench@example.com \
		--password-stdin --data-dir "$dir/data" >"$dir/user.log" 2>&1; then
		created=1
	fi
	# env execs wharf, so $! is the server itself, whose RSS we measure.
	env "${TOKEN_ENV[@]}" "$WHARF_BIN" serve --addr "$addr" --data-dir "$dir/data" "${WHARF_ARGS[@]}" >"$dir/server.log" 2>&1 &
	WHARF_PID=$!
	WHARF_URL=http://$addr
	wait_ready wharf "$WHARF_URL" "$WHARF_PID"
	if [ "$created" = 0 ]; then
		printf '%s' "$WHARF_PASS" | env "${TOKEN_ENV[@]}" "$WHARF_BIN" user create "$WHARF_USER" --email bench@example.com \
			--password-stdin --data-dir "$dir/data" >>"$dir/user.log" 2>&1 ||
			{ cat "$dir/user.log" >&2; die "wharf user create failed"; }
	fi

	local info k v
	info=$("$REGBENCH" -registry "$WHARF_URL" -user "$WHARF_USER" -pass "$WHARF_PASS" -repo "$REPO" -token-info "$JWKS") ||
		die "wharf is not usable as a token server (see above)"
	while IFS='=' read -r k v; do
		case $k in
		realm) TOKEN_REALM=$v ;;
		service) TOKEN_SERVICE=$v ;;
		issuer) TOKEN_ISSUER=$v ;;
		esac
	done <<<"$info"
	[ -n "${TOKEN_REALM:-}" ] && [ -n "${TOKEN_SERVICE:-}" ] && [ -n "${TOKEN_ISSUER:-}" ] ||
		die "regbench -token-info printed no realm/service/issuer"
	log "token server: realm $TOKEN_REALM, service $TOKEN_SERVICE, issuer $TOKEN_ISSUER, JWKS $JWKS"
}

# start_wharf: the measured Wharf is the token server already running;
# BENCH_WHARF_CMD swaps in another server.
start_wharf() {
	local port dir addr
	if [ -z "$WHARF_CMD" ]; then
		SERVER_PID=$WHARF_PID
		SERVER_URL=$WHARF_URL
		kill -0 "$SERVER_PID" 2>/dev/null || die "wharf (pid $SERVER_PID) is no longer running"
		return
	fi
	if [ "$WHARF_CMD" = distribution ]; then
		start_distribution wharf
		return
	fi
	port=$("$REGBENCH" -free-port)
	addr=127.0.0.1:$port
	dir=$TMP/wharf
	mkdir -p "$dir/data"
	SERVER_URL=http://$addr
	local cmd=${WHARF_CMD//\{addr\}/$addr}
	cmd=${cmd//\{data\}/$dir/data}
	# exec so that $! is the server itself, whose RSS we measure.
	bash -c "exec $cmd" >"$dir/server.log" 2>&1 &
	SERVER_PID=$!
	wait_ready wharf "$SERVER_URL" "$SERVER_PID"
}

# --- measurement -------------------------------------------------------------

RESULTS=$TMP/results.tsv # side<TAB>name<TAB>value<TAB>unit
: >"$RESULTS"

# regbench SIDE ARGS...: run regbench against the current server and add
# its RESULT lines to $RESULTS. It runs in the background and we `wait` for
# it because bash only runs traps between foreground commands: this way
# Ctrl-C/TERM cleans up at once instead of after the current load test.
regbench() {
	local side=$1 rc=0
	shift
	local res=$TMP/$side/results.txt
	: >"$res"
	timeout -k 10 900 "$REGBENCH" -registry "$SERVER_URL" -results "$res" "$@" &
	RB_PID=$!
	wait "$RB_PID" || rc=$?
	RB_PID=
	[ "$rc" = 0 ] || die "regbench failed against $side (exit $rc)"
	awk -v side="$side" '$1 == "RESULT" {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "%s\t%s\t%s\t%s\n", side, f["name"], f["value"], f["unit"] }' "$res" >>"$RESULTS"
}

rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# bench_side SIDE START_FN [regbench flags...]: start (or adopt) the
# registry, measure it, stop it and delete its data.
bench_side() {
	local side=$1 start=$2
	shift 2
	CURRENT_SIDE=$side
	log "$side: starting"
	"$start" "$side"
	log "$side: regbench -blob-size $BLOB_SIZE -c $CONC -duration $DURATION ($SERVER_URL)"
	regbench "$side" "$@" -blob-size "$BLOB_SIZE" -c "$CONC" -duration "$DURATION"
	sync # flush this run's writes so the RSS push starts from a quiet disk

	# Reset the high-water mark to the current RSS (Linux >= 4.0) so VmHWM
	# covers exactly the big push; otherwise fall back to the lifetime peak.
	local scope=push
	if ! { echo 5 >"/proc/$SERVER_PID/clear_refs"; } 2>/dev/null; then
		scope=lifetime
		log "$side: cannot reset VmHWM; reporting lifetime peak RSS"
	fi
	log "$side: peak RSS during a $RSS_BLOB_SIZE-byte push (pid $SERVER_PID, baseline $(rss_kib "$SERVER_PID" VmRSS) KiB)"
	regbench "$side" "$@" -blob-size "$RSS_BLOB_SIZE" -seed 2 -only push
	kill -0 "$SERVER_PID" 2>/dev/null || die "$side exited during the RSS test"
	local hwm
	hwm=$(rss_kib "$SERVER_PID" VmHWM)
	printf '%s\t%s\t%s\tMiB\n' "$side" "peak_rss_${scope}_$RSS_LABEL" "$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')" >>"$RESULTS"
	log "$side: peak RSS (VmHWM, $scope) $hwm KiB"

	stop_server
	rm -rf "${TMP:?}/$side/data"
	sync
	CURRENT_SIDE=
}

log "blob ${BLOB_SIZE}B, RSS blob ${RSS_BLOB_SIZE}B, c=$CONC, duration=$DURATION, $(nproc) CPUs, $(go env GOVERSION)"
JWKS=$TMP/jwks.json
TOKEN_REALM= TOKEN_SERVICE= TOKEN_ISSUER=
TOKEN_ENV=()  # extra environment of the token server (the S3 sides set it)
WHARF_ARGS=() # extra flags of its serve (the mirror cases set them)
AUTH_FLAGS=(-auth token -user "$WHARF_USER" -pass "$WHARF_PASS" -repo "$REPO")
if [ "${BENCH_MAIN:-1}" = 1 ]; then
	log "wharf: starting (token server for both sides)"
	start_token_server
	bench_side distribution start_distribution "${AUTH_FLAGS[@]}"
	bench_side wharf start_wharf "${AUTH_FLAGS[@]}"
	if [ -n "${WHARF_TEST_DATABASE:-}" ] && [ -n "${WHARF_TEST_S3_ENDPOINT:-}" ]; then
		# The same again on the scale-out setup: Wharf on PostgreSQL and MinIO
		# is the token server, Distribution uses its S3 driver on that MinIO.
		TOKEN_ENV=(WHARF_DATABASE="$WHARF_TEST_DATABASE" WHARF_STORAGE=s3 WHARF_S3_ENDPOINT="$WHARF_TEST_S3_ENDPOINT"
			WHARF_S3_BUCKET=bench WHARF_S3_TLS=false WHARF_S3_ACCESS_KEY="$WHARF_TEST_S3_ACCESS_KEY"
			WHARF_S3_SECRET_KEY="$WHARF_TEST_S3_SECRET_KEY")
		log "s3+pg: starting (token server for the S3 sides)"
		start_token_server s3+pg
		DIST_S3=1 bench_side distribution-s3 start_distribution "${AUTH_FLAGS[@]}"
		bench_side s3+pg start_wharf "${AUTH_FLAGS[@]}"
	else
		log "S3 sides skipped (run under scripts/postgres.sh and scripts/minio.sh, as make bench does)"
	fi
else
	log "push, pull and request-rate sides skipped (BENCH_MAIN=0)"
fi

# --- mirror cases ------------------------------------------------------------
#
# Wharf as a pull-through cache against Distribution's proxy mode, with the
# same upstream: a third Distribution with no auth (on loopback, so "the
# network" costs what loopback costs) holding $MIRROR_REPO:bench, an image
# whose one layer is a $BLOB_SIZE-byte blob. Both mirrors answer that
# Docker Hub style name at their root, the way dockerd's registry-mirrors
# asks: Wharf with --mirror hub=<upstream> --registry-mirror hub, which is
# also the token server of both (a token for library/bench grants pull
# through the root mirror), and Distribution with proxy: remoteurl.
#
# On each mirror: cold pulls of three such images' blobs (the first
# request either sees for each, timed; the median is reported, and the
# peak RSS over the three), then the cached pull (median of 3) and
# the manifest GET/HEAD and blob HEAD rates within the TTL. On Wharf the
# same workloads then run on a locally pushed image of the same size (other
# bytes, so nothing is shared with the cached one): a cached pull should
# cost no more than a local one. The upstream's own pull (median of 3) is
# the direct pull a cold pull is held against.
MIRROR_REPO=library/bench
MIRROR_SEED=3        # the image of the cached workloads; tagged s3
COLD_SEEDS=(3 5 6)   # the images pulled cold; tagged s<seed>
LOCAL_SEED=4

# mirror_side SIDE: the cold pull, then the cached workloads, on the
# running SERVER_URL.
mirror_side() {
	local side=$1 scope=cold_pull hwm
	local flags=("${AUTH_FLAGS[@]}" -repo "$MIRROR_REPO" -blob-size "$BLOB_SIZE" -readonly) seed
	{ echo 5 >"/proc/$SERVER_PID/clear_refs"; } 2>/dev/null || scope=lifetime
	printf '%s\trss_before_cold_pull\t%s\tMiB\n' "$side" "$(awk -v k="$(rss_kib "$SERVER_PID" VmRSS)" 'BEGIN {printf "%.1f", k / 1024}')" >>"$RESULTS"
	for seed in "${COLD_SEEDS[@]}"; do
		log "$side: cold pull of $MIRROR_REPO:s$seed's $BLOB_SIZE-byte blob through the mirror"
		regbench "$side" "${flags[@]}" -seed "$seed" -tag "s$seed" -prefix cold_ -only pull
	done
	hwm=$(rss_kib "$SERVER_PID" VmHWM)
	printf '%s\tpeak_rss_%s\t%s\tMiB\n' "$side" "$scope" "$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')" >>"$RESULTS"
	log "$side: cached pulls and request rates"
	regbench "$side" "${flags[@]}" -seed "$MIRROR_SEED" -tag "s$MIRROR_SEED" -pulls 3 \
		-only pull,manifest_get,manifest_head,blob_head -c "$CONC" -duration "$DURATION"
}

bench_mirrors() {
	MAIN_RESULTS=$RESULTS
	RESULTS=$TMP/mirror-results.tsv
	: >"$RESULTS"
	TOKEN_ENV=()

	CURRENT_SIDE=upstream
	log "upstream: a Distribution with no auth, holding $MIRROR_REPO:s${COLD_SEEDS[*]}"
	DIST_NOAUTH=1 start_distribution upstream
	UPSTREAM_PID=$SERVER_PID UPSTREAM_URL=$SERVER_URL SERVER_PID=
	mkdir -p "$TMP/upstream-setup"
	local seed
	for seed in "${COLD_SEEDS[@]}"; do
		regbench upstream-setup -repo "$MIRROR_REPO" -seed "$seed" -tag "s$seed" -blob-size "$BLOB_SIZE" -only push,image
	done
	log "upstream: direct pulls"
	regbench upstream -repo "$MIRROR_REPO" -seed "$MIRROR_SEED" -tag "s$MIRROR_SEED" -blob-size "$BLOB_SIZE" -readonly -pulls 3 -only pull

	log "wharf-mirror: starting (--mirror hub=$UPSTREAM_URL --registry-mirror hub; token server for both mirrors)"
	WHARF_ARGS=(--mirror "hub=$UPSTREAM_URL" --registry-mirror hub)
	start_token_server wharf-mirror
	WHARF_ARGS=()

	CURRENT_SIDE=distribution-proxy
	DIST_PROXY=$UPSTREAM_URL start_distribution distribution-proxy
	mirror_side distribution-proxy
	stop_server
	rm -rf "${TMP:?}/distribution-proxy/data"
	sync

	CURRENT_SIDE=wharf-mirror
	SERVER_PID=$WHARF_PID SERVER_URL=$WHARF_URL
	mirror_side wharf-mirror
	log "wharf-local: the same workloads on a pushed image of the same size"
	mkdir -p "$TMP/wharf-local"
	regbench wharf-local "${AUTH_FLAGS[@]}" -seed "$LOCAL_SEED" -blob-size "$BLOB_SIZE" -pulls 3 \
		-only push,pull,manifest_get,manifest_head,blob_head -c "$CONC" -duration "$DURATION"
	stop_server
	stop_pid "$UPSTREAM_PID"
	UPSTREAM_PID=
	CURRENT_SIDE=
	RESULTS=$MAIN_RESULTS
}

if [ "${BENCH_MIRRORS:-1}" = 1 ]; then
	bench_mirrors
else
	log "mirror cases skipped (BENCH_MIRRORS=0)"
fi

# --- report ------------------------------------------------------------------

echo
awk -F'\t' -v limit="$RSS_LIMIT_MIB" -v cmd="${WHARF_CMD:-wharf}" -v wbin="$WHARF_BIN" -v label="$RSS_LABEL" '
	!($2 in seen) { seen[$2] = 1; order[++n] = $2; unit[$2] = $4 }
	$4 == "count" { v[$1, $2] += $3; next } # summed over both regbench runs
	{ v[$1, $2] = $3 }
	function fmtv(x) { return x == "" ? "-" : x }
	END {
		printf "%-24s %-6s %13s %13s %6s %13s %13s %6s\n", "metric", "unit", "distribution", "wharf", "ratio", "distr. on S3", "wharf s3+pg", "ratio"
		for (i = 1; i <= n; i++) {
			m = order[i]; d = v["distribution", m]; w = v["wharf", m]; ds = v["distribution-s3", m]; sp = v["s3+pg", m]
			lower = (unit[m] == "ms" || unit[m] == "MiB") # lower is better
			r = "-"
			if (unit[m] != "count" && d != "" && w != "" && d + 0 > 0 && w + 0 > 0)
				r = sprintf("%.2f", lower ? d / w : w / d)
			r2 = "-"
			if (unit[m] != "count" && ds != "" && sp != "" && ds + 0 > 0 && sp + 0 > 0)
				r2 = sprintf("%.2f", lower ? ds / sp : sp / ds)
			printf "%-24s %-6s %13s %13s %6s %13s %13s %6s\n", m, unit[m], fmtv(d), fmtv(w), r, fmtv(ds), fmtv(sp), r2
		}
		print ""
		print "ratio > 1.00 means Wharf is better (wharf/distribution for throughput,"
		print "distribution/wharf for latency and RSS); the second ratio compares both on"
		print "S3 (MinIO), Wharf with PostgreSQL. Every side uses Docker token auth"
		print "(Bearer tokens from Wharf'"'"'s realm, cached per scope; no Basic to either registry);"
		print "token_fetches and auth_401s are totals over the side'"'"'s two regbench runs."
		if (cmd != "wharf") print "NOTE: wharf side was replaced by BENCH_WHARF_CMD=" cmd
		else print "wharf binary: " wbin
		rss = v["wharf", "peak_rss_push_" label]; what = "during the " label " push"
		if (rss == "") { rss = v["wharf", "peak_rss_lifetime_" label]; what = "(lifetime, incl. the " label " push)" }
		if (rss == "") print "Wharf peak RSS: not measured"
		else printf "Wharf peak RSS %s: %s MiB; under %d MiB: %s\n", what, rss, limit,
			(rss + 0 < limit ? "YES" : "NO")
	}' "$RESULTS"

[ -s "$TMP/mirror-results.tsv" ] || exit 0
echo
echo "Mirror cases: a pull-through cache of one upstream (Distribution, loopback)"
awk -F'\t' -v label="$(awk -v n="$BLOB_SIZE" 'BEGIN { if (n % 1073741824 == 0) print n / 1073741824 "GiB"; else if (n % 1048576 == 0) print n / 1048576 "MiB"; else print n "B" }')" '
	$4 == "count" { next }
	!($2 in seen) { seen[$2] = 1; order[++n] = $2; unit[$2] = $4 }
	{ k = $1 SUBSEP $2; cnt[k]++; x[k, cnt[k]] = $3 }
	function fmtv(x) { return x == "" ? "-" : x }
	function ok(x) { return x ? "YES" : "NO" }
	# better(m, a, b): how many times better a is than b (> 1: a is better).
	function better(m, a, b) {
		if (a == "" || b == "" || a + 0 <= 0 || b + 0 <= 0) return ""
		return (unit[m] == "ms" || unit[m] == "MiB") ? b / a : a / b
	}
	END {
		for (k in cnt) { # the median where a side measured a metric more than once
			m = cnt[k]
			for (i = 2; i <= m; i++) for (j = i; j > 1 && x[k, j - 1] + 0 > x[k, j] + 0; j--) { t = x[k, j]; x[k, j] = x[k, j - 1]; x[k, j - 1] = t }
			v[k] = x[k, int((m + 1) / 2)]
		}
		printf "%-28s %-6s %11s %11s %11s %6s %11s %6s\n", "metric", "unit", "direct", "distr.proxy", "wharf", "ratio", "wharf local", "cost"
		bad = ""
		for (i = 1; i <= n; i++) {
			m = order[i]
			direct = v["upstream", m]
			if (m ~ /^cold_/) direct = v["upstream", substr(m, 6)]
			d = v["distribution-proxy", m]; w = v["wharf-mirror", m]; l = v["wharf-local", m]
			r = better(m, w, d); c = better(m, l, w)
			if (r != "" && r + 0 < 1 && m != "rss_before_cold_pull") bad = bad " " m # that one is no case, but what each starts from
			printf "%-28s %-6s %11s %11s %11s %6s %11s %6s\n", m, unit[m], fmtv(direct), fmtv(d), fmtv(w),
				r == "" ? "-" : sprintf("%.2f", r), fmtv(l), c == "" ? "-" : sprintf("%.2f", c)
		}
		print ""
		print "ratio: how many times better the Wharf mirror is than Distribution'"'"'s proxy (> 1.00: better);"
		print "cost: what a pull from the Wharf mirror costs against the same pull of a locally pushed image"
		print "(1.00: the same; time for ms, 1/throughput otherwise). direct: pulls from the upstream itself."
		print "A cold pull writes the blob to memory the kernel has to find pages for; on a VM that hands"
		print "freed memory back to its host, that costs about 2 ns a byte, on both mirrors alike."
		cold = v["wharf-mirror", "cold_pull_" label]; direct = v["upstream", "pull_" label]
		if (cold != "" && direct + 0 > 0)
			printf "cold pull through the Wharf mirror: %.0f%% of a direct pull from the upstream; at least 80%%: %s\n",
				100 * cold / direct, ok(cold / direct >= 0.8)
		cp = better("pull_" label, v["wharf-local", "pull_" label], v["wharf-mirror", "pull_" label])
		cm = better("manifest_get_rps", v["wharf-local", "manifest_get_rps"], v["wharf-mirror", "manifest_get_rps"])
		if (cp != "" && cm != "")
			printf "a cached pull costs %.2f× (blob) and %.2f× (manifest GET) a local pull; at most 1.10×: %s\n",
				cp, cm, ok(cp <= 1.1 && cm <= 1.1)
		printf "every ratio against Distribution'"'"'s proxy at least 1.00: %s%s\n", ok(bad == ""), bad == "" ? "" : " (below:" bad ")"
	}' "$TMP/mirror-results.tsv"
