#!/bin/bash
# vm-options: --disk 64M --disk 512M
# Attacks on the runtime through its state store and its edges (issue 12,
# findings 5 and 7), each of which must fail:
# - a newline in a tarball path or an attach PATH must not add a key to a
#   record (dm_name of another device, privileged=1 for later execs);
# - a record edited by hand (a duplicate key appended) is an error, not a
#   different record: exec refuses, list and gc exit non-zero;
# - exec joins only the container's own cgroup2 directory: not a plain file
#   that CTPOOL_CGROUP_ROOT leads to, not another cgroup;
# - on a cgroup v1/hybrid host, ctpool refuses instead of mounting cgroup2
#   over the host's /sys/fs/cgroup (a v1 layout in a private mount namespace);
# - a --block volume still open in the container cannot be detached, nor a
#   filesystem volume with a file open on it (no lazy unmount);
# - a hot-plugged filesystem is nosuid,nodev: a setuid binary or a device node
#   on the volume grants nothing, even in a --privileged container;
# - --cpus nan/inf/1e300/-1/0 are usage errors.
. "$(dirname "$0")/cli-lib.bash"
load_targets

runtime_setup
record() { cat "$CTPOOL_STATE_DIR/volumes/$1"; }
# key KEY RECORD: every value of KEY in the record file, one per line
key() { sed -n "s/^$1=//p" "$CTPOOL_STATE_DIR/volumes/$2"; }
expect_match() { echo "$2" | grep -Eq -- "$3" || fail "$1: got '$2', want /$3/"; ok "$1 ($(echo $2 | head -c 200))"; }

# --- finding 5: a newline in a tarball path stays inside the "source" value
evil="$T_WORK/bb.tar.gz
dm_name=vg-root"
cp "$T_WORK/bb.tar.gz" "$evil"
ctpool image import bb "$evil" --size 16M
expect_eq "image record: one dm_name, its own" "$(key dm_name bb | tr '\n' ' ')" "tp-bb "
expect_eq "the image's device is its own" "$(ctpool activate bb)" /dev/mapper/tp-bb
ctpool deactivate bb
expect_eq "no key came from the path" "$(record bb | grep -c '^dm_name=\|^privileged=' || true)" 1

ctpool container create c1 --image bb

# --- --cpus: only a finite number of CPUs this machine has
for v in nan inf -inf 1e300 -1 0 0.001 1000000 '' 1x; do
	expect_status 2 "--cpus '$v' refused" -- ctpool container run c1 --cpus "$v" -- true
done
expect_eq "--cpus 1 still works" "$(ctpool container run c1 --cpus 1 -- cat /sys/fs/cgroup/cpu.max)" "100000 100000"

