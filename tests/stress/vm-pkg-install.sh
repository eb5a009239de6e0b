#!/bin/bash
# Run by make stress (piece "pkg"; qemu/run-vm.sh --disk 64M --disk 512M):
# the DKMS build alone takes minutes under TCG.
# The Debian packages as a user installs them (make deb builds them into
# build/deb): dpkg -i both; DKMS builds dm-ctpool.ko against the installed
# headers of the running kernel; modprobe resolves its dependencies (dm-bufio,
# libcrc32c) through depmod, takes compat_names=1 on its command line and from
# /etc/modprobe.d; the installed /usr/sbin/ctpool runs a pool, thin and
# snapshot cycle; purging both packages leaves nothing of ours behind.
# The guest's root is the host's under a tmpfs overlay: what dpkg changes here
# vanishes at power off.
. "$(dirname "$0")/../vm/lib.bash"
need_disks 2

DEB_DIR=$ROOT/build/deb
KVER=$(uname -r)
TOOL_DEB=$(ls "$DEB_DIR"/ctpool_*.deb 2>/dev/null | head -n 1)
DKMS_DEB=$(ls "$DEB_DIR"/ctpool-dkms_*.deb 2>/dev/null | head -n 1)
[ -n "$TOOL_DEB" ] && [ -n "$DKMS_DEB" ] || bail "no packages in $DEB_DIR: run 'make deb'"
VERSION=$(dpkg-deb -f "$DKMS_DEB" Version)
MODPROBE_CONF=/etc/modprobe.d/ctpool-test.conf
note "packages: $(basename "$TOOL_DEB") $(basename "$DKMS_DEB"), kernel $KVER"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
compat_param() { cat /sys/module/dm_ctpool/parameters/compat_names; }
# ours_left: every file or record of ours still on the system, one a line.
ours_left() {
	find /lib/modules -name 'dm-ctpool.ko*' 2>/dev/null
	ls -d /usr/src/ctpool-* /var/lib/dkms/ctpool /usr/sbin/ctpool \
		/usr/share/man/man8/ctpool.8.gz /usr/share/bash-completion/completions/ctpool \
		/lib/systemd/system/ctpool-activate.service \
		/etc/systemd/system/*/ctpool-activate.service 2>/dev/null || true
	dkms status -m ctpool 2>/dev/null
}

check "headers of the running kernel are installed" test -d "/lib/modules/$KVER/build"
check_fails "ctpool not installed before the test" installed ctpool
assert_eq "nothing of ours on the system before" "" "$(ours_left)"

# man-db's trigger rebuilds the whole manual index: minutes under TCG, and no
# part of what is tested here.
rm -f /var/lib/man-db/auto-update

# --- install: DKMS builds the module -------------------------------------------
t0=$SECONDS
if ! dpkg -i "$DKMS_DEB" "$TOOL_DEB" > dpkg-install.log 2>&1; then
	cat dpkg-install.log
	bail "dpkg -i of both packages failed"
fi
note "dpkg -i with the DKMS build took $((SECONDS - t0)) s"
check "ctpool-dkms installed" installed ctpool-dkms
check "ctpool installed" installed ctpool
assert_match "dkms status: built and installed for $KVER" \
	"^ctpool/$VERSION, $KVER, [^:]*: installed" "$(dkms status -m ctpool)"
modfile=$(modinfo -n dm-ctpool 2>&1 || true)
assert_match "depmod finds the module under updates/" "^/lib/modules/$KVER/updates/.*dm-ctpool\.ko" "$modfile"

# --- modprobe, as a user loads it -----------------------------------------------
check "modprobe dm-ctpool" modprobe dm-ctpool
assert_eq "ctpool target registered" v1.22.0 "$(target_version ctpool)"
assert_eq "ctthin target registered" v1.22.0 "$(target_version ctthin)"
check "dependency dm_bufio loaded by modprobe" module_loaded dm_bufio
check "dependency libcrc32c loaded by modprobe" module_loaded libcrc32c
check "modprobe -r dm-ctpool" modprobe -r dm-ctpool

check "modprobe dm-ctpool compat_names=1" modprobe dm-ctpool compat_names=1
assert_eq "compat_names=1 from the command line" Y "$(compat_param)"
assert_eq "compat: thin-pool is ours" v1.22.0 "$(target_version thin-pool)"
check_fails "compat: the kernel's dm_thin_pool is not what serves it" module_loaded dm_thin_pool
must modprobe -r dm-ctpool

echo "options dm-ctpool compat_names=1" > "$MODPROBE_CONF"
check "modprobe dm-ctpool with an /etc/modprobe.d option" modprobe dm-ctpool
assert_eq "compat_names=1 from /etc/modprobe.d" Y "$(compat_param)"
must modprobe -r dm-ctpool
rm -f "$MODPROBE_CONF"
must modprobe dm-ctpool
assert_eq "option file removed: default names again" N "$(compat_param)"

# --- the installed tool: pool, thin, snapshot -----------------------------------
hash -r
assert_eq "ctpool on PATH is the installed one" /usr/sbin/ctpool "$(command -v ctpool)"
export CTPOOL_STATE_DIR
CTPOOL_STATE_DIR=$(mktemp -d /tmp/ctpool-state.XXXXXX)
META=${DISKS[0]} DATA=${DISKS[1]}
must ctpool pool create tp --metadata "$META" --data "$DATA" --block-size 64k
assert_match "pool runs on the installed module's target" '^0 [0-9]+ ctpool ' "$(dmsetup table tp)"
must ctpool create vol --size 32M
dev=$(ctpool activate vol)
dd if=/dev/urandom of=pattern bs=1M count=2 status=none
must dd if=pattern of="$dev" bs=1M oflag=direct status=none
must ctpool snapshot vol snap
must dd if=/dev/zero of="$dev" bs=1M count=2 oflag=direct status=none
sdev=$(ctpool activate snap)
check "snapshot keeps the data of snapshot time" cmp -n $((2 << 20)) "$sdev" pattern
check "origin has the new data" cmp -n $((2 << 20)) "$dev" /dev/zero
must ctpool deactivate snap
must ctpool delete snap
must ctpool delete vol
must ctpool pool remove tp
check "thin_check accepts the metadata the cycle left" thin_check -q "$META"

# --- what else the ctpool package installed --------------------------------------
check "man page installed" test -f /usr/share/man/man8/ctpool.8.gz
check "boot activation unit installed" test -f /lib/systemd/system/ctpool-activate.service
check "boot activation unit enabled" \
	test -L /etc/systemd/system/sysinit.target.wants/ctpool-activate.service
# shellcheck disable=SC1091
. /usr/share/bash-completion/completions/ctpool
COMP_WORDS=(ctpool po) COMP_CWORD=1
_ctpool
assert_eq "bash completion completes the command" pool "${COMPREPLY[*]}"
COMP_WORDS=(ctpool pool de) COMP_CWORD=2
_ctpool
assert_eq "bash completion completes a pool subcommand" deactivate "${COMPREPLY[*]}"

# --- purge: nothing of ours left ---------------------------------------------------
must modprobe -r dm-ctpool
if ! dpkg --purge ctpool ctpool-dkms > dpkg-purge.log 2>&1; then
	cat dpkg-purge.log
	fail "dpkg --purge of both packages"
fi
check_fails "ctpool purged" installed ctpool
check_fails "ctpool-dkms purged" installed ctpool-dkms
assert_eq "nothing of ours left after purge" "" "$(ours_left)"
check_fails "modprobe no longer finds dm-ctpool" modprobe -n dm-ctpool
