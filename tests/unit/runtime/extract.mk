# Host test of the confined tar extractor (tools/runtime/extract.c): hostile
# archives and layers must change nothing outside the root.
# build/tests/unit/runtime/extract-test
EXTRACT_TEST := $(BUILD)/tests/unit/runtime/extract-test
HOST_TESTS += $(EXTRACT_TEST)

$(EXTRACT_TEST): tests/unit/runtime/extract-test.c tests/unit/check.h \
		tools/runtime/extract.h tools/common/ctpool.h $(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/runtime/extract-test.c $(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON) -larchive
