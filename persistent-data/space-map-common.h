/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The low level shared by the metadata and the disk space maps.
 *
 * Reference counts live in 2-bit entries of bitmap blocks (0 free, 1, 2,
 * 3 = "three or more, see the ref-count tree"); the ref-count tree holds the
 * full count of every block whose count is 3 or more. Each bitmap is found
 * through an index entry; where the index entries are stored differs between
 * the two space maps, so that part is reached through pd_sm_index_ops.
 *
 * A space map keeps two of these: the current state and the last committed
 * one. A block is allocatable only if it is free in both, so that nothing the
 * committed superblock still references is overwritten before the next
 * commit.
 *
 * Bitmap encoding (space-map-bitmap.c): entry e of a bitmap lives in data
 * byte e / 4; bit 2 * (e % 4) is its high bit and 2 * (e % 4) + 1 its low
 * bit, so count 1 is 0x02, 2 is 0x01 and 3 is 0x03 in its position.
 */
#ifndef PD_SPACE_MAP_COMMON_H
#define PD_SPACE_MAP_COMMON_H

#include "on-disk-format.h"
#include "btree.h"

#define PD_SM_ENTRIES_PER_BITMAP ((u32)ENTRIES_PER_BITMAP)
#define PD_SM_BITMAP_DATA_SIZE (PD_BLOCK_SIZE - \
				sizeof(struct disk_bitmap_header))

/* ---- bitmap blocks (space-map-bitmap.c): no I/O, pure encoding ---- */

extern const struct pd_block_validator pd_sm_bitmap_validator;
extern const struct pd_block_validator pd_sm_index_validator;

/* The 2-bit value of entry e of a bitmap block (e < 16320). */
u32 pd_sm_bitmap_get(const void *block, u32 e);
/* Set entry e to value (0..3). */
void pd_sm_bitmap_set(void *block, u32 e, u32 value);

/*
 * The first entry in [begin, end) that is free in cur and, unless old is
 * NULL, in old too. 0 and *result set, or -ENOSPC.
 */
int pd_sm_bitmap_find_free(const void *cur, const void *old, u32 begin,
			   u32 end, u32 *result);

/* The number of free entries in [0, end) and the first (end if none). */
void pd_sm_bitmap_count_free(const void *block, u32 end, u32 *nr_free,
			     u32 *first_free);

/* ---- index entries ---- */

/* An index entry in CPU byte order. */
struct pd_sm_index_entry {
	pd_block_t blocknr;		/* the bitmap block */
	u32 nr_free;			/* hint: only 0 is trusted */
	/* No free entry below this one; written exactly, never trusted. */
	u32 none_free_before;
};

void pd_sm_index_entry_unpack(const struct disk_index_entry *d,
			      struct pd_sm_index_entry *ie);
void pd_sm_index_entry_pack(const struct pd_sm_index_entry *ie,
			    struct disk_index_entry *d);

struct pd_sm_ll;

struct pd_sm_index_ops {
	int (*load)(struct pd_sm_ll *ll, u64 index,
		    struct pd_sm_index_entry *ie);
	int (*save)(struct pd_sm_ll *ll, u64 index,
		    const struct pd_sm_index_entry *ie);
};

/* The .save of a committed state's index, which is only ever read. */
int pd_sm_index_save_read_only(struct pd_sm_ll *ll, u64 index,
			       const struct pd_sm_index_entry *ie);

/* ---- the low level (space-map-common.c) ---- */

struct pd_sm_ll {
	struct pd_transaction_manager *tm;
	struct pd_btree_info ref_info;		/* counts >= 3, __le32 */
	const struct pd_sm_index_ops *index_ops;
	void *context;				/* the owning space map */
	/* The last committed state; NULL while nothing is committed. */
	struct pd_sm_ll *committed;

