# tools/: the ctpool command line (build/ctpool), built from four libraries.
# Each is a static archive whose sources are listed here and nowhere else:
# the ctpool binary, the host tests (tests/unit/*/*.mk) and the fuzzers
# (fuzz/fuzz.mk) link the archives instead of compiling tools' files again.
#
#   common/   libctpool-common.a   what every command needs: global settings,
#                                  utilities, key=value records, the state
#                                  store, libdevmapper, loop devices, --json
#                                  output (json-c)
#   volume/   libctpool-volume.a   pools and thin volumes (pool, create, ...;
#                                  list --usage reads metadata with meta/)
#   meta/     libctpool-meta.a     ctpool meta check|dump|restore|repair,
#                                  independent of persistent-data except the
#                                  metadata writer
#   runtime/  libctpool-runtime.a  images and containers (image, container):
#                                  lifecycle, container init, cgroups,
#                                  confinement, tar extraction, hot-plug,
#                                  OCI/docker image archives (json-c, and
#                                  libcrypto for their sha256 digests)
#   main.c, commands.h             the command line: global options, dispatch
#
# A library uses only the ones below it: runtime -> volume -> meta, common;
# meta -> persistent-data. Headers are included by their path below tools/
# ("common/ctpool.h") from another folder, by their name within their own.

CTPOOL_common_SRCS := util.c kv.c store.c dm.c loop.c json-out.c
CTPOOL_volume_SRCS := pool.c pool-activate.c pool-usage.c volume.c
CTPOOL_meta_SRCS := meta.c meta-args.c meta-crc32c.c meta-image.c \
	meta-needs-check.c meta-walk.c meta-walk-thin.c meta-check.c \
	meta-check-sm.c meta-check-tree.c meta-dump.c meta-xml-emit.c \
	meta-xml.c meta-writer.c meta-restore.c meta-repair.c meta-usage.c \
	meta-usage-cmd.c
CTPOOL_runtime_SRCS := image.c container.c container-run.c container-init.c \
	rootfs.c container-exec.c cgroup.c hotplug.c status.c \
	extract.c confine.c seccomp-filter.c seccomp-profile.c sealed-exe.c fds.c \
	console.c oci-archive.c oci-manifest.c oci-whiteout.c oci-layers.c \
	image-config.c

TOOLS_CFLAGS := -I$(CURDIR)/tools

# $(call ctpool_lib_objs,LIB,DIR): LIB's objects, built under DIR
ctpool_lib_objs = $(patsubst %.c,$(2)/tools/$(1)/%.o,$(CTPOOL_$(1)_SRCS))

# $(call ctpool_lib_rule,LIB,DIR): DIR/libctpool-LIB.a from its objects. Each
# build (plain, sanitized, fuzzing) has its own DIR and a pattern rule
# DIR/tools/%.o: tools/%.c with its compiler and flags.
define ctpool_lib_rule
$(2)/libctpool-$(1).a: $(call ctpool_lib_objs,$(1),$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef

$(foreach l,common volume meta runtime,$(eval $(call ctpool_lib_rule,$(l),$(BUILD))))

LIBCTPOOL_COMMON := $(BUILD)/libctpool-common.a
LIBCTPOOL_VOLUME := $(BUILD)/libctpool-volume.a
LIBCTPOOL_META := $(BUILD)/libctpool-meta.a
LIBCTPOOL_RUNTIME := $(BUILD)/libctpool-runtime.a
# in link order: a library before the ones it uses
CTPOOL_LIBS := $(LIBCTPOOL_RUNTIME) $(LIBCTPOOL_VOLUME) $(LIBCTPOOL_META) \
	$(LIBCTPOOL_COMMON)

CTPOOL_BIN := $(BUILD)/ctpool
CTPOOL_MAIN_OBJ := $(BUILD)/tools/main.o

USERSPACE_TARGETS += $(CTPOOL_BIN)

# the container's seccomp filter (runtime/seccomp-filter.c), also linked by tests
SECCOMP_LIBS := -lseccomp
JSON_LIBS := -ljson-c

# -MMD: objects are rebuilt when a header they include changes.
$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) -MMD -MP -c -o $@ $<

-include $(wildcard $(BUILD)/tools/*.d $(BUILD)/tools/*/*.d)

$(CTPOOL_BIN): $(CTPOOL_MAIN_OBJ) $(CTPOOL_LIBS) $(PD_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(CTPOOL_MAIN_OBJ) $(CTPOOL_LIBS) $(PD_LIB) -ldevmapper -larchive \
		$(SECCOMP_LIBS) $(JSON_LIBS) -lcrypto

.PHONY: ctpool
ctpool: $(CTPOOL_BIN)
