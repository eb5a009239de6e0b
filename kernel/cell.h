/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cells: a range lock over the virtual blocks of thin devices.
 *
 * A cell covers [begin, end) of one thin device. It is held either shared by
 * any number of plain I/Os to a single mapped block, or exclusively by one
 * operation that changes the mapping (provisioning, breaking sharing,
 * discarding). Cells of one pool never overlap. Whoever cannot get a cell
 * parks its bio on the cell in the way; when that cell is freed the parked
 * bios are handed back (wake callback) to be retried, in order.
 *
 * A parked exclusive request closes the cell to new shared holders, so a
 * stream of reads cannot starve a write.
 *
 * A cell never crosses a region of CT_CELL_REGION_BLOCKS blocks, so that
 * cells can be spread over independently locked buckets by (device, region):
 * plain I/O to different regions never contends on one lock. Callers split
 * larger ranges (discards) at region boundaries.
 *
 * All functions may be called from any context (bio completion included).
 */
#ifndef CTPOOL_CELL_H
#define CTPOOL_CELL_H

#include <linux/bio.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/mempool.h>

struct ct_cell;

#define CT_CELL_REGION_SHIFT 10
#define CT_CELL_REGION_BLOCKS (1ULL << CT_CELL_REGION_SHIFT)
#define CT_CELL_BUCKET_BITS 6

/* The end of the region holding block b. */
static inline u64 ct_cell_region_end(u64 b)
{
	return ((b >> CT_CELL_REGION_SHIFT) + 1) << CT_CELL_REGION_SHIFT;
}

struct ct_cell_bucket {
	spinlock_t lock;
	struct rb_root root;
} ____cacheline_aligned_in_smp;

struct ct_cells {
	struct ct_cell_bucket buckets[1 << CT_CELL_BUCKET_BITS];
	mempool_t pool;
	void (*wake)(void *context, struct bio_list *bios);
	void *context;
};

int ct_cells_init(struct ct_cells *cells,
		  void (*wake)(void *context, struct bio_list *bios),
		  void *context);
void ct_cells_exit(struct ct_cells *cells);

/*
 * Take a hold on [begin, end) of device dev, within one region. Returns the cell, or NULL if
 * it is busy (or no memory without blocking): then, if waiter is not NULL,
 * the bio is parked and handed to the wake callback later. gfp decides if
 * allocating may block (GFP_NOWAIT from the map path).
 */
struct ct_cell *ct_cell_get(struct ct_cells *cells, u64 dev, u64 begin,
			    u64 end, bool exclusive, struct bio *waiter,
			    gfp_t gfp);

/*
 * Turn the caller's shared hold into an exclusive one. If others hold the
 * cell too, the caller's hold is dropped instead, waiter is parked on the
 * cell, and false is returned.
 */
bool ct_cell_upgrade(struct ct_cells *cells, struct ct_cell *cell,
		     struct bio *waiter);

/* Drop one hold; the last one frees the cell and wakes what was parked. */
void ct_cell_put(struct ct_cells *cells, struct ct_cell *cell);

#endif
