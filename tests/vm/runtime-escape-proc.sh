#!/bin/bash
# vm-options: --disk 64M --disk 512M
# Attacks on the runtime from inside a container, each performed for real
# (issue 12, findings 2-4); each check fails without the defence:
#  - CVE-2019-5736: the container's /bin/sh is "#!/proc/self/exe" and its
#    /etc/ld.so.preload a payload that chmods/chowns/writes the binary that
#    exec'd it. The host's ctpool binary must keep its hash, mode and owner
#    (run and exec re-exec from a sealed memfd copy of themselves).
#  - CVE-2024-21626: a descriptor the caller holds (7</etc) or libdevmapper's
#    /dev/mapper/control must not reach the container: only 0-2 are there.
#  - `kill -KILL 0` in the container must not kill the caller's process group.
#  - TIOCSTI from the container must not type into the caller's terminal,
#    with or without -t (-t gives the container a pty of its own).
. "$(dirname "$0")/cli-lib.bash"
load_targets
HELPERS=$ROOT/tests/vm/escape

runtime_setup
cc -O2 -Wall -Werror -static -o "$T_WORK/bbroot/bin/tty-inject" "$HELPERS/tty-inject.c"
tar --numeric-owner -C "$T_WORK/bbroot" -czf "$T_WORK/bb.tar.gz" .
ctpool image import bb "$T_WORK/bb.tar.gz" --size 32M

# The attack image: busybox, the dynamic loader and every library the ctpool
# binary needs (so the kernel can run it inside the container), the payload
# in /etc/ld.so.preload, and /bin/sh replaced by "#!/proc/self/exe".
r=$T_WORK/bbroot
for lib in $(ldd "$CTPOOL" | grep -o '/[^ ]*'); do
	mkdir -p "$r$(dirname "$lib")"
	cp -L "$lib" "$r$lib"
done
cc -O2 -Wall -Werror -shared -fPIC -o "$r/lib/exe-payload.so" "$HELPERS/exe-payload.c"
echo /lib/exe-payload.so > "$r/etc/ld.so.preload"
rm "$r/bin/sh"
printf '#!/proc/self/exe\n' > "$r/bin/sh"
chmod 755 "$r/bin/sh"
tar --numeric-owner -C "$r" -czf "$T_WORK/evil.tar.gz" .
# every library ctpool links (libarchive brings libxml2 and ICU: over 40 MiB)
ctpool image import evil "$T_WORK/evil.tar.gz" --size 128M

ctpool container create c1 --image bb
ctpool container create ev --image evil

# --- CVE-2019-5736: /proc/self/exe
bin_state() { echo "$(sha256sum < "$CTPOOL" | cut -d' ' -f1) $(stat -c '%a %u:%g' "$CTPOOL")"; }
before=$(bin_state)
payload_log() { ctpool container run ev -- busybox cat /exe-payload.log; }
st=0; ctpool container run ev -- /bin/sh || st=$?
expect_eq "run: the payload ran (the trap /bin/sh exec'd the runtime's binary with the container's loader)" "$st $(payload_log | grep -c '^payload ran')" "42 1"
log "$(payload_log)"
expect_eq "run: the host's ctpool binary is unchanged (hash, mode, owner)" "$(bin_state)" "$before"
expect_eq "run: what the container executed was a memfd copy" "$(payload_log | sed -n 's|^/proc/self/exe readlink=\(/memfd:ctpool\).*|\1|p')" /memfd:ctpool
ctpool container run ev -- busybox rm /exe-payload.log

run_detached ev -- busybox sleep 600
st=0; ctpool container exec ev -- /bin/sh || st=$?
log "$(ctpool container exec ev -- busybox cat /exe-payload.log)"
expect_eq "exec: the payload ran" "$st $(ctpool container exec ev -- busybox grep -c '^payload ran' /exe-payload.log)" "42 1"
expect_eq "exec: the host's ctpool binary is unchanged (hash, mode, owner)" "$(bin_state)" "$before"
expect_eq "exec: what the container executed was a memfd copy" "$(ctpool container exec ev -- busybox sed -n 's|^/proc/self/exe readlink=\(/memfd:ctpool\).*|\1|p' /exe-payload.log)" /memfd:ctpool
ctpool container stop ev --timeout 2
wait $runner || true
# --privileged keeps CAP_SYS_PTRACE: /proc/1/exe (the container's init) is readable there
expect_eq "--privileged: /proc/1/exe is a sealed memfd, not the host binary" "$(ctpool container run c1 --privileged -- readlink /proc/1/exe)" "/memfd:ctpool (deleted)"
expect_eq "--privileged: writing to /proc/1/exe fails" "$(ctpool container run c1 --privileged -- sh -c 'echo x >> /proc/1/exe && echo WROTE' 2>/dev/null || echo refused)" refused
expect_eq "and nothing changed the host's binary" "$(bin_state)" "$before"

