#!/bin/bash
# make stress: the long reliability runs (see tests/stress/README). Each
# piece prints its own TAP-like lines and "N passed, N failed"; the whole
# ends with one "N passed, N failed" summing them, and one line per piece.
#
#   STRESS_TARGETS   kernel|ctpool (default ctpool)
#   STRESS_ONLY      pieces to run, e.g. "fio powercut" (default all):
#                    crash corrupt hostile modload fio powercut fuzz pkg lvm2
#   STRESS_LEVEL     quick|full (default full): how long each piece runs;
#                    quick is all pieces in ~25 min on this 2-core host
#   per piece (override the level):
#     STRESS_CRASH_SEEDS                       crash replay: one run per seed
#     STRESS_CRASH_OPS / STRESS_CRASH_POINTS   crash replay: ops, random replay points
#     STRESS_IMAGES / STRESS_CORRUPT_SECONDS   corrupted metadata: images, time budget
#     STRESS_HOSTILE / STRESS_HOSTILE_SECONDS  hostile inputs: count, time budget
#     STRESS_MODLOAD_CYCLES                    module load/unload cycles
#     STRESS_FIO_MB / STRESS_FIO_PASSES        fio stress: MiB per thin, passes
#     STRESS_CUTS                              power cuts
#     STRESS_FUZZ_SECONDS                      per fuzz target
#     STRESS_LVM2_TESTS / STRESS_LVM2_SECONDS  lvm2's thin scripts: names or
#                                              regexes, time budget (0: none)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
T=${STRESS_TARGETS:-ctpool}
LEVEL=${STRESS_LEVEL:-full}
PIECES="crash corrupt hostile modload fio powercut fuzz pkg lvm2"
ONLY=$(echo "${STRESS_ONLY:-$PIECES}" | tr ',' ' ')
case $T in kernel|ctpool) ;; *) echo "STRESS_TARGETS must be kernel or ctpool" >&2; exit 2 ;; esac
case $LEVEL in quick|full) ;; *) echo "STRESS_LEVEL must be quick or full" >&2; exit 2 ;; esac
for p in $ONLY; do
	case " $PIECES " in *" $p "*) ;; *) echo "STRESS_ONLY: unknown piece '$p' (pieces: $PIECES)" >&2; exit 2 ;; esac
done

# knob VAR QUICK FULL: the environment's VAR, else the level's value.
knob() {
	local v=${!1:-}
	if [ -n "$v" ]; then echo "$v"
	elif [ "$LEVEL" = quick ]; then echo "$2"
	else echo "$3"; fi
}
CRASH_SEEDS=$(knob STRESS_CRASH_SEEDS 11 "11 12")
CRASH_OPS=$(knob STRESS_CRASH_OPS 30 150) CRASH_POINTS=$(knob STRESS_CRASH_POINTS 8 60)
IMAGES=$(knob STRESS_IMAGES 300 3000) CORRUPT_S=$(knob STRESS_CORRUPT_SECONDS 120 6600)
HOSTILE=$(knob STRESS_HOSTILE 800 5000) HOSTILE_S=$(knob STRESS_HOSTILE_SECONDS 90 1500)
CYCLES=$(knob STRESS_MODLOAD_CYCLES 40 100)
FIO_MB=$(knob STRESS_FIO_MB 32 96) FIO_PASSES=$(knob STRESS_FIO_PASSES 2 3)
CUTS=$(knob STRESS_CUTS 3 30)
FUZZ_S=$(knob STRESS_FUZZ_SECONDS 20 300)
# lvm2's thin scripts: quick runs a core set (pools, thins, snapshots,
# resize, errors, repair, dmeventd autoextend), full all of shell/*thin*.sh.
LVM2_CORE="thin-defaults thin-volume-list lvcreate-thin lvcreate-thin-snap lvchange-thin
	lvextend-thin-full lvresize-thin-metadata thin-flags thin-errors thin-overprovisioning
	discards-thin lvconvert-repair-thin lvextend-thin-data-dmeventd"
LVM2_TESTS=$(knob STRESS_LVM2_TESTS "$LVM2_CORE" "thin")
LVM2_S=$(knob STRESS_LVM2_SECONDS 0 0)

passed=0 failed=0 summary=()
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# make stress: $T, level $LEVEL, pieces: $ONLY"

wanted() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

step() {   # step PIECE TITLE CMD...: run, show output, add its counts
	local piece=$1 title=$2 p f t0; shift 2
	echo "# === $piece: $title"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$tmp/out"
	local st=${PIPESTATUS[0]}
	read -r p f < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/out" | tail -n 1 | awk '{ print $1, $3 }')
	p=${p:-0} f=${f:-0}
	[ "$st" -eq 0 ] || [ "$f" -gt 0 ] || f=$((f + 1))
	passed=$((passed + p)) failed=$((failed + f))
	summary+=("$(printf '#   %-9s %4d passed, %d failed  (%ds) %s' "$piece" "$p" "$f" $(( $(date +%s) - t0 )) "$title")")
}

