#!/bin/bash
# vm-options: --disk 256M --append slab_nomerge --append slub_debug=U,kmalloc-*,bio*,dm*,kcopyd*,ct*,thin*,blkdev*,request*,io
# Module load/unload cycles, each with a pool (on the same metadata every
# time) activated, a thin written, read back, snapshotted and torn down:
# do objects stay behind? Objects in use per slab cache are counted (page
# cache dropped, RCU frees let run) after a warm-up and at each quarter of
# the remaining cycles. A cache growing by half an object per cycle or more,
# overall and in the middle two quarters, beyond the rate of control cycles
# of load/unload alone (module loading leaves kernfs objects behind by
# itself), is a leak; a cache that fills up once, or holds a batch for a
# while, is not. The boot options (vm-options) make the counts exact and
# attributable: slub_debug puts the compared caches in debug mode, which
# keeps no per-CPU slabs (whose free objects /proc/slabinfo counts as
# active: a noise of whole slabs, up to 42 objects in kmalloc-96), and
# records who allocated each object (U: printed for a cache that grows);
# slab_nomerge keeps each cache's objects apart. The kernel log must stay
# clean (kmem_cache_destroy complains about leaks).
#
# usage (in the VM): hostile-modload.sh [kernel|ctpool] [CYCLES]
#   make check runs 40 cycles on ctpool, make stress 100 (tests/stress/README).
# SLAB_WATCH=kmalloc-96,... prints those caches' objects in use per
# allocating function at each count.
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
CYCLES=${2:-40}
WARMUP=$((CYCLES / 5 > 4 ? CYCLES / 5 : 4))
CONTROL=$((CYCLES / 2 > 10 ? CYCLES / 2 : 10))
need_disks 1
rel_load
must carve hm-meta "${DISKS[0]}" 0 4M
must carve hm-data "${DISKS[0]}" 8M 64M
zero_dev /dev/mapper/hm-meta
rel_unload
case $REL_TARGETS in
kernel) load="modprobe dm_thin_pool" unload="rmmod dm_thin_pool" ;;
*) load="insmod $KO" unload="rmmod dm_ctpool" ;;
esac
$PY "$REL/hostile.py" modload --load "$load" --unload "$unload" \
	--meta /dev/mapper/hm-meta --data /dev/mapper/hm-data --cycles "$CYCLES" \
	--warmup "$WARMUP" --control "$CONTROL" --watch "${SLAB_WATCH:-}" 2>&1 |
	sed -u 's/^/# /' | tee out && rc=0 || rc=$?
assert_eq "$CYCLES cycles without a leak, an error or a kernel complaint" 0 "$rc"
assert_match "all cycles ran" "# $CYCLES load/unload cycles" "$(cat out)"
check "metadata passes thin_check after the cycles" thin_check -q /dev/mapper/hm-meta
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean"; fi
