# Host test of OCI/docker image handling (tools/runtime/oci-*.c,
# tools/runtime/image-config.c): manifest and config parsing with hostile
# JSON, digests, whiteouts.
# build/tests/unit/runtime/oci-test
OCI_TEST := $(BUILD)/tests/unit/runtime/oci-test
HOST_TESTS += $(OCI_TEST)

$(OCI_TEST): tests/unit/runtime/oci-test.c tests/unit/check.h \
		tools/runtime/oci-image.h 		tools/runtime/image-config.h tools/runtime/extract.h tools/common/ctpool.h \
		$(CTPOOL_LIBS) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/unit $(TOOLS_CFLAGS) -o $@ \
		tests/unit/runtime/oci-test.c $(CTPOOL_LIBS) $(PD_LIB) \
		 -ldevmapper -larchive $(SECCOMP_LIBS) $(JSON_LIBS) -lcrypto
