#!/bin/sh
# Run each libFuzzer target for SECONDS (built by `make fuzz-build`).
# Prints one line per target with its executions and ends with
# "N passed, N failed": a target fails if it found a crash, leak, hang or
# sanitizer report, or did not run. Artifacts: build/fuzz/artifacts/<target>/.
#
# usage: fuzz/run-fuzz.sh SECONDS TARGET...
set -u
secs=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
B=${BUILD:-$here/../build}/fuzz
passed=0 failed=0 total=0
for t in "$@"; do
	bin=$B/fuzz-$t
	case $t in
	meta-open|meta-check) seeds=$B/seeds/meta max=65536 ;;
	meta-restore) seeds=$B/seeds/meta-restore max=8192 ;;
	target-args) seeds=$B/seeds/target-args max=1024 ;;
	*) seeds="" max=4096 ;;
	esac
	corpus=$B/corpus/$t art=$B/artifacts/$t/
	mkdir -p "$corpus" "$art"
	# Inputs that once crashed a target are run first, every time.
	regress=""
	[ -d "$here/regress/$t" ] && regress=$here/regress/$t
	log=$B/$t.log
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz-$t: not built"
		failed=$((failed + 1))
		continue
	fi
	# -timeout: one input taking longer is a hang; -rss_limit_mb bounds leaks.
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	"$bin" -max_total_time="$secs" -max_len=$max -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art" "$corpus" $seeds $regress \
		> "$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1)
	total=$((total + ${execs:-0}))
	if [ $status -eq 0 ] && [ -n "$execs" ]; then
		echo "ok - fuzz-$t: ${execs} executions in ${secs}s, $cov, nothing found"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz-$t: exit status $status after ${execs:-?} executions (log $log)"
		grep -E -m1 -A25 'ERROR: |runtime error|BUG|deadly signal|Timeout|out-of-memory' "$log" | sed 's/^/    | /'
		ls "$art" | sed 's/^/    artifact: /'
		failed=$((failed + 1))
	fi
done
echo "# fuzz: $total executions in all"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
