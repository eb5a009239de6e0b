#!/bin/sh
# `ctpool meta check --clear-needs-check` against thin-provisioning-tools:
#  - the flag set by hand (flags bit 0, checksum resealed): a plain check
#    passes and leaves it; with --clear-needs-check the flag is gone, the
#    superblock's checksum is right (thin_check, ctpool meta check) and
#    nothing else changed (thin_dump before and after, but for flags);
#  - damaged metadata keeps its flag: check fails and clears nothing;
#  - without the flag, the image is left byte for byte as it was.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_check thin_dump thin_restore python3 "$CTPOOL"

CORRUPT="python3 $ROOT/scripts/corrupt-meta.py"

$CORRUPT base-xml > "$WORK/base.xml"
blank "$WORK/base.img" 8
thin_restore -q -i "$WORK/base.xml" -o "$WORK/base.img" ||
	{ echo "thin_restore failed"; echo "0 passed, 1 failed"; exit 1; }
blank "$WORK/lib.img" 8
"$THIN_GEN" "$WORK/lib.img" 401 small > /dev/null ||
	{ echo "thin-gen failed"; echo "0 passed, 1 failed"; exit 1; }

# The superblock's flags word, read from the raw image.
flags_of() {
	od -An -tu4 -j4 -N4 "$1" | tr -d ' '
}

cleared() {
	cp "$1" "$T/img"
	thin_dump "$T/img" > "$T/before.xml"
	$CORRUPT apply "$T/img" needs-check > /dev/null
	if [ "$(flags_of "$T/img")" != 1 ] ||
	   ! thin_dump "$T/img" | grep -q '<superblock .* flags="1"'; then
		fail "could not set the flag by hand"
		return
	fi
	if ! "$CTPOOL" meta check "$T/img" > "$T/c.out" 2>&1 ||
	   [ "$(flags_of "$T/img")" != 1 ]; then
		fail "a plain check failed or touched the flag: $(head -n 2 "$T/c.out")"
		return
	fi
	if ! "$CTPOOL" meta check --clear-needs-check "$T/img" > "$T/c.out" 2>&1 ||
	   ! grep -q "needs_check flag cleared" "$T/c.out"; then
		fail "check --clear-needs-check: $(head -n 3 "$T/c.out")" "$T/img"
		return
	fi
	if [ "$(flags_of "$T/img")" != 0 ]; then
		fail "the flag is still set ($(flags_of "$T/img"))" "$T/img"
		return
	fi
	checkers_accept "$T/img" || return
	thin_dump "$T/img" > "$T/after.xml"
	files_agree "more than the flag changed" "$T/before.xml" "$T/after.xml" \
		"$T/img" "$T/after.xml" || return
	pass
}

damaged() {
	cp "$WORK/base.img" "$T/img"
	$CORRUPT apply "$T/img" needs-check > /dev/null
	$CORRUPT damage-leaf "$T/img" 2 > /dev/null
	cp "$T/img" "$T/orig"
	"$CTPOOL" meta check --clear-needs-check "$T/img" > "$T/c.out" 2>&1
	st=$?
	if [ "$st" -ne 1 ] || ! cmp -s "$T/img" "$T/orig" ||
	   ! grep -q "needs_check flag left set" "$T/c.out"; then
		fail "damaged metadata: status $st, image $(cmp -s "$T/img" "$T/orig" && echo kept || echo changed): $(tail -n 2 "$T/c.out")"
		return
	fi
	pass
}

no_flag() {
	cp "$WORK/base.img" "$T/img"
	if ! "$CTPOOL" meta check --clear-needs-check "$T/img" > "$T/c.out" 2>&1 ||
	   grep -q cleared "$T/c.out" || ! cmp -s "$T/img" "$WORK/base.img"; then
		fail "without the flag: $(head -n 2 "$T/c.out")"
		return
	fi
	pass
}

spawn cleared-thin-restore cleared "$WORK/base.img"
spawn cleared-library cleared "$WORK/lib.img"
spawn damaged damaged
spawn no-flag no_flag
finish
