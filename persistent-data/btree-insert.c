// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree insertion.
 *
 * The path from the root to the leaf is shadowed top-down and every full
 * node on it is split before it is entered, so the leaf has room and a
 * split never has to go back up. The root block stays the root: when it is
 * full its entries move down into two new children.
 *
 * Multi-level trees are shadowed level by level from the top, so that a
 * shared upper leaf is copied (and its subtree roots gain their references)
 * before any subtree under it is touched.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

/* Move the upper half of @from's entries into the empty node @to. */
static void move_upper_half(struct pd_btree_node *from, struct pd_btree_node *to)
{
	u32 nr = pd_node_nr(from), keep = nr / 2;

	pd_node_copy(to, 0, from, keep, nr - keep);
	pd_node_set_nr(to, nr - keep);
	pd_node_set_nr(from, keep);
}

/* The root's entries go to two new children; the root points at them. */
static int split_beneath(struct pd_transaction_manager *tm,
			 struct pd_node_ref *root)
{
	struct pd_btree_node *n = root->n;
	bool internal = pd_node_is_internal(n);
	u32 vs = pd_node_value_size(n);
	struct pd_node_ref left, right;
	int r;

	r = pd_btree_new_node(tm, internal, vs, &left);
	if (r)
		return r;
	r = pd_btree_new_node(tm, internal, vs, &right);
	if (r) {
		pd_btree_unlock(tm, &left);
		return r;
	}

	pd_node_copy(left.n, 0, n, 0, pd_node_nr(n));
	pd_node_set_nr(left.n, pd_node_nr(n));
	move_upper_half(left.n, right.n);

	memset(n->keys, 0, PD_BLOCK_SIZE - PD_BTREE_HEADER_SIZE);
	pd_node_init(n, true, sizeof(__le64));
	pd_node_set_nr(n, 2);
	pd_node_set_key(n, 0, pd_node_key(left.n, 0));
	pd_node_set_value64(n, 0, pd_ref_loc(&left));
	pd_node_set_key(n, 1, pd_node_key(right.n, 0));
	pd_node_set_value64(n, 1, pd_ref_loc(&right));

	pd_btree_unlock(tm, &left);
	pd_btree_unlock(tm, &right);
	return 0;
}

/*
 * Split the full child @i of @parent (which has room) into itself and a new
 * right sibling. On return @child is whichever of the two covers @key; the
 * other is unlocked.
 */
static int split_child(struct pd_transaction_manager *tm,
		       struct pd_node_ref *parent, u32 i,
		       struct pd_node_ref *child, u64 key)
{
	struct pd_node_ref sibling;
	__le64 loc;
	int r;

	r = pd_btree_new_node(tm, pd_node_is_internal(child->n),
			      pd_node_value_size(child->n), &sibling);
	if (r)
		return r;
	move_upper_half(child->n, sibling.n);

	loc = cpu_to_le64(pd_ref_loc(&sibling));
	pd_node_insert_at(parent->n, i + 1, pd_node_key(sibling.n, 0), &loc);

	if (key >= pd_node_key(sibling.n, 0)) {
		pd_btree_unlock(tm, child);
		*child = sibling;
	} else {
		pd_btree_unlock(tm, &sibling);
	}
	return 0;
}

/*
 * Siblings with at least this much free space take entries from a full
 * node instead of it splitting.
 */
#define SPARE_THRESHOLD 8

static int sibling_has_room(struct pd_transaction_manager *tm,
			    const struct pd_btree_value_type *vt,
			    struct pd_node_ref *parent, u32 j, bool *room)
{
	pd_block_t b = pd_node_value64(parent->n, j);
	bool shared;
	u32 nr, max;
	int r;

	r = pd_btree_node_size(tm, vt, b, &nr, &max);
	if (!r)
		r = pd_tm_block_is_shared(tm, b, &shared);
	if (r)
		return r;
	/* Not a shared one: evening it out would copy it for nothing. */
	*room = !shared && nr + SPARE_THRESHOLD <= max;
	return 0;
}

/*
 * Child @i of @parent is full: even it out with a sibling that has room to
 * spare (which keeps nodes fuller than splitting, notably when keys come
 * in ascending order), or else split it. @out is the node for @key.
 */
static int make_child_room(struct pd_transaction_manager *tm,
			   const struct pd_btree_value_type *vt,
			   struct pd_node_ref *parent, u32 i, u64 key,
			   struct pd_node_ref *out)
{
	bool room = false;
	int r;

	if (i > 0) {
		r = sibling_has_room(tm, vt, parent, i - 1, &room);
		if (r)
			return r;
		if (room)
			return pd_btree_redistribute(tm, vt, parent, i - 1,
						     key, out);
	}
	if (i + 1 < pd_node_nr(parent->n)) {
		r = sibling_has_room(tm, vt, parent, i + 1, &room);
		if (r)
			return r;
		if (room)
			return pd_btree_redistribute(tm, vt, parent, i, key,
						     out);
	}

	r = pd_btree_shadow_child(tm, vt, parent, i, out);
	if (r)
		return r;
	r = split_child(tm, parent, i, out, key);
	if (r)
		pd_btree_unlock(tm, out);
	return r;
}

/* One step down from a write-locked internal node towards @key. */
static int step_down(struct pd_transaction_manager *tm,
		     const struct pd_btree_value_type *vt,
		     struct pd_node_ref *node, u64 key, bool make_room)
{
	struct pd_node_ref child;
	int i, r;

