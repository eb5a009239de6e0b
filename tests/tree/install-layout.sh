#!/bin/sh
# make install into a DESTDIR lays out what a host install needs (module under
# /lib/modules/$KVER/updates for the kernel whose headers are installed, no
# depmod into the staging tree, the tool, man page, completion, boot unit);
# install-dkms-source gives DKMS a versioned tree; the bash completion
# completes commands, subcommands and recorded pool names; systemd accepts
# the unit. (The packages themselves are installed in a guest by make stress:
# tests/stress/vm-pkg-install.sh.)
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
KVER=$(ls -1 /lib/modules | sort -V | tail -n 1)
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { d=$1; shift; if "$@" > /dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

dep=/lib/modules/$KVER/modules.dep
dep_before=$(stat -c %Y "$dep" 2>/dev/null || echo none)
if make -s -C "$top" install install-dkms-source DESTDIR="$dest" > "$tmp/make.log" 2>&1; then
	ok "make install install-dkms-source DESTDIR=..."
else
	tail -n 20 "$tmp/make.log"
	not_ok "make install install-dkms-source DESTDIR=..."
fi
check "module under /lib/modules/$KVER/updates" test -f "$dest/lib/modules/$KVER/updates/dm-ctpool.ko"
check "no depmod into the staging tree" test ! -e "$dest/lib/modules/$KVER/modules.dep"
check "no depmod of the system's modules for a DESTDIR install" \
	test "$(stat -c %Y "$dep" 2>/dev/null || echo none)" = "$dep_before"
check "tool installed as /usr/sbin/ctpool and runs" "$dest/usr/sbin/ctpool" --version
check "man page" test -f "$dest/usr/share/man/man8/ctpool.8"
check "bash completion" test -f "$dest/usr/share/bash-completion/completions/ctpool"
unit=$dest/lib/systemd/system/ctpool-activate.service
check "boot unit" grep -q '^ExecStart=/usr/sbin/ctpool pool activate --all$' "$unit"

src=$(ls -d "$dest"/usr/src/ctpool-* 2>/dev/null | head -n 1)
version=$(head -n 1 "$top/debian/changelog" | sed 's/^[^(]*(\([^)-]*\).*/\1/')
check "DKMS source tree named after debian/changelog's version" test "$src" = "$dest/usr/src/ctpool-$version"
check "dkms.conf carries the version" grep -q "^PACKAGE_VERSION=\"$version\"$" "$src/dkms.conf"
check "dkms.conf builds dm-ctpool" grep -q '^BUILT_MODULE_NAME\[0\]="dm-ctpool"$' "$src/dkms.conf"
check "Kbuild and the shared library in the DKMS tree" \
	test -f "$src/Kbuild" -a -f "$src/kernel/objects.mk" -a -f "$src/persistent-data/objects.mk"
check "no userspace-only sources in the DKMS tree" test ! -e "$src/persistent-data/user"

# complete WORDS...: what the completion offers for the last word.
mkdir -p "$tmp/state/pools"
: > "$tmp/state/pools/tank.conf"
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ctpool
		echo "${COMPREPLY[*]}"' _ "$dest/usr/share/bash-completion/completions/ctpool" "$@"
}
check "completion: commands" test "$(complete_words ctpool po)" = pool
check "completion: pool subcommands" test "$(complete_words ctpool pool de)" = deactivate
check "completion: activate --all" test "$(complete_words ctpool pool activate --a)" = --all
check "completion: recorded pool names" \
	test "$(complete_words ctpool --state-dir "$tmp/state" pool status t)" = tank

if command -v systemd-analyze > /dev/null; then
	# --man=no: the page is not in the system's manual database here.
	check "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no --root="$dest" "$unit"
else
	echo "ok - systemd-analyze verify # SKIP systemd-analyze not installed"
	passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
