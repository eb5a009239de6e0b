# Shared helpers for tests/vm/cli-*.sh and runtime-*.sh (sourced, not a test:
# the .bash extension keeps run-vm.sh --tests DIR from running it).
#
# The same tests run against ours (default, POOL_TARGET=ctpool
# THIN_TARGET=ctthin, loads ./dm-ctpool.ko from the build) and against the
# kernel's dm-thin (POOL_TARGET=thin-pool THIN_TARGET=thin: the *-dmthin.sh
# wrappers).
set -eu
set -o pipefail

PY=$(command -v /usr/bin/python3 || command -v python3)   # only for building the rootfs
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CTPOOL=${CTPOOL:-$ROOT/build/ctpool}
POOL_TARGET=${POOL_TARGET:-ctpool}
THIN_TARGET=${THIN_TARGET:-ctthin}
export CTPOOL_POOL_TARGET=$POOL_TARGET CTPOOL_THIN_TARGET=$THIN_TARGET
export DM_DISABLE_UDEV=1
export CTPOOL_STATE_DIR=${CTPOOL_STATE_DIR:-$(mktemp -d /tmp/ctpool-state.XXXXXX)}
unset CTPOOL_CRASH_AT CTPOOL_POOL

T_NAME=$(basename "$0" .sh)
T_CHECKS=0
T_WORK=$(mktemp -d /tmp/ctpool-test.XXXXXX)

[ -x "$CTPOOL" ] || { echo "FAIL: $CTPOOL not built (make userspace)"; exit 1; }

# Output follows tests/vm/lib.bash: "ok N - ...", "not ok N - ...", and a last
# line "N passed, N failed". A failed check ends the test (later steps build
# on earlier ones).
log() { echo "# $*"; }
T_FAILED=0
fail() { T_CHECKS=$((T_CHECKS + 1)); T_FAILED=1; echo "not ok $T_CHECKS - $T_NAME: $*"; exit 1; }
ok() { T_CHECKS=$((T_CHECKS + 1)); echo "ok $T_CHECKS - $* [${SECONDS}s]"; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; ok "$1 ($2)"; }
expect_le() { [ "$2" -le "$3" ] || fail "$1: got $2, want <= $3"; ok "$1 ($2 <= $3)"; }
expect_ge() { [ "$2" -ge "$3" ] || fail "$1: got $2, want >= $3"; ok "$1 ($2 >= $3)"; }
# expect_status WANT WHAT -- CMD...: run CMD, check its exit status
expect_status() {
	local want=$1 what=$2 st=0
	shift 3
	"$@" || st=$?
	[ "$st" = "$want" ] || fail "$what: exit status $st, want $want"
	ok "$what (exit $st)"
}

ctpool() { "$CTPOOL" "$@"; }

# Tiny readers for ctpool's own JSON (compact, one level; python would cost
# 1.5s per call under TCG). jget FIELD: value of FIELD in a flat object on stdin
# (strings unquoted, null/true/false as words). jsel NAME: from an array on
# stdin, the object whose "name" is NAME (one line). jcount: objects in an array.
jget() { sed -n 's/.*[{,]"'"$1"'":\("\([^"]*\)"\|\([^,}]*\)\).*/\2\3/p' | head -n 1; }
jsplit() { sed 's/},{/}\n{/g'; }
jsel() { jsplit | grep -F "\"name\":\"$1\"," || true; }
jcount() { jsplit | grep -c '"name":' || true; }

pool_field() { ctpool pool status "${2:-tp}" --json | jget "$1"; }

# vol_field NAME FIELD
vol_field() { ctpool list --json | jsel "$1" | jget "$2"; }

load_targets() {
	# crc32c_generic before libcrc32c, or dm-persistent-data has unknown symbols
	modprobe crc32c_generic && modprobe libcrc32c
	if [ "$POOL_TARGET" = thin-pool ]; then
		modprobe dm-thin-pool
	elif ! grep -q '^dm_ctpool ' /proc/modules; then
		local ko=$ROOT/dm-ctpool.ko deps
		[ -f "$ko" ] || fail "$ko not built (make module)"
		deps=$(modinfo -F depends "$ko" | tr , ' ')
		[ -z "$deps" ] || modprobe -a $deps
		insmod "$ko"
	fi
	modprobe loop 2>/dev/null || true
	modprobe ext4 2>/dev/null || true
}

