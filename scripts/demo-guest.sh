#!/bin/bash
# Guest side of `make demo`: every command is echoed before it runs, and the
# checks of tests/vm/lib.sh say what was expected.
. "$(dirname "$0")/../tests/vm/lib.sh"

# show CMD...: print the command, then run it.
show() { echo; echo "\$ $*"; "$@"; }
step() { echo; echo "=== $*"; }

step "guest: $(uname -sr), scratch disks: ${DISKS[*]}"

step "1. the ctpool module registers its targets (reported version = dm-thin's)"
show load_ctpool
show dmsetup targets
assert_eq "ctpool target v1.22.0" v1.22.0 "$(target_version ctpool)"
assert_eq "ctthin target v1.22.0" v1.22.0 "$(target_version ctthin)"
show rmmod dm_ctpool
assert_eq "targets gone after rmmod" "" "$(target_version ctpool)"

step "2. the reference: the kernel's dm-thin driven by scripts/thinctl.sh"
use_kernel_targets
show load_dm_thin
show carve tmeta "${DISKS[0]}" 0 16M
show carve tdata "${DISKS[1]}" 0 256M
show thinctl -k pool-create pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
show thinctl pool-status pool
show thinctl -k thin-create pool 1 thin1 64M
show fio --name=demo --filename=/dev/mapper/thin1 --size=32M --rw=write --bs=64k \
	--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 --verify_fatal=1 \
	--output-format=normal --group_reporting | grep -E 'WRITE:|READ:|err='
show thinctl pool-status pool
show thinctl thin-status thin1
before=$(dev_md5 /dev/mapper/thin1)
show thinctl snap-create pool 2 1 thin1
show thinctl -k thin-activate pool 2 snap1 64M
assert_eq "snapshot = origin at snapshot time" "$before" "$(dev_md5 /dev/mapper/snap1)"
show fio --name=over --filename=/dev/mapper/thin1 --size=16M --rw=randwrite --bs=4k \
	--direct=1 --ioengine=libaio --iodepth=8 --output-format=normal | grep -E 'WRITE:|err='
assert_eq "snapshot unchanged by origin writes" "$before" "$(dev_md5 /dev/mapper/snap1)"
show thinctl pool-status pool
show thinctl thin-remove snap1
show thinctl thin-remove thin1
show thinctl thin-delete pool 1
show thinctl thin-delete pool 2
show thinctl pool-status pool
assert_eq "every data block returned" 0 "$(thinctl pool-status pool used-data)"
show thinctl pool-remove pool
show thin_check /dev/mapper/tmeta
pass "thin_check clean"
echo
