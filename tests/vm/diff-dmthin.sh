#!/bin/bash
# Differential test: the same sequence (thin, writes, partial writes, snapshot,
# sharing broken by overwrites, discards, deletes, messages) against the
# kernel's dm-thin and against ctpool, on separate devices in one boot. Data
# read back, status lines, thin_check, and thin_dump's device summaries must
# agree.
. "$(dirname "$0")/lib.bash"
must load_dm_thin
must load_ctpool

# k = kernel dm-thin, c = ctpool; small devices carved from two disks.
carve_pool_pair k c 256M
rand_files

# run SIDE CMD...: with the target names of that side.
run() {
	local side=$1; shift
	if [ "$side" = k ]; then use_kernel_targets; else use_ctpool_targets; fi
	"$@"
}

# status_no_meta POOL: pool status without the used-metadata count (btree
# shapes may legitimately differ) and the target name.
pool_fields() {
	dmsetup status "$1" | awk '{ $3 = ""; split($5, m, "/"); $5 = m[2]; print }'
}
thin_fields() { dmsetup status "$1" | awk '{ $3 = ""; print }'; }

compare() {
	local what=$1 k c
	shift
	k=$("$@" k)
	c=$("$@" c)
	assert_eq "$what" "$k" "$c"
}

pool_status_of() { pool_fields "${1}pool"; }
thin_status_of() { thin_fields "${1}thin"; }
snap_status_of() { thin_fields "${1}snap"; }
thin_md5_of() { dev_md5 "/dev/mapper/${1}thin"; }
snap_md5_of() { dev_md5 "/dev/mapper/${1}snap"; }

for s in k c; do
	must run $s thinctl pool-create ${s}pool /dev/mapper/${s}meta /dev/mapper/${s}data 128 0
	must dmsetup message ${s}pool 0 "create_thin 1"
	must run $s thinctl thin-activate ${s}pool 1 ${s}thin 20M
done
compare "fresh pool status" pool_status_of
compare "fresh thin status" thin_status_of

# queue_limits NAME SIDE: the block limits dm derives from io_hints.
queue_limits() {
	local q f
	q=/sys/block/$(basename "$(readlink -f "/dev/mapper/${2}$1")")/queue
	for f in discard_granularity discard_max_bytes minimum_io_size \
		optimal_io_size max_sectors_kb logical_block_size; do
		printf '%s=%s ' $f "$(cat $q/$f)"
	done
}
compare "pool queue limits" queue_limits pool
compare "thin queue limits" queue_limits thin
note "ctpool thin limits: $(queue_limits thin c)"

for s in k c; do
	must dd if=/tmp/rand8 of=/dev/mapper/${s}thin bs=1M oflag=direct status=none
	# Partial writes to new blocks (zeroing) and within a block.
	for off in 2500 2501 2600 4000 5119; do
		must dd if=/tmp/rand4k of=/dev/mapper/${s}thin bs=4k seek=$off oflag=direct status=none
	done
done
compare "thin data after writes" thin_md5_of
compare "thin status after writes" thin_status_of
compare "pool status after writes" pool_status_of

for s in k c; do
	must run $s thinctl snap-create ${s}pool 2 1 ${s}thin
	must run $s thinctl thin-activate ${s}pool 2 ${s}snap 20M
	must fio --name=over --filename=/dev/mapper/${s}thin --size=4M --rw=randwrite \
		--bs=4k --direct=1 --ioengine=libaio --iodepth=4 --randseed=11 \
		--norandommap --number_ios=128 --buffer_pattern=0xdeadbeef \
		--output-format=terse --minimal > /dev/null
	must dd if=/tmp/rand8 of=/dev/mapper/${s}snap bs=64k count=16 seek=200 oflag=direct status=none
done
compare "origin data after COW" thin_md5_of
compare "snapshot data after COW" snap_md5_of
compare "origin status after COW" thin_status_of
compare "snapshot status after COW" snap_status_of
compare "pool status after COW" pool_status_of

for s in k c; do
	must blkdiscard -o 4M -l 2M /dev/mapper/${s}snap
	must blkdiscard -o 10000384 -l 100352 /dev/mapper/${s}thin
	must blkdiscard -o 14M -l 4096 /dev/mapper/${s}thin
done
compare "origin data after discards" thin_md5_of
compare "snapshot data after discards" snap_md5_of
compare "origin status after discards" thin_status_of
compare "snapshot status after discards" snap_status_of
compare "pool status after discards" pool_status_of

for s in k c; do
	must dmsetup message ${s}pool 0 "set_transaction_id 0 7"
	must dmsetup message ${s}pool 0 "create_snap 3 2"
	must dmsetup message ${s}pool 0 "create_thin 4"
	must dmsetup message ${s}pool 0 "delete 4"
done
compare "pool status after messages" pool_status_of

# Error codes of refused messages.
msg_rc() { dmsetup message "${2}pool" 0 "$1" > /dev/null 2>&1; echo $?; }
for m in "create_thin 1" "create_snap 5 9" "delete 9" "delete 1" \
	"set_transaction_id 1 2" "create_thin 16777216" "bogus" "create_thin"; do
	compare "refused message '$m'" msg_rc "$m"
done

for s in k c; do
	must dmsetup remove ${s}snap
	must dmsetup message ${s}pool 0 "delete 2"
done
compare "pool status after deleting the snapshot" pool_status_of
compare "origin data at the end" thin_md5_of

dump_devices() {
	thin_dump "/dev/mapper/${1}meta" | grep -o '<device [^>]*>\|<superblock [^>]*>' |
		sed 's/ uuid="[^"]*"//'
}
for s in k c; do
	must dmsetup remove ${s}thin
	must dmsetup remove ${s}pool
done
check "thin_check of dm-thin's metadata" thin_check -q /dev/mapper/kmeta
check "thin_check of ctpool's metadata" thin_check -q /dev/mapper/cmeta
compare "thin_dump superblock and device summaries" dump_devices
note "kernel: $(dump_devices k | tr '\n' ' ')"
