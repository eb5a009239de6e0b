#!/bin/bash
# Metadata exhaustion: a pool whose metadata device is far too small for its
# data device runs out of metadata space while a thin is being provisioned.
# What a user needs, and what dm-thin 6.1 does (check_for_metadata_space,
# maybe_resize_metadata_dev):
#   - the pool says so: low-water event for the metadata, then status "ro"
#     with all metadata counted as used (the reserve is kept back), a dm
#     event, and a kernel log line naming the pool;
#   - new provisioning fails with an I/O error, and never hangs; blocks
#     already mapped can still be read and overwritten, and fsync works;
#   - data written and fsynced before exhaustion reads back intact;
#   - growing the metadata device (suspend, reload it bigger, resume) puts the
#     pool back in write mode, and provisioning works again;
#   - after teardown thin_check is clean, and thin_dump maps exactly the
#     blocks the thin's status counted.
# The pool zeroes new blocks (the default): with whole-block writes nothing is
# zeroed, and dm-thin 6.1 with skip_block_zeroing does not survive this: its
# schedule_zero() inserts the mapping even after the commit that found no
# space set the metadata read-only, the insert fails, needs_check cannot be
# set either, and the pool goes to Fail (all I/O errors). ctpool goes
# out-of-metadata-space either way: pass skip_block_zeroing as the second
# argument to run the same checks with it (they pass on ctpool only).
# The data device is a little real disk (where the first, verified blocks
# land: a fresh pool allocates from block 0) followed by a huge dm "zero"
# target, so tens of thousands of blocks cost no disk space.
#
# usage (in the VM): target-metadata-full.sh [kernel|ctpool] [POOL_FEATURE...]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
FEATURES=("${@:2}")
need_disks 1
rel_load
must modprobe dm-zero

META=512K BIGGER=2M      # 128 4-KiB blocks, then 512
REAL=16M DATA=8G         # 64 KiB blocks: 256 real, 131072 in all
VSIZE=8G
FREE_BLOCK=$(( (8192 - 1) * 16 ))   # first block of the last MiB
BS=128
meta_s=$(_sectors $META) real_s=$(_sectors $REAL) data_s=$(_sectors $DATA)

must carve mf-mbase "${DISKS[0]}" 0 $BIGGER
must carve mf-dbase "${DISKS[0]}" 8M $REAL
must dmsetup create mf-meta --table "0 $meta_s linear /dev/mapper/mf-mbase 0"
must dmsetup create mf-data --table "0 $real_s linear /dev/mapper/mf-dbase 0
$real_s $((data_s - real_s)) zero"
zero_dev /dev/mapper/mf-mbase 2

must thinctl pool-create mf-pool /dev/mapper/mf-meta /dev/mapper/mf-data $BS 0 "${FEATURES[@]}"
must dmsetup message mf-pool 0 "create_thin 1"
must thinctl thin-activate mf-pool 1 mf-thin $VSIZE
T=/dev/mapper/mf-thin
# The kernel log names a pool by major:minor (dm_device_name), as dm-thin does.
P=$(dmsetup info -c --noheadings -o major,minor --separator : mf-pool | tr -d ' ')

field() { thinctl pool-status mf-pool "$1"; }
events() { dm_events mf-pool; }
mapped_blocks() { echo $(( $(thinctl thin-status mf-thin mapped-sectors) / BS )); }
same_pattern() {
	dd if=$T of=readback bs=64K count=16 iflag=direct status=none && cmp -s pattern readback
}

# Verified data first: 16 blocks at the start of the thin, fsynced.
must dd if=/dev/urandom of=pattern bs=64K count=16 status=none
must dd if=pattern of=$T bs=64K oflag=direct conv=fsync status=none
check "pattern reads back before exhaustion" same_pattern
note "table: $(dmsetup table mf-pool)"
note "before: $(dmsetup status mf-pool)"
ev0=$(events)
dmesg -C

# Provision random blocks until the pool refuses. fio stops at the first
# error; the timeout turns a hang into a failure. It leaves the last MiB of
# the thin (blocks FREE_BLOCK...) alone, for writes that must be new blocks.
fio_status=0
timeout 600 fio --name=fill --filename=$T --rw=randwrite --bs=64k --direct=1 \
	--ioengine=libaio --iodepth=4 --offset=1M --size=$((8192 - 2))M \
	--randrepeat=1 --output-format=terse --minimal > fio.out 2> fio.err || fio_status=$?
note "fio exit $fio_status: $(tail -n 2 fio.err | tr '\n' ' ')"
assert_ne "provisioning stopped with an error (not a hang: timeout gives 124)" 124 "$fio_status"
assert_ne "provisioning failed once metadata ran out" 0 "$fio_status"
assert_match "fio saw an I/O error" "Input/output error|error=5|err= ?5" "$(cat fio.err fio.out)"

