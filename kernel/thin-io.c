// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bios of thin devices that the map path could not finish, run by the pool's
 * worker: lookups that had to wait for metadata, reads of unprovisioned
 * blocks, provisioning (with zeroing or a copy from the external origin) and
 * breaking sharing with a snapshot.
 *
 * Every bio handled here holds a cell on its virtual block until it ends:
 * shared for plain I/O, exclusive while the mapping changes. A new mapping
 * is inserted only once the block holds the right data (zeroed, copied, or
 * written by the bio), so a crash never exposes stale data through a
 * committed mapping.
 *
 * A write that stays inside its block is sent to the new block at once,
 * while the sectors around it are zeroed (or copied from the shared block);
 * the bio is ended once every piece succeeded and the mapping is inserted.
 * Other writes wait for a whole-block zero or copy and are issued after the
 * mapping is inserted (dm-thin 6.1 does that for all partial writes, which
 * makes a write wait for the zeroing or copy before it even starts).
 */
#include <linux/blkdev.h>
#include <linux/ioprio.h>

#include "pool.h"

#define DM_MSG_PREFIX "ctpool"

#define MIN_JOBS 1024

struct ct_job {
	struct list_head list;	/* pool->prepared */
	struct pool *pool;
	struct thin_c *tc;
	struct bio *bio;
	thin_block_t vblock;
	data_block_t data_block;
	bool bio_sent;		/* the bio writes the new block itself */
	bio_end_io_t *saved_end_io;
	void *saved_private;
	atomic_t pending;	/* pieces (kcopyd operations, the bio) running */
	int err;		/* set by any piece that failed */
};

/* The zero page, over and over: what zeroing writes. */
static struct page_list zero_pages;

int ctpool_jobs_init(struct pool *pool)
{
	zero_pages.next = &zero_pages;
	zero_pages.page = ZERO_PAGE(0);
	return mempool_init_kmalloc_pool(&pool->job_pool, MIN_JOBS,
					 sizeof(struct ct_job));
}

void ctpool_jobs_exit(struct pool *pool)
{
	mempool_exit(&pool->job_pool);
}

void ctpool_release_hold(struct pool *pool, struct bio *bio)
{
	struct thin_io *io = thin_io_of(bio);

	if (io->hold) {
		ct_cell_put(&pool->cells, io->hold);
		io->hold = NULL;
	}
}

void ctpool_remap(struct pool *pool, struct bio *bio, data_block_t b)
{
	sector_t offset = ctpool_sector_in_block(pool, bio->bi_iter.bi_sector);

	bio_set_dev(bio, pool->data_bdev);
	bio->bi_iter.bi_sector = ctpool_block_to_sector(pool, b) + offset;
}

static thin_block_t bio_vblock(struct pool *pool, struct bio *bio)
{
	return ctpool_sector_to_block(pool, bio->bi_iter.bi_sector);
}

/*
 * A write of data that ends inside its block. The map path splits bios at
 * block boundaries (max_io_len); discards take another path and
 * REQ_OP_WRITE_ZEROES is not supported by the target (the block layer
 * turns it into plain writes).
 */
static bool write_within_block(struct pool *pool, struct bio *bio)
{
	sector_t offset = ctpool_sector_in_block(pool, bio->bi_iter.bi_sector);

	return bio_op(bio) == REQ_OP_WRITE && bio_has_data(bio) &&
	       offset + bio_sectors(bio) <= pool->sectors_per_block;
}

static bool covers_block(struct pool *pool, struct bio *bio)
{
	return write_within_block(pool, bio) &&
	       bio_sectors(bio) == pool->sectors_per_block;
}

static void queue_prepared(struct ct_job *job)
{
	struct pool *pool = job->pool;
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	list_add_tail(&job->list, &pool->prepared);
	spin_unlock_irqrestore(&pool->lock, flags);
	ctpool_wake_worker(pool);
}

/* Any context: one piece of a job ended; the last one hands it on. */
static void piece_done(struct ct_job *job, int err)
{
	if (err)
		WRITE_ONCE(job->err, err);
	if (atomic_dec_and_test(&job->pending))
		queue_prepared(job);
}

