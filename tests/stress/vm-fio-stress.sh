#!/bin/bash
# make stress (VM): fio with verification on 4 thins at once while snapshots
# of them are created (without suspending: writes race with create_snap),
# activated, written and deleted, and discards run, on a pool that runs out
# of data space and is grown (as lvextend / dmeventd autoextend would).
#
# Each thin is split in two: [0, MB) is fio's, written with crc32c+header
# verification (offset, length, seed) and never discarded; [MB, MB+TAIL) is
# discarded and rewritten by the discard worker and never verified. Same for
# a ballast thin. The pool starts smaller than what the workload needs:
#   phase 1 (queue_if_no_space): it runs out of data space, writes queue, a
#     watcher grows the data device and reloads the pool, the writes go on.
#     Each fio pass uses a new seed, so a lost write shows as old data.
#   phase 2 (error_if_no_space): a new thin is written past the free space;
#     the writes fail (no hang), the pool says out_of_data_space, deleting
#     the thin gives the space back and the pool goes back to rw.
#   then a verify-only pass of the last fio pass on every thin.
# Nothing may be lost (fio), nothing may hang (timeouts), the pool stays rw
# without needs_check, the kernel log stays clean, thin_check passes.
#
# usage (in the VM, via run-vm.sh --disk 2G):
#     vm-fio-stress.sh [kernel|ctpool] [MB_PER_THIN] [PASSES]
. "$(dirname "$0")/../vm/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
MB=${2:-96} PASSES=${3:-2}
TAIL=16 BALLAST=64 STEP=16   # MiB
FIO_TIMEOUT=$((600 + 10 * MB * PASSES))
need_disks 1
rel_load
disk=${DISKS[0]}
max_mb=$(( $(blockdev --getsz "$disk") / 2048 - 32 ))
# Short of what the ballast, the tails and one fio pass provision (let
# alone the blocks snapshots pin): the pool runs out during the first pass.
data_mb=$(( 4 * MB + BALLAST + 4 * TAIL - 24 ))
[ $((data_mb + 8 * STEP)) -le "$max_mb" ] || bail "disk too small for ${MB} MiB thins"
note "seeded fio, $PASSES passes of ${MB} MiB on 4 thins; pool data ${data_mb} MiB (max $max_mb)"

must carve fs-meta "$disk" 0 16M
must carve fs-data "$disk" 32M "${data_mb}M"
must thinctl pool-create fs-pool /dev/mapper/fs-meta /dev/mapper/fs-data 128 0
for i in 1 2 3 4; do must thinctl thin-create fs-pool $i fs-t$i $((MB + TAIL))M; done
must thinctl thin-create fs-pool 9 fs-ballast $((BALLAST + TAIL))M

# pool_reload DATA_MB [FEATURE...]: the pool's table again, on a data
# device of DATA_MB MiB (grown first when bigger), with these features.
pool_reload() {
	local mb=$1; shift
	dmsetup load fs-data --table "0 $(_sectors "${mb}M") linear $disk $(_sectors 32M)" &&
		dmsetup suspend fs-data && dmsetup resume fs-data &&
		dmsetup load fs-pool --table "0 $(_sectors "${mb}M") $POOL_TARGET /dev/mapper/fs-meta /dev/mapper/fs-data 128 0 $# $*" &&
		dmsetup suspend fs-pool && dmsetup resume fs-pool
}
pool_field() { dmsetup status fs-pool | awk -v f="$1" '{ print $f }'; }   # 8: mode
used_pct() { dmsetup status fs-pool | awk '{ split($6, d, "/"); print int(d[1] * 100 / d[2]) }'; }

# Tails and ballast provisioned before fio starts.
must dd if=/dev/urandom of=rand.bin bs=1M count=8 status=none
fill() {   # fill DEV FIRST_MIB MIB
	local m
	for ((m = $2; m < $2 + $3; m += 8)); do
		dd if=rand.bin of="$1" bs=1M seek=$m count=8 oflag=direct conv=notrunc status=none || return 1
	done
}
for i in 1 2 3 4; do must fill /dev/mapper/fs-t$i "$MB" $TAIL; done
must fill /dev/mapper/fs-ballast 0 $((BALLAST + TAIL))
note "pool before fio: $(dmsetup status fs-pool)"

