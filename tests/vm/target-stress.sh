#!/bin/bash
# Concurrency: several fio jobs write and verify a thin while snapshots are
# taken (origin suspended with I/O in flight) and deleted in a loop, and a
# second thin is discarded and rewritten; then the metadata must be clean
# and every block accounted for.
. "$(dirname "$0")/lib.bash"
need_disks 2
must load_ctpool

carve_pool
must thinctl thin-create pool 1 thin1 64M
must thinctl thin-create pool 2 thin2 16M

fio --name=stress --filename=/dev/mapper/thin1 --rw=randwrite --bs=4k \
	--size=8M --numjobs=4 --offset_increment=8M --direct=1 \
	--ioengine=libaio --iodepth=16 --verify=crc32c --do_verify=1 \
	--verify_fatal=1 --loops=2 --output-format=terse --minimal \
	> /tmp/fio.out 2>&1 &
fio_pid=$!

snaps=0
id=10
while kill -0 $fio_pid 2> /dev/null && [ $snaps -lt 12 ]; do
	must thinctl snap-create pool $id 1 thin1
	[ $id -gt 10 ] && must dmsetup message pool 0 "delete $((id - 1))"
	must dd if=/dev/urandom of=/dev/mapper/thin2 bs=64k count=32 oflag=direct status=none
	must blkdiscard /dev/mapper/thin2
	snaps=$((snaps + 1))
	id=$((id + 1))
done
check "fio verify under snapshots ($snaps taken)" wait $fio_pid
grep -i "err" /tmp/fio.out | head -5 | sed "s/^/# /" || true

assert_eq "discarded thin maps nothing" 0 "$(thinctl thin-status thin2 mapped-sectors)"
must dmsetup message pool 0 "delete $((id - 1))"
mapped=$(thinctl thin-status thin1 mapped-sectors)
assert_eq "only thin1's blocks in use" $((mapped / 128)) "$(thinctl pool-status pool used-data)"
must dmsetup remove thin1
must dmsetup remove thin2
must dmsetup remove pool
check "thin_check" thin_check -q /dev/mapper/tmeta
