// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the pool/thin table and message parser: every error string
 * and edge dm-thin 6.1 has, since tools and people match on them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "target-args.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__ })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static int parse_table(int argc, char **argv, struct pool_features *pf,
		       const char **error)
{
	*error = NULL;
	return ctpool_parse_pool_table(argc, argv, pf, error);
}

static void test_table_defaults(void **state)
{
	struct pool_features pf;
	const char *error;

	assert_int_equal(parse_table(4, ARGV("/dev/a", "/dev/b", "128", "0"),
				     &pf, &error), 0);
	assert_true(pf.zero_new_blocks);
	assert_true(pf.discard_enabled);
	assert_true(pf.discard_passdown);
	assert_false(pf.read_only);
	assert_false(pf.error_if_no_space);

	assert_int_equal(parse_table(5, ARGV("/dev/a", "/dev/b", "128", "0", "0"),
				     &pf, &error), 0);
}

static void test_table_arg_count(void **state)
{
	struct pool_features pf;
	const char *error;

	assert_int_equal(parse_table(3, ARGV("/dev/a", "/dev/b", "128"), &pf,
				     &error), -EINVAL);
	assert_string_equal(error, "Invalid argument count");
	assert_int_equal(parse_table(0, ARGV(NULL), &pf, &error), -EINVAL);
}

static void test_table_same_devices(void **state)
{
	struct pool_features pf;
	const char *error;

	assert_int_equal(parse_table(4, ARGV("/dev/a", "/dev/a", "128", "0"),
				     &pf, &error), -EINVAL);
	assert_string_equal(error, "Error setting metadata or data device");
}

static void test_features(void **state)
{
	struct pool_features pf;
	const char *error;

	assert_int_equal(parse_table(9, ARGV("m", "d", "128", "0", "4",
					     "SKIP_block_zeroing", "ignore_discard",
					     "No_Discard_Passdown", "read_only"),
				     &pf, &error), 0);
	assert_false(pf.zero_new_blocks);
	assert_false(pf.discard_enabled);
	assert_false(pf.discard_passdown);
	assert_true(pf.read_only);
	assert_false(pf.error_if_no_space);

	assert_int_equal(parse_table(6, ARGV("m", "d", "128", "0", "1",
					     "error_if_no_space"),
				     &pf, &error), 0);
	assert_true(pf.error_if_no_space);
}

static void test_feature_count_errors(void **state)
{
	struct pool_features pf;
	const char *error;

	/* Five features cannot be given: the group count is 0..4. */
	assert_int_equal(parse_table(10, ARGV("m", "d", "128", "0", "5",
					      "skip_block_zeroing", "ignore_discard",
					      "no_discard_passdown", "read_only",
					      "error_if_no_space"),
				     &pf, &error), -EINVAL);
	assert_string_equal(error, "Invalid number of pool feature arguments");

	/* More announced than given. */
	assert_int_equal(parse_table(6, ARGV("m", "d", "128", "0", "2",
					     "read_only"), &pf, &error), -EINVAL);
	assert_string_equal(error, "Invalid number of pool feature arguments");

	assert_int_equal(parse_table(5, ARGV("m", "d", "128", "0", "x"),
				     &pf, &error), -EINVAL);
	assert_string_equal(error, "Invalid number of pool feature arguments");

	assert_int_equal(parse_table(5, ARGV("m", "d", "128", "0", "-1"),
				     &pf, &error), -EINVAL);
}

static void test_unknown_feature(void **state)
{
	struct pool_features pf;
	const char *error;

	assert_int_equal(parse_table(6, ARGV("m", "d", "128", "0", "1",
					     "zero_everything"), &pf, &error),
			 -EINVAL);
	assert_string_equal(error, "Unrecognised pool feature requested");
}

static void test_block_size(void **state)
{
	const char *error = NULL;
	u32 bs;

	assert_int_equal(ctpool_parse_block_size("128", &bs, &error), 0);
	assert_int_equal(bs, 128);
	assert_int_equal(ctpool_parse_block_size("2097152", &bs, &error), 0);
	assert_int_equal(ctpool_parse_block_size("384", &bs, &error), 0);
	assert_int_equal(bs, 384);

	assert_int_equal(ctpool_parse_block_size("64", &bs, &error), -EINVAL);
	assert_string_equal(error, "Invalid block size");
	assert_int_equal(ctpool_parse_block_size("0", &bs, &error), -EINVAL);
	assert_int_equal(ctpool_parse_block_size("200", &bs, &error), -EINVAL);
	assert_int_equal(ctpool_parse_block_size("4194304", &bs, &error), -EINVAL);
	assert_int_equal(ctpool_parse_block_size("128k", &bs, &error), -EINVAL);
	assert_int_equal(ctpool_parse_block_size("", &bs, &error), -EINVAL);
}

static void test_low_water(void **state)
{
	const char *error = NULL;
	u64 lw;

	assert_int_equal(ctpool_parse_low_water("0", &lw, &error), 0);
	assert_int_equal(ctpool_parse_low_water("18446744073709551615", &lw,
						&error), 0);
	assert_true(lw == ~0ULL);
	assert_int_equal(ctpool_parse_low_water("18446744073709551616", &lw,
						&error), -EINVAL);
	assert_string_equal(error, "Invalid low water mark");
	assert_int_equal(ctpool_parse_low_water("-1", &lw, &error), -EINVAL);
	assert_int_equal(ctpool_parse_low_water("1 ", &lw, &error), -EINVAL);
}

