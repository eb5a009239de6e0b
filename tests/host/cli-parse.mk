# ctpool CLI host test: status-line parsers, sizes, names, key=value store
# with atomic replace, fault-injection hook. build/tests/host/cli-parse-test
CLI_PARSE_TEST := $(BUILD)/tests/host/cli-parse-test
HOST_TESTS += $(CLI_PARSE_TEST)

$(CLI_PARSE_TEST): tests/host/cli-parse-test.c tests/host/check.h tools/util.c tools/kv.c tools/store.c tools/ctpool.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/cli-parse-test.c tools/util.c tools/kv.c tools/store.c