st=$(dmsetup status mf-pool)
note "exhausted: $st"
log=$(dmesg)
printf '%s\n' "$log" | grep -E "$P|space map|persistent|ctpool|thin" | grep -v "low water" | tail -n 30 | sed 's/^/# dmesg: /' || true
assert_eq "pool in read-only mode (out of metadata space)" ro "$(field mode)"
assert_eq "needs_check not set: nothing failed, space ran out" - "$(field needs-check)"
assert_eq "all metadata counted as used (the reserve is kept back)" \
	"$(field total-meta)" "$(field used-meta)"
# dm-thin 6.1's line, field for field; only the data blocks used vary.
assert_match "status line as dm-thin's" \
	"^0 16777216 $POOL_TARGET 0 128/128 [0-9]+/131072 - ro no_discard_passdown queue_if_no_space - 32 $" "$st"
check_event mf-pool "$ev0"
assert_match "kernel log: metadata low water reached" \
	"$P: reached low water mark for metadata device" "$log"
assert_match "kernel log names the pool leaving write mode" \
	"$P: switching pool to (read-only|out-of-metadata-space) mode" "$log"
if rel_dmesg_bad; then fail "kernel log shows a warning or crash"; fi

mapped=$(mapped_blocks)
note "thin maps $mapped blocks"
[ "$mapped" -gt 1000 ] && pass "thousands of blocks were provisioned first ($mapped)" ||
	fail "only $mapped blocks provisioned before the pool ran out"

# Read-only: no new blocks, but everything mapped keeps working.
new_block_write() {
	timeout 120 dd if=pattern of=$T bs=64K count=1 seek=$1 oflag=direct status=none 2>&1
}
if out=$(new_block_write $FREE_BLOCK); then
	fail "a write to a new block succeeded on a pool out of metadata space"
else
	assert_match "a write to a new block fails with an I/O error" "Input/output error" "$out"
fi
check "data fsynced before exhaustion reads back" same_pattern
check "a mapped block can be overwritten, with fsync" \
	dd if=pattern of=$T bs=64K count=16 oflag=direct conv=fsync status=none
check "and still reads back" same_pattern
check_fails "messages are refused" dmsetup message mf-pool 0 "create_thin 2"
assert_eq "nothing new was mapped while read-only" "$mapped" "$(mapped_blocks)"

# Grow the metadata device under the live pool.
dmesg -C
must dmsetup suspend mf-pool
must dmsetup load mf-meta --table "0 $(_sectors $BIGGER) linear /dev/mapper/mf-mbase 0"
must dmsetup resume mf-meta
must dmsetup resume mf-pool
st=$(dmsetup status mf-pool)
note "grown: $st"
assert_match "status line as dm-thin's after growing" \
	"^0 16777216 $POOL_TARGET 0 167/512 [0-9]+/131072 - rw no_discard_passdown queue_if_no_space - 128 $" "$st"
assert_eq "pool back in write mode after the metadata device grew" rw "$(field mode)"
assert_eq "metadata size seen by the pool" $(( $(_sectors $BIGGER) / 8 )) "$(field total-meta)"
assert_match "kernel log: metadata device grown" \
	"$P: growing the metadata device from [0-9]+ to [0-9]+ blocks" "$(dmesg)"
check "provisioning works again, with fsync" \
	dd if=pattern of=$T bs=64K count=1 seek=$((FREE_BLOCK + 1)) oflag=direct conv=fsync status=none
assert_eq "one more block mapped" $((mapped + 1)) "$(mapped_blocks)"
mapped=$(mapped_blocks)
check "data from before exhaustion still reads back" same_pattern
if rel_dmesg_bad; then fail "kernel log shows a warning or crash"; fi

# Teardown: the metadata is consistent and maps what the thin counted.
remove_dm mf-thin mf-pool
out=$(thin_check /dev/mapper/mf-meta 2>&1) && rc=0 || rc=$?
[ $rc -eq 0 ] && pass "thin_check clean after teardown" ||
	fail "thin_check after teardown: $(echo "$out" | tail -n 5 | tr '\n' ' ')"
dumped=$(thin_dump /dev/mapper/mf-meta | awk '
	/<single_mapping/ { n++ }
	/<range_mapping/ { if (match($0, /length="[0-9]+"/)) n += substr($0, RSTART + 8, RLENGTH - 9) }
	END { print n + 0 }')
assert_eq "thin_dump maps exactly the blocks the thin's status counted" "$mapped" "$dumped"
