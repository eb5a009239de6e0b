# Helpers for VM tests (bash), sourced as:   . "$(dirname "$0")/lib.bash"
#
# A test is a bash script run as root inside the guest by qemu/run-vm.sh. It
# reports TAP-like lines ("ok N - ...", "not ok N - ...") and ends with
# "N passed, N failed"; its exit status is non-zero when any check failed or
# a command failed unexpectedly (the lib sets -e: an unchecked failure aborts
# the test and is reported as a failure with its line number).
#
# Scratch disks: DISKS=(/dev/vda /dev/vdb ...) from the run-vm.sh --disk options.
# The harness removes every dm device and unloads dm_ctpool/dm_thin_pool after
# each test, so tests need not clean up after a failure.

set -eu -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KO=$ROOT/dm-ctpool.ko
THINCTL=$ROOT/scripts/thinctl.sh
read -r -a DISKS <<< "${VM_DISKS:-}"
export DM_DISABLE_UDEV=1

_tap_n=0 _tap_failed=0 _err_line="" _err_cmd=""

# --- reporting ----------------------------------------------------------------

pass() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
fail() { _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
note() { echo "# $*"; }
# bail MSG: a failure after which the test cannot go on.
bail() { fail "$*"; _err_line=""; exit 1; }

_tap_finish() {
	local status=$?
	if [ $status -ne 0 ] && [ -n "$_err_line" ]; then
		fail "aborted: '$_err_cmd' failed (status $status) at line $_err_line"
	elif [ $status -ne 0 ] && [ $_tap_failed -eq 0 ]; then
		fail "aborted with status $status"
	fi
	echo "1..$_tap_n"
	echo "$((_tap_n - _tap_failed)) passed, $_tap_failed failed"
	[ $_tap_failed -eq 0 ] || exit 1
}
trap _tap_finish EXIT
trap '_err_line=$LINENO _err_cmd=$BASH_COMMAND' ERR

# --- assertions (non-fatal: they report and the test goes on) -----------------

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc (command: $*)"; fi
}
# check_fails DESC CMD...: passes when CMD fails.
check_fails() {
	local desc=$1; shift
	if "$@"; then fail "$desc (unexpectedly succeeded: $*)"; else pass "$desc"; fi
}
assert_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
assert_ne() {
	if [ "$2" != "$3" ]; then pass "$1"; else fail "$1: both are '$2'"; fi
}
# assert_match DESC EXTENDED_REGEX TEXT
assert_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"
	else fail "$1: /$2/ not found in: $(printf '%s' "$3" | head -c 500)"; fi
}
assert_no_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then fail "$1: /$2/ found in: $(printf '%s' "$3" | head -c 500)"
	else pass "$1"; fi
}
# must CMD...: run CMD; if it fails the test stops here.
must() { "$@" || bail "command failed: $*"; }

need_disks() {
	[ ${#DISKS[@]} -ge "$1" ] || bail "needs $1 scratch disks, got ${#DISKS[@]} (run-vm.sh --disk)"
}

# --- modules -------------------------------------------------------------------

# crc32c_generic must be in before libcrc32c, or dm-persistent-data fails
# with "unknown symbol".
_load_crc() { modprobe crc32c_generic && modprobe libcrc32c; }

# load_ctpool [PARAM=VALUE...]: insmod the project's module and its deps.
load_ctpool() {
	[ -f "$KO" ] || bail "$KO not built (make module)"
	_load_crc
	local deps
	deps=$(modinfo -F depends "$KO" | tr , ' ')
	[ -z "$deps" ] || modprobe -a $deps
	insmod "$KO" "$@"
}
unload_ctpool() { rmmod dm_ctpool; }
load_dm_thin() { _load_crc && modprobe dm-thin-pool; }
unload_dm_thin() { modprobe -r dm_thin_pool; }
module_loaded() { grep -q "^$1 " /proc/modules; }

# target_version NAME: "v1.22.0" if registered, nothing otherwise.
target_version() { dmsetup targets | awk -v t="$1" '$1 == t { print $2 }'; }

# --- pools and thins -----------------------------------------------------------

# Choose which targets scripts/thinctl.sh drives.
use_kernel_targets() { export POOL_TARGET=thin-pool THIN_TARGET=thin; }
use_ctpool_targets() { export POOL_TARGET=ctpool THIN_TARGET=ctthin; }
use_ctpool_targets
thinctl() { sh "$THINCTL" "$@"; }

# carve NAME DEV START SIZE: a linear dm device over part of a disk (sectors
# or K/M/G), so small metadata/data devices come out of big scratch disks.
carve() {
	dmsetup create "$1" --table "0 $(_sectors "$4") linear $2 $(_sectors "$3")"
}
_sectors() {
	case $1 in
	*[Kk]) echo $(( ${1%?} * 2 )) ;;
	*[Mm]) echo $(( ${1%?} * 2048 )) ;;
	*[Gg]) echo $(( ${1%?} * 2048 * 1024 )) ;;
	*) echo "$1" ;;
	esac
}

