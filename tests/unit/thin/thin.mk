# Thin-metadata host tests and the tools the metadata shell tests use.
#
#   build/tests/unit/thin/thin-<name>-test       unit and model tests
#   build/tests/unit/thin/thin-<name>-asan-test  the same under ASan + UBSan
#   build/tests/unit/thin/thin-gen               random metadata built by the
#                                   library (tests/oracle/oracle-library.sh)
#   build/tests/unit/thin/ctpool-meta            `ctpool meta` alone, for the
#                                   oracle tests (tests/oracle/*.sh)
#   build/tests/unit/thin/ctpool-meta-asan       the same under ASan
#                                   (tests/oracle/meta-corrupt.sh)
# The tests link the independent checker (tools/meta/meta-check*.c, in
# libctpool-meta.a) to judge every image they write.

ifeq ($(origin PD_USER_ONLY_OBJS),undefined)
include persistent-data/user/objects.mk
endif

THIN_TEST_NAMES := thin-metadata thin-model
THIN_TEST_OUT := $(BUILD)/tests/unit/thin
THIN_TEST_SRCS := tests/unit/test-common.c tests/unit/thin/thin-test-util.c
THIN_TEST_DEPS := tests/unit/test-common.h tests/unit/thin/thin-test.h \
	$(THIN_TEST_SRCS) $(wildcard tools/meta/*.h)
THIN_TEST_CFLAGS := $(USER_CFLAGS) -Itests/unit -Itests/unit/thin $(TOOLS_CFLAGS)
THIN_TEST_LDLIBS := -lcmocka -ljson-c

THIN_TESTS := $(THIN_TEST_NAMES:%=$(THIN_TEST_OUT)/%-test)
THIN_ASAN_TESTS := $(THIN_TEST_NAMES:%=$(THIN_TEST_OUT)/%-asan-test)
THIN_GEN := $(THIN_TEST_OUT)/thin-gen
THIN_META := $(THIN_TEST_OUT)/ctpool-meta
THIN_META_ASAN := $(THIN_TEST_OUT)/ctpool-meta-asan
HOST_TESTS += $(THIN_TESTS) $(THIN_ASAN_TESTS) $(THIN_GEN) $(THIN_META) \
	$(THIN_META_ASAN)

$(THIN_TESTS): $(THIN_TEST_OUT)/%-test: tests/unit/thin/%-test.c \
		$(THIN_TEST_DEPS) $(LIBCTPOOL_META) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(THIN_TEST_CFLAGS) -o $@ $< $(THIN_TEST_SRCS) $(LIBCTPOOL_META) \
		$(PD_LIB) $(THIN_TEST_LDLIBS)

$(THIN_GEN): tests/unit/thin/thin-gen.c $(THIN_TEST_DEPS) $(LIBCTPOOL_META) \
		$(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(THIN_TEST_CFLAGS) -o $@ $< $(THIN_TEST_SRCS) $(LIBCTPOOL_META) \
		$(PD_LIB) $(THIN_TEST_LDLIBS)

$(THIN_META): tests/unit/thin/ctpool-meta-main.c tools/commands.h \
		$(LIBCTPOOL_META) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(THIN_TEST_CFLAGS) -o $@ $< $(LIBCTPOOL_META) $(PD_LIB) -ljson-c

# ---- sanitizer builds, against the libraries of tests/unit/asan-lib.mk ----

$(THIN_ASAN_TESTS): $(THIN_TEST_OUT)/%-asan-test: tests/unit/thin/%-test.c \
		$(THIN_TEST_DEPS) $(ASAN_LIBCTPOOL_META) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(THIN_TEST_CFLAGS) $(ASAN_FLAGS) -o $@ $< \
		$(THIN_TEST_SRCS) $(ASAN_LIBCTPOOL_META) $(ASAN_LIB) $(THIN_TEST_LDLIBS)

$(THIN_META_ASAN): tests/unit/thin/ctpool-meta-main.c tools/commands.h \
		$(ASAN_LIBCTPOOL_META) $(ASAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(THIN_TEST_CFLAGS) $(ASAN_FLAGS) -o $@ $< \
		$(ASAN_LIBCTPOOL_META) $(ASAN_LIB) -ljson-c
