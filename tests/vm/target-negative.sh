#!/bin/bash
# Bad input never oopses or hangs, and is refused with dm-thin's error
# strings: malformed pool/thin tables, metadata that cannot be used, a full
# pool in error_if_no_space and in queue mode (with a short no_space_timeout),
# recovery by growing the data device.
. "$(dirname "$0")/lib.bash"
need_disks 2
must load_ctpool

must carve tmeta "${DISKS[0]}" 0 16M
must carve tiny "${DISKS[0]}" 16M 16K
must carve tdata "${DISKS[1]}" 0 64M
M=/dev/mapper/tmeta D=/dev/mapper/tdata
must zero_dev $M

# refused NAME TABLE ERROR: dmsetup create fails and the kernel says ERROR.
refused() {
	local name=$1 table=$2 err=$3
	dmesg -C
	if dmsetup create "$name" --table "$table" > /dev/null 2>&1; then
		fail "table '$table' accepted"
		dmsetup remove "$name"
		return
	fi
	dmsetup remove "$name" > /dev/null 2>&1 || true
	assert_match "table '$table': $err" "$err" "$(dmesg)"
}

refused bad "0 131072 ctpool $M $D 128" "Invalid argument count"
refused bad "0 131072 ctpool $M $M 128 0" "Error setting metadata or data device"
refused bad "0 131072 ctpool $M $D 100 0" "Invalid block size"
refused bad "0 131072 ctpool $M $D 64 0" "Invalid block size"
refused bad "0 131072 ctpool $M $D 128 x" "Invalid low water mark"
refused bad "0 131072 ctpool $M $D 128 0 5 skip_block_zeroing ignore_discard no_discard_passdown read_only error_if_no_space" \
	"Invalid number of pool feature arguments"
refused bad "0 131072 ctpool $M $D 128 0 2 read_only" "Invalid number of pool feature arguments"
refused bad "0 131072 ctpool $M $D 128 0 1 turbo" "Unrecognised pool feature requested"
refused bad "0 131072 ctpool /dev/nonexistent $D 128 0" "Error opening metadata block device"
refused bad "0 131072 ctpool $M /dev/nonexistent 128 0" "Error getting data device"
refused bad "0 131072 ctpool $M $D 128 0 1 read_only" "Error creating metadata object"
refused bad "0 131072 ctpool /dev/mapper/tiny $D 128 0" "Error creating metadata object"

# A good pool with a few refused thin tables.
must dmsetup create pool --table "0 131072 ctpool $M $D 128 0 1 error_if_no_space"
assert_eq "error_if_no_space shown in the table" \
	"1 error_if_no_space " "$(dmsetup table pool | cut -d' ' -f8-)"
must dmsetup message pool 0 "create_thin 1"
refused bad "0 2048 ctthin /dev/mapper/pool" "Invalid argument count"
refused bad "0 2048 ctthin /dev/mapper/pool 1 $D x" "Invalid argument count"
refused bad "0 2048 ctthin /dev/mapper/pool 16777216" "Invalid device id"
refused bad "0 2048 ctthin /dev/mapper/pool abc" "Invalid device id"
refused bad "0 2048 ctthin /dev/mapper/pool 2" "Couldn't open thin internal device"
refused bad "0 2048 ctthin $D 1" "Couldn't find pool object"
refused bad "0 2048 ctthin /dev/mapper/pool 1 /dev/mapper/pool" "Error setting origin device"

# Messages that are refused leave the pool usable.
for m in "" "create_thin" "create_thin -1" "delete x" "set_transaction_id 9 9" \
	"release_metadata_snap" "create_snap 1 1"; do
	check_fails "message '$m' refused" dmsetup message pool 0 "$m"
done

# Fill the 64 MiB (1024 blocks) pool from a 128 MiB thin: error_if_no_space.
must dmsetup create thin1 --table "0 262144 ctthin /dev/mapper/pool 1"
dmesg -C
events=$(dmsetup info -c --noheadings -o events pool)
check_fails "writing past the data space fails" \
	dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=80 oflag=direct status=none
assert_eq "pool out of data space" out_of_data_space "$(thinctl pool-status pool mode)"
assert_eq "every block used" 1024 "$(thinctl pool-status pool used-data)"
assert_match "mode switch logged in dm-thin's words" \
	"switching pool to out-of-data-space \\(error IO\\) mode" "$(dmesg)"
