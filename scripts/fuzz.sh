#!/usr/bin/env bash
# Runs every native Go fuzz target in the module for a bounded time each.
# go test -fuzz takes one package and one target per run, so the targets are
# found from the source (func FuzzXxx(f *testing.F) in *_test.go) and run
# one after another.
#
#   FUZZTIME=20s   time per target (any -fuzztime value: 30s, 1m, 10000x)
#   scripts/fuzz.sh [REGEXP]   only targets whose name matches REGEXP
#
# Fails if any target finds a failing input. go test then saves the input
# under <package>/testdata/fuzz/<Target>/, where it replays as a normal test
# case (go test ./...) until the bug is fixed; commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-20s}
filter=${1:-.}

# "pkgdir target" pairs, sorted.
targets=$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '^\./\.' |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' |
	sort -u) || true
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

failed=()
ran=0
while read -r dir name; do
	if ! [[ $name =~ $filter ]]; then
		continue
	fi
	ran=$((ran + 1))
	echo "== $name (./$dir, $fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"; then
		failed+=("$name (./$dir)")
	fi
done <<<"$targets"

if [ "$ran" -eq 0 ]; then
	echo "fuzz: no target matches $filter" >&2
	exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} of $ran targets failed:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "fuzz: all $ran targets passed ($fuzztime each)"