# --- a cgroup v1/hybrid layout at /sys/fs/cgroup: refused, nothing mounted over it
outer=$(stat -f -c %T /sys/fs/cgroup)
out=$(unshare -m --propagation private sh -c '
	mount -t tmpfs cgroup-v1-root /sys/fs/cgroup && mkdir /sys/fs/cgroup/ctpooltest &&
	mount -t cgroup -o none,name=ctpooltest cgroup /sys/fs/cgroup/ctpooltest || exit 9
	before=$(grep -c " /sys/fs/cgroup " /proc/self/mounts)
	"$0" container run c1 -- true; echo "status $?"
	echo "fs $(stat -f -c %T /sys/fs/cgroup), $(grep -c " /sys/fs/cgroup " /proc/self/mounts) mounts there, $before before"' "$CTPOOL" 2>&1) || true
log "$out"
expect_match "cgroup v1 host: run refused with a clear error" "$out" "cgroup v1 or hybrid host"
expect_match "cgroup v1 host: exit status 1" "$out" "^status 1$"
expect_match "cgroup v1 host: its /sys/fs/cgroup is still the tmpfs, no cgroup2 on it" "$out" "^fs tmpfs, ([0-9]+) mounts there, \\1 before$"
expect_eq "the outer /sys/fs/cgroup unchanged" "$(stat -f -c %T /sys/fs/cgroup)" "$outer"
expect_eq "c1 left stopped, its volume inactive" "$(ctpool container list --json | jsel c1 | jget running) $(dmsetup ls | grep -c tp-c1 || true)" "false 0"

run_detached c1 -- sleep 600
STATUS_KEYS='grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\t" " "'
CONFINED="NoNewPrivs: 1 Seccomp: 2"
expect_eq "exec is confined" "$(echo $(ctpool container exec c1 -- sh -c "$STATUS_KEYS"))" "$CONFINED"

# --- finding 5: a newline in an attach PATH
ctpool create vol --size 16M
expect_status 2 "attach PATH with a newline refused" -- ctpool container attach c1 vol "/mnt/x
privileged=1" --mkfs
expect_eq "c1's record: privileged=0 only" "$(key privileged c1 | tr '\n' ' ')" "0 "
expect_eq "exec still confined" "$(echo $(ctpool container exec c1 -- sh -c "$STATUS_KEYS"))" "$CONFINED"
expect_eq "vol not attached, inactive" "$(key attached_to vol)$(dmsetup ls | grep -c tp-vol || true)" 0

# --- finding 7: exec joins only c1's own cgroup
mkdir -p "$T_WORK/fakecg/ctpool/c1"
: > "$T_WORK/fakecg/ctpool/c1/cgroup.procs"
expect_status 1 "exec with CTPOOL_CGROUP_ROOT at a plain directory (cgroup.procs a plain file) refused" -- env CTPOOL_CGROUP_ROOT="$T_WORK/fakecg" "$CTPOOL" container exec c1 -- true
expect_eq "nothing written to the fake cgroup.procs" "$(wc -c < "$T_WORK/fakecg/ctpool/c1/cgroup.procs")" 0
: > "$T_WORK/cgfile"
expect_status 1 "exec with CTPOOL_CGROUP_ROOT a plain file refused" -- env CTPOOL_CGROUP_ROOT="$T_WORK/cgfile" "$CTPOOL" container exec c1 -- true
# a real cgroup2 directory, but not the one c1 runs in (no limits, no device filter)
mkdir -p /sys/fs/cgroup/ctpool/ctpool/c1
expect_status 1 "exec into another cgroup (CTPOOL_CGROUP_ROOT changed since run) refused" -- env CTPOOL_CGROUP_ROOT=/sys/fs/cgroup/ctpool "$CTPOOL" container exec c1 -- true
expect_eq "nobody joined that other cgroup" "$(cat /sys/fs/cgroup/ctpool/ctpool/c1/cgroup.procs | wc -l)" 0
rmdir /sys/fs/cgroup/ctpool/ctpool/c1 /sys/fs/cgroup/ctpool/ctpool
expect_eq "exec with the right root still joins c1's cgroup" "$(ctpool container exec c1 -- cat /proc/self/cgroup)" "0::/"

# --- finding 7: detach of a block volume still open in the container
ctpool create raw --size 8M
ctpool container attach c1 raw /dev/xvdb --block
# the binary itself in the background, not the shell function: $! must be ctpool, which
# forwards the SIGTERM below to the holder inside the container
"$CTPOOL" container exec c1 -- sh -c 'exec 3<>/dev/xvdb; exec sleep 600' &
holder=$!
for i in $(seq 100); do
	[ "$(dmsetup info -c --noheadings -o open tp-raw 2>/dev/null | tr -d ' ')" = 1 ] && break
	sleep 0.2
done
expect_eq "a process in c1 holds the block volume open" "$(dmsetup info -c --noheadings -o open tp-raw | tr -d ' ')" 1
out=$("$CTPOOL" container detach c1 /dev/xvdb 2>&1) && fail "detach of an open block volume succeeded: $out"
expect_match "detach refused while the volume is open" "$out" "still open in container c1"
expect_eq "still attached: record, node" "$(key attach.raw c1) $(ctpool container exec c1 -- stat -c %F /dev/xvdb)" "block:/dev/xvdb block special file"
expect_eq "the device filter still lets c1 use it" "$(ctpool container exec c1 -- sh -c 'echo rawdata | dd of=/dev/xvdb bs=4k conv=sync 2>/dev/null && echo wrote')" wrote
kill $holder
wait $holder 2>/dev/null || true
for i in $(seq 100); do
	[ "$(dmsetup info -c --noheadings -o open tp-raw 2>/dev/null | tr -d ' ')" = 0 ] && break
	sleep 0.2
done
expect_status 0 "closed: detach works" -- ctpool container detach c1 /dev/xvdb
expect_eq "detached: record cleared, volume inactive" "$(key attach.raw c1)$(dmsetup ls | grep -c tp-raw || true)" 0

# --- finding 7: detach of a filesystem volume with a file still open in the container
ctpool create fsvol --size 16M
ctpool container attach c1 fsvol /mnt/fsvol --mkfs
"$CTPOOL" container exec c1 -- sh -c 'exec 3>>/mnt/fsvol/log; exec sleep 600' &
holder=$!
for i in $(seq 100); do
	ctpool container exec c1 -- sh -c 'ls -l /proc/*/fd 2>/dev/null' | grep -q /mnt/fsvol/log && break
	sleep 0.2
done
out=$("$CTPOOL" container detach c1 /mnt/fsvol 2>&1) && fail "detach of a busy filesystem succeeded: $out"
expect_match "detach refused while a file is open on it" "$out" "is busy"
expect_eq "still attached: record, mount" "$(key attach.fsvol c1) $(ctpool container exec c1 -- sh -c 'grep -c " /mnt/fsvol " /proc/mounts')" "fs:/mnt/fsvol 1"
kill $holder
wait $holder 2>/dev/null || true
for i in $(seq 100); do
	"$CTPOOL" container detach c1 /mnt/fsvol > /dev/null 2>&1 && break
	sleep 0.2
done
expect_eq "closed: detached, record cleared, volume inactive" "$(key attach.fsvol c1)$(ctpool container exec c1 -- sh -c 'grep -c " /mnt/fsvol " /proc/mounts || true')$(dmsetup ls | grep -c tp-fsvol || true)" 00

# --- finding 5: a record edited by hand (a duplicate key appended) is an error
cp "$CTPOOL_STATE_DIR/volumes/c1" "$T_WORK/c1.record"
echo privileged=1 >> "$CTPOOL_STATE_DIR/volumes/c1"
out=$("$CTPOOL" container exec c1 -- sh -c "$STATUS_KEYS" 2>&1) && fail "exec with a corrupt record ran: $out"
expect_match "exec refuses the corrupt record, naming it" "$out" "state record .*/volumes/c1 is corrupt"
expect_status 1 "container list exits non-zero" -- ctpool container list
expect_match "and still lists the others" "$(ctpool image list 2>/dev/null || true)" "^bb "
expect_status 1 "list exits non-zero" -- ctpool list
out=$("$CTPOOL" gc 2>&1) && fail "gc ran with a corrupt record: $out"
expect_match "gc deletes nothing while a record is corrupt" "$out" "record cannot be read"
head -c -1 "$T_WORK/c1.record" > "$CTPOOL_STATE_DIR/volumes/c1"
expect_status 1 "a truncated record is an error too" -- ctpool container exec c1 -- true
cp "$T_WORK/c1.record" "$CTPOOL_STATE_DIR/volumes/c1"
expect_eq "repaired: exec confined again" "$(echo $(ctpool container exec c1 -- sh -c "$STATUS_KEYS"))" "$CONFINED"
ctpool container stop c1 --timeout 5
wait $runner 2>/dev/null || true

# --- finding 7: a hot-plugged filesystem is nosuid,nodev
# The volume's content is hostile: a setuid-root probe that reports its
# effective uid after dropping to nobody and re-executing itself, and a node
# for the pool's data disk. A --privileged container (no no_new_privs, no
# device filter) shows what the mount flags alone stop.
cat > "$T_WORK/probe.c" <<'EOF'
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "drop")) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			return 2;
		execl(argv[0], argv[0], (char *)NULL);
		return 3;
	}
	printf("euid %d\n", (int)geteuid());
	return 0;
}
EOF
gcc -static -O -o "$T_WORK/probe" "$T_WORK/probe.c" || fail "cannot build the setuid probe"
read -r dmaj dmin <<< "$(stat -L -c '%t %T' "$DDEV")"
vdev=$(ctpool activate vol)
mkfs.ext4 -q -F "$vdev"
mkdir -p "$T_WORK/v"
chmod 755 "$T_WORK" # the probe re-executes itself as nobody
mount "$vdev" "$T_WORK/v"
install -m 4755 -o 0 -g 0 "$T_WORK/probe" "$T_WORK/v/probe"
mknod -m 0666 "$T_WORK/v/disk" b $((0x$dmaj)) $((0x$dmin))
expect_eq "the probe works where setuid is honoured" "$("$T_WORK/v/probe" drop)" "euid 0"
umount "$T_WORK/v"
ctpool deactivate vol
ctpool container create c2 --image bb
run_detached c2 --privileged -- sleep 600
ctpool container attach c2 vol /mnt/v
expect_match "mounted nosuid,nodev in the container" "$(ctpool container exec c2 -- grep ' /mnt/v ' /proc/self/mountinfo)" "[ ,]nosuid,nodev[ ,]"
expect_eq "setuid bit on the volume grants nothing" "$(ctpool container exec c2 -- /mnt/v/probe drop)" "euid 65534"
expect_match "device node on the volume cannot be opened" "$(ctpool container exec c2 -- sh -c 'head -c 512 /mnt/v/disk >/dev/null && echo OPENED' 2>&1 || true)" "Permission denied"
ctpool container stop c2 --timeout 5
wait $runner 2>/dev/null || true

# --- cleanup
ctpool container rm c1
ctpool container rm c2
ctpool delete vol
ctpool delete raw
ctpool delete fsvol
ctpool image rm bb
expect_eq "nothing left in the store" "$(ctpool list --json)" "[]"
expect_eq "pool empty again" "$(pool_field data_used)" 0