# vm PIECE TITLE TIMEOUT [RUN-VM OPTIONS] -- SCRIPT ARGS...: one guest, one
# script; its own TAP lines and counts are streamed back.
vm() {
	local piece=$1 title=$2 secs=$3; shift 3
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	step "$piece" "$title" qemu/run-vm.sh --timeout $((secs + 300)) --test-timeout "$secs" "${opts[@]}" "$@"
}

if wanted crash; then
	for seed in $CRASH_SEEDS; do
		vm crash "crash replay, $CRASH_OPS ops, $CRASH_POINTS random points, seed $seed" \
			$((600 + CRASH_OPS * 8 + CRASH_POINTS * 20)) -- \
			tests/vm/crash-replay.sh "$T" "$CRASH_OPS" "$CRASH_POINTS" "$seed"
	done
fi
wanted corrupt && vm corrupt "corrupted metadata, up to $IMAGES images in ${CORRUPT_S}s" \
	$((CORRUPT_S + 400)) --disk 1G -- tests/vm/corrupt-meta.sh "$T" "$IMAGES" 5 "" "" "$CORRUPT_S"
wanted hostile && vm hostile "hostile tables, messages, ioctls: up to $HOSTILE in ${HOSTILE_S}s" \
	$((HOSTILE_S + 400)) --disk 1G -- tests/vm/hostile-tables.sh "$T" "$HOSTILE" 7 "$HOSTILE_S"
# The same boot options as in make check (the test's vm-options line:
# exact slab counts need slub_debug).
read -r -a hm_opts <<< "$(sed -n 's/^# vm-options: *//p' tests/vm/hostile-modload.sh)"
wanted modload && vm modload "module load/unload cycles ($CYCLES), slab leak check" \
	$((600 + CYCLES * 15)) "${hm_opts[@]}" -- tests/vm/hostile-modload.sh "$T" "$CYCLES"
wanted fio && vm fio "fio verify near full: 4 thins x ${FIO_MB} MiB, $FIO_PASSES passes" \
	$((900 + FIO_MB * FIO_PASSES * 10)) --disk 2G -- tests/stress/vm-fio-stress.sh "$T" "$FIO_MB" "$FIO_PASSES"
wanted powercut && step powercut "$CUTS power cuts" tests/stress/powercut.sh "$CUTS" "$T"
wanted fuzz && step fuzz "libFuzzer targets, ${FUZZ_S}s each" make -s fuzz FUZZ_SECONDS="$FUZZ_S"
# The packages of make deb (the stress target builds them): install in the
# guest, DKMS build, modprobe, a cycle with the installed tool, purge.
wanted pkg && vm pkg "Debian packages: install, DKMS build, modprobe, purge" 3600 \
	--disk 64M --disk 512M -- tests/stress/vm-pkg-install.sh

# lvm2's own test/shell/*thin*.sh (its Debian source, harness built on the
# host into build/lvm2-tests) in the guest with the system's lvm2, on the
# chosen target (ctpool: compat_names=1 serves thin-pool/thin).
lvm2_piece() {
	local n secs st
	bash tests/stress/lvm2-tests-build.sh || return 1
	# The guest's time limit: the budget, else ~5 min a selected script
	# (most take 20-90 s under TCG). -f: split the list, no globbing.
	set -f
	n=$(ls build/lvm2-tests/inst/share/lvm2-testsuite/shell | grep thin |
		grep -cE "$(echo $LVM2_TESTS | tr ' ' '|')")
	secs=$((LVM2_S > 0 ? LVM2_S : n * 300))
	# shellcheck disable=SC2086
	qemu/run-vm.sh --mem 3072 --disk 64M --timeout $((secs + 900)) --test-timeout $((secs + 600)) \
		tests/stress/vm-lvm2-thin.sh "$T" "$LVM2_S" $LVM2_TESTS
	st=$?
	set +f
	return $st
}
if [ "$LEVEL" = quick ]; then lvm2_what="$(echo $LVM2_CORE | wc -w) core scripts"; else lvm2_what="all *thin*.sh"; fi
[ -n "${STRESS_LVM2_TESTS:-}" ] && lvm2_what="'$LVM2_TESTS'"
[ "$LVM2_S" -gt 0 ] && lvm2_what="$lvm2_what, budget ${LVM2_S}s"
wanted lvm2 && step lvm2 "lvm2's test/shell thin scripts ($lvm2_what)" lvm2_piece

echo "# make stress summary ($T, level $LEVEL):"
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
