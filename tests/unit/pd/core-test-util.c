// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for the core host tests (see core-test.h).
 */
#include "core-test.h"

/* A fresh path in the scratch directory; the caller frees it. */
char *core_test_path(const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", test_scratch_dir(), name) < 0)
		abort();
	return path;
}

/* ---- random numbers ---- */

static u64 rand_state = 88172645463325252ull;

void core_srand(u64 seed)
{
	rand_state = seed * 0x9E3779B97F4A7C15ull + 1;
}

u64 core_rand(void)
{
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 7;
	rand_state ^= rand_state << 17;
	return rand_state;
}

/* ---- the in-memory space map ---- */

struct test_sm {
	struct pd_space_map sm;
	pd_block_t nr_blocks;
	pd_block_t cursor;
	u32 *counts;
	u32 *committed;
	unsigned int errors;
};

static struct test_sm *to_tsm(struct pd_space_map *sm)
{
	return container_of(sm, struct test_sm, sm);
}

static int tsm_bad(struct test_sm *t, const char *what, pd_block_t b)
{
	fprintf(stderr, "test space map: %s (block %llu)\n", what,
		(unsigned long long)b);
	t->errors++;
	return -EINVAL;
}

static void tsm_destroy(struct pd_space_map *sm)
{
	struct test_sm *t = to_tsm(sm);

	free(t->counts);
	free(t->committed);
	free(t);
}

static int tsm_extend(struct pd_space_map *sm, pd_block_t extra)
{
	return -EINVAL;
}

static int tsm_nr_blocks(struct pd_space_map *sm, pd_block_t *count)
{
	*count = to_tsm(sm)->nr_blocks;
	return 0;
}

static int tsm_nr_free(struct pd_space_map *sm, pd_block_t *count)
{
	*count = to_tsm(sm)->nr_blocks - test_sm_nr_allocated(sm);
	return 0;
}

static int tsm_get_count(struct pd_space_map *sm, pd_block_t b, u32 *result)
{
	struct test_sm *t = to_tsm(sm);

	if (b >= t->nr_blocks)
		return tsm_bad(t, "get_count out of range", b);
	*result = t->counts[b];
	return 0;
}

static int tsm_more_than_one(struct pd_space_map *sm, pd_block_t b,
			     bool *result)
{
	u32 count;
	int r = tsm_get_count(sm, b, &count);

	if (!r)
		*result = count > 1;
	return r;
}

static int tsm_set_count(struct pd_space_map *sm, pd_block_t b, u32 count)
{
	struct test_sm *t = to_tsm(sm);

	if (b >= t->nr_blocks)
		return tsm_bad(t, "set_count out of range", b);
	t->counts[b] = count;
	return 0;
}

static int tsm_commit(struct pd_space_map *sm)
{
	struct test_sm *t = to_tsm(sm);

	memcpy(t->committed, t->counts, t->nr_blocks * sizeof(u32));
	return 0;
}

/* inc or dec every block of [b, e); each must be in use already. */
static int tsm_adjust(struct pd_space_map *sm, pd_block_t b, pd_block_t e,
		      bool inc)
{
	struct test_sm *t = to_tsm(sm);

	for (; b < e; b++) {
		if (b >= t->nr_blocks)
			return tsm_bad(t, inc ? "inc out of range" :
					  "dec out of range", b);
		if (!t->counts[b])
			return tsm_bad(t, inc ? "inc of a free block" :
					  "dec of a free block", b);
		if (inc)
			t->counts[b]++;
		else
			t->counts[b]--;
	}
	return 0;
}

static int tsm_inc(struct pd_space_map *sm, pd_block_t b, pd_block_t e)
{
	return tsm_adjust(sm, b, e, true);
}

static int tsm_dec(struct pd_space_map *sm, pd_block_t b, pd_block_t e)
{
	return tsm_adjust(sm, b, e, false);
}

