// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree test support (see core-btree-check.h).
 */
#include "core-btree-check.h"

/* ---- counted data values ---- */

void data_counter_init(struct data_counter *dc, u64 nr_ids)
{
	dc->nr_ids = nr_ids;
	dc->next_id = 0;
	dc->errors = 0;
	dc->counts = calloc(nr_ids, sizeof(u32));
	assert_non_null(dc->counts);
}

void data_counter_exit(struct data_counter *dc)
{
	assert_int_equal(dc->errors, 0);
	free(dc->counts);
}

u64 data_counter_new(struct data_counter *dc)
{
	assert_true(dc->next_id < dc->nr_ids);
	dc->counts[dc->next_id] = 1;
	return dc->next_id++;
}

void data_value_fill(void *value, u32 size, u64 id)
{
	u8 *p = value;
	u32 i;

	put_unaligned_le64(id, p);
	for (i = 8; i < size; i++)
		p[i] = (u8)(id * 31 + i);
}

u64 data_value_id(const void *value)
{
	return get_unaligned_le64(value);
}

struct data_vt_ctx {
	struct data_counter *dc;
	u32 size;
};

static struct data_vt_ctx vt_ctx[8];
static unsigned int nr_vt_ctx;

static int data_adjust(void *context, const void *values, unsigned int count,
		       int delta)
{
	struct data_vt_ctx *ctx = context;
	const u8 *p = values;
	unsigned int i;
	u64 id;

	for (i = 0; i < count; i++, p += ctx->size) {
		id = data_value_id(p);
		if (id >= ctx->dc->next_id || !ctx->dc->counts[id]) {
			fprintf(stderr, "data id %llu: %s of a dead value\n",
				(unsigned long long)id, delta > 0 ? "inc" : "dec");
			ctx->dc->errors++;
			return -EINVAL;
		}
		ctx->dc->counts[id] += delta;
	}
	return 0;
}

static int data_inc(void *context, const void *values, unsigned int count)
{
	return data_adjust(context, values, count, 1);
}

static int data_dec(void *context, const void *values, unsigned int count)
{
	return data_adjust(context, values, count, -1);
}

static bool data_equal(void *context, const void *v1, const void *v2)
{
	return data_value_id(v1) == data_value_id(v2);
}

void data_value_type_init(struct pd_btree_value_type *vt, u32 size,
			  struct data_counter *dc)
{
	struct data_vt_ctx *ctx = &vt_ctx[nr_vt_ctx++ % ARRAY_SIZE(vt_ctx)];

	ctx->dc = dc;
	ctx->size = size;
	vt->context = ctx;
	vt->size = size;
	vt->inc = data_inc;
	vt->dec = data_dec;
	vt->equal = data_equal;
}

/* ---- the checker ---- */

struct checker {
	struct core_env *env;
	u32 value_size;
	unsigned int levels;
	bool strict;
	u8 *visited;
	u32 *meta;
	u32 *data;
	struct data_counter *dc;
	struct check_result *res;
};

struct bounds {
	u64 lo;
	u64 hi;
	bool has_hi;
};

static void visit(struct checker *c, pd_block_t b, unsigned int level,
		  unsigned int depth, bool is_root, struct bounds bnd,
		  int *leaf_depth);

static void read_node_copy(struct checker *c, pd_block_t b, void *copy)
{
	struct pd_block *blk;

	assert_int_equal(pd_bm_read_lock(c->env->bm, b,
					 &pd_btree_node_validator, &blk), 0);
	memcpy(copy, pd_block_data(blk), PD_BLOCK_SIZE);
	pd_bm_unlock(blk);
}

static void check_keys(struct pd_btree_node *n, struct bounds bnd)
{
	u32 i, nr = pd_node_nr(n);

	for (i = 0; i < nr; i++) {
		u64 k = pd_node_key(n, i);

		if (i)
			assert_true(pd_node_key(n, i - 1) < k);
		assert_true(k >= bnd.lo);
		if (bnd.has_hi)
			assert_true(k < bnd.hi);
	}
}

