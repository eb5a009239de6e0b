/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One btree node, in dm-thin's on-disk format:
 *
 *	struct btree_node_header	32 bytes (on-disk-format.h)
 *	__le64 keys[max_entries]	sorted, unique
 *	values[max_entries]		value_size bytes each
 *
 * Internal nodes (flags 1) have 8-byte values, the children's block
 * numbers, and key[i] is a lower bound of the keys under child i (the lowest
 * key when written, possibly lower after removals). Leaves (flags 2) hold
 * the tree's values. max_entries is the largest multiple of 3 that fits.
 *
 * These helpers trust the node: callers first check it with
 * pd_btree_node_check() (the validator runs only when a block is read).
 */
#ifndef PD_BTREE_NODE_H
#define PD_BTREE_NODE_H

#include "block-manager.h"
#include "on-disk-format.h"

struct pd_btree_node {
	struct btree_node_header header;
	__le64 keys[];
} __packed;

#define PD_BTREE_HEADER_SIZE sizeof(struct btree_node_header)

/*
 * Internal levels on a path within one tree: deeper means a cycle or junk.
 * 16 levels of 252-way nodes is far beyond any device.
 */
#define PD_BTREE_MAX_DEPTH 16

extern const struct pd_block_validator pd_btree_node_validator;

static inline u32 pd_node_nr(const struct pd_btree_node *n)
{
	return le32_to_cpu(n->header.nr_entries);
}

static inline void pd_node_set_nr(struct pd_btree_node *n, u32 nr)
{
	n->header.nr_entries = cpu_to_le32(nr);
}

static inline u32 pd_node_max(const struct pd_btree_node *n)
{
	return le32_to_cpu(n->header.max_entries);
}

static inline u32 pd_node_value_size(const struct pd_btree_node *n)
{
	return le32_to_cpu(n->header.value_size);
}

static inline bool pd_node_is_internal(const struct pd_btree_node *n)
{
	return le32_to_cpu(n->header.flags) == BTREE_NODE_INTERNAL;
}

static inline bool pd_node_is_full(const struct pd_btree_node *n)
{
	return pd_node_nr(n) >= pd_node_max(n);
}

static inline u64 pd_node_key(const struct pd_btree_node *n, u32 i)
{
	return le64_to_cpu(n->keys[i]);
}

static inline void pd_node_set_key(struct pd_btree_node *n, u32 i, u64 key)
{
	n->keys[i] = cpu_to_le64(key);
}

static inline void *pd_node_value(const struct pd_btree_node *n, u32 i)
{
	u8 *base = (u8 *)(n->keys + pd_node_max(n));

	return base + (size_t)i * pd_node_value_size(n);
}

/*
 * The block number held in an 8-byte value (internal nodes, and the leaves
 * of upper levels of a multi-level tree).
 */
static inline u64 pd_node_value64(const struct pd_btree_node *n, u32 i)
{
	return get_unaligned_le64(pd_node_value(n, i));
}

static inline void pd_node_set_value64(struct pd_btree_node *n, u32 i, u64 v)
{
	put_unaligned_le64(v, pd_node_value(n, i));
}

u32 pd_btree_max_entries(u32 value_size);

/* A fresh empty node (the block is zeroed beforehand). */
void pd_node_init(struct pd_btree_node *n, bool internal, u32 value_size);

/*
 * Is this a node a tree with these leaf values may contain? -EILSEQ, with
 * a message naming the block, if not.
 */
int pd_btree_node_check(const struct pd_btree_node *n, pd_block_t location,
			u32 leaf_value_size);

/* Largest i with key[i] <= key, or -1. */
int pd_node_lower_bound(const struct pd_btree_node *n, u64 key);
/* Smallest i with key[i] >= key, or nr. */
u32 pd_node_first_at_or_after(const struct pd_btree_node *n, u64 key);

/* Entry shuffling; the caller guarantees room. */
void pd_node_insert_at(struct pd_btree_node *n, u32 i, u64 key,
		       const void *value);
void pd_node_delete(struct pd_btree_node *n, u32 i, u32 count);
/*
 * Copy @count entries from src[si] over dst[di] (different nodes, same
 * value size); entry counts are not changed.
 */
void pd_node_copy(struct pd_btree_node *dst, u32 di,
		  const struct pd_btree_node *src, u32 si, u32 count);
/* Open a gap of @count entries at i (nr grows) or close one (nr shrinks). */
void pd_node_shift_right(struct pd_btree_node *n, u32 i, u32 count);

#endif
