#!/bin/sh
# Corruption test of `ctpool meta check` (and dump, restore), built with
# AddressSanitizer and UBSan: images written by our library and by
# thin_restore are damaged at random (bit flips, overwritten fields with the
# checksum fixed up so that only structure checks can tell, zeroed, random
# or duplicated blocks). Every run must end with exit status 0 or 1, never a
# crash or a sanitizer report; a block whose checksum no longer matches must
# be reported by number; whatever thin_check rejects, we must reject too.
# Damaged XML must not crash restore either.
#
# CORRUPT_CASES (default 80) scales it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
. "$(dirname "$0")/meta-lib.bash"
need thin_check thin_restore python3 "$META_ASAN" "$THIN_GEN"

export ASAN_OPTIONS=exitcode=99:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=exitcode=99:print_stacktrace=1:halt_on_error=1
CORRUPT="python3 $ROOT/tests/oracle/meta-corrupt.py"

# Base images: three by our library, three by thin_restore.
mkdir -p "$WORK/base"
for s in 1 2 3; do
	blank "$WORK/base/lib$s.img" 8
	"$THIN_GEN" "$WORK/base/lib$s.img" "$((s + 500))" small > /dev/null ||
		{ echo "thin-gen failed"; echo "0 passed, 1 failed"; exit 1; }
	$GEN_XML "$((s + 700))" > "$WORK/base/x$s.xml"
	blank "$WORK/base/tr$s.img" 8
	thin_restore -q -i "$WORK/base/x$s.xml" -o "$WORK/base/tr$s.img" ||
		{ echo "thin_restore failed"; echo "0 passed, 1 failed"; exit 1; }
done

# status_ok WHAT STATUS: 0 and 1 are answers, anything else is a crash.
status_ok() {
	if [ "$2" -ne 0 ] && [ "$2" -ne 1 ]; then
		fail "$1 exited with status $2 (crash or sanitizer report)" \
			"$img" "$T/out"
		return 1
	fi
	return 0
}

image_case() {
	seed=$1 base=$2
	img=$T/img
	cp "$base" "$img"
	read -r block sealed <<< "$($CORRUPT "$img" "$seed")"
	"$META_ASAN" check "$img" > "$T/out" 2>&1
	st=$?
	status_ok "check (block $block, $sealed)" $st || return
	if [ "$sealed" = broken ] && [ $st -eq 1 ] &&
	   ! grep -q "block $block\b" "$T/out"; then
		fail "check did not name damaged block $block" "$img" "$T/out"
		return
	fi
	if thin_check -q "$img" > /dev/null 2>&1; then tc=0; else tc=1; fi
	if [ $tc -eq 1 ] && [ $st -eq 0 ]; then
		fail "thin_check rejects block $block damage ($sealed), we pass it" \
			"$img" "$T/out"
		return
	fi
	if [ $st -eq 1 ] && ! grep -q "block [0-9]" "$T/out"; then
		fail "check found a problem without naming a block" "$img" "$T/out"
		return
	fi
	"$META_ASAN" dump "$img" > "$T/out" 2>&1
	status_ok dump $? || return
	"$META_ASAN" dump -m "$img" > "$T/out" 2>&1
	status_ok "dump -m" $? || return
	pass
}

xml_case() {
	seed=$1 xml=$2
	img=$T/img
	python3 - "$xml" "$T/bad.xml" "$seed" <<'PY'
import random, sys
src, dst, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
d = bytearray(open(src, 'rb').read())
for _ in range(rnd.randint(1, 6)):
    if not d:
        break
    i = rnd.randrange(len(d))
    op = rnd.randrange(4)
    if op == 0:
        d[i] = rnd.choice(b'<>/="\' \n0123456789abcz')
    elif op == 1:
        del d[i:i + rnd.randint(1, 40)]
    elif op == 2:
        d[i:i] = rnd.choice([b'99999999999999999999999', b'<', b'"', b'/>',
                             b'<device dev_id="1"/>', b'\0'])
    else:
        d = d[:i]
open(dst, 'wb').write(d)
PY
	blank "$img" 8
	"$META_ASAN" restore -i "$T/bad.xml" -o "$img" > "$T/out" 2>&1
	status_ok restore $? || return
	pass
}

cases=${CORRUPT_CASES:-80}
i=1
while [ $i -le "$cases" ]; do
	set -- "$WORK"/base/*.img
	shift $((i % $#))
	spawn "img-$i" image_case "$i" "$1"
	i=$((i + 1))
done
i=1
while [ $i -le $((cases / 4)) ]; do
	spawn "xml-$i" xml_case "$i" "$WORK/base/x$((i % 3 + 1)).xml"
	i=$((i + 1))
done
finish