	i = pd_node_lower_bound(node->n, key);
	if (i < 0) {
		if (!make_room)
			return -ENODATA;
		/* The new key becomes the lowest of the whole subtree. */
		i = 0;
		pd_node_set_key(node->n, 0, key);
	}

	r = pd_btree_shadow_child(tm, vt, node, i, &child);
	if (r)
		return r;
	if (make_room && pd_node_is_full(child.n)) {
		/* Shadowed already, so locking it again is in place. */
		pd_btree_unlock(tm, &child);
		r = make_child_room(tm, vt, node, i, key, &child);
		if (r)
			return r;
	}
	pd_btree_unlock(tm, node);
	*node = child;
	return 0;
}

/*
 * Shadow the path from @root to the leaf for @key and return that leaf
 * write-locked, with the index where @key is or belongs. With @make_room
 * the leaf has space for one more entry; without, a missing key may give
 * -ENODATA.
 */
static int shadow_to_leaf(struct pd_transaction_manager *tm,
			  const struct pd_btree_value_type *vt,
			  pd_block_t root, u64 key, bool make_room,
			  pd_block_t *new_root, struct pd_node_ref *leaf,
			  u32 *index, bool *found)
{
	struct pd_node_ref node;
	unsigned int depth;
	int r;

	r = pd_btree_shadow_node(tm, vt, root, &node);
	if (r)
		return r;
	*new_root = pd_ref_loc(&node);

	if (make_room && pd_node_is_full(node.n)) {
		r = split_beneath(tm, &node);
		if (r)
			goto bad;
	}

	for (depth = 0; pd_node_is_internal(node.n); depth++) {
		if (depth == PD_BTREE_MAX_DEPTH) {
			pr_err("tree deeper than %u levels under block %llu\n",
			       PD_BTREE_MAX_DEPTH, (unsigned long long)root);
			r = -EILSEQ;
			goto bad;
		}
		r = step_down(tm, vt, &node, key, make_room);
		if (r)
			goto bad;
	}

	*index = pd_node_first_at_or_after(node.n, key);
	*found = *index < pd_node_nr(node.n) &&
		 pd_node_key(node.n, *index) == key;
	*leaf = node;
	return 0;

bad:
	pd_btree_unlock(tm, &node);
	return r;
}

/* Put the value in the leaf; an overwritten value loses its reference. */
static int store_value(const struct pd_btree_value_type *vt,
		       struct pd_node_ref *leaf, u32 i, bool found, u64 key,
		       const void *value)
{
	void *old;
	int r = 0;

	if (!found) {
		pd_node_insert_at(leaf->n, i, key, value);
		return 0;
	}

	old = pd_node_value(leaf->n, i);
	if (vt->dec && !(vt->equal && vt->equal(vt->context, old, value)))
		r = vt->dec(vt->context, old, 1);
	memcpy(old, value, vt->size);
	return r;
}

void pd_btree_upper_unlock(struct pd_transaction_manager *tm,
			   struct pd_upper_path *up)
{
	while (up->nr)
		pd_btree_unlock(tm, &up->leaf[--up->nr]);
}

void pd_btree_upper_set_root(struct pd_upper_path *up, pd_block_t b,
			     pd_block_t *new_root)
{
	if (!up->nr)
		*new_root = b;
	else
		pd_node_set_value64(up->leaf[up->nr - 1].n,
				    up->index[up->nr - 1], b);
}

int pd_btree_shadow_upper(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, bool create, pd_block_t *new_root,
			  struct pd_upper_path *up, pd_block_t *subtree)
{
	struct pd_btree_info below;
	struct pd_btree_value_type vt;
	struct pd_node_ref leaf;
	pd_block_t level_root;
	unsigned int level;
	__le64 empty;
	bool found;
	u32 i;
	int r;

	up->nr = 0;
	for (level = 0; level + 1 < info->levels; level++) {
		below = *info;
		below.levels = info->levels - level - 1;
		pd_btree_init_subtree_value_type(&below, &vt);

		r = shadow_to_leaf(info->tm, &vt, root, keys[level], create,
				   &level_root, &leaf, &i, &found);
		if (r)
			return r;
		pd_btree_upper_set_root(up, level_root, new_root);
		up->leaf[up->nr] = leaf;
		up->index[up->nr++] = i;

		if (!found && !create)
			return -ENODATA;
		if (!found) {
			r = pd_btree_empty(&below, &root);
			if (r)
				return r;
			empty = cpu_to_le64(root);
			pd_node_insert_at(leaf.n, i, keys[level], &empty);
		}
		root = pd_node_value64(leaf.n, i);
	}
	*subtree = root;
	return 0;
}

int pd_btree_insert(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, const void *value, pd_block_t *new_root,
		    int *inserted)
{
	const struct pd_btree_value_type *vt = &info->value_type;
	unsigned int last = info->levels - 1;
	struct pd_node_ref leaf;
	struct pd_upper_path up;
	pd_block_t subtree, sub_root;
	bool found;
	u32 i;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	r = pd_btree_shadow_upper(info, root, keys, true, new_root, &up,
				  &subtree);
	if (r)
		goto out;

	r = shadow_to_leaf(info->tm, vt, subtree, keys[last], true, &sub_root,
			   &leaf, &i, &found);
	if (r)
		goto out;
	pd_btree_upper_set_root(&up, sub_root, new_root);
	r = store_value(vt, &leaf, i, found, keys[last], value);
	pd_btree_unlock(info->tm, &leaf);
	if (!r && inserted)
		*inserted = !found;
out:
	pd_btree_upper_unlock(info->tm, &up);
	return r;
}
