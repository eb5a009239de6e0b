// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree property tests: long random sequences of insert, overwrite,
 * remove and remove_range checked against an in-memory model, with the
 * tree's structure and every reference count verified after each batch,
 * across commits and reopens (cold cache, validators run), deep enough for
 * at least three levels of nodes.
 */
#include "core-btree-check.h"

/* ---- the model: key -> data id + 1 (0 = absent) ---- */

struct model {
	u64 keyspace;
	u64 *ids;
	u64 nr;
};

static void model_init(struct model *m, u64 keyspace)
{
	m->keyspace = keyspace;
	m->ids = calloc(keyspace, sizeof(u64));
	assert_non_null(m->ids);
	m->nr = 0;
}

static void model_exit(struct model *m)
{
	free(m->ids);
}

static void model_copy(struct model *to, const struct model *from)
{
	model_init(to, from->keyspace);
	memcpy(to->ids, from->ids, from->keyspace * sizeof(u64));
	to->nr = from->nr;
}

/* ---- one tree under test ---- */

struct tree {
	struct pd_btree_info info;
	struct data_counter *dc;
	pd_block_t root;
	struct model m;
	u32 vs;
};

static void tree_init(struct tree *t, struct core_env *env, u32 vs,
		      struct data_counter *dc, u64 keyspace)
{
	memset(t, 0, sizeof(*t));
	t->info.tm = env->tm;
	t->info.levels = 1;
	data_value_type_init(&t->info.value_type, vs, dc);
	t->dc = dc;
	t->vs = vs;
	model_init(&t->m, keyspace);
	assert_int_equal(pd_btree_empty(&t->info, &t->root), 0);
}

static void tree_insert(struct tree *t, u64 key, bool same_value)
{
	u8 value[PD_BLOCK_SIZE];
	bool present = t->m.ids[key] != 0;
	int inserted = -1;
	u64 id;

	if (same_value && present) {
		/* Equal value: the tree keeps its reference, takes none. */
		id = t->m.ids[key] - 1;
	} else {
		id = data_counter_new(t->dc);
	}
	data_value_fill(value, t->vs, id);
	assert_int_equal(pd_btree_insert(&t->info, t->root, &key, value,
					 &t->root, &inserted), 0);
	assert_int_equal(inserted, !present);
	if (!present)
		t->m.nr++;
	t->m.ids[key] = id + 1;
}

static void tree_remove(struct tree *t, u64 key)
{
	bool present = t->m.ids[key] != 0;
	pd_block_t old = t->root;
	int r;

	r = pd_btree_remove(&t->info, t->root, &key, &t->root);
	if (!present) {
		assert_int_equal(r, -ENODATA);
		assert_int_equal(t->root, old);
		return;
	}
	assert_int_equal(r, 0);
	t->m.ids[key] = 0;
	t->m.nr--;
}

static void tree_remove_range(struct tree *t, u64 begin, u64 end)
{
	u64 k, expect = 0, removed = ~0ull;

	for (k = begin; k < end && k < t->m.keyspace; k++) {
		if (t->m.ids[k]) {
			expect++;
			t->m.ids[k] = 0;
		}
	}
	assert_int_equal(pd_btree_remove_range(&t->info, t->root, &begin, end,
					       &t->root, &removed), 0);
	assert_int_equal(removed, expect);
	t->m.nr -= expect;
}

/* ---- verification against the model ---- */

struct walk_ctx {
	struct tree *t;
	u64 next;	/* keys below this were seen */
	u64 seen;
};

static int walk_fn(void *context, u64 key, void *value)
{
	struct walk_ctx *w = context;

	assert_true(key >= w->next);
	assert_true(key < w->t->m.keyspace);
	for (; w->next < key; w->next++)
		assert_int_equal(w->t->m.ids[w->next], 0);
	assert_int_equal(w->t->m.ids[key], data_value_id(value) + 1);
	w->next = key + 1;
	w->seen++;
	return 0;
}

