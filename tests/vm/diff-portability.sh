#!/bin/bash
# On-disk compatibility: metadata written by ctpool is used by the kernel's
# dm-thin and the other way round (data reads back, thin_check clean), and
# metadata made by thin_restore is used by ctpool.
. "$(dirname "$0")/lib.bash"
must load_dm_thin
must load_ctpool

# meta + data, and rmeta + rdata for metadata made by thin_restore.
carve_pool_pair "" r 64M
rand_files

activate_all() {
	must thinctl pool-activate pool /dev/mapper/meta /dev/mapper/data 128 0
	local id
	for id in "$@"; do
		must thinctl thin-activate pool "$id" thin$id 16M
	done
}
remove_all() {
	local id
	for id in "$@"; do
		must dmsetup remove thin$id
	done
	must dmsetup remove pool
}
sums() {
	local id
	for id in "$@"; do
		echo "$id:$(dev_md5 /dev/mapper/thin$id)"
	done
}

# 1. ctpool writes, dm-thin reads.
use_ctpool_targets
must thinctl pool-create pool /dev/mapper/meta /dev/mapper/data 128 0
must thinctl thin-create pool 1 thin1 16M
must dd if=/tmp/rand8 of=/dev/mapper/thin1 bs=1M oflag=direct status=none
must thinctl snap-create pool 2 1 thin1
must thinctl thin-activate pool 2 thin2 16M
for off in 3 700 1500 2100; do
	must dd if=/tmp/rand4k of=/dev/mapper/thin1 bs=4k seek=$off oflag=direct status=none
done
must dmsetup message pool 0 "set_transaction_id 0 1"
ct_sums=$(sums 1 2)
ct_status=$(thinctl pool-status pool | cut -d' ' -f4-)
remove_all 1 2
check "thin_check of ctpool's metadata" thin_check -q /dev/mapper/meta

use_kernel_targets
activate_all 1 2
assert_eq "dm-thin reads ctpool's thins" "$ct_sums" "$(sums 1 2)"
assert_eq "dm-thin sees the same pool state" "$ct_status" \
	"$(thinctl pool-status pool | cut -d' ' -f4-)"

# 2. dm-thin writes, ctpool reads.
must dd if=/tmp/rand8 of=/dev/mapper/thin2 bs=64k count=8 seek=100 oflag=direct status=none
must dd if=/tmp/rand4k of=/dev/mapper/thin1 bs=4k seek=1 oflag=direct status=none
must dmsetup message pool 0 "create_snap 3 2"
must dmsetup message pool 0 "set_transaction_id 1 2"
must thinctl thin-activate pool 3 thin3 16M
must dd if=/tmp/rand4k of=/dev/mapper/thin3 bs=4k seek=2000 oflag=direct status=none
k_sums=$(sums 1 2 3)
k_status=$(thinctl pool-status pool | cut -d' ' -f4-)
remove_all 1 2 3
check "thin_check of dm-thin's metadata" thin_check -q /dev/mapper/meta

use_ctpool_targets
activate_all 1 2 3
assert_eq "ctpool reads dm-thin's thins" "$k_sums" "$(sums 1 2 3)"
assert_eq "ctpool sees the same pool state" "$k_status" \
	"$(thinctl pool-status pool | cut -d' ' -f4-)"
check "ctpool writes on dm-thin's metadata" \
	dd if=/tmp/rand8 of=/dev/mapper/thin3 bs=64k count=4 seek=200 oflag=direct status=none
remove_all 1 2 3
check "thin_check after ctpool wrote on it" thin_check -q /dev/mapper/meta

# 3. thin_restore makes metadata, ctpool uses it.
cat > /tmp/restore.xml <<'EOF'
<superblock uuid="" time="1" transaction="3" data_block_size="128" nr_data_blocks="1024">
  <device dev_id="5" mapped_blocks="3" transaction="0" creation_time="0" snap_time="1">
    <range_mapping origin_begin="0" data_begin="10" length="2" time="0"/>
    <single_mapping origin_block="7" data_block="100" time="1"/>
  </device>
</superblock>
EOF
must thin_restore -q -i /tmp/restore.xml -o /dev/mapper/rmeta
# Data blocks 10, 11 and 100 hold the first 192 KiB of rand8.
must dd if=/tmp/rand8 of=/dev/mapper/rdata bs=64k count=2 seek=10 oflag=direct status=none
must dd if=/tmp/rand8 of=/dev/mapper/rdata bs=64k count=1 skip=2 seek=100 oflag=direct status=none
{
	dd if=/tmp/rand8 bs=64k count=2 status=none
	head -c $((5 * 65536)) /dev/zero
	dd if=/tmp/rand8 bs=64k count=1 skip=2 status=none
	head -c $((8 * 65536)) /dev/zero
} > /tmp/expected
must dmsetup create rpool --table "0 131072 ctpool /dev/mapper/rmeta /dev/mapper/rdata 128 0 0"
must dmsetup create rthin --table "0 2048 ctthin /dev/mapper/rpool 5"
assert_eq "restored thin reads as described" "$(md5sum < /tmp/expected | cut -d' ' -f1)" \
	"$(dev_md5 /dev/mapper/rthin)"
assert_eq "restored thin status" "0 2048 ctthin 384 1023" "$(dmsetup status rthin)"
assert_eq "restored pool: transaction id" 3 "$(thinctl pool-status rpool transaction-id)"
assert_eq "restored pool: used data" 3 "$(thinctl pool-status rpool used-data)"
check "write to the restored thin" \
	dd if=/tmp/rand4k of=/dev/mapper/rthin bs=4k seek=50 oflag=direct status=none
must dmsetup remove rthin
must dmsetup remove rpool
check "thin_check of the restored metadata after use" thin_check -q /dev/mapper/rmeta
