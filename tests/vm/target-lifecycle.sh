#!/bin/bash
# The dm-thin lifecycle of tests/vm/dmthin-reference.sh, against ctpool/ctthin:
# pool, thin, fio verify, snapshot, sharing broken by overwrites, discards,
# deletes return every block, exact table/status lines, clean thin_check.
. "$(dirname "$0")/lib.bash"
need_disks 2
use_ctpool_targets
must load_ctpool

must carve tmeta "${DISKS[0]}" 0 16M
must carve tdata "${DISKS[1]}" 0 256M
meta_mm=$(dmsetup info -c --noheadings -o major,minor --separator : tmeta)
data_mm=$(dmsetup info -c --noheadings -o major,minor --separator : tdata)

must thinctl pool-create pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
assert_eq "pool table line" "0 524288 ctpool $meta_mm $data_mm 128 0 0 " \
	"$(dmsetup table pool)"
st=$(dmsetup status pool)
# 16 MiB metadata = 4096 blocks; low water min(1024, 4096/4).
assert_match "pool status line" \
	'^0 524288 ctpool 0 [0-9]+/4096 0/4096 - rw discard_passdown queue_if_no_space - 1024 $' "$st"
assert_eq "new pool: total data blocks" 4096 "$(thinctl pool-status pool total-data)"

must thinctl thin-create pool 1 thin1 64M
pool_mm=$(dmsetup info -c --noheadings -o major,minor --separator : pool)
assert_eq "thin table line" "0 131072 ctthin $pool_mm 1" "$(dmsetup table thin1)"
assert_eq "new thin status" "0 131072 ctthin 0 -" "$(dmsetup status thin1)"
assert_eq "unprovisioned reads are zeroes" \
	"$(head -c 1M /dev/zero | md5sum | cut -d' ' -f1)" "$(dev_md5 /dev/mapper/thin1 1)"
assert_eq "reads allocate nothing" 0 "$(thinctl pool-status pool used-data)"

check "fio write+verify 32M on the thin" fio_verify /dev/mapper/thin1 32M
assert_eq "32M provisioned 512 blocks" 512 "$(thinctl pool-status pool used-data)"
assert_eq "thin status after 32M" "0 131072 ctthin 65536 65535" "$(dmsetup status thin1)"
origin_sum=$(dev_md5 /dev/mapper/thin1)

# Partial-block writes to new blocks: the rest of the block must read as zero.
must dd if=/dev/urandom of=/tmp/4k bs=4k count=1 status=none
must dd if=/tmp/4k of=/dev/mapper/thin1 bs=4k seek=$((600 * 16 + 1)) oflag=direct status=none
want=$( (head -c 4096 /dev/zero; cat /tmp/4k; head -c $((65536 - 8192)) /dev/zero) | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/mapper/thin1 bs=64k skip=600 count=1 iflag=direct status=none | md5sum | cut -d' ' -f1)
assert_eq "partial write to a new block zeroes the rest" "$want" "$got"
assert_eq "one more block" 513 "$(thinctl pool-status pool used-data)"
must dd if=/dev/zero of=/dev/mapper/thin1 bs=4k seek=$((600 * 16 + 1)) count=1 oflag=direct status=none
must blkdiscard -o $((600 * 65536)) -l 65536 /dev/mapper/thin1
assert_eq "discard of that block returns it" 512 "$(thinctl pool-status pool used-data)"
assert_eq "origin unchanged by the detour" "$origin_sum" "$(dev_md5 /dev/mapper/thin1)"

check "snapshot of the active origin" thinctl snap-create pool 2 1 thin1
must thinctl thin-activate pool 2 snap1 64M
assert_eq "snapshot reads as the origin did" "$origin_sum" "$(dev_md5 /dev/mapper/snap1)"
assert_eq "snapshot shares all blocks" 512 "$(thinctl pool-status pool used-data)"
assert_eq "snapshot status" "0 131072 ctthin 65536 65535" "$(dmsetup status snap1)"

check "overwrite 16M of the origin" fio --name=over --filename=/dev/mapper/thin1 \
	--size=16M --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=8 \
	--randseed=7 --output-format=terse --minimal > /dev/null
