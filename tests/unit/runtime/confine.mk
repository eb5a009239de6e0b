# Host test of the container confinement (tools/runtime/confine.c):
# capabilities, seccomp, device filter. build/tests/unit/runtime/confine-test
# (needs root).
CONFINE_TEST := $(BUILD)/tests/unit/runtime/confine-test
HOST_TESTS += $(CONFINE_TEST)

$(CONFINE_TEST): tests/unit/runtime/confine-test.c tests/unit/check.h \
		tools/runtime/confine.h 		$(LIBCTPOOL_RUNTIME)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/runtime/confine-test.c $(LIBCTPOOL_RUNTIME) $(SECCOMP_LIBS)

# The probe tests/vm/runtime-escape-seccomp.sh runs inside a container: static,
# so it runs in a busybox image with no libc of its own.
SECCOMP_PROBE := $(BUILD)/tests/vm/seccomp-probe
USERSPACE_TARGETS += $(SECCOMP_PROBE)

$(SECCOMP_PROBE): tests/vm/seccomp-probe.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ $<
