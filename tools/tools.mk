# tools/: the ctpool command line (build/ctpool).
# Every dm ioctl goes through libdevmapper; persistent-data comes from $(PD_LIB);
# image archives are read with libarchive (tools/extract.c); every --json
# output is written with json-c (JSON_LIBS, also linked by the metadata
# tests and fuzzers, which build tools/meta*.c).
# OCI/docker image digests are checked with libcrypto (tools/oci-*.c).
# tools/meta*.c (ctpool meta check|dump|restore|repair) are picked up by the
# wildcard.

CTPOOL_SRCS := $(sort $(wildcard tools/*.c))
CTPOOL_OBJS := $(patsubst tools/%.c,$(BUILD)/tools/%.o,$(CTPOOL_SRCS))
CTPOOL_BIN := $(BUILD)/ctpool

USERSPACE_TARGETS += $(CTPOOL_BIN)

# the container's seccomp filter (tools/seccomp-filter.c), also linked by tests
SECCOMP_LIBS := -lseccomp
JSON_LIBS := -ljson-c

$(BUILD)/tools/%.o: tools/%.c $(wildcard tools/*.h tools/*.inc)
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -c -o $@ $<

$(CTPOOL_BIN): $(CTPOOL_OBJS) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CTPOOL_OBJS) $(PD_LIB) -ldevmapper -larchive $(SECCOMP_LIBS) \
		$(JSON_LIBS) -lcrypto

.PHONY: ctpool
ctpool: $(CTPOOL_BIN)
