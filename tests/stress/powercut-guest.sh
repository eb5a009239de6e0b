#!/bin/bash
# Guest side of tests/stress/powercut.sh, one boot: check the pool as the
# last power cut left it, then run a write-heavy workload until the power is
# cut again (sysrq b at a random moment).
# usage: powercut-guest.sh CTL ITERATION kernel|ctpool SEED MAX_DELAY [last]
# ("last": check only, then power off)
set -u
CTL=$1 IT=$2 TARGETS=$3 SEED=$4 MAXD=${5:-12} LAST=${6:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export DM_DISABLE_UDEV=1
STATE=$CTL/state
LOG=$CTL/iter-$IT.log
mkdir -p "$STATE"
exec >> "$LOG" 2>&1
echo "=== boot $IT ($TARGETS, seed $SEED)"
modprobe crc32c_generic && modprobe libcrc32c
if [ "$TARGETS" = kernel ]; then
	export POOL_TARGET=thin-pool THIN_TARGET=thin
	modprobe dm-thin-pool
else
	export POOL_TARGET=ctpool THIN_TARGET=ctthin
	deps=$(modinfo -F depends "$ROOT/dm-ctpool.ko" | tr , ' ')
	[ -z "$deps" ] || modprobe -a $deps
	# The smallest batches, so that a cut can land between the steps of a
	# delete or of a discard that went back to the worker's queue.
	insmod "$ROOT/dm-ctpool.ko" discard_batch_blocks=1 delete_batch_nodes=1
fi
result() { echo "$1" > "$CTL/iter-$IT.result"; sync; }
# verdict MSG: the check failed; report and power off (sysrq o returns at
# once, so wait for it: nothing after this may overwrite the result).
verdict() { result "FAIL $1"; echo o > /proc/sysrq-trigger; sleep 600; exit 1; }
sectors() { echo $(( $1 * 2048 )); }
dmsetup create pc-meta --table "0 $(sectors 16) linear /dev/vda 0"
dmsetup create pc-data --table "0 $(sectors 256) linear /dev/vda $(sectors 32)"
table="0 $(sectors 256) $POOL_TARGET /dev/mapper/pc-meta /dev/mapper/pc-data 128 0 0"
if [ "$IT" -eq 1 ]; then
	dd if=/dev/zero of=/dev/mapper/pc-meta bs=4096 count=1 oflag=direct status=none
	rm -f "$STATE"/*
else
	if ! out=$(thin_check /dev/mapper/pc-meta 2>&1); then
		verdict "thin_check after the power cut: $(echo "$out" | tail -3 | tr '\n' ' ')"
	fi
fi
if ! dmsetup create pc-pool --table "$table"; then
	verdict "the pool does not activate after the power cut"
fi
st=$(dmsetup status pc-pool)
echo "pool: $st"
case $st in
*" rw "*" - "[0-9]*) ;;
*) verdict "pool status after the power cut: $st" ;;
esac
if ! v=$(/usr/bin/python3 "$ROOT/tests/stress/powercut.py" verify --state "$STATE" --pool pc-pool); then
	verdict "verify: $v"
fi
if dmesg | grep -Eq '(^|[^[:alnum:]_])(BUG|WARNING)([^[:alnum:]_]|$)|Oops|Call Trace|blocked for more than'; then
	verdict "kernel log: $(dmesg | grep -E -m3 'BUG|WARNING|Oops|blocked' | tr '\n' ' ')"
fi
result "OK $v"
if [ "$LAST" = last ]; then
	echo o > /proc/sysrq-trigger
	sleep 600
fi
# The cut comes at a random moment of the workload.
delay=$(( (RANDOM % (MAXD * 10)) + 20 ))
# (counted from when the workload has its devices open: python starts slowly)
rm -f /tmp/pc-started
(
	for _ in $(seq 600); do [ -e /tmp/pc-started ] && break; sleep 0.1; done
	sleep "$(( delay / 10 )).$(( delay % 10 ))"
	echo b > /proc/sysrq-trigger
) &
/usr/bin/python3 "$ROOT/tests/stress/powercut.py" run --state "$STATE" --pool pc-pool --seed "$SEED$IT"
# It runs until the cut: getting here means it failed (an I/O error...).
verdict "the workload stopped before the power cut (status $?; see iter-$IT.log)"