# carve_pool [DATA_SIZE]: pool "pool" (64 KiB blocks, low water 0) on tmeta
# (16M at the start of DISKS[0]) and tdata (DATA_SIZE, default 256M, at the
# start of DISKS[1]), with the targets thinctl is set to use.
carve_pool() {
	must carve tmeta "${DISKS[0]}" 0 16M
	must carve tdata "${DISKS[1]}" 0 "${1:-256M}"
	must thinctl pool-create pool /dev/mapper/tmeta /dev/mapper/tdata 128 0
}

# carve_pool_pair A B DATA_SIZE: the devices of two pools side by side, for
# the tests that compare them: ${A}meta and ${B}meta (16M each) at the start
# of DISKS[0], ${A}data and ${B}data (DATA_SIZE each) at the start of
# DISKS[1].
carve_pool_pair() {
	need_disks 2
	must carve "${1}meta" "${DISKS[0]}" 0 16M
	must carve "${2}meta" "${DISKS[0]}" 16M 16M
	must carve "${1}data" "${DISKS[1]}" 0 "$3"
	must carve "${2}data" "${DISKS[1]}" "$3" "$3"
}

# rand_files: /tmp/rand8 (8 MiB) and /tmp/rand4k (4 KiB) of random bytes,
# data to write and read back.
rand_files() {
	must dd if=/dev/urandom of=/tmp/rand8 bs=1M count=8 status=none
	must dd if=/dev/urandom of=/tmp/rand4k bs=4k count=1 status=none
}

# dm_events DEV: DEV's dm event number.
dm_events() { dmsetup info "$1" | awk '/Event number/ { print $3 }'; }

# check_event DEV BEFORE [WHAT]: DEV sent a dm event since its event number
# was BEFORE ("WHAT: dm event sent", or without WHAT "dm event sent").
check_event() {
	local pre=${3:+$3: }
	if [ "$(dm_events "$1")" -gt "$2" ]; then pass "${pre}dm event sent"
	else fail "${pre}no dm event (event number still $2)"; fi
}

# zero_dev DEV [MiB]: zero the start of a device (default 1 MiB).
zero_dev() { dd if=/dev/zero of="$1" bs=1M count="${2:-1}" oflag=direct status=none; }

# dev_md5 DEV [MiB]: checksum of a device (or of its first MiB).
dev_md5() {
	if [ $# -ge 2 ]; then
		dd if="$1" bs=1M count="$2" iflag=direct status=none | md5sum | cut -d' ' -f1
	else
		dd if="$1" bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1
	fi
}

# fio_verify DEV SIZE [FIO ARGS...]: write SIZE with crc32c verify headers,
# then read it all back and verify. Short and direct, for TCG speed.
fio_verify() {
	local dev=$1 size=$2; shift 2
	fio --name=verify --filename="$dev" --size="$size" --rw=write --bs=64k \
		--direct=1 --ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --output-format=terse --minimal "$@" > /dev/null
}
