#!/bin/bash
# vm-options: --disk 64M --disk 512M
# ctpool pool activate --all (what ctpool-activate.service runs at boot): after
# a teardown that leaves only the state store and the disks (every dm device
# removed, loop devices detached: what a reboot leaves), it brings back every
# recorded pool and its volumes with their data, loading the targets' module
# if needed; running it again changes nothing; a pool whose disk is missing
# is reported by name and skipped while the others come up, and comes up once
# the disk is back.
. "$(dirname "$0")/cli-lib.bash"
load_targets

read -r -a disks <<< "${VM_DISKS:-}"
[ ${#disks[@]} -ge 2 ] || fail "needs two scratch disks"
M=$T_WORK/meta.img D=$T_WORK/data.img

# Pool "files" on loop devices over files; pool "disks" on the scratch disks.
ctpool -q pool create files --metadata "$M" --data "$D" --size 128M --block-size 64k
ctpool -q pool create disks --metadata "${disks[0]}" --data "${disks[1]}" --block-size 64k
ctpool -q create fvol --size 16M --pool files
ctpool -q create dvol --size 16M --pool disks
ctpool -q snapshot dvol dsnap
dd if=/dev/urandom of="$T_WORK/p1" bs=1M count=2 status=none
dd if=/dev/urandom of="$T_WORK/p2" bs=1M count=2 status=none
dd if="$T_WORK/p1" of="$(ctpool activate fvol)" bs=1M oflag=direct status=none
dd if="$T_WORK/p2" of="$(ctpool activate dvol)" bs=1M oflag=direct status=none
dd if="$T_WORK/p1" of="$(ctpool activate dsnap)" bs=1M oflag=direct status=none
ok "two pools, three volumes written"

# data_is VOLUME PATTERN: the volume's first 2 MiB are the pattern file.
data_is() { cmp -n $((2 << 20)) "/dev/mapper/$1" "$T_WORK/$2"; }
# our_devices: the dm devices of both pools, sorted.
our_devices() { dmsetup ls | awk '{ print $1 }' | grep -E '^(files|disks)(-|$)' | sort || true; }

# teardown: remove every dm device of ours (thins before pools) and detach the
# loop devices: the state store and the disks are all that is left.
teardown() {
	local d
	for d in $(our_devices | grep -- -); do dmsetup remove "$d"; done
	for d in files disks; do dmsetup remove "$d"; done
	losetup -j "$M" -O NAME -n | xargs -r -n1 losetup -d
	losetup -j "$D" -O NAME -n | xargs -r -n1 losetup -d
	[ -z "$(our_devices)" ] || fail "teardown left devices: $(our_devices)"
}

before=$(our_devices)
teardown
ok "teardown: no device of ours left, loop devices detached"
expect_status 0 "activate --all after the teardown" -- ctpool pool activate --all
expect_eq "the same devices are back" "$(our_devices | tr '\n' ' ')" "$(echo "$before" | tr '\n' ' ')"
data_is files-fvol p1 || fail "fvol lost its data"
data_is disks-dvol p2 || fail "dvol lost its data"
data_is disks-dsnap p1 || fail "dsnap lost its data"
ok "every volume has its data back"
expect_eq "pool files healthy" "$(pool_field mode files)" rw
expect_eq "pool disks healthy" "$(pool_field mode disks)" rw
expect_eq "loop devices attached again, one per file" \
	"$(losetup -a | grep -c "$T_WORK" || true)" 2

expect_status 0 "activate --all again (idempotent)" -- ctpool pool activate --all
expect_eq "still the same devices" "$(our_devices | tr '\n' ' ')" "$(echo "$before" | tr '\n' ' ')"
expect_eq "no extra loop device" "$(losetup -a | grep -c "$T_WORK" || true)" 2

# At boot nothing has loaded the targets' module yet: activate --all loads it
# with modprobe. Checked on the kernel's dm-thin-pool, which modprobe finds;
# ours is found only once installed, and a depmod of the whole module tree
# takes minutes under TCG (tests/stress/vm-pkg-install.sh installs it).
if [ "$POOL_TARGET" = thin-pool ]; then
	teardown
	rmmod dm_thin_pool
	expect_status 0 "activate --all with dm-thin-pool not loaded" -- ctpool pool activate --all
	grep -q "^dm_thin_pool " /proc/modules || fail "activate --all did not load dm_thin_pool"
	ok "activate --all loaded dm_thin_pool"
	data_is disks-dvol p2 || fail "dvol lost its data"
	ok "volumes back after the module was loaded"
fi

# A missing disk: that pool is named in the error, the other one comes up.
teardown
mv "$D" "$D.away"
st=0
ctpool pool activate --all 2> "$T_WORK/err" || st=$?
expect_eq "activate --all fails when a pool's disk is missing" "$st" 1
grep -q "pool files: its data file $D is missing" "$T_WORK/err" ||
	fail "error does not name the pool and its missing file: $(cat "$T_WORK/err")"
ok "the error names the pool and the missing file"
expect_eq "the missing pool stays down" "$(our_devices | grep -c '^files' || true)" 0
data_is disks-dvol p2 || fail "the other pool's volume did not come up"
ok "the other pool and its volumes came up"
mv "$D.away" "$D"
expect_status 0 "activate --all once the disk is back" -- ctpool pool activate --all
data_is files-fvol p1 || fail "fvol lost its data"
ok "the late pool's volume has its data"
