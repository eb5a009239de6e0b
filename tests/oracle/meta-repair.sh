#!/bin/sh
# `ctpool meta repair -i IN -o OUT` against thin-provisioning-tools:
#  - a mapping leaf of one device made unreadable: the repaired metadata
#    passes `ctpool meta check` and thin_check, the other devices keep every
#    mapping (thin_dump of the original and of the output agree on them),
#    and the damaged device keeps exactly its readable mappings;
#  - a mapping pointing beyond the data device: left out, the rest kept;
#  - undamaged metadata (ours, thin_restore's): the output dumps the same;
#  - bad usage: the input as output, or no metadata at all, is refused.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_check thin_dump thin_restore python3 "$CTPOOL"

CORRUPT="python3 $ROOT/scripts/corrupt-meta.py"
DEVICES="python3 $ROOT/tests/oracle/meta-devices.py"

# The base pool of the VM tests: devices 1, 2 and 3, of 400, 400 and 300
# mappings, each tree a root over two or more leaves.
$CORRUPT base-xml > "$WORK/base.xml"
blank "$WORK/base.img" 8
thin_restore -q -i "$WORK/base.xml" -o "$WORK/base.img" ||
	{ echo "thin_restore failed"; echo "0 passed, 1 failed"; exit 1; }
thin_dump "$WORK/base.img" > "$WORK/base-dump.xml"

# checked_repair IN: repair IN into $T/out.img; both checkers must accept it.
checked_repair() {
	blank "$T/out.img" 8
	if ! "$CTPOOL" meta repair -i "$1" -o "$T/out.img" > "$T/r.out" 2>&1; then
		fail "repair failed: $(head -n 3 "$T/r.out")" "$1"
		return 1
	fi
	checkers_accept "$T/out.img" || return 1
	thin_dump "$T/out.img" > "$T/out.xml"
}

damaged_leaf() {
	dev=$1
	cp "$WORK/base.img" "$T/in.img"
	block=$($CORRUPT damage-leaf "$T/in.img" "$dev") ||
		{ fail "could not damage device $dev"; return; }
	if thin_check "$T/in.img" > /dev/null 2>&1; then
		fail "thin_check accepts the damaged input: the damage is not real"
		return
	fi
	checked_repair "$T/in.img" || return
	if ! grep -q "block $block: bad btree node checksum; left out" "$T/r.out"; then
		fail "repair did not name the damaged block $block: $(head -n 3 "$T/r.out")"
		return
	fi
	$DEVICES "$WORK/base-dump.xml" "$T/out.xml" > "$T/cmp"
	for d in 1 2 3; do
		if [ "$d" = "$dev" ]; then
			read -r _ how kept all <<< "$(grep "^$d " "$T/cmp")"
			if [ "$how" != subset ] || [ "$kept" -eq 0 ] ||
			   [ "$kept" -ge "$all" ]; then
				fail "damaged device $d: $(grep "^$d " "$T/cmp"), expected a non-empty part of its mappings" \
					"$T/in.img" "$T/out.xml"
				return
			fi
		elif ! grep -qx "$d same" "$T/cmp"; then
			fail "undamaged device $d changed: $(grep "^$d " "$T/cmp")" \
				"$T/in.img" "$T/out.xml"
			return
		fi
	done
	if grep -q extra "$T/cmp"; then
		fail "repair invented devices: $(grep extra "$T/cmp")"
		return
	fi
	pass
}

data_range() {
	cp "$WORK/base.img" "$T/in.img"
	$CORRUPT apply "$T/in.img" data-range "$1" > "$T/what"
	checked_repair "$T/in.img" || return
	if ! grep -q "beyond the data device; left out" "$T/r.out"; then
		fail "repair did not report the mapping it left out: $(head -n 3 "$T/r.out")"
		return
	fi
	$DEVICES "$WORK/base-dump.xml" "$T/out.xml" > "$T/cmp"
	# One device loses the one mapping, the others are untouched.
	if [ "$(grep -c ' same$' "$T/cmp")" -ne 2 ] ||
	   ! awk '$2 == "subset" && $3 + 1 == $4 { ok = 1 } END { exit !ok }' "$T/cmp"; then
		fail "expected one mapping fewer in one device: $(tr '\n' ';' < "$T/cmp") ($(cat "$T/what"))" \
			"$T/in.img"
		return
	fi
	pass
}

intact() {
	img=$1
	checked_repair "$img" || return
	thin_dump "$img" > "$T/in.xml"
	files_agree "repair of undamaged metadata changed it" "$T/in.xml" \
		"$T/out.xml" "$img" "$T/out.xml" || return
	pass
}

refusals() {
	cp "$WORK/base.img" "$T/in.img"
	"$CTPOOL" meta repair -i "$T/in.img" -o "$T/in.img" > "$T/r.out" 2>&1
	st=$?
	if [ "$st" -ne 2 ] || ! cmp -s "$WORK/base.img" "$T/in.img"; then
		fail "repair onto its own input: status $st, input $(cmp -s "$WORK/base.img" "$T/in.img" && echo kept || echo changed)"
		return
	fi
	blank "$T/zero.img" 8
	blank "$T/out.img" 8
	"$CTPOOL" meta repair -i "$T/zero.img" -o "$T/out.img" > "$T/r.out" 2>&1
	st=$?
	if [ "$st" -ne 1 ] || ! grep -q "not thin-pool metadata" "$T/r.out"; then
		fail "repair of a zeroed image: status $st: $(head -n 2 "$T/r.out")"
		return
	fi
	pass
}

for dev in 1 2 3; do
	spawn "leaf-dev$dev" damaged_leaf "$dev"
done
for seed in 1 2 3; do
	spawn "data-range-$seed" data_range "$seed"
done
spawn intact-base intact "$WORK/base.img"
for s in 1 2; do
	blank "$WORK/lib$s.img" 8
	"$THIN_GEN" "$WORK/lib$s.img" "$((s + 300))" small > /dev/null &&
		spawn "intact-lib$s" intact "$WORK/lib$s.img"
done
spawn refusals refusals
finish
