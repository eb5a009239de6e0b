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
 *
 * Passdown never waits in the worker: the data ranges freed while one thin
 * discard is processed are collected, sorted and merged (a thin provisioned
 * in random order maps neighbouring virtual blocks to scattered data blocks,
 * but frees whole runs of them), then sent at once; the thin discard ends
 * when the last of them does. That is safe because a freed block is handed
 * out only after the next commit, and every commit first waits for the
 * passdown in flight (ctpool_passdown_before_commit); a commit that slipped
 * in between the unmapping and the sending (a message, from another
 * context) is caught afterwards and waited for here.
 */
#include <linux/blkdev.h>
#include <linux/sort.h>

#include "pool.h"

#define DM_MSG_PREFIX "ctpool"

/* Ranges collected before they are sent anyway (64 KiB of memory). */
#define PASSDOWN_MAX_RANGES 4096

/*
 * A discard of a whole big thin (16 GiB a bio) would keep the worker, and
 * every bio of other thins behind it, for as long as its removal takes:
 * after this many blocks it goes to the back of the queue instead, and
 * goes on from there (discard_done) when its turn comes again.
 */
static unsigned int discard_batch_blocks = 2048;
module_param(discard_batch_blocks, uint, 0644);
MODULE_PARM_DESC(discard_batch_blocks,
		 "Blocks a discard unmaps before the worker turns to other bios");

int ctpool_passdown_init(struct pool *pool)
{
	struct ct_passdown *pd = &pool->passdown;

	pd->ranges = kvmalloc_array(PASSDOWN_MAX_RANGES, sizeof(*pd->ranges),
				    GFP_KERNEL);
	if (!pd->ranges)
		return -ENOMEM;
	pd->nr = 0;
	atomic_set(&pd->in_flight, 0);
	init_waitqueue_head(&pd->wait);
	pd->commits = 0;
	return 0;
}

void ctpool_passdown_exit(struct pool *pool)
{
	kvfree(pool->passdown.ranges);
	pool->passdown.ranges = NULL;
}

static void wait_passdown(struct ct_passdown *pd)
{
	wait_event(pd->wait, !atomic_read(&pd->in_flight));
}

void ctpool_passdown_before_commit(struct pool *pool)
{
	struct ct_passdown *pd = &pool->passdown;

	wait_passdown(pd);
	WRITE_ONCE(pd->commits, pd->commits + 1);
}

/*
 * The data device ended one sent range. Its status is not the thin
 * discard's: the blocks are unmapped either way, and a device that drops a
 * discard loses nothing (the synchronous passdown ignored it too).
 */
static void passdown_endio(struct bio *piece)
{
	struct bio *parent = piece->bi_private;
	struct ct_passdown *pd = &thin_io_of(parent)->tc->pool->passdown;

	bio_put(piece);
	if (atomic_dec_and_test(&pd->in_flight))
		wake_up(&pd->wait);
	bio_endio(parent);
}

/* Send one range; parent (the thin discard) ends after it. */
static void send_range(struct pool *pool, struct bio *parent,
		       const struct ct_data_range *range)
{
	struct bio *piece = NULL;
	int r;

	/* Splits at the device's limit; all but the last piece chain into it. */
	r = __blkdev_issue_discard(pool->data_bdev,
				   ctpool_block_to_sector(pool, range->begin),
				   ctpool_block_to_sector(pool, range->end -
							  range->begin),
				   GFP_NOIO, &piece);
	if (r || !piece)
		return;
	piece->bi_end_io = passdown_endio;
	piece->bi_private = parent;
	atomic_inc(&pool->passdown.in_flight);
	bio_inc_remaining(parent);
	submit_bio(piece);
}

static int cmp_range(const void *a, const void *b)
{
	const struct ct_data_range *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return 0;
}

/* Send what was collected for parent, sorted and merged. */
static void passdown_send(struct pool *pool, struct bio *parent)
{
	struct ct_passdown *pd = &pool->passdown;
	struct ct_data_range run;
	unsigned int i;

	if (!pd->nr)
		return;
	sort(pd->ranges, pd->nr, sizeof(*pd->ranges), cmp_range, NULL);
	run = pd->ranges[0];
	for (i = 1; i < pd->nr; i++) {
		if (pd->ranges[i].begin <= run.end) {
			run.end = max(run.end, pd->ranges[i].end);
			continue;
		}
		send_range(pool, parent, &run);
		run = pd->ranges[i];
	}
	send_range(pool, parent, &run);
	pd->nr = 0;
}

