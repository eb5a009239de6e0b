# Host test of the confined tar extractor (tools/runtime/extract.c): hostile
# archives and layers must change nothing outside the root.
# build/tests/host/extract-test
EXTRACT_TEST := $(BUILD)/tests/host/extract-test
HOST_TESTS += $(EXTRACT_TEST)

$(EXTRACT_TEST): tests/host/extract-test.c tests/host/check.h tools/runtime/extract.h \
		tools/common/ctpool.h $(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) -o $@ tests/host/extract-test.c \
		$(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_COMMON) -larchive
