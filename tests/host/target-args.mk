# Host unit tests of the targets' table/message parser (persistent-data/target-args.c).
TARGET_ARGS_TEST := $(BUILD)/tests/host/target-args-test
HOST_TESTS += $(TARGET_ARGS_TEST)

$(TARGET_ARGS_TEST): tests/host/target-args-test.c persistent-data/target-args.c \
		persistent-data/target-args.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ tests/host/target-args-test.c \
		persistent-data/target-args.c -lcmocka
