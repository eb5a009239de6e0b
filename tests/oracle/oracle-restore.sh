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
	runs_ok "thin_restore failed" "$xml" -- thin_restore -q -i "$xml" -o "$img" || return
	"$CTPOOL" meta dump "$img" > "$T/o.xml"
	files_agree "ctpool meta dump differs from the input" "$xml" "$T/o.xml" \
		"$xml" "$img" || return
	runs_ok "ctpool meta check" "$xml" "$img" -- "$CTPOOL" meta check -q "$img" || return
	rm -f "$img"
	pass
}

ours() {
	name=$1 xml=$2 mb=$3
	img=$T/$name-c.img
	blank "$img" "$mb"
	runs_ok "ctpool meta restore" "$xml" -- "$CTPOOL" meta restore -i "$xml" -o "$img" || return
	runs_ok "thin_check" "$xml" "$img" -- thin_check -q "$img" || return
	thin_dump "$img" > "$T/t.xml"
	files_agree "thin_dump differs from the input" "$xml" "$T/t.xml" \
		"$xml" "$img" || return
	runs_ok "ctpool meta check" "$xml" "$img" -- "$CTPOOL" meta check -q "$img" || return
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
