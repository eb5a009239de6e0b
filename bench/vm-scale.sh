#!/bin/bash
# Scale benchmark, run INSIDE the guest by bench/scale.sh: operations on a
# thin with many mappings, on pools whose metadata was prepared on the host,
# for the kernel's dm-thin and ctpool alternately (K O, O K, ...). Every size:
# delete of thin 1, alone. The probe size also: the delete again with I/O
# probes on other thins, blkdiscard of the whole of thin 1 (probed too),
# create_snap of it and the first write after, and the first read after
# activation with a cold metadata cache.
#
# usage: vm-scale.sh imgdir=DIR sizes="N..." probe=N reps=R free=N [ko=PATH] [targets="kernel ours"]
#   DIR/meta-N.img   metadata with thin 1 of N mappings, thin 2 of the probe
#                    size (bench/scale-xml.py + thin_restore on the host)
#   probe=N          the size whose delete and discard are measured with I/O
#                    probes on other thins; the other sizes are timed alone
# Disks (VM_DISKS): first = metadata (a copy of the image is written to it
# before each run), second = the pool's free data blocks (FREE of them); the
# mapped ones are a dm zero device in front of it, so a pool of millions of
# mappings needs no disk of that size.
#
#   profile=1        profile every timed operation with `perf record -a`
#                    (cpu-clock: TCG has no PMU) and print where the guest's
#                    CPU went; times taken so are not comparable
# Output: "@@SCALE result SIZE TARGET REP KEY VALUE" lines (bench/scale.sh
# tabulates them), "@@PROFILE ..." lines; everything else is log.
set -u -o pipefail

HERE=$(dirname "$(realpath "$0")")
ROOT=$(dirname "$HERE")
KO=$ROOT/dm-ctpool.ko
export DM_DISABLE_UDEV=1 LC_ALL=C

IMGDIR="" SIZES="" PSIZE="" REPS=2 TARGETS="kernel ours" FREE=16384 PROFILE=0
for a; do
	case $a in
	imgdir=*) IMGDIR=${a#*=} ;;
	sizes=*) SIZES=${a#*=} ;;
	probe=*) PSIZE=${a#*=} ;;
	reps=*) REPS=${a#*=} ;;
	ko=*) KO=${a#*=} ;;
	targets=*) TARGETS=${a#*=} ;;
	free=*) FREE=${a#*=} ;;
	profile=*) PROFILE=${a#*=} ;;
	*) echo "vm-scale: unknown argument $a" >&2; exit 2 ;;
	esac