# --- background workers (stop when the file "stop" appears) ---------------------
grower() {   # out of data space: grow the data device by STEP MiB
	local cur=$data_mb
	while [ ! -e stop-grower ]; do
		if [ "$(pool_field 8)" = out_of_data_space ]; then
			if [ $((cur + STEP)) -gt "$max_mb" ]; then
				echo "no room left to grow past $cur MiB" >> grow.err
			elif pool_reload $((cur + STEP)) 2>> grow.err; then
				cur=$((cur + STEP))
				echo "$cur" >> grow.log
			else
				echo "grow to $((cur + STEP)) MiB failed" >> grow.err
			fi
		fi
		sleep 0.3
	done
	echo "$cur" > data_mb
}
churn() {   # snapshots of the busy thins: create, activate, write, delete
	local n=0 id o
	while [ ! -e stop ]; do
		o=$((n % 4 + 1)) id=$((100 + n))
		if thinctl snap-create fs-pool $id $o 2>> churn.err; then
			# Every other one is written: COW on the snapshot side too.
			if [ $((n % 2)) -eq 0 ] && thinctl thin-activate fs-pool $id fs-snap $((MB + TAIL))M 2>> churn.err; then
				dd if=rand.bin of=/dev/mapper/fs-snap bs=1M seek=$((RANDOM % (MB - 8))) count=8 \
					oflag=direct conv=notrunc status=none 2>> churn.err || echo "write to snap $id failed" >> churn.err
				dmsetup remove fs-snap 2>> churn.err || echo "remove snap $id failed" >> churn.err
			else
				sleep 1
			fi
			thinctl thin-delete fs-pool $id 2>> churn.err && echo "$id" >> churn.log ||
				echo "delete $id failed" >> churn.err
		else
			echo "snap $id of $o failed" >> churn.err
			sleep 1
		fi
		n=$((n + 1))
	done
}
discarder() {   # discard a slice of a tail (or of the ballast), write it again
	local dev first len off
	while [ ! -e stop ]; do
		case $((RANDOM % 5)) in
		0) dev=fs-ballast first=0 len=$((BALLAST + TAIL)) ;;
		*) dev=fs-t$((RANDOM % 4 + 1)) first=$MB len=$TAIL ;;
		esac
		off=$((first + RANDOM % (len - 7)))
		blkdiscard -o $((off << 20)) -l $((8 << 20)) /dev/mapper/$dev 2>> disc.err &&
			dd if=rand.bin of=/dev/mapper/$dev bs=1M seek=$off count=8 oflag=direct \
				conv=notrunc status=none 2>> disc.err && echo "$dev $off" >> disc.log ||
			echo "discard/rewrite $dev at $off MiB failed" >> disc.err
		sleep 0.3
	done
}

# fio_pass PASS [--verify_only]: pass PASS's seeded random writes (4k-64k)
# over [0, MB) of the 4 thins, each read back and checked.
fio_pass() {
	local pass=$1 i jobs=(); shift
	for i in 1 2 3 4; do
		jobs+=("--name=t$i" "--filename=/dev/mapper/fs-t$i" "--randseed=$((pass * 10 + i))")
	done
	timeout -k 10 "$FIO_TIMEOUT" fio --rw=randwrite --bsrange=4k-64k --size="${MB}M" --offset=0 \
		--direct=1 --ioengine=libaio --iodepth=8 --randrepeat=1 --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --verify_state_save=0 --output-format=terse --minimal \
		"$@" "${jobs[@]}" > "fio-$pass.out" 2> "fio-$pass.err"
}

