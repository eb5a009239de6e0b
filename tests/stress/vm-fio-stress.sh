#!/bin/bash
# make stress (VM): fio with crc32c verification on 4 thins at once while
# snapshots of them are created and deleted and a ballast thin is discarded
# and refilled, with the pool near full (~90%). Nothing may be lost (fio's
# verify), nothing may hang, the pool stays rw without needs_check, and the
# metadata passes thin_check afterwards.
#
# usage (in the VM, via run-vm.sh): vm-fio-stress.sh [kernel|ctpool] [MB_PER_THIN] [LOOPS]
. "$(dirname "$0")/../vm/lib.sh"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
MB=${2:-96} LOOPS=${3:-2}
need_disks 1
rel_load
must carve fs-meta "${DISKS[0]}" 0 16M
must carve fs-data "${DISKS[0]}" 32M 512M
must thinctl pool-create fs-pool /dev/mapper/fs-meta /dev/mapper/fs-data 128 0
for i in 1 2 3 4; do must thinctl thin-create fs-pool $i fs-t$i $((MB + 32))M; done
# Ballast: brings the pool to ~90% once the fio jobs have written.
ballast=$(( 512 * 9 / 10 - 4 * MB ))
[ $ballast -gt 16 ] || ballast=16
must thinctl thin-create fs-pool 9 fs-ballast ${ballast}M
must dd if=/dev/urandom of=/dev/mapper/fs-ballast bs=1M count=$ballast oflag=direct status=none
note "pool after ballast: $(dmsetup status fs-pool)"

stop=0
churn() {   # snapshots of the busy thins, created and deleted
	local n=0 id o
	while [ ! -e stop ]; do
		o=$(( n % 4 + 1 )) id=$(( 100 + n ))
		if thinctl snap-create fs-pool $id $o fs-t$o 2>>churn.err; then
			sleep 1
			thinctl thin-delete fs-pool $id 2>>churn.err || echo "delete $id failed" >> churn.err
			echo snap >> churn.log
		else
			echo "snap $id of $o failed" >> churn.err
		fi
		n=$((n + 1))
	done
}
discards() {   # the ballast thin: discard a slice, write it again
	local off
	while [ ! -e stop ]; do
		off=$(( RANDOM % (ballast - 8) ))
		blkdiscard -o $((off << 20)) -l $((8 << 20)) /dev/mapper/fs-ballast 2>>disc.err &&
			dd if=/dev/urandom of=/dev/mapper/fs-ballast bs=1M seek=$off count=8 \
				oflag=direct status=none 2>>disc.err && echo d >> disc.log
		sleep 0.5
	done
}
churn & cpid=$!
discards & dpid=$!
t0=$(date +%s)
jobs=()
for i in 1 2 3 4; do jobs+=(--name=t$i --filename=/dev/mapper/fs-t$i); done
fio --rw=randwrite --bsrange=4k-64k --size=${MB}M --direct=1 --ioengine=libaio --iodepth=8 \
	--verify=crc32c --do_verify=1 --verify_fatal=1 --loops="$LOOPS" --randrepeat=0 \
	--output-format=terse --minimal "${jobs[@]}" > fio.out 2> fio.err && frc=0 || frc=$?
touch stop
wait $cpid $dpid || true
note "fio took $(( $(date +%s) - t0 ))s; snapshots created+deleted: $(wc -l < churn.log 2>/dev/null || echo 0); discard+refill rounds: $(wc -l < disc.log 2>/dev/null || echo 0)"
assert_eq "fio wrote and verified everything on 4 thins" 0 "$frc"
[ $frc -eq 0 ] || sed 's/^/# /' fio.err | head -20
check "snapshots were created and deleted meanwhile" test -s churn.log
check "discards ran meanwhile" test -s disc.log
[ -s churn.err ] && sed 's/^/# churn: /' churn.err | head -5
st=$(dmsetup status fs-pool)
note "pool at the end: $st"
assert_match "pool still rw, no needs_check" " rw [a-z_]+ [a-z_]+ - " "$st"
used=$(thinctl pool-status fs-pool used-data) total=$(thinctl pool-status fs-pool total-data)
check "pool was near full ($used of $total blocks)" test $((used * 100 / total)) -ge 80
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean (no hang, no oops)"; fi
remove_dm fs-t1 fs-t2 fs-t3 fs-t4 fs-ballast
check "pool removes" dmsetup remove fs-pool
check "metadata passes thin_check" thin_check -q /dev/mapper/fs-meta
