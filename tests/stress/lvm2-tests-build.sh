#!/bin/bash
# Build lvm2's own test suite (test/shell/*.sh + its harness: the runner
# "lvm2-testsuite", not/should/fail, the lib/ scripts) from the Debian source of
# the INSTALLED lvm2, into build/lvm2-tests (outside git; none of lvm2's code is
# committed). It is installed the way Fedora's lvm2-testsuite package is: as an
# "installed testsuite" (lib/paths has installed_testsuite=1, no
# abs_top_builddir), so the scripts drive the system's lvm, dmsetup and
# dmeventd, the binaries the guest of tests/stress/vm-lvm2-thin.sh has.
#
#   tests/stress/lvm2-tests-build.sh [OUT]     (default build/lvm2-tests)
#
# Only the harness is compiled: lvm2's tools need libaio-dev, which is not
# installed here, and are not what is tested. Idempotent: a finished build
# for the same lvm2 version is kept. The source comes from `apt-get source`
# when deb-src lines exist, else from deb.debian.org's pool (LVM2_POOL_URL);
# dpkg-source -x checks the tarballs against the .dsc's checksums.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build/lvm2-tests}
POOL=${LVM2_POOL_URL:-https://deb.debian.org/debian/pool/main/l/lvm2}
JOBS=${LVM2_BUILD_JOBS:-2}

VER=$(dpkg-query -W -f='${Version}' lvm2 2>/dev/null) ||
	{ echo "lvm2-tests-build: lvm2 is not installed" >&2; exit 2; }
UPVER=${VER#*:} UPVER=${UPVER%-*}
INST=$OUT/inst
if [ -x "$INST/bin/lvm2-testsuite" ] && [ "$(cat "$OUT/.version" 2>/dev/null)" = "$VER" ]; then
	echo "lvm2-tests-build: lvm2 $VER test suite already built in $OUT"
	exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT/dl"
cd "$OUT/dl"

echo "lvm2-tests-build: source of lvm2 $VER"
if ! apt-get source --download-only "lvm2=$VER" > apt-source.log 2>&1; then
	dsc=lvm2_${VER#*:}.dsc
	wget -q -O "$dsc" "$POOL/$dsc" || { echo "lvm2-tests-build: cannot download $POOL/$dsc" >&2; exit 1; }
	# The .dsc's file list: "Files:" lines " MD5 SIZE NAME" up to the signature.
	for f in $(awk '/^Files:/ { on = 1; next } on && /^ / { print $3; next } { on = 0 }' "$dsc"); do
		wget -q -O "$f" "$POOL/$f" || { echo "lvm2-tests-build: cannot download $POOL/$f" >&2; exit 1; }
	done
fi
# No keyring for Debian's source signatures here (dpkg-source --no-check skips
# them and the checksums): the tarballs are checked against the .dsc's SHA-256.
awk '/^Checksums-Sha256:/ { on = 1; next } on && /^ / { print $1 "  " $3; next } { on = 0 }' \
	lvm2_"${VER#*:}".dsc | sha256sum -c --quiet ||
	{ echo "lvm2-tests-build: checksum mismatch" >&2; exit 1; }
dpkg-source --no-check -x ./lvm2_"${VER#*:}".dsc "$OUT/src" > extract.log 2>&1 ||
	{ cat extract.log; exit 1; }

cd "$OUT/src"
echo "lvm2-tests-build: configure (log: $OUT/configure.log)"
# Debian's paths (debian/rules CONFARGS.deb) where the harness records them:
# pid files of dmeventd and lvmpolld, thin/cache tools.
./configure --prefix="$INST" \
	--with-default-pid-dir=/run --with-default-run-dir=/run/lvm \
	--with-default-locking-dir=/run/lock/lvm \
	--with-dmeventd-pidfile=/run/dmeventd.pid --with-lvmpolld-pidfile=/run/lvmpolld.pid \
	--enable-cmdlib --enable-dmeventd --enable-lvmpolld --with-thin=internal --with-cache=internal \
	--with-thin-check=/usr/sbin/thin_check --with-thin-dump=/usr/sbin/thin_dump \
	--with-thin-repair=/usr/sbin/thin_repair --with-thin-restore=/usr/sbin/thin_restore \
	--disable-blkid_wiping --disable-readline --disable-selinux \
	--disable-systemd-journal --disable-app-machineid > "$OUT/configure.log" 2>&1 ||
	{ tail -n 30 "$OUT/configure.log"; exit 1; }

echo "lvm2-tests-build: harness (log: $OUT/build.log)"
{
	# What lib/dmsecuretest and lib/securetest link, the list of lvm
	# commands (tools/.commands: one lvm-wrapper link per command), then
	# test/'s install. -o unit-test: the unit tests need the whole of lvm2.
	make -j"$JOBS" base/libbase.a device_mapper/libdevice-mapper.a &&
	make -j"$JOBS" -C libdaemon/client &&
	make -j"$JOBS" -C libdm &&
	make -C tools .commands &&
	make -C test -o unit-test install
} > "$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log"; exit 1; }

echo "$VER" > "$OUT/.version"
n=$(ls "$INST/share/lvm2-testsuite/shell" | grep -c thin)
echo "lvm2-tests-build: lvm2 $VER test suite in $INST ($n thin scripts)"
