#!/bin/sh
# Kernel-side code must stay checkpatch-clean and build without a single
# compiler warning under Kbuild; tools/ must be clean under the userspace
# rules (scripts/checkpatch.sh --tools, which lists what they leave out).
# The module is rebuilt from scratch in a copy of the tree, since an
# up-to-date build in place would print nothing.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$(ls -1 /lib/modules | sort -V | tail -n 1)}
. "$top/tests/unit/result-lib.sh"

out=$(sh "$top/scripts/checkpatch.sh" 2>&1 | grep -E '(WARNING|ERROR|CHECK):' || true)
[ -z "$out" ] && st=0 || { st=1; echo "$out"; }
result $st "checkpatch: kernel/ and persistent-data/ are clean"

out=$(sh "$top/scripts/checkpatch.sh" --tools 2>&1 |
	grep -E '(WARNING|ERROR|CHECK):' || true)
[ -z "$out" ] && st=0 || { st=1; echo "$out"; }
result $st "checkpatch (userspace rules): tools/ is clean"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$top/Kbuild" "$top/kernel" "$top/persistent-data" "$tmp/"
find "$tmp" \( -name '*.o' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
log=$tmp/build.log
if make -C "/lib/modules/$KVER/build" M="$tmp" modules > "$log" 2>&1; then
	if grep -E 'warning:' "$log"; then st=1; else st=0; fi
else
	tail -n 30 "$log"; st=1
fi
result $st "dm-ctpool.ko builds with no warnings"

summary