static void copy_done(int read_err, unsigned long write_err, void *context)
{
	piece_done(context, read_err || write_err ? -EIO : 0);
}

/* The data device finished the bio; it ends for good once mapped. */
static void sent_bio_endio(struct bio *bio)
{
	struct ct_job *job = bio->bi_private;

	bio->bi_end_io = job->saved_end_io;
	bio->bi_private = job->saved_private;
	piece_done(job, blk_status_to_errno(bio->bi_status));
}

static struct ct_job *new_job(struct thin_c *tc, struct bio *bio,
			      thin_block_t vblock, data_block_t data_block)
{
	struct ct_job *job = mempool_alloc(&tc->pool->job_pool, GFP_NOIO);

	memset(job, 0, sizeof(*job));
	INIT_LIST_HEAD(&job->list);
	job->pool = tc->pool;
	job->tc = tc;
	job->bio = bio;
	job->vblock = vblock;
	job->data_block = data_block;
	return job;
}

/* Send the bio to the new block, with a hook that holds its completion. */
static void send_bio(struct ct_job *job)
{
	struct bio *bio = job->bio;

	job->bio_sent = true;
	job->saved_end_io = bio->bi_end_io;
	job->saved_private = bio->bi_private;
	bio->bi_end_io = sent_bio_endio;
	bio->bi_private = job;
	ctpool_remap(job->pool, bio, job->data_block);
	submit_bio_noacct(bio);
}

static void zero_done(unsigned long error, void *context)
{
	piece_done(context, error ? -EIO : 0);
}

/*
 * Zero a region of the new block with plain writes of zeroes, as dm-thin
 * 6.1 ends up doing (its zeroing goes through the pool device, which takes
 * no WRITE_ZEROES). Not WRITE_ZEROES: where the data device turns that into
 * deallocation (a hole punched in the file under a virtual disk, an unmap
 * in a thin LUN), each request is a filesystem or array operation that
 * waits for all other I/O to the file, costs as much whatever its length,
 * and leaves the block to be allocated again by the write that follows.
 */
static void zero_region(struct ct_job *job, struct dm_io_region *to)
{
	struct dm_io_request req = {
		.bi_opf = REQ_OP_WRITE,
		.mem.type = DM_IO_PAGE_LIST,
		.mem.ptr.pl = &zero_pages,
		.notify.fn = zero_done,
		.notify.context = job,
		.client = job->pool->zeroer,
	};
	int r = dm_io(&req, 1, to, NULL, IOPRIO_DEFAULT);

	if (r)
		piece_done(job, r);
}

static void data_region(struct pool *pool, struct dm_io_region *r,
			data_block_t b, sector_t offset, sector_t count)
{
	r->bdev = pool->data_bdev;
	r->sector = ctpool_block_to_sector(pool, b) + offset;
	r->count = count;
}

static void start_zero(struct ct_job *job)
{
	struct pool *pool = job->pool;
	struct dm_io_region to;

	data_region(pool, &to, job->data_block, 0, pool->sectors_per_block);
	atomic_set(&job->pending, 1);
	zero_region(job, &to);
}

/*
 * Fill sectors [offset, offset + count) of the new block: zeroes, or the
 * same sectors of *from. (kcopyd wants one length for all destinations of
 * an operation, so each region is an operation of its own.)
 */
static void fill_region(struct ct_job *job, const data_block_t *from,
			sector_t offset, sector_t count)
{
	struct pool *pool = job->pool;
	struct dm_io_region src, dst;

	data_region(pool, &dst, job->data_block, offset, count);
	if (!from) {
		zero_region(job, &dst);
		return;
	}
	data_region(pool, &src, *from, offset, count);
	dm_kcopyd_copy(pool->copier, &src, 1, &dst, 0, copy_done, job);
}

/*
 * A write inside the new block: fill what the bio does not cover (0, 1 or
 * 2 regions; zeroes, or the shared block's data when from is set) while the
 * bio writes the rest. The regions and the bio never overlap, so they need
 * no ordering among themselves; the mapping waits for all of them.
 */
