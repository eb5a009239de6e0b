# Test targets. Host tests are added by fragments tests/unit/<layer>/<area>.mk,
# which append executables $(BUILD)/tests/unit/<layer>/<name>-test to
# HOST_TESTS (see the top-level Makefile); tests/run-all.sh finds and runs
# every such binary. Layout and naming rule: the top of tests/run-all.sh.
# The recipes expand HOST_TESTS late, after every fragment has been read.

.PHONY: host-tests vm-tests

# Build and run only the host tests (no VM).
host-tests:
	$(if $(strip $(HOST_TESTS)),$(MAKE) $(HOST_TESTS))
	sh tests/run-all.sh --host-only

# Build the module and run only the VM tests (tests/vm/*.sh).
vm-tests: module
	sh tests/run-all.sh --vm-only
