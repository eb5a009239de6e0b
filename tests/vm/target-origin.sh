#!/bin/bash
# External origin: unprovisioned reads come from the origin (zeroes past its
# end), writes copy the origin block first (zeroing what lies past the
# origin's end), the origin itself is never written; snapshots of such a thin
# keep working.
. "$(dirname "$0")/lib.bash"
need_disks 2
must load_ctpool

must carve tmeta "${DISKS[0]}" 0 16M
must carve tdata "${DISKS[1]}" 0 64M
# A 1 MiB + 4 KiB origin: its end falls inside data block 16.
must carve origin "${DISKS[1]}" 64M 2056
must dd if=/dev/urandom of=/dev/mapper/origin bs=4k count=257 oflag=direct status=none
must blockdev --setro /dev/mapper/origin
origin_sum=$(dev_md5 /dev/mapper/origin)
must dd if=/dev/mapper/origin of=/tmp/origin bs=4k iflag=direct status=none

must thinctl pool-create pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
must dmsetup message pool 0 "create_thin 1"
must thinctl thin-activate pool 1 thin 4M /dev/mapper/origin
origin_mm=$(dmsetup info -c --noheadings -o major,minor --separator : origin)
assert_match "table shows the origin" " 1 $origin_mm\$" "$(dmsetup table thin)"

# expected: the origin, then zeroes up to 4 MiB.
cp /tmp/origin /tmp/expected
truncate -s 4M /tmp/expected
assert_eq "unprovisioned thin reads as the origin" \
	"$(md5sum < /tmp/expected | cut -d' ' -f1)" "$(dev_md5 /dev/mapper/thin)"
assert_eq "reads allocate nothing" 0 "$(thinctl pool-status pool used-data)"

# Partial writes: one inside the origin, one in the block holding its end,
# one past it.
must dd if=/dev/urandom of=/tmp/4k bs=4k count=1 status=none
for off in 5 257 300; do
	must dd if=/tmp/4k of=/dev/mapper/thin bs=4k seek=$off oflag=direct status=none
	must dd if=/tmp/4k of=/tmp/expected bs=4k seek=$off conv=notrunc status=none
done
assert_eq "three blocks provisioned" 3 "$(thinctl pool-status pool used-data)"
assert_eq "thin reads origin data around the writes" \
	"$(md5sum < /tmp/expected | cut -d' ' -f1)" "$(dev_md5 /dev/mapper/thin)"
assert_eq "origin never written" "$origin_sum" "$(dev_md5 /dev/mapper/origin)"

must thinctl snap-create pool 2 1 thin
must thinctl thin-activate pool 2 snap 4M /dev/mapper/origin
must dd if=/dev/zero of=/dev/mapper/thin bs=64k count=4 oflag=direct status=none
assert_eq "snapshot unchanged by origin-thin writes" \
	"$(md5sum < /tmp/expected | cut -d' ' -f1)" "$(dev_md5 /dev/mapper/snap)"

must dmsetup remove snap
must dmsetup remove thin
must dmsetup remove pool
check "thin_check" thin_check -q /dev/mapper/tmeta
