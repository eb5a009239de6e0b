# Host test of the container confinement (tools/confine.c): capabilities,
# seccomp, device filter. build/tests/host/confine-test (needs root).
CONFINE_TEST := $(BUILD)/tests/host/confine-test
HOST_TESTS += $(CONFINE_TEST)

$(CONFINE_TEST): tests/host/confine-test.c tools/confine.c tools/seccomp-i386.c tools/confine.h tools/seccomp-deny.inc
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/confine-test.c tools/confine.c tools/seccomp-i386.c