# --- CVE-2024-21626: leaked descriptors. The container's command, a shell,
# has ls list the shell's descriptors (/proc/$$/fd; "; true" keeps the shell
# from exec'ing ls, whose own directory fd would be listed); each shown as
# "N->TARGET": only 0-2 may be there.
fd_list() { sed -n 's/.* \([0-9]*\) -> \(.*\)$/\1->\2/p' | tr '\n' ' '; }
fd_numbers() { sed 's/->[^ ]*//g'; }
OWN_FDS='ls -l /proc/$$/fd; true'
exec 7</etc
fds=$(ctpool container run c1 -- sh -c "$OWN_FDS" | fd_list)
log "run: $fds"
expect_eq "run: no descriptor beyond 0-2 (the caller holds 7</etc)" "$(echo "$fds" | fd_numbers)" "0 1 2 "
expect_status 1 "run: /proc/self/fd/7/hostname is not the host's" -- ctpool container run c1 -- sh -c 'cat /proc/self/fd/7/hostname 2>/dev/null'
run_detached c1 -- sleep 600
fds=$(ctpool container exec c1 -- sh -c "$OWN_FDS" | fd_list)
log "exec: $fds"
expect_eq "exec: no descriptor beyond 0-2 (the caller holds 7</etc)" "$(echo "$fds" | fd_numbers)" "0 1 2 "
expect_status 1 "exec: /proc/self/fd/7/hostname is not the host's" -- ctpool container exec c1 -- sh -c 'cat /proc/self/fd/7/hostname 2>/dev/null'
expect_eq "the container's init holds no descriptor beyond 0-2 either" "$(ls /proc/"$(ctpool container list --json | jsel c1 | jget pid)"/fd | awk '$1 > 2' | wc -l)" 0
exec 7<&-

# --- kill -KILL 0: the caller is a shell in a session of its own, ctpool in its process group
expect_eq "exec: kill -KILL 0 in the container leaves the calling shell alive" "$(setsid bash -c '"$0" container exec c1 -- sh -c "kill -KILL 0"; echo "caller survived, status $?"' "$CTPOOL")" "caller survived, status 137"
ctpool container stop c1 --timeout 2
wait $runner || true
expect_eq "run: kill -KILL 0 in the container leaves the calling shell alive" "$(setsid bash -c '"$0" container run c1 -- sh -c "kill -KILL 0"; echo "caller survived, status $?"' "$CTPOOL")" "caller survived, status 137"

# --- TIOCSTI into the caller's terminal. The caller is an interactive-like
# shell on a pty of its own (pty-run.py); after the container it reads a line
# from its terminal, which holds what the container injected, if anything.
tty_attack() {
	/usr/bin/python3 "$HELPERS/pty-run.py" "$CTPOOL container $* /bin/tty-inject; read -t 5 line; echo \"caller read: [\$line]\""
}
out=$(tty_attack run c1 --)
log "$out"
expect_eq "run: TIOCSTI does not reach the caller's terminal" "$(echo "$out" | grep '^caller read:')" "caller read: []"
out=$(tty_attack run c1 -t --)
log "$out"
expect_eq "run -t: TIOCSTI does not reach the caller's terminal" "$(echo "$out" | grep '^caller read:')" "caller read: []"
expect_eq "run -t: the container's own pty took the input" "$(echo "$out" | grep -c '^tiocsti fd [0-2]: ok$')" 3
run_detached c1 -- sleep 600
out=$(tty_attack exec c1 --)
log "$out"
expect_eq "exec: TIOCSTI does not reach the caller's terminal" "$(echo "$out" | grep '^caller read:')" "caller read: []"
out=$(tty_attack exec -t c1 --)
log "$out"
expect_eq "exec -t: TIOCSTI does not reach the caller's terminal" "$(echo "$out" | grep '^caller read:')" "caller read: []"
expect_eq "exec -t: a terminal in the container, stdin and stdout" "$(ctpool container exec -t c1 -- sh -c 'test -t 0 && test -t 1 && echo tty' < /dev/null | tr -d '\r')" tty
expect_eq "exec without -t: no terminal in the container" "$(/usr/bin/python3 "$HELPERS/pty-run.py" "$CTPOOL container exec c1 -- sh -c 'test -t 0 || test -t 1 || test -t 2 || echo no-tty'" | head -1)" no-tty
ctpool container stop c1 --timeout 2
wait $runner || true
