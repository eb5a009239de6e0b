# ctpool CLI host test: status-line parsers, sizes, names, key=value store
# with atomic replace, fault-injection hook.
# build/tests/unit/cli/cli-parse-test
CLI_PARSE_TEST := $(BUILD)/tests/unit/cli/cli-parse-test
HOST_TESTS += $(CLI_PARSE_TEST)

$(CLI_PARSE_TEST): tests/unit/cli/cli-parse-test.c tests/unit/check.h \
		tools/common/ctpool.h $(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/cli/cli-parse-test.c $(LIBCTPOOL_COMMON)
