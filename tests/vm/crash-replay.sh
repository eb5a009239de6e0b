#!/bin/bash
# Crash consistency by log replay. The pool's metadata and data devices are
# slices of one dm-log-writes device (so the log has one total order of every
# write, flush and FUA); a workload of provisioning, snapshots, COW breaks,
# discards, deletes and fsyncs runs on it, then tests/stress/crashsim.py replays
# the log onto a scratch copy up to every FLUSH/FUA entry, every mark and some
# random entries, and at each point: thin_check is clean, the pool activates
# read-write, and every write acknowledged before the last completed flush
# reads back intact (nothing older, nothing foreign).
#
# usage (in the VM): crash-replay.sh [kernel|ctpool] [OPS] [RANDOM] [SEED]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
OPS=${2:-24} RANDOM_POINTS=${3:-6} SEED=${4:-$((RANDOM))}
export CRASHSIM_VERBOSE=${5:-}
need_disks 2
# The smallest batches: a discard of more than one block goes back to the
# worker's queue after each block, and a delete releases one tree node per
# hold of the metadata lock, so the log (and the crash points) run through
# those paths, not only through whole-bio discards and one-step deletes.
rel_load discard_batch_blocks=1 delete_batch_nodes=1
if [ "$REL_TARGETS" = ctpool ]; then
	assert_eq "smallest discard and delete batches" "1 1" \
		"$(cat /sys/module/dm_ctpool/parameters/{discard_batch_blocks,delete_batch_nodes} | xargs)"
fi
note "seed $SEED, $OPS operations"

META=4M DATA=64M
meta_s=$(_sectors $META) data_s=$(_sectors $DATA)
tot_s=$((meta_s + data_s))

must carve cs-base "${DISKS[0]}" 0 $tot_s
must carve cs-replay "${DISKS[0]}" 128M $tot_s
must carve cs-meta "${DISKS[0]}" 256M $META
must carve cs-log "${DISKS[1]}" 0 512M
# The replay starts from the state the log started from: all zeroes.
must zero_dev /dev/mapper/cs-base 68
must zero_dev /dev/mapper/cs-replay 68
must zero_dev /dev/mapper/cs-log 1
must dmsetup create cs-lw --table "0 $tot_s log-writes /dev/mapper/cs-base /dev/mapper/cs-log"
must carve cs-lmeta /dev/mapper/cs-lw 0 $meta_s
must carve cs-ldata /dev/mapper/cs-lw $meta_s $data_s

must thinctl pool-create cs-live /dev/mapper/cs-lmeta /dev/mapper/cs-ldata 128 0
t0=$(date +%s)
check "workload on the logged pool" $PY "$CRASHSIM" workload --pool cs-live \
	--lw cs-lw --journal journal.json --seed "$SEED" --ops "$OPS"
check "live pool removes cleanly" dmsetup remove cs-live
remove_dm cs-lmeta cs-ldata
check "log-writes device removes" dmsetup remove cs-lw
note "workload took $(( $(date +%s) - t0 ))s; log status written"
check "live metadata passes thin_check" thin_check -q /dev/mapper/cs-base

t0=$(date +%s)
out=$(CRASHSIM_VERBOSE=${CRASHSIM_VERBOSE:-} $PY "$CRASHSIM" check --log /dev/mapper/cs-log --replay /dev/mapper/cs-replay \
	--meta-copy /dev/mapper/cs-meta --meta-sectors $meta_s --data-sectors $data_s \
	--journal journal.json --random "$RANDOM_POINTS" --seed "$SEED" \
	--final /dev/mapper/cs-base 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
note "replay check took $(( $(date +%s) - t0 ))s"
assert_eq "every crash point consistent (and full replay = live device)" 0 "$rc"
assert_match "crash points were checked" 'distinct states checked [1-9]' "$out"

# The checker must be able to fail: a forged journal must be caught.
must zero_dev /dev/mapper/cs-replay 68
tout=$($PY "$CRASHSIM" check --log /dev/mapper/cs-log --replay /dev/mapper/cs-replay \
	--meta-copy /dev/mapper/cs-meta --meta-sectors $meta_s --data-sectors $data_s \
	--journal journal.json --tamper 2>&1) && rc=0 || rc=$?
printf '%s\n' "$tout" | sed 's/^/# /'
assert_eq "checker catches a forged journal (self-test)" 0 "$rc"
