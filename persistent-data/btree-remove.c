// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree removal.
 *
 * Like insertion, removal works top-down in one pass: before stepping into
 * a child that holds no more than a third of its capacity, the child is
 * topped up from a sibling (entries redistributed evenly) or, when the two
 * fit in one node, merged with it. So a node never falls below a third
 * full, and the leaf can lose an entry without any fix-up on the way back.
 * A root left with a single child absorbs it, and the tree gets shorter.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

static u32 merge_threshold(const struct pd_btree_node *n)
{
	return pd_node_max(n) / 3;
}

/* Entries a non-root leaf can lose while staying over the threshold. */
static u32 spare_entries(const struct pd_btree_node *n)
{
	u32 nr = pd_node_nr(n), min = merge_threshold(n);

	return nr > min ? nr - min : 0;
}

/* The root's only child moves up into the root. */
static int collapse_root(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt,
			 struct pd_node_ref *root)
{
	pd_block_t child = pd_node_value64(root->n, 0);
	struct pd_node_ref c;
	int r;

	/* Adopt the child's shape (it may be a leaf), then its entries. */
	r = pd_btree_read_node(tm, child, vt->size, &c);
	if (r)
		return r;
	memset(root->n->keys, 0, PD_BLOCK_SIZE - PD_BTREE_HEADER_SIZE);
	root->n->header = c.n->header;
	pd_node_set_nr(root->n, 0);
	pd_btree_unlock(tm, &c);
	return pd_btree_absorb(tm, vt, root, child);
}

/*
 * Shadow child @i of @parent for a descent towards @key, first making sure
 * it can lose an entry: topped up from, or merged with, a sibling.
 */
static int prepare_child(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt,
			 struct pd_node_ref *parent, u32 i, u64 key,
			 struct pd_node_ref *out)
{
	u32 nr_parent = pd_node_nr(parent->n), left, sibling;
	u32 nr, max, sib_nr, sib_max;
	int r;

	r = pd_btree_node_size(tm, vt, pd_node_value64(parent->n, i), &nr,
			       &max);
	if (r)
		return r;
	if (nr > max / 3 || nr_parent == 1)
		return pd_btree_shadow_child(tm, vt, parent, i, out);

	left = i + 1 < nr_parent ? i : i - 1;
	sibling = left == i ? i + 1 : left;
	r = pd_btree_node_size(tm, vt, pd_node_value64(parent->n, sibling),
			       &sib_nr, &sib_max);
	if (r)
		return r;

	if (nr + sib_nr <= min(max, sib_max))
		return pd_btree_merge(tm, vt, parent, left, out);
	return pd_btree_redistribute(tm, vt, parent, left, key, out);
}

/*
 * Shadow the path from @root to the leaf for @key, preparing every node on
 * the way so the leaf can lose entries. *is_root says whether the leaf is
 * the root (which may shrink to nothing).
 */
static int prepare_path(struct pd_transaction_manager *tm,
			const struct pd_btree_value_type *vt, pd_block_t root,
			u64 key, pd_block_t *new_root, struct pd_node_ref *leaf,
			bool *is_root)
{
	struct pd_node_ref node, child;
	unsigned int steps = 0;
	bool at_root = true;
	int i, r;

	r = pd_btree_shadow_node(tm, vt, root, &node);
	if (r)
		return r;
	*new_root = pd_ref_loc(&node);

	while (pd_node_is_internal(node.n)) {
		if (++steps > 2 * PD_BTREE_MAX_DEPTH) {
			pr_err("tree under block %llu too deep: corrupt\n",
			       (unsigned long long)root);
			r = -EILSEQ;
			goto bad;
		}
		if (at_root && pd_node_nr(node.n) == 1) {
			r = collapse_root(tm, vt, &node);
			if (r)
				goto bad;
			continue;
		}

		i = pd_node_lower_bound(node.n, key);
		if (i < 0) {
			r = -ENODATA;
			goto bad;
		}
		r = prepare_child(tm, vt, &node, i, key, &child);
		if (r)
			goto bad;
		if (at_root && pd_node_nr(node.n) == 1) {
			/* A merge left the root one child: collapse first. */
			pd_btree_unlock(tm, &child);
			continue;
		}
		pd_btree_unlock(tm, &node);
		node = child;
		at_root = false;
	}

	*leaf = node;
	*is_root = at_root;
	return 0;

bad:
	pd_btree_unlock(tm, &node);
	return r;
}

/* Drop @count values from @i: they lose their references. */
static int drop_values(const struct pd_btree_value_type *vt,
		       struct pd_node_ref *leaf, u32 i, u32 count)
{
	int r = 0;

	if (vt->dec && count)
		r = vt->dec(vt->context, pd_node_value(leaf->n, i), count);
	pd_node_delete(leaf->n, i, count);
	return r;
}

