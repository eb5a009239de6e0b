// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree reads: lookups, ordered iteration, walks; and the empty tree.
 *
 * Reads never trust the tree: every node is checked before use and paths
 * are bounded in depth, so a corrupt tree yields -EILSEQ, never a loop or
 * an overrun. Locks are held one node at a time.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

/* Value size of the leaves at @level. */
static u32 level_value_size(const struct pd_btree_info *info,
			    unsigned int level)
{
	return level + 1 < info->levels ? sizeof(__le64) :
					  info->value_type.size;
}

static int too_deep(pd_block_t b)
{
	pr_err("tree deeper than %u levels at block %llu: corrupt\n",
	       PD_BTREE_MAX_DEPTH, (unsigned long long)b);
	return -EILSEQ;
}

int pd_btree_empty(struct pd_btree_info *info, pd_block_t *root)
{
	struct pd_node_ref ref;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	r = pd_btree_new_node(info->tm, false, level_value_size(info, 0), &ref);
	if (r)
		return r;
	*root = pd_ref_loc(&ref);
	pd_btree_unlock(info->tm, &ref);
	return 0;
}

/*
 * Exact lookup
 */

int pd_btree_lookup_one(struct pd_transaction_manager *tm, pd_block_t root,
			u32 value_size, u64 key, void *value)
{
	struct pd_node_ref ref;
	pd_block_t b = root;
	unsigned int depth;
	bool internal;
	int i, r;

	for (depth = 0; depth <= PD_BTREE_MAX_DEPTH; depth++) {
		r = pd_btree_read_node(tm, b, value_size, &ref);
		if (r)
			return r;

		i = pd_node_lower_bound(ref.n, key);
		internal = pd_node_is_internal(ref.n);
		if (i < 0 || (!internal && pd_node_key(ref.n, i) != key)) {
			pd_btree_unlock(tm, &ref);
			return -ENODATA;
		}
		if (!internal) {
			if (value)
				memcpy(value, pd_node_value(ref.n, i),
				       value_size);
			pd_btree_unlock(tm, &ref);
			return 0;
		}
		b = pd_node_value64(ref.n, i);
		pd_btree_unlock(tm, &ref);
	}
	return too_deep(b);
}

int pd_btree_find_subtree(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, pd_block_t *subtree)
{
	unsigned int level;
	__le64 v;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	for (level = 0; level + 1 < info->levels; level++) {
		r = pd_btree_lookup_one(info->tm, root, sizeof(v), keys[level],
					&v);
		if (r)
			return r;
		root = le64_to_cpu(v);
	}
	*subtree = root;
	return 0;
}

int pd_btree_lookup(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, void *value)
{
	unsigned int last = info->levels - 1;
	int r;

	r = pd_btree_find_subtree(info, root, keys, &root);
	if (r)
		return r;
	return pd_btree_lookup_one(info->tm, root, info->value_type.size,
				   keys[last], value);
}

/*
 * Leaves in key order
 *
 * An explicit path of (node, child index) lets iteration step to the next
 * leaf without holding locks. The first visit of a node starts at the
 * child that may hold @key, so iteration begins at the leaf holding @key
 * (or where it would be).
 */

struct leaf_iter {
	struct pd_transaction_manager *tm;
	u32 value_size;
	u64 key;
	bool reverse;
	int top;			/* -1: finished */
	struct {
		pd_block_t b;
		int i;
		bool entered;
	} path[PD_BTREE_MAX_DEPTH + 1];
};

static void iter_init(struct leaf_iter *it, struct pd_transaction_manager *tm,
		      pd_block_t root, u32 value_size, u64 key, bool reverse)
{
	it->tm = tm;
	it->value_size = value_size;
	it->key = key;
	it->reverse = reverse;
	it->top = 0;
	it->path[0].b = root;
	it->path[0].entered = false;
}

/* Choose the next child of an internal node; false when there is none. */
static bool iter_step(struct leaf_iter *it, const struct pd_btree_node *n)
{
	typeof(it->path[0]) *f = &it->path[it->top];

	if (!f->entered) {
		f->entered = true;
		f->i = pd_node_lower_bound(n, it->key);
		/* Forwards, keys below the first child's start there. */
		if (f->i < 0 && !it->reverse)
			f->i = 0;
	} else {
		f->i += it->reverse ? -1 : 1;
	}
	return f->i >= 0 && f->i < (int)pd_node_nr(n);
}

/* The next leaf, read-locked; -ENODATA after the last. */
static int iter_next_leaf(struct leaf_iter *it, struct pd_node_ref *leaf)
{
	struct pd_node_ref ref;
	pd_block_t child;
	bool more;
	int r;

	while (it->top >= 0) {
		r = pd_btree_read_node(it->tm, it->path[it->top].b,
				       it->value_size, &ref);
		if (r)
			return r;
		if (!pd_node_is_internal(ref.n)) {
			it->top--;
			*leaf = ref;
			return 0;
		}

		more = iter_step(it, ref.n);
		child = more ? pd_node_value64(ref.n, it->path[it->top].i) : 0;
		pd_btree_unlock(it->tm, &ref);
		if (!more) {
			it->top--;
			continue;
		}
		if (it->top == PD_BTREE_MAX_DEPTH)
			return too_deep(child);
		it->top++;
		it->path[it->top].b = child;
		it->path[it->top].entered = false;
	}
	return -ENODATA;
}

