#!/bin/bash
# 100 load/unload cycles of the module, with a pool (on the same metadata
# every time) activated, written, read back, snapshotted and torn down
# between cycles; slab caches (/proc/slabinfo) after cycle 20 and after the
# last are compared, less the growth of 50 control cycles of load/unload
# alone (module loading leaves kernfs objects in kmalloc caches by itself):
# half an object per cycle more in a kmalloc/bio/dm cache is a leak. The
# kernel log must stay clean (kmem_cache_destroy complains about leaks).
#
# usage (in the VM): hostile-modload.sh [kernel|ctpool] [CYCLES]
. "$(dirname "$0")/../vm/lib.sh"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
CYCLES=${2:-100}
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
	--meta /dev/mapper/hm-meta --data /dev/mapper/hm-data --cycles "$CYCLES" 2>&1 |
	sed -u 's/^/# /' | tee out && rc=0 || rc=$?
assert_eq "$CYCLES cycles without a leak, an error or a kernel complaint" 0 "$rc"
assert_match "all cycles ran" "# $CYCLES load/unload cycles" "$(cat out)"
check "metadata passes thin_check after the cycles" thin_check -q /dev/mapper/hm-meta
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean"; fi
