# Shared by the metadata oracle shell tests (sourced, not run, from bash):
# paths, scratch space, a pool of parallel jobs, pass/fail counting and the
# closing "N passed, N failed".

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# `ctpool meta` alone (the same sources as in build/ctpool).
CTPOOL=$BUILD/tests/unit/thin/ctpool-meta
THIN_GEN=$BUILD/tests/unit/thin/thin-gen
META_ASAN=$BUILD/tests/unit/thin/ctpool-meta-asan
GEN_XML="python3 $ROOT/tests/oracle/meta-gen-xml.py"

# Commits fsync: keep scratch images on tmpfs when there is one.
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then
	TMPDIR=/dev/shm
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/meta-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Each case runs as a background job writing one result line to its own
# file: the external tools mostly wait, so a few at a time go faster.
JOBS=${META_TEST_JOBS:-4}
mkdir -p "$WORK/results"

pass() {
	echo PASS > "$WORK/results/$CASE"
}

# fail WHY [FILE...]: say why, keep the evidence.
fail() {
	why=$1
	shift
	echo "FAIL $CASE: $why" > "$WORK/results/$CASE"
	if [ $# -gt 0 ]; then
		keep=${META_TEST_KEEP:-/tmp/meta-test-failures}
		mkdir -p "$keep"
		cp "$@" "$keep/" 2>/dev/null || true
		echo "  (evidence in $keep)" >> "$WORK/results/$CASE"
	fi
}

# runs_ok WHAT [EVIDENCE...] -- CMD...: CMD (a checker, a writer) succeeds;
# else the case fails as "WHAT: <the first lines CMD printed>", keeping the
# evidence files, and runs_ok returns 1.
runs_ok() {
	local what=$1 ev=()
	shift
	while [ "$1" != -- ]; do
		ev+=("$1")
		shift
	done
	shift
	"$@" > "$T/run.out" 2>&1 && return 0
	fail "$what: $(head -n 3 "$T/run.out")" "${ev[@]}"
	return 1
}

# files_agree WHAT EXPECTED GOT [EVIDENCE...]: the files EXPECTED and GOT are
# the same; else the case fails as WHAT, keeping the evidence files, and
# files_agree returns 1.
files_agree() {
	local what=$1 expected=$2 got=$3
	shift 3
	cmp -s "$expected" "$got" && return 0
	fail "$what" "$@"
	return 1
}

# spawn NAME FUNCTION ARGS...: run a case in the pool.
spawn() {
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
	done
	CASE=$1
	shift
	(
		mkdir -p "$WORK/$CASE.d"
		T=$WORK/$CASE.d "$@"
		rm -rf "$WORK/$CASE.d"
	) &
}

need() {
	for t in "$@"; do
		if ! command -v "$t" > /dev/null 2>&1 && [ ! -x "$t" ]; then
			echo "missing $t: run make deps && make userspace"
			echo "0 passed, 1 failed"
			exit 1
		fi
	done
}

finish() {
	wait
	passed=0
	failed=0
	for r in "$WORK"/results/*; do
		[ -f "$r" ] || continue
		if [ "$(head -n 1 "$r")" = PASS ]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			cat "$r"
		fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# A zeroed metadata file of $2 MiB.
blank() {
	rm -f "$1"
	truncate -s "${2}M" "$1"
}

# checkers_accept IMG: thin_check and `ctpool meta check` both pass IMG;
# otherwise the case fails (with the image kept) and this returns 1.
checkers_accept() {
	for checker in thin_check "$CTPOOL meta check"; do
		if ! $checker -q "$1" > "$T/checker.out" 2>&1; then
			fail "$checker rejects $(basename "$1"): $(head -n 3 "$T/checker.out")" "$1"
			return 1
		fi
	done
}
