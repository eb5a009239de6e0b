#!/bin/bash
# vm-options: --disk 64M --disk 512M
# Crash safety: ctpool killed at each step of a create or delete
# (CTPOOL_CRASH_AT=<point> makes it _exit(99) there, like a kill -9) and the
# next command, whatever it is, repairs the state: no leaked thin device, no
# record without a device, pool and store agree on the transaction id.
# Also: gc removes devices created behind ctpool's back.
. "$(dirname "$0")/cli-lib.bash"
load_targets

# pool on two scratch disks (block devices, no loops)
read -r MDEV DDEV _ <<< "${VM_DISKS:-/dev/vda /dev/vdb}"
ctpool pool create tp --metadata "$MDEV" --data "$DDEV" --block-size 64k --wipe  # scratch disks: earlier tests may have left a pool

# ids of thin devices in the pool, from the kernel's metadata (not our store)
pool_ids() {
	dmsetup message tp 0 reserve_metadata_snap
	thin_ls --metadata-snap --no-headers -o DEV "$MDEV" | tr -d ' ' | sort -n | tr '\n' ' '
	dmsetup message tp 0 release_metadata_snap
}
store_txid() { sed -n 's/^txid=//p' "$CTPOOL_STATE_DIR/pools/tp.conf"; }

ctpool create base --size 16M
expect_eq "one device" "$(pool_ids)" "1 "

# --- create interrupted before the commit point: rolled back
for point in after-txn-record after-message after-record; do
	expect_status 99 "create killed at $point" -- env CTPOOL_CRASH_AT=$point "$CTPOOL" create v-$point --size 8M
	ctpool list >/dev/null   # any command recovers
	expect_eq "$point: no record left" "$(ctpool list --json | jsel "v-$point" | wc -l)" 0
	expect_eq "$point: no device left in the pool" "$(pool_ids)" "1 "
	expect_eq "$point: store and pool agree on the transaction id" "$(store_txid)" "$(pool_field transaction_id)"
	[ ! -e "$CTPOOL_STATE_DIR/pools/tp.txn" ] || fail "$point: open transaction left"
	ok "$point: open transaction closed"
done

# --- create interrupted after set_transaction_id: rolled forward
expect_status 99 "create killed after the commit" -- env CTPOOL_CRASH_AT=after-commit "$CTPOOL" create late --size 8M
ctpool list >/dev/null
expect_eq "committed create kept" "$(vol_field late dev_id)" "$(pool_ids | awk '{print $2}')"
expect_eq "store txid caught up" "$(store_txid)" "$(pool_field transaction_id)"
dev=$(ctpool activate late)
echo hello | dd of="$dev" bs=4k conv=sync oflag=direct status=none
ok "rolled-forward volume is usable"
ctpool deactivate late

# --- snapshot interrupted after the message: rolled back, origin resumed
bdev=$(ctpool activate base)
expect_status 99 "snapshot killed after create_snap" -- env CTPOOL_CRASH_AT=after-message "$CTPOOL" snapshot base s1
expect_eq "origin not left suspended" "$(dmsetup info -c --noheadings -o suspended tp-base)" Active
ctpool list >/dev/null
expect_eq "snapshot rolled back" "$(pool_ids)" "1 $(vol_field late dev_id) "

# --- delete interrupted after the delete message: rolled forward
ctpool deactivate base
expect_status 99 "delete killed after the message" -- env CTPOOL_CRASH_AT=after-message "$CTPOOL" delete late
ctpool list >/dev/null
expect_eq "deletion completed" "$(ctpool list --json | jsel "late" | wc -l)" 0
expect_eq "device gone" "$(pool_ids)" "1 "
expect_eq "store and pool agree" "$(store_txid)" "$(pool_field transaction_id)"

# --- delete interrupted before the message: completed on recovery too
expect_status 99 "delete killed after the intent record" -- env CTPOOL_CRASH_AT=after-txn-record "$CTPOOL" delete base
ctpool list >/dev/null
expect_eq "interrupted delete finished" "$(pool_ids)" ""
expect_eq "record dropped" "$(ctpool list --json)" "[]"

# --- devices nobody owns (another tool, or a lost store): gc removes them
ctpool create keep --size 8M
dmsetup message tp 0 "create_thin 500"
dmsetup message tp 0 "create_thin 501"
expect_eq "dry run finds the orphans" "$(ctpool gc --dry-run 2>&1 | grep -c 'would delete')" 2
ctpool gc
expect_eq "gc removed only the orphans" "$(pool_ids)" "$(vol_field keep dev_id) "
expect_eq "gc kept the store in step" "$(store_txid)" "$(pool_field transaction_id)"

# --- an id taken behind our back is skipped at create
next=$(sed -n 's/^next_id=//p' "$CTPOOL_STATE_DIR/pools/tp.conf")
dmsetup message tp 0 "create_thin $next"
ctpool create after-orphan --size 8M
[ "$(vol_field after-orphan dev_id)" != "$next" ] || fail "reused an id that exists in the pool"
ok "create skipped an id that already exists in the pool"
ctpool gc

# --- the pool changed its transaction id behind our back: warned, adopted
dmsetup message tp 0 "set_transaction_id $(pool_field transaction_id) 1000"
out=$(ctpool list 2>&1 >/dev/null)
echo "$out" | grep -q "changed outside ctpool" || fail "no warning about a foreign transaction id"
ok "foreign transaction id reported"
ctpool create after-foreign --size 8M
expect_eq "transactions continue from the pool's id" "$(pool_field transaction_id)" 1001

# after all these crashes the pool's metadata is consistent
ctpool pool deactivate tp
thin_check -q "$MDEV" || fail "thin_check finds the metadata inconsistent after the crashes"
ok "thin_check passes after every crash and recovery"

# the disk now holds a pool: a new pool on it needs --wipe (or --reuse)
ctpool pool remove tp --force
expect_status 1 "a disk holding a pool is not reformatted silently" -- ctpool pool create tp --metadata "$MDEV" --data "$DDEV"