t_cleanup() {
	local st=$?
	set +e
	# leave nothing behind for the next test
	for c in $("$CTPOOL" container list --json 2>/dev/null | jsplit | grep '"running":true' | jget name); do
		"$CTPOOL" -q container stop "$c" --timeout 1 >/dev/null 2>&1
	done
	for p in $(ls "$CTPOOL_STATE_DIR/pools" 2>/dev/null | sed -n 's/\.conf$//p'); do
		"$CTPOOL" -q pool remove "$p" --force >/dev/null 2>&1
	done
	rm -rf "$T_WORK"
	if [ $st -ne 0 ] && [ $T_FAILED -eq 0 ]; then
		T_CHECKS=$((T_CHECKS + 1)); T_FAILED=1
		echo "not ok $T_CHECKS - $T_NAME: aborted with status $st (an unchecked command failed)"
	fi
	echo "# targets $POOL_TARGET/$THIN_TARGET"
	echo "$((T_CHECKS - T_FAILED)) passed, $T_FAILED failed"
	exit $st
}
trap t_cleanup EXIT

# A busybox root filesystem tarball: busybox-static + applet links, /etc/passwd...
make_busybox_tar() {
	local out=$1 r=$T_WORK/bbroot
	local bb
	bb=$(command -v busybox)
	ldd "$bb" >/dev/null 2>&1 && fail "busybox is not static (install busybox-static)"
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,root,data,usr/bin,usr/sbin,var}
	chmod 1777 "$r/tmp"
	cp "$bb" "$r/bin/busybox"
	# one process for the ~400 applet links (a fork per link is slow under TCG)
	"$bb" --list | $PY -c 'import os,sys
for a in sys.stdin.read().split():
    if a != "busybox": os.symlink("/bin/busybox", os.path.join(sys.argv[1], a))' "$r/bin"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
	echo "image-v1" > "$r/etc/image-release"
	tar --numeric-owner -C "$r" -czf "$out" .
}

# runtime_setup: what every runtime-*.sh starts from: pool tp on the first two
# scratch disks (MDEV, DDEV; --wipe, since earlier tests may have left a pool)
# and the busybox image archive $T_WORK/bb.tar.gz.
runtime_setup() {
	read -r MDEV DDEV _ <<< "${VM_DISKS:-/dev/vda /dev/vdb}"
	ctpool pool create tp --metadata "$MDEV" --data "$DDEV" --block-size 64k --wipe
	make_busybox_tar "$T_WORK/bb.tar.gz"
}

# wait_running NAME: wait (up to 20 s) until container NAME runs; fail if not.
wait_running() {
	for i in $(seq 100); do
		[ "$(ctpool container list --json | jsel "$1" | jget running)" = true ] && return 0
		sleep 0.2
	done
	fail "container $1 did not start"
}
# run_detached NAME [OPTIONS] -- CMD...: `ctpool container run` in the
# background, its pid in runner; returns once NAME runs.
run_detached() {
	ctpool container run "$@" &
	runner=$!
	wait_running "$1"
}

# in_volume NAME SHELL-CMD: run SHELL-CMD (bash) with $M the filesystem of
# volume or image NAME, activated and mounted read-only for it.
in_volume() {
	local dev
	dev=$(ctpool activate "$1")
	mkdir -p "$T_WORK/img"
	mount -o ro,noload "$dev" "$T_WORK/img"
	M=$T_WORK/img bash -c "$2" || true
	umount "$T_WORK/img"
	ctpool deactivate "$1"
}

# host_dir_setup: HOST, a host directory hostile image layers aim at (a
# sentinel file to overwrite or link to, sub/ with a file), and its
# fingerprint HOST_FP (names, types, modes, link counts, sizes, mtimes and the
# files' contents). host_untouched WHAT checks it is exactly as it was.
host_dir_setup() {
	HOST=$T_WORK/host
	mkdir -p "$HOST/sub"
	echo "host secret" > "$HOST/sentinel"
	echo "host sub" > "$HOST/sub/file"
	HOST_FP=$(host_fp)
}
host_fp() {
	{ find "$HOST" -printf '%p %y %m %n %s %T@\n' | sort; cat "$HOST/sentinel" "$HOST/sub/file"; } |
		md5sum
}
host_untouched() { expect_eq "host directory untouched after $1" "$(host_fp)" "$HOST_FP"; }
