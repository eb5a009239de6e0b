# The persistent-data library and the metadata tools' library (tools/tools.mk)
# compiled once more with AddressSanitizer + UndefinedBehaviorSanitizer, for
# the *-asan-test binaries of every host suite (unit/pd/core.mk, unit/sm/sm.mk,
# unit/thin/thin.mk).

ifeq ($(origin PD_USER_ONLY_OBJS),undefined)
include persistent-data/user/objects.mk
endif

ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ASAN_LIB_DIR := $(BUILD)/tests/unit/asan
ASAN_LIB := $(ASAN_LIB_DIR)/libpersistent-data.a
ASAN_LIB_OBJS := $(addprefix $(ASAN_LIB_DIR)/,$(PD_OBJS) $(PD_USER_ONLY_OBJS))

$(ASAN_LIB_DIR)/%.o: persistent-data/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(ASAN_LIB_OBJS:.o=.d)

$(ASAN_LIB): $(ASAN_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(ASAN_LIB_DIR)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(TOOLS_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

-include $(wildcard $(ASAN_LIB_DIR)/tools/*/*.d)

$(eval $(call ctpool_lib_rule,meta,$(ASAN_LIB_DIR)))
ASAN_LIBCTPOOL_META := $(ASAN_LIB_DIR)/libctpool-meta.a
