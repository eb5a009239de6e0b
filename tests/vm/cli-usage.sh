#!/bin/bash
# vm-options: --disk 64M --disk 512M
# ctpool list --usage: each volume's mapped, exclusive and shared space, read
# from a metadata snapshot of the live pool. Checked against the numbers the
# writes below must give, and against thin_ls on a metadata snapshot of the
# same pool; the snapshot is released (also when a signal comes while it is
# held), someone else's is neither used nor released, a read-only pool is
# refused, and I/O goes on meanwhile.
. "$(dirname "$0")/cli-lib.bash"
load_targets

M=$T_WORK/meta.img D=$T_WORK/data.img
ctpool pool create tp --metadata "$M" --data "$D" --size 128M --block-size 64k
MDEV=$(losetup -j "$M" | cut -d: -f1)
[ -b "$MDEV" ] || fail "no loop device for $M"

# wr DEV FIRST COUNT: random data into 64 KiB blocks FIRST.. of DEV
wr() { dd if=/dev/urandom of="$1" bs=64k seek="$2" count="$3" oflag=direct conv=notrunc status=none; }

# vol1 maps blocks 0-63; snap1 rewrites 0-15; snap2 (of snap1) rewrites
# 32-39; vol2 is on its own. So, mapped exclusive shared:
#   vol1   64 16 48   (0-15 its own since snap1 rewrote them)
#   snap1  64  0 64   (0-15 with snap2, 32-39 with vol1, the rest 3-way)
#   snap2  64  8 56   (32-39 its own)
#   vol2   16 16  0
ctpool create vol1 --size 16M
v1=$(ctpool activate vol1)
wr "$v1" 0 64
ctpool snapshot vol1 snap1
s1=$(ctpool activate snap1)
wr "$s1" 0 16
ctpool snapshot snap1 snap2
s2=$(ctpool activate snap2)
wr "$s2" 32 8
ctpool deactivate snap1		# inactive volumes are counted as well
ctpool create vol2 --size 8M
v2=$(ctpool activate vol2)
wr "$v2" 0 16
sync

expect_eq "no metadata snapshot held before" "$(pool_field held_root)" null
J=$(ctpool list --usage --json)
usage_of() { echo "$J" | jsel "$1" | { r=$(cat); for f in mapped_blocks exclusive_blocks shared_blocks; do printf '%s ' "$(echo "$r" | jget $f)"; done; }; }
expect_eq "vol1: mapped exclusive shared" "$(usage_of vol1)" "64 16 48 "
expect_eq "snap1 (inactive): mapped exclusive shared" "$(usage_of snap1)" "64 0 64 "
expect_eq "snap2: mapped exclusive shared" "$(usage_of snap2)" "64 8 56 "
expect_eq "vol2: mapped exclusive shared" "$(usage_of vol2)" "16 16 0 "
expect_eq "bytes are blocks of 64 KiB" "$(echo "$J" | jsel snap2 | jget exclusive_bytes)" $((8 * 65536))
expect_eq "metadata snapshot released" "$(pool_field held_root)" null
ctpool list --usage | grep -Eq "^snap2 .* 4\.0MiB +512\.0KiB +3\.5MiB " || fail "table: $(ctpool list --usage)"
ok "the table shows exclusive and shared sizes"
expect_eq "plain list keeps its mapped count" "$(vol_field vol1 mapped_blocks)" 64
expect_eq "plain list has no usage fields" "$(vol_field vol1 exclusive_blocks)" ""

# thin_ls on a snapshot of the same pool, taken by someone else
dmsetup message tp 0 reserve_metadata_snap
held=$(pool_field held_root)
thin_ls -m --no-headers -o DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS "$MDEV" |
	awk '{ $1 = $1; print }' > "$T_WORK/ref"
[ "$(wc -l < "$T_WORK/ref")" = 4 ] || fail "thin_ls: $(cat "$T_WORK/ref")"
expect_status 1 "a snapshot someone else holds is refused" -- \
	bash -c "'$CTPOOL' list --usage > /dev/null 2> '$T_WORK/err'"
grep -q "already holds a metadata snapshot" "$T_WORK/err" || fail "refusal says: $(cat "$T_WORK/err")"
ok "the refusal says why"
expect_eq "someone else's snapshot is left alone" "$(pool_field held_root)" "$held"
dmsetup message tp 0 release_metadata_snap

J=$(ctpool list --usage --json)
for v in vol1 snap1 snap2 vol2; do
	r=$(echo "$J" | jsel $v)
	echo "$(echo "$r" | jget dev_id) $(echo "$r" | jget mapped_blocks) $(echo "$r" | jget exclusive_blocks) $(echo "$r" | jget shared_blocks)"
done | sort -n > "$T_WORK/ours"
diff "$T_WORK/ref" "$T_WORK/ours" || fail "ctpool list --usage differs from thin_ls -m"
ok "ctpool list --usage = thin_ls --metadata-snap, device by device"

# a signal while the snapshot is held ends the process only after release
st=0
CTPOOL_SIGNAL_AT=usage-snapshot-held "$CTPOOL" list --usage > /dev/null 2>&1 || st=$?
expect_eq "SIGTERM inside the window ends ctpool" "$st" 143
expect_eq "but only after the snapshot was released" "$(pool_field held_root)" null

# I/O on the pool goes on while usage is read
dd if=/dev/urandom of="$T_WORK/pat" bs=64k count=64 status=none
touch "$T_WORK/go"
(
	n=0
	while [ -e "$T_WORK/go" ] || [ $n -lt 2 ]; do
		dd if="$T_WORK/pat" of="$v2" bs=64k seek=16 oflag=direct conv=notrunc,fsync status=none || exit 1
		n=$((n + 1))
	done
	echo $n > "$T_WORK/passes"
) &
writer=$!
for i in 1 2 3; do
	ctpool list --usage --json > "$T_WORK/during.$i" || fail "list --usage $i failed during writes"
done
rm -f "$T_WORK/go"
wait $writer || fail "writes to vol2 failed while usage was read"
ok "writes went on ($(cat "$T_WORK/passes") passes of 4 MiB) during 3 usage reads"
cmp -n $((64 * 65536)) <(dd if="$v2" bs=64k skip=16 count=64 status=none) "$T_WORK/pat" ||
	fail "vol2 does not hold what was written"
ok "vol2 holds what was written"
expect_eq "vol2 after the writes" "$(ctpool list --usage --json | jsel vol2 | jget exclusive_blocks)" 80
expect_eq "no snapshot left held" "$(pool_field held_root)" null

# a read-only pool takes no metadata snapshot: refused with a reason
tbl=$(dmsetup table tp)
ro=$(echo "$tbl" | awk '{ $8 = $8 + 1; print $0 " read_only" }')
dmsetup reload tp --table "$ro"
dmsetup suspend tp
dmsetup resume tp
expect_eq "pool is read-only" "$(pool_field mode)" ro
expect_status 1 "a read-only pool is refused" -- \
	bash -c "'$CTPOOL' list --usage > /dev/null 2> '$T_WORK/err'"
grep -q "ro mode" "$T_WORK/err" || fail "refusal says: $(cat "$T_WORK/err")"
ok "the refusal says why"
dmsetup reload tp --table "$tbl"
dmsetup suspend tp
dmsetup resume tp
expect_eq "read-write again" "$(pool_field mode)" rw
expect_eq "usage again" "$(ctpool list --usage --json | jsel vol1 | jget exclusive_blocks)" 16

for v in vol1 snap2 vol2; do ctpool deactivate $v; done
for v in snap2 snap1 vol1 vol2; do ctpool delete $v; done
ctpool pool remove tp