static int remove_one(struct pd_transaction_manager *tm,
		      const struct pd_btree_value_type *vt, pd_block_t root,
		      u64 key, pd_block_t *new_root)
{
	struct pd_node_ref leaf;
	bool is_root;
	u32 i;
	int r;

	r = prepare_path(tm, vt, root, key, new_root, &leaf, &is_root);
	if (r)
		return r;
	i = pd_node_first_at_or_after(leaf.n, key);
	if (i < pd_node_nr(leaf.n) && pd_node_key(leaf.n, i) == key)
		r = drop_values(vt, &leaf, i, 1);
	else
		r = -ENODATA;
	pd_btree_unlock(tm, &leaf);
	return r;
}

int pd_btree_remove(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, pd_block_t *new_root)
{
	unsigned int last = info->levels - 1;
	struct pd_upper_path up;
	pd_block_t subtree, sub_root;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	/* Absent keys change nothing: look before shadowing anything. */
	r = pd_btree_lookup(info, root, keys, NULL);
	if (r)
		return r;

	r = pd_btree_shadow_upper(info, root, keys, false, new_root, &up,
				  &subtree);
	if (!r)
		r = remove_one(info->tm, &info->value_type, subtree, keys[last],
			       &sub_root);
	if (!r)
		pd_btree_upper_set_root(&up, sub_root, new_root);
	pd_btree_upper_unlock(info->tm, &up);
	return r;
}

/*
 * Ranges
 */

/*
 * Remove entries of [@key, @end) from the one leaf that holds @key, which
 * must exist. A non-root leaf keeps a third of its capacity, so a long
 * range takes several passes, each topping the leaf up again. *next is
 * where the next pass starts; *done is set when nothing of the range can
 * lie beyond.
 */
static int remove_run(struct pd_transaction_manager *tm,
		      const struct pd_btree_value_type *vt, pd_block_t root,
		      u64 key, u64 end, pd_block_t *new_root, u64 *removed,
		      u64 *next, bool *done)
{
	struct pd_node_ref leaf;
	u32 i, j, nr, count;
	bool is_root;
	int r;

	r = prepare_path(tm, vt, root, key, new_root, &leaf, &is_root);
	if (r)
		return r == -ENODATA ? -EILSEQ : r;	/* the key exists */

	nr = pd_node_nr(leaf.n);
	i = pd_node_first_at_or_after(leaf.n, key);
	for (j = i; j < nr && pd_node_key(leaf.n, j) < end; j++)
		;
	count = j - i;
	if (!is_root)
		count = min(count, max(spare_entries(leaf.n), 1u));
	if (!count || pd_node_key(leaf.n, i) != key) {
		pd_btree_unlock(tm, &leaf);
		pr_err("key %llu found by search but not by descent: corrupt tree\n",
		       (unsigned long long)key);
		return -EILSEQ;
	}

	*next = pd_node_key(leaf.n, i + count - 1) + 1;
	*done = *next == 0;
	*removed += count;
	r = drop_values(vt, &leaf, i, count);
	pd_btree_unlock(tm, &leaf);
	return r;
}

/* Is there an entry in [key, end) in the tree at @root? */
static int first_in_range(struct pd_transaction_manager *tm, pd_block_t root,
			  u32 value_size, u64 key, u64 end, u64 *found)
{
	int r = pd_btree_next_one(tm, root, value_size, key, found, NULL);

	if (!r && *found >= end)
		r = -ENODATA;
	return r;
}

int pd_btree_remove_range(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, u64 end_key, pd_block_t *new_root,
			  u64 *nr_removed)
{
	const struct pd_btree_value_type *vt = &info->value_type;
	unsigned int last = info->levels - 1;
	u64 key = keys[last], found;
	struct pd_upper_path up;
	pd_block_t subtree;
	bool done = false;
	int r;

	*nr_removed = 0;
	*new_root = root;

	/* Nothing to remove, nothing to shadow. */
	r = pd_btree_find_subtree(info, root, keys, &subtree);
	if (!r)
		r = first_in_range(info->tm, subtree, vt->size, key, end_key,
				   &found);
	if (r)
		return r == -ENODATA ? 0 : r;

	r = pd_btree_shadow_upper(info, root, keys, false, new_root, &up,
				  &subtree);
	while (!r && !done) {
		r = remove_run(info->tm, vt, subtree, found, end_key, &subtree,
			       nr_removed, &key, &done);
		pd_btree_upper_set_root(&up, subtree, new_root);
		if (!r && !done)
			r = first_in_range(info->tm, subtree, vt->size, key,
					   end_key, &found);
		cond_resched();
	}
	pd_btree_upper_unlock(info->tm, &up);
	return r == -ENODATA ? 0 : r;
}