grower & gpid=$!
churn & cpid=$!
discarder & dpid=$!
t0=$(date +%s)
frc=0
for ((p = 1; p <= PASSES; p++)); do
	fio_pass $p || { frc=$?; break; }
	note "fio pass $p done after $(( $(date +%s) - t0 ))s, pool $(used_pct)% used"
done
# The grower goes last: a worker's write may be waiting for space.
touch stop
wait $cpid $dpid || true
touch stop-grower
wait $gpid || true
note "fio took $(( $(date +%s) - t0 ))s; snapshots created+deleted: $(wc -l < churn.log 2>/dev/null || echo 0); discard+rewrite rounds: $(wc -l < disc.log 2>/dev/null || echo 0); data device grown $(wc -l < grow.log 2>/dev/null || echo 0) times to $(cat data_mb) MiB"
if [ $frc -eq 124 ]; then fail "fio pass $p hung (no progress in ${FIO_TIMEOUT}s)"
else assert_eq "fio wrote and verified $PASSES passes on 4 thins" 0 "$frc"; fi
[ "$frc" -eq 0 ] || sed -n '1,20s/^/# fio: /p' "fio-$p.err"
check "the pool ran out of data space and was grown" test -s grow.log
[ -s grow.err ] && sed -n '1,5s/^/# grow: /p' grow.err
check "snapshots were created, written and deleted meanwhile" test -s churn.log
[ -s churn.err ] && sed -n '1,5s/^/# churn: /p' churn.err
check "discards ran meanwhile" test -s disc.log
[ -s disc.err ] && sed -n '1,5s/^/# discard: /p' disc.err
st=$(dmsetup status fs-pool)
note "pool after phase 1: $st ($(used_pct)% used)"
assert_match "pool rw, no needs_check after phase 1" " rw [a-z_]+ queue_if_no_space - " "$st"

# --- phase 2: error_if_no_space -------------------------------------------------
data_mb=$(cat data_mb)
must pool_reload "$data_mb" error_if_no_space
free_mb=$(dmsetup status fs-pool | awk '{ split($6, d, "/"); print int((d[2] - d[1]) / 16) }')
must thinctl thin-create fs-pool 50 fs-over $((free_mb + 64))M
orc=0
for ((m = 0; m < free_mb + 64; m += 8)); do
	timeout -k 10 600 dd if=rand.bin of=/dev/mapper/fs-over bs=1M seek=$m count=8 \
		oflag=direct conv=notrunc status=none 2>> over.err || { orc=$?; break; }
done
note "writing $((free_mb + 64)) MiB with $free_mb MiB free: status $orc, $(tail -n 1 over.err)"
if [ $orc -eq 124 ] || [ $orc -eq 137 ]; then fail "a write past the free space hung with error_if_no_space"
else check "writes past the free space fail with error_if_no_space" test "$orc" -ne 0; fi
st=$(dmsetup status fs-pool)
assert_match "pool says out_of_data_space, error_if_no_space" " out_of_data_space [a-z_]+ error_if_no_space - " "$st"
check "deleting the filler thin works when full" sh -c 'dmsetup remove fs-over && dmsetup message fs-pool 0 "delete 50"'
must pool_reload "$data_mb"
st=$(dmsetup status fs-pool)
note "pool after phase 2: $st"
assert_match "pool back to rw, queue_if_no_space, no needs_check" " rw [a-z_]+ queue_if_no_space - " "$st"

# --- everything fio wrote last is still there ------------------------------------
fio_pass "$PASSES" --verify_only && vrc=0 || vrc=$?
assert_eq "verify-only pass of the last fio pass on 4 thins" 0 "$vrc"
[ "$vrc" -eq 0 ] || sed -n '1,20s/^/# fio: /p' "fio-$PASSES.err"
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean (no hang, no oops)"; fi
remove_dm fs-t1 fs-t2 fs-t3 fs-t4 fs-ballast
check "pool removes" dmsetup remove fs-pool
check "metadata passes thin_check" thin_check -q /dev/mapper/fs-meta