static void test_dev_id(void **state)
{
	u64 id;

	assert_int_equal(ctpool_parse_dev_id("0", &id), 0);
	assert_int_equal(ctpool_parse_dev_id("16777215", &id), 0);
	assert_int_equal(id, 16777215);
	assert_int_equal(ctpool_parse_dev_id("16777216", &id), -EINVAL);
	assert_int_equal(ctpool_parse_dev_id("0x10", &id), -EINVAL);
	assert_int_equal(ctpool_parse_dev_id("abc", &id), -EINVAL);
	assert_int_equal(ctpool_parse_dev_id(NULL, &id), -EINVAL);
}

static void test_format_features(void **state)
{
	struct pool_features pf;
	char buf[128];

	ctpool_pool_features_init(&pf);
	ctpool_format_pool_features(&pf, buf, sizeof(buf));
	assert_string_equal(buf, "0 ");

	pf.zero_new_blocks = false;
	pf.error_if_no_space = true;
	ctpool_format_pool_features(&pf, buf, sizeof(buf));
	assert_string_equal(buf, "2 skip_block_zeroing error_if_no_space ");

	pf.discard_enabled = false;
	pf.discard_passdown = false;
	pf.read_only = true;
	ctpool_format_pool_features(&pf, buf, sizeof(buf));
	assert_string_equal(buf, "5 skip_block_zeroing ignore_discard "
			    "no_discard_passdown read_only error_if_no_space ");
}

static void test_messages(void **state)
{
	char err[CTPOOL_MSG_ERROR_LEN];
	struct ctpool_message m;

	assert_int_equal(ctpool_parse_message(2, ARGV("create_thin", "7"), &m,
					      err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_CREATE_THIN);
	assert_int_equal(m.dev, 7);

	assert_int_equal(ctpool_parse_message(3, ARGV("CREATE_SNAP", "8", "7"),
					      &m, err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_CREATE_SNAP);
	assert_int_equal(m.dev, 8);
	assert_int_equal(m.origin, 7);

	assert_int_equal(ctpool_parse_message(2, ARGV("delete", "8"), &m, err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_DELETE);

	assert_int_equal(ctpool_parse_message(3, ARGV("set_transaction_id", "0",
						      "1"), &m, err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_SET_TRANSACTION_ID);
	assert_int_equal(m.old_id, 0);
	assert_int_equal(m.new_id, 1);

	assert_int_equal(ctpool_parse_message(1, ARGV("reserve_metadata_snap"),
					      &m, err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_RESERVE_METADATA_SNAP);
	assert_int_equal(ctpool_parse_message(1, ARGV("release_metadata_snap"),
					      &m, err), 0);
	assert_int_equal(m.type, CTPOOL_MSG_RELEASE_METADATA_SNAP);
}

static void test_message_errors(void **state)
{
	char err[CTPOOL_MSG_ERROR_LEN];
	struct ctpool_message m;

	assert_int_equal(ctpool_parse_message(1, ARGV("create_thin"), &m, err),
			 -EINVAL);
	assert_string_equal(err, "Message received with 1 arguments instead of 2.");

	assert_int_equal(ctpool_parse_message(3, ARGV("delete", "1", "2"), &m,
					      err), -EINVAL);
	assert_string_equal(err, "Message received with 3 arguments instead of 2.");

	assert_int_equal(ctpool_parse_message(2, ARGV("create_thin", "16777216"),
					      &m, err), -EINVAL);
	assert_string_equal(err, "Message received with invalid device id: 16777216");

	assert_int_equal(ctpool_parse_message(3, ARGV("create_snap", "1", "x"),
					      &m, err), -EINVAL);
	assert_string_equal(err, "Message received with invalid device id: x");

	assert_int_equal(ctpool_parse_message(3, ARGV("set_transaction_id", "a",
						      "1"), &m, err), -EINVAL);
	assert_string_equal(err, "set_transaction_id message: Unrecognised id a.");

	assert_int_equal(ctpool_parse_message(2, ARGV("reserve_metadata_snap",
						      "1"), &m, err), -EINVAL);

	assert_int_equal(ctpool_parse_message(1, ARGV("frobnicate"), &m, err),
			 -EINVAL);
	assert_string_equal(err, "Unrecognised thin pool target message received: frobnicate");
	assert_int_equal(ctpool_parse_message(0, ARGV(NULL), &m, err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_defaults),
		cmocka_unit_test(test_table_arg_count),
		cmocka_unit_test(test_table_same_devices),
		cmocka_unit_test(test_features),
		cmocka_unit_test(test_feature_count_errors),
		cmocka_unit_test(test_unknown_feature),
		cmocka_unit_test(test_block_size),
		cmocka_unit_test(test_low_water),
		cmocka_unit_test(test_dev_id),
		cmocka_unit_test(test_format_features),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_message_errors),
	};
	int n = (int)(sizeof(tests) / sizeof(tests[0]));
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	printf("%d passed, %d failed\n", n - failed, failed);
	return failed ? 1 : 0;
}
