# Space-map host tests: build/tests/unit/sm/sm-<name>-test, each also built
# with AddressSanitizer + UndefinedBehaviorSanitizer as sm-<name>-asan-test
# (against the sanitized library of tests/unit/asan-lib.mk).

SM_TEST_NAMES := sm-bitmap sm-image sm-model sm-crash sm-corrupt
SM_TEST_OUT := $(BUILD)/tests/unit/sm
SM_TEST_UTIL := tests/unit/test-common.c tests/unit/sm/sm-test-util.c
SM_TEST_DEPS := tests/unit/test-common.h tests/unit/sm/sm-test.h $(SM_TEST_UTIL)
SM_TEST_LDLIBS := -lcmocka -lpthread
SM_TEST_CFLAGS := $(USER_CFLAGS) -Itests/unit -Itests/unit/sm

ifeq ($(origin PD_USER_ONLY_OBJS),undefined)
include persistent-data/user/objects.mk
endif

SM_TESTS := $(SM_TEST_NAMES:%=$(SM_TEST_OUT)/%-test)
SM_ASAN_TESTS := $(SM_TEST_NAMES:%=$(SM_TEST_OUT)/%-asan-test)
HOST_TESTS += $(SM_TESTS) $(SM_ASAN_TESTS)

$(SM_TESTS): $(SM_TEST_OUT)/%-test: tests/unit/sm/%-test.c $(SM_TEST_DEPS) \
		$(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SM_TEST_CFLAGS) -o $@ $< $(SM_TEST_UTIL) \
		$(PD_LIB) $(SM_TEST_LDLIBS)

# The sanitized test binaries run a lighter sweep (see sm-test.h).
SM_ASAN_TEST_FLAGS := $(ASAN_FLAGS) -DSM_TEST_SANITIZED

$(SM_ASAN_TESTS): $(SM_TEST_OUT)/%-asan-test: tests/unit/sm/%-test.c $(SM_TEST_DEPS) \
		$(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SM_TEST_CFLAGS) $(SM_ASAN_TEST_FLAGS) -o $@ $< \
		$(SM_TEST_UTIL) $(ASAN_LIB) $(SM_TEST_LDLIBS)
