#!/bin/bash
# I/O faults under the pool: dm-flakey (error_writes, drop_writes) swapped in
# under the metadata device and under the data device of a live pool.
#   error_writes: the failure reaches the user (write or fsync fails) or the
#     pool leaves read-write mode (ro / Fail) with a kernel log message naming
#     the pool; it never leaves a corrupt superblock behind.
#   drop_writes: the device lies; the pool is torn down while the fault is on
#     (as a crash would), and the metadata on disk is the last good commit.
# Then the fault is removed: thin_check is clean (or thin_repair makes it so),
# needs_check is cleared as an admin would, the pool activates read-write and
# everything written and flushed before the fault reads back intact.
#
# usage (in the VM): fault-flakey.sh [kernel|ctpool]
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
need_disks 1
rel_load

META_S=$(_sectors 8M) DATA_S=$(_sectors 64M)
must carve ff-mbase "${DISKS[0]}" 0 8M
must carve ff-dbase "${DISKS[0]}" 16M 64M
must carve ff-repair "${DISKS[0]}" 96M 8M
must dmsetup create ff-meta --table "0 $META_S linear /dev/mapper/ff-mbase 0"
must dmsetup create ff-data --table "0 $DATA_S linear /dev/mapper/ff-dbase 0"
must dd if=/dev/urandom of=pat-a bs=64K count=32 status=none
must dd if=/dev/urandom of=pat-b bs=64K count=32 status=none
faults=0

# set_dev NAME linear|error_writes|drop_writes: swap the table under a live pool.
set_dev() {
	local name=$1 mode=$2 base len
	base=/dev/mapper/${name/ff-meta/ff-mbase}; base=${base/ff-data/ff-dbase}
	len=$(blockdev --getsz "/dev/mapper/$name")
	if [ "$mode" = linear ]; then
		dmsetup load "$name" --table "0 $len linear $base 0"
	else
		dmsetup load "$name" --table "0 $len flakey $base 0 0 3600 1 $mode"
		faults=$((faults + 1))
	fi
	dmsetup suspend --noflush "$name" && dmsetup resume "$name"
}

pool_up() { thinctl pool-activate ff-pool /dev/mapper/ff-meta /dev/mapper/ff-data 128 0 error_if_no_space; }
thin_up() { thinctl thin-activate ff-pool 1 ff-thin 16M; }
put() { dd if="$1" of=/dev/mapper/ff-thin bs=64K count=32 seek="$2" oflag=direct conv=fsync status=none 2>/dev/null; }
# (no process substitution: the guest's devtmpfs has no /dev/fd)
same() {
	dd if=/dev/mapper/ff-thin of=readback bs=64K count=32 skip="$2" iflag=direct status=none &&
		cmp -s "$1" readback
}

# recover WHAT: fault gone; the metadata must check clean (or be repaired),
# the pool must come up read-write and pattern A (flushed before the fault)
# must be intact.
recover() {
	local what=$1 st
	set_dev ff-meta linear; set_dev ff-data linear
	remove_dm ff-thin ff-pool
	if thin_check -q /dev/mapper/ff-meta >/dev/null 2>&1; then
		pass "$what: metadata checks clean after the fault"
	else
		fail "$what: metadata does not pass thin_check after the fault: $(thin_check /dev/mapper/ff-meta 2>&1 | tail -3 | tr '\n' ' ')"
		zero_dev /dev/mapper/ff-repair 8
		if thin_repair -i /dev/mapper/ff-meta -o /dev/mapper/ff-repair >/dev/null 2>&1; then
			dd if=/dev/mapper/ff-repair of=/dev/mapper/ff-meta bs=1M oflag=direct status=none
			note "$what: thin_repair rebuilt the metadata"
		fi
	fi
	# needs_check is cleared by the admin after a clean check.
	thin_check -q --clear-needs-check-flag /dev/mapper/ff-meta >/dev/null 2>&1 || true
	if ! pool_up; then fail "$what: pool activates after recovery"; return; fi
	st=$(dmsetup status ff-pool)
	assert_match "$what: pool read-write without needs_check after recovery" \
		"^0 [0-9]+ $POOL_TARGET [0-9]+ [0-9]+/[0-9]+ [0-9]+/[0-9]+ [-0-9]+ rw [a-z_]+ [a-z_]+ - " "$st"
	if thin_up; then
		check "$what: data flushed before the fault reads back intact" same pat-a 0
	else
		fail "$what: thin activates after recovery"
	fi
	remove_dm ff-thin ff-pool
	check "$what: metadata clean after the recovered pool is removed" \
		thin_check -q /dev/mapper/ff-meta
}

# start: fresh pool, thin 1, pattern A written and flushed (durable).
start() {
	remove_dm ff-thin ff-pool
	zero_dev /dev/mapper/ff-meta
	must pool_up
	must dmsetup message ff-pool 0 "create_thin 1"
	must thin_up
	must put pat-a 0
	dmesg -C
}

# --- error_writes: the failure must be visible ---------------------------------
for dev in meta data; do
	what="$dev error_writes"
	start
	set_dev ff-$dev error_writes
	# New blocks (provisioning) and a flush: both need the faulty device.
	put pat-b 64 && wrote=ok || wrote=failed
	# A message commits too.
	dmsetup message ff-pool 0 "create_thin 2" 2>/dev/null && msg=ok || msg=failed
	st=$(dmsetup status ff-pool 2>&1 || true)
	mode=$(echo "$st" | awk '{ print ($4 == "Fail") ? "Fail" : $8 }')
	note "$what: write+fsync $wrote, message $msg, pool status: $st"
	if [ "$wrote" = failed ] || [ "$mode" != rw ]; then
		pass "$what: the fault is reported (write/fsync error or pool mode $mode)"
	else
		fail "$what: writes and fsync succeeded and the pool stayed rw on a failing $dev device"
	fi
	assert_match "$what: kernel log explains" \
		"(thin|$POOL_TARGET|ctpool|device-mapper).*([Ee]rror|fail|read-only|read_only)" "$(dmesg)"
	if rel_dmesg_bad; then fail "$what: kernel log shows a crash"; fi
	# Reads of data written before the fault still work in read-only mode
	# (dm-thin: ro + needs_check); a pool in Fail mode errors all I/O.
	if [ "$mode" = Fail ]; then
		note "$what: pool in Fail mode (dm-thin goes read-only here): reads fail"
	else
		check "$what: earlier data still readable while faulty" same pat-a 0
	fi
	recover "$what"
done

# --- drop_writes: a lying device, then a crash --------------------------------
for dev in meta data; do
	what="$dev drop_writes"
	start
	set_dev ff-$dev drop_writes
	put pat-b 64 || true
	dmsetup message ff-pool 0 "create_thin 2" 2>/dev/null || true
	put pat-b 128 || true
	# The crash: tear everything down while the device still drops writes.
	dmsetup remove ff-thin 2>/dev/null || true
	dmsetup remove ff-pool 2>/dev/null || true
	if rel_dmesg_bad; then fail "$what: kernel log shows a crash"; fi
	recover "$what"
done

note "faults injected: $faults"
