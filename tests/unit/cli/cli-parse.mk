# ctpool CLI host test: status-line parsers, sizes, names, key=value store
# with atomic replace, fault-injection hook, common/cli.h, and the ctpool
# binary's argument parsing (it runs $(CTPOOL_BIN)).
# build/tests/unit/cli/cli-parse-test
CLI_PARSE_TEST := $(BUILD)/tests/unit/cli/cli-parse-test
HOST_TESTS += $(CLI_PARSE_TEST)

$(CLI_PARSE_TEST): tests/unit/cli/cli-parse-test.c tests/unit/check.h \
		tools/common/ctpool.h tools/common/cli.h $(LIBCTPOOL_COMMON) $(CTPOOL_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -DCTPOOL_BIN='"$(CTPOOL_BIN)"' -o $@ \
		tests/unit/cli/cli-parse-test.c $(LIBCTPOOL_COMMON)
