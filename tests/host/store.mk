# Host test of the state store's record format (tools/kv.c): hostile values
# round-trip, corrupt or truncated records are errors. build/tests/host/store-test
STORE_TEST := $(BUILD)/tests/host/store-test
HOST_TESTS += $(STORE_TEST)

$(STORE_TEST): tests/host/store-test.c tests/host/check.h tools/util.c tools/kv.c tools/store.c tools/ctpool.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/store-test.c tools/util.c tools/kv.c tools/store.c
