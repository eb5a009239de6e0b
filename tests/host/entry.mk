# Host test of what enters a container (tools/sealed-exe.c, fds.c, console.c):
# build/tests/host/entry-test.
ENTRY_TEST := $(BUILD)/tests/host/entry-test
HOST_TESTS += $(ENTRY_TEST)

$(ENTRY_TEST): tests/host/entry-test.c tests/host/check.h tools/sealed-exe.c tools/fds.c tools/console.c tools/util.c \
		tools/console.h tools/fds.h tools/sealed-exe.h tools/ctpool.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itools -o $@ tests/host/entry-test.c tools/sealed-exe.c tools/fds.c \
		tools/console.c tools/util.c
