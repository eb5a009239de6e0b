#!/bin/bash
# The container confinement (tools/runtime/confine.c) on Debian's own kernel,
# where every syscall entry exists: the host test
# build/tests/unit/runtime/confine-test run in the guest with
# CONFINE_REQUIRE_I386=1, so the i386 (int 0x80) seccomp checks cannot be
# skipped here even when the host machine lacks that entry.
. "$(dirname "$0")/lib.bash"

T=$ROOT/build/tests/unit/runtime/confine-test
[ -x "$T" ] || bail "$T not built (make userspace)"
out=$(CONFINE_REQUIRE_I386=1 "$T" 2>&1) && status=0 || status=$?
printf '%s\n' "$out" | sed 's/^/# /'
assert_eq "confine-test exits 0 with the i386 entry required" 0 "$status"
assert_no_match "no check skipped" 'skipped' "$out"
assert_match "i386 entry available in the guest" '^ok - confine_process' "$out"
assert_match "all confine checks passed" '^[1-9][0-9]* passed, 0 failed$' "$out"
