#!/bin/bash
# vm-options: --disk 64M --disk 512M
# ctpool CLI on a file-backed pool: create a pool (loop devices), volumes,
# snapshots; what a user checks: the status line parsed right, data written to
# a volume is there, a snapshot is a frozen copy, deleting gives the space back,
# the pool grows, and removing the pool leaves no device behind.
. "$(dirname "$0")/cli-lib.bash"
load_targets

M=$T_WORK/meta.img D=$T_WORK/data.img

expect_status 2 "usage error exits 2" -- ctpool create
expect_status 0 "--help exits 0" -- ctpool pool --help
expect_status 1 "creating a volume without a pool is an error" -- ctpool create x --size 1M
expect_eq "empty list without a pool" "$(ctpool list --json)" "[]"

ctpool pool create tp --metadata "$M" --data "$D" --size 256M --block-size 64k
expect_eq "pool target recorded" "$(ctpool pool status tp --json | jget pool_target)" "$POOL_TARGET"
expect_eq "data blocks = 256M/64k" "$(pool_field data_total)" 4096
expect_eq "fresh pool uses no data" "$(pool_field data_used)" 0
expect_eq "fresh transaction id" "$(pool_field transaction_id)" 0
expect_eq "mode" "$(pool_field mode)" rw
expect_eq "needs_check" "$(pool_field needs_check)" false
expect_eq "held root" "$(pool_field held_root)" null
expect_eq "no-space policy" "$(pool_field no_space_policy)" queue_if_no_space
loops=$(losetup -a | grep -c "$T_WORK" || true)
expect_eq "two loop devices back the pool" "$loops" 2

ctpool create vol1 --size 64M
expect_eq "create bumps the transaction id" "$(pool_field transaction_id)" 1
dev=$(ctpool activate vol1)
expect_eq "device path" "$dev" "/dev/mapper/tp-vol1"
expect_eq "thin size" "$(blockdev --getsize64 "$dev")" $((64 << 20))
dd if=/dev/urandom of="$T_WORK/pattern" bs=1M count=4 status=none
dd if="$T_WORK/pattern" of="$dev" bs=1M oflag=direct status=none
sync
expect_eq "4MiB written = 64 mapped blocks" "$(vol_field vol1 mapped_blocks)" 64
expect_eq "pool data used" "$(pool_field data_used)" 64

# snapshot of an active origin (ctpool suspends it around create_snap)
ctpool snapshot vol1 snap1
expect_eq "snapshot shares blocks: pool usage unchanged" "$(pool_field data_used)" 64
dd if=/dev/zero of="$dev" bs=1M count=4 oflag=direct status=none
sdev=$(ctpool activate snap1)
cmp -n $((4 << 20)) "$sdev" "$T_WORK/pattern" || fail "snapshot content changed after writing the origin"
ok "snapshot keeps the data as it was at snapshot time"
expect_eq "origin overwrite broke sharing" "$(pool_field data_used)" 128
ctpool deactivate snap1
expect_eq "inactive snapshot: mapped count from a metadata snapshot" "$(vol_field snap1 mapped_blocks)" 64
expect_eq "list shows the origin" "$(vol_field snap1 origin)" vol1
expect_eq "metadata snapshot released" "$(pool_field held_root)" null

expect_status 1 "duplicate name refused" -- ctpool create vol1 --size 1M
expect_status 1 "deleting a volume in use is refused" -- bash -c "exec 3<$dev; $CTPOOL delete vol1"

alloc_before=$(du -k "$D" | cut -f1)
ctpool delete vol1
expect_eq "deleting the origin frees its own blocks" "$(pool_field data_used)" 64
ctpool delete snap1
expect_eq "all data blocks back" "$(pool_field data_used)" 0
# delete discards the whole thin first: the pool passes it down to the loop
# device, which punches holes in the data file (docker's loop-lvm complaint)
alloc_after=$(du -k "$D" | cut -f1)
expect_ge "data file gave back >= 7MiB on the host (${alloc_before}k -> ${alloc_after}k)" $((alloc_before - alloc_after)) 7168
expect_eq "nothing listed" "$(ctpool list --json)" "[]"

ctpool pool resize tp --data-size 512M
expect_eq "pool grew" "$(pool_field data_total)" 8192

# the pool survives deactivation (a reboot) with its volumes
ctpool create keep --size 8M
kdev=$(ctpool activate keep)
echo "persisted" | dd of="$kdev" conv=sync bs=4k oflag=direct status=none
ctpool pool deactivate tp
expect_eq "pool device gone" "$(dmsetup info tp >/dev/null 2>&1 && echo yes || echo no)" no
expect_eq "loops released" "$(losetup -a | grep -c "$T_WORK" || true)" 0
# (through a loop device: thin_check uses O_DIRECT, which tmpfs lacks)
l=$(losetup -f --show -r "$M")
thin_check -q "$l" || fail "thin_check finds the metadata inconsistent"
losetup -d "$l"
ok "thin_check passes on the deactivated pool's metadata"
kdev=$(ctpool activate keep)   # reactivates the pool from its stored config
expect_eq "data survived pool deactivation" "$(head -c 9 "$kdev")" persisted
ctpool deactivate keep

expect_status 1 "removing a pool with volumes is refused" -- ctpool pool remove tp
ctpool delete keep
ctpool pool remove tp
expect_eq "no dm devices left" "$(dmsetup ls | grep -c '^tp' || true)" 0
expect_eq "no loops left" "$(losetup -a | grep -c "$T_WORK" || true)" 0

# a full pool says so (error_if_no_space: writes fail at once instead of queueing)
ctpool pool create small --metadata "$T_WORK/sm.img" --data "$T_WORK/sd.img" --size 1M --error-if-no-space --low-water 2
expect_eq "no-space policy from --error-if-no-space" "$(pool_field no_space_policy small)" error_if_no_space
ctpool create big --size 4M --pool small
bdev=$(ctpool activate big)
expect_status 1 "writing past the pool's space fails" -- dd if=/dev/zero of="$bdev" bs=64k count=32 oflag=direct status=none
expect_eq "status shows the pool is full" "$(pool_field mode small)" out_of_data_space
expect_eq "all 16 blocks used" "$(pool_field data_used small)" 16
ctpool pool resize small --data-size 4M
expect_eq "growing the pool makes it writable again" "$(pool_field mode small)" rw
ctpool pool remove small --force

# a missing target is reported with what to do; files it created are removed
out=$(ctpool --pool-target no-such-target pool create bad --metadata "$T_WORK/bm.img" --data "$T_WORK/bd.img" --size 8M 2>&1 || true)
echo "$out" | grep -q "modprobe" || fail "no hint for a missing target: $out"
ok "missing target: error says which module to load"
[ ! -e "$T_WORK/bd.img" ] && [ ! -e "$CTPOOL_STATE_DIR/pools/bad.conf" ] || fail "failed create left files behind"
ok "failed create leaves no files or records"

# re-adopting existing metadata needs --reuse
expect_status 1 "existing metadata is not silently reformatted" -- ctpool pool create tp2 --metadata "$M" --data "$D"
ctpool pool create tp2 --metadata "$M" --data "$D" --reuse
expect_eq "reused pool keeps its transaction id" "$(pool_field transaction_id tp2)" 6
ctpool pool remove tp2
