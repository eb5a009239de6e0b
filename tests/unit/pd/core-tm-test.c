// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transaction manager: shadowing rules and reference counts, read-only
 * mode, the non-blocking clone, and crash consistency: a commit cut short
 * after every possible number of block writes leaves, on reopen, exactly
 * the previous commit (or, once the superblock is written, the new one),
 * with consistent reference counts that later transactions can build on.
 */
#include <fcntl.h>
#include <unistd.h>

#include "core-btree-check.h"

static const struct pd_block_validator *v = &pd_btree_node_validator;

static pd_block_t new_node(struct core_env *env, u64 tag)
{
	struct pd_block *b;
	struct pd_btree_node *n;
	pd_block_t loc;

	assert_int_equal(pd_tm_new_block(env->tm, v, &b), 0);
	n = pd_block_data(b);
	pd_node_init(n, false, 8);
	pd_node_insert_at(n, 0, tag, &(__le64){ 0 });
	loc = pd_block_location(b);
	pd_tm_unlock(env->tm, b);
	return loc;
}

static u64 node_tag(struct core_env *env, pd_block_t loc)
{
	struct pd_block *b;
	u64 tag;

	assert_int_equal(pd_tm_read_lock(env->tm, loc, v, &b), 0);
	tag = pd_node_key(pd_block_data(b), 0);
	pd_tm_unlock(env->tm, b);
	return tag;
}

/* Shadow @orig; returns the location, checks inc_children. */
static pd_block_t shadow(struct core_env *env, pd_block_t orig,
			 int expect_inc)
{
	struct pd_block *b;
	pd_block_t loc;
	int inc = -1;

	assert_int_equal(pd_tm_shadow_block(env->tm, orig, v, &b, &inc), 0);
	assert_int_equal(inc, expect_inc);
	loc = pd_block_location(b);
	pd_tm_unlock(env->tm, b);
	return loc;
}

