#!/bin/sh
# Oracle tests (b) and (c) on random thin_dump-style XML
# (meta-gen-xml.py, canonical: what thin_dump would print back):
#  (b) thin_restore 0.9.0 -> `ctpool meta dump` == thin_dump == the input,
#      and `ctpool meta check` clean on thin_restore's image;
#  (c) `ctpool meta restore` -> thin_check clean, thin_dump == the input,
#      and `ctpool meta check` clean.
#
# ORACLE_CASES (default 200 small) and ORACLE_LARGE (default 3) scale it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_check thin_dump thin_restore python3 "$CTPOOL"

theirs() {
	name=$1 xml=$2 mb=$3
	img=$T/$name-b.img
	blank "$img" "$mb"
	if ! thin_restore -q -i "$xml" -o "$img" > "$T/tr.out" 2>&1; then
		fail "thin_restore failed: $(head -n 2 "$T/tr.out")" "$xml"
		return
	fi
	"$CTPOOL" meta dump "$img" > "$T/o.xml"
	if ! cmp -s "$xml" "$T/o.xml"; then
		fail "ctpool meta dump differs from the input" "$xml" "$img"
		return
	fi
	if ! "$CTPOOL" meta check -q "$img" > "$T/cc.out" 2>&1; then
		fail "ctpool meta check: $(head -n 3 "$T/cc.out")" "$xml" "$img"
		return
	fi
	rm -f "$img"
	pass
}

ours() {
	name=$1 xml=$2 mb=$3
	img=$T/$name-c.img
	blank "$img" "$mb"
	if ! "$CTPOOL" meta restore -i "$xml" -o "$img" > "$T/cr.out" 2>&1; then
		fail "ctpool meta restore: $(head -n 3 "$T/cr.out")" "$xml"
		return
	fi
	if ! thin_check -q "$img" > "$T/tc.out" 2>&1; then
		fail "thin_check: $(head -n 3 "$T/tc.out")" "$xml" "$img"
		return
	fi
	thin_dump "$img" > "$T/t.xml"
	if ! cmp -s "$xml" "$T/t.xml"; then
		fail "thin_dump differs from the input" "$xml" "$img"
		return
	fi
	if ! "$CTPOOL" meta check -q "$img" > "$T/cc.out" 2>&1; then
		fail "ctpool meta check: $(head -n 3 "$T/cc.out")" "$xml" "$img"
		return
	fi
	rm -f "$img"
	pass
}

cases=${ORACLE_CASES:-200}
large=${ORACLE_LARGE:-3}
mkdir -p "$WORK/xml"
$GEN_XML --batch 1 "$cases" "$WORK/xml" small
$GEN_XML --batch 100001 "$large" "$WORK/xml" large
for xml in "$WORK"/xml/*.xml; do
	seed=$(basename "$xml" .xml)
	mb=16
	[ "$seed" -gt 100000 ] && mb=256
	spawn "xml-$seed-b" theirs "xml-$seed" "$xml" "$mb"
	spawn "xml-$seed-c" ours "xml-$seed" "$xml" "$mb"
done
finish
