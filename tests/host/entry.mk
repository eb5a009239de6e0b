# Host test of what enters a container (tools/runtime/sealed-exe.c, fds.c,
# console.c): build/tests/host/entry-test.
ENTRY_TEST := $(BUILD)/tests/host/entry-test
HOST_TESTS += $(ENTRY_TEST)

$(ENTRY_TEST): tests/host/entry-test.c tests/host/check.h tools/runtime/console.h \
		tools/runtime/fds.h tools/runtime/sealed-exe.h tools/common/ctpool.h \
		$(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) -o $@ tests/host/entry-test.c \
		$(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
