#!/bin/sh
# `ctpool meta usage` against thin_ls 0.9.0, field by field (device, mapped,
# exclusive and shared blocks and bytes, transaction, creation and snapshot
# times), in its table and in its JSON:
#   - metadata with sharing built by hand, whose numbers are also known
#     (snapshots of snapshots with partial overwrites, data blocks mapped
#     by three devices, so held in the space map's ref count tree, a block
#     mapped twice by one device, an empty device);
#   - random XML (meta-gen-xml.py: hot blocks shared by many devices),
#     restored by thin_restore and by ctpool meta restore;
#   - random metadata written by the library (thin-gen) with a held
#     metadata snapshot: --metadata-snap against thin_ls --metadata-snap,
#     and --metadata-snap=BLOCK;
#   - damaged metadata is refused, as thin_ls refuses it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_ls thin_restore python3 "$CTPOOL" "$THIN_GEN"

FIELDS=DEV,MAPPED_BLOCKS,EXCLUSIVE_BLOCKS,SHARED_BLOCKS,MAPPED_BYTES,EXCLUSIVE_BYTES,SHARED_BYTES,TRANSACTION,CREATE_TIME,SNAP_TIME

# reference IMG [-m]: thin_ls's rows, one space between fields.
reference() {
	img=$1
	shift
	thin_ls "$@" --no-headers -o "$FIELDS" "$img" | awk '{ $1 = $1; print }'
}

# ours IMG [--metadata-snap[=B]]: our table's rows, the same way.
ours() {
	img=$1
	shift
	"$CTPOOL" meta usage "$@" "$img" | awk 'NR > 1 { $1 = $1; print }'
}

# ours_json IMG [...]: our JSON, as rows in the same order.
ours_json() {
	img=$1
	shift
	"$CTPOOL" meta usage --json "$@" "$img" | python3 -c '
import json, sys
u = json.load(sys.stdin)
keys = ("dev_id mapped_blocks exclusive_blocks shared_blocks mapped_bytes "
        "exclusive_bytes shared_bytes transaction creation_time snap_time").split()
for d in u["devices"]:
    print(" ".join(str(d[k]) for k in keys))
for d in u["devices"]:
    assert d["mapped_bytes"] == d["mapped_blocks"] * u["data_block_size"]
'
}

# same_as_thin_ls WHAT FILE: FILE holds what thin_ls printed ($T/ref) for
# $img; else the case fails with the first lines of the difference.
same_as_thin_ls() {
	cmp -s "$T/ref" "$2" && return 0
	fail "$1 differs from thin_ls: $(diff "$T/ref" "$2" | head -n 4 | tr '\n' '|')" "$img"
	return 1
}

# same IMG WHAT [thin_ls options] -- [our options]: table and JSON agree
# with thin_ls; the case fails otherwise.
same() {
	img=$1 what=$2
	shift 2
	ref_opts=
	while [ "$1" != -- ]; do
		ref_opts="$ref_opts $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	if ! reference "$img" $ref_opts > "$T/ref" 2> "$T/ref.err"; then
		fail "$what: thin_ls failed: $(head -n 2 "$T/ref.err")" "$img"
		return 1
	fi
	if ! ours "$img" "$@" > "$T/ours" 2> "$T/ours.err"; then
		fail "$what: ctpool meta usage failed: $(head -n 2 "$T/ours.err")" "$img"
		return 1
	fi
	same_as_thin_ls "$what: table" "$T/ours" || return 1
	if ! ours_json "$img" "$@" > "$T/json" 2> "$T/json.err"; then
		fail "$what: JSON unreadable: $(tail -n 1 "$T/json.err")" "$img"
		return 1
	fi
	same_as_thin_ls "$what: JSON" "$T/json" || return 1
	if [ -s "$T/ours.err" ]; then
		fail "$what: warnings: $(head -n 2 "$T/ours.err")" "$img"
		return 1
	fi
}

# Device 1 maps data 0-9; 2 is a snapshot of 1 that rewrote 0-2 (data
# 20-22); 3 a snapshot of 2 that rewrote 5 (data 30); 4 maps 40-44 and 44
# a second time; 5 is empty. Data 3-4 and 6-9 are mapped by three devices.
hand_xml() {
	cat << 'EOF'
<superblock uuid="" time="3" transaction="7" flags="0" version="2" data_block_size="128" nr_data_blocks="100">
  <device dev_id="1" mapped_blocks="10" transaction="1" creation_time="0" snap_time="2">
    <range_mapping origin_begin="0" data_begin="0" length="10" time="0"/>
  </device>
  <device dev_id="2" mapped_blocks="10" transaction="2" creation_time="1" snap_time="2">
    <range_mapping origin_begin="0" data_begin="20" length="3" time="1"/>
    <range_mapping origin_begin="3" data_begin="3" length="7" time="0"/>
  </device>
  <device dev_id="3" mapped_blocks="10" transaction="3" creation_time="2" snap_time="2">
    <range_mapping origin_begin="0" data_begin="20" length="3" time="1"/>
    <range_mapping origin_begin="3" data_begin="3" length="2" time="0"/>
    <single_mapping origin_block="5" data_block="30" time="2"/>
    <range_mapping origin_begin="6" data_begin="6" length="4" time="0"/>
  </device>
  <device dev_id="4" mapped_blocks="6" transaction="4" creation_time="3" snap_time="3">
    <range_mapping origin_begin="0" data_begin="40" length="5" time="3"/>
    <single_mapping origin_block="10" data_block="44" time="3"/>
  </device>
  <device dev_id="5" mapped_blocks="0" transaction="5" creation_time="3" snap_time="3">
  </device>
</superblock>
EOF
}

