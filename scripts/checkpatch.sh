#!/bin/sh
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.1) over the
# kernel-side C: kernel/ and the shared persistent-data/ library.
# The script is fetched once and cached under build/checkpatch/.
# Usage: scripts/checkpatch.sh [FILE...]   (default: every .c/.h there)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/build/checkpatch"
cp="$cache/scripts/checkpatch.pl"

fetch_checkpatch() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download linux-source-6.1 >/dev/null)
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
		tar -xf - -C "$tmp" --wildcards './usr/src/linux-source-6.1.tar.xz'
	mkdir -p "$cache"
	tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$cache" \
		--strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
}

[ -x "$cp" ] || fetch_checkpatch

if [ $# -eq 0 ]; then
	set -- $(cd "$top" && find kernel persistent-data -name '*.[ch]' \
		-not -path 'persistent-data/user/*' | sort)
fi

cd "$top"
status=0
for f in "$@"; do
	# SPDX and file-level tags are ours to choose; everything else counts.
	if ! perl "$cp" --no-tree --quiet --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "$f"; then
		status=1
	fi
done
exit $status