static void start_write_into(struct ct_job *job, const data_block_t *from)
{
	struct pool *pool = job->pool;
	struct bio *bio = job->bio;
	sector_t begin = ctpool_sector_in_block(pool, bio->bi_iter.bi_sector);
	sector_t end = begin + bio_sectors(bio);
	sector_t block_end = pool->sectors_per_block;

	/* Count every piece before starting any: each may end at once. */
	atomic_set(&job->pending, 1 + (begin > 0) + (end < block_end));
	if (begin > 0)
		fill_region(job, from, 0, begin);
	if (end < block_end)
		fill_region(job, from, end, block_end - end);
	send_bio(job);
}

/* Copy a whole block from the data device (breaking sharing). */
static void start_copy(struct ct_job *job, data_block_t from_block)
{
	struct pool *pool = job->pool;
	struct dm_io_region from, to;

	data_region(pool, &from, from_block, 0, pool->sectors_per_block);
	data_region(pool, &to, job->data_block, 0, pool->sectors_per_block);
	atomic_set(&job->pending, 1);
	dm_kcopyd_copy(pool->copier, &from, 1, &to, 0, copy_done, job);
}

/* Copy what the external origin has of the block, zero the rest. */
static void start_origin_copy(struct ct_job *job)
{
	struct pool *pool = job->pool;
	struct thin_c *tc = job->tc;
	sector_t begin = ctpool_block_to_sector(pool, job->vblock);
	sector_t len = min_t(sector_t, pool->sectors_per_block,
			     tc->origin_size - begin);
	struct dm_io_region from, to, rest;

	from.bdev = tc->origin_dev->bdev;
	from.sector = begin;
	from.count = len;
	data_region(pool, &to, job->data_block, 0, len);

	if (len == pool->sectors_per_block) {
		atomic_set(&job->pending, 1);
		dm_kcopyd_copy(pool->copier, &from, 1, &to, 0, copy_done, job);
		return;
	}
	data_region(pool, &rest, job->data_block, len,
		    pool->sectors_per_block - len);
	atomic_set(&job->pending, 2);
	dm_kcopyd_copy(pool->copier, &from, 1, &to, 0, copy_done, job);
	zero_region(job, &rest);
}

static void free_job(struct ct_job *job)
{
	mempool_free(job, &job->pool->job_pool);
}

/* The block is ready: map it, then send the bio there (or end it). */
void ctpool_process_job(struct pool *pool, struct list_head *entry)
{
	struct ct_job *job = list_entry(entry, struct ct_job, list);
	struct bio *bio = job->bio;
	int r;

	/* Read-only modes make no new mappings: dm-thin fails the mapping. */
	if (!job->err && !ctpool_metadata_writable(pool)) {
		job->err = -EIO;
		bio->bi_status = BLK_STS_IOERR;
	}
	if (job->err) {
		thin_dec_data_range(pool->tmd, job->data_block,
				    job->data_block + 1);
		/* A sent bio that failed carries its own status already. */
		if (!bio->bi_status)
			bio->bi_status = errno_to_blk_status(job->err);
		bio_endio(bio);
		free_job(job);
		return;
	}

	r = thin_insert_block(job->tc->td, job->vblock, job->data_block);
	if (r) {
		ctpool_metadata_failed(pool, "insert_block", r);
		bio_io_error(bio);
		free_job(job);
		return;
	}

	if (job->bio_sent) {
		/* FUA/PREFLUSH bios end only after the commit of the mapping. */
		ctpool_complete(pool, bio);
	} else {
		ctpool_remap(pool, bio, job->data_block);
		ctpool_issue(pool, bio);
	}
	free_job(job);
}

/* A data block for @bio to be written into; false if none (@bio dealt with). */
static bool alloc_block(struct pool *pool, struct bio *bio, data_block_t *b)
{
	int r = ctpool_alloc_data_block(pool, b);

	if (!r)
		return true;
	if (r == -ENOSPC) {
		ctpool_release_hold(pool, bio);
		ctpool_no_space(pool, bio);
	} else {
		bio_io_error(bio);
	}
	return false;
}

