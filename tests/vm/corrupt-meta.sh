#!/bin/bash
# Corrupted metadata in the kernel: scripts/corrupt-meta.py damages a valid
# image (from thin_restore, and from ctpool meta restore) in one of ~20 ways
# (bit flips, bad checksums, cycles, out-of-range pointers, wrong counts, bad
# superblock fields...), and tests/stress/corrupt-probe.py opens each with the
# pool target: the table is refused with a reason and the image is left
# unchanged, or the pool comes up (read-only/needs_check where the damage
# demands it) and survives use; never an oops, a WARNING, a hang.
#
# usage (in the VM): corrupt-meta.sh [kernel|ctpool] [COUNT] [SEED] [VERBOSE] [SKIP_MSGS] [BUDGET_SECONDS]
. "$(dirname "$0")/lib.bash"
. "$ROOT/tests/stress/rel-lib.bash"
REL_TARGETS=${1:-$REL_TARGETS}
COUNT=${2:-250} SEED=${3:-$((RANDOM))} BUDGET=${6:-100}
# The kernel's own dm-thin is not robust to all of this: it BUG()s on
# reserve_metadata_snap when the mapping root points at the superblock, and
# deadlocks on a btree node that is its own child. Its reference run skips
# that message and that damage (arg 5 overrides; "-": skip nothing).
skip=; skipk=
[ "$REL_TARGETS" = kernel ] && skip=reserve_metadata_snap skipk=ptr-cycle
[ "${5:-}" = - ] && skip= skipk=
export CORRUPT_VERBOSE=${4:-} CORRUPT_SKIP_MSGS=$skip CORRUPT_SKIP_KINDS=$skipk
need_disks 1
rel_load
note "seed $SEED, $COUNT images"

must carve cp-meta "${DISKS[0]}" 0 1M
must carve cp-data "${DISKS[0]}" 16M 64M
$PY "$ROOT/scripts/corrupt-meta.py" base-xml > base.xml
# (thin_restore wants O_DIRECT, which the guest's tmpfs lacks: restore onto
# the metadata device and copy.)
must thin_restore -i base.xml -o /dev/mapper/cp-meta
must dd if=/dev/mapper/cp-meta of=base-tr.img bs=1M count=1 status=none
bases=(--base base-tr.img)
if [ -x "$ROOT/build/ctpool" ]; then
	zero_dev /dev/mapper/cp-meta
	if "$ROOT/build/ctpool" meta restore -i base.xml -o /dev/mapper/cp-meta >/dev/null &&
		thin_check -q /dev/mapper/cp-meta; then
		must dd if=/dev/mapper/cp-meta of=base-ct.img bs=1M count=1 status=none
		bases+=(--base base-ct.img)
	else
		fail "ctpool meta restore of the base pool gives clean metadata"
	fi
fi

$PY "$REL/corrupt-probe.py" --meta /dev/mapper/cp-meta --data /dev/mapper/cp-data \
	"${bases[@]}" --count "$COUNT" --seed "$SEED" --budget "$BUDGET" 2>&1 | sed -u 's/^/# /' | tee probe.out &&
	rc=0 || rc=$?
out=$(cat probe.out)
# The probe's FAIL lines scroll out of the runner's excerpt: repeat them, with
# the seed that reproduces them, next to the verdict.
[ "$rc" = 0 ] || grep '^# FAIL' probe.out | head -n 5 | sed 's/^# /# again: /'
assert_eq "every damaged image refused cleanly or survived (seed $SEED: corrupt-meta.sh $REL_TARGETS $COUNT $SEED)" 0 "$rc"
assert_match "some images were refused" 'refused [1-9]' "$out"
assert_match "some images opened" '(rw|ro) [1-9]' "$out"
if rel_dmesg_bad; then fail "kernel log shows a problem"; else pass "kernel log clean"; fi
