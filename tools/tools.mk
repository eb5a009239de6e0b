# tools/: the ctpool command line (build/ctpool).
# Every dm ioctl goes through libdevmapper; persistent-data comes from $(PD_LIB);
# image archives are read with libarchive (tools/extract.c), OCI/docker manifests
# with json-c and their digests checked with libcrypto (tools/oci-*.c).
# tools/meta*.c (ctpool meta check|dump|restore|repair) are picked up by the
# wildcard.

CTPOOL_SRCS := $(sort $(wildcard tools/*.c))
CTPOOL_OBJS := $(patsubst tools/%.c,$(BUILD)/tools/%.o,$(CTPOOL_SRCS))
CTPOOL_BIN := $(BUILD)/ctpool

USERSPACE_TARGETS += $(CTPOOL_BIN)

# the container's seccomp filter (tools/seccomp-filter.c), also linked by tests
SECCOMP_LIBS := -lseccomp

$(BUILD)/tools/%.o: tools/%.c $(wildcard tools/*.h tools/*.inc)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -c -o $@ $<

$(CTPOOL_BIN): $(CTPOOL_OBJS) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CTPOOL_OBJS) $(PD_LIB) -ldevmapper -larchive -ljson-c -lcrypto $(SECCOMP_LIBS)

.PHONY: ctpool
ctpool: $(CTPOOL_BIN)
