#!/bin/bash
# The one test runner behind `make check`.
#
# Layout: a test's folder says what it needs.
#   tests/unit/<layer>/  one layer alone on the host: pd (block manager, tm,
#                        btree, checksum, target-args), sm (space maps), thin
#                        (thin metadata), cli (parsers, state store), runtime
#                        (container confinement, entry, extraction, OCI).
#                        Helpers shared by several layers sit in tests/unit/.
#   tests/oracle/        metadata written by ctpool judged by
#                        thin-provisioning-tools (thin_check, thin_dump, ...)
#   tests/tree/          checks of the whole tree: style, fuzz smoke, install
#   tests/vm/            in the QEMU guest (qemu/run-vm.sh); flat: boots are
#                        grouped by each test's "# vm-options:" line
#   tests/stress/        long runs of `make stress` (own runner, not run here)
# Naming: lowercase <area>-<what>. In unit/*/, oracle/, tree/ and vm/ a test
# is a C file <name>-test.c built to build/tests/<folder>/<name>-test (and
# <name>-asan-test), or a script <name>.sh: every *.sh there is a test.
# Everything else is a helper and is named so: *-util.c and other .c without
# -test (tools such as thin-gen.c), *.h, sourced *.bash, *.py, make fragments
# <what>.mk (read by the top-level Makefile). A test's name below is its path
# under tests/ without the suffix: unit/pd/core-bm-test, oracle/meta-usage,
# vm/cli-pool.
#
# Runs, in order:
#   host tests  every executable build/tests/unit/*/*-test, and every *.sh in
#               tests/unit/*/, tests/oracle/ and tests/tree/. A test that
#               prints a line "N passed, N failed" contributes those counts;
#               otherwise it counts as one test, passed iff it exits 0.
#   VM tests    every tests/vm/*.sh, run by qemu/run-vm.sh; tests declaring
#               the same "# vm-options: ..." line (run-vm.sh options, e.g.
#               --disk 4G --mem 3072) share a boot.
# Prints PASS/FAIL per test and ends with exactly one line "N passed, N failed";
# exits non-zero when anything failed.
#
# usage: tests/run-all.sh [--host-only|--vm-only] [--list] [NAME_REGEX]
#   --list  print the names of the tests that would run (VM tests under a
#           "# VM boot: OPTIONS" line per boot, boots sorted), run nothing

# The Makefile runs "sh tests/run-all.sh": switch to bash before any bash syntax.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
DEFAULT_VM_OPTIONS="--disk 2G --disk 2G --disk 2G --disk 2G"
HOST_TIMEOUT=${HOST_TIMEOUT:-600}

run_host=1 run_vm=1 list=0 filter=""
for a in "$@"; do
	case $a in
	--host-only) run_vm=0 ;;
	--vm-only) run_host=0 ;;
	--list) list=1 ;;
	-*) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	*) filter=$a ;;
	esac
done

passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

selected() { [ -z "$filter" ] || [[ $1 =~ $filter ]]; }
indent() { sed 's/^/    | /'; }

# counts_of FILE: "P F" from the last "N passed, N failed" line, or nothing.
# No such line (a test killed by the timeout, a crash) is not an error here:
# under pipefail a grep that matches nothing would end the whole run silently.
counts_of() {
	{ grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" || true; } |
		tail -n 1 | awk '{ print $1, $3 }'
}

run_host_test() {
	local name=$1; shift
	local log=$tmp/host.log status=0 counts p f t0
	t0=$(date +%s)
	timeout "$HOST_TIMEOUT" "$@" > "$log" 2>&1 < /dev/null || status=$?
	[ $status -ne 124 ] || echo "killed after ${HOST_TIMEOUT}s (HOST_TIMEOUT)" >> "$log"
	counts=$(counts_of "$log")
	if [ -n "$counts" ]; then
		read -r p f <<< "$counts"
	elif [ $status -eq 0 ]; then p=1 f=0
	else p=0 f=1
	fi
	# A crash after a clean summary line is still a failure.
	[ $status -eq 0 ] || [ "$f" -gt 0 ] || f=1
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -eq 0 ]; then
		echo "PASS $name ($p passed, $(( $(date +%s) - t0 ))s)"
	else
		echo "FAIL $name ($p passed, $f failed, exit status $status)"
		tail -n 40 "$log" | indent
	fi
}

if [ $run_host -eq 1 ]; then
	[ $list -eq 1 ] || echo "# host tests"
	for t in build/tests/unit/*/*-test; do
		[ -x "$t" ] && [ -f "$t" ] || continue
		name=${t#build/tests/}
		selected "$name" || continue
		if [ $list -eq 1 ]; then echo "$name"; else run_host_test "$name" "$t"; fi
	done
	for t in tests/unit/*/*.sh tests/oracle/*.sh tests/tree/*.sh; do
		[ -f "$t" ] || continue
		name=${t#tests/} name=${name%.sh}
		selected "$name" || continue
		if [ $list -eq 1 ]; then echo "$name"; else run_host_test "$name" sh "$t"; fi
	done
fi

[ $list -eq 0 ] || [ $run_vm -eq 1 ] || exit 0

if [ $run_vm -eq 1 ]; then
	# Group tests by their vm-options line; one boot per group.
	declare -A groups=()
	for t in tests/vm/*.sh; do
		selected "vm/$(basename "$t" .sh)" || continue
		opts=$(sed -n 's/^# vm-options: *//p' "$t" | head -n 1)
		opts=${opts:-$DEFAULT_VM_OPTIONS}
		groups[$opts]="${groups[$opts]:-} $t"
	done
	if [ $list -eq 1 ]; then
		for opts in "${!groups[@]}"; do
			echo "# VM boot: $opts"
			for t in ${groups[$opts]}; do echo "vm/$(basename "$t" .sh)"; done
		done | awk '/^# VM boot:/ { key = $0 } { print key "\t" $0 }' | sort |
			cut -f 2 | uniq
		exit 0
	fi
	for opts in "${!groups[@]}"; do
		read -r -a list <<< "${groups[$opts]}"
		echo "# VM tests (${#list[@]} in one boot: $opts)"
		status=0
		# shellcheck disable=SC2086 # opts is a list of options
		qemu/run-vm.sh $opts --tests "${list[@]}" 2>&1 | tee "$tmp/vm.log" |
			grep -Ev '^[0-9]+ passed, [0-9]+ failed$' || status=$?
		counts=$(counts_of "$tmp/vm.log")
		if [ -n "$counts" ]; then
			read -r p f <<< "$counts"
		else
			p=0 f=${#list[@]}
			echo "FAIL vm group: run-vm.sh gave no result (status $status)"
		fi
		passed=$((passed + p)) failed=$((failed + f))
	done
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