static void verify_lookups(struct tree *t, unsigned int nr_probes)
{
	u8 value[PD_BLOCK_SIZE];
	u64 key, found, k;
	unsigned int i;
	int r;

	for (i = 0; i < nr_probes; i++) {
		key = core_rand_below(t->m.keyspace + 16);
		r = pd_btree_lookup(&t->info, t->root, &key, value);
		if (key < t->m.keyspace && t->m.ids[key]) {
			assert_int_equal(r, 0);
			assert_int_equal(data_value_id(value),
					 t->m.ids[key] - 1);
		} else {
			assert_int_equal(r, -ENODATA);
		}

		r = pd_btree_lookup_next(&t->info, t->root, &key, &found,
					 value);
		for (k = key; k < t->m.keyspace && !t->m.ids[k]; k++)
			;
		if (k < t->m.keyspace) {
			assert_int_equal(r, 0);
			assert_int_equal(found, k);
			assert_int_equal(data_value_id(value),
					 t->m.ids[k] - 1);
		} else {
			assert_int_equal(r, -ENODATA);
		}
	}
}

static void verify_edges(struct tree *t)
{
	u64 lo = 0, hi, result;

	if (!t->m.nr) {
		assert_int_equal(pd_btree_find_lowest_key(&t->info, t->root,
							  &result), -ENODATA);
		assert_int_equal(pd_btree_find_highest_key(&t->info, t->root,
							   &result), -ENODATA);
		return;
	}
	while (!t->m.ids[lo])
		lo++;
	hi = t->m.keyspace - 1;
	while (!t->m.ids[hi])
		hi--;
	assert_int_equal(pd_btree_find_lowest_key(&t->info, t->root, &result),
			 0);
	assert_int_equal(result, lo);
	assert_int_equal(pd_btree_find_highest_key(&t->info, t->root, &result),
			 0);
	assert_int_equal(result, hi);
}

static void verify_tree(struct tree *t)
{
	struct walk_ctx w = { .t = t };

	assert_int_equal(pd_btree_walk(&t->info, t->root, walk_fn, &w), 0);
	assert_int_equal(w.seen, t->m.nr);
	verify_lookups(t, 300);
	verify_edges(t);
}

static void verify_all(struct core_env *env, struct tree **trees,
		       unsigned int n, struct check_result *res)
{
	struct tree_root roots[8];
	unsigned int i;
	u64 total = 0;

	for (i = 0; i < n; i++) {
		verify_tree(trees[i]);
		roots[i].root = trees[i]->root;
		roots[i].levels = 1;
	}
	check_trees(env, roots, n, trees[0]->vs, trees[0]->dc, 0, true, res);
	for (i = 0; i < n; i++)
		total += trees[i]->m.nr;
	if (n == 1)
		assert_int_equal(res->nr_entries, total);
}

/* ---- random operation sequences ---- */

struct mix {
	unsigned int insert, same, remove, range;	/* weights */
	u64 max_range;
};

static void random_op(struct tree *t, const struct mix *mx)
{
	unsigned int total = mx->insert + mx->same + mx->remove + mx->range;
	unsigned int pick = core_rand_below(total);
	u64 key = core_rand_below(t->m.keyspace);

	if (pick < mx->insert)
		tree_insert(t, key, false);
	else if ((pick -= mx->insert) < mx->same)
		tree_insert(t, key, true);
	else if ((pick -= mx->same) < mx->remove)
		tree_remove(t, key);
	else
		tree_remove_range(t, key, key + 1 +
				  core_rand_below(mx->max_range));
}

static void commit_tree(struct core_env *env, struct tree **trees,
			unsigned int n)
{
	u64 roots[8];
	unsigned int i;

	for (i = 0; i < n; i++)
		roots[i] = trees[i]->root;
	core_env_commit(env, roots, n);
}

/* Commit, drop every cached block, and carry on from the disk. */
static void reopen(struct core_env *env, struct tree **trees, unsigned int n,
		   unsigned int cache)
{
	u64 roots[8];
	unsigned int i;

	commit_tree(env, trees, n);
	core_env_reopen(env, cache);
	assert_int_equal(core_env_read_roots(env, roots, 8), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(roots[i], trees[i]->root);
		trees[i]->info.tm = env->tm;
	}
}

static void run_batches(struct core_env *env, struct tree *t,
			const struct mix *mx, unsigned int batches,
			unsigned int ops, unsigned int cache,
			struct check_result *res)
{
	struct tree *trees[1] = { t };
	unsigned int b, i;