int pd_btree_next_one(struct pd_transaction_manager *tm, pd_block_t root,
		      u32 value_size, u64 key, u64 *found_key, void *value)
{
	struct pd_node_ref leaf;
	struct leaf_iter it;
	u32 i;
	int r;

	iter_init(&it, tm, root, value_size, key, false);
	for (;;) {
		r = iter_next_leaf(&it, &leaf);
		if (r)
			return r;
		i = pd_node_first_at_or_after(leaf.n, key);
		if (i < pd_node_nr(leaf.n)) {
			*found_key = pd_node_key(leaf.n, i);
			if (value)
				memcpy(value, pd_node_value(leaf.n, i),
				       value_size);
			pd_btree_unlock(tm, &leaf);
			return 0;
		}
		pd_btree_unlock(tm, &leaf);
		cond_resched();
	}
}

int pd_btree_lookup_next(struct pd_btree_info *info, pd_block_t root,
			 const u64 *keys, u64 *found_key, void *value)
{
	unsigned int last = info->levels - 1;
	int r;

	r = pd_btree_find_subtree(info, root, keys, &root);
	if (r)
		return r;
	return pd_btree_next_one(info->tm, root, info->value_type.size,
				 keys[last], found_key, value);
}

/*
 * Lowest/highest key and walks work on the top level of a tree: for a
 * multi-level tree its keys are keys[0] and its values subtree roots.
 */
int pd_btree_find_lowest_key(struct pd_btree_info *info, pd_block_t root,
			     u64 *result)
{
	int r = pd_btree_check_info(info);

	if (r)
		return r;
	return pd_btree_next_one(info->tm, root, level_value_size(info, 0), 0,
				 result, NULL);
}

int pd_btree_find_highest_key(struct pd_btree_info *info, pd_block_t root,
			      u64 *result)
{
	struct pd_node_ref leaf;
	struct leaf_iter it;
	u32 nr;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	iter_init(&it, info->tm, root, level_value_size(info, 0), U64_MAX,
		  true);
	for (;;) {
		r = iter_next_leaf(&it, &leaf);
		if (r)
			return r;
		nr = pd_node_nr(leaf.n);
		if (nr)
			*result = pd_node_key(leaf.n, nr - 1);
		pd_btree_unlock(info->tm, &leaf);
		if (nr)
			return 0;
	}
}

/*
 * The callback runs on a copy of each leaf, with no lock held: it may use
 * the tree (or others) itself.
 */
static int walk_leaf(const struct pd_btree_node *leaf, pd_btree_walk_fn fn,
		     void *context)
{
	u32 i, nr = pd_node_nr(leaf);
	int r;

	for (i = 0; i < nr; i++) {
		r = fn(context, pd_node_key(leaf, i), pd_node_value(leaf, i));
		if (r)
			return r;
	}
	return 0;
}

int pd_btree_walk(struct pd_btree_info *info, pd_block_t root,
		  pd_btree_walk_fn fn, void *context)
{
	struct pd_node_ref leaf;
	struct leaf_iter it;
	void *copy;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	copy = kmalloc(PD_BLOCK_SIZE, GFP_NOIO);
	if (!copy)
		return -ENOMEM;

	iter_init(&it, info->tm, root, level_value_size(info, 0), 0, false);
	for (;;) {
		r = iter_next_leaf(&it, &leaf);
		if (r) {
			if (r == -ENODATA)
				r = 0;
			break;
		}
		memcpy(copy, leaf.n, PD_BLOCK_SIZE);
		pd_btree_unlock(info->tm, &leaf);
		r = walk_leaf(copy, fn, context);
		if (r)
			break;
		cond_resched();
	}
	kfree(copy);
	return r;
}

/*
 * Values that are roots of other trees
 */

static int subtree_inc(void *context, const void *values, unsigned int count)
{
	struct pd_btree_info *below = context;
	const u8 *p = values;
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = pd_tm_inc(below->tm, get_unaligned_le64(p + i * 8));
		if (r)
			return r;
	}
	return 0;
}

static int subtree_dec(void *context, const void *values, unsigned int count)
{
	struct pd_btree_info *below = context;
	const u8 *p = values;
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = pd_btree_del(below, get_unaligned_le64(p + i * 8));
		if (r)
			return r;
	}
	return 0;
}

static bool subtree_equal(void *context, const void *value1,
			  const void *value2)
{
	return !memcmp(value1, value2, sizeof(__le64));
}

void pd_btree_init_subtree_value_type(struct pd_btree_info *info,
				      struct pd_btree_value_type *vt)
{
	vt->context = info;
	vt->size = sizeof(__le64);
	vt->inc = subtree_inc;
	vt->dec = subtree_dec;
	vt->equal = subtree_equal;
}