/* A write to an unprovisioned block; the caller holds the cell exclusively. */
static void provision(struct thin_c *tc, struct bio *bio, thin_block_t vblock)
{
	struct pool *pool = tc->pool;
	data_block_t b;
	int r;

	if (!alloc_block(pool, bio, &b))
		return;

	if (covers_block(pool, bio)) {
		start_write_into(new_job(tc, bio, vblock, b), NULL);
		return;
	}

	if (tc->origin_dev &&
	    ctpool_block_to_sector(pool, vblock) < tc->origin_size) {
		start_origin_copy(new_job(tc, bio, vblock, b));
		return;
	}

	if (pool->pf.zero_new_blocks) {
		if (write_within_block(pool, bio))
			start_write_into(new_job(tc, bio, vblock, b), NULL);
		else
			start_zero(new_job(tc, bio, vblock, b));
		return;
	}

	/* No zeroing wanted: map at once. */
	r = thin_insert_block(tc->td, vblock, b);
	if (r) {
		ctpool_metadata_failed(pool, "insert_block", r);
		bio_io_error(bio);
		return;
	}
	ctpool_remap(pool, bio, b);
	ctpool_issue(pool, bio);
}

/* A write to a block shared with a snapshot; the cell is held exclusively. */
static void break_sharing(struct thin_c *tc, struct bio *bio,
			  thin_block_t vblock, data_block_t old)
{
	struct pool *pool = tc->pool;
	data_block_t b;

	if (!alloc_block(pool, bio, &b))
		return;
	if (write_within_block(pool, bio))
		start_write_into(new_job(tc, bio, vblock, b), &old);
	else
		start_copy(new_job(tc, bio, vblock, b), old);
}

static void read_unprovisioned(struct thin_c *tc, struct bio *bio)
{
	if (tc->origin_dev &&
	    bio->bi_iter.bi_sector < tc->origin_size) {
		/* The map path split bios at the origin's end. */
		bio_set_dev(bio, tc->origin_dev->bdev);
		submit_bio_noacct(bio);
		return;
	}
	zero_fill_bio(bio);
	bio_endio(bio);
}

void ctpool_process_bio(struct thin_c *tc, struct bio *bio)
{
	struct pool *pool = tc->pool;
	struct thin_io *io = thin_io_of(bio);
	struct thin_lookup_result lr;
	thin_block_t vblock;
	int r;

	if (!bio_has_data(bio)) {
		/* An empty flush: the data device does the flushing. */
		bio_set_dev(bio, pool->data_bdev);
		ctpool_issue(pool, bio);
		return;
	}

	vblock = bio_vblock(pool, bio);
	if (!io->hold) {
		io->hold = ct_cell_get(&pool->cells, tc->dev_id, vblock,
				       vblock + 1, false, bio, GFP_NOIO);
		if (!io->hold)
			return;		/* parked; retried when free */
	}

	r = thin_find_block(tc->td, vblock, true, &lr);
	if (!r) {
		if (!op_is_write(bio_op(bio)) || !lr.shared) {
			ctpool_remap(pool, bio, lr.block);
			ctpool_issue(pool, bio);
			return;
		}
		if (!ct_cell_upgrade(&pool->cells, io->hold, bio)) {
			io->hold = NULL;
			return;
		}
		break_sharing(tc, bio, vblock, lr.block);
		return;
	}

	if (r != -ENODATA) {
		DMERR_LIMIT("%s: lookup of block %llu failed: %d",
			    dm_device_name(tc->thin_md),
			    (unsigned long long)vblock, r);
		bio_io_error(bio);
		return;
	}

	if (!op_is_write(bio_op(bio))) {
		read_unprovisioned(tc, bio);
		return;
	}
	if (!ct_cell_upgrade(&pool->cells, io->hold, bio)) {
		io->hold = NULL;
		return;
	}
	provision(tc, bio, vblock);
}
