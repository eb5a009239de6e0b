# A host suite whose tests link the persistent-data library alone (pd/core.mk,
# sm/sm.mk): with PREFIX_TEST_NAMES, PREFIX_TEST_UTIL (helper sources),
# PREFIX_TEST_DEPS and PREFIX_ASAN_TEST_FLAGS set,
# $(eval $(call pd_suite,LAYER,PREFIX)) adds to HOST_TESTS
#   $(PREFIX_TESTS)       build/tests/unit/LAYER/<name>-test, from
#                         tests/unit/LAYER/<name>-test.c and the helpers,
#                         against $(PD_LIB);
#   $(PREFIX_ASAN_TESTS)  <name>-asan-test, the same with
#                         $(PREFIX_ASAN_TEST_FLAGS) against the sanitized
#                         $(ASAN_LIB) of asan-lib.mk.

ifeq ($(origin PD_USER_ONLY_OBJS),undefined)
include persistent-data/user/objects.mk
endif

define pd_suite
$(2)_TEST_OUT := $$(BUILD)/tests/unit/$(1)
$(2)_TEST_LDLIBS := -lcmocka -lpthread
$(2)_TEST_CFLAGS := $$(USER_CFLAGS) -Itests/unit -Itests/unit/$(1)
$(2)_TESTS := $$($(2)_TEST_NAMES:%=$$($(2)_TEST_OUT)/%-test)
$(2)_ASAN_TESTS := $$($(2)_TEST_NAMES:%=$$($(2)_TEST_OUT)/%-asan-test)
HOST_TESTS += $$($(2)_TESTS) $$($(2)_ASAN_TESTS)

$$($(2)_TESTS): $$($(2)_TEST_OUT)/%-test: tests/unit/$(1)/%-test.c \
		$$($(2)_TEST_DEPS) $$(PD_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$($(2)_TEST_CFLAGS) -o $$@ $$< $$($(2)_TEST_UTIL) \
		$$(PD_LIB) $$($(2)_TEST_LDLIBS)

$$($(2)_ASAN_TESTS): $$($(2)_TEST_OUT)/%-asan-test: tests/unit/$(1)/%-test.c \
		$$($(2)_TEST_DEPS) $$(ASAN_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$($(2)_TEST_CFLAGS) $$($(2)_ASAN_TEST_FLAGS) -o $$@ $$< \
		$$($(2)_TEST_UTIL) $$(ASAN_LIB) $$($(2)_TEST_LDLIBS)
endef
