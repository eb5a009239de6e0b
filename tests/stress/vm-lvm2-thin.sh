#!/bin/bash
# Run by make stress (piece "lvm2"; qemu/run-vm.sh --mem 3072 --disk 64M):
# lvm2's own thin test scripts (test/shell/*thin*.sh of the installed lvm2's
# Debian source, built by tests/stress/lvm2-tests-build.sh into
# build/lvm2-tests) run inside the guest by lvm2's runner (lvm2-testsuite,
# flavour ndev-vanilla: no udev, the scripts' own /dev) against the system's
# lvm, dmsetup and dmeventd, on
#   ctpool  dm-ctpool.ko loaded with compat_names=1: it serves the thin-pool
#           and thin targets; modprobe of the kernel's dm_thin_pool (the
#           scripts' have_thin does one) is a no-op in this guest, and the
#           kernel's module must still be absent at the end;
#   kernel  the kernel's dm-thin-pool.
#
#   vm-lvm2-thin.sh [kernel|ctpool] [BUDGET_S] [SCRIPT|REGEX...]
# BUDGET_S (default 0: none): no script starts after that many seconds; those
# left are counted as skipped ("time budget"). SCRIPT: names in shell/
# (thin-flags.sh or thin-flags), or an extended regex on the names; default:
# every shell/*thin*.sh. The scripts make their own devices (brd ramdisks,
# or loop files in /tmp for big ones); the guest's disk is not used.
#
# Output: one TAP line per script (ok / not ok / ok # SKIP reason), for a
# failure the runner log's tail and the kernel lines of that script; the
# last lines are "# N skipped" and "N passed, N failed" (skips not counted
# as passed). The setup checks count too.
. "$(dirname "$0")/../vm/lib.bash"
IMPL=${1:-ctpool}
BUDGET=${2:-0}
shift 2 2>/dev/null || shift $#
SUITE=${LVM2_TESTS_DIR:-$ROOT/build/lvm2-tests}/inst
DATADIR=$SUITE/share/lvm2-testsuite
RUNNER=$SUITE/bin/lvm2-testsuite
FLAVOUR=ndev-vanilla
# Silence (no output) after which the runner kills a script: TCG is slow.
SILENCE=${LVM2_SILENCE_S:-600}

# Skips are reported apart: lib.bash's skip would count them as passed.
_skipped=0
skip() { _tap_n=$((_tap_n + 1)) _skipped=$((_skipped + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
_lvm2_finish() {
	local status=$?
	if [ $status -ne 0 ] && [ $_tap_failed -eq 0 ]; then
		fail "aborted with status $status${_err_line:+ at line $_err_line ($_err_cmd)}"
	fi
	echo "1..$_tap_n"
	echo "# $_skipped skipped"
	echo "$((_tap_n - _tap_failed - _skipped)) passed, $_tap_failed failed"
	[ $_tap_failed -eq 0 ] || exit 1
}
trap _lvm2_finish EXIT

[ -x "$RUNNER" ] || bail "no lvm2 test suite in $SUITE: run tests/stress/lvm2-tests-build.sh"
note "lvm2 $(cat "$SUITE/../.version"), its test suite in $SUITE; lvm: $(lvm version | sed -n 's/^ *LVM version: *//p')"
check "/dev/fd exists (the scripts' <(...) need it)" test -e /dev/fd/0

# The guest kernel's own module autoloading (a table naming "zero", losetup
# wanting /dev/loop-control) runs the initramfs's modprobe, which has only
# the boot modules: load what the scripts use that way from here (with the
# host's modules). Never dm_thin_pool: the target under test is chosen below.
# dm-raid's tables need md's personalities (raid1 etc.), which md asks for by
# the same autoloading ("md: personality for level 1 is not loaded").
must _load_crc   # before dm-cache's dm-persistent-data (see lib.bash)
for m in loop dm-zero dm-delay dm-snapshot dm-mirror dm-raid raid0 raid1 raid10 raid456 \
	dm-cache dm-cache-smq dm-writecache dm-integrity; do
	modprobe "$m" 2>/dev/null || note "modprobe $m failed"
done

case $IMPL in
kernel)
	must load_dm_thin
	assert_eq "thin-pool target registered by the kernel's dm-thin-pool" v1.22.0 "$(target_version thin-pool)"
	;;
ctpool)
	# Only the guest's overlay copy of /etc changes.
	echo "install dm_thin_pool /bin/true" > /etc/modprobe.d/ctpool-lvm2-tests.conf
	must load_ctpool compat_names=1
	check "thin-pool is ours (dm_ctpool loaded)" module_loaded dm_ctpool
	check_fails "the kernel's dm_thin_pool is not loaded" module_loaded dm_thin_pool
	assert_eq "thin-pool target registered" v1.22.0 "$(target_version thin-pool)"
	;;
*) bail "unknown implementation '$IMPL' (kernel or ctpool)" ;;
esac

