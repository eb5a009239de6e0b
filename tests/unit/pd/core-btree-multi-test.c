// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multi-level btrees, used the way thin metadata uses them: a 2-level tree
 * (device -> block -> value) with devices snapshotted by sharing subtree
 * roots, devices deleted through the top level, and a "metadata snapshot"
 * holding an extra reference to the whole tree; plus a 3-level tree, and
 * robustness against corrupt nodes (errors, never hangs or overruns).
 */
#include <fcntl.h>
#include <unistd.h>

#include "core-btree-check.h"

#define MAX_LEVELS 3

struct mtree {
	struct core_env *env;
	struct data_counter *dc;
	unsigned int levels;
	u64 dims[MAX_LEVELS];
	u64 size;		/* product of dims */
	u64 *ids;		/* flat model: id + 1, 0 = absent */
	bool *exists;		/* level-0 keys with a subtree */
	u32 vs;
	pd_block_t root;

	struct pd_btree_info info;	/* all levels */
	struct pd_btree_info bottom;	/* one device's tree (2 levels) */
	struct pd_btree_info top;	/* dev -> subtree root (2 levels) */
};

static void mtree_init(struct mtree *t, struct core_env *env,
		       struct data_counter *dc, unsigned int levels,
		       const u64 *dims, u32 vs)
{
	unsigned int l;

	memset(t, 0, sizeof(*t));
	t->env = env;
	t->dc = dc;
	t->levels = levels;
	t->size = 1;
	for (l = 0; l < levels; l++) {
		t->dims[l] = dims[l];
		t->size *= dims[l];
	}
	t->ids = calloc(t->size, sizeof(u64));
	t->exists = calloc(dims[0], sizeof(bool));
	assert_non_null(t->ids);
	assert_non_null(t->exists);
	t->vs = vs;

	t->info.tm = env->tm;
	t->info.levels = levels;
	data_value_type_init(&t->info.value_type, vs, dc);
	t->bottom = t->info;
	t->bottom.levels = 1;
	t->top.tm = env->tm;
	t->top.levels = 1;
	pd_btree_init_subtree_value_type(&t->bottom, &t->top.value_type);
	assert_int_equal(pd_btree_empty(&t->info, &t->root), 0);
}

static void mtree_set_tm(struct mtree *t, struct pd_transaction_manager *tm)
{
	t->info.tm = tm;
	t->bottom.tm = tm;
	t->top.tm = tm;
}

static void mtree_exit(struct mtree *t)
{
	free(t->ids);
	free(t->exists);
}

static u64 flat(struct mtree *t, const u64 *keys)
{
	u64 i = 0;
	unsigned int l;

	for (l = 0; l < t->levels; l++)
		i = i * t->dims[l] + keys[l];
	return i;
}

static void random_keys(struct mtree *t, u64 *keys)
{
	unsigned int l;

	for (l = 0; l < t->levels; l++)
		keys[l] = core_rand_below(t->dims[l]);
}

static void m_insert(struct mtree *t, const u64 *keys)
{
	u8 value[256];
	u64 i = flat(t, keys), id = data_counter_new(t->dc);
	int inserted;

	data_value_fill(value, t->vs, id);
	assert_int_equal(pd_btree_insert(&t->info, t->root, keys, value,
					 &t->root, &inserted), 0);
	assert_int_equal(inserted, !t->ids[i]);
	t->ids[i] = id + 1;
	t->exists[keys[0]] = true;
}

static void m_remove(struct mtree *t, const u64 *keys)
{
	u64 i = flat(t, keys);
	int r;

	r = pd_btree_remove(&t->info, t->root, keys, &t->root);
	assert_int_equal(r, t->ids[i] ? 0 : -ENODATA);
	t->ids[i] = 0;
}

static void m_remove_range(struct mtree *t, const u64 *keys, u64 end)
{
	unsigned int last = t->levels - 1;
	u64 k[MAX_LEVELS], removed, expect = 0;

	memcpy(k, keys, sizeof(k));
	for (; k[last] < end && k[last] < t->dims[last]; k[last]++) {
		if (t->ids[flat(t, k)]) {
			expect++;
			t->ids[flat(t, k)] = 0;
		}
	}
	assert_int_equal(pd_btree_remove_range(&t->info, t->root, keys, end,
					       &t->root, &removed), 0);
	assert_int_equal(removed, expect);
}