	for (b = 0; b < batches; b++) {
		for (i = 0; i < ops; i++)
			random_op(t, mx);
		verify_all(env, trees, 1, res);
		if (b % 3 == 2)
			reopen(env, trees, 1, cache);
		else
			commit_tree(env, trees, 1);
	}
}

/* Grow past three levels, churn, shrink to nothing, delete. */
/*
 * Delete t, the last tree left: after a commit nr_allocated blocks remain
 * allocated and no data id is referenced any more.
 */
static void del_last(struct core_env *env, struct data_counter *dc,
		     struct tree *t, u64 nr_allocated)
{
	u64 k;

	assert_int_equal(pd_btree_del(&t->info, t->root), 0);
	core_env_commit(env, NULL, 0);
	assert_int_equal(core_env_nr_allocated(env), nr_allocated);
	for (k = 0; k < dc->next_id; k++)
		assert_int_equal(dc->counts[k], 0);
}

/* Free the n trees' models, the data counter and the environment. */
static void exit_all(struct core_env *env, struct data_counter *dc,
		     struct tree **trees, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		model_exit(&trees[i]->m);
	data_counter_exit(dc);
	core_env_exit(env);
}

static void grow_churn_shrink(u32 vs, u64 keyspace, unsigned int grow_ops,
			      unsigned int cache, u64 seed, bool real_sm)
{
	const struct mix grow = { 80, 5, 10, 5, 8 };
	const struct mix churn = { 40, 5, 40, 15, 200 };
	struct check_result res;
	struct data_counter dc;
	struct core_env env;
	struct tree t;
	u64 k;

	pd_block_t baseline;

	core_srand(seed);
	if (real_sm)
		core_env_init_real(&env, "btree.img", 40000, cache);
	else
		core_env_init(&env, "btree.img", 40000, cache);
	core_env_commit(&env, NULL, 0);
	baseline = core_env_nr_allocated(&env);
	data_counter_init(&dc, 4 * grow_ops + 100000);
	tree_init(&t, &env, vs, &dc, keyspace);

	run_batches(&env, &t, &grow, 8, grow_ops / 8, cache, &res);
	assert_true(res.max_depth >= 3);
	print_message("value size %u: %llu entries, %llu nodes, depth %u\n",
		      vs, (unsigned long long)t.m.nr,
		      (unsigned long long)res.nr_nodes, res.max_depth);
	run_batches(&env, &t, &churn, 6, grow_ops / 10, cache, &res);

	/* Shrink: ranges from both ends and the middle, then singles. */
	tree_remove_range(&t, keyspace / 3, keyspace / 2);
	tree_remove_range(&t, 0, keyspace / 5);
	verify_all(&env, (struct tree *[]){ &t }, 1, &res);
	for (k = 0; k < keyspace; k += 2)
		tree_remove(&t, k);
	verify_all(&env, (struct tree *[]){ &t }, 1, &res);
	tree_remove_range(&t, 0, U64_MAX);
	assert_int_equal(t.m.nr, 0);
	verify_all(&env, (struct tree *[]){ &t }, 1, &res);
	assert_int_equal(res.nr_nodes, 1);	/* back to one empty leaf */

	/* Refill a little, then drop the whole tree. */
	run_batches(&env, &t, &grow, 1, 3000, cache, &res);
	del_last(&env, &dc, &t, baseline);
	exit_all(&env, &dc, (struct tree *[]){ &t }, 1);
}

static void test_random_small_values(void **state)
{
	grow_churn_shrink(8, 250000, 150000, 4096, 1, false);
}

static void test_random_big_values(void **state)
{
	/* 30 entries a leaf: deep trees from few keys. */
	grow_churn_shrink(120, 30000, 20000, 4096, 2, false);
}

static void test_random_small_cache(void **state)
{
	/* A 64-block cache: eviction and write-back all the time. */
	grow_churn_shrink(64, 30000, 24000, 64, 3, false);
}

static void test_random_metadata_sm(void **state)
{
	/* The same on the real metadata space map. */
	grow_churn_shrink(64, 30000, 24000, 1024, 5, true);
}