# The scripts to run: shell/*thin*.sh, or those named / matched by the args.
all=$(cd "$DATADIR/shell" && ls -- *thin*.sh)
if [ $# -gt 0 ]; then
	sel=""
	for a in "$@"; do
		if [ -f "$DATADIR/shell/$a" ] || [ -f "$DATADIR/shell/$a.sh" ]; then
			sel="$sel ${a%.sh}.sh"
		else
			sel="$sel $(printf '%s\n' "$all" | grep -E -- "$a" || true)"
		fi
	done
	list=$(printf '%s\n' $sel | awk 'NF && !seen[$0]++')
else
	list=$all
fi
[ -n "$list" ] || bail "no lvm2 script matches: $*"
note "$(echo "$list" | wc -l) scripts, flavour $FLAVOUR, target $IMPL: $(echo $list)"

# Scripts that cannot run in this guest, and why. Everything else runs; the
# scripts skip themselves when a tool or target is missing (e.g. mkfs.xfs,
# not installed here), and their own reason is printed.
static_skip() {
	case $1 in
	*) return 1 ;;
	esac
}

# show_failure LOG: what failed, from the runner's log of a script: the 40
# lines before lvm2's stack trace ("## - SCRIPT:LINE", after the failing
# command), the trace, and the pool tables and status the script left
# ("## DMTABLE/DMSTATUS"); without a trace, the log's last 40 lines.
show_failure() {
	local log=$1 at
	at=$(grep -n -m1 -E '^\[[ 0-9:]+\] ## - ' "$log" 2>/dev/null | cut -d: -f1 || true)
	if [ -n "$at" ]; then
		echo "#   --- runner log $log, before the stack trace:"
		sed -n "$((at > 40 ? at - 40 : 1)),$((at + 4))p" "$log" | sed 's/^/#   | /'
		echo "#   --- tables and status left:"
		grep -E '## DM(TABLE|STATUS): ' "$log" | head -n 20 | sed 's/^/#   | /' || true
	else
		echo "#   --- runner log $log, last 40 lines:"
		tail -n 40 "$log" 2>/dev/null | sed 's/^/#   | /' || true
	fi
}

RES=$(mktemp -d /tmp/lvm2-results.XXXXXX)
start=$SECONDS
for t in $list; do
	if reason=$(static_skip "$t"); then
		skip "$t" "$reason"
		continue
	fi
	if [ "$BUDGET" -gt 0 ] && [ $((SECONDS - start)) -ge "$BUDGET" ]; then
		skip "$t" "time budget of ${BUDGET}s used up"
		continue
	fi
	t0=$SECONDS
	echo "lvm2-tests: === $t" > /dev/kmsg
	dmesg_lines=$(dmesg | wc -l)
	(cd "$DATADIR" && "$RUNNER" --testdir "$DATADIR" --outdir "$RES" --flavours "$FLAVOUR" \
		--only "shell/$t" --continue --batch --timeout "$SILENCE") > "$RES/runner.out" 2>&1 || true
	secs=$((SECONDS - t0))
	id=$FLAVOUR:shell/$t
	status=$(awk -v id="$id" '$1 == id { s = $2 } END { print s }' "$RES/list" 2>/dev/null || true)
	log=$RES/$(echo "$id" | tr / _).txt
	case $status in
	passed|warnings)
		pass "$t (${secs}s)${status#passed}"
		;;
	skipped)
		why=$(grep -m1 -o 'TEST SKIPPED:.*' "$log" 2>/dev/null | sed 's/TEST SKIPPED: *//' || true)
		# A bare 'skip' prints a stack trace instead ("[ 0:05] ## - shell/x.sh:114"):
		# name the script's line that skipped (e.g. "which mkfs.xfs || skip").
		if [ -z "$why" ]; then
			at=$(grep -E '^(\[[ 0-9:]+\] )?## - .*:[0-9]+$' "$log" 2>/dev/null | tail -n 1 |
				sed -E 's/^(\[[ 0-9:]+\] )?## - *//' || true)
			[ -z "$at" ] || why="line ${at##*:}: $(sed -n "${at##*:}{s/^[[:space:]]*//;p}" "$DATADIR/shell/$t" 2>/dev/null)"
		fi
		skip "$t (${secs}s)" "by the script: ${why:-no reason given}"
		;;
	*)
		fail "$t (${secs}s): ${status:-no result}"
		show_failure "$log"
		echo "#   --- kernel log during the script:"
		dmesg | tail -n +$((dmesg_lines + 1)) | grep -v 'lvm2-tests: ===' | tail -n 30 | sed 's/^/#   | /' || true
		;;
	esac
done
note "lvm2 scripts: $((SECONDS - start)) s"
if [ "$IMPL" = ctpool ]; then
	check_fails "the kernel's dm_thin_pool was never loaded during the scripts" module_loaded dm_thin_pool
	check "dm_ctpool still loaded" module_loaded dm_ctpool
fi