/* n random inserts, removes and range removes. */
static void m_random_ops(struct mtree *t, unsigned int n)
{
	u64 keys[MAX_LEVELS];
	unsigned int pick;

	while (n--) {
		pick = core_rand_below(100);
		random_keys(t, keys);
		if (pick < 65)
			m_insert(t, keys);
		else if (pick < 92)
			m_remove(t, keys);
		else
			m_remove_range(t, keys, keys[t->levels - 1] + 1 +
				       core_rand_below(60));
	}
}

/* ---- checks ---- */

static void check_lookups(struct mtree *t, unsigned int probes)
{
	unsigned int last = t->levels - 1;
	u64 keys[MAX_LEVELS], k[MAX_LEVELS], found;
	u8 value[256];
	unsigned int n;
	int r;

	for (n = 0; n < probes; n++) {
		random_keys(t, keys);
		r = pd_btree_lookup(&t->info, t->root, keys, value);
		if (t->ids[flat(t, keys)]) {
			assert_int_equal(r, 0);
			assert_int_equal(data_value_id(value) + 1,
					 t->ids[flat(t, keys)]);
		} else {
			assert_int_equal(r, -ENODATA);
		}

		r = pd_btree_lookup_next(&t->info, t->root, keys, &found,
					 value);
		memcpy(k, keys, sizeof(k));
		while (k[last] < t->dims[last] && !t->ids[flat(t, k)])
			k[last]++;
		if (k[last] < t->dims[last]) {
			assert_int_equal(r, 0);
			assert_int_equal(found, k[last]);
		} else {
			assert_int_equal(r, -ENODATA);
		}
	}
}

static int top_walk_fn(void *context, u64 key, void *value)
{
	struct mtree *t = context;

	assert_true(key < t->dims[0]);
	assert_true(t->exists[key]);
	return 0;
}

static void check_all(struct mtree *t, pd_block_t held)
{
	struct tree_root roots[2] = {
		{ t->root, t->levels }, { held, t->levels },
	};
	struct check_result res;
	u64 k, lowest, highest;
	bool any = false;

	check_lookups(t, 400);
	assert_int_equal(pd_btree_walk(&t->info, t->root, top_walk_fn, t), 0);
	for (k = 0; k < t->dims[0]; k++)
		any |= t->exists[k];
	if (any) {
		assert_int_equal(pd_btree_find_lowest_key(&t->info, t->root,
							  &lowest), 0);
		assert_int_equal(pd_btree_find_highest_key(&t->info, t->root,
							   &highest), 0);
		assert_true(t->exists[lowest] && t->exists[highest]);
	}
	check_trees(t->env, roots, held ? 2 : 1, t->vs, t->dc, 0, true, &res);
}

/* ---- thin-like use of a 2-level tree ---- */

/* Device @to becomes a snapshot of device @from: they share the subtree. */
static void snapshot(struct mtree *t, u64 from, u64 to)
{
	u64 per = t->dims[1];
	__le64 sub;
	int inserted;

	assert_true(t->exists[from]);
	assert_int_equal(pd_btree_lookup(&t->top, t->root, &from, &sub), 0);
	assert_int_equal(pd_tm_inc(t->env->tm, le64_to_cpu(sub)), 0);
	assert_int_equal(pd_btree_insert(&t->top, t->root, &to, &sub, &t->root,
					 &inserted), 0);
	assert_int_equal(inserted, !t->exists[to]);
	memcpy(t->ids + to * per, t->ids + from * per, per * sizeof(u64));
	t->exists[to] = true;
}

static void delete_device(struct mtree *t, u64 dev)
{
	u64 per = t->dims[1];

	assert_int_equal(pd_btree_remove(&t->top, t->root, &dev, &t->root),
			 t->exists[dev] ? 0 : -ENODATA);
	memset(t->ids + dev * per, 0, per * sizeof(u64));
	t->exists[dev] = false;
}

/*
 * Delete t, the last tree left: only the superblock stays allocated and no
 * data id is referenced any more. Then free t, the counter and env.
 */
/*
 * What del_last_and_exit ends: env, a fresh file name of nr_blocks (cache
 * of them cached), dc for nr_data data ids, t of levels over dims, values
 * of vs bytes.
 */
