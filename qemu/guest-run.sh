#!/bin/bash
# Runs inside the guest (chrooted on the host's root) and executes tests for
# qemu/run-vm.sh. Results go to the writable 9p share CTL, never to the serial
# console, so the host reads them without parsing boot noise:
#   CTL/results       one line per finished test: "INDEX STATUS SECONDS NAME"
#   CTL/logs/I.out    the test's stdout+stderr
#   CTL/logs/I.dmesg  kernel log produced during the test and its cleanup
#   CTL/done          written last: the guest got through the whole list
#
# usage: guest-run.sh CTL single SCRIPT [ARGS...]
#        guest-run.sh CTL multi TEST...
set -u

CTL=$1 MODE=$2
shift 2
mkdir -p "$CTL/logs"
[ -f "$CTL/env" ] && . "$CTL/env"   # VM_DISKS, VM_TEST_TIMEOUT written by the host
TEST_TIMEOUT=${VM_TEST_TIMEOUT:-600}
export VM_DISKS VM_DISK_OPTS

dmesg > "$CTL/logs/boot.dmesg"
dmesg -C

# Leave the guest as the next test expects to find it: no device-mapper
# devices, no project or dm-thin module loaded, scratch disks all zeros (so
# no test finds the previous one's metadata). Write-zeroes on the disks
# becomes hole punching in the host's sparse files: fast, and stays sparse.
cleanup() {
	local i d
	# Filesystems left mounted on test devices would keep them busy.
	awk '$1 ~ /^\/dev\/(mapper|dm-|loop|vd)/ { print $2 }' /proc/mounts | sort -r |
		while read -r d; do umount -l "$d"; done
	for i in 1 2 3; do
		[ -z "$(dmsetup ls 2>/dev/null | grep -v '^No devices found')" ] && break
		dmsetup remove_all --force >/dev/null 2>&1
		sleep 1
	done
	losetup -D 2>/dev/null
	for m in dm_ctpool dm_thin_pool; do
		grep -q "^$m " /proc/modules && rmmod "$m"
	done
	# On plain disks (--plain-disks: no detect-zeroes) BLKZEROOUT writes
	# every zero into the sparse file behind the disk (a 132 GiB scale-bench
	# disk filled the host); a discard punches the hole instead, and the
	# raw file reads zeroes there.
	local zero="blkdiscard -z -f"
	case ${VM_DISK_OPTS:-} in
	*detect-zeroes=off*) zero="blkdiscard -f" ;;
	esac
	for d in $VM_DISKS; do
		$zero "$d" 2>/dev/null || echo "guest-run: cannot zero $d"
	done
	return 0
}

# run_one INDEX SCRIPT [ARGS...]
run_one() {
	local idx=$1 script=$2 name start status
	shift 2
	name=$(basename "$script" .sh)
	start=$(date +%s)
	echo "=== $name" > /dev/kmsg
	(
		dir=$(mktemp -d /tmp/test.XXXXXX) && cd "$dir" &&
		exec timeout --kill-after=10 "$TEST_TIMEOUT" bash "$script" "$@"
	) > "$CTL/logs/$idx.out" 2>&1 < /dev/null
	status=$?
	[ $status -eq 124 ] && echo "guest-run: test timed out after ${TEST_TIMEOUT}s" >> "$CTL/logs/$idx.out"
	cleanup >> "$CTL/logs/$idx.out" 2>&1
	dmesg -c > "$CTL/logs/$idx.dmesg"
	echo "$idx $status $(( $(date +%s) - start )) $name" >> "$CTL/results"
}

case $MODE in
single)
	run_one 1 "$@"
	;;
multi)
	i=1
	for t in "$@"; do
		run_one $i "$t"
		i=$((i + 1))
	done
	;;
esac
sync
echo complete > "$CTL/done"
