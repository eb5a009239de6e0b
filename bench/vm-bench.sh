#!/bin/bash
# Benchmark driver, run INSIDE the guest by scripts/bench.sh through
# qemu/run-vm.sh. Compares, on the same scratch disks, the raw data disk, the
# kernel's dm-thin (thin-pool/thin) and ctpool (ctpool/ctthin).
#
# usage: vm-bench.sh [KEY=VALUE...]
#   reps=N             repetitions of every measurement (default 3)
#   quick=0|1          small sizes and short runtimes (smoke run)
#   targets="raw kernel ours"
#   groups="main64 ..." subset of workload groups (default: all)
#   skipfile=PATH      lines "GROUP TARGET REP" already done in an earlier boot
#   ko=PATH            the ctpool module to load (default: the tree's dm-ctpool.ko)
# Disks (VM_DISKS from the harness): first = pool metadata, second = data.
#
# Output: lines starting with "@@BENCH " are the machine-readable results the
# host parses (def/meta/begin/result/finish/note/end); everything else is log.
# A measurement that fails prints "error" for its cell and the run goes on;
# a measurement that hangs is killed by a time limit and disables its target
# for the rest of the run (its devices may be stuck).
set -u -o pipefail

SELF=$(realpath "$0")
HERE=$(dirname "$SELF")
ROOT=$(dirname "$HERE")
THINCTL=$ROOT/scripts/thinctl.sh
KO=$ROOT/dm-ctpool.ko
export DM_DISABLE_UDEV=1 LC_ALL=C