static void mtree_start(struct mtree *t, struct core_env *env,
			struct data_counter *dc, const char *name,
			pd_block_t nr_blocks, unsigned int cache, u64 nr_data,
			unsigned int levels, const u64 *dims, u32 vs)
{
	core_env_init(env, name, nr_blocks, cache);
	data_counter_init(dc, nr_data);
	mtree_init(t, env, dc, levels, dims, vs);
}

static void del_last_and_exit(struct mtree *t, struct core_env *env,
			      struct data_counter *dc)
{
	u64 i;

	assert_int_equal(pd_btree_del(&t->info, t->root), 0);
	assert_int_equal(core_env_nr_allocated(env), 1);
	for (i = 0; i < dc->next_id; i++)
		assert_int_equal(dc->counts[i], 0);

	mtree_exit(t);
	data_counter_exit(dc);
	core_env_exit(env);
}

static void test_two_levels_snapshots(void **state)
{
	const u64 dims[2] = { 12, 20000 };
	struct data_counter dc;
	struct core_env env;
	struct mtree t, held_model;
	pd_block_t held = 0;
	unsigned int round;
	u64 roots[2];

	core_srand(11);
	mtree_start(&t, &env, &dc, "multi.img", 60000, 2048, 1000000, 2, dims,
		    8);

	for (round = 0; round < 12; round++) {
		m_random_ops(&t, 10000);
		switch (round % 4) {
		case 0:
			snapshot(&t, core_rand_below(dims[0]) % 4,
				 4 + core_rand_below(dims[0] - 4));
			break;
		case 1:
			delete_device(&t, core_rand_below(dims[0]));
			break;
		case 2:
			/* Hold the whole tree as it is now. */
			if (held)
				break;
			assert_int_equal(pd_tm_inc(env.tm, t.root), 0);
			held = t.root;
			held_model = t;
			held_model.ids = malloc(t.size * sizeof(u64));
			held_model.exists = malloc(dims[0] * sizeof(bool));
			memcpy(held_model.ids, t.ids, t.size * sizeof(u64));
			memcpy(held_model.exists, t.exists,
			       dims[0] * sizeof(bool));
			break;
		case 3:
			if (!held)
				break;
			/* The held tree still reads as it was. */
			held_model.root = held;
			check_lookups(&held_model, 300);
			assert_int_equal(pd_btree_del(&t.info, held), 0);
			held = 0;
			mtree_exit(&held_model);
			break;
		}
		check_all(&t, held);
		roots[0] = t.root;
		roots[1] = held;
		core_env_commit(&env, roots, 2);
		if (round % 3 == 2) {
			core_env_reopen(&env, 2048);
			mtree_set_tm(&t, env.tm);
			if (held)
				mtree_set_tm(&held_model, env.tm);
			check_all(&t, held);
		}
	}

	if (held) {
		assert_int_equal(pd_btree_del(&t.info, held), 0);
		mtree_exit(&held_model);
	}
	del_last_and_exit(&t, &env, &dc);
}

static void test_three_levels(void **state)
{
	const u64 dims[3] = { 3, 4, 2500 };
	struct data_counter dc;
	struct core_env env;
	struct mtree t;
	unsigned int round;

	core_srand(12);
	mtree_start(&t, &env, &dc, "multi3.img", 40000, 1024, 200000, 3, dims,
		    16);

	for (round = 0; round < 6; round++) {
		m_random_ops(&t, 10000);
		check_all(&t, 0);
		core_env_commit(&env, &t.root, 1);
	}
	del_last_and_exit(&t, &env, &dc);
}

/* ---- corrupt trees ---- */

