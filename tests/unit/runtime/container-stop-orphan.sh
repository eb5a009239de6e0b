#!/bin/sh
# `ctpool container stop` on a container whose runner and init both died (the
# record still says status=running, neither pid is alive): stop must tear it
# down, so the record ends stopped with its init_pid cleared. No device is
# involved: the record's volume was never activated, so the teardown's dm
# calls find nothing to do (and no /dev/mapper is needed).
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
ctpool=$top/build/ctpool
. "$top/tests/unit/result-lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state/volumes" "$tmp/state/pools"
# pids far above pid_max: never alive
printf '%s\n' kind=container pool=p image=img status=running init_pid=99999999 \
	init_start=1 runner_pid=99999998 runner_start=1 id=1 '#end' \
	> "$tmp/state/volumes/c1"

CTPOOL_STATE_DIR=$tmp/state CTPOOL_CGROUP_ROOT=$tmp/no-cgroup \
	"$ctpool" container stop c1 > "$tmp/out" 2>&1
result $? "container stop of an orphaned container exits 0"
grep -qx 'status=stopped' "$tmp/state/volumes/c1"
result $? "the record says stopped after stop (teardown ran)"
grep -qx 'init_pid=0' "$tmp/state/volumes/c1"
result $? "the record's init_pid is cleared"
[ "$failed" -eq 0 ] || { cat "$tmp/out"; cat "$tmp/state/volumes/c1"; }

summary
