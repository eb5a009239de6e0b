# Space-map host tests: build/tests/unit/sm/sm-<name>-test, each also built
# with AddressSanitizer + UndefinedBehaviorSanitizer as sm-<name>-asan-test
# (against the sanitized library of tests/unit/asan-lib.mk; the rules:
# tests/unit/suite-rules.mk).

SM_TEST_NAMES := sm-bitmap sm-image sm-model sm-crash sm-corrupt
SM_TEST_UTIL := tests/unit/test-common.c tests/unit/sm/sm-test-util.c
SM_TEST_DEPS := tests/unit/test-common.h tests/unit/sm/sm-test.h $(SM_TEST_UTIL)
# The sanitized test binaries run a lighter sweep (see sm-test.h).
SM_ASAN_TEST_FLAGS := $(ASAN_FLAGS) -DSM_TEST_SANITIZED
$(eval $(call pd_suite,sm,SM))
