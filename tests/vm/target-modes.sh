#!/bin/bash
# Pool modes: the read_only feature (no allocation, messages refused, mapped
# blocks still writable), and failure of the metadata device (commit fails,
# the pool fails, I/O errors, status "Fail"); the last committed metadata
# stays clean.
. "$(dirname "$0")/lib.bash"
need_disks 2
must load_ctpool

must carve tmeta "${DISKS[0]}" 0 16M
must carve tdata "${DISKS[1]}" 0 64M
M=/dev/mapper/tmeta D=/dev/mapper/tdata
must thinctl pool-create pool $M $D 128 0
must thinctl thin-create pool 1 thin 16M
must dd if=/dev/urandom of=/dev/mapper/thin bs=1M count=2 oflag=direct status=none
must dmsetup remove thin
must dmsetup remove pool

# read_only
must dmsetup create pool --table "0 131072 ctpool $M $D 128 0 1 read_only"
assert_eq "read_only: table" "1 read_only " "$(dmsetup table pool | cut -d' ' -f8-)"
assert_eq "read_only: mode ro" ro "$(thinctl pool-status pool mode)"
must thinctl thin-activate pool 1 thin 16M
check "read_only: reads work" dd if=/dev/mapper/thin of=/dev/null bs=1M iflag=direct status=none
check "read_only: overwrite of a mapped block works" \
	dd if=/dev/zero of=/dev/mapper/thin bs=64k count=1 oflag=direct status=none
check_fails "read_only: write to a new block fails" \
	dd if=/dev/zero of=/dev/mapper/thin bs=64k count=1 seek=100 oflag=direct status=none
check_fails "read_only: messages refused" dmsetup message pool 0 "create_thin 2"
assert_eq "read_only: nothing allocated" 32 "$(thinctl pool-status pool used-data)"
must dmsetup remove thin
must dmsetup remove pool

# Metadata device failure.
must thinctl pool-activate pool $M $D 128 0
must thinctl thin-activate pool 1 thin 16M
assert_eq "rw again without read_only" rw "$(thinctl pool-status pool mode)"
must dmsetup suspend tmeta
must dmsetup reload tmeta --table "0 32768 error"
must dmsetup resume tmeta
dmesg -C
# Like dm-thin, a failed lookup only fails that bio; the failure of the
# commit after a message takes the pool down. The abort cannot even read the
# last committed metadata back (the error target fails reads too), so the
# pool fails rather than going read-only: dm-thin 6.1 ends in "fail" mode
# here as well (checked by hand with thin-pool in place of ctpool).
check_fails "write to a new block with failed metadata fails" \
	dd if=/dev/zero of=/dev/mapper/thin bs=64k count=4 seek=64 oflag=direct conv=fsync status=none
dmsetup message pool 0 "create_thin 3" || true
assert_match "pool switched to fail mode" "switching pool to fail mode" "$(dmesg)"
st=$(dmsetup status pool | cut -d' ' -f4-)
assert_eq "pool status shows the failure" Fail "$st"
check_fails "new writes fail" \
	dd if=/dev/zero of=/dev/mapper/thin bs=64k count=1 seek=200 oflag=direct status=none
check_fails "messages refused" dmsetup message pool 0 "create_thin 4"
must dmsetup suspend tmeta
must dmsetup reload tmeta --table "0 32768 linear ${DISKS[0]} 0"
must dmsetup resume tmeta
must dmsetup remove thin
must dmsetup remove pool
check "last committed metadata is consistent" thin_check -q --ignore-non-fatal-errors $M
