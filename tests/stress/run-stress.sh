#!/bin/bash
# make stress: the long reliability runs. Each step prints TAP-like lines;
# the whole ends with one "N passed, N failed".
#   STRESS_TARGETS   kernel|ctpool (default ctpool)
#   STRESS_CUTS      power cuts (default 30)
#   STRESS_FUZZ_SECONDS  per fuzz target (default 300)
#   STRESS_IMAGES    corrupted images (default 3000)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
T=${STRESS_TARGETS:-ctpool}
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() {   # step NAME CMD...: run, show output, add its counts
	local name=$1 p f; shift
	echo "# === $name"
	"$@" 2>&1 | tee "$tmp/out"
	local st=${PIPESTATUS[0]}
	read -r p f < <(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/out" | tail -n 1 | awk '{ print $1, $3 }')
	p=${p:-0} f=${f:-0}
	[ "$st" -eq 0 ] || [ "$f" -gt 0 ] || f=1
	passed=$((passed + p)) failed=$((failed + f))
}

# Wrappers give the in-guest tests their long-run arguments.
wrap() {   # wrap NAME SCRIPT ARGS...
	local w=$tmp/$1.sh; shift
	printf '#!/bin/bash\nexec bash %q' "$1" > "$w"; shift
	printf ' %q' "$@" >> "$w"; echo >> "$w"
	echo "$w"
}
step "crash replay, long workloads" qemu/run-vm.sh --timeout 5400 --test-timeout 2400 --tests \
	"$(wrap cr1 "$ROOT/tests/vm/crash-replay.sh" "$T" 150 60 11)" \
	"$(wrap cr2 "$ROOT/tests/vm/crash-replay.sh" "$T" 150 60 12)"
step "corrupted metadata, ${STRESS_IMAGES:-3000} images" qemu/run-vm.sh --timeout 7200 --test-timeout 7000 \
	--tests "$(wrap cm "$ROOT/tests/vm/corrupt-meta.sh" "$T" "${STRESS_IMAGES:-3000}" 5 "" "" 6600)"
step "hostile tables, messages, ioctls" qemu/run-vm.sh --timeout 2400 --test-timeout 2000 \
	--tests "$(wrap ht "$ROOT/tests/vm/hostile-tables.sh" "$T" 5000 7 1500)"
# The same boot options as in make check (the test's vm-options line).
hm_opts=$(sed -n 's/^# vm-options: *//p' "$ROOT/tests/vm/hostile-modload.sh")
# shellcheck disable=SC2086 # a list of options
step "module load/unload cycles, slab leak check" qemu/run-vm.sh $hm_opts --timeout 2400 \
	--test-timeout 2000 --tests "$(wrap hm "$ROOT/tests/vm/hostile-modload.sh" "$T" 100)"
step "fio stress near full" qemu/run-vm.sh --timeout 3600 --test-timeout 3000 --disk 2G \
	--tests "$(wrap fs "$ROOT/tests/stress/vm-fio-stress.sh" "$T" 96 3)"
step "power cuts" tests/stress/powercut.sh "${STRESS_CUTS:-30}" "$T"
step "fuzzing" make -s fuzz FUZZ_SECONDS="${STRESS_FUZZ_SECONDS:-300}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