out() { echo "@@BENCH $*"; }
note() { echo "@@BENCH note $*"; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# ---- workloads -----------------------------------------------------------------
# defwl ID GROUP UNIT BETTER RAW LABEL: RAW is "run", "n/a" or "=ID" (the raw
# figure of another row is the same workload on the raw disk).
WL_IDS=()
declare -A WL_GROUP WL_RAW WL_DEF
defwl() {
	WL_IDS+=("$1"); WL_GROUP[$1]=$2; WL_RAW[$1]=$5
	WL_DEF[$1]="def $1 $2 $3 $4 $5 ${*:6}"
}
defwl prov64      main64  MiB/s higher run     "provisioning randwrite 64k (new blocks), 64k pool blocks"
defwl over64      main64  MiB/s higher run     "overwrite randwrite 64k (provisioned), 64k pool blocks"
defwl read64      main64  MiB/s higher run     "randread 64k (provisioned), 64k pool blocks"
defwl seq1m       seq     MiB/s higher run     "sequential write 1M (new blocks)"
defwl zero4k      zero    IOPS  higher run     "4k randwrite into new blocks, zeroing on"
defwl nozero4k    nozero  IOPS  higher =zero4k "4k randwrite into new blocks, skip_block_zeroing"
defwl cow_origin  cow     IOPS  higher n/a     "4k write after create_snap, origin (COW break)"
defwl cow_snap    cow     IOPS  higher n/a     "4k write after create_snap, snapshot (COW break)"
defwl multi4      multi   MiB/s higher run     "4 jobs on 4 thins, provisioning randwrite 64k (sum)"
defwl fsync_new   fsync   IOPS  higher run     "4k write+fsync into new blocks (commit per fsync)"
defwl fsync_over  fsync   IOPS  higher run     "4k write+fsync, provisioned blocks (flush only)"
defwl dmsetup_ms  big     ms    lower  n/a     "a dmsetup call (info): process start + ioctl, part of the two rows below"
defwl snap_ms     big     ms    lower  n/a     "create_snap latency, origin with NMAP mappings (BIG thin)"
defwl snapdel_ms  big     ms    lower  n/a     "delete of that snapshot"
defwl discard_ms  big     ms    lower  run     "blkdiscard of a whole SIZE thin (all provisioned)"
defwl fragdisc_ms frag    ms    lower  n/a     "blkdiscard of a SIZE thin provisioned by random 4k writes (fragmented), passdown"
defwl probe_p99   big     us    lower  n/a     "randread 4k clat p99 on another thin, idle"
defwl delete_ms   big     ms    lower  n/a     "delete of a thin with NMAP mappings (BIG)"
defwl delete_p99  big     us    lower  n/a     "randread 4k clat p99 on another thin during that delete"
defwl delete_max  big     ms    lower  n/a     "randread 4k clat max on another thin during that delete"
defwl prov64_b512 main512 MiB/s higher =prov64 "provisioning randwrite 64k (new blocks), 512k pool blocks"
defwl over64_b512 main512 MiB/s higher =over64 "overwrite randwrite 64k (provisioned), 512k pool blocks"
defwl read64_b512 main512 MiB/s higher =read64 "randread 64k (provisioned), 512k pool blocks"
ALL_GROUPS="main64 seq zero nozero cow frag multi fsync big main512"

# group_cells GROUP TARGET: the workloads that GROUP measures on TARGET.
group_cells() {
	local id
	for id in "${WL_IDS[@]}"; do
		[ "${WL_GROUP[$id]}" = "$1" ] || continue
		[ "$2" != raw ] || [ "${WL_RAW[$id]}" = run ] || continue
		echo "$id"
	done
}

# ---- helpers used by the measurements -------------------------------------------

now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
# elapsed_ms START_US: milliseconds since START_US, one decimal.
elapsed_ms() {
	local d=$(( $(now_us) - $1 ))
	printf '%d.%d\n' $((d / 1000)) $(( (d % 1000) / 100 ))
}

# fio_m METRICS FIO-ARGS...: run fio (libaio, direct); print the metrics
# (space-separated list, see fio-metric.py).
FIO_N=0
fio_m() {
	local metrics=$1 js; shift
	FIO_N=$((FIO_N + 1)); js=$WORK/fio.$FIO_N.json
	if ! fio --output-format=json --output="$js" --ioengine=libaio --direct=1 \
		--group_reporting "$@" > "$WORK/fio.err" 2>&1; then
		echo "fio failed: $(tail -n 5 "$WORK/fio.err")" >&2
		return 1
	fi
	# shellcheck disable=SC2086
	python3 "$HERE/fio-metric.py" "$js" $metrics
}

# fill DEV...: write every byte of the devices once (untimed setup).
fill() {
	local args=() d
	for d; do args+=(--name="fill$((${#args[@]} / 2))" --filename="$d"); done
	fio --ioengine=libaio --direct=1 --rw=write --bs=1M --iodepth=16 \
		--output-format=terse "${args[@]}" > "$WORK/fill.out" 2>&1 ||
		{ echo "fill failed: $(tail -n 5 "$WORK/fill.out")" >&2; return 1; }
}

# mk_iolog FILE DEV NBLOCKS BLOCK_BYTES [sync] [LIMIT]: a fio replay log of one
# 4k write into each block, at a random 4k offset in it, in a fixed random
# order (random offsets: a write at the start or end of a block leaves one
# region of it to zero or copy, one in the middle two, and targets may treat
# the cases differently); "sync" adds an fsync after each write. LIMIT keeps
# only the first LIMIT writes.
mk_iolog() {
	local f=$1 dev=$2 n=$3 bb=$4 sync=${5:-} limit=${6:-0}
	{
		echo "fio version 2 iolog"
		echo "$dev add"
		echo "$dev open"
		# (no shuf: /dev/fd, which its --random-source would need, is absent)
		awk -v n="$n" 'BEGIN { srand(42); for (i = 0; i < n; i++) printf "%.9f %d\n", rand(), i }' |
			sort -n | awk -v d="$dev" -v bb="$bb" -v s="$sync" -v lim="$limit" '
				BEGIN { srand(43) }
				lim > 0 && NR > lim { exit }
				{ printf "%s write %d 4096\n", d, $2 * bb + int(rand() * bb / 4096) * 4096
				  if (s == "sync") printf "%s sync 0 0\n", d }'
		echo "$dev close"
	} > "$f"
}

# replay METRICS IOLOG IODEPTH: replay an iolog (runtime-bounded).
replay() {
	fio_m "$1" --name=replay --read_iolog="$2" --replay_no_stall=1 \
		--iodepth="$3" --runtime="$RT"
}

# ---- devices ---------------------------------------------------------------------

# teardown: remove this target's dm devices (thins first, then the pool).
teardown() {
	local n
	[ "$TGT" = raw ] && return 0
	for n in $(dmsetup ls 2>/dev/null | awk -v p="$P-t" 'index($1, p) == 1 { print $1 }'); do
		dmsetup remove "$n" || { sleep 1; dmsetup remove --retry "$n"; } || return 1
	done
	if dmsetup info "$P-pool" > /dev/null 2>&1; then
		dmsetup remove "$P-pool" || { sleep 1; dmsetup remove --retry "$P-pool"; }
	fi
}

# pool_fresh BLOCK_SECTORS [FEATURE...]: a new, empty pool over the whole disks.
pool_fresh() {
	local bs=$1; shift
	teardown || return 1
	sh "$THINCTL" pool-create "$P-pool" "$META" "$DATA" "$bs" 0 "$@"
}
# mkthin ID SIZE: create and activate thin ID; prints its device path.
mkthin() {
	sh "$THINCTL" thin-create "$P-pool" "$1" "$P-t$1" "$2" >&2 || return 1
	echo "/dev/mapper/$P-t$1"
}
mapped_sectors() { dmsetup status "$1" | awk '{ print $4 }'; }
to_bytes() {
	case $1 in
	*M) echo $(( ${1%M} * 1048576 )) ;;
	*G) echo $(( ${1%G} * 1073741824 )) ;;
	*) echo "$1" ;;
	esac
}

