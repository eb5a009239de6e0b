# Host test of the state store's record format (tools/common/kv.c): hostile
# values round-trip, corrupt or truncated records are errors.
# build/tests/unit/cli/store-test
STORE_TEST := $(BUILD)/tests/unit/cli/store-test
HOST_TESTS += $(STORE_TEST)

$(STORE_TEST): tests/unit/cli/store-test.c tests/unit/check.h tools/common/ctpool.h \
		$(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/cli/store-test.c $(LIBCTPOOL_COMMON)