static int tsm_new_block(struct pd_space_map *sm, pd_block_t *result)
{
	struct test_sm *t = to_tsm(sm);
	pd_block_t i, b;

	for (i = 0; i < t->nr_blocks; i++) {
		b = (t->cursor + i) % t->nr_blocks;
		if (!t->counts[b] && !t->committed[b]) {
			t->counts[b] = 1;
			t->cursor = b + 1;
			*result = b;
			return 0;
		}
	}
	return -ENOSPC;
}

static int tsm_root_size(struct pd_space_map *sm, size_t *result)
{
	*result = 0;
	return 0;
}

static int tsm_copy_root(struct pd_space_map *sm, void *where, size_t max)
{
	return 0;
}

static const struct pd_space_map_ops tsm_ops = {
	.destroy = tsm_destroy,
	.extend = tsm_extend,
	.get_nr_blocks = tsm_nr_blocks,
	.get_nr_free = tsm_nr_free,
	.get_count = tsm_get_count,
	.count_is_more_than_one = tsm_more_than_one,
	.set_count = tsm_set_count,
	.commit = tsm_commit,
	.inc_blocks = tsm_inc,
	.dec_blocks = tsm_dec,
	.new_block = tsm_new_block,
	.root_size = tsm_root_size,
	.copy_root = tsm_copy_root,
};

struct pd_space_map *test_sm_create(pd_block_t nr_blocks, pd_block_t reserved)
{
	struct test_sm *t = calloc(1, sizeof(*t));
	pd_block_t b;

	assert_non_null(t);
	t->sm.ops = &tsm_ops;
	t->nr_blocks = nr_blocks;
	t->counts = calloc(nr_blocks, sizeof(u32));
	t->committed = calloc(nr_blocks, sizeof(u32));
	assert_non_null(t->counts);
	assert_non_null(t->committed);
	for (b = 0; b <= reserved && b < nr_blocks; b++)
		t->counts[b] = t->committed[b] = 1;
	t->cursor = reserved + 1;
	return &t->sm;
}

u32 test_sm_count(struct pd_space_map *sm, pd_block_t b)
{
	return to_tsm(sm)->counts[b];
}

pd_block_t test_sm_nr_allocated(struct pd_space_map *sm)
{
	struct test_sm *t = to_tsm(sm);
	pd_block_t b, n = 0;

	for (b = 0; b < t->nr_blocks; b++)
		n += !!t->counts[b];
	return n;
}

void test_sm_rollback(struct pd_space_map *sm)
{
	struct test_sm *t = to_tsm(sm);

	memcpy(t->counts, t->committed, t->nr_blocks * sizeof(u32));
}

unsigned int test_sm_errors(struct pd_space_map *sm)
{
	return to_tsm(sm)->errors;
}

/* ---- the test superblock ---- */

#define CORE_SB_XOR 0x5eed5eedu
#define CORE_SB_MAX_ROOTS 32

struct core_sb {
	struct test_block_head head;
	__le64 nr_roots;
	__le64 roots[CORE_SB_MAX_ROOTS];
	__u8 sm_root[PD_SM_ROOT_SIZE];
} __packed;

static const struct test_validator core_sb_validator =
	TEST_VALIDATOR("core_test_sb", CORE_SB_XOR);

/* ---- environment ---- */

static void env_open_bm(struct core_env *env, unsigned int cache_blocks)
{
	assert_int_equal(pd_bm_file_open(env->path, false, cache_blocks,
					 &env->bm), 0);
}

void core_env_init(struct core_env *env, const char *name,
		   pd_block_t nr_blocks, unsigned int cache_blocks)
{
	memset(env, 0, sizeof(*env));
	env->path = core_test_path(name);
	env->nr_blocks = nr_blocks;
	test_make_file(env->path, nr_blocks);
	env->sm = test_sm_create(nr_blocks, 0);
	env_open_bm(env, cache_blocks);
	assert_int_equal(pd_tm_create(env->bm, env->sm, &env->tm), 0);
}

