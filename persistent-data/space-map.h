/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The space-map interface: reference counts for every block of a device.
 *
 * Two implementations: the metadata space map (space-map-metadata.c), which
 * stores its own bitmaps and ref-count tree in the metadata device it manages,
 * and the disk space map (space-map-disk.c) for the data device, whose
 * bitmaps and ref-count tree live in the metadata device.
 *
 * Rules shared by both:
 *  - a block freed in the current transaction is never handed out again
 *    before commit (the last committed state may still reference it);
 *  - get_nr_free reports what can be allocated now;
 *  - counts above 2 live in a ref-count btree (value = full count).
 */
#ifndef PD_SPACE_MAP_H
#define PD_SPACE_MAP_H

#include "block-manager.h"

/* Bytes reserved in the superblock for each space map's root. */
#define PD_SM_ROOT_SIZE 128

typedef void (*pd_sm_threshold_fn)(void *context);

struct pd_space_map {
	const struct pd_space_map_ops *ops;
};

struct pd_space_map_ops {
	void (*destroy)(struct pd_space_map *sm);
	int (*extend)(struct pd_space_map *sm, pd_block_t extra_blocks);
	int (*get_nr_blocks)(struct pd_space_map *sm, pd_block_t *count);
	int (*get_nr_free)(struct pd_space_map *sm, pd_block_t *count);
	int (*get_count)(struct pd_space_map *sm, pd_block_t b, u32 *result);
	int (*count_is_more_than_one)(struct pd_space_map *sm, pd_block_t b,
				      bool *result);
	int (*set_count)(struct pd_space_map *sm, pd_block_t b, u32 count);
	int (*commit)(struct pd_space_map *sm);
	/* Range operations on [begin, end). */
	int (*inc_blocks)(struct pd_space_map *sm, pd_block_t begin,
			  pd_block_t end);
	int (*dec_blocks)(struct pd_space_map *sm, pd_block_t begin,
			  pd_block_t end);
	/*
	 * Optional: the same for each of nr blocks in turn (a block listed
	 * twice is changed twice), quickest when the list is sorted.
	 */
	int (*inc_list)(struct pd_space_map *sm, const pd_block_t *blocks,
			unsigned int nr);
	int (*dec_list)(struct pd_space_map *sm, const pd_block_t *blocks,
			unsigned int nr);
	/* Allocate a free block and set its count to 1. -ENOSPC if none. */
	int (*new_block)(struct pd_space_map *sm, pd_block_t *b);
	int (*root_size)(struct pd_space_map *sm, size_t *result);
	/* Copy the on-disk root (struct disk_sm_root) for the superblock. */
	int (*copy_root)(struct pd_space_map *sm, void *where, size_t max);
	/* Call fn once each time free blocks fall to or below threshold. */
	int (*register_threshold)(struct pd_space_map *sm, pd_block_t threshold,
				  pd_sm_threshold_fn fn, void *context);
};

static inline void pd_sm_destroy(struct pd_space_map *sm)
{
	if (sm)
		sm->ops->destroy(sm);
}

static inline int pd_sm_extend(struct pd_space_map *sm, pd_block_t extra)
{
	return sm->ops->extend(sm, extra);
}

static inline int pd_sm_get_nr_blocks(struct pd_space_map *sm, pd_block_t *n)
{
	return sm->ops->get_nr_blocks(sm, n);
}

static inline int pd_sm_get_nr_free(struct pd_space_map *sm, pd_block_t *n)
{
	return sm->ops->get_nr_free(sm, n);
}

static inline int pd_sm_get_count(struct pd_space_map *sm, pd_block_t b,
				  u32 *result)
{
	return sm->ops->get_count(sm, b, result);
}

static inline int pd_sm_count_is_more_than_one(struct pd_space_map *sm,
					       pd_block_t b, bool *result)
{
	return sm->ops->count_is_more_than_one(sm, b, result);
}

static inline int pd_sm_set_count(struct pd_space_map *sm, pd_block_t b,
				  u32 count)
{
	return sm->ops->set_count(sm, b, count);
}

static inline int pd_sm_commit(struct pd_space_map *sm)
{
	return sm->ops->commit(sm);
}

static inline int pd_sm_inc_blocks(struct pd_space_map *sm, pd_block_t b,
				   pd_block_t e)
{
	return sm->ops->inc_blocks(sm, b, e);
}

static inline int pd_sm_dec_blocks(struct pd_space_map *sm, pd_block_t b,
				   pd_block_t e)
{
	return sm->ops->dec_blocks(sm, b, e);
}

static inline int pd_sm_inc_block(struct pd_space_map *sm, pd_block_t b)
{
	return pd_sm_inc_blocks(sm, b, b + 1);
}

static inline int pd_sm_dec_block(struct pd_space_map *sm, pd_block_t b)
{
	return pd_sm_dec_blocks(sm, b, b + 1);
}

/* Without the list operations, one block at a time. */
static inline int pd_sm_inc_list(struct pd_space_map *sm,
				 const pd_block_t *blocks, unsigned int nr)
{
	unsigned int i;
	int r;

	if (sm->ops->inc_list)
		return sm->ops->inc_list(sm, blocks, nr);
	for (i = 0; i < nr; i++) {
		r = pd_sm_inc_block(sm, blocks[i]);
		if (r)
			return r;
	}
	return 0;
}

static inline int pd_sm_dec_list(struct pd_space_map *sm,
				 const pd_block_t *blocks, unsigned int nr)
{
	unsigned int i;
	int r;

	if (sm->ops->dec_list)
		return sm->ops->dec_list(sm, blocks, nr);
	for (i = 0; i < nr; i++) {
		r = pd_sm_dec_block(sm, blocks[i]);
		if (r)
			return r;
	}
	return 0;
}

static inline int pd_sm_new_block(struct pd_space_map *sm, pd_block_t *b)
{
	return sm->ops->new_block(sm, b);
}

static inline int pd_sm_root_size(struct pd_space_map *sm, size_t *result)
{
	return sm->ops->root_size(sm, result);
}

static inline int pd_sm_copy_root(struct pd_space_map *sm, void *where,
				  size_t max)
{
	return sm->ops->copy_root(sm, where, max);
}

static inline int pd_sm_register_threshold(struct pd_space_map *sm,
					   pd_block_t threshold,
					   pd_sm_threshold_fn fn, void *context)
{
	if (!sm->ops->register_threshold)
		return -EINVAL;
	return sm->ops->register_threshold(sm, threshold, fn, context);
}

#endif
