/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every host test suite shares: the "N passed, N failed" line the
 * test runner reads, and one scratch directory per test binary.
 */
#ifndef CTPOOL_TEST_COMMON_H
#define CTPOOL_TEST_COMMON_H

#include <stddef.h>

#include "block-manager.h"

/* Print the summary line for a cmocka group; the exit status. */
int test_summary(size_t nr_tests, int nr_failed);

/*
 * This binary's scratch directory, created on first use and removed at
 * exit (kept when TEST_KEEP is set). It is on tmpfs when there is one:
 * the tests fsync at every commit. TEST_DIR overrides the parent.
 */
const char *test_scratch_dir(void);

/* Create (or truncate) a sparse file of nr_blocks metadata blocks. */
void test_make_file(const char *path, u64 nr_blocks);

/*
 * A validator like the metadata ones, for the tests' own blocks: each
 * begins with a struct test_block_head. Before a write it stamps the
 * block's location and the checksum of all but csum, xored with xor; check
 * wants both back (else -ENOTBLK, -EILSEQ) and, when magic is not 0, the
 * __le64 at magic_offset to hold it (else -EILSEQ). Lock with &name.v.
 */
struct test_block_head {
	__le32 csum;
	__le32 tag;		/* anything: covered by the checksum */
	__le64 blocknr;
} __packed;

struct test_validator {
	struct pd_block_validator v;
	u32 xor;
	size_t magic_offset;
	u64 magic;
};

void test_block_prepare(const struct pd_block_validator *v, void *data,
			pd_block_t location);
int test_block_check(const struct pd_block_validator *v, const void *data,
		     pd_block_t location);

#define TEST_VALIDATOR(vname, xor_value, ...)			\
	{							\
		.v = {						\
			.name = (vname),			\
			.prepare_for_write = test_block_prepare,\
			.check = test_block_check,		\
		},						\
		.xor = (xor_value), __VA_ARGS__			\
	}

#endif
