#!/bin/bash
# I/O faults under the pool: dm-flakey (error_writes, drop_writes) swapped in
# under the metadata device and under the data device of a live pool.
#   error_writes: the failure reaches the user (write or fsync fails) or the
#     pool leaves read-write mode (ro / Fail) with a kernel log message naming
#     the pool; it never leaves a corrupt superblock behind. On the metadata
#     device both targets do what dm-thin 6.1 does (metadata_operation_failed):
#     abort the transaction, set needs_check, go read-only: status "ro" and
#     "needs_check", new blocks and syncs fail with an I/O error, data flushed
#     before the fault reads back, and the flag is on disk after teardown.
#     On an idle pool a status finds the fault (it commits, as dm-thin's).
#   drop_writes: the device lies; the pool is torn down while the fault is on
#     (as a crash would), and the metadata on disk is the last good commit.
# Then the fault is removed: thin_check is clean (or thin_repair makes it so),
# needs_check is cleared as an admin would, the pool activates read-write and
# everything written and flushed before the fault reads back intact.
#
# usage (in the VM): fault-flakey.sh [kernel|ctpool]
. "$(dirname "$0")/lib.bash"
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
# flags_on_disk: the flags word of the superblock (block 0, offset 4) as stored.
flags_on_disk() {
	dd if=/dev/mapper/ff-meta bs=4K count=1 iflag=direct status=none |
		od -An -tu4 -j4 -N4 | tr -d ' '
}
# The kernel log names a pool by major:minor (dm_device_name), as dm-thin does.
pool_dev() { dmsetup info -c --noheadings -o major,minor --separator : ff-pool | tr -d ' '; }
events() { dm_events ff-pool; }
# (no process substitution: the guest's devtmpfs has no /dev/fd)
same() {
	dd if=/dev/mapper/ff-thin of=readback bs=64K count=32 skip="$2" iflag=direct status=none &&
		cmp -s "$1" readback
}

# recover WHAT [needs_check]: fault gone; the metadata must check clean (or be
# repaired), the pool must come up read-write and pattern A (flushed before
# the fault) must be intact. With needs_check, the flag the pool held must
# have reached the disk once the pool is gone (dm-thin: dm-bufio writes the
# dirty superblock at teardown; ctpool: at suspend or teardown).
recover() {
	local what=$1 st
	set_dev ff-meta linear; set_dev ff-data linear
	remove_dm ff-thin ff-pool
	if [ "${2:-}" = needs_check ]; then
		assert_eq "$what: needs_check flag written to the metadata at teardown" \
			1 "$(( $(flags_on_disk) & 1 ))"
	fi
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
# meta_read_only WHAT STATUS EVENTS_BEFORE: the pool went read-only like dm-thin.
meta_read_only() {
	local what=$1 st=$2 out
	assert_match "$what: pool read-only with needs_check in status" \
		"^0 [0-9]+ $POOL_TARGET [0-9]+ [0-9]+/[0-9]+ [0-9]+/[0-9]+ [-0-9]+ ro [a-z_]+ [a-z_]+ needs_check " "$st"
	assert_match "$what: kernel log names the pool going read-only" \
		"$(pool_dev): switching pool to read-only mode" "$(dmesg)"
	check_event ff-pool "$3" "$what"
	if out=$(dd if=pat-b of=/dev/mapper/ff-thin bs=64K count=1 seek=200 oflag=direct status=none 2>&1); then
		fail "$what: a write to a new block succeeded on a read-only pool"
	else
		assert_match "$what: a write to a new block fails with an I/O error" "Input/output error" "$out"
	fi
	check "$what: data flushed before the fault reads back" same pat-a 0
	check "$what: a mapped block can still be overwritten" \
		dd if=pat-a of=/dev/mapper/ff-thin bs=64K count=1 oflag=direct status=none
	check "$what: and reads back" same pat-a 0
	check_fails "$what: messages refused" dmsetup message ff-pool 0 "create_thin 3"
	assert_match "$what: status still ro + needs_check" " ro [a-z_]+ [a-z_]+ needs_check " \
		"$(dmsetup status ff-pool)"
}

for dev in meta data; do
	what="$dev error_writes"
	start
	ev=$(events)
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
	if [ "$dev" = meta ]; then
		assert_eq "$what: write+fsync of new blocks fails" failed "$wrote"
		meta_read_only "$what" "$st" "$ev"
	elif [ "$mode" = Fail ]; then
		# Reads of data written before the fault still work in read-only
		# mode; a pool in Fail mode errors all I/O.
		note "$what: pool in Fail mode: reads fail"
	else
		check "$what: earlier data still readable while faulty" same pat-a 0
	fi
	if rel_dmesg_bad; then fail "$what: kernel log shows a crash"; fi
	case $st in *needs_check*) recover "$what" needs_check ;; *) recover "$what" ;; esac
done

# --- an idle pool: its status finds the fault ----------------------------------
# The status commits even with nothing to commit, as dm-thin's does (the
# superblock is rewritten), so it is the status that finds the failing
# metadata device: LVM's health check (lvm2's thin-flags.sh) counts on it.
what="idle pool, meta error_writes, status"
start
ev=$(events)
set_dev ff-meta error_writes
dmsetup status ff-pool > /dev/null 2>&1 || true
st=$(dmsetup status ff-pool 2>&1 || true)
note "$what: pool status: $st"
meta_read_only "$what" "$st" "$ev"
if rel_dmesg_bad; then fail "$what: kernel log shows a crash"; fi
recover "$what" needs_check

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