done
read -r -a DISKS <<< "${VM_DISKS:-}"
[ ${#DISKS[@]} -ge 2 ] || { echo "vm-scale: needs 2 scratch disks" >&2; exit 2; }
META=${DISKS[0]} DATA=${DISKS[1]}
WORK=$(mktemp -d /tmp/scale.XXXXXX)

out() { echo "@@SCALE $*"; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
elapsed_ms() {
	local d=$(( $(now_us) - $1 ))
	printf '%d.%d\n' $((d / 1000)) $(( (d % 1000) / 100 ))
}
res() { out "result $SZ $TGT $REP $1 $2"; log "$TGT $SZ rep $REP: $1 = $2"; }

# perf_start, perf_stop OP: a system-wide cpu-clock profile (TCG has no
# PMU) around one operation when profile=1; its top symbols (self time,
# kernel and modules included) go out as "@@PROFILE SIZE TARGET REP OP"
# lines. perf takes seconds to set up under TCG: it is started and waited
# for before the operation's clock starts.
perf_start() {
	local i
	[ "$PROFILE" = 1 ] || return 0
	rm -f "$WORK/perf.data"
	perf record -q -a -e cpu-clock -F 499 -o "$WORK/perf.data" > "$WORK/perf.err" 2>&1 &
	PERF_PID=$!
	# Its header is written once it is set up.
	for ((i = 0; i < 600; i++)); do
		[ -s "$WORK/perf.data" ] && break
		sleep 0.1
	done
	sleep 1
}
perf_stop() {
	[ "$PROFILE" = 1 ] || return 0
	kill -INT "$PERF_PID"
	wait "$PERF_PID"
	perf report -i "$WORK/perf.data" --stdio --sort sym --percent-limit 0.7 2> /dev/null |
		grep -v '^#' | grep -v '^$' | head -n 40 |
		sed "s/^/@@PROFILE $SZ $TGT $REP $1 /"
	rm -f "$WORK/perf.data"
}

# timed KEY CMD...: CMD's wall time in ms as result KEY ("error" if it
# fails), profiled under profile=1.
timed() {
	local key=$1 t0 v rc
	shift
	perf_start
	t0=$(now_us)
	"$@"
	rc=$?
	if [ $rc = 0 ]; then v=$(elapsed_ms "$t0"); else v=error; fi
	perf_stop "${key%_ms}"
	res "$key" "$v"
	return $rc
}

# The probes: qd1 4k random reads of mapped blocks of thin 2 (the first
# 256 MiB of it, read once beforehand so that its metadata is cached: the
# probe measures waiting for the pool, not cold-cache misses), and qd1 4k
# random writes into new blocks of the fresh thin 3 (at most 12000: the pool
# has FREE free blocks).
PROBE_REGION=256M
probes_start() {
	fio --output-format=json --output="$WORK/read.json" --ioengine=libaio --direct=1 \
		--name=read --filename=/dev/mapper/s-t2 --size=$PROBE_REGION --rw=randread \
		--bs=4k --iodepth=1 --randrepeat=0 --time_based --runtime="$1" \
		> "$WORK/read.err" 2>&1 &
	RPID=$!
	fio --output-format=json --output="$WORK/write.json" --ioengine=libaio --direct=1 \
		--name=write --filename=/dev/mapper/s-t3 --rw=randwrite --number_ios=12000 \
		--bs=4k --iodepth=1 --randrepeat=0 --time_based --runtime="$1" \
		> "$WORK/write.err" 2>&1 &
	WPID=$!
}
probes_stop() {
	kill -TERM "$RPID" "$WPID" 2> /dev/null
	wait "$RPID" "$WPID"
}
# probes_report SUFFIX: read p50/p99/max, write p99/max.
probes_report() {
	local v
	if v=$(python3 "$HERE/fio-metric.py" "$WORK/read.json" read_p50_us read_p99_us read_max_ms); then
		read -r p50 p99 mx <<< "$v"
		res "read_p50_us$1" "$p50"; res "read_p99_us$1" "$p99"; res "read_max_ms$1" "$mx"
	else
		log "no read probe result: $(tail -n 3 "$WORK/read.err")"
	fi
	if v=$(python3 "$HERE/fio-metric.py" "$WORK/write.json" write_p99_us write_max_ms); then
		res "write_p99_us$1" "${v% *}"; res "write_max_ms$1" "${v#* }"
	else
		log "no write probe result: $(tail -n 3 "$WORK/write.err")"
	fi
}
# Wait until both probes move I/O (fio takes seconds to start under TCG).
probes_wait() {
	local s2 s3 r0 w0 i
	s2=/sys/block/dm-$(dmsetup info -c --noheadings -o minor s-t2 | tr -d ' ')/stat
	s3=/sys/block/dm-$(dmsetup info -c --noheadings -o minor s-t3 | tr -d ' ')/stat
	r0=$(awk '{ print $1 }' "$s2"); w0=$(awk '{ print $5 }' "$s3")
	for ((i = 0; i < 600; i++)); do
		[ "$(awk '{ print $1 }' "$s2")" -le $((r0 + 20)) ] ||
			[ "$(awk '{ print $5 }' "$s3")" -le $((w0 + 20)) ] || return 0
		sleep 0.1
	done
	return 1
}

teardown() {
	local n
	for n in s-t3 s-t2 s-pool s-data; do
		dmsetup info "$n" > /dev/null 2>&1 || continue
		dmsetup remove "$n" || { sleep 1; dmsetup remove --retry "$n"; }
	done
}

# activate: the pool of size SZ on the target TGT from a fresh copy of the
# image (so its metadata cache is cold); at the probe size also thins 2 and
# the fresh thin 3 for the probes.
activate() {
	local img=$IMGDIR/meta-$SZ.img sectors mapped_s
	case $TGT in
	kernel) PT=thin-pool TT=thin ;;
	ours) PT=ctpool TT=ctthin ;;
	esac
	# The image's holes are skipped (conv=sparse): discard the disk first
	# (a hole punch on the host) so that they read back as zeroes.
	blkdiscard "$META" || return 1
	dd if="$img" of="$META" bs=1M conv=sparse,fsync status=none || return 1
	# The data device: the blocks the image maps read as zeroes (dm zero:
	# nothing is ever written there), the free ones after them are the disk.
	mapped_s=$(( (SZ + PSIZE) * 128 )) sectors=$(( (SZ + PSIZE + FREE) * 128 ))
	printf '0 %s zero\n%s %s linear %s 0\n' $mapped_s $mapped_s $((FREE * 128)) "$DATA" |
		dmsetup create s-data || return 1
	dmsetup create s-pool --table "0 $sectors $PT $META /dev/mapper/s-data 128 0" || return 1
	[ "$SZ" = "$PSIZE" ] || return 0
	dmsetup message s-pool 0 "create_thin 3" || return 1
	dmsetup create s-t2 --table "0 $((64 << 21)) $TT /dev/mapper/s-pool 2" || return 1
	dmsetup create s-t3 --table "0 $((64 << 21)) $TT /dev/mapper/s-pool 3" || return 1
}

# read_4k_us DEV BLOCK: completion latency of one 4k direct read at data
# block BLOCK, as fio measures it (not the seconds fio takes to start).
read_4k_us() {
	fio --output-format=json --output="$WORK/one.json" --ioengine=psync --direct=1 \
		--name=one --filename="$1" --rw=read --bs=4k --size=4k \
		--offset=$(($2 * 65536)) > "$WORK/one.err" 2>&1 || return 1
	python3 "$HERE/fio-metric.py" "$WORK/one.json" read_p50_us
}

# cold_read: the first read of a mapped block after activation walks the
# mapping tree from disk; the same read again is the cached baseline.
cold_read() {
	local v
	v=$(read_4k_us /dev/mapper/s-t2 $((PSIZE / 2 + 7))) && res cold_read_us "$v"
	v=$(read_4k_us /dev/mapper/s-t2 $((PSIZE / 2 + 7))) && res warm_read_us "$v"
}

# probes_begin: warm the probe region, measure the probes idle, start them
# for the operation.
probes_begin() {
	dd if=/dev/mapper/s-t2 of=/dev/null bs=1M count=256 iflag=direct status=none || return 1
	# The first new block after activation costs a scan of the data
	# space map for a free block: not part of what is measured.
	dd if=/dev/zero of=/dev/mapper/s-t3 bs=64k count=16 seek=100000 oflag=direct status=none || return 1
	probes_start 4
	probes_wait || { probes_stop; log "probes did not start"; return 1; }
	probes_stop
	probes_report _idle
	probes_start 600
	probes_wait || { probes_stop; log "probes did not start"; return 1; }
	sleep 1
}

probes_end() {
	sleep 0.3
	probes_stop
	probes_report "_$1"
}

# op_delete [KEY]: the delete message for thin 1; its id is free again after.
op_delete() {
	timed "${1:-delete_ms}" dmsetup message s-pool 0 "delete 1"
	dmsetup message s-pool 0 "create_thin 1" || res recreate error
}
# op_pdelete: the same while the probes run on other thins (so the time
# includes what the pool serves them meanwhile, when it lets them in).
op_pdelete() { op_delete delete_probed_ms; }

# op_discard: blkdiscard of the whole of thin 1 (every block mapped); after
# it the thin maps nothing.
op_discard() {
	local mapped
	dmsetup create s-t1 --table "0 $((SZ * 128)) $TT /dev/mapper/s-pool 1" || return 1
	timed discard_ms blkdiscard /dev/mapper/s-t1
	mapped=$(dmsetup status s-t1 | awk '{ print $4 }')
	[ "$mapped" = 0 ] || res discard_left_sectors "$mapped"
}

# op_snap: create_snap of thin 1, then the first write into it, which
# breaks the sharing of the path to one leaf of the million-mapping tree.
op_snap() {
	timed snap_ms dmsetup message s-pool 0 "create_snap 4 1"
	dmsetup create s-t1 --table "0 $((SZ * 128)) $TT /dev/mapper/s-pool 1" || return 1
	timed cow_write_ms dd if=/dev/zero of=/dev/mapper/s-t1 bs=4k count=1 seek=$((SZ / 3 * 16)) \
		oflag=direct,sync conv=notrunc status=none
}

teardown() {
	local n
	for n in s-t1 s-t3 s-t2 s-pool s-data; do
		dmsetup info "$n" > /dev/null 2>&1 || continue
		dmsetup remove "$n" || { sleep 1; dmsetup remove --retry "$n"; }
	done
}

# run_one OP: one operation (delete, discard, snap) on thin 1 of a fresh
# pool of size SZ on the target TGT; at the probe size, with the cold read
# first and, for delete and discard, the probes on other thins meanwhile.
run_one() {
	local op=$1 probed=0
	activate || return 1
	if [ "$SZ" = "$PSIZE" ]; then
		cold_read
		case $op in pdelete|discard) probed=1 ;; esac
	fi
	if [ $probed = 1 ]; then probes_begin || return 1; fi
	"op_$op" || return 1
	[ $probed = 0 ] || probes_end "${op#p}"
	teardown
}