static void test_shadowing(void **state)
{
	struct core_env env;
	pd_block_t a, a2, a3, b, b2;
	bool shared;
	u32 count;

	core_env_init(&env, "shadow.img", 64, 16);

	/* New in this transaction: written in place. */
	a = new_node(&env, 1);
	assert_int_equal(core_env_count(&env, a), 1);
	assert_int_equal(shadow(&env, a, 0), a);

	/* Committed: copied; the original loses its reference. */
	core_env_commit(&env, &a, 1);
	a2 = shadow(&env, a, 0);
	assert_true(a2 != a);
	assert_int_equal(core_env_count(&env, a), 0);
	assert_int_equal(core_env_count(&env, a2), 1);
	assert_int_equal(node_tag(&env, a2), 1);
	/* Now owned: in place again. */
	assert_int_equal(shadow(&env, a2, 0), a2);

	/* Shared (count 2), even though owned: copied, children inc'd. */
	assert_int_equal(pd_tm_inc(env.tm, a2), 0);
	assert_int_equal(pd_tm_block_is_shared(env.tm, a2, &shared), 0);
	assert_true(shared);
	a3 = shadow(&env, a2, 1);
	assert_true(a3 != a2);
	assert_int_equal(pd_tm_ref(env.tm, a2, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(core_env_count(&env, a3), 1);
	assert_int_equal(node_tag(&env, a3), 1);

	/* Shared and committed. */
	b = new_node(&env, 2);
	assert_int_equal(pd_tm_inc_range(env.tm, b, b + 1), 0);
	core_env_commit(&env, (u64[]){ a2, a3, b, b }, 4);
	b2 = shadow(&env, b, 1);
	assert_true(b2 != b);
	assert_int_equal(core_env_count(&env, b), 1);
	assert_int_equal(pd_tm_dec_range(env.tm, b, b + 1), 0);
	assert_int_equal(core_env_count(&env, b), 0);
	assert_int_equal(pd_tm_dec(env.tm, b2), 0);
	assert_int_equal(pd_tm_dec(env.tm, a2), 0);
	assert_int_equal(pd_tm_dec(env.tm, a3), 0);
	core_env_commit(&env, NULL, 0);
	assert_int_equal(core_env_nr_allocated(&env), 1);

	core_env_exit(&env);
}

static void test_read_only_and_clone(void **state)
{
	struct pd_transaction_manager *nb;
	struct core_env env;
	struct pd_block *b;
	pd_block_t a, c;
	int inc;

	core_env_init(&env, "ro.img", 64, 16);
	a = new_node(&env, 5);
	core_env_commit(&env, &a, 1);

	pd_tm_set_read_only(env.tm);
	assert_true(pd_tm_is_read_only(env.tm));
	assert_int_equal(pd_tm_new_block(env.tm, v, &b), -EPERM);
	assert_int_equal(pd_tm_shadow_block(env.tm, a, v, &b, &inc), -EPERM);
	assert_int_equal(node_tag(&env, a), 5);
	pd_bm_set_read_write(env.bm);
	assert_false(pd_tm_is_read_only(env.tm));
	c = shadow(&env, a, 0);

	/* The clone reads only what is cached, and remembers the misses. */
	core_env_commit(&env, &c, 1);
	pd_bm_invalidate(env.bm);
	nb = pd_tm_create_non_blocking_clone(env.tm);
	assert_non_null(nb);
	assert_true(pd_tm_is_read_only(nb));
	assert_int_equal(pd_tm_read_lock(nb, c, v, &b), -EWOULDBLOCK);
	pd_tm_issue_prefetches(nb);
	assert_int_equal(node_tag(&env, c), 5);
	assert_int_equal(pd_tm_read_lock(nb, c, v, &b), 0);
	pd_tm_unlock(nb, b);

	/* ...and changes nothing. */
	assert_int_equal(pd_tm_shadow_block(nb, c, v, &b, &inc), -EPERM);
	assert_int_equal(pd_tm_new_block(nb, v, &b), -EPERM);
	assert_int_equal(pd_tm_inc(nb, c), -EPERM);
	assert_int_equal(pd_tm_dec(nb, c), -EPERM);
	assert_int_equal(pd_tm_pre_commit(nb), -EPERM);
	assert_true(pd_tm_get_bm(nb) == env.bm);
	assert_true(pd_tm_get_sm(nb) == env.sm);
	pd_tm_destroy(nb);

	core_env_exit(&env);
}

/* A failed open leaves nothing behind for the caller to free twice. */
static void test_open_with_sm_failure(void **state)
{
	struct pd_transaction_manager *tm = (void *)1;
	struct pd_space_map *sm = (void *)1;
	u8 root[PD_SM_ROOT_SIZE] = { 0 };
	struct core_env env;

	core_env_init_real(&env, "badroot.img", 256, 16);
	core_env_commit(&env, NULL, 0);
	memset(root, 0xa5, 32);
	assert_true(pd_tm_open_with_sm(env.bm, 0, root, sizeof(root), &tm,
				       &sm) < 0);
	assert_null(tm);
	assert_null(sm);
	core_env_exit(&env);
}

/* ---- crash consistency ---- */

#define CRASH_BLOCKS 2048
#define CRASH_KEYS 40000

struct crash_state {
	struct core_env env;
	struct pd_btree_info info;
	pd_block_t root;
	u64 *model;		/* key -> value + 1 */
};

static void crash_info(struct crash_state *s)
{
	s->info.tm = s->env.tm;
	s->info.levels = 1;
	s->info.value_type = (struct pd_btree_value_type){ .size = 8 };
}

/* Deterministic changes: inserts, overwrites and removals. */
static void crash_ops(struct crash_state *s, u64 seed, unsigned int n)
{
	unsigned int i;
	__le64 value;
	u64 key;
	int r;

	core_srand(seed);
	for (i = 0; i < n; i++) {
		key = core_rand_below(CRASH_KEYS);
		if (core_rand() % 3) {
			value = cpu_to_le64(core_rand() >> 1);
			assert_int_equal(pd_btree_insert(&s->info, s->root,
							 &key, &value,
							 &s->root, NULL), 0);
			s->model[key] = le64_to_cpu(value) + 1;
		} else {
			r = pd_btree_remove(&s->info, s->root, &key, &s->root);
			assert_int_equal(r, s->model[key] ? 0 : -ENODATA);
			s->model[key] = 0;
		}
	}
}

static void crash_verify(struct crash_state *s, const u64 *model)
{
	struct tree_root tr = { s->root, 1 };
	struct check_result res;
	__le64 value;
	u64 key;
	int r;

	for (key = 0; key < CRASH_KEYS; key++) {
		r = pd_btree_lookup(&s->info, s->root, &key, &value);
		if (model[key]) {
			assert_int_equal(r, 0);
			assert_int_equal(le64_to_cpu(value) + 1, model[key]);
		} else {
			assert_int_equal(r, -ENODATA);
		}
	}
	check_trees(&s->env, &tr, 1, 8, NULL, 0, true, &res);
}

static void copy_file(const char *from, const char *to)
{
	static u8 buf[1 << 16];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, n), n);
	close(in);
	close(out);
}

