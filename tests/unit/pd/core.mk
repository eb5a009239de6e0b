# Core persistent-data host tests (checksum, block manager, transaction
# manager, btree): build/tests/unit/pd/core-<name>-test, and each again with
# AddressSanitizer + UndefinedBehaviorSanitizer as core-<name>-asan-test
# (against the sanitized library of tests/unit/asan-lib.mk).
# `make core-tests` builds and runs them all.

CORE_TEST_NAMES := core-checksum core-bm core-tm core-btree core-btree-multi
CORE_TEST_OUT := $(BUILD)/tests/unit/pd
CORE_TEST_UTIL := tests/unit/test-common.c tests/unit/pd/core-test-util.c \
	tests/unit/pd/core-btree-check.c
CORE_TEST_DEPS := tests/unit/test-common.h tests/unit/pd/core-test.h \
	tests/unit/pd/core-btree-check.h \
	$(CORE_TEST_UTIL)
CORE_TEST_LDLIBS := -lcmocka -lpthread
CORE_TEST_CFLAGS := $(USER_CFLAGS) -Itests/unit -Itests/unit/pd

ifeq ($(origin PD_USER_ONLY_OBJS),undefined)
include persistent-data/user/objects.mk
endif

CORE_TESTS := $(CORE_TEST_NAMES:%=$(CORE_TEST_OUT)/%-test)
CORE_ASAN_TESTS := $(CORE_TEST_NAMES:%=$(CORE_TEST_OUT)/%-asan-test)
HOST_TESTS += $(CORE_TESTS) $(CORE_ASAN_TESTS)

$(CORE_TESTS): $(CORE_TEST_OUT)/%-test: tests/unit/pd/%-test.c $(CORE_TEST_DEPS) \
		$(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) -o $@ $< $(CORE_TEST_UTIL) \
		$(PD_LIB) $(CORE_TEST_LDLIBS)

$(CORE_ASAN_TESTS): $(CORE_TEST_OUT)/%-asan-test: tests/unit/pd/%-test.c \
		$(CORE_TEST_DEPS) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_TEST_CFLAGS) $(ASAN_FLAGS) -o $@ $< \
		$(CORE_TEST_UTIL) $(ASAN_LIB) $(CORE_TEST_LDLIBS)

.PHONY: core-tests
core-tests: $(CORE_TESTS) $(CORE_ASAN_TESTS)
	@for t in $^; do echo "== $$t"; $$t 2>&1 | tail -n 1; done
