/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the core host tests (block manager, transaction manager,
 * btree): the cmocka runner with the "N passed, N failed" line, scratch
 * files, and an in-memory space map whose counts the tests can inspect.
 */
#ifndef CORE_TEST_H
#define CORE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bm-file.h"
#include "btree.h"
#include "transaction-manager.h"
#include "test-common.h"

/* Run a cmocka group, print the summary line, return the exit status. */
#define CORE_RUN_TESTS(tests) \
	test_summary(ARRAY_SIZE(tests), \
		     cmocka_run_group_tests(tests, NULL, NULL))

/* test_scratch_dir()/name as a malloc'd string. */
char *core_test_path(const char *name);

/* Deterministic pseudo-random numbers (xorshift), seeded per test. */
void core_srand(u64 seed);
u64 core_rand(void);
static inline u64 core_rand_below(u64 n)
{
	return core_rand() % n;
}

/*
 * The in-memory space map: counts per block, allocation from a cursor,
 * blocks whose count was non-zero at the last commit never handed out
 * before the next one (as the real space maps behave).
 */
struct pd_space_map *test_sm_create(pd_block_t nr_blocks, pd_block_t reserved);
u32 test_sm_count(struct pd_space_map *sm, pd_block_t b);
pd_block_t test_sm_nr_allocated(struct pd_space_map *sm);
/* Back to the counts of the last commit (after a simulated crash). */
void test_sm_rollback(struct pd_space_map *sm);
/* Errors the space map saw (dec of a free block...): must stay 0. */
unsigned int test_sm_errors(struct pd_space_map *sm);

/*
 * A metadata device: file, block manager, space map, tm. The space map is
 * either the in-memory test one or (real_sm) the metadata space map, whose
 * root the test superblock at block 0 then carries.
 */
struct core_env {
	char *path;
	pd_block_t nr_blocks;
	bool real_sm;
	struct pd_block_manager *bm;
	struct pd_space_map *sm;
	struct pd_transaction_manager *tm;
};

void core_env_init(struct core_env *env, const char *name,
		   pd_block_t nr_blocks, unsigned int cache_blocks);
void core_env_init_real(struct core_env *env, const char *name,
			pd_block_t nr_blocks, unsigned int cache_blocks);
/*
 * Drop everything in memory (the block manager writes back what is dirty,
 * subject to its write limit) and open the device again: from the last
 * commit's space map root (real_sm), or with the test space map rolled
 * back to its last commit.
 */
void core_env_reopen(struct core_env *env, unsigned int cache_blocks);
/* Commit with a superblock at block 0 holding @roots. */
void core_env_commit(struct core_env *env, const u64 *roots, unsigned int n);
/* The same, returning errors instead of asserting. */
int core_env_try_commit(struct core_env *env, const u64 *roots,
			unsigned int n);
/* Read the roots of the last durable commit; returns how many. */
unsigned int core_env_read_roots(struct core_env *env, u64 *roots,
				 unsigned int max);
void core_env_exit(struct core_env *env);

/* The reference count of a block, from whichever space map is in use. */
u32 core_env_count(struct core_env *env, pd_block_t b);
pd_block_t core_env_nr_allocated(struct core_env *env);

#endif
