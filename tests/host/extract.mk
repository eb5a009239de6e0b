# Host test of the confined tar extractor (tools/extract.c): hostile archives
# and layers must change nothing outside the root. build/tests/host/extract-test
EXTRACT_TEST := $(BUILD)/tests/host/extract-test
HOST_TESTS += $(EXTRACT_TEST)

$(EXTRACT_TEST): tests/host/extract-test.c tests/host/check.h tools/extract.c tools/util.c tools/extract.h tools/ctpool.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/extract-test.c tools/extract.c tools/util.c -larchive
