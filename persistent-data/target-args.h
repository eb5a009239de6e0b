/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing of the pool and thin table lines and of pool messages.
 *
 * Pure string handling with no kernel dependency beyond pd-compat.h, so the
 * very same code runs in the module and in host unit tests (and fuzzers).
 * Error strings are those dm-thin 6.1 reports, because tools and people
 * match on them.
 */
#ifndef PD_TARGET_ARGS_H
#define PD_TARGET_ARGS_H

#include "pd-compat.h"

/* Thin device ids are 24 bits wide in the mapping tree. */
#define CTPOOL_MAX_DEV_ID ((1ULL << 24) - 1)

/* Data block size limits, in 512-byte sectors (64 KiB .. 1 GiB). */
#define CTPOOL_BLOCK_SIZE_MIN 128
#define CTPOOL_BLOCK_SIZE_MAX 2097152

struct pool_features {
	bool read_only;
	bool zero_new_blocks;
	bool discard_enabled;
	bool discard_passdown;
	bool error_if_no_space;
};

void ctpool_pool_features_init(struct pool_features *pf);

/*
 * First stage of a pool table line, before any device is opened:
 * <metadata dev> <data dev> <block size> <low water> [<#features> <feature>*]
 * Checks the argument count, that the two devices differ, and the feature
 * group. Returns 0 or -EINVAL with *error set.
 */
int ctpool_parse_pool_table(int argc, char **argv, struct pool_features *pf,
			    const char **error);

/* Feature group alone: argv[0] is the count. argc == 0 means none. */
int ctpool_parse_pool_features(int argc, char **argv,
			       struct pool_features *pf, const char **error);

/* Second stage, after the devices are open, as dm-thin orders its checks. */
int ctpool_parse_block_size(const char *arg, u32 *result, const char **error);
int ctpool_parse_low_water(const char *arg, u64 *result, const char **error);

/* A thin device id: decimal, at most CTPOOL_MAX_DEV_ID. */
int ctpool_parse_dev_id(const char *arg, u64 *result);

/*
 * Strict unsigned decimal (an optional '+' and one trailing newline, like
 * the kernel's kstrtoull). 0 or -EINVAL (also on overflow).
 */
int ctpool_parse_u64(const char *arg, u64 *result);

/*
 * Writes the feature part of `dmsetup table` output for pf:
 * "<count> [skip_block_zeroing ][ignore_discard ][no_discard_passdown ]
 * [read_only ][error_if_no_space ]" into buf (always NUL-terminated).
 */
void ctpool_format_pool_features(const struct pool_features *pf, char *buf,
				 size_t len);

enum ctpool_message_type {
	CTPOOL_MSG_CREATE_THIN,
	CTPOOL_MSG_CREATE_SNAP,
	CTPOOL_MSG_DELETE,
	CTPOOL_MSG_SET_TRANSACTION_ID,
	CTPOOL_MSG_RESERVE_METADATA_SNAP,
	CTPOOL_MSG_RELEASE_METADATA_SNAP,
};

struct ctpool_message {
	enum ctpool_message_type type;
	u64 dev;		/* create_thin, create_snap, delete */
	u64 origin;		/* create_snap */
	u64 old_id, new_id;	/* set_transaction_id */
};

/*
 * Parse a pool message. Returns 0, or -EINVAL with *error set to the
 * warning dm-thin prints (formatted into errbuf, which must hold at least
 * CTPOOL_MSG_ERROR_LEN bytes).
 */
#define CTPOOL_MSG_ERROR_LEN 128
int ctpool_parse_message(int argc, char **argv, struct ctpool_message *msg,
			 char *errbuf);

#endif