modprobe crc32c_generic && modprobe libcrc32c
modprobe dm-thin-pool && modprobe dm-zero || exit 1
deps=$(modinfo -F depends "$KO" | tr , ' ')
{ [ -z "$deps" ] || modprobe -a $deps; } && insmod "$KO" || exit 1
out "meta kernel $(uname -r)"
out "meta disks ${VM_DISK_OPTS:-unknown}"
out "meta guest $(nproc) vCPU, TCG"
out "meta ko md5 $(md5sum < "$KO" | cut -c1-12)"
if [ "$PROFILE" = 1 ]; then
	out "meta profiled with perf record -a -e cpu-clock: times not comparable"
	echo 0 > /proc/sys/kernel/kptr_restrict
	echo -1 > /proc/sys/kernel/perf_event_paranoid
fi

read -r -a tlist <<< "$TARGETS"
nt=${#tlist[@]}
for SZ in $SIZES; do
	for ((REP = 1; REP <= REPS; REP++)); do
		for ((k = 0; k < nt; k++)); do
			# K O, O K, ...: each target runs first as often as last.
			if [ $((REP % 2)) -eq 1 ]; then TGT=${tlist[$k]}; else TGT=${tlist[$((nt - 1 - k))]}; fi
			ops=delete
			[ "$SZ" != "$PSIZE" ] || ops="delete pdelete discard snap"
			for op in $ops; do
				log "size $SZ rep $REP: $TGT $op"
				key=${op}_ms
				[ "$op" != pdelete ] || key=delete_probed_ms
				run_one "$op" || { res "$key" error; teardown; }
			done
		done
	done
done
out end
rm -rf "$WORK"
