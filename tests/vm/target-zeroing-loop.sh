#!/bin/bash
# Zeroing of new blocks on a data device that advertises WRITE_ZEROES and
# fails it: a loop device over a file whose filesystem has fallocate but no
# hole punching (vfat here; loop turns WRITE_ZEROES into a punched hole).
# LVM2's thin tests run on loop devices, and the console filled with
# "operation not supported error, dev loopN ... WRITE_ZEROES" on ours, whose
# zeroing went through kcopyd's WRITE_ZEROES, while dm-thin's did not. For
# both targets: 4k writes into new blocks with zeroing on succeed, leave no
# such error in the kernel log, and the rest of each new block reads back as
# zeroes.
. "$(dirname "$0")/lib.bash"
must load_ctpool
must load_dm_thin
must modprobe loop

must modprobe vfat
modprobe nls_cp437 2> /dev/null || true
modprobe nls_ascii 2> /dev/null || true
dir=$(mktemp -d)
must mount -t tmpfs -o size=300M tmpfs "$dir"
must truncate -s 200M "$dir/fat.img"
must mkfs.fat "$dir/fat.img" > /dev/null
mkdir "$dir/fat"
must mount -o loop,iocharset=ascii "$dir/fat.img" "$dir/fat"
must fallocate -l 8M "$dir/fat/meta"
must fallocate -l 128M "$dir/fat/data"
M=$(losetup -f --show "$dir/fat/meta") || bail "losetup meta"
D=$(losetup -f --show "$dir/fat/data") || bail "losetup data"
zero_errors() { dmesg | grep -c 'WRITE_ZEROES' || true; }

# The control: this data device does log the error for a WRITE_ZEROES
# (BLKZEROOUT), so its absence below means something.
before=$(zero_errors)
blkdiscard -z -o 0 -l 65536 "$D" 2> /dev/null || true
check "control: the loop device logs WRITE_ZEROES it cannot do" \
	test "$(zero_errors)" -gt "$before"

# 4k of 0xff at 4k into each of the first $n 64k blocks (new blocks).
n=32
pattern=$dir/ff
head -c 4096 /dev/zero | tr '\0' '\377' > "$pattern"
write_new_blocks() {
	local i
	for ((i = 0; i < n; i++)); do
		dd if="$pattern" of="$1" bs=4k seek=$((i * 16 + 1)) \
			oflag=direct conv=notrunc status=none || return 1
	done
}
# Block i must read back as 4k of zeroes, the pattern, then 56k of zeroes.
blocks_zeroed_around() {
	local i expect=$dir/expect got=$dir/got
	{ head -c 4096 /dev/zero; cat "$pattern"; head -c 57344 /dev/zero; } > "$expect"
	for ((i = 0; i < n; i++)); do
		dd if="$1" of="$got" bs=64k skip="$i" count=1 iflag=direct status=none &&
			cmp -s "$expect" "$got" || return 1
	done
}

for impl in ctpool kernel; do
	if [ "$impl" = kernel ]; then use_kernel_targets; else use_ctpool_targets; fi
	must zero_dev "$M" 1
	# stale data in the data blocks, so that skipped zeroing would show
	must dd if=/dev/urandom of="$D" bs=1M count=4 oflag=direct status=none
	must thinctl pool-create pool "$M" "$D" 128 0
	must thinctl thin-create pool 1 thin 16M
	before=$(zero_errors)
	check "$impl: 4k writes into $n new zeroed blocks" write_new_blocks /dev/mapper/thin
	assert_eq "$impl: no WRITE_ZEROES error logged while zeroing" \
		"$before" "$(zero_errors)"
	check "$impl: each new block is zeroes around the write" \
		blocks_zeroed_around /dev/mapper/thin
	must dmsetup remove thin
	must dmsetup remove pool
	check "$impl: thin_check is clean" thin_check -q "$M"
done

losetup -d "$M" "$D"
umount "$dir/fat"
umount "$dir"
