# ctpool CLI host test: status-line parsers, sizes, names, key=value store
# with atomic replace, fault-injection hook. build/tests/host/cli-parse-test
CLI_PARSE_TEST := $(BUILD)/tests/host/cli-parse-test
HOST_TESTS += $(CLI_PARSE_TEST)

$(CLI_PARSE_TEST): tests/host/cli-parse-test.c tests/host/check.h tools/common/ctpool.h \
		$(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) -o $@ tests/host/cli-parse-test.c $(LIBCTPOOL_COMMON)