/* Rewrite a node in place on disk, with a valid checksum. */
static void patch_node(struct core_env *env, pd_block_t b,
		       void (*patch)(struct pd_btree_node *n, void *ctx),
		       void *ctx)
{
	u8 block[PD_BLOCK_SIZE];
	struct pd_btree_node *n = (struct pd_btree_node *)block;
	int fd = open(env->path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, block, sizeof(block), b * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	patch(n, ctx);
	pd_btree_node_validator.prepare_for_write(&pd_btree_node_validator,
						  block, b);
	assert_int_equal(pwrite(fd, block, sizeof(block), b * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	close(fd);
}

static void set_nr_entries(struct pd_btree_node *n, void *ctx)
{
	pd_node_set_nr(n, *(u32 *)ctx);
}

static void set_value_size(struct pd_btree_node *n, void *ctx)
{
	n->header.value_size = cpu_to_le32(*(u32 *)ctx);
}

static void set_flags(struct pd_btree_node *n, void *ctx)
{
	n->header.flags = cpu_to_le32(*(u32 *)ctx);
}

/* Point every child of an internal node back at @ctx (a cycle). */
static void make_cycle(struct pd_btree_node *n, void *ctx)
{
	u32 i;

	for (i = 0; i < pd_node_nr(n); i++)
		pd_node_set_value64(n, i, *(pd_block_t *)ctx);
}

static int count_fn(void *context, u64 key, void *value)
{
	(*(u64 *)context)++;
	return 0;
}

/*
 * Every operation reaching the last leaf fails promptly: reads with @err,
 * updates with some error (a cycle also confuses the reference counts).
 */
static void expect_reads_fail(struct mtree *t, int err)
{
	u64 keys[1] = { 2999 }, found, n = 0;
	pd_block_t new_root;
	u8 value[64];

	core_env_reopen(t->env, 256);
	mtree_set_tm(t, t->env->tm);
	assert_int_equal(pd_btree_lookup(&t->info, t->root, keys, value), err);
	assert_int_equal(pd_btree_lookup_next(&t->info, t->root, keys, &found,
					      value), err);
	assert_int_equal(pd_btree_walk(&t->info, t->root, count_fn, &n), err);
	assert_int_equal(pd_btree_find_highest_key(&t->info, t->root, &found),
			 err);
	assert_true(pd_btree_insert(&t->info, t->root, keys, value, &new_root,
				    NULL) < 0);
	assert_int_equal(pd_btree_remove(&t->info, t->root, keys, &new_root),
			 err);
}

static void test_corrupt_nodes(void **state)
{
	const u64 dims[1] = { 100000 };
	struct data_counter dc;
	struct core_env env;
	struct mtree t;
	struct pd_block *b;
	struct pd_btree_node *n;
	pd_block_t root, child;
	u32 bad, nr;
	u64 k;

	mtree_start(&t, &env, &dc, "corrupt.img", 4000, 256, 100000, 1, dims,
		    8);
	for (k = 0; k < 3000; k++)
		m_insert(&t, &k);
	core_env_commit(&env, &t.root, 1);
	root = t.root;

	assert_int_equal(pd_bm_read_lock(env.bm, root,
					 &pd_btree_node_validator, &b), 0);
	n = pd_block_data(b);
	assert_true(pd_node_is_internal(n));
	nr = pd_node_nr(n);
	child = pd_node_value64(n, nr - 1);
	pd_bm_unlock(b);

	/* More entries than fit. */
	bad = 253;
	patch_node(&env, root, set_nr_entries, &bad);
	expect_reads_fail(&t, -EILSEQ);

	/* A leaf whose value size is not the tree's. */
	patch_node(&env, root, set_nr_entries, &nr);
	bad = 4;
	patch_node(&env, child, set_value_size, &bad);
	expect_reads_fail(&t, -EILSEQ);

	/* Impossible flags. */
	bad = 8;
	patch_node(&env, child, set_value_size, &bad);
	bad = 3;
	patch_node(&env, child, set_flags, &bad);
	expect_reads_fail(&t, -EILSEQ);

	/* A cycle: the root's children all point at the root. */
	bad = 2;
	patch_node(&env, child, set_flags, &bad);
	patch_node(&env, root, make_cycle, &root);
	expect_reads_fail(&t, -EILSEQ);

	/* A bad checksum. */
	{
		int fd = open(env.path, O_RDWR);
		u8 junk = 0x5a;

		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, &junk, 1,
					root * PD_BLOCK_SIZE + 100), 1);
		close(fd);
	}
	expect_reads_fail(&t, -EILSEQ);

	mtree_exit(&t);
	/* The data counts are meaningless now. */
	free(dc.counts);
	pd_tm_destroy(env.tm);
	pd_bm_destroy(env.bm);
	pd_sm_destroy(env.sm);
	free(env.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_levels_snapshots),
		cmocka_unit_test(test_three_levels),
		cmocka_unit_test(test_corrupt_nodes),
	};

	return CORE_RUN_TESTS(tests);
}
