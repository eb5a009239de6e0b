#!/bin/bash
# Boot the installed Debian kernel in QEMU (TCG: KVM does not work on this
# machine kind) and run a script, or a list of tests, inside it as root.
#
#   qemu/run-vm.sh [options] SCRIPT [ARGS...]      run one script; its output is
#                                                  streamed, its exit status returned
#   qemu/run-vm.sh [options] --tests TEST|DIR...   run each test in the same boot;
#                                                  prints PASS/FAIL per test and
#                                                  "N passed, N failed"
#   qemu/run-vm.sh [options] --shell               interactive guest on this terminal
# options:
#   --disk SIZE        add a sparse scratch virtio disk (vda, vdb, ...); repeatable.
#                      Default: two 1G disks.
#   --timeout SECS     kill the guest after SECS (default 900, --tests: 180 + 600/test)
#   --test-timeout S   per-test limit enforced inside the guest (default 600)
#   (env VM_STALL_SECS, default 300: kill a QEMU whose CPU time stands still that long)
#   --mem MB           guest memory (default 2048)
#   --smp N            guest CPUs (default 2)
#   --append ARGS      more kernel command line (e.g. slab_nomerge); repeatable
#   --plain-disks      scratch disks behave like disks: cache=none, discards
#                      punch holes in the sparse file, but no detect-zeroes
#                      (writing zeroes costs what writing data costs). Also
#                      VM_PLAIN_DISKS=1. Default: detect-zeroes=unmap, which
#                      turns every write of zeroes into a cheap hole punch.
#
# The guest sees the host's root filesystem (read-only, with a tmpfs overlay),
# so SCRIPT is given by its host path. Results come back through a writable 9p
# share, never by parsing the serial console. A run fails when the script
# fails, the guest dies or times out, or the guest's kernel log shows a bug.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
KVER=${KVER:-$(ls -1 /lib/modules | sort -V | tail -n 1)}
KERNEL=/boot/vmlinuz-$KVER

# Kernel log lines that mark a run as failed, whatever the script said.
BAD_DMESG='(^|[^[:alnum:]_])(BUG|WARNING)([^[:alnum:]_]|$)|Oops|general protection|possible circular locking|INFO:|hung_task|blocked for more than|Call Trace'

usage() { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

disks=() timeout="" test_timeout=600 mem=2048 smp=2 mode=single append=""
plain_disks=${VM_PLAIN_DISKS:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--disk) disks+=("$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--plain-disks) plain_disks=1; shift ;;
	--tests) mode=multi; shift ;;
	--shell) mode=shell; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	-*) echo "run-vm: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