/*
 * The start of the tests of two trees: seeded, a fresh env of 40000 blocks
 * (cache blocks cached) under name, and a, of 16-byte values over keys
 * below 40000, filled by 20000 inserts.
 */
static void start_two_trees(struct core_env *env, struct data_counter *dc,
			    struct tree *a, u64 seed, const char *name,
			    unsigned int cache)
{
	unsigned int i;

	core_srand(seed);
	core_env_init(env, name, 40000, cache);
	data_counter_init(dc, 200000);
	tree_init(a, env, 16, dc, 40000);
	for (i = 0; i < 20000; i++)
		random_op(a, &(struct mix){ 1, 0, 0, 0, 1 });
}

/*
 * Two trees sharing everything: a clone of a root (one more reference to
 * the root block). Changing either copies just the path it touches;
 * removing one leaves the other whole; removing both frees everything.
 */
static void test_shared_trees(void **state)
{
	const struct mix mx = { 50, 5, 30, 15, 50 };
	struct check_result res;
	struct data_counter dc;
	struct core_env env;
	struct tree a, b;
	struct tree *both[2] = { &a, &b };
	unsigned int round, i;

	start_two_trees(&env, &dc, &a, 4, "shared.img", 1024);
	commit_tree(&env, both, 1);

	for (round = 0; round < 4; round++) {
		/* b becomes a clone of a. */
		if (round) {
			assert_int_equal(pd_btree_del(&b.info, b.root), 0);
			model_exit(&b.m);
		}
		b = a;
		model_copy(&b.m, &a.m);
		assert_int_equal(pd_tm_inc(env.tm, a.root), 0);
		verify_all(&env, both, 2, &res);

		for (i = 0; i < 3000; i++)
			random_op(core_rand() & 1 ? &a : &b, &mx);
		verify_all(&env, both, 2, &res);
		reopen(&env, both, 2, 1024);
		verify_all(&env, both, 2, &res);
	}

	/* Drop a: b must be intact and alone. */
	assert_int_equal(pd_btree_del(&a.info, a.root), 0);
	verify_all(&env, &both[1], 1, &res);
	del_last(&env, &dc, &b, 1);
	exit_all(&env, &dc, both, 2);
}

/*
 * pd_btree_del in steps, with a clone of the tree changed between steps
 * (copying shared nodes, dropping references the deletion is about to
 * meet): the clone stays intact, and once both are gone everything is
 * free, as with a delete in one go.
 */
static void test_stepwise_del(void **state)
{
	const struct mix mx = { 50, 5, 30, 15, 50 };
	struct check_result res;
	struct data_counter dc;
	struct pd_btree_del *del;
	struct core_env env;
	struct tree a, b;
	struct tree *both[2] = { &a, &b };
	unsigned int steps = 0, i;
	int r;

	start_two_trees(&env, &dc, &a, 6, "stepdel.img", 256);
	b = a;
	model_copy(&b.m, &a.m);
	assert_int_equal(pd_tm_inc(env.tm, a.root), 0);
	/* b differs from a here and there before the delete starts. */
	for (i = 0; i < 500; i++)
		random_op(&b, &mx);
	commit_tree(&env, both, 2);

	assert_int_equal(pd_btree_del_start(&a.info, a.root, &del), 0);
	assert_int_equal(pd_btree_del_step(del, 0), 1);
	do {
		if (steps & 1)
			pd_btree_del_warm(del, 4);
		r = pd_btree_del_step(del, 1 + steps % 3);
		assert_true(r == 0 || r == 1);
		for (i = 0; i < 20; i++)
			random_op(&b, &mx);
		steps++;
	} while (r);
	assert_int_equal(pd_btree_del_step(del, 5), 0);
	pd_btree_del_free(del);
	assert_true(steps > 20);
	verify_all(&env, &both[1], 1, &res);

	del_last(&env, &dc, &b, 1);
	exit_all(&env, &dc, both, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_small_values),
		cmocka_unit_test(test_random_big_values),
		cmocka_unit_test(test_random_small_cache),
		cmocka_unit_test(test_random_metadata_sm),
		cmocka_unit_test(test_shared_trees),
		cmocka_unit_test(test_stepwise_del),
	};

	return CORE_RUN_TESTS(tests);
}