/* Collect [b, e) for discarding on the data device. */
static void discard_data(struct pool *pool, struct bio *parent,
			 data_block_t b, data_block_t e)
{
	struct ct_passdown *pd = &pool->passdown;

	if (b == e)
		return;
	if (pd->nr && pd->ranges[pd->nr - 1].end == b) {
		pd->ranges[pd->nr - 1].end = e;
		return;
	}
	if (pd->nr == PASSDOWN_MAX_RANGES)
		passdown_send(pool, parent);
	pd->ranges[pd->nr].begin = b;
	pd->ranges[pd->nr].end = e;
	pd->nr++;
}

/* Discard the sub-runs of [b, e) that only our pin still references. */
static int discard_unshared(struct pool *pool, struct bio *parent,
			    data_block_t b, data_block_t e)
{
	data_block_t run = b;
	bool shared;
	int r;

	for (; b < e; b++) {
		r = thin_data_block_is_shared(pool->tmd, b, &shared);
		if (r)
			return r;
		if (shared) {
			discard_data(pool, parent, run, b);
			run = b + 1;
		}
	}
	discard_data(pool, parent, run, e);
	return 0;
}

static int unmap_with_passdown(struct thin_c *tc, struct bio *bio,
			       thin_block_t begin, thin_block_t end)
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
			discard_data(pool, bio, db, de);
		} else {
			r = thin_inc_data_range(pool->tmd, db, de);
			if (r)
				return r;
			r = thin_remove_range(tc->td, vb, ve);
			if (!r)
				r = discard_unshared(pool, bio, db, de);
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

/*
 * Send what this call collected. A commit since the call began (one from
 * another context: the worker commits only between calls) may have made
 * those blocks allocatable before their discards were sent: then wait for
 * them, before this worker can allocate again.
 */
static void passdown_flush(struct pool *pool, struct bio *bio,
			   unsigned long commits)
{
	struct ct_passdown *pd = &pool->passdown;

	passdown_send(pool, bio);
	if (READ_ONCE(pd->commits) != commits)
		wait_passdown(pd);
}

void ctpool_process_discard(struct thin_c *tc, struct bio *bio)
{
	struct pool *pool = tc->pool;
	struct thin_io *io = thin_io_of(bio);
	unsigned long commits = READ_ONCE(pool->passdown.commits);
	sector_t start = bio->bi_iter.bi_sector;
	thin_block_t begin, end, batch_end;
	int r;

	/* Read-only modes complete discards without unmapping anything. */
	if (!ctpool_metadata_writable(pool)) {
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
	batch_end = begin + max(READ_ONCE(discard_batch_blocks), 1u);
	while (begin < end) {
		thin_block_t chunk_end = min(end, ct_cell_region_end(begin));

		/* Disk reads first, where they stall no lookup. */
		thin_warm_range(tc->td, begin, chunk_end);
		io->hold = ct_cell_get(&pool->cells, tc->dev_id, begin,
				       chunk_end, true, bio, GFP_NOIO);
		if (!io->hold) {
			/* Parked; retried when free. */
			passdown_flush(pool, bio, commits);
			return;
		}

		if (pool->pf.discard_passdown)
			r = unmap_with_passdown(tc, bio, begin, chunk_end);
		else
			r = thin_remove_range(tc->td, begin, chunk_end);
		ctpool_release_hold(pool, bio);
		if (r) {
			/* The abort maps the collected blocks again. */
			pool->passdown.nr = 0;
			ctpool_metadata_failed(pool, "discard", r);
			bio_io_error(bio);
			return;
		}
		begin = chunk_end;
		io->discard_done = begin;
		if (begin < end && begin >= batch_end) {
			/* Other bios first; this one goes on where it stopped. */
			passdown_flush(pool, bio, commits);
			ctpool_defer_bio(pool, bio);
			return;
		}
	}
	passdown_flush(pool, bio, commits);
	bio_endio(bio);
}