static void visit_leaf_values(struct checker *c, struct pd_btree_node *n,
			      unsigned int level)
{
	u32 i, nr = pd_node_nr(n);
	u8 expect[4096];
	struct bounds all = { 0, 0, false };
	int leaf_depth;

	for (i = 0; i < nr; i++) {
		void *v = pd_node_value(n, i);

		if (level + 1 < c->levels) {
			leaf_depth = -1;
			visit(c, pd_node_value64(n, i), level + 1, 1, true, all,
			      &leaf_depth);
			continue;
		}
		u64 id = data_value_id(v);

		if (!c->dc)
			continue;
		assert_true(id < c->dc->next_id);
		c->data[id]++;
		data_value_fill(expect, c->value_size, id);
		assert_memory_equal(expect, v, c->value_size);
	}
	if (level + 1 == c->levels)
		c->res->nr_entries += nr;
}

static void visit(struct checker *c, pd_block_t b, unsigned int level,
		  unsigned int depth, bool is_root, struct bounds bnd,
		  int *leaf_depth)
{
	u32 vs = level + 1 < c->levels ? 8 : c->value_size;
	struct pd_btree_node *n;
	struct bounds child;
	u8 *copy;
	u32 i, nr;

	assert_true(b < c->env->nr_blocks);
	c->meta[b]++;
	if (c->visited[b])
		return;
	c->visited[b] = 1;
	c->res->nr_nodes++;
	assert_true(depth < 40);
	if (depth > c->res->max_depth)
		c->res->max_depth = depth;

	copy = malloc(PD_BLOCK_SIZE);
	assert_non_null(copy);
	read_node_copy(c, b, copy);
	n = (struct pd_btree_node *)copy;
	assert_int_equal(pd_btree_node_check(n, b, vs), 0);
	assert_int_equal(pd_node_max(n),
			 pd_btree_max_entries(pd_node_value_size(n)));
	nr = pd_node_nr(n);
	if (c->strict && !is_root)
		assert_true(nr >= pd_node_max(n) / 3);
	if (c->strict && is_root && pd_node_is_internal(n))
		assert_true(nr >= 2);
	check_keys(n, bnd);

	if (pd_node_is_internal(n)) {
		for (i = 0; i < nr; i++) {
			child.lo = pd_node_key(n, i);
			child.has_hi = i + 1 < nr || bnd.has_hi;
			child.hi = i + 1 < nr ? pd_node_key(n, i + 1) : bnd.hi;
			visit(c, pd_node_value64(n, i), level, depth + 1,
			      false, child, leaf_depth);
		}
	} else {
		if (*leaf_depth < 0)
			*leaf_depth = depth;
		assert_int_equal(*leaf_depth, depth);
		visit_leaf_values(c, n, level);
	}
	free(copy);
}

void check_trees(struct core_env *env, const struct tree_root *roots,
		 unsigned int nr_roots, u32 value_size, struct data_counter *dc,
		 pd_block_t reserved, bool strict, struct check_result *res)
{
	struct bounds all = { 0, 0, false };
	struct checker c = {
		.env = env,
		.value_size = value_size,
		.strict = strict,
		.dc = dc,
		.res = res,
	};
	unsigned int i, bad = 0;
	int leaf_depth;
	pd_block_t b;

	memset(res, 0, sizeof(*res));
	c.visited = calloc(env->nr_blocks, 1);
	c.meta = calloc(env->nr_blocks, sizeof(u32));
	c.data = calloc(dc ? dc->nr_ids : 1, sizeof(u32));
	assert_non_null(c.visited);
	assert_non_null(c.meta);
	assert_non_null(c.data);

	for (i = 0; i < nr_roots; i++) {
		c.levels = roots[i].levels;
		leaf_depth = -1;
		visit(&c, roots[i].root, 0, 1, true, all, &leaf_depth);
	}

	for (b = 0; b < env->nr_blocks; b++) {
		u32 want = c.meta[b] + (b <= reserved);
		u32 got;

		/* The real space map's own blocks are not ours to count. */
		if (env->real_sm && !c.meta[b])
			continue;
		got = core_env_count(env, b);

		if (want != got && bad++ < 10)
			fprintf(stderr, "block %llu: count %u, referenced %u\n",
				(unsigned long long)b, got, want);
	}
	for (b = 0; dc && b < dc->next_id; b++) {
		if (c.data[b] != dc->counts[b] && bad++ < 20)
			fprintf(stderr, "data %llu: count %u, referenced %u\n",
				(unsigned long long)b, dc->counts[b], c.data[b]);
	}
	assert_int_equal(bad, 0);
	if (!env->real_sm)
		assert_int_equal(test_sm_errors(env->sm), 0);
	if (dc)
		assert_int_equal(dc->errors, 0);

	free(c.visited);
	free(c.meta);
	free(c.data);
}
