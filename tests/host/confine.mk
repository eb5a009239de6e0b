# Host test of the container confinement (tools/confine.c): capabilities,
# seccomp, device filter. build/tests/host/confine-test (needs root).
CONFINE_TEST := $(BUILD)/tests/host/confine-test
HOST_TESTS += $(CONFINE_TEST)

CONFINE_SRCS := tools/confine.c tools/seccomp-filter.c tools/seccomp-profile.c

$(CONFINE_TEST): tests/host/confine-test.c tests/host/check.h $(CONFINE_SRCS) tools/confine.h tools/seccomp-profile.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/confine-test.c $(CONFINE_SRCS) $(SECCOMP_LIBS)

# The probe tests/vm/runtime-escape-seccomp.sh runs inside a container: static,
# so it runs in a busybox image with no libc of its own.
SECCOMP_PROBE := $(BUILD)/tests/vm/seccomp-probe
USERSPACE_TARGETS += $(SECCOMP_PROBE)

$(SECCOMP_PROBE): tests/vm/seccomp-probe.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -static -o $@ $<
