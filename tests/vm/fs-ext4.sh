#!/bin/bash
# ext4 on a ctpool thin: mkfs, fill, snapshot, change both, fsck both clean;
# fstrim hands the freed blocks back to the pool.
. "$(dirname "$0")/lib.bash"
need_disks 2
must load_ctpool

carve_pool
must thinctl thin-create pool 1 origin 192M
check "mkfs.ext4" mkfs.ext4 -q -E nodiscard,lazy_itable_init=0 /dev/mapper/origin
mkdir -p /mnt/o /mnt/s
must mount /dev/mapper/origin /mnt/o
for i in 1 2 3 4; do
	must dd if=/dev/urandom of=/mnt/o/file$i bs=1M count=8 status=none
done
must sync
(cd /mnt/o && md5sum file*) > /tmp/origin.md5
must umount /mnt/o
used_before=$(thinctl pool-status pool used-data)

check "snapshot" thinctl snap-create pool 2 1 origin
must thinctl thin-activate pool 2 snap 192M
must mount /dev/mapper/origin /mnt/o
must mount -o noload /dev/mapper/snap /mnt/s
must rm /mnt/o/file1
must dd if=/dev/urandom of=/mnt/o/new bs=1M count=4 status=none
must dd if=/dev/urandom of=/mnt/s/file2 bs=1M count=2 conv=notrunc status=none
must sync
check "snapshot still has file1" test -f /mnt/s/file1
check "origin lost file1" test ! -e /mnt/o/file1
check "snapshot's untouched files intact" sh -c "cd /mnt/s && grep -v file2 /tmp/origin.md5 | md5sum -c --quiet"
check "origin's untouched files intact" sh -c "cd /mnt/o && grep -E 'file(3|4)' /tmp/origin.md5 | md5sum -c --quiet"
must umount /mnt/s
must umount /mnt/o
check "fsck origin clean" e2fsck -fn /dev/mapper/origin
check "fsck snapshot clean" e2fsck -fn /dev/mapper/snap

# Discards from the filesystem unmap whole blocks.
must mount /dev/mapper/origin /mnt/o
must rm -f /mnt/o/file3 /mnt/o/file4 /mnt/o/new
must sync
before=$(thinctl thin-status origin mapped-sectors)
check "fstrim" fstrim /mnt/o
after=$(thinctl thin-status origin mapped-sectors)
check "fstrim unmapped blocks ($before -> $after sectors)" test "$after" -lt "$before"
must umount /mnt/o
check "fsck origin clean after fstrim" e2fsck -fn /dev/mapper/origin
note "used data blocks: before snapshot $used_before, now $(thinctl pool-status pool used-data)"

must dmsetup remove snap
must dmsetup remove origin
must dmsetup remove pool
check "thin_check" thin_check -q /dev/mapper/tmeta
