#!/bin/bash
# vm-options: --disk 64M --disk 512M
# LVM2 as a client, as an LVM user drives thin provisioning (lvmthin(7)):
# dm-ctpool loaded with compat_names=1 serves LVM's "thin-pool"/"thin"
# targets. A thin pool, a thin volume with ext4, a thin snapshot, fstrim
# giving space back, online changes (discards, errorwhenfull), lvextend of
# data and metadata, deactivate + activate with LVM's thin_check, removal.
# lvm-thin-dmthin.sh runs the same on the kernel's dm-thin.
. "$(dirname "$0")/lib.bash"
need_disks 2
IMPL=${1:-ctpool}   # "kernel": the kernel's dm-thin (lvm-thin-dmthin.sh)

if [ "$IMPL" = kernel ]; then
	must load_dm_thin
else
	must load_ctpool compat_names=1
	check "LVM's thin-pool target is ours" module_loaded dm_ctpool
	check_fails "the kernel's dm-thin-pool is not loaded" module_loaded dm_thin_pool
fi
assert_eq "thin-pool target registered" v1.22.0 "$(target_version thin-pool)"

# No udev in the guest: LVM manages /dev nodes and links itself, scans only
# our two disks and leaves no daemon behind.
export LVM_SUPPRESS_FD_WARNINGS=1
LVM_CONFIG='devices { obtain_device_list_from_udev=0 scan_lvs=0 use_devicesfile=0
	filter=["a|^/dev/vd[ab]$|","r|.*|"] }
	activation { udev_sync=0 udev_rules=0 monitoring=0 }
	global { use_lvmpolld=0 }'
lvm() { command lvm "$1" --config "$LVM_CONFIG" "${@:2}"; }
# lv_field LV FIELD: an lvs field (sizes in MiB), without padding.
lv_field() { lvm lvs --noheadings --nosuffix --units m -o "$2" "$1" | tr -d ' '; }

PV1=${DISKS[0]} PV2=${DISKS[1]}
MNT=$(mktemp -d)

must lvm pvcreate -q "$PV1" "$PV2"
must lvm vgcreate -q vg "$PV1" "$PV2"
must lvm lvcreate -q -T vg/pool -L 128M --chunksize 64k --poolmetadatasize 4M -Zy
must lvm lvcreate -q -T vg/pool -V 256M -n thin
assert_match "the pool's table uses the thin-pool target" \
	'^0 [0-9]+ thin-pool ' "$(dmsetup table vg-pool-tpool)"
assert_eq "lvs: thin volume is active" a "$(lv_field vg/thin lv_attr | cut -c5)"

must mkfs.ext4 -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 /dev/vg/thin
must mount /dev/vg/thin "$MNT"
must dd if=/dev/urandom of="$MNT/keep" bs=1M count=4 status=none
must dd if=/dev/urandom of="$MNT/scratch" bs=1M count=32 status=none
must sync
keep_md5=$(md5sum < "$MNT/keep")

# A thin snapshot (skipped at activation by default: -K activates it).
must lvm lvcreate -q -s vg/thin -n snap
must lvm lvchange -q -ay -K vg/snap
must dd if=/dev/urandom of="$MNT/keep" bs=1M count=4 conv=notrunc status=none
must sync
smnt=$(mktemp -d)
must mount -o ro,noload /dev/vg/snap "$smnt"
assert_eq "the snapshot keeps the file as it was" "$keep_md5" "$(md5sum < "$smnt/keep")"
must umount "$smnt"
must lvm lvremove -q -y vg/snap
keep_md5=$(md5sum < "$MNT/keep")

# fstrim hands the freed blocks back to the pool.
used_before=$(lv_field vg/pool data_percent)
must rm "$MNT/scratch"
must sync   # ext4 trims only blocks whose freeing is committed in its journal
must fstrim "$MNT"
used_after=$(lv_field vg/pool data_percent)
note "Data% before rm+fstrim $used_before, after $used_after"
check "fstrim lowers the pool's Data%" awk -v a="$used_after" -v b="$used_before" \
	'BEGIN { exit !(a + 10 < b) }'

# Online changes of the pool.
must lvm lvchange -q --discards nopassdown vg/pool
assert_match "discards nopassdown in the table" 'no_discard_passdown' "$(dmsetup table vg-pool-tpool)"
must lvm lvchange -q --errorwhenfull y vg/pool
assert_match "errorwhenfull y in the table" 'error_if_no_space' "$(dmsetup table vg-pool-tpool)"
assert_match "errorwhenfull y in the status" 'error_if_no_space' "$(dmsetup status vg-pool-tpool)"
must lvm lvchange -q --errorwhenfull n --discards passdown vg/pool

# Growing data and metadata online.
must lvm lvextend -q -L +64M vg/pool
assert_eq "pool data grown" 192.00 "$(lv_field vg/pool lv_size)"
must lvm lvextend -q --poolmetadatasize +4M vg/pool
assert_eq "pool metadata grown" 8.00 "$(lv_field vg/pool lv_metadata_size)"
assert_match "data device grown in the kernel" '^0 393216 thin-pool ' "$(dmsetup table vg-pool-tpool)"

# Deactivate and activate again: LVM runs thin_check on our metadata.
must umount "$MNT"
must lvm vgchange -q -an vg
check_fails "no device of the VG left active" sh -c "dmsetup ls | grep -q '^vg-'"
check "thin_check of the pool's metadata by vgchange -ay" lvm vgchange -q -ay vg
must mount /dev/vg/thin "$MNT"
assert_eq "data survives deactivation" "$keep_md5" "$(md5sum < "$MNT/keep")"
must umount "$MNT"

must lvm lvremove -q -y vg/thin
assert_eq "deleting the thin empties the pool" 0.00 "$(lv_field vg/pool data_percent)"
must lvm lvremove -q -y vg/pool
must lvm vgremove -q vg
must lvm pvremove -q "$PV1" "$PV2"
check_fails "no dm device left" sh -c "dmsetup ls | grep -q '^vg-'"
