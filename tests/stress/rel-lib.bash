# Helpers shared by the reliability VM tests (tests/vm/crash-*, fault-*,
# corrupt-*, hostile-*, stress-*) and the long runs under tests/stress/.
# Sourced after tests/vm/lib.bash:
#     . "$(dirname "$0")/lib.bash"; . "$ROOT/tests/stress/rel-lib.bash"
#
# Which implementation is tested: REL_TARGETS=kernel (dm-thin: thin-pool/thin)
# or REL_TARGETS=ctpool (dm-ctpool.ko: ctpool/ctthin). The default is below;
# every test takes the names from POOL_TARGET/THIN_TARGET, never hard-coded.

REL_TARGETS=${REL_TARGETS:-ctpool}
REL=$ROOT/tests/stress
CRASHSIM=$REL/crashsim.py
PY=/usr/bin/python3

# rel_load [PARAM=VALUE...]: load the chosen implementation, export
# POOL_TARGET/THIN_TARGET. The parameters go to dm-ctpool.ko (the kernel's
# dm-thin has no counterparts).
rel_load() {
	case $REL_TARGETS in
	kernel) use_kernel_targets; must load_dm_thin ;;
	ctpool) use_ctpool_targets; must load_ctpool "$@" ;;
	*) bail "REL_TARGETS must be kernel or ctpool, not '$REL_TARGETS'" ;;
	esac
	note "targets: $POOL_TARGET / $THIN_TARGET ($REL_TARGETS)"
}
rel_unload() {
	case $REL_TARGETS in
	kernel) modprobe -r dm_thin_pool ;;
	ctpool) rmmod dm_ctpool ;;
	esac
}
rel_module() { case $REL_TARGETS in kernel) echo dm_thin_pool ;; *) echo dm_ctpool ;; esac; }

# rel_dmesg_bad: the kernel log since the last `dmesg -C` shows a crash.
rel_dmesg_bad() {
	dmesg | grep -Eq '(^|[^[:alnum:]_])(BUG|WARNING)([^[:alnum:]_]|$)|Oops|general protection|Call Trace|hung_task|blocked for more than'
}

# remove_dm NAME...: remove devices that exist, retrying while busy.
remove_dm() {
	local n i
	for n in "$@"; do
		dmsetup info "$n" >/dev/null 2>&1 || continue
		for i in 1 2 3 4 5; do
			dmsetup remove "$n" >/dev/null 2>&1 && break
			sleep 0.2
		done
	done
}

# thin_check on a metadata device, quietly; 0 when clean.
meta_clean() { thin_check -q "$1" >/dev/null 2>&1; }
