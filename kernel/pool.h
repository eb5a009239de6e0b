/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pool object shared by a pool target and its thin devices, and the
 * interfaces between the files of the module:
 *
 *   pool.c          pool objects, the pool table, modes, commits, the worker
 *   pool-target.c   the pool target (table, status, messages, resize)
 *   thin-target.c   the thin target (table, status, map fast path)
 *   thin-io.c       bios that need the worker: provisioning, breaking
 *                   sharing, external origins
 *   discard.c       discards
 *   cell.c          the range lock
 */
#ifndef CTPOOL_POOL_H
#define CTPOOL_POOL_H

#include <linux/device-mapper.h>
#include <linux/dm-kcopyd.h>
#include <linux/dm-io.h>
#include <linux/workqueue.h>
#include <linux/bio.h>
#include <linux/list.h>
#include <linux/mempool.h>

#include "thin-metadata.h"
#include "target-args.h"
#include "cell.h"

/* Ordered by severity, like dm-thin's. */
enum pool_mode {
	PM_WRITE,
	PM_OUT_OF_DATA_SPACE,
	PM_OUT_OF_METADATA_SPACE,
	PM_READ_ONLY,
	PM_FAIL,
};

struct pool_c;
struct thin_c;

struct ct_data_range {
	data_block_t begin, end;
};

/*
 * Discards passed down to the data device (discard.c). The data blocks they
 * cover are free in the current transaction, so nobody is given them before
 * the next commit; every commit waits for those in flight first.
 */
struct ct_passdown {
	struct ct_data_range *ranges;	/* worker only: collected, not sent */
	unsigned int nr;
	atomic_t in_flight;		/* sent, not ended */
	wait_queue_head_t wait;		/* for in_flight to reach 0 */
	unsigned long commits;		/* commits begun, under the root lock */
};

struct pool {
	struct list_head list;		/* in the pool table */
	struct mapped_device *pool_md;
	struct block_device *metadata_bdev;
	struct block_device *data_bdev;
	unsigned int ref;		/* pool targets + thin targets */

	struct dm_target *ti;		/* the bound pool target */
	struct pool_features pf;	/* in force (adjusted) */
	u64 low_water_blocks;
	bool low_water_triggered;
	bool suspended;
	enum pool_mode mode;
	bool no_space_timed_out;

	u32 sectors_per_block;
	int block_shift;		/* -1 unless a power of two */

	struct pd_block_manager *bm;
	struct thin_metadata *tmd;

	struct workqueue_struct *wq;
	struct work_struct worker;
	struct delayed_work waker;
	struct delayed_work no_space_timeout;
	unsigned long last_commit;

	spinlock_t lock;		/* protects the lists below */
	struct list_head prepared;	/* finished jobs for the worker */
	struct list_head thins;		/* active thin_c, with their bios */

	struct bio_list flush_bios;	/* worker only: wait for a commit */
	struct bio_list flush_completions; /* worker only: end after commit */

	struct ct_cells cells;
	struct dm_kcopyd_client *copier;
	struct dm_io_client *zeroer;	/* writes zeroes into new blocks */
	mempool_t job_pool;
	struct ct_passdown passdown;
};

struct pool_c {
	struct dm_target *ti;
	struct pool *pool;
	struct dm_dev *metadata_dev;
	struct dm_dev *data_dev;
	u64 low_water_blocks;
	struct pool_features requested_pf;	/* as in the table line */
	struct pool_features adjusted_pf;	/* after io_hints */
};

struct thin_c {
	struct list_head list;		/* pool->thins */
	struct dm_target *ti;
	struct mapped_device *thin_md;
	struct dm_dev *pool_dev;
	struct dm_dev *origin_dev;
	sector_t origin_size;
	struct mapped_device *pool_md;
	struct pool *pool;
	struct thin_device *td;
	thin_dev_t dev_id;
	bool requeue_mode;

	/*
	 * Under pool->lock. Kept per thin so that suspending one thin hands
	 * back its own bios without scanning every other thin's.
	 */
	struct bio_list deferred;	/* bios for the worker */
	struct bio_list retry_on_resume; /* out of data space, queued */
};

/* Per-bio data of the thin target. */
struct thin_io {
	struct thin_c *tc;
	struct ct_cell *hold;		/* released when the bio ends */
	u64 discard_done;		/* discards: blocks below are unmapped */
};

static inline struct thin_io *thin_io_of(struct bio *bio)
{
	return dm_per_bio_data(bio, sizeof(struct thin_io));
}

