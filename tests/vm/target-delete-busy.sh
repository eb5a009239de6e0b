#!/bin/bash
# Deleting a big thin does not stall the pool. The pool's metadata is
# restored (thin_restore of bench/scale-xml.py's XML) with thin 1 of 262144
# mappings, thin 2 of 16384 and thin 3 of 65536; the mapped data blocks are
# a dm zero device (nothing is written there), the free ones a real disk.
#   - `delete 3` while thin 4 is written with fsyncs (each forces a commit,
#     which finishes a delete under way first): all succeed, the writes read
#     back;
#   - a blkdiscard of a quarter of thin 1 (one 4 GiB bio) while reads of thin
#     2 and writes into new blocks of thin 4 go on back to back: both keep
#     completing, and none waits for half of the discard (the writes, and
#     reads that miss the lock-free path, wait for the pool's worker, which
#     runs the discard: without discard_batch_blocks, most of it);
#   - `delete 1` (the rest of it) while the same probes go on: many complete before the delete returns, and none waits for a
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
# Provisioned first: once a commit has made thin 3's blocks free, new blocks
# may be taken from them, and those are the zero device (writes vanish).
must dd if=/dev/zero of=/dev/mapper/db4 bs=64k count=64 oflag=direct conv=fsync status=none
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

# probe.py READDEV WRITEDEV FIRST CMD...: 4k direct reads of thin 2's first 64 MiB
# (metadata cached by the pass above), each followed by a 4k direct write into
# a new block of thin 4 (from block FIRST up; provisioned by the pool's
# worker), from before CMD
# starts until after it ends: the latencies, and CMD's start and end, on one
# clock.
cat > $W/probe.py <<'PY'
import mmap, os, random, subprocess, sys, time
rdev, wdev, first, cmd = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
rfd = os.open(rdev, os.O_RDONLY | os.O_DIRECT)
wfd = os.open(wdev, os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
rng = random.Random(1)
next_block = [first]
def timed(f):
    t = time.monotonic()
    f()
    return t, time.monotonic()
def read_one():
    return timed(lambda: os.preadv(rfd, [buf], rng.randrange(16384) * 4096))
def write_one():
    b = next_block[0]
    next_block[0] += 1
    return timed(lambda: os.pwritev(wfd, [buf], b * 65536))
reads = [read_one() for _ in range(50)]
writes = []
t0 = time.monotonic()
p = subprocess.Popen(cmd)
while p.poll() is None:
    reads.append(read_one())
    if len(writes) < 2000:
        writes.append(write_one())
t1 = time.monotonic()
rc = p.wait()
reads += [read_one() for _ in range(20)]
def during(ios):
    return [e - s for s, e in ios if s >= t0 and e <= t1]
worst_r = max(e - s for s, e in reads)
worst_w = max(e - s for s, e in writes) if writes else 0
print("rc %d ms %.0f reads_during %d worst_read_ms %.1f writes_during %d worst_write_ms %.1f"
      % (rc, (t1 - t0) * 1000, len(during(reads)), worst_r * 1000, len(during(writes)),
         worst_w * 1000))
PY
# waits_under WHAT WORST_MS OP_MS PART: no WHAT waited for 1/PART of the operation.
waits_under() {
	check "no $1 waits for 1/$4 of the operation (worst $2 ms of $3 ms)" \
		$PY -c "import sys; sys.exit(not float('$2') * $4 < float('$3'))"
}

# A blkdiscard of a quarter of thin 1 (one bio of 4 GiB): reads of thin 2
# go on, and so do writes into new blocks of thin 4, which wait for the
# worker that runs the discard (it turns to them every discard_batch_blocks).
must thinctl thin-activate dbpool 1 db1 16G
out=$($PY $W/probe.py /dev/mapper/db2 /dev/mapper/db4 1000 \
	blkdiscard -o $((2 * 4096 * 1048576)) -l $((4096 * 1048576)) /dev/mapper/db1)
note "discard: $out"
read -r _ rc _ op_ms _ n_reads _ worst_r _ n_writes _ worst_w <<< "$out"
assert_eq "blkdiscard of 65536 blocks of thin 1 succeeds" 0 "$rc"
check "the discard ran long enough to tell (>= 300 ms: $op_ms)" test "${op_ms:-0}" -ge 300
check "reads complete while the discard runs ($n_reads)" test "${n_reads:-0}" -ge 10
check "new-block writes complete while the discard runs ($n_writes)" test "${n_writes:-0}" -ge 5
# Without the batches a read that misses the lock-free path, or a write,
# waits for most of the discard (66-86% seen); with them, up to a commit
# of what a second of the discard changed (5-26% seen on a loaded host).
waits_under "read or write" "$(printf '%s\n' "$worst_r" "$worst_w" | sort -g | tail -n 1)" "$op_ms" 2
assert_eq "thin 1 maps the rest (mapped and highest sector)" \
	"$(( (BIG - 65536) * 128 )) $((BIG * 128 - 1))" "$(dmsetup status db1 | awk '{ print $4, $5 }')"
must dmsetup remove db1

# The delete of the rest of thin 1, with the same probes.
out=$($PY $W/probe.py /dev/mapper/db2 /dev/mapper/db4 4000 dmsetup message dbpool 0 "delete 1")
note "delete: $out"
read -r _ rc _ del_ms _ n_during _ worst_ms _ _ _ _ <<< "$out"
assert_eq "delete 1 succeeds" 0 "$rc"
check "the delete ran long enough to tell (>= 300 ms: $del_ms)" test "${del_ms:-0}" -ge 300
check "reads complete while the delete runs ($n_during)" test "${n_during:-0}" -ge 10
waits_under read "$worst_ms" "$del_ms" 4
used1=$(thinctl pool-status dbpool used-data)
w4=$(( $(dmsetup status db4 | awk '{ print $4 }') / 128 ))
check "thin 4 holds the blocks written ($w4)" test "$w4" -gt 64
assert_eq "thin 1's and thin 3's blocks are free" $((SMALL + w4)) "$used1"
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
assert_eq "the same blocks used after re-activation" "$used1" "$used2"
must dmsetup remove dbpool
remove_dm dbdata dbmeta
rm -rf $W
