#!/bin/bash
# Writes smaller than a block into new blocks, with block zeroing on (the
# default), and into blocks shared with a snapshot. The data device is first
# filled with a marker ("STALEDATA-STALE"), so stale data would show.
#   - 512 B .. 60 KiB writes at the start, middle, end of new 64 KiB blocks,
#     one straddling two blocks, FUA ones: each block reads back as the data
#     written with zeroes around it, the whole thin equals a model file, and
#     each partial write maps exactly one block;
#   - fio 4k/8k random writes (iodepth 16, so writes race into the same new
#     block) verify, and no stale byte is ever readable;
#   - the same contents after the pool is torn down and re-activated (the
#     mappings were committed);
#   - partial writes into blocks shared with a snapshot, on both sides: the
#     written device has old data around the new, the other one is unchanged;
#   - a write into a new block whose I/O fails returns an error and maps
#     nothing; the block reads as zeroes afterwards.
#
# usage (in the VM): target-zeroing.sh [kernel|ctpool]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
need_disks 2
rel_load

BLOCK=65536
# Model and scratch files of this run only: the guest's /tmp outlives a
# test, and a model left by the previous run (e.g. the -dmthin one) would
# not match.
W=$(mktemp -d /tmp/zeroing.XXXXXX)
DATA_S=$(_sectors 32M)
must carve zmeta "${DISKS[0]}" 0 8M
must carve zdata "${DISKS[1]}" 0 "$DATA_S"

awk 'BEGIN { for (i = 0; i < 65536; i++) print "STALEDATA-STALE" }' > $W/stale
for i in $(seq 0 31); do
	must dd if=$W/stale of=/dev/mapper/zdata bs=1M seek="$i" oflag=direct status=none
done

must thinctl pool-create zpool /dev/mapper/zmeta /dev/mapper/zdata 128 0
assert_no_match "block zeroing is on" skip_block_zeroing "$(dmsetup table zpool)"
must thinctl thin-create zpool 1 zthin 8M
must truncate -s 8M $W/model-thin

# write_at DEV MODEL OFFSET LEN [OFLAG]: one bio of LEN random bytes at byte
# OFFSET of DEV, and the same bytes into the model file.
write_at() {
	local dev=$1 model=$2 off=$3 len=$4 oflag=${5:+,$5}
	dd if=/dev/urandom of=$W/chunk bs="$len" count=1 iflag=fullblock status=none &&
	dd if=$W/chunk of="$dev" bs="$len" count=1 seek="$off" \
		oflag="direct,seek_bytes$oflag" conv=notrunc status=none &&
	dd if=$W/chunk of="$model" bs="$len" count=1 seek="$off" \
		oflag=seek_bytes conv=notrunc status=none
}
block_of() { dd if="$1" bs=$BLOCK skip="$2" count=1 iflag="${3:-direct}" status=none; }
# (The guest has no /dev/fd: no process substitution; files in /tmp.)
# same_block DEV MODEL BLOCK: the block reads as the model has it.
same_block() {
	block_of "$1" "$3" > $W/got && block_of "$2" "$3" fullblock > $W/want &&
	cmp -s $W/got $W/want
}
same_dev() {
	dd if="$1" of=$W/got bs=1M iflag=direct status=none && cmp -s $W/got "$2"
}
# has_stale DEV: status 0 when a marker reads through DEV, 1 when none, 2 on errors.
has_stale() {
	dd if="$1" of=$W/got bs=1M iflag=direct status=none || return 2
	LC_ALL=C grep -a -q STALEDATA $W/got
}
no_stale() {
	local rc=0
	has_stale "$1" || rc=$?
	[ "$rc" -eq 1 ]
}
mapped_blocks() { echo $(( $(thinctl thin-status "$1" mapped-sectors) / 128 )); }

check "the marker is found on the data device" has_stale /dev/mapper/zdata

# block offset length [oflag]: a bio inside one new block each.
cases="1 0 4096
2 61440 4096
3 20480 4096
4 28672 8192
5 1536 512
6 61952 3584
7 512 61440
8 0 65536
11 32768 4096 dsync
13 16384 16384 dsync
14 3584 1024"
while read -r blk off len oflag; do
	must write_at /dev/mapper/zthin $W/model-thin $((blk * BLOCK + off)) "$len" "$oflag"
	check "new block $blk: $len bytes at $off${oflag:+ ($oflag)}, zeroes around" \
		same_block /dev/mapper/zthin $W/model-thin "$blk"
done <<< "$cases"
# 8 KiB straddling blocks 9 and 10: split, two partial writes.
must write_at /dev/mapper/zthin $W/model-thin $((10 * BLOCK - 4096)) 8192
check "write straddling new blocks 9 and 10" \
	same_block /dev/mapper/zthin $W/model-thin 9