# What the hand-made metadata holds, worked out on paper:
# dev mapped exclusive shared (blocks of 64 KiB).
hand_expected() {
	cat << 'EOF'
1 10 3 7
2 10 0 10
3 10 1 9
4 6 4 2
5 0 0 0
EOF
}

# restore_by TOOL XML IMG: XML into IMG by thin_restore or by ctpool.
restore_by() {
	if [ "$1" = thin_restore ]; then
		thin_restore -q -i "$2" -o "$3"
	else
		"$CTPOOL" meta restore -i "$2" -o "$3"
	fi
}

hand_case() {
	tool=$1
	img=$T/hand.img
	hand_xml > "$T/hand.xml"
	blank "$img" 4
	runs_ok "$tool" -- restore_by "$tool" "$T/hand.xml" "$img" || return
	same "$img" "hand-made, $tool" -- || return
	hand_expected > "$T/expected"
	ours "$img" | awk '{ print $1, $2, $3, $4 }' > "$T/got"
	if ! cmp -s "$T/expected" "$T/got"; then
		fail "hand-made, $tool: not the known numbers: $(diff "$T/expected" "$T/got" | tr '\n' '|')" "$img"
		return
	fi
	pass
}

random_case() {
	seed=$1 size=$2 mb=$3
	img=$T/x-$seed.img
	python3 "$ROOT/tests/oracle/meta-gen-xml.py" "$seed" "$size" > "$T/x.xml"
	for tool in thin_restore ctpool; do
		blank "$img" "$mb"
		runs_ok "seed $seed: $tool" -- restore_by "$tool" "$T/x.xml" "$img" || return
		same "$img" "seed $seed, $tool" -- || return
	done
	rm -f "$img"
	pass
}

# Library-written metadata; with a held snapshot, it is compared too.
library_case() {
	seed=$1
	img=$T/lib-$seed.img
	blank "$img" 16
	if ! snap=$("$THIN_GEN" "$img" "$seed" small 2> "$T/gen.err"); then
		fail "thin-gen $seed: $(tail -n 1 "$T/gen.err")"
		return
	fi
	same "$img" "library $seed" -- || return
	if [ "$snap" = snap ]; then
		same "$img" "library $seed, --metadata-snap" -m -- --metadata-snap || return
		held=$(python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    print(struct.unpack_from("<Q", f.read(64), 56)[0])' "$img")
		same "$img" "library $seed, --metadata-snap=$held" -m -- "--metadata-snap=$held" || return
		echo snap > "$T/../snap-$seed"
	fi
	rm -f "$img"
	pass
}

# A mapping tree with a bad checksum: thin_ls and we both refuse.
damaged_case() {
	img=$T/bad.img
	hand_xml > "$T/hand.xml"
	blank "$img" 4
	thin_restore -q -i "$T/hand.xml" -o "$img" || { fail "thin_restore"; return; }
	# the superblock's mapping root (offset 320): one byte of it flipped
	root=$(python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    print(struct.unpack_from("<Q", f.read(4096), 320)[0])' "$img")
	printf '\377' | dd of="$img" bs=1 seek=$((root * 4096 + 100)) conv=notrunc status=none
	if thin_ls -o "$FIELDS" "$img" > /dev/null 2>&1; then
		fail "damaged: thin_ls accepts it: the case tests nothing" "$img"
		return
	fi
	if "$CTPOOL" meta usage "$img" > "$T/out" 2> "$T/err"; then
		fail "damaged: accepted: $(head -n 2 "$T/out")" "$img"
		return
	fi
	if ! grep -q "checksum" "$T/err"; then
		fail "damaged: no reason given: $(head -n 2 "$T/err")" "$img"
		return
	fi
	pass
}

spawn hand-thin_restore hand_case thin_restore
spawn hand-ctpool hand_case ctpool
spawn damaged damaged_case
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
	spawn "xml-$seed" random_case "$seed" small 16
done
spawn xml-large random_case 424242 large 128
for seed in $(seq 1 40); do
	spawn "lib-$seed" library_case "$seed"
done
wait
# The snapshot comparisons must have happened for the test to mean anything.
CASE=metadata-snap-seen
if ls "$WORK"/snap-* > /dev/null 2>&1; then
	pass
else
	fail "no thin-gen seed held a metadata snapshot: --metadata-snap untested"
fi
finish