# ---- measurement bookkeeping -----------------------------------------------------

# res ID VALUE: report one cell.
res() {
	out "result $1 $TGT $REP $2"
	log "$TGT rep $REP: $1 = $2"
	echo "$1" >> "$DONE_FILE"
}
# measure ID CMD...: CMD prints the value; on failure the cell is "error".
measure() {
	local id=$1 v; shift
	if v=$("$@") && [ -n "$v" ]; then
		res "$id" "$v"
	else
		note "$id on $TGT (rep $REP) failed"
		res "$id" error
		return 1
	fi
}
# need CMD...: a setup step; its failure ends the group (cells left: error).
need() {
	"$@" && return 0
	note "setup step failed on $TGT (rep $REP, group $GROUP): $*"
	exit 1
}

# ---- workload groups ---------------------------------------------------------------
# Each runs for one target (TGT: raw, kernel, ours) and reports its cells.
# For raw, DEV is the data disk itself and only the "run" cells are measured.

rw64() {   # rw64 PROV_ID OVER_ID READ_ID DEV
	local dev=$4
	measure "$1" fio_m write_mibs --name=prov --filename="$dev" --size="$SIZE" \
		--rw=randwrite --bs=64k --iodepth=16 --runtime="$RT"
	# The provisioning run is runtime-bounded: make sure every block is mapped
	# before overwrite and read.
	if [ "$TGT" != raw ] && [ "$(mapped_sectors "${dev##*/}")" != $(( $(to_bytes "$SIZE") / 512 )) ]; then
		need fill "$dev"
	fi
	measure "$2" fio_m write_mibs --name=over --filename="$dev" --size="$SIZE" \
		--rw=randwrite --bs=64k --iodepth=16 --time_based --runtime="$RT"
	measure "$3" fio_m read_mibs --name=read --filename="$dev" --size="$SIZE" \
		--rw=randread --bs=64k --iodepth=16 --time_based --runtime="$RT"
}

g_main64() {
	local dev=$DATA
	if [ "$TGT" != raw ]; then
		need pool_fresh 128
		dev=$(mkthin 1 "$SIZE") || need false
	fi
	rw64 prov64 over64 read64 "$dev"
}

g_main512() {
	need pool_fresh 1024
	local dev
	dev=$(mkthin 1 "$SIZE") || need false
	rw64 prov64_b512 over64_b512 read64_b512 "$dev"
}

g_seq() {
	local dev=$DATA
	if [ "$TGT" != raw ]; then
		need pool_fresh 128
		dev=$(mkthin 1 "$SIZE") || need false
	fi
	measure seq1m fio_m write_mibs --name=seq --filename="$dev" --size="$SIZE" \
		--rw=write --bs=1M --iodepth=16 --runtime="$RT"
}

new4k() {   # new4k ID [FEATURE...]
	local id=$1 dev=$DATA; shift
	if [ "$TGT" != raw ]; then
		need pool_fresh 128 "$@"
		dev=$(mkthin 1 "$SIZE") || need false
	fi
	need mk_iolog "$WORK/new4k.log" "$dev" $(( $(to_bytes "$SIZE") / 65536 )) 65536
	measure "$id" replay write_iops "$WORK/new4k.log" 16
}
g_zero() { new4k zero4k; }
g_nozero() { new4k nozero4k skip_block_zeroing; }

g_cow() {
	local o s n=$(( $(to_bytes "$SIZE") / 65536 ))
	need pool_fresh 128
	o=$(mkthin 1 "$SIZE") || need false
	need fill "$o"
	need sh "$THINCTL" snap-create "$P-pool" 2 1 "$P-t1"
	need mk_iolog "$WORK/cow.log" "$o" "$n" 65536
	measure cow_origin replay write_iops "$WORK/cow.log" 16
	# A new snapshot of the (now rewritten) origin, written through the snapshot.
	need sh "$THINCTL" snap-create "$P-pool" 3 1 "$P-t1"
	need sh "$THINCTL" thin-activate "$P-pool" 3 "$P-t3" "$SIZE"
	s=/dev/mapper/$P-t3
	need mk_iolog "$WORK/cow.log" "$s" "$n" 65536
	measure cow_snap replay write_iops "$WORK/cow.log" 16
}

# A thin whose blocks were provisioned in random order (one 4k write each),
# so that its data blocks are scattered: a whole-thin discard finds no two
# virtual neighbours in neighbouring data blocks, and passes one discard per
# block down to the data disk.
g_frag() {
	local t n=$(( $(to_bytes "$SIZE") / 65536 )) t0 v
	need pool_fresh 128
	t=$(mkthin 1 "$SIZE") || need false
	need mk_iolog "$WORK/frag.log" "$t" "$n" 65536
	need fio --name=frag --ioengine=libaio --direct=1 --iodepth=16 \
		--read_iolog="$WORK/frag.log" --replay_no_stall=1 --output-format=terse \
		--output="$WORK/frag.out"
	[ "$(mapped_sectors "$P-t1")" = $(( n * 128 )) ] || need false "thin 1 not fully mapped"
	dmsetup status "$P-pool" > /dev/null || need false "pool status"   # commits
	t0=$(now_us)
	if blkdiscard "$t"; then v=$(elapsed_ms "$t0"); else v=error; fi
	res fragdisc_ms "$v"
}

g_multi() {
	local half=$(( $(to_bytes "$SIZE") / 2 )) args=() i d
	if [ "$TGT" = raw ]; then
		for i in 0 1 2 3; do
			args+=(--name="j$i" --filename="$DATA" --offset=$((i * half)) --size="$half")
		done
	else
		need pool_fresh 128
		for i in 1 2 3 4; do
			d=$(mkthin "$i" "$half") || need false
			args+=(--name="j$i" --filename="$d" --size="$half")
		done
	fi
	measure multi4 fio_m write_mibs --rw=randwrite --bs=64k --iodepth=16 \
		--runtime="$RT" "${args[@]}"
}

g_fsync() {
	local dev=$DATA n written
	n=$(( $(to_bytes "$SIZE") / 65536 ))
	if [ "$TGT" != raw ]; then
		need pool_fresh 128
		dev=$(mkthin 1 "$SIZE") || need false
	fi
	need mk_iolog "$WORK/fsync.log" "$dev" "$n" 65536 sync
	if written=$(replay "write_iops write_ios" "$WORK/fsync.log" 1); then
		res fsync_new "${written% *}"
		# The same blocks again: now provisioned, so a flush but no commit.
		need mk_iolog "$WORK/fsync.log" "$dev" "$n" 65536 sync "${written#* }"
		measure fsync_over replay write_iops "$WORK/fsync.log" 1
	else
		res fsync_new error
		res fsync_over error
	fi
}

# probe DEV SECONDS: randread 4k on DEV in the background; its fio JSON goes to
# $WORK/probe.json. Sets PROBE_PID.
probe_start() {
	fio --output-format=json --output="$WORK/probe.json" --ioengine=libaio --direct=1 \
		--name=probe --filename="$1" --rw=randread --bs=4k --iodepth=4 \
		--time_based --runtime="$2" > "$WORK/probe.err" 2>&1 &
	PROBE_PID=$!
}

g_big() {
	local a b c t0 v
	if [ "$TGT" = raw ]; then
		t0=$(now_us)
		if blkdiscard -o 0 -l "$(to_bytes "$SIZE")" "$DATA"; then v=$(elapsed_ms "$t0"); else v=error; fi
		res discard_ms "$v"
		return
	fi
	need pool_fresh 128
	a=$(mkthin 1 "$BIG") || need false
	b=$(mkthin 2 "$SIZE") || need false
	c=$(mkthin 3 "$PROBE") || need false
	log "$TGT rep $REP: filling $BIG + $SIZE + $PROBE"
	need fill "$a" "$b" "$c"
	[ "$(mapped_sectors "$P-t1")" = $(( $(to_bytes "$BIG") / 512 )) ] ||
		need false "thin 1 not fully mapped"
	dmsetup status "$P-pool" > /dev/null || need false "pool status"   # commits
	note "$TGT: thin 1 has $(( $(to_bytes "$BIG") / 65536 )) mappings"

	local i times=()
	for i in 1 2 3; do
		t0=$(now_us)
		dmsetup info "$P-pool" > /dev/null || need false "dmsetup info"
		times+=("$(elapsed_ms "$t0")")
	done
	res dmsetup_ms "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"

	need dmsetup suspend "$P-t1"
	t0=$(now_us)
	if dmsetup message "$P-pool" 0 "create_snap 4 1"; then v=$(elapsed_ms "$t0"); else v=error; fi
	need dmsetup resume "$P-t1"
	res snap_ms "$v"
	if [ "$v" != error ]; then
		t0=$(now_us)
		if dmsetup message "$P-pool" 0 "delete 4"; then v=$(elapsed_ms "$t0"); else v=error; fi
		res snapdel_ms "$v"
	fi

	t0=$(now_us)
	if blkdiscard "$b"; then v=$(elapsed_ms "$t0"); else v=error; fi
	res discard_ms "$v"

	measure probe_p99 fio_m read_p99_us --name=probe --filename="$c" --rw=randread \
		--bs=4k --iodepth=4 --time_based --runtime=3

	# Delete thin 1 while the probe reads thin 3: the probe runs from a
	# little before the delete until it returns, then is stopped.
	need dmsetup remove "$P-t1"
	# Start the probe and make sure it is doing I/O (fio can take seconds to
	# start under TCG) before the delete; killed while starting it reports nothing.
	local stat reads0 i
	stat=/sys/block/dm-$(dmsetup info -c --noheadings -o minor "$P-t3" | tr -d ' ')/stat
	[ -r "$stat" ] || need false "no $stat"
	reads0=$(awk '{ print $1 }' "$stat")
	probe_start "$c" 300
	for ((i = 0; i < 600; i++)); do
		[ "$(awk '{ print $1 }' "$stat")" -le $((reads0 + 50)) ] || break
		sleep 0.1
	done
	sleep 1
	t0=$(now_us)
	if dmsetup message "$P-pool" 0 "delete 1"; then v=$(elapsed_ms "$t0"); else v=error; fi
	sleep 0.2
	# TERM, not INT: a background job of a script ignores SIGINT. fio stops
	# and writes its report either way.
	kill -TERM "$PROBE_PID" 2> /dev/null
	wait "$PROBE_PID"
	res delete_ms "$v"
	if v=$(python3 "$HERE/fio-metric.py" "$WORK/probe.json" read_p99_us read_max_ms 2>&1); then
		res delete_p99 "${v% *}"
		res delete_max "${v#* }"
	else
		note "$TGT: no probe result: $(echo $v $(tail -n 3 "$WORK/probe.err"))"
	fi
}

# ---- one group instance (run as a child, under a time limit) ---------------------

if [ "${1:-}" = --group ]; then
	GROUP=$2 TGT=$3 REP=$4
	case $TGT in
	kernel) P=k; export POOL_TARGET=thin-pool THIN_TARGET=thin ;;
	ours) P=o; export POOL_TARGET=ctpool THIN_TARGET=ctthin ;;
	raw) P=r ;;
	esac
	WORK=$(mktemp -d "/tmp/bench-$GROUP-$TGT.XXXXXX")
	# need() exits from anywhere: clean up on the way out.
	trap 'teardown || note "teardown of $TGT devices failed"; rm -rf "$WORK"' EXIT
	"g_$GROUP"
	exit 0
