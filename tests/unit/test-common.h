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

#endif
