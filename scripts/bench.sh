#!/bin/bash
# make bench: boot one QEMU guest and measure, on the same scratch disks, the
# raw data disk, the kernel's dm-thin and ctpool, interleaved (see
# bench/README.md). Results: bench/results/latest.{md,csv,png} (BENCH_QUICK=1:
# quick.{md,csv,png}), the guest's log next to them (.log).
#
# env:
#   BENCH_REPS=N          repetitions of each measurement, median reported (4;
#                         even, so the alternating target order balances)
#   BENCH_QUICK=1         small sizes, short runtimes, 2 reps unless BENCH_REPS
#   BENCH_TARGETS="raw kernel ours"   which columns to measure
#   BENCH_GROUPS="main64 seq ..."     subset of workload groups (default all;
#                         main64 seq zero nozero cow multi fsync big main512)
#   BENCH_OUT=PREFIX      output path prefix (default bench/results/latest)
#   BENCH_DISKS=plain     the guest's disks (default): cache=none, discards
#                         punch holes, writes of zeroes cost what data costs
#   BENCH_DISKS=detect-zeroes  the old setting (QEMU turns every write of
#                         zeroes into a hole punch: zeroing is free); results
#                         are labelled so, and written to PREFIX-detect-zeroes.*
#
# Should the guest die (e.g. an oops in the module under test) or hang, the
# group it was in is recorded as "error" and a new guest resumes after it;
# after two such losses caused by ctpool, its remaining cells are errors.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1

QUICK=${BENCH_QUICK:-0}
# Even counts by default: the target order is reversed every other
# repetition (vm-bench.sh), so each target runs first as often as last.
if [ "$QUICK" = 1 ]; then REPS=${BENCH_REPS:-2}; else REPS=${BENCH_REPS:-4}; fi
TARGETS=${BENCH_TARGETS:-raw kernel ours}
BGROUPS=${BENCH_GROUPS:-}
if [ "$QUICK" = 1 ]; then
	OUT=${BENCH_OUT:-bench/results/quick}
	data_mb=512      # BIG 256M + SIZE 128M + probe 64M, rounded up
	per_rep=600
else
	OUT=${BENCH_OUT:-bench/results/latest}
	data_mb=2816     # BIG 2G + SIZE 512M + probe 64M, rounded up
	per_rep=1800
fi
case $REPS in ''|*[!0-9]*|0) echo "bench: bad BENCH_REPS '$REPS'" >&2; exit 2 ;; esac
DISKS=${BENCH_DISKS:-plain}
case $DISKS in
plain) plain_disks=1 ;;
detect-zeroes) plain_disks=0; [ -n "${BENCH_OUT:-}" ] || OUT=$OUT-detect-zeroes ;;
*) echo "bench: bad BENCH_DISKS '$DISKS' (plain or detect-zeroes)" >&2; exit 2 ;;
esac
timeout=$((600 + REPS * per_rep))

command="make bench"
for v in BENCH_REPS BENCH_QUICK BENCH_TARGETS BENCH_GROUPS BENCH_DISKS; do
	[ -z "${!v:-}" ] || command="$v='${!v}' $command"
done
commit=$(git rev-parse --short HEAD 2>/dev/null)
[ -z "$(git status --porcelain -- kernel persistent-data 2>/dev/null)" ] ||
	commit="$commit (+ uncommitted changes in kernel/ or persistent-data/)"

RUN=$ROOT/build/bench
mkdir -p "$RUN" "$(dirname "$OUT")"
rm -f "$RUN"/boot*.log "$RUN/skip"
: > "$RUN/skip"

# The module is rebuilt often by others: every guest of this run loads the
# same copy, taken now.
rm -f "$RUN/dm-ctpool.ko"
if [ -f dm-ctpool.ko ]; then
	cp -p dm-ctpool.ko "$RUN/dm-ctpool.ko"