/* ---- pool.c ---- */
struct pool *ctpool_pool_find_by_md(struct mapped_device *md);
int ctpool_pool_get(struct mapped_device *pool_md, struct block_device *mbdev,
		    struct block_device *dbdev, u32 block_size, bool read_only,
		    struct pool **result, bool *created, const char **error);
void ctpool_pool_put(struct pool *pool);
/* Takes a reference on an existing pool, with the table lock held. */
void ctpool_pool_ref(struct pool *pool);
extern struct mutex ctpool_table_lock;

const char *ctpool_mode_name(enum pool_mode mode);
void ctpool_set_mode(struct pool *pool, enum pool_mode mode);
void ctpool_metadata_failed(struct pool *pool, const char *op, int r);
void ctpool_save_needs_check(struct pool *pool);
int ctpool_commit(struct pool *pool);
void ctpool_defer_bio(struct pool *pool, struct bio *bio);
void ctpool_wake_worker(struct pool *pool);
void ctpool_requeue_retry_list(struct pool *pool);
void ctpool_requeue_thin(struct thin_c *tc);
void ctpool_no_space(struct pool *pool, struct bio *bio);
void ctpool_start_periodic(struct pool *pool);
void ctpool_stop_periodic(struct pool *pool);
void ctpool_check_low_water(struct pool *pool);
int ctpool_alloc_data_block(struct pool *pool, data_block_t *result);

/* Send a bio on (or hold it for the next commit if it carries FUA/FLUSH). */
void ctpool_issue(struct pool *pool, struct bio *bio);
/* End a bio now, or after the next commit if it carries FUA/FLUSH. */
void ctpool_complete(struct pool *pool, struct bio *bio);

/*
 * What each mode allows, decided here and nowhere else (the predicates
 * below take a struct pool):
 *
 *                          write  no-data  no-metadata  read-only  fail
 *   may_provision            y       -          -           -        -
 *   metadata_writable        y       y          -           -        -
 *   needs_reload             -       -          -           y        y
 *
 * Out of data space the metadata still changes (discards, deletes, the
 * commits that free blocks); out of metadata space it does not, but the
 * open transaction was committed, not aborted: growing the metadata
 * device returns the pool to write mode. Read-only and fail are entered
 * by an abort (or the table) and need a reload, and fail also stops reads.
 */
static inline bool ctpool_may_provision(const struct pool *pool)
{
	return pool->mode == PM_WRITE;
}

static inline bool ctpool_metadata_writable(const struct pool *pool)
{
	return pool->mode < PM_OUT_OF_METADATA_SPACE;
}

static inline bool ctpool_needs_reload(const struct pool *pool)
{
	return pool->mode >= PM_READ_ONLY;
}

/* Commit the open transaction if the mode allows and it holds a change. */
int ctpool_commit_if_changed(struct pool *pool);

static inline sector_t ctpool_block_to_sector(struct pool *pool, u64 b)
{
	return (sector_t)b * pool->sectors_per_block;
}

static inline u64 ctpool_sector_to_block(struct pool *pool, sector_t s)
{
	if (pool->block_shift >= 0)
		return s >> pool->block_shift;
	sector_div(s, pool->sectors_per_block);
	return s;
}

static inline sector_t ctpool_sector_in_block(struct pool *pool, sector_t s)
{
	if (pool->block_shift >= 0)
		return s & (pool->sectors_per_block - 1);
	return sector_div(s, pool->sectors_per_block);
}

/* ---- thin-io.c ---- */
int ctpool_jobs_init(struct pool *pool);
void ctpool_jobs_exit(struct pool *pool);
void ctpool_process_bio(struct thin_c *tc, struct bio *bio);
/* A finished copy/zero/overwrite taken off pool->prepared. */
void ctpool_process_job(struct pool *pool, struct list_head *entry);
void ctpool_remap(struct pool *pool, struct bio *bio, data_block_t b);
/* Drop the bio's cell hold early (before parking it elsewhere). */
void ctpool_release_hold(struct pool *pool, struct bio *bio);

/* ---- discard.c ---- */
int ctpool_passdown_init(struct pool *pool);
void ctpool_passdown_exit(struct pool *pool);
/* Called by every commit before it writes: see struct ct_passdown. */
void ctpool_passdown_before_commit(struct pool *pool);
void ctpool_process_discard(struct thin_c *tc, struct bio *bio);

#endif
