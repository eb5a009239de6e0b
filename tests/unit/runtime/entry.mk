# Host test of what enters a container (tools/runtime/sealed-exe.c, fds.c,
# console.c): build/tests/unit/runtime/entry-test.
ENTRY_TEST := $(BUILD)/tests/unit/runtime/entry-test
HOST_TESTS += $(ENTRY_TEST)

$(ENTRY_TEST): tests/unit/runtime/entry-test.c tests/unit/check.h \
		tools/runtime/console.h tools/runtime/fds.h tools/runtime/sealed-exe.h tools/common/ctpool.h \
		$(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/runtime/entry-test.c $(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