fi

# ---- main ------------------------------------------------------------------------

START=$(now_us)
REPS=3 QUICK=0 TARGETS="raw kernel ours" BGROUPS=$ALL_GROUPS SKIPFILE=""
for a; do
	case $a in
	reps=*) REPS=${a#*=} ;;
	quick=*) QUICK=${a#*=} ;;
	targets=*) TARGETS=${a#*=} ;;
	groups=*) [ -z "${a#*=}" ] || BGROUPS=${a#*=} ;;
	skipfile=*) SKIPFILE=${a#*=} ;;
	ko=*) KO=${a#*=} ;;
	*) echo "vm-bench: unknown argument $a" >&2; exit 2 ;;
	esac
done
if [ "$QUICK" = 1 ]; then
	SIZE=128M BIG=256M RT=3
else
	SIZE=512M BIG=2G RT=8
fi
PROBE=64M
read -r -a DISKS <<< "${VM_DISKS:-}"
[ ${#DISKS[@]} -ge 2 ] || { echo "vm-bench: needs 2 scratch disks" >&2; exit 2; }
META=${DISKS[0]} DATA=${DISKS[1]}
export SIZE BIG RT PROBE META DATA
WORK=$(mktemp -d /tmp/bench-main.XXXXXX)

for id in "${WL_IDS[@]}"; do
	d=${WL_DEF[$id]}
	d=${d//NMAP/$(( $(to_bytes "$BIG") / 65536 ))}
	d=${d//BIG/$BIG}
	out "${d//SIZE/$SIZE}"
done
out "meta kernel $(uname -r)"
out "meta fio $(fio --version)"
out "meta date $(date -u +%Y-%m-%dT%H:%M:%SZ)"
out "meta disks ${VM_DISK_OPTS:-unknown}"
out "meta guest $(nproc) vCPU, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB, TCG"
out "meta params reps=$REPS quick=$QUICK size=$SIZE big=$BIG runtime=${RT}s targets=$TARGETS"

declare -A BROKEN
modprobe crc32c_generic && modprobe libcrc32c || note "crc32c modules failed to load"
for t in $TARGETS; do
	case $t in
	kernel)
		modprobe dm-thin-pool || { note "dm-thin-pool failed to load"; BROKEN[kernel]="module did not load"; } ;;
	ours)
		if [ ! -f "$KO" ]; then
			BROKEN[ours]="$KO not built"
		else
			deps=$(modinfo -F depends "$KO" | tr , ' ')
			{ [ -z "$deps" ] || modprobe -a $deps; } && insmod "$KO" ||
				BROKEN[ours]="insmod $KO failed"
		fi
		[ -z "${BROKEN[ours]:-}" ] && out "meta ctpool target $(dmsetup targets | awk '$1 == "ctpool" { print $2 }'), dm-ctpool.ko of $(date -u -r "$KO" +%Y-%m-%dT%H:%MZ) md5 $(md5sum < "$KO" | cut -c1-12)"
		[ -z "${BROKEN[ours]:-}" ] || note "ours disabled: ${BROKEN[ours]}" ;;
	esac
done

# The scratch disks are sparse files on the host: the first write to any
# region costs the host an allocation. Write them once so that whoever runs
# first is not penalised. Not with zeros: with detect-zeroes=unmap (the
# harness's default, BENCH_DISKS=detect-zeroes) QEMU turns zero writes into
# hole punches. On plain disks (the default here) block zeroing is a
# WRITE_ZEROES request (a hole punch or a written range on the host, as the
# host decides) or written zeroes: what a real disk would do. Discards punch
# holes again during the run either way; both pool targets see that alike.
log "pre-writing the scratch disks ($(( $(blockdev --getsize64 "$META") >> 20 )) + $(( $(blockdev --getsize64 "$DATA") >> 20 )) MiB)"
fill "$META" "$DATA" 2> /dev/null || note "pre-write of the scratch disks failed"

# The harness runs this script under `timeout N` (guest-run.sh). Stop
# cleanly before N, between two groups, and let the host resume in a new guest
# (@@BENCH pause). Estimates: the longest instance of each group seen so far.
BUDGET_END=""
if [ "$(cat /proc/$PPID/comm 2> /dev/null)" = timeout ]; then
	# "timeout [OPTION...] DURATION bash SCRIPT...": the number before "bash".
	lim=$(tr '\0' '\n' < /proc/$PPID/cmdline |
		awk '/^[0-9]+$/ { n = $0 } $0 == "bash" { print n; exit }')
	[ -z "$lim" ] || BUDGET_END=$(( START / 1000000 + lim - 45 ))
	[ -z "$lim" ] || log "time limit of this guest: ${lim}s"
fi
declare -A EST
est_default() {
	case $1 in
	big) echo $(( QUICK == 1 ? 90 : 240 )) ;;
	*) echo $(( QUICK == 1 ? 45 : 100 )) ;;
	esac
}
ran=0