assert_match "low water mark logged" "reached low water mark for data device" "$(dmesg)"
check "table events sent" test "$(dmsetup info -c --noheadings -o events pool)" -gt "$events"
check "reads still work" dd if=/dev/mapper/thin1 of=/dev/null bs=1M count=64 iflag=direct status=none
check "overwrites of mapped blocks still work" \
	dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=8 oflag=direct status=none
check "messages still work" dmsetup message pool 0 "set_transaction_id 0 1"

# grow_data SIZE: the linear device under the pool grows in place.
grow_data() {
	dmsetup suspend tdata &&
	dmsetup reload tdata --table "0 $(_sectors "$1") linear ${DISKS[1]} 0" &&
	dmsetup resume tdata
}

# Grow the data device: the pool goes back to write mode.
must grow_data 96M
dmesg -C
must dmsetup suspend pool
must dmsetup reload pool --table "0 196608 ctpool $M $D 128 0 1 error_if_no_space"
must dmsetup resume pool
# dm-thin's order: the new table switches to write mode, then the data grows.
assert_match "kernel log: write mode, then growing (dm-thin's order)" \
	"switching pool to write mode.*growing the data device from 1024 to 1536 blocks" \
	"$(dmesg | tr '\n' ' ')"
assert_eq "grown pool: total data" 1536 "$(thinctl pool-status pool total-data)"
assert_eq "grown pool: rw again" rw "$(thinctl pool-status pool mode)"
check "writes work after growing" \
	dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=16 seek=64 oflag=direct status=none

# Queue mode with a 2 s timeout: writes wait, then fail.
echo 2 > /sys/module/dm_ctpool/parameters/no_space_timeout
must dmsetup suspend pool
must dmsetup reload pool --table "0 196608 ctpool $M $D 128 0 0"
must dmsetup resume pool
assert_eq "queue mode shown" queue_if_no_space "$(thinctl pool-status pool no-space)"
t0=$(date +%s)
check_fails "writes past the space fail after the timeout" \
	dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=64 seek=64 oflag=direct status=none
t1=$(date +%s)
check "the failing write waited for the timeout ($((t1 - t0)) s)" test $((t1 - t0)) -ge 2
assert_eq "timeout switched to error mode" error_if_no_space "$(thinctl pool-status pool no-space)"
assert_match "kernel log: the timeout announced as dm-thin does" \
	"switching pool to out-of-data-space \\(error IO\\) mode" "$(dmesg)"

# Queue mode without timeout: a queued write completes once space is added.
echo 0 > /sys/module/dm_ctpool/parameters/no_space_timeout
must dmsetup suspend pool
must dmsetup reload pool --table "0 196608 ctpool $M $D 128 0 0"
must dmsetup resume pool
dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=8 seek=120 oflag=direct status=none &
writer=$!
sleep 3
check "queued write still waiting" kill -0 $writer
assert_eq "queue: out of data space" out_of_data_space "$(thinctl pool-status pool mode)"
must grow_data 160M
must dmsetup suspend pool
must dmsetup reload pool --table "0 327680 ctpool $M $D 128 0 0"
must dmsetup resume pool
check "queued write completed after growing" wait $writer
assert_eq "rw after growing" rw "$(thinctl pool-status pool mode)"

# Shrinking the data device is refused at resume; a reload puts it right.
dmesg -C
must dmsetup suspend pool
must dmsetup reload pool --table "0 131072 ctpool $M $D 128 0 0"
check_fails "resume with a smaller data device fails" dmsetup resume pool
assert_match "too small logged" "pool target \(1024 blocks\) too small: expected 2560" "$(dmesg)"
must dmsetup reload pool --table "0 327680 ctpool $M $D 128 0 0"
must dmsetup resume pool

# Growing the metadata device.
must dmsetup suspend tmeta
must dmsetup reload tmeta --table "0 40960 linear ${DISKS[0]} 0"
must dmsetup resume tmeta
must dmsetup suspend pool
must dmsetup reload pool --table "0 327680 ctpool $M $D 128 0 0"
must dmsetup resume pool
assert_eq "metadata grown to 20 MiB" 5120 "$(thinctl pool-status pool total-meta)"
must blkdiscard -o 0 -l 4M /dev/mapper/thin1
check "provisioning after growing the metadata" \
	dd if=/dev/zero of=/dev/mapper/thin1 bs=1M count=4 oflag=direct status=none

check_fails "delete of the open thin is refused" dmsetup message pool 0 "delete 1"
must dmsetup remove thin1
check "delete thin" dmsetup message pool 0 "delete 1"
must dmsetup remove pool
check "thin_check after all this" thin_check -q $M
check "rmmod" unload_ctpool