void core_env_init_real(struct core_env *env, const char *name,
			pd_block_t nr_blocks, unsigned int cache_blocks)
{
	memset(env, 0, sizeof(*env));
	env->path = core_test_path(name);
	env->nr_blocks = nr_blocks;
	env->real_sm = true;
	test_make_file(env->path, nr_blocks);
	env_open_bm(env, cache_blocks);
	assert_int_equal(pd_tm_create_with_sm(env->bm, 0, &env->tm, &env->sm),
			 0);
}

static int read_sb(struct core_env *env, struct core_sb *copy)
{
	struct pd_block *b;
	int r;

	r = pd_bm_read_lock(env->bm, 0, &core_sb_validator.v, &b);
	if (r)
		return r;
	memcpy(copy, pd_block_data(b), sizeof(*copy));
	pd_bm_unlock(b);
	return 0;
}

void core_env_reopen(struct core_env *env, unsigned int cache_blocks)
{
	struct core_sb sb;

	pd_tm_destroy(env->tm);
	if (env->real_sm) {
		pd_sm_destroy(env->sm);
		env->sm = NULL;
	} else {
		test_sm_rollback(env->sm);
	}
	pd_bm_destroy(env->bm);
	env_open_bm(env, cache_blocks);

	if (!env->real_sm) {
		assert_int_equal(pd_tm_create(env->bm, env->sm, &env->tm), 0);
		return;
	}
	assert_int_equal(read_sb(env, &sb), 0);
	assert_int_equal(pd_tm_open_with_sm(env->bm, 0, sb.sm_root,
					    sizeof(sb.sm_root), &env->tm,
					    &env->sm), 0);
}

int core_env_try_commit(struct core_env *env, const u64 *roots,
			unsigned int n)
{
	struct pd_block *b;
	struct core_sb *sb;
	unsigned int i;
	int r;

	assert_true(n <= CORE_SB_MAX_ROOTS);
	r = pd_tm_pre_commit(env->tm);
	if (r)
		return r;
	r = pd_bm_write_lock_zero(env->bm, 0, &core_sb_validator.v, &b);
	if (r)
		return r;
	sb = pd_block_data(b);
	sb->head.tag = cpu_to_le32(0xc0de);	/* its magic (not checked) */
	sb->nr_roots = cpu_to_le64(n);
	for (i = 0; i < n; i++)
		sb->roots[i] = cpu_to_le64(roots[i]);
	if (env->real_sm) {
		r = pd_sm_copy_root(env->sm, sb->sm_root, sizeof(sb->sm_root));
		if (r) {
			pd_bm_unlock(b);
			return r;
		}
	}
	return pd_tm_commit(env->tm, b);
}

void core_env_commit(struct core_env *env, const u64 *roots, unsigned int n)
{
	assert_int_equal(core_env_try_commit(env, roots, n), 0);
}

unsigned int core_env_read_roots(struct core_env *env, u64 *roots,
				 unsigned int max)
{
	struct core_sb sb;
	unsigned int i, n;

	assert_int_equal(read_sb(env, &sb), 0);
	n = le64_to_cpu(sb.nr_roots);
	assert_true(n <= max);
	for (i = 0; i < n; i++)
		roots[i] = le64_to_cpu(sb.roots[i]);
	return n;
}

u32 core_env_count(struct core_env *env, pd_block_t b)
{
	u32 count;

	assert_int_equal(pd_sm_get_count(env->sm, b, &count), 0);
	return count;
}

pd_block_t core_env_nr_allocated(struct core_env *env)
{
	pd_block_t nr, nr_free;

	if (!env->real_sm)
		return test_sm_nr_allocated(env->sm);
	assert_int_equal(pd_sm_get_nr_blocks(env->sm, &nr), 0);
	assert_int_equal(pd_sm_get_nr_free(env->sm, &nr_free), 0);
	return nr - nr_free;
}

void core_env_exit(struct core_env *env)
{
	pd_tm_destroy(env->tm);
	pd_bm_destroy(env->bm);
	if (!env->real_sm)
		assert_int_equal(test_sm_errors(env->sm), 0);
	pd_sm_destroy(env->sm);
	free(env->path);
}
