#!/bin/sh
# Build the guest initramfs: busybox-static, the kernel modules needed to reach
# the host's root filesystem over 9p (plus the dm modules tests use), and
# qemu/init. The result is cached: it is rebuilt only when one of its inputs
# (this script, qemu/init, busybox, the module tree) changes.
#
# usage: qemu/mkinitramfs.sh [OUTPUT]   (default build/qemu/initramfs-$KVER.cpio.gz)
# Prints the path of the initramfs on stdout.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KVER=${KVER:-$(ls -1 /lib/modules | sort -V | tail -n 1)}
OUT=${1:-$ROOT/build/qemu/initramfs-$KVER.cpio.gz}
BUSYBOX=$(command -v busybox) || { echo "mkinitramfs: busybox not found (make deps)" >&2; exit 1; }
MODDIR=/lib/modules/$KVER

# Modules whose absence would make the guest unusable come first; the rest are
# conveniences and are skipped with a note when they do not resolve.
REQUIRED="virtio_pci virtio_blk 9p 9pnet_virtio overlay"
OPTIONAL="crc32c_generic libcrc32c dm-mod dm-bufio dm-persistent-data dm-bio-prison
dm-thin-pool dm-flakey dm-log-writes dm-delay ext4 netfs fscache loop brd"

# Cache key: anything that changes the image's content.
key=$( { cat "$0" "$HERE/init"; echo "$KVER"; ls -l --time-style=+%s "$BUSYBOX" "$MODDIR/modules.dep"; } | md5sum | cut -d' ' -f1)
if [ -f "$OUT" ] && [ "$(cat "$OUT.key" 2>/dev/null)" = "$key" ]; then
	echo "$OUT"
	exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/sbin" "$stage/proc" "$stage/sys" "$stage/dev" \
	"$stage/newroot" "$stage/host" "$stage/upper" "$stage/lib/modules/$KVER"

cp "$BUSYBOX" "$stage/bin/busybox"
for applet in $("$BUSYBOX" --list); do
	[ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
# Kernel request_module() calls /sbin/modprobe.
ln -s ../bin/busybox "$stage/sbin/modprobe"

# Copy a module and everything it depends on (modprobe --show-depends lists
# the .ko files in load order; builtins are reported as "builtin ...").
copy_module() {
	modprobe -S "$KVER" --show-depends "$1" 2>/dev/null | awk '$1 == "insmod" {print $2}' |
	while read -r ko; do
		mkdir -p "$stage$(dirname "$ko")"
		cp -n "$ko" "$stage$ko"
	done
}
for m in $REQUIRED; do
	modprobe -S "$KVER" --show-depends "$m" >/dev/null 2>&1 ||
		{ echo "mkinitramfs: required module $m not found in $MODDIR" >&2; exit 1; }
	copy_module "$m"
done
for m in $OPTIONAL; do
	modprobe -S "$KVER" --show-depends "$m" >/dev/null 2>&1 || { echo "mkinitramfs: skipping $m" >&2; continue; }
	copy_module "$m"
done
cp "$MODDIR/modules.order" "$MODDIR/modules.builtin" "$MODDIR/modules.builtin.modinfo" \
	"$stage/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$stage" "$KVER"

cp "$HERE/init" "$stage/init"
chmod 755 "$stage/init"

mkdir -p "$(dirname "$OUT")"
(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$key" > "$OUT.key"
echo "$OUT"