	pd_block_t nr_blocks;
	pd_block_t nr_allocated;	/* blocks with a non-zero count */
	/* Free now but used in the committed state: not allocatable. */
	pd_block_t nr_held;
	pd_block_t bitmap_root;		/* index block or index btree */
	pd_block_t ref_count_root;
	/* Highest bitmap count allowed (0: no limit). */
	u64 max_bitmaps;
};

void pd_sm_ll_init(struct pd_sm_ll *ll, struct pd_transaction_manager *tm,
		   const struct pd_sm_index_ops *ops, void *context);

/*
 * At commit: copy the numbers describing ll into committed (whose ops stay)
 * and forget the blocks held for the previous committed state.
 */
void pd_sm_ll_snapshot(struct pd_sm_ll *ll, struct pd_sm_ll *committed);

static inline u64 pd_sm_nr_bitmaps(pd_block_t nr_blocks)
{
	return (nr_blocks + PD_SM_ENTRIES_PER_BITMAP - 1) /
		PD_SM_ENTRIES_PER_BITMAP;
}

/* Load an index entry and check it is plausible (-EILSEQ if not). */
int pd_sm_ll_load_index(struct pd_sm_ll *ll, u64 index,
			struct pd_sm_index_entry *ie);

int pd_sm_ll_lookup(struct pd_sm_ll *ll, pd_block_t b, u32 *count);

/*
 * The first block of [begin, min(end, nr_blocks)) free in ll and in its
 * committed state, or -ENOSPC.
 */
int pd_sm_ll_find_free(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end,
		       pd_block_t *result);

/*
 * Add one reference to (inc) / drop one from (dec) each block of
 * [begin, end). Dec of a free block is -EINVAL.
 */
int pd_sm_ll_inc(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end);
int pd_sm_ll_dec(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end);
/*
 * The same for each of nr blocks in turn (a block listed twice is changed
 * twice). Blocks of one bitmap next to each other in the list are changed
 * under one bitmap edit, so a sorted list is the fast one.
 */
int pd_sm_ll_inc_list(struct pd_sm_ll *ll, const pd_block_t *blocks,
		      unsigned int nr);
int pd_sm_ll_dec_list(struct pd_sm_ll *ll, const pd_block_t *blocks,
		      unsigned int nr);
int pd_sm_ll_set(struct pd_sm_ll *ll, pd_block_t b, u32 count);

/*
 * Grow by extra blocks: new bitmaps are taken from the transaction manager
 * and recorded through index_ops->save.
 */
int pd_sm_ll_extend(struct pd_sm_ll *ll, pd_block_t extra);

/* Blocks that can be allocated now (a root may lie: never below 0). */
static inline pd_block_t pd_sm_ll_nr_free(const struct pd_sm_ll *ll)
{
	pd_block_t used = ll->nr_allocated + ll->nr_held;

	return used < ll->nr_blocks ? ll->nr_blocks - used : 0;
}

/* Fill a struct disk_sm_root. */
int pd_sm_ll_copy_root(const struct pd_sm_ll *ll, void *where, size_t max);
/* Read a struct disk_sm_root into ll (nothing else is checked here). */
int pd_sm_ll_read_root(struct pd_sm_ll *ll, const void *root, size_t len);

/* ---- ops shared by both space maps ---- */

/* count_is_more_than_one through the space map's own get_count. */
int pd_sm_count_is_more_than_one_by_count(struct pd_space_map *sm,
					  pd_block_t b, bool *result);

/* ---- free-space threshold, shared by both space maps ---- */

struct pd_sm_threshold {
	pd_sm_threshold_fn fn;
	void *context;
	pd_block_t threshold;
	bool armed;		/* free was above the threshold last time */
};

void pd_sm_threshold_set(struct pd_sm_threshold *t, pd_block_t threshold,
			 pd_sm_threshold_fn fn, void *context,
			 pd_block_t nr_free);
/* Call fn when nr_free falls to or below the threshold from above. */
void pd_sm_threshold_check(struct pd_sm_threshold *t, pd_block_t nr_free);

#endif
