# Core persistent-data host tests (checksum, block manager, transaction
# manager, btree): build/tests/unit/pd/core-<name>-test, and each again with
# AddressSanitizer + UndefinedBehaviorSanitizer as core-<name>-asan-test
# (against the sanitized library of tests/unit/asan-lib.mk; the rules:
# tests/unit/suite-rules.mk). `make core-tests` builds and runs them all.

CORE_TEST_NAMES := core-checksum core-bm core-tm core-btree core-btree-multi
CORE_TEST_UTIL := tests/unit/test-common.c tests/unit/pd/core-test-util.c \
	tests/unit/pd/core-btree-check.c
CORE_TEST_DEPS := tests/unit/test-common.h tests/unit/pd/core-test.h \
	tests/unit/pd/core-btree-check.h \
	$(CORE_TEST_UTIL)
CORE_ASAN_TEST_FLAGS := $(ASAN_FLAGS)
$(eval $(call pd_suite,pd,CORE))

.PHONY: core-tests
core-tests: $(CORE_TESTS) $(CORE_ASAN_TESTS)
	@for t in $^; do echo "== $$t"; $$t 2>&1 | tail -n 1; done