else
	case " $TARGETS " in *" ours "*)
		echo "bench: dm-ctpool.ko is not built: the ctpool column will be errors" >&2 ;; esac
fi

echo "bench: reps=$REPS quick=$QUICK targets='$TARGETS' disks 128M+${data_mb}M ($DISKS), VM limit ${timeout}s"
start=$(date +%s)
vm="" tailer=""
# Interrupted: stop our guest (run-vm.sh kills its QEMU on TERM) and tailer.
trap '[ -z "$vm" ] || kill "$vm" 2> /dev/null; [ -z "$tailer" ] || kill "$tailer" 2> /dev/null; exit 130' INT TERM
boot=0 losses=0 ours_losses=0 targets=$TARGETS
while :; do
	boot=$((boot + 1))
	log=$RUN/boot$(printf %02d "$boot").log
	[ $boot -eq 1 ] || echo "bench: starting guest #$boot"
	VM_PLAIN_DISKS=$plain_disks qemu/run-vm.sh --disk 128M --disk "${data_mb}M" --timeout "$timeout" \
		--test-timeout $((timeout - 30)) bench/vm-bench.sh \
		"reps=$REPS" "quick=$QUICK" "targets=$targets" "groups=$BGROUPS" \
		"skipfile=$RUN/skip" "ko=$RUN/dm-ctpool.ko" > "$log" 2>&1 &
	vm=$!
	tail -n +1 -f --pid=$vm "$log" 2> /dev/null &
	tailer=$!
	# Once the guest script is through, give the harness's cleanup a minute:
	# a device stuck in the module under test must not hold us until timeout.
	ended=""
	while kill -0 $vm 2> /dev/null; do
		sleep 2
		if [ -z "$ended" ] && grep -q '^@@BENCH end' "$log"; then ended=$(date +%s); fi
		if [ -n "$ended" ] && [ $(( $(date +%s) - ended )) -gt 90 ]; then
			echo "bench: guest did not power off after the run; stopping it"
			kill $vm 2> /dev/null
		fi
	done
	wait $vm
	vm_status=$?
	wait $tailer 2> /dev/null
	state=$(python3 bench/report.py state --skipfile "$RUN/skip" "$RUN"/boot*.log)
	case $state in
	end)
		[ $vm_status -eq 0 ] || echo "bench: note: the harness reported failure (status $vm_status), see $log"
		break ;;
	crashed*)
		read -r _ t g r <<< "$state"
		losses=$((losses + 1))
		echo "bench: the guest was lost during group $g on $t (rep $r): recorded as error"
		if [ "$t" = ours ]; then
			ours_losses=$((ours_losses + 1))
			if [ $ours_losses -ge 2 ]; then
				targets=$(echo " $targets " | sed 's/ ours / /; s/^ *//; s/ *$//')
				echo "bench: ctpool lost the guest twice: its remaining cells are errors"
			fi
		fi ;;
	pause)
		echo "bench: the guest's time limit is near: continuing in a new guest" ;;
	*)
		losses=$((losses + 1))
		echo "bench: the guest stopped outside any measurement (status $vm_status)" ;;
	esac
	giveup=""
	[ $losses -lt 4 ] || giveup=1
	[ $boot -lt 40 ] || giveup=1
	[ -n "$targets" ] || giveup=1
	[ "$state" != incomplete ] || [ $losses -lt 2 ] || giveup=1
	if [ -n "$giveup" ]; then
		echo "bench: giving up after $boot guest(s); missing cells are errors"
		break
	fi
done

cat "$RUN"/boot*.log > "$OUT.log"
python3 bench/report.py report --out "$OUT" --targets "$TARGETS" --reps "$REPS" --groups "$BGROUPS" \
	--command "$command" --commit "$commit" --disks "$DISKS" \
	--info "$boot guest(s), $(( $(date +%s) - start )) s" "$RUN"/boot*.log || exit 1
echo "bench: $(( $(date +%s) - start ))s; wrote $OUT.md $OUT.csv $OUT.png"