assert_ne "origin changed" "$origin_sum" "$(dev_md5 /dev/mapper/thin1)"
assert_eq "snapshot unchanged" "$origin_sum" "$(dev_md5 /dev/mapper/snap1)"
used=$(thinctl pool-status pool used-data)
check "breaking sharing allocated blocks ($used)" test "$used" -gt 512 -a "$used" -le 768
check "whole-block overwrite of the snapshot verifies" fio_verify /dev/mapper/snap1 4M
thin_sum=$(dev_md5 /dev/mapper/thin1)

# Discard the snapshot entirely: only blocks it alone held come back.
check "blkdiscard of the snapshot" blkdiscard /dev/mapper/snap1
assert_eq "snapshot maps nothing" "0 131072 ctthin 0 -" "$(dmsetup status snap1)"
assert_eq "origin untouched by the snapshot's discard" "$thin_sum" "$(dev_md5 /dev/mapper/thin1)"

check_fails "delete of an active thin fails" dmsetup message pool 0 "delete 1"
check_fails "create_thin of an existing id fails" dmsetup message pool 0 "create_thin 1"
check_fails "snapshot of a missing origin fails" dmsetup message pool 0 "create_snap 9 8"
check "set_transaction_id 0 -> 5" dmsetup message pool 0 "set_transaction_id 0 5"
check_fails "set_transaction_id with a stale id fails" dmsetup message pool 0 "set_transaction_id 0 6"
assert_eq "transaction id" 5 "$(thinctl pool-status pool transaction-id)"
check "reserve_metadata_snap" dmsetup message pool 0 reserve_metadata_snap
assert_match "held root shown" '^[0-9]+$' "$(thinctl pool-status pool held-root)"
check_fails "second reserve_metadata_snap fails" dmsetup message pool 0 reserve_metadata_snap
check "release_metadata_snap" dmsetup message pool 0 release_metadata_snap
assert_eq "no held root" - "$(thinctl pool-status pool held-root)"

must thinctl thin-remove snap1
must thinctl thin-remove thin1
check "delete thin" thinctl thin-delete pool 1
check "delete snapshot" thinctl thin-delete pool 2

# A thin target that does not start at sector 0 of its table (here behind
# 1 MiB of the error target) addresses the same virtual blocks: bio sectors
# are taken relative to the target.
must dmsetup message pool 0 "create_thin 3"
must dmsetup create offthin --table "0 2048 error
2048 8192 $THIN_TARGET /dev/mapper/pool 3"
must dd if=/dev/urandom of=offpat bs=64K count=8 status=none
must dd if=offpat of=/dev/mapper/offthin bs=64K count=8 seek=16 oflag=direct status=none
must dmsetup remove offthin
must dmsetup create offthin --table "0 8192 $THIN_TARGET /dev/mapper/pool 3"
must dd if=/dev/mapper/offthin of=offback bs=64K count=8 iflag=direct status=none
check "thin target at an offset: data lands at its own virtual blocks 0-7" \
	cmp offpat offback
assert_eq "thin target at an offset: 8 blocks mapped" "0 8192 $THIN_TARGET 1024 1023" \
	"$(dmsetup status offthin)"
must dmsetup remove offthin
check "delete the offset thin" thinctl thin-delete pool 3
check_fails "delete of an unknown id fails" thinctl thin-delete pool 3
assert_eq "all data blocks returned" 0 "$(thinctl pool-status pool used-data)"
check "remove pool" thinctl pool-remove pool
check "thin_check on the metadata" thin_check /dev/mapper/tmeta

# Reactivation of the same metadata keeps the transaction id.
must thinctl pool-activate pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
assert_eq "reactivated: transaction id kept" 5 "$(thinctl pool-status pool transaction-id)"
assert_eq "reactivated: no data used" 0 "$(thinctl pool-status pool used-data)"
check "remove pool again" thinctl pool-remove pool
check "rmmod" unload_ctpool

# compat_names=1: the same targets under dm-thin's names.
must load_ctpool compat_names=1
use_kernel_targets
must thinctl pool-create pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
must thinctl thin-create pool 1 thin1 16M
assert_match "compat: pool table" "^0 524288 thin-pool " "$(dmsetup table pool)"
check "compat: fio write+verify" fio_verify /dev/mapper/thin1 4M
assert_eq "compat: thin status" "0 32768 thin 8192 8191" "$(dmsetup status thin1)"
must thinctl thin-remove thin1
check "compat: delete" thinctl thin-delete pool 1
check "compat: remove pool" thinctl pool-remove pool
check "compat: rmmod" unload_ctpool