/* Open the image at s->env.path as last committed. */
static void crash_open(struct crash_state *s, unsigned int cache)
{
	u64 root;

	core_env_reopen(&s->env, cache);
	crash_info(s);
	assert_int_equal(core_env_read_roots(&s->env, &root, 1), 1);
	s->root = root;
}

/*
 * The base image holds a committed tree (model @old). The next
 * transaction applies crash_ops(seed) and commits (model @new, @writes
 * block writes). For every n, redo it on a copy of the base with the device
 * dying after n writes, reopen, and find the old or the new state intact.
 */
static void crash_at_every_write(struct crash_state *s, const char *base,
				 const u64 *old, const u64 *new, u64 writes,
				 u64 seed, unsigned int nr_ops,
				 enum pd_bm_write_failure mode)
{
	u64 n, step = writes > 120 ? writes / 120 : 1;
	int r;

	for (n = 0; n <= writes + 1; n += (n + step > writes ? 1 : step)) {
		copy_file(base, s->env.path);
		crash_open(s, CRASH_BLOCKS);
		memcpy(s->model, old, CRASH_KEYS * sizeof(u64));
		crash_ops(s, seed, nr_ops);

		pd_bm_file_set_write_limit(s->env.bm, n, mode);
		r = core_env_try_commit(&s->env, &s->root, 1);
		if (mode == PD_BM_WRITES_FAIL && n < writes)
			assert_true(r < 0);
		else
			assert_int_equal(r, 0);

		crash_open(s, CRASH_BLOCKS);
		crash_verify(s, n >= writes ? new : old);

		/* Life goes on from whichever state survived. */
		memcpy(s->model, n >= writes ? new : old,
		       CRASH_KEYS * sizeof(u64));
		crash_ops(s, seed + 1000 + n, 300);
		core_env_commit(&s->env, &s->root, 1);
		crash_open(s, 64);
		crash_verify(s, s->model);
	}
}

static void crash_test(enum pd_bm_write_failure mode)
{
	struct crash_state s;
	u64 *old, *new, writes, before;
	char *base;

	memset(&s, 0, sizeof(s));
	s.model = calloc(CRASH_KEYS, sizeof(u64));
	old = calloc(CRASH_KEYS, sizeof(u64));
	new = calloc(CRASH_KEYS, sizeof(u64));
	assert_true(s.model && old && new);

	core_env_init_real(&s.env, "crash.img", CRASH_BLOCKS, 64);
	crash_info(&s);
	assert_int_equal(pd_btree_empty(&s.info, &s.root), 0);
	crash_ops(&s, 1, 30000);
	core_env_commit(&s.env, &s.root, 1);
	memcpy(old, s.model, CRASH_KEYS * sizeof(u64));
	base = core_test_path("crash-base.img");
	copy_file(s.env.path, base);

	/*
	 * How many writes the next commit takes. The cache holds the whole
	 * device, so that every write happens in the commit: a process that
	 * lost power does not go on reading what it could not write.
	 */
	crash_open(&s, CRASH_BLOCKS);
	crash_ops(&s, 2, 4000);
	before = pd_bm_file_write_count(s.env.bm);
	core_env_commit(&s.env, &s.root, 1);
	writes = pd_bm_file_write_count(s.env.bm) - before;
	memcpy(new, s.model, CRASH_KEYS * sizeof(u64));
	print_message("a commit of %llu block writes\n",
		      (unsigned long long)writes);

	crash_at_every_write(&s, base, old, new, writes, 2, 4000, mode);

	free(base);
	free(old);
	free(new);
	free(s.model);
	core_env_exit(&s.env);
}

static void test_crash_power_loss(void **state)
{
	crash_test(PD_BM_WRITES_DROPPED);
}

static void test_crash_write_errors(void **state)
{
	crash_test(PD_BM_WRITES_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadowing),
		cmocka_unit_test(test_read_only_and_clone),
		cmocka_unit_test(test_open_with_sm_failure),
		cmocka_unit_test(test_crash_power_loss),
		cmocka_unit_test(test_crash_write_errors),
	};

	return CORE_RUN_TESTS(tests);
}
