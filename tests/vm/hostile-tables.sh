#!/bin/bash
# Hostile input from userspace: random and malformed pool/thin tables,
# messages and raw DM ioctls (forged sizes, offsets, counts) against a live
# pool (tests/stress/hostile.py). Each must succeed or fail cleanly, a
# refused pool table must not touch its metadata device, the kernel log must
# stay clean, and afterwards the live pool still serves its data and its
# metadata passes thin_check.
#
# usage (in the VM): hostile-tables.sh [kernel|ctpool] [COUNT] [SEED] [BUDGET]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
COUNT=${2:-600} SEED=${3:-$((RANDOM))} BUDGET=${4:-60}
need_disks 1
rel_load
note "seed $SEED"

must carve hl-meta "${DISKS[0]}" 0 4M
must carve hl-data "${DISKS[0]}" 8M 64M
must carve hx-smeta "${DISKS[0]}" 80M 4M
must carve hx-sdata "${DISKS[0]}" 96M 64M
must thinctl pool-create hl-pool /dev/mapper/hl-meta /dev/mapper/hl-data
must thinctl thin-create hl-pool 1 hl-thin 32M
check "live thin written and verified" fio_verify /dev/mapper/hl-thin 8M
sum=$(dev_md5 /dev/mapper/hl-thin 8)
# A valid pool image for the scratch metadata device, made by the target.
zero_dev /dev/mapper/hx-smeta
must thinctl pool-create hx-tmp /dev/mapper/hx-smeta /dev/mapper/hx-sdata
must dmsetup message hx-tmp 0 "create_thin 1"
must dmsetup message hx-tmp 0 "create_thin 2"
must dmsetup remove hx-tmp
must dd if=/dev/mapper/hx-smeta of=scratch.img bs=1M count=1 status=none

$PY "$REL/hostile.py" tables --live-pool hl-pool --live-meta /dev/mapper/hl-meta \
	--scratch-meta /dev/mapper/hx-smeta --image scratch.img --data /dev/mapper/hx-sdata \
	--count "$COUNT" --seed "$SEED" --budget "$BUDGET" 2>&1 | sed -u 's/^/# /' | tee out &&
	rc=0 || rc=$?
assert_eq "every hostile input succeeded or failed cleanly" 0 "$rc"
assert_match "inputs were tried" 'hostile inputs: [1-9][0-9]+' "$(cat out)"
assert_match "some hostile pool tables were refused" "$POOL_TARGET refused [1-9]" "$(cat out)"
assert_match "some thin tables were accepted" "$THIN_TARGET accepted [1-9]" "$(cat out)"

st=$(dmsetup status hl-pool)
assert_match "live pool still read-write" " rw " "$st"
assert_eq "live thin data unchanged" "$sum" "$(dev_md5 /dev/mapper/hl-thin 8)"
check "live thin still writable (fio verify)" fio_verify /dev/mapper/hl-thin 4M --offset=16M
remove_dm hl-thin hx-pool hx-thin
for id in $(seq 2 60); do dmsetup message hl-pool 0 "delete $id" 2>/dev/null || true; done
check "live pool removes" dmsetup remove hl-pool
check "live metadata passes thin_check" thin_check -q /dev/mapper/hl-meta
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean"; fi
