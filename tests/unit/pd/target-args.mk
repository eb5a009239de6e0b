# Host unit tests of the targets' table/message parser
# (persistent-data/target-args.c): build/tests/unit/pd/target-args-test.
TARGET_ARGS_TEST := $(BUILD)/tests/unit/pd/target-args-test
HOST_TESTS += $(TARGET_ARGS_TEST)

$(TARGET_ARGS_TEST): tests/unit/pd/target-args-test.c persistent-data/target-args.c \
		persistent-data/target-args.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -o $@ tests/unit/pd/target-args-test.c \
		persistent-data/target-args.c -lcmocka
