// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parsing of pool/thin table arguments and pool messages (see target-args.h).
 */
#include "target-args.h"

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static bool same_word(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return lower(*a) == lower(*b);
}

static bool same_string(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int ctpool_parse_u64(const char *arg, u64 *result)
{
	u64 v = 0;
	const char *p = arg;

	if (!p)
		return -EINVAL;
	if (*p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		unsigned int d = *p - '0';

		if (v > (~0ULL - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
		p++;
	}
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*result = v;
	return 0;
}

int ctpool_parse_dev_id(const char *arg, u64 *result)
{
	u64 v;

	if (ctpool_parse_u64(arg, &v) || v > CTPOOL_MAX_DEV_ID)
		return -EINVAL;
	*result = v;
	return 0;
}

void ctpool_pool_features_init(struct pool_features *pf)
{
	pf->read_only = false;
	pf->zero_new_blocks = true;
	pf->discard_enabled = true;
	pf->discard_passdown = true;
	pf->error_if_no_space = false;
}

int ctpool_parse_pool_features(int argc, char **argv,
			       struct pool_features *pf, const char **error)
{
	u64 count;
	int i;

	if (argc == 0)
		return 0;

	/* Like dm_read_arg_group(): the count must be 0..4 and present. */
	if (ctpool_parse_u64(argv[0], &count) || count > 4 ||
	    count > (u64)(argc - 1)) {
		*error = "Invalid number of pool feature arguments";
		return -EINVAL;
	}

	for (i = 1; i <= (int)count; i++) {
		const char *f = argv[i];

		if (same_word(f, "skip_block_zeroing")) {
			pf->zero_new_blocks = false;
		} else if (same_word(f, "ignore_discard")) {
			pf->discard_enabled = false;
		} else if (same_word(f, "no_discard_passdown")) {
			pf->discard_passdown = false;
		} else if (same_word(f, "read_only")) {
			pf->read_only = true;
		} else if (same_word(f, "error_if_no_space")) {
			pf->error_if_no_space = true;
		} else {
			*error = "Unrecognised pool feature requested";
			return -EINVAL;
		}
	}
	return 0;
}

int ctpool_parse_pool_table(int argc, char **argv, struct pool_features *pf,
			    const char **error)
{
	ctpool_pool_features_init(pf);

	if (argc < 4) {
		*error = "Invalid argument count";
		return -EINVAL;
	}
	if (same_string(argv[0], argv[1])) {
		*error = "Error setting metadata or data device";
		return -EINVAL;
	}
	return ctpool_parse_pool_features(argc - 4, argv + 4, pf, error);
}

int ctpool_parse_block_size(const char *arg, u32 *result, const char **error)
{
	u64 v;

	if (ctpool_parse_u64(arg, &v) || v < CTPOOL_BLOCK_SIZE_MIN ||
	    v > CTPOOL_BLOCK_SIZE_MAX || (v & (CTPOOL_BLOCK_SIZE_MIN - 1))) {
		*error = "Invalid block size";
		return -EINVAL;
	}
	*result = (u32)v;
	return 0;
}

int ctpool_parse_low_water(const char *arg, u64 *result, const char **error)
{
	if (ctpool_parse_u64(arg, result)) {
		*error = "Invalid low water mark";
		return -EINVAL;
	}
	return 0;
}

void ctpool_format_pool_features(const struct pool_features *pf, char *buf,
				 size_t len)
{
	unsigned int count = !pf->zero_new_blocks + !pf->discard_enabled +
			     !pf->discard_passdown + pf->read_only +
			     pf->error_if_no_space;

	snprintf(buf, len, "%u %s%s%s%s%s", count,
		 pf->zero_new_blocks ? "" : "skip_block_zeroing ",
		 pf->discard_enabled ? "" : "ignore_discard ",
		 pf->discard_passdown ? "" : "no_discard_passdown ",
		 pf->read_only ? "read_only " : "",
		 pf->error_if_no_space ? "error_if_no_space " : "");
}

static int check_arg_count(int argc, int wanted, char *errbuf)
{
	if (argc != wanted) {
		snprintf(errbuf, CTPOOL_MSG_ERROR_LEN,
			 "Message received with %d arguments instead of %d.",
			 argc, wanted);
		return -EINVAL;
	}
	return 0;
}

static int read_dev_id(const char *arg, u64 *dev, char *errbuf)
{
	if (ctpool_parse_dev_id(arg, dev)) {
		snprintf(errbuf, CTPOOL_MSG_ERROR_LEN,
			 "Message received with invalid device id: %s", arg);
		return -EINVAL;
	}
	return 0;
}

static int read_transaction_id(const char *arg, u64 *id, char *errbuf)
{
	if (ctpool_parse_u64(arg, id)) {
		snprintf(errbuf, CTPOOL_MSG_ERROR_LEN,
			 "set_transaction_id message: Unrecognised id %s.",
			 arg);
		return -EINVAL;
	}
	return 0;
}

int ctpool_parse_message(int argc, char **argv, struct ctpool_message *msg,
			 char *errbuf)
{
	int r;

	errbuf[0] = '\0';
	if (argc < 1)
		goto unknown;

	if (same_word(argv[0], "create_thin")) {
		msg->type = CTPOOL_MSG_CREATE_THIN;
		r = check_arg_count(argc, 2, errbuf);
		return r ? r : read_dev_id(argv[1], &msg->dev, errbuf);
	}
	if (same_word(argv[0], "create_snap")) {
		msg->type = CTPOOL_MSG_CREATE_SNAP;
		r = check_arg_count(argc, 3, errbuf);
		if (!r)
			r = read_dev_id(argv[1], &msg->dev, errbuf);
		return r ? r : read_dev_id(argv[2], &msg->origin, errbuf);
	}
	if (same_word(argv[0], "delete")) {
		msg->type = CTPOOL_MSG_DELETE;
		r = check_arg_count(argc, 2, errbuf);
		return r ? r : read_dev_id(argv[1], &msg->dev, errbuf);
	}
	if (same_word(argv[0], "set_transaction_id")) {
		msg->type = CTPOOL_MSG_SET_TRANSACTION_ID;
		r = check_arg_count(argc, 3, errbuf);
		if (!r)
			r = read_transaction_id(argv[1], &msg->old_id, errbuf);
		return r ? r : read_transaction_id(argv[2], &msg->new_id,
						   errbuf);
	}
	if (same_word(argv[0], "reserve_metadata_snap")) {
		msg->type = CTPOOL_MSG_RESERVE_METADATA_SNAP;
		return check_arg_count(argc, 1, errbuf);
	}
	if (same_word(argv[0], "release_metadata_snap")) {
		msg->type = CTPOOL_MSG_RELEASE_METADATA_SNAP;
		return check_arg_count(argc, 1, errbuf);
	}

unknown:
	snprintf(errbuf, CTPOOL_MSG_ERROR_LEN,
		 "Unrecognised thin pool target message received: %s",
		 argc ? argv[0] : "");
	return -EINVAL;
}
