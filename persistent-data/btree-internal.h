/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the btree source files share: locked node handles, reading nodes
 * safely, shadowing with reference counting, and the value type of each
 * level of a multi-level tree.
 */
#ifndef PD_BTREE_INTERNAL_H
#define PD_BTREE_INTERNAL_H

#include "btree.h"
#include "btree-node.h"

/* A locked node. */
struct pd_node_ref {
	struct pd_block *block;
	struct pd_btree_node *n;
};

static inline pd_block_t pd_ref_loc(const struct pd_node_ref *ref)
{
	return pd_block_location(ref->block);
}

int pd_btree_check_info(const struct pd_btree_info *info);

/*
 * Read-lock a node and check it can be a node of a tree whose leaves hold
 * values of @leaf_value_size bytes.
 */
int pd_btree_read_node(struct pd_transaction_manager *tm, pd_block_t b,
		       u32 leaf_value_size, struct pd_node_ref *ref);
void pd_btree_unlock(struct pd_transaction_manager *tm,
		     struct pd_node_ref *ref);

/* A fresh, empty, write-locked node. */
int pd_btree_new_node(struct pd_transaction_manager *tm, bool internal,
		      u32 value_size, struct pd_node_ref *ref);

/*
 * Make @count entries from @i on hold one more reference to what they point
 * at: the children of an internal node, the values of a leaf.
 */
int pd_btree_inc_entries(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt,
			 const struct pd_btree_node *n, u32 i, u32 count);

/*
 * Shadow a node for writing; if the original stays shared, the copy's
 * entries gain their references.
 */
int pd_btree_shadow_node(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt, pd_block_t b,
			 struct pd_node_ref *ref);

/* Shadow child @i of a write-locked internal node and repoint the parent. */
int pd_btree_shadow_child(struct pd_transaction_manager *tm,
			  const struct pd_btree_value_type *vt,
			  struct pd_node_ref *parent, u32 i,
			  struct pd_node_ref *child);

/*
 * The subtree root for keys[0..levels-2], read only, after checking @info.
 * -ENODATA if absent.
 */
int pd_btree_find_subtree(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, pd_block_t *subtree);

/* Exact lookup in one level's tree. */
int pd_btree_lookup_one(struct pd_transaction_manager *tm, pd_block_t root,
			u32 value_size, u64 key, void *value);

/* The first entry with key >= @key in one level's tree, or -ENODATA. */
int pd_btree_next_one(struct pd_transaction_manager *tm, pd_block_t root,
		      u32 value_size, u64 key, u64 *found_key, void *value);

/* Entry count and capacity of a node. */
int pd_btree_node_size(struct pd_transaction_manager *tm,
		       const struct pd_btree_value_type *vt, pd_block_t b,
		       u32 *nr, u32 *max);

/*
 * Append the entries of node @from, which the tree stops referencing, to
 * @into. If @from stays alive (shared) what its entries point at gains the
 * references @into now holds.
 */
int pd_btree_absorb(struct pd_transaction_manager *tm,
		    const struct pd_btree_value_type *vt,
		    struct pd_node_ref *into, pd_block_t from);

/* Merge child @i + 1 of @parent into child @i, returned in @out. */
int pd_btree_merge(struct pd_transaction_manager *tm,
		   const struct pd_btree_value_type *vt,
		   struct pd_node_ref *parent, u32 i, struct pd_node_ref *out);

/*
 * Even out children @i and @i + 1 of @parent (shadowing both); @out is the
 * one whose range now covers @key, the other is unlocked.
 */
int pd_btree_redistribute(struct pd_transaction_manager *tm,
			  const struct pd_btree_value_type *vt,
			  struct pd_node_ref *parent, u32 i, u64 key,
			  struct pd_node_ref *out);

/*
 * The upper levels (0..levels-2) of a multi-level tree, shadowed along a
 * key path, their leaves still write-locked: index[l] is where leaf[l]
 * holds the root of the tree below. Writing below starts only once the
 * levels above are shadowed, so a shared upper leaf is copied (and the
 * roots in it gain their references) before anything under it changes.
 */
struct pd_upper_path {
	unsigned int nr;
	struct pd_node_ref leaf[PD_BTREE_MAX_LEVELS];
	u32 index[PD_BTREE_MAX_LEVELS];
};

/*
 * With @create missing subtrees are made (empty), else they are -ENODATA.
 * *subtree is the root of the last level's tree for @keys.
 */
int pd_btree_shadow_upper(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, bool create, pd_block_t *new_root,
			  struct pd_upper_path *up, pd_block_t *subtree);
/* Record the new root of the tree below the path (or of the whole tree). */
void pd_btree_upper_set_root(struct pd_upper_path *up, pd_block_t b,
			     pd_block_t *new_root);
void pd_btree_upper_unlock(struct pd_transaction_manager *tm,
			   struct pd_upper_path *up);

#endif
