# Host test of the state store's record format (tools/common/kv.c): hostile
# values round-trip, corrupt or truncated records are errors.
# build/tests/host/store-test
STORE_TEST := $(BUILD)/tests/host/store-test
HOST_TESTS += $(STORE_TEST)

$(STORE_TEST): tests/host/store-test.c tests/host/check.h tools/common/ctpool.h \
		$(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) -o $@ tests/host/store-test.c $(LIBCTPOOL_COMMON)
