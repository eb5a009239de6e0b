#!/bin/bash
# What each pool target writes to its data disk, run INSIDE the guest:
#   qemu/run-vm.sh --plain-disks --disk 128M --disk 1G bench/vm-iocount.sh [SIZE [WHERE]]
# For the kernel's dm-thin and ctpool (order K O O K), three workloads on a
# SIZE thin (default 128M) with 64 KiB blocks:
#   zero   one 4k write into every block of a fresh thin (zeroing on), at the
#          start of the block (WHERE=start, the default) or at a random 4k
#          offset in it (WHERE=random)
#   cow    the same after create_snap of the fully written thin (COW break)
#   frag   blkdiscard of a thin provisioned by those random 4k writes
# and, for each, the data disk's counters from /sys/block/DEV/stat (requests
# and sectors read, written (write zeroes included), discarded; flushes) and
# the metadata disk's writes over the measured step, and with blktrace, the
# requests queued on the data disk by type (blkparse's RWBS: W data write,
# R read, D discard, ...; write zeroes show as N with their size).
# A diagnostic: it prints figures, it asserts nothing.
set -u -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
THINCTL=$ROOT/scripts/thinctl.sh
SIZE=${1:-128M}
WHERE=${2:-start}
export DM_DISABLE_UDEV=1 LC_ALL=C
read -r -a DISKS <<< "${VM_DISKS:-}"
META=${DISKS[0]} DATA=${DISKS[1]}
DEVN=${DATA##*/} MDEVN=${META##*/}
WORK=$(mktemp -d /tmp/iocount.XXXXXX)

modprobe dm-thin-pool
deps=$(modinfo -F depends "$ROOT/dm-ctpool.ko" | tr , ' ')
[ -z "$deps" ] || modprobe -a $deps
insmod "$ROOT/dm-ctpool.ko"
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
echo "writes at: $WHERE of each block; disk options: ${VM_DISK_OPTS:-?}; $DATA write_zeroes_max_bytes" \
	"$(cat /sys/block/$DEVN/queue/write_zeroes_max_bytes)" \
	"discard_max_bytes $(cat /sys/block/$DEVN/queue/discard_max_bytes)"

nblocks=$(( $(numfmt --from=iec "$SIZE") / 65536 ))

# iolog FILE DEV: one 4k write at the start of every block, random order.
iolog() {
	{
		echo "fio version 2 iolog"; echo "$2 add"; echo "$2 open"
		awk -v n="$nblocks" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "%.9f %d\n", rand(), i }' |
			sort -n | awk -v d="$2" -v w="$WHERE" 'BEGIN { srand(11) }
				{ o = w == "random" ? int(rand() * 16) * 4096 : 0
				  printf "%s write %d 4096\n", d, $2 * 65536 + o }'
		echo "$2 close"
	} > "$1"
}

replay() {
	fio --name=r --ioengine=libaio --direct=1 --iodepth=16 --read_iolog="$1" \
		--replay_no_stall=1 --output-format=terse --terse-version=3 > "$WORK/fio.out" ||
		{ cat "$WORK/fio.out"; return 1; }
}

stat_now() { cat "/sys/block/$DEVN/stat" "/sys/block/$MDEVN/stat" | tr '\n' ' '; }
# delta BEFORE AFTER: the counters that tell what was read and written.
delta() {
	echo "$1 $2" | awk '{ n = NF / 2; m = n / 2
		printf "data: reads %d (%d KiB), writes %d (%d KiB), discards %d (%d KiB), flushes %d; metadata: writes %d (%d KiB)",
			$(n+1) - $1, ($(n+3) - $3) / 2,
			$(n+5) - $5, ($(n+7) - $7) / 2, $(n+12) - $12, ($(n+14) - $14) / 2,
			$(n+16) - $16, $(n+m+5) - $(m+5), ($(n+m+7) - $(m+7)) / 2 }'
}

trace_start() {
	TRACE_PID=""
	command -v blktrace > /dev/null || return 0
	blktrace -d "$DATA" -o trace -D "$WORK" > "$WORK/blktrace.out" 2>&1 &
	TRACE_PID=$!
	sleep 1
	kill -0 "$TRACE_PID" 2> /dev/null && return 0
	echo "    blktrace failed: $(tail -n 3 "$WORK/blktrace.out")"
	TRACE_PID=""
}
# Requests queued on the data disk, by type, with their total size.
trace_stop() {
	[ -n "$TRACE_PID" ] || return 0
	kill -INT "$TRACE_PID"; wait "$TRACE_PID"
	blkparse -q -i trace -D "$WORK" -f '%a %d %n\n' 2> /dev/null |
		awk '$1 == "Q" { n[$2]++; s[$2] += $3 }
			END { for (t in n) printf "    queued %-4s %6d requests %8d KiB\n", t, n[t], s[t] / 2 }' | sort
	rm -f "$WORK"/trace.*
}

# step LABEL CMD...: run CMD, print its time and what the data disk saw.
step() {
	local label=$1 b a t0 t1; shift
	sync
	b=$(stat_now); trace_start
	t0=${EPOCHREALTIME/./}
	"$@" || echo "    $label: FAILED"
	t1=${EPOCHREALTIME/./}
	trace_stop; a=$(stat_now)
	printf '  %-6s %-7s %8d ms  %s\n' "$T" "$label" $(( (t1 - t0) / 1000 )) "$(delta "$b" "$a")"
}

teardown() {
	for n in $(dmsetup ls 2>/dev/null | awk -v p="$P-" 'index($1, p) == 1 { print $1 }' | sort -r); do
		dmsetup remove "$n"
	done
}
pool() {
	sh "$THINCTL" pool-create "$P-pool" "$META" "$DATA" 128 0 > /dev/null
	sh "$THINCTL" thin-create "$P-pool" 1 "$P-t1" "$SIZE" > /dev/null
}
commit() { dmsetup status "$P-pool" > /dev/null; }

run_target() {
	T=$1
	case $T in
	kernel) P=k; export POOL_TARGET=thin-pool THIN_TARGET=thin ;;
	ours) P=o; export POOL_TARGET=ctpool THIN_TARGET=ctthin ;;
	esac
	local dev=/dev/mapper/$P-t1
	pool; iolog "$WORK/log" "$dev"
	step zero replay "$WORK/log"
	commit
	fio --name=f --ioengine=libaio --direct=1 --rw=write --bs=1M --iodepth=16 \
		--filename="$dev" --output-format=terse > /dev/null
	sh "$THINCTL" snap-create "$P-pool" 2 1 "$P-t1"
	step cow replay "$WORK/log"
	teardown
	pool; iolog "$WORK/log" "$dev"
	replay "$WORK/log"; commit
	step frag blkdiscard "$dev"
	teardown
}

for t in kernel ours ours kernel; do run_target "$t"; done
