#!/bin/bash
# The kernel's dm-thin through scripts/thinctl.sh: the reference lifecycle that
# ctpool must reproduce (pool, thin, fio verify, snapshot, sharing broken by
# overwrites, deletes return every block, clean metadata for thin_check).
. "$(dirname "$0")/lib.bash"
need_disks 2
use_kernel_targets
must load_dm_thin

# Small devices carved from the scratch disks keep TCG time down.
carve_pool
assert_eq "new pool: total data blocks" 4096 "$(thinctl pool-status pool total-data)"
assert_eq "new pool: no data used" 0 "$(thinctl pool-status pool used-data)"
assert_eq "new pool: mode" rw "$(thinctl pool-status pool mode)"
assert_eq "new pool: needs_check" - "$(thinctl pool-status pool needs-check)"

must thinctl thin-create pool 1 thin1 64M
assert_eq "new thin maps nothing" 0 "$(thinctl thin-status thin1 mapped-sectors)"
check "fio write+verify 32M on the thin" fio_verify /dev/mapper/thin1 32M
assert_eq "32M provisioned 512 blocks" 512 "$(thinctl pool-status pool used-data)"
assert_eq "thin maps 32M" 65536 "$(thinctl thin-status thin1 mapped-sectors)"
origin_sum=$(dev_md5 /dev/mapper/thin1)

check "snapshot of the active origin" thinctl snap-create pool 2 1 thin1
must thinctl thin-activate pool 2 snap1 64M
assert_eq "snapshot reads as the origin did" "$origin_sum" "$(dev_md5 /dev/mapper/snap1)"
assert_eq "snapshot shares all blocks" 512 "$(thinctl pool-status pool used-data)"

# 4k random overwrites of shared blocks each break sharing of a 64k block.
check "overwrite 16M of the origin" fio --name=over --filename=/dev/mapper/thin1 \
	--size=16M --rw=randwrite --bs=4k --direct=1 --ioengine=libaio --iodepth=8 \
	--randseed=7 --output-format=terse --minimal
assert_ne "origin changed" "$origin_sum" "$(dev_md5 /dev/mapper/thin1)"
assert_eq "snapshot unchanged" "$origin_sum" "$(dev_md5 /dev/mapper/snap1)"
used=$(thinctl pool-status pool used-data)
check "breaking sharing allocated blocks ($used)" test "$used" -gt 512 -a "$used" -le 768

must thinctl thin-remove snap1
must thinctl thin-remove thin1
check "delete thin" thinctl thin-delete pool 1
check "delete snapshot" thinctl thin-delete pool 2
check_fails "delete of an unknown id fails" thinctl thin-delete pool 3
assert_eq "all data blocks returned" 0 "$(thinctl pool-status pool used-data)"
assert_eq "transaction id untouched" 0 "$(thinctl pool-status pool transaction-id)"
check "remove pool" thinctl pool-remove pool
check "thin_check on the metadata" thin_check /dev/mapper/tmeta