declare -A SKIP
if [ -n "$SKIPFILE" ] && [ -f "$SKIPFILE" ]; then
	while read -r g t r; do SKIP["$g $t $r"]=1; done < "$SKIPFILE"
fi

DONE_FILE=$(mktemp /tmp/bench-done.XXXXXX)
export DONE_FILE
read -r -a tlist <<< "$TARGETS"
nt=${#tlist[@]}
for g in $BGROUPS; do
	# Generous limit: a group that takes this long is stuck.
	case $g in big) limit=$(( QUICK == 1 ? 600 : 1200 )) ;; *) limit=$(( QUICK == 1 ? 300 : 600 )) ;; esac
	for ((rep = 1; rep <= REPS; rep++)); do
		for ((k = 0; k < nt; k++)); do
			# Reverse the order every other repetition (K O, O K, ...):
			# with an even number of repetitions every target runs first
			# and last equally often, so no row depends on the order.
			if [ $((rep % 2)) -eq 1 ]; then
				t=${tlist[$k]}
			else
				t=${tlist[$((nt - 1 - k))]}
			fi
			[ -z "${SKIP["$g $t $rep"]:-}" ] || continue
			cells=$(group_cells "$g" "$t")
			[ -n "$cells" ] || continue
			if [ -n "${BROKEN[$t]:-}" ]; then
				for c in $cells; do out "result $c $t $rep error"; done
				continue
			fi
			glimit=$limit
			if [ -n "$BUDGET_END" ]; then
				now=$(( $(now_us) / 1000000 ))
				if [ $ran -gt 0 ] && [ $(( now + ${EST[$g]:-$(est_default "$g")} )) -gt "$BUDGET_END" ]; then
					log "out of time in this guest: pausing before $g $t $rep"
					out pause
					exit 0
				fi
				[ $(( BUDGET_END + 30 - now )) -ge "$glimit" ] || glimit=$(( BUDGET_END + 30 - now ))
			fi
			out "begin $g $t $rep"
			: > "$DONE_FILE"
			t0=$(now_us)
			timeout -k 15 "$glimit" bash "$SELF" --group "$g" "$t" "$rep"
			rc=$?
			ran=$((ran + 1))
			d=$(( ($(now_us) - t0) / 1000000 + 5 ))
			[ "$d" -le "${EST[$g]:-0}" ] || EST[$g]=$d
			for c in $cells; do
				grep -qx "$c" "$DONE_FILE" || out "result $c $t $rep error"
			done
			if { [ $rc -eq 124 ] || [ $rc -eq 137 ]; } && [ "$glimit" -lt "$limit" ]; then
				note "group $g on $t (rep $rep) ran out of this guest's time (${glimit}s)"
			elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
				BROKEN[$t]="group $g hung (rep $rep, killed after ${limit}s)"
				note "$t disabled: ${BROKEN[$t]}"
			elif [ $rc -ne 0 ]; then
				note "group $g on $t (rep $rep) exited with status $rc"
			fi
			out "finish $g $t $rep"
		done
	done
done
for t in "${!BROKEN[@]}"; do note "$t: ${BROKEN[$t]}"; done
out end
