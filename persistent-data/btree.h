/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Copy-on-write B+trees of u64 keys and fixed-size little-endian values,
 * in dm-thin's on-disk node format (see btree-node.h).
 *
 * Every update shadows the path from the root down and returns the new root;
 * the caller keeps it. Trees may be hierarchical: with levels = n a key is an
 * array of n u64s, and the leaves of every level but the last hold the roots
 * of the next level's trees (8-byte values).
 *
 * The value type tells the tree how to reference-count what its values point
 * at, so that when a shared leaf is copied the things it refers to gain a
 * reference, and overwritten or removed values lose one.
 */
#ifndef PD_BTREE_H
#define PD_BTREE_H

#include "transaction-manager.h"

struct pd_btree_value_type {
	void *context;
	u32 size;	/* bytes per value: 4, 8, 16 or 24 in dm-thin */
	/* Each of these gets `count` values laid out one after another. */
	int (*inc)(void *context, const void *values, unsigned int count);
	int (*dec)(void *context, const void *values, unsigned int count);
	/* Optional: equal values are not dec'd when overwritten. */
	bool (*equal)(void *context, const void *value1, const void *value2);
};

struct pd_btree_info {
	struct pd_transaction_manager *tm;
	unsigned int levels;	/* 1..PD_BTREE_MAX_LEVELS */
	struct pd_btree_value_type value_type;
};

#define PD_BTREE_MAX_LEVELS 4

/* A new empty tree: one leaf with no entries. */
int pd_btree_empty(struct pd_btree_info *info, pd_block_t *root);

/*
 * Drop this reference to the tree: nodes no longer referenced are freed and
 * their values dec'd; nodes still shared only lose a reference.
 */
int pd_btree_del(struct pd_btree_info *info, pd_block_t root);

/*
 * The same in bounded steps: start, then step until it returns 0 (done);
 * 1 means more remains. Each step visits at most @budget nodes (a step of
 * budget 0 does nothing). Between steps the caller may change other trees
 * of the same transaction (even ones sharing nodes with this one), but not
 * commit or abort it: a transaction's end leaves the state meaningless, and
 * it must only be freed. Free with pd_btree_del_free (also midway: the rest
 * of the tree then keeps this reference).
 */
struct pd_btree_del;
int pd_btree_del_start(struct pd_btree_info *info, pd_block_t root,
		       struct pd_btree_del **result);
int pd_btree_del_step(struct pd_btree_del *d, unsigned int budget);
void pd_btree_del_free(struct pd_btree_del *d);
/*
 * Read (into the cache) the nodes the next steps are likely to visit,
 * changing nothing: callers holding a lock for write during steps can call
 * this under a shared lock first, so that the I/O is waited for while
 * others still read.
 */
void pd_btree_del_warm(struct pd_btree_del *d, unsigned int budget);

/* -ENODATA if absent. */
int pd_btree_lookup(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, void *value);
/*
 * The entry with the smallest key >= keys[last level] (other levels exact);
 * -ENODATA if none.
 */
int pd_btree_lookup_next(struct pd_btree_info *info, pd_block_t root,
			 const u64 *keys, u64 *found_key, void *value);

/*
 * Insert or overwrite. *inserted (may be NULL) is 1 for a new key, 0 for an
 * overwrite. Missing lower-level trees are created.
 */
int pd_btree_insert(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, const void *value, pd_block_t *new_root,
		    int *inserted);

/* -ENODATA if absent. */
int pd_btree_remove(struct pd_btree_info *info, pd_block_t root,
		    const u64 *keys, pd_block_t *new_root);

/*
 * Remove every entry of the last level with key in [keys[last], end_key);
 * the other levels' keys select the subtree.
 */
int pd_btree_remove_range(struct pd_btree_info *info, pd_block_t root,
			  const u64 *keys, u64 end_key, pd_block_t *new_root,
			  u64 *nr_removed);

/*
 * -ENODATA for an empty tree. Single-level trees; on a multi-level tree
 * these and pd_btree_walk see its top level (keys[0], subtree roots).
 */
int pd_btree_find_lowest_key(struct pd_btree_info *info, pd_block_t root,
			     u64 *result);
int pd_btree_find_highest_key(struct pd_btree_info *info, pd_block_t root,
			      u64 *result);

/*
 * Visit every entry of a single-level tree in ascending key order; a non-zero
 * return from fn stops the walk and is returned.
 */
typedef int (*pd_btree_walk_fn)(void *context, u64 key, void *value);
int pd_btree_walk(struct pd_btree_info *info, pd_block_t root,
		  pd_btree_walk_fn fn, void *context);

/*
 * The value type for trees whose values are roots of other trees (8-byte
 * block numbers counted in the metadata space map). @info describes those
 * other trees and must outlive @vt: dec deletes a subtree through it.
 */
void pd_btree_init_subtree_value_type(struct pd_btree_info *info,
				      struct pd_btree_value_type *vt);

#endif
