# Userspace build of the shared persistent-data library.
include $(CURDIR)/persistent-data/objects.mk

PD_USER_OBJS := $(addprefix $(BUILD)/pd/,$(PD_OBJS))
PD_LIB := $(BUILD)/libpersistent-data.a

USERSPACE_TARGETS += $(PD_LIB)

$(BUILD)/pd/%.o: persistent-data/%.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c -o $@ $<

$(PD_LIB): $(PD_USER_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^
