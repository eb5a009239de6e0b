#!/bin/bash
# Deleting a big thin does not stall the pool. The pool's metadata is
# restored (thin_restore of bench/scale-xml.py's XML) with thin 1 of 262144
# mappings, thin 2 of 16384 and thin 3 of 65536; the mapped data blocks are
# a dm zero device (nothing is written there), the free ones a real disk.
#   - `delete 3` while a new thin 4 is written with fsyncs (each forces a
#     commit, which finishes a delete under way first): all succeed, the
#     writes read back;
#   - `delete 1` while 4k direct reads of mapped blocks of thin 2 go on back
#     to back: many complete before the delete returns, and none waits for a
#     quarter of it (a delete that holds the metadata lock throughout, as
#     dm-thin 6.1's does, makes one read wait for nearly all of it: this
#     check fails on dm-thin);
#   - the blocks come back, the ids are free again, the metadata passes
#     thin_check, and the deleted thins stay gone after re-activation.
#
# usage (in the VM): target-delete-busy.sh [kernel|ctpool]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
need_disks 2
rel_load

BIG=262144 SMALL=16384 THIRD=65536 FREE=4096
W=$(mktemp -d /tmp/delbusy.XXXXXX)
must $PY "$ROOT/bench/scale-xml.py" $BIG $SMALL $FREE 16 $THIRD > $W/meta.xml
must carve dbmeta "${DISKS[0]}" 0 32M
must zero_dev /dev/mapper/dbmeta 1
check "metadata restored: thins of $BIG, $SMALL, $THIRD mappings" \
	thin_restore -q -i $W/meta.xml -o /dev/mapper/dbmeta
must modprobe dm-zero
mapped_s=$(( (BIG + SMALL + THIRD) * 128 )) free_s=$((FREE * 128))
printf '0 %s zero\n%s %s linear %s 0\n' $mapped_s $mapped_s $free_s "${DISKS[1]}" |
	must dmsetup create dbdata
must zero_dev /dev/mapper/dbdata 1

must thinctl pool-activate dbpool /dev/mapper/dbmeta /dev/mapper/dbdata 128 0
used0=$(thinctl pool-status dbpool used-data)
assert_eq "pool activates with every block used" $((BIG + SMALL + THIRD)) "$used0"

# While nothing but the disk is free, so that thin 4's blocks are real.
must dmsetup message dbpool 0 "create_thin 4"
must thinctl thin-activate dbpool 4 db4 1G
dd if=/dev/urandom of=$W/pattern bs=64k count=64 status=none
dmsetup message dbpool 0 "delete 3" & delpid=$!
for i in $(seq 0 15); do
	dd if=$W/pattern of=/dev/mapper/db4 bs=64k count=4 skip=$((i * 4)) seek=$((i * 4)) \
		oflag=direct conv=fsync,notrunc status=none || fail "write+fsync $i"
done
wait $delpid
check "delete 3 succeeds next to writes with fsync" test $? -eq 0
check "the writes read back" cmp $W/pattern /dev/mapper/db4 -n $((64 * 65536))
must thinctl thin-activate dbpool 2 db2 4G
must dd if=/dev/mapper/db2 of=/dev/null bs=1M count=64 iflag=direct status=none

# Reads of thin 2's first 64 MiB (metadata cached by the pass above) from
# before the delete starts until after it returns: the read latencies, and
# the delete's start and end, on one clock.
cat > $W/probe.py <<'PY'
import mmap, os, random, subprocess, sys, time
dev, pool = sys.argv[1], sys.argv[2]
fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
rng = random.Random(1)
def read_one():
    t = time.monotonic()
    os.preadv(fd, [buf], rng.randrange(16384) * 4096)
    return t, time.monotonic()
reads = [read_one() for _ in range(50)]
t0 = time.monotonic()
p = subprocess.Popen(["dmsetup", "message", pool, "0", "delete 1"])
while p.poll() is None:
    reads.append(read_one())
t1 = time.monotonic()
rc = p.wait()
reads += [read_one() for _ in range(20)]
during = [e - s for s, e in reads if s >= t0 and e <= t1]
worst = max(e - s for s, e in reads)
print("delete_rc %d delete_ms %.0f reads_during %d worst_read_ms %.1f"
      % (rc, (t1 - t0) * 1000, len(during), worst * 1000))
PY
out=$($PY $W/probe.py /dev/mapper/db2 dbpool)
note "$out"
read -r _ rc _ del_ms _ n_during _ worst_ms <<< "$out"
assert_eq "delete 1 succeeds" 0 "$rc"
check "the delete ran long enough to tell (>= 300 ms: $del_ms)" test "${del_ms:-0}" -ge 300
check "reads complete while the delete runs ($n_during)" test "${n_during:-0}" -ge 10
check "no read waits for a quarter of the delete (worst ${worst_ms} ms, delete ${del_ms} ms)" \
	$PY -c "import sys; sys.exit(not float('$worst_ms') * 4 < float('$del_ms'))"
used1=$(thinctl pool-status dbpool used-data)
assert_eq "thin 1's and thin 3's blocks are free" $((SMALL + 64)) "$used1"
check "the id is free again" dmsetup message dbpool 0 "create_thin 1"

must dmsetup remove db2
must dmsetup remove db4
must dmsetup remove dbpool
check "metadata passes thin_check" thin_check -q /dev/mapper/dbmeta
must thinctl pool-activate dbpool /dev/mapper/dbmeta /dev/mapper/dbdata 128 0
check_fails "thin 3 is gone after re-activation" dmsetup message dbpool 0 "delete 3"
check "thin 4 reads back after re-activation" thinctl thin-activate dbpool 4 db4 1G
check "... the same" cmp $W/pattern /dev/mapper/db4 -n $((64 * 65536))
must dmsetup remove db4
used2=$(thinctl pool-status dbpool used-data)
assert_eq "the same blocks used after re-activation" $((SMALL + 64)) "$used2"
must dmsetup remove dbpool
remove_dm dbdata dbmeta
rm -rf $W
