#!/bin/sh
# Oracle test (a): random metadata built by our library (thin-gen: many
# devices, snapshots of snapshots, sharing broken in places, data blocks
# referenced 3+ times, several data bitmaps, deep trees, metadata
# snapshots) must pass thin_check 0.9.0, and `ctpool meta dump` must print
# exactly what thin_dump prints (also with --metadata-snap). Our own
# checker must agree that it is clean.
#
# ORACLE_CASES (default 200 small) and ORACLE_LARGE (default 3) scale it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_check thin_dump "$CTPOOL" "$THIN_GEN"

one() {
	seed=$1 size=$2 mb=$3
	img=$T/lib-$seed.img
	blank "$img" "$mb"
	if ! snap=$("$THIN_GEN" "$img" "$seed" "$size" 2> "$T/gen.err"); then
		fail "thin-gen failed: $(tail -n 1 "$T/gen.err")"
		return
	fi
	runs_ok "thin_check" "$img" -- thin_check -q "$img" || return
	runs_ok "ctpool meta check" "$img" -- "$CTPOOL" meta check -q "$img" || return
	thin_dump "$img" > "$T/t.xml"
	"$CTPOOL" meta dump "$img" > "$T/o.xml"
	files_agree "dump differs from thin_dump" "$T/t.xml" "$T/o.xml" "$img" ||
		return
	if [ "$snap" = snap ]; then
		thin_dump -m "$img" > "$T/t.xml"
		"$CTPOOL" meta dump --metadata-snap "$img" > "$T/o.xml"
		files_agree "--metadata-snap dump differs" "$T/t.xml" "$T/o.xml" \
			"$img" || return
	fi
	rm -f "$img"
	pass
}

cases=${ORACLE_CASES:-200}
large=${ORACLE_LARGE:-3}
seed=1
while [ "$seed" -le "$cases" ]; do
	spawn "lib-$seed" one "$seed" small 16
	seed=$((seed + 1))
done
seed=1
while [ "$seed" -le "$large" ]; do
	spawn "lib-L$seed" one "$((100000 + seed))" large 256
	seed=$((seed + 1))
done
finish
