#!/bin/bash
# Guest side of `make demo`: every command is echoed before it runs, and the
# checks of tests/vm/lib.bash say what was expected.
. "$(dirname "$0")/../tests/vm/lib.bash"

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
show dmsetup remove tmeta tdata

step "3. containers on ctpool: a pool, an image, two containers from snapshots"
use_ctpool_targets() { export CTPOOL_POOL_TARGET=ctpool CTPOOL_THIN_TARGET=ctthin; }
use_ctpool_targets
show load_ctpool
CTPOOL=$ROOT/build/ctpool
# A tiny root filesystem: busybox-static and its applet links.
rootfs=$(mktemp -d) && mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/data"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for a in $(busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$rootfs/bin/$a"
done
echo "root:x:0:0:root:/:/bin/sh" > "$rootfs/etc/passwd"
echo "demo-image-v1" > "$rootfs/etc/image-release"
tar -C "$rootfs" --numeric-owner -czf /tmp/busybox-rootfs.tar.gz .
show "$CTPOOL" pool create tp --metadata "${DISKS[0]}" --data "${DISKS[1]}" --block-size 64k --wipe
show "$CTPOOL" image import busybox /tmp/busybox-rootfs.tar.gz --size 32M
show "$CTPOOL" container create web --image busybox
show "$CTPOOL" container create db --image busybox
show "$CTPOOL" container run web --hostname web --memory 64M --pids 32 -- \
	sh -c 'echo "hello from $(hostname), pid $$" | tee /data/greeting; cat /etc/image-release'
show "$CTPOOL" container run db --hostname db -- sh -c 'ls /data; hostname'
assert_eq "web's write stays in web" "hello from web, pid 2" \
	"$("$CTPOOL" container run web -- cat /data/greeting)"
check "db does not see web's write" test -z "$("$CTPOOL" container run db -- ls /data)"
show "$CTPOOL" list
show "$CTPOOL" pool status tp
used_with=$("$CTPOOL" pool status tp --json | sed -n 's/.*"data_used":\([0-9]*\).*/\1/p')
show "$CTPOOL" container rm web
show "$CTPOOL" container rm db
show "$CTPOOL" image rm busybox
show "$CTPOOL" pool status tp
used_after=$("$CTPOOL" pool status tp --json | sed -n 's/.*"data_used":\([0-9]*\).*/\1/p')
check "removing containers and the image gives the pool's space back" \
	test "${used_after:-x}" -lt "${used_with:-0}"
show "$CTPOOL" pool remove tp
echo