check "  ... block 10" same_block /dev/mapper/zthin $W/model-thin 10
# Two writes into block 12: the second lands in the block the first mapped.
must write_at /dev/mapper/zthin $W/model-thin $((12 * BLOCK)) 4096
must write_at /dev/mapper/zthin $W/model-thin $((12 * BLOCK + 8192)) 4096 dsync
check "two writes into new block 12" same_block /dev/mapper/zthin $W/model-thin 12
assert_eq "one block mapped per block written" 14 "$(mapped_blocks zthin)"
check "whole thin equals the model" same_dev /dev/mapper/zthin $W/model-thin
check "no stale data readable" no_stale /dev/mapper/zthin

# Random small writes racing into new blocks; fio verifies what it wrote.
must thinctl thin-create zpool 2 zfio 16M
fio_small() {
	fio --filename=/dev/mapper/zfio --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randwrite --randseed=4242 --verify=crc32c --verify_fatal=1 \
		--output-format=terse --minimal \
		--name=b4k --offset=0 --size=8M --io_size=2M --bs=4k \
		--name=b8k --offset=8M --size=8M --io_size=2M --bs=8k "$@" > /dev/null
}
check "fio 4k/8k random writes into new blocks verify" fio_small
used_fio=$(mapped_blocks zfio)
check "fio provisioned blocks ($used_fio of 256)" test "$used_fio" -gt 32 -a "$used_fio" -le 256
check "no stale data readable after fio" no_stale /dev/mapper/zfio
fio_sum=$(dev_md5 /dev/mapper/zfio)

# Torn down and activated again: the mappings were committed.
reactivate() {
	must thinctl thin-remove zthin
	must thinctl thin-remove zfio
	must thinctl pool-remove zpool
	must thinctl pool-activate zpool /dev/mapper/zmeta /dev/mapper/zdata 128 0
	must thinctl thin-activate zpool 1 zthin 8M
	must thinctl thin-activate zpool 2 zfio 16M
}
reactivate
check "re-activated: thin equals the model" same_dev /dev/mapper/zthin $W/model-thin
assert_eq "re-activated: mapped blocks" 14 "$(mapped_blocks zthin)"
assert_eq "re-activated: fio's thin reads as before" "$fio_sum" "$(dev_md5 /dev/mapper/zfio)"

# Partial writes into blocks shared with a snapshot, from either side.
must thinctl snap-create zpool 3 1 zthin
must thinctl thin-activate zpool 3 zsnap 8M
must cp $W/model-thin $W/model-snap
cow="1 8192 4096
3 0 4096
4 61440 4096
7 30720 2048
8 512 64000"
while read -r blk off len; do
	must write_at /dev/mapper/zthin $W/model-thin $((blk * BLOCK + off)) "$len"
	check "shared block $blk: $len bytes at $off, old data around" \
		same_block /dev/mapper/zthin $W/model-thin "$blk"
done <<< "$cow"
must write_at /dev/mapper/zsnap $W/model-snap $((2 * BLOCK + 4096)) 4096 dsync
must write_at /dev/mapper/zsnap $W/model-snap $((5 * BLOCK + 32768)) 8192
check "snapshot written: equals its model" same_dev /dev/mapper/zsnap $W/model-snap
check "origin written: equals its model" same_dev /dev/mapper/zthin $W/model-thin
must thinctl thin-remove zsnap
reactivate
must thinctl thin-activate zpool 3 zsnap 8M
check "re-activated: origin equals its model" same_dev /dev/mapper/zthin $W/model-thin
check "re-activated: snapshot equals its model" same_dev /dev/mapper/zsnap $W/model-snap
check "re-activated: no stale data readable" no_stale /dev/mapper/zsnap

# Writes to the data device fail (flushes still pass, so commits work): a
# partial write into a new block fails, and nothing stays mapped.
used=$(thinctl pool-status zpool used-data)
must dmsetup suspend zdata
must dmsetup load zdata --table "0 $DATA_S error"
must dmsetup resume zdata
check_fails "write into a new block on a failing data device fails" \
	write_at /dev/mapper/zthin $W/model-failed $((40 * BLOCK + 4096)) 4096
must dmsetup suspend zdata
must dmsetup load zdata --table "0 $DATA_S linear ${DISKS[1]} 0"
must dmsetup resume zdata
assert_eq "the failed write mapped nothing" 14 "$(mapped_blocks zthin)"
if [ "$REL_TARGETS" = ctpool ]; then
	# dm-thin 6.1 keeps such a block allocated until the pool is reloaded.
	assert_eq "the failed write's block was released" "$used" \
		"$(thinctl pool-status zpool used-data)"
fi
must truncate -s 4M $W/model-zero
check "the failed block reads as zeroes" \
	same_block /dev/mapper/zthin $W/model-zero 40
must write_at /dev/mapper/zthin $W/model-thin $((40 * BLOCK + 4096)) 4096
check "the write succeeds once the device works" \
	same_block /dev/mapper/zthin $W/model-thin 40
assert_eq "pool still read-write" rw "$(thinctl pool-status zpool mode)"

must thinctl thin-remove zsnap
must thinctl thin-remove zthin
must thinctl thin-remove zfio
must thinctl pool-remove zpool
check "thin_check on the metadata" meta_clean /dev/mapper/zmeta
