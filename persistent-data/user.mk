# Userspace build of the shared persistent-data library.
include $(CURDIR)/persistent-data/objects.mk
# Userspace-only objects (crc32c, the file block manager).
include $(CURDIR)/persistent-data/user/objects.mk

PD_USER_OBJS := $(addprefix $(BUILD)/pd/,$(PD_OBJS) $(PD_USER_ONLY_OBJS))
PD_LIB := $(BUILD)/libpersistent-data.a

USERSPACE_TARGETS += $(PD_LIB)

# -MMD: objects are rebuilt when a header they include changes.
$(BUILD)/pd/%.o: persistent-data/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

-include $(PD_USER_OBJS:.o=.d)

$(PD_LIB): $(PD_USER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^
