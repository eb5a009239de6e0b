// SPDX-License-Identifier: GPL-2.0-only
/*
 * Discards of thin devices, run by the pool's worker.
 *
 * Only whole blocks are unmapped; the partial blocks at either end of a
 * discard are left alone (so a thin device never claims that discarded data
 * reads back as zeroes). Cells over the range are taken exclusively, one
 * region at a time, which waits for I/O in flight to those blocks.
 *
 * With passdown, a data block whose last reference went away is discarded
 * on the data device too. Blocks that may be shared with a snapshot are
 * pinned with an extra reference across the unmapping, so that afterwards
 * "not shared" means "only our pin is left".
 */
#include <linux/blkdev.h>

#include "pool.h"

#define DM_MSG_PREFIX "ctpool"

static int discard_data(struct pool *pool, data_block_t b, data_block_t e)
{
	if (b == e)
		return 0;
	return blkdev_issue_discard(pool->data_bdev,
				    ctpool_block_to_sector(pool, b),
				    ctpool_block_to_sector(pool, e - b),
				    GFP_NOIO);
}

/* Discard the sub-runs of [b, e) that only our pin still references. */
static int discard_unshared(struct pool *pool, data_block_t b, data_block_t e)
{
	data_block_t run = b;
	bool shared;
	int r;

	for (; b < e; b++) {
		r = thin_data_block_is_shared(pool->tmd, b, &shared);
		if (r)
			return r;
		if (shared) {
			discard_data(pool, run, b);
			run = b + 1;
		}
	}
	discard_data(pool, run, e);
	return 0;
}

static int unmap_with_passdown(struct thin_c *tc, thin_block_t begin,
			       thin_block_t end)
{
	struct pool *pool = tc->pool;
	thin_block_t vb, ve;
	data_block_t db, de;
	bool maybe_shared;
	int r;

	while (begin < end) {
		r = thin_find_mapped_range(tc->td, begin, end, &vb, &ve, &db,
					   &maybe_shared);
		if (r == -ENODATA)
			return 0;
		if (r)
			return r;
		de = db + (ve - vb);

		if (!maybe_shared) {
			r = thin_remove_range(tc->td, vb, ve);
			if (r)
				return r;
			/*
			 * Freed blocks are not reused before the next commit
			 * and only this worker allocates, so the discard
			 * cannot hit a block given to someone else.
			 */
			discard_data(pool, db, de);
		} else {
			r = thin_inc_data_range(pool->tmd, db, de);
			if (r)
				return r;
			r = thin_remove_range(tc->td, vb, ve);
			if (!r)
				r = discard_unshared(pool, db, de);
			if (r)
				return r;
			r = thin_dec_data_range(pool->tmd, db, de);
			if (r)
				return r;
		}
		begin = ve;
		cond_resched();
	}
	return 0;
}

void ctpool_process_discard(struct thin_c *tc, struct bio *bio)
{
	struct pool *pool = tc->pool;
	struct thin_io *io = thin_io_of(bio);
	sector_t start = bio->bi_iter.bi_sector;
	thin_block_t begin, end;
	int r;

	/* Read-only modes complete discards without unmapping anything. */
	if (pool->mode >= PM_OUT_OF_METADATA_SPACE) {
		bio_endio(bio);
		return;
	}

	begin = ctpool_sector_to_block(pool, start + pool->sectors_per_block - 1);
	end = ctpool_sector_to_block(pool, bio_end_sector(bio));
	if (begin >= end) {
		bio_endio(bio);
		return;
	}

	/*
	 * One region at a time: cells do not cross regions. A busy cell
	 * parks the bio; the retry goes on where it stopped.
	 */
	begin = max(begin, io->discard_done);
	while (begin < end) {
		thin_block_t chunk_end = min(end, ct_cell_region_end(begin));

		io->hold = ct_cell_get(&pool->cells, tc->dev_id, begin,
				       chunk_end, true, bio, GFP_NOIO);
		if (!io->hold)
			return;		/* parked; retried when free */

		if (pool->pf.discard_passdown)
			r = unmap_with_passdown(tc, begin, chunk_end);
		else
			r = thin_remove_range(tc->td, begin, chunk_end);
		ctpool_release_hold(pool, bio);
		if (r) {
			ctpool_metadata_failed(pool, "discard", r);
			bio_io_error(bio);
			return;
		}
		begin = chunk_end;
		io->discard_done = begin;
	}
	bio_endio(bio);
}
