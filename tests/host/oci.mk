# Host test of OCI/docker image handling (tools/oci-*.c, tools/image-config.c):
# manifest and config parsing with hostile JSON, digests, whiteouts.
# build/tests/host/oci-test
OCI_TEST := $(BUILD)/tests/host/oci-test
HOST_TESTS += $(OCI_TEST)
OCI_TEST_SRCS := tools/oci-archive.c tools/oci-manifest.c tools/oci-whiteout.c \
	tools/image-config.c tools/extract.c tools/kv.c tools/store.c tools/util.c

$(OCI_TEST): tests/host/oci-test.c tests/host/check.h $(OCI_TEST_SRCS) tools/oci-image.h \
		tools/image-config.h tools/extract.h tools/ctpool.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/oci-test.c $(OCI_TEST_SRCS) -larchive -ljson-c -lcrypto
