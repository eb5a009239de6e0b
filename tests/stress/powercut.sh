#!/bin/bash
# Power cut (make stress): boot the guest on disks that persist across boots,
# run a write-heavy workload on a pool (provisioning, overwrites, snapshots,
# discards, deletes, fsyncs) and cut the power (sysrq b) at a random moment;
# boot again and check: thin_check clean, the pool activates read-write, and
# every thin reads back what was durable (flushed or committed by a message)
# and nothing that was never written (tests/stress/powercut.py). Repeats.
#
# Uses qemu/run-vm.sh's pieces (kernel, initramfs, 9p ctl share and init
# protocol) but keeps its own disk and ctl directory across boots.
#
# usage: tests/stress/powercut.sh [CUTS] [kernel|ctpool] [MAX_DELAY_S]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CUTS=${1:-20} TARGETS=${2:-ctpool} MAXD=${3:-12}
KVER=${KVER:-$(ls -1 /lib/modules | sort -V | tail -n 1)}
initrd=$(KVER=$KVER sh "$ROOT/qemu/mkinitramfs.sh")
work=$(mktemp -d "${TMPDIR:-/tmp}/ctpool-powercut.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ctl"
truncate -s 1G "$work/disk0.img"
seed=${SEED:-$RANDOM}
echo "# power cut: $CUTS cuts on $TARGETS, seed $seed, work dir $work"
passed=0 failed=0
for ((i = 1; i <= CUTS + 1; i++)); do
	rm -f "$work/ctl/job" "$work/ctl/iter-$i.result"
	last=""
	[ $i -le "$CUTS" ] || last=last
	printf 'exec bash %q %q %q %q %q %q %q\n' "$ROOT/tests/stress/powercut-guest.sh" /ctl "$i" \
		"$TARGETS" "$seed" "$MAXD" "$last" > "$work/ctl/job"
	timeout -k 5 600 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
		-nodefaults -display none -no-reboot \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=5 panic=-1 oops=panic no_timer_check" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$work/ctl,mount_tag=ctl,security_model=none,multidevs=remap" \
		-drive "file=$work/disk0.img,format=raw,if=virtio,cache=none" \
		-serial "file:$work/console-$i.log" -monitor none 2> "$work/qemu.err"
	res=$(cat "$work/ctl/iter-$i.result" 2>/dev/null || echo "FAIL the guest died before checking (see console)")
	if [ $i -eq 1 ]; then
		echo "# boot 1: pool created, workload started"
	fi
	case $res in
	OK*) passed=$((passed + 1)); echo "ok $i - after cut $((i - 1)): ${res#OK }" ;;
	*) failed=$((failed + 1)); echo "not ok $i - after cut $((i - 1)): $res"
	   tail -n 30 "$work/ctl/iter-$i.log" 2>/dev/null | sed 's/^/    | /'
	   sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$work/console-$i.log" | grep -E -A12 'BUG|Oops|WARNING|blocked' | head -40 | sed 's/^/    | /'
	   break ;;
	esac
done
echo "# power cuts survived: $((passed - 1)) of $CUTS"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
