#!/bin/sh
# Install, idempotently, every Debian package ctpool builds, tests or benchmarks with.
# The kernel image and headers are installed as one matching pair (the -amd64 metapackages).
set -eu

PKGS="build-essential linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static
dmsetup libdevmapper-dev thin-provisioning-tools fio e2fsprogs lvm2 cpio kmod
libcmocka-dev libseccomp-dev libarchive-dev clang pkg-config python3 util-linux xz-utils
gnuplot-nox blktrace debhelper dh-dkms dkms libjson-c-dev
libssl-dev dosfstools"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second checkout's `make deps`) holds dpkg's lock: wait for it.
LOCK_WAIT="-o DPkg::Lock::Timeout=900"
$SUDO apt-get $LOCK_WAIT update -qq
# lvm2 would start lvmetad/udev hooks on some systems; no service is needed here.
$SUDO apt-get $LOCK_WAIT install -y -qq --no-install-recommends $missing >/dev/null
