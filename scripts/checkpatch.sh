#!/bin/sh
# Run the kernel's checkpatch.pl (from Debian's linux-source-6.1) over our C.
# The script is fetched once and cached under build/checkpatch/.
#
# Usage: scripts/checkpatch.sh [FILE...]          kernel rules: kernel/ and
#                                                 the shared persistent-data/
#        scripts/checkpatch.sh --tools [FILE...]  userspace rules: tools/
#
# The userspace rules are checkpatch's, minus the idioms of a C99 userspace
# program that checkpatch (written for the kernel) misreads. This list is the
# whole of tools/' style: every other finding is a bug to fix, not to ignore.
#   LINE_SPACING           declarations go at first use (C99), so "a blank
#                          line after declarations" has no place to go
#   SPLIT_STRING           usage and help texts are one string over many lines;
#                          the rule keeps printk messages greppable
#   PREFER_DEFINED_ATTRIBUTE_MACRO
#                          __printf/__noreturn are the kernel's own macros
#                          (compiler_attributes.h); userspace spells the GCC
#                          attribute
#   EMBEDDED_FUNCTION_NAME fires on English words that happen to name their
#                          function ("usage:" in usage(), "not a number" in
#                          number()); we print no function names
#   VOLATILE               `volatile sig_atomic_t` is what C requires of a flag
#                          a signal handler sets
#   ENOSYS                 seccomp filters return ENOSYS on purpose: "no such
#                          system call" makes libc fall back (clone3 to clone)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/build/checkpatch"
cp="$cache/scripts/checkpatch.pl"

# SPDX and file-level tags are ours to choose in the kernel-side code;
# everything else counts.
kernel_ignore=FILE_PATH_CHANGES,SPDX_LICENSE_TAG
tools_ignore=LINE_SPACING,SPLIT_STRING,PREFER_DEFINED_ATTRIBUTE_MACRO
tools_ignore=$tools_ignore,EMBEDDED_FUNCTION_NAME,VOLATILE,ENOSYS

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

if [ "${1:-}" = --tools ]; then
	shift
	ignore=$tools_ignore
	[ $# -gt 0 ] || set -- $(cd "$top" && find tools -name '*.[ch]' | sort)
else
	ignore=$kernel_ignore
	[ $# -gt 0 ] || set -- $(cd "$top" && find kernel persistent-data \
		-name '*.[ch]' -not -path 'persistent-data/user/*' | sort)
fi

cd "$top"
status=0
for f in "$@"; do
	if ! perl "$cp" --no-tree --quiet --terse --show-types \
		--ignore "$ignore" -f "$f"; then
		status=1
	fi
done
exit $status