done
[ ${#disks[@]} -gt 0 ] || disks=(1G 1G)

# Resolve what to run into absolute host paths (the guest sees the same paths).
tests=()
case $mode in
single)
	[ $# -ge 1 ] || usage
	script=$(realpath "$1"); shift
	[ -f "$script" ] || { echo "run-vm: no such script: $script" >&2; exit 2; }
	tests=("$script")
	;;
multi)
	for t in "$@"; do
		if [ -d "$t" ]; then
			for f in "$t"/*.sh; do
				tests+=("$(realpath "$f")")  # helpers are *.bash
			done
		else
			tests+=("$(realpath "$t")")
		fi
	done
	[ ${#tests[@]} -gt 0 ] || { echo "run-vm: no tests given" >&2; exit 2; }
	;;
esac
[ -n "$timeout" ] || case $mode in
	multi) timeout=$((180 + test_timeout * ${#tests[@]})) ;;
	*) timeout=900 ;;
esac

[ -r "$KERNEL" ] || { echo "run-vm: no kernel $KERNEL (make deps)" >&2; exit 2; }
initrd=$(KVER=$KVER sh "$HERE/mkinitramfs.sh")

work=$(mktemp -d "${TMPDIR:-/tmp}/ctpool-vm.XXXXXX")
ctl=$work/ctl
mkdir -p "$ctl"
qemu_pid=""
cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drive_opts=format=raw,if=virtio,cache=none,discard=unmap
if [ "$plain_disks" = 1 ]; then
	drive_opts=$drive_opts,detect-zeroes=off
else
	drive_opts=$drive_opts,detect-zeroes=unmap
fi
drive_args=() guest_disks="" letter=({a..z})
for i in "${!disks[@]}"; do
	truncate -s "${disks[$i]}" "$work/disk$i.img"
	drive_args+=(-drive "file=$work/disk$i.img,$drive_opts")
	guest_disks="$guest_disks /dev/vd${letter[$i]}"
done
echo "VM_DISKS='${guest_disks# }'" > "$ctl/env"
echo "VM_DISK_OPTS='$drive_opts'" >> "$ctl/env"

case $mode in
single) printf 'exec bash %q %q single' "$HERE/guest-run.sh" /ctl > "$ctl/job"
	printf ' %q' "$script" "$@" >> "$ctl/job" ;;
multi) printf 'exec bash %q %q multi' "$HERE/guest-run.sh" /ctl > "$ctl/job"
	printf ' %q' "${tests[@]}" >> "$ctl/job" ;;
esac
[ "$mode" = shell ] || echo "VM_TEST_TIMEOUT=$test_timeout" >> "$ctl/env"

# oops=panic + panic=-1 + -no-reboot: a kernel oops ends the run at once
# instead of leaving a half-dead guest to time out.
# no_timer_check: under host load TCG can fail the IO-APIC timer test at boot.
qemu_args=(-accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem"
	-nodefaults -display none -no-reboot
	-kernel "$KERNEL" -initrd "$initrd"
	-append "console=ttyS0 loglevel=5 panic=-1 oops=panic no_timer_check$append"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=none,multidevs=remap"
	"${drive_args[@]}")

if [ "$mode" = shell ]; then
	# Start where the user is, with what tests/vm/lib.bash expects.
	{ echo '[ -f ~/.bashrc ] && . ~/.bashrc'
	  echo '. /ctl/env; export VM_DISKS'
	  printf 'cd %q\n' "$PWD"; } > "$ctl/shellrc"
	echo "run-vm: booting an interactive guest (Ctrl-A X quits QEMU)"
	qemu-system-x86_64 "${qemu_args[@]}" -serial mon:stdio
	exit 0
fi

start=$(date +%s)
timeout -k 5 "$timeout" qemu-system-x86_64 "${qemu_args[@]}" \
	-serial "file:$work/console.log" -monitor none 2> "$work/qemu.err" &
qemu_pid=$!

# --- results -----------------------------------------------------------------
passed=0 failed=0 reported=0 out_off=0 script_status=1

# Print the part of the single script's output that appeared since last time.
stream_output() {
	local f=$ctl/logs/1.out size
	[ -f "$f" ] || return 0
	size=$(stat -c %s "$f")
	[ "$size" -gt "$out_off" ] || return 0
	tail -c +$((out_off + 1)) "$f" | head -c $((size - out_off))
	out_off=$size
}

indent() { sed 's/^/    | /'; }

# report IDX STATUS SECS NAME: one test's verdict, from its status and dmesg.
report() {
	local idx=$1 status=$2 secs=$3 name=$4 why=""
	local dm=$ctl/logs/$idx.dmesg
	if [ "$status" -eq 124 ]; then why="timed out in the guest"
	elif [ "$status" -ne 0 ]; then why="exit status $status"
	fi
	if grep -Eq "$BAD_DMESG" "$dm" 2>/dev/null; then
		why="${why:+$why; }kernel log shows a problem"
	fi
	if [ "$mode" = single ]; then
		script_status=$status
		[ -z "$why" ] || [ "$status" -ne 0 ] || script_status=1
	fi
	if [ -z "$why" ]; then
		passed=$((passed + 1))
		[ "$mode" = single ] || echo "PASS $name (${secs}s)"
	else
		failed=$((failed + 1))
		echo "FAIL $name (${secs}s): $why"
		if [ "$mode" = multi ]; then
			echo "    --- output (last 40 lines):"
			tail -n 40 "$ctl/logs/$idx.out" | indent
		fi
		if grep -Eq "$BAD_DMESG" "$dm" 2>/dev/null; then
			echo "    --- kernel log:"
			grep -E -B2 -A20 "$BAD_DMESG" "$dm" | head -n 60 | indent
		fi
	fi
}

collect() {
	local idx status secs name n=0
	[ -f "$ctl/results" ] || return 0
	while read -r idx status secs name; do
		n=$((n + 1))
		[ $n -gt $reported ] || continue
		[ "$mode" = single ] && stream_output
		report "$idx" "$status" "$secs" "$name"
		reported=$n
	done < "$ctl/results"
}

# QEMU's CPU time (clock ticks), or nothing once it is gone.
qemu_cpu() {
	local p
	p=$(pgrep -P "$qemu_pid" | head -n 1) || return 0
	awk '{ print $14 + $15 }' "/proc/$p/stat" 2> /dev/null || true
}

# A QEMU that stops running its guest (seen once here under TCG: every
# thread waiting on a futex, no CPU time used, the in-guest test timeout
# never firing) would hold the run until the whole-run timeout, hours for a
# long --tests list. A guest, even idle, uses some CPU every few seconds:
# when QEMU's CPU time stands still for VM_STALL_SECS, it is killed.
stall_secs=${VM_STALL_SECS:-300} last_cpu="" last_change=$(date +%s) tick=0
watch_stall() {
	local cpu now
	tick=$((tick + 1))
	[ $((tick % 10)) -eq 0 ] || return 0
	cpu=$(qemu_cpu) now=$(date +%s)
	if [ -z "$cpu" ] || [ "$cpu" != "$last_cpu" ]; then
		last_cpu=$cpu last_change=$now
	elif [ $((now - last_change)) -ge "$stall_secs" ]; then
		echo "run-vm: QEMU used no CPU for ${stall_secs}s: killing it" >&2
		touch "$work/stalled"
		pkill -KILL -P "$qemu_pid" || true
	fi
}

while kill -0 "$qemu_pid" 2>/dev/null; do
	sleep 1
	[ "$mode" = single ] && stream_output
	collect
	watch_stall
done
wait "$qemu_pid" && qemu_status=0 || qemu_status=$?
qemu_pid=""
[ "$mode" = single ] && stream_output
collect

# A guest that never wrote "done" died (panic) or was killed by the timeout:
# every test without a result fails, and the console tells why.
if [ ! -f "$ctl/done" ]; then
	if [ -f "$work/stalled" ]; then
		why="QEMU stopped running the guest (no CPU time for ${stall_secs}s)"
	elif [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
		why="guest timed out after ${timeout}s"
	else
		why="guest died (qemu exit status $qemu_status)"
	fi
	for ((i = reported; i < ${#tests[@]}; i++)); do
		failed=$((failed + 1))
		echo "FAIL $(basename "${tests[$i]}" .sh): $why"
	done
	echo "    --- guest console (last 60 lines):"
	sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' "$work/console.log" | tail -n 60 | indent
	[ -s "$work/qemu.err" ] && { echo "    --- qemu stderr:"; tail -n 20 "$work/qemu.err" | indent; }
	[ "$mode" = single ] && { [ "$qemu_status" -eq 124 ] && exit 124; exit 1; }
fi

if grep -Eq "$BAD_DMESG" "$ctl/logs/boot.dmesg" 2>/dev/null; then
	failed=$((failed + 1))
	echo "FAIL boot: the kernel log shows a problem during boot"
	grep -E -B2 -A20 "$BAD_DMESG" "$ctl/logs/boot.dmesg" | head -n 40 | indent
	script_status=1
fi

elapsed=$(( $(date +%s) - start ))
if [ "$mode" = single ]; then
	echo "run-vm: $(basename "$script") exit status $script_status (VM ${elapsed}s)" >&2
	exit "$script_status"
fi
echo "# VM run: ${#tests[@]} tests in ${elapsed}s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
