// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pool objects: the table of pools, opening the metadata, the pool's mode,
 * commits, and the worker that runs every bio the map path cannot finish.
 *
 * One pool object exists per pool mapped device; a reload of the pool table
 * reuses it (the metadata stays open). Pool and thin targets hold
 * references on it.
 */
#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/jiffies.h>
#include <linux/log2.h>

#include "pool.h"
#include "block-manager-bufio.h"

#define DM_MSG_PREFIX "ctpool"

/* At most this many metadata blocks locked at once by one operation. */
#define METADATA_MAX_HELD 6
#define COMMIT_PERIOD HZ

static unsigned int no_space_timeout = 60;
module_param(no_space_timeout, uint, 0644);
MODULE_PARM_DESC(no_space_timeout,
		 "Out of data space queue IO timeout in seconds (0 = forever)");

DEFINE_MUTEX(ctpool_table_lock);
static LIST_HEAD(pool_table);

static const char *pool_name(struct pool *pool)
{
	return dm_device_name(pool->pool_md);
}

/* ---- the pool table ---- */

struct pool *ctpool_pool_find_by_md(struct mapped_device *md)
{
	struct pool *pool;

	list_for_each_entry(pool, &pool_table, list)
		if (pool->pool_md == md)
			return pool;
	return NULL;
}

static struct pool *find_by_metadata(struct block_device *bdev)
{
	struct pool *pool;

	list_for_each_entry(pool, &pool_table, list)
		if (pool->metadata_bdev == bdev)
			return pool;
	return NULL;
}

static struct pool *find_by_data(struct block_device *bdev)
{
	struct pool *pool;

	list_for_each_entry(pool, &pool_table, list)
		if (pool->data_bdev == bdev)
			return pool;
	return NULL;
}

static void do_worker(struct work_struct *ws);
static void do_waker(struct work_struct *ws);
static void do_no_space_timeout(struct work_struct *ws);

static void wake_parked(void *context, struct bio_list *bios)
{
	struct pool *pool = context;
	unsigned long flags;

	struct bio *bio;

	spin_lock_irqsave(&pool->lock, flags);
	while ((bio = bio_list_pop(bios)))
		bio_list_add(&thin_io_of(bio)->tc->deferred, bio);
	spin_unlock_irqrestore(&pool->lock, flags);
	ctpool_wake_worker(pool);
}

static int flush_data_dev(void *context)
{
	struct pool *pool = context;

	ctpool_passdown_before_commit(pool);
	return blkdev_issue_flush(pool->data_bdev);
}

static void metadata_low_water(void *context)
{
	struct pool *pool = context;

	DMWARN("%s: reached low water mark for metadata device: sending event.",
	       pool_name(pool));
	if (pool->ti)
		dm_table_event(pool->ti->table);
}

static void destroy_pool(struct pool *pool)
{
	cancel_delayed_work_sync(&pool->waker);
	cancel_delayed_work_sync(&pool->no_space_timeout);
	if (pool->wq)
		destroy_workqueue(pool->wq);
	if (pool->copier)
		dm_kcopyd_client_destroy(pool->copier);
	if (pool->zeroer)
		dm_io_client_destroy(pool->zeroer);
	ctpool_jobs_exit(pool);
	if (pool->tmd) {
		int r = thin_metadata_close(pool->tmd);

		if (r)
			DMWARN("%s: closing metadata failed: %d",
			       pool_name(pool), r);
	}
	if (pool->bm)
		pd_bm_destroy(pool->bm);
	ctpool_passdown_exit(pool);
	if (pool->cells.wake)
		ct_cells_exit(&pool->cells);
	kfree(pool);
}

static struct pool *create_pool(struct mapped_device *pool_md,
				struct block_device *mbdev,
				struct block_device *dbdev, u32 block_size,
				bool read_only, const char **error)
{
	struct pool *pool;
	pd_block_t threshold, nr;
	int r;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool) {
		*error = "Error allocating memory for pool";
		return ERR_PTR(-ENOMEM);
	}
	pool->pool_md = pool_md;
	pool->metadata_bdev = mbdev;
	pool->data_bdev = dbdev;
	pool->ref = 1;
	pool->sectors_per_block = block_size;
	pool->block_shift = is_power_of_2(block_size) ? ilog2(block_size) : -1;
	pool->suspended = true;
	pool->mode = PM_WRITE;
	ctpool_pool_features_init(&pool->pf);
	spin_lock_init(&pool->lock);
	bio_list_init(&pool->flush_bios);
	bio_list_init(&pool->flush_completions);
	INIT_LIST_HEAD(&pool->prepared);
	INIT_LIST_HEAD(&pool->thins);
	INIT_WORK(&pool->worker, do_worker);
	INIT_DELAYED_WORK(&pool->waker, do_waker);
	INIT_DELAYED_WORK(&pool->no_space_timeout, do_no_space_timeout);
	pool->last_commit = jiffies;

	r = ct_cells_init(&pool->cells, wake_parked, pool);
	if (r) {
		*error = "Error creating pool's bio prison";
		goto bad;
	}
	r = ctpool_jobs_init(pool);
	if (r) {
		*error = "Error creating pool's mapping mempool";
		goto bad;
	}
	r = ctpool_passdown_init(pool);
	if (r) {
		*error = "Error allocating memory for pool";
		goto bad;
	}

	r = pd_bm_bufio_create(mbdev, METADATA_MAX_HELD, &pool->bm);
	if (r) {
		*error = "Error creating metadata object";
		goto bad;
	}
	r = thin_metadata_open(pool->bm, block_size, read_only, &pool->tmd);
	if (r) {
		pool->tmd = NULL;
		*error = "Error creating metadata object";
		goto bad;
	}
	thin_metadata_register_pre_commit(pool->tmd, flush_data_dev, pool);

	r = thin_get_metadata_dev_size(pool->tmd, &nr);
	if (!r) {
		threshold = min_t(pd_block_t, 1024, nr / 4);
		r = thin_register_metadata_threshold(pool->tmd, threshold,
						     metadata_low_water, pool);
	}
	if (r) {
		*error = "Error registering metadata threshold";
		goto bad;
	}

	pool->copier = dm_kcopyd_client_create(NULL);
	if (IS_ERR(pool->copier)) {
		r = PTR_ERR(pool->copier);
		pool->copier = NULL;
		*error = "Error creating pool's kcopyd client";
		goto bad;
	}
	pool->zeroer = dm_io_client_create();
	if (IS_ERR(pool->zeroer)) {
		r = PTR_ERR(pool->zeroer);
		pool->zeroer = NULL;
		*error = "Error creating pool's dm-io client";
		goto bad;
	}
	pool->wq = alloc_ordered_workqueue("ctpool", WQ_MEM_RECLAIM);
	if (!pool->wq) {
		r = -ENOMEM;
		*error = "Error creating pool's workqueue";
		goto bad;
	}
	return pool;

bad:
	destroy_pool(pool);
	return ERR_PTR(r);
}

int ctpool_pool_get(struct mapped_device *pool_md, struct block_device *mbdev,
		    struct block_device *dbdev, u32 block_size, bool read_only,
		    struct pool **result, bool *created, const char **error)
{
	struct pool *pool;

	*created = false;
	pool = find_by_metadata(mbdev);
	if (pool) {
		if (pool->pool_md != pool_md) {
			*error = "metadata device already in use by a pool";
			return -EBUSY;
		}
		if (pool->data_bdev != dbdev) {
			*error = "data device already in use by a pool";
			return -EBUSY;
		}
		pool->ref++;
		*result = pool;
		return 0;
	}

	pool = ctpool_pool_find_by_md(pool_md);
	if (pool) {
		if (pool->metadata_bdev != mbdev || pool->data_bdev != dbdev) {
			*error = "different pool cannot replace a pool";
			return -EINVAL;
		}
		pool->ref++;
		*result = pool;
		return 0;
	}

	if (find_by_data(dbdev)) {
		*error = "data device already in use by a pool";
		return -EBUSY;
	}

	pool = create_pool(pool_md, mbdev, dbdev, block_size, read_only, error);
	if (IS_ERR(pool))
		return PTR_ERR(pool);
	list_add(&pool->list, &pool_table);
	*created = true;
	*result = pool;
	return 0;
}

void ctpool_pool_ref(struct pool *pool)
{
	pool->ref++;
}

/* Called with ctpool_table_lock held. */
void ctpool_pool_put(struct pool *pool)
{
	if (--pool->ref)
		return;
	list_del(&pool->list);
	destroy_pool(pool);
}

/* ---- modes ---- */

const char *ctpool_mode_name(enum pool_mode mode)
{
	switch (mode) {
	case PM_WRITE:
		return "write";
	case PM_OUT_OF_DATA_SPACE:
		return "out-of-data-space";
	case PM_OUT_OF_METADATA_SPACE:
		return "out-of-metadata-space";
	case PM_READ_ONLY:
		return "read-only";
	case PM_FAIL:
		return "fail";	/* dm-thin's word in "switching pool to..." */
	}
	return "unknown";
}

static void error_bio_list(struct bio_list *bios, blk_status_t status)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios))) {
		bio->bi_status = status;
		bio_endio(bio);
	}
}

static void error_retry_list(struct pool *pool, blk_status_t status)
{
	struct bio_list bios = BIO_EMPTY_LIST;
	struct thin_c *tc;

	spin_lock_irq(&pool->lock);
	list_for_each_entry(tc, &pool->thins, list) {
		bio_list_merge(&bios, &tc->retry_on_resume);
		bio_list_init(&tc->retry_on_resume);
	}
	spin_unlock_irq(&pool->lock);
	error_bio_list(&bios, status);
}

void ctpool_requeue_retry_list(struct pool *pool)
{
	struct thin_c *tc;

	spin_lock_irq(&pool->lock);
	list_for_each_entry(tc, &pool->thins, list) {
		bio_list_merge(&tc->deferred, &tc->retry_on_resume);
		bio_list_init(&tc->retry_on_resume);
	}
	spin_unlock_irq(&pool->lock);
	ctpool_wake_worker(pool);
}

/*
 * The words of the "switching pool to ... mode" line are dm-thin's, because
 * people and monitoring grep the kernel log for them: out of metadata space
 * is logged as read-only, out of data space says what happens to writes.
 */
static const char *mode_log_name(enum pool_mode mode)
{
	if (mode == PM_OUT_OF_METADATA_SPACE)
		return "read-only";
	return ctpool_mode_name(mode);
}

static const char *mode_log_detail(struct pool *pool, enum pool_mode mode)
{
	if (mode != PM_OUT_OF_DATA_SPACE)
		return "";
	return pool->pf.error_if_no_space ? " (error IO)" : " (queue IO)";
}

static bool pool_is_suspended(struct pool *pool)
{
	bool suspended;

	spin_lock_irq(&pool->lock);
	suspended = pool->suspended;
	spin_unlock_irq(&pool->lock);
	return suspended;
}

void ctpool_set_mode(struct pool *pool, enum pool_mode mode)
{
	enum pool_mode old = pool->mode;
	bool needs_check = false;

	thin_metadata_needs_check(pool->tmd, &needs_check);
	if (mode == PM_WRITE && needs_check) {
		DMERR("%s: unable to switch pool to write mode until repaired.",
		      pool_name(pool));
		mode = old != PM_WRITE ? old : PM_READ_ONLY;
	}
	/* Nothing leaves failure mode. */
	if (old == PM_FAIL)
		mode = PM_FAIL;

	pool->mode = mode;
	switch (mode) {
	case PM_FAIL:
		thin_metadata_set_read_only(pool->tmd);
		error_retry_list(pool, BLK_STS_IOERR);
		break;
	case PM_READ_ONLY:
		thin_metadata_set_read_only(pool->tmd);
		error_retry_list(pool, BLK_STS_IOERR);
		break;
	case PM_OUT_OF_METADATA_SPACE:
		error_retry_list(pool, BLK_STS_IOERR);
		break;
	case PM_OUT_OF_DATA_SPACE:
		pool->no_space_timed_out = false;
		if (!pool->pf.error_if_no_space && no_space_timeout)
			queue_delayed_work(pool->wq, &pool->no_space_timeout,
					   no_space_timeout * HZ);
		break;
	case PM_WRITE:
		if (old == PM_OUT_OF_DATA_SPACE)
			cancel_delayed_work(&pool->no_space_timeout);
		thin_metadata_set_read_write(pool->tmd);
		/*
		 * A table being bound (preresume) may not have grown the
		 * data device yet: held writes go back in pool_resume.
		 */
		if (!pool_is_suspended(pool))
			ctpool_requeue_retry_list(pool);
		break;
	}

	if (mode == old)
		return;
	DMINFO("%s: switching pool to %s%s mode", pool_name(pool),
	       mode_log_name(mode), mode_log_detail(pool, mode));
	if (pool->ti)
		dm_table_event(pool->ti->table);
}

/*
 * Like dm-thin's metadata_operation_failed(): drop the transaction, flag the
 * metadata as needing a check, and go read-only, so mapped blocks can still
 * be read. Only a failed abort (the last committed metadata cannot even be
 * read back) fails the pool.
 *
 * dm-thin merely dirties the cached superblock with needs_check and lets
 * dm-bufio write it out some time later. We try to write it at once; when
 * the device refuses (the usual reason we are here), the flag is still held
 * in core, which is what keeps the pool out of write mode until repaired
 * (ctpool_set_mode), and is written on suspend or at teardown if the device
 * takes writes again by then (thin_metadata_save_needs_check).
 */
void ctpool_metadata_failed(struct pool *pool, const char *op, int r)
{
	const char *name = pool_name(pool);

	DMERR_LIMIT("%s: metadata operation '%s' failed: error = %d",
		    name, op, r);
	if (ctpool_needs_reload(pool))
		return;

	DMERR_LIMIT("%s: aborting current metadata transaction", name);
	if (thin_metadata_abort(pool->tmd)) {
		DMERR("%s: failed to abort metadata transaction", name);
		ctpool_set_mode(pool, PM_FAIL);
		return;
	}
	r = thin_metadata_set_needs_check(pool->tmd);
	if (r)
		DMERR("%s: failed to write 'needs_check' flag to metadata (%d): kept in memory, pool stays read-only",
		      name, r);
	ctpool_set_mode(pool, PM_READ_ONLY);
}

/* Write a needs_check flag the metadata device refused before, if any. */
void ctpool_save_needs_check(struct pool *pool)
{
	int r;

	if (pool->mode == PM_FAIL)
		return;
	r = thin_metadata_save_needs_check(pool->tmd);
	if (r)
		DMERR_LIMIT("%s: 'needs_check' flag still not written to metadata: %d",
			    pool_name(pool), r);
}

static void check_metadata_space(struct pool *pool)
{
	const char *reason = NULL;
	pd_block_t nr_free = 0;

	if (thin_get_free_metadata_blocks(pool->tmd, &nr_free))
		reason = "Could not get free metadata blocks";
	else if (!nr_free)
		reason = "No free metadata blocks";

	if (reason && pool->mode == PM_WRITE) {
		DMWARN("%s: %s", pool_name(pool), reason);
		ctpool_set_mode(pool, PM_OUT_OF_METADATA_SPACE);
	}
}

static void check_data_space(struct pool *pool)
{
	data_block_t nr_free;

	if (pool->mode != PM_OUT_OF_DATA_SPACE)
		return;
	if (!thin_get_free_data_blocks(pool->tmd, &nr_free) && nr_free)
		ctpool_set_mode(pool, PM_WRITE);
}

int ctpool_commit(struct pool *pool)
{
	int r;

	if (!ctpool_metadata_writable(pool))
		return -EINVAL;

	r = thin_metadata_commit(pool->tmd);
	if (r) {
		ctpool_metadata_failed(pool, "commit", r);
		return r;
	}
	pool->last_commit = jiffies;
	check_metadata_space(pool);
	check_data_space(pool);
	return 0;
}

int ctpool_commit_if_changed(struct pool *pool)
{
	if (!ctpool_metadata_writable(pool) ||
	    !thin_metadata_changed(pool->tmd))
		return 0;
	return ctpool_commit(pool);
}

void ctpool_check_low_water(struct pool *pool)
{
	data_block_t nr_free;

	if (pool->low_water_triggered)
		return;
	if (thin_get_free_data_blocks(pool->tmd, &nr_free))
		return;
	if (nr_free <= pool->low_water_blocks) {
		DMWARN("%s: reached low water mark for data device: sending event.",
		       pool_name(pool));
		pool->low_water_triggered = true;
		if (pool->ti)
			dm_table_event(pool->ti->table);
	}
}

/*
 * Out of metadata space, bar the reserve: commit while the reserve can still
 * pay for it, and the commit switches the pool to out-of-metadata-space mode
 * (check_metadata_space). dm-thin checks after allocating, which commits the
 * new block without its mapping; checking first never does.
 */
static int check_metadata_before_alloc(struct pool *pool)
{
	pd_block_t nr_free;
	int r;

	r = thin_get_free_metadata_blocks(pool->tmd, &nr_free);
	if (r) {
		ctpool_metadata_failed(pool, "get_free_metadata_blocks", r);
		return -EIO;
	}
	if (!nr_free)
		ctpool_commit(pool);
	return ctpool_may_provision(pool) ? 0 : -EIO;
}

/* A free data block, or -ENOSPC/-EIO. Called by the worker only. */
int ctpool_alloc_data_block(struct pool *pool, data_block_t *result)
{
	int r;

	if (!ctpool_may_provision(pool))
		return pool->mode == PM_OUT_OF_DATA_SPACE ? -ENOSPC : -EIO;
	r = check_metadata_before_alloc(pool);
	if (r)
		return r;

	r = thin_alloc_data_block(pool->tmd, result);
	if (r == -ENOSPC) {
		/* Blocks freed in this transaction become usable on commit. */
		r = ctpool_commit(pool);
		if (r)
			return -EIO;
		if (!ctpool_may_provision(pool))
			return -EIO;
		r = thin_alloc_data_block(pool->tmd, result);
		if (r == -ENOSPC) {
			ctpool_set_mode(pool, PM_OUT_OF_DATA_SPACE);
			return -ENOSPC;
		}
	}
	if (r) {
		ctpool_metadata_failed(pool, "alloc_data_block", r);
		return -EIO;
	}
	ctpool_check_low_water(pool);
	return 0;
}

/* A bio that needs a new block while there is none. */
void ctpool_no_space(struct pool *pool, struct bio *bio)
{
	if (pool->mode == PM_OUT_OF_DATA_SPACE && !pool->pf.error_if_no_space) {
		spin_lock_irq(&pool->lock);
		bio_list_add(&thin_io_of(bio)->tc->retry_on_resume, bio);
		spin_unlock_irq(&pool->lock);
		return;
	}
	bio->bi_status = pool->mode == PM_OUT_OF_DATA_SPACE ?
			 BLK_STS_NOSPC : BLK_STS_IOERR;
	bio_endio(bio);
}

static void do_no_space_timeout(struct work_struct *ws)
{
	struct pool *pool = container_of(to_delayed_work(ws), struct pool,
					 no_space_timeout);

	if (pool->mode != PM_OUT_OF_DATA_SPACE || pool->pf.error_if_no_space)
		return;
	pool->pf.error_if_no_space = true;
	pool->no_space_timed_out = true;
	/* dm-thin announces the change of policy as a mode change. */
	DMINFO("%s: switching pool to %s%s mode", pool_name(pool),
	       mode_log_name(pool->mode), mode_log_detail(pool, pool->mode));
	if (pool->ti)
		dm_table_event(pool->ti->table);
	error_retry_list(pool, BLK_STS_NOSPC);
}

/* ---- the worker ---- */

void ctpool_wake_worker(struct pool *pool)
{
	queue_work(pool->wq, &pool->worker);
}

void ctpool_defer_bio(struct pool *pool, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	bio_list_add(&thin_io_of(bio)->tc->deferred, bio);
	spin_unlock_irqrestore(&pool->lock, flags);
	ctpool_wake_worker(pool);
}

static bool needs_commit(struct bio *bio)
{
	return bio->bi_opf & (REQ_PREFLUSH | REQ_FUA);
}

/*
 * Writes to this thin were acknowledged and then dropped by an abort: like
 * dm-thin, every FLUSH/FUA to it fails from then on, so fsync reports the
 * loss instead of vouching for it.
 */
static bool lost_changes(struct bio *bio)
{
	return needs_commit(bio) &&
	       thin_device_aborted_changes(thin_io_of(bio)->tc->td);
}

/*
 * A FLUSH/FUA bio waits for a commit when the metadata changed. Read-only
 * modes never commit, and have nothing to: they are entered by a commit
 * (out of metadata space) or an abort (read-only), and map nothing after.
 */
static bool wants_commit(struct pool *pool, struct bio *bio)
{
	return needs_commit(bio) && ctpool_metadata_writable(pool) &&
	       thin_metadata_changed(pool->tmd);
}

void ctpool_issue(struct pool *pool, struct bio *bio)
{
	if (lost_changes(bio)) {
		bio_io_error(bio);
		return;
	}
	if (wants_commit(pool, bio)) {
		bio_list_add(&pool->flush_bios, bio);
		return;
	}
	submit_bio_noacct(bio);
}

void ctpool_complete(struct pool *pool, struct bio *bio)
{
	if (lost_changes(bio)) {
		bio_io_error(bio);
		return;
	}
	if (wants_commit(pool, bio)) {
		bio_list_add(&pool->flush_completions, bio);
		return;
	}
	bio_endio(bio);
}

/* Requeue (to dm core) every deferred bio of a thin being suspended. */
void ctpool_requeue_thin(struct thin_c *tc)
{
	struct pool *pool = tc->pool;
	struct bio_list mine = BIO_EMPTY_LIST;

	spin_lock_irq(&pool->lock);
	bio_list_merge(&mine, &tc->deferred);
	bio_list_init(&tc->deferred);
	bio_list_merge(&mine, &tc->retry_on_resume);
	bio_list_init(&tc->retry_on_resume);
	spin_unlock_irq(&pool->lock);
	error_bio_list(&mine, BLK_STS_DM_REQUEUE);
}

static void process_flushes(struct pool *pool)
{
	struct bio *bio;
	int r = 0;

	if (bio_list_empty(&pool->flush_bios) &&
	    bio_list_empty(&pool->flush_completions))
		return;

	/*
	 * Held in write mode, they wait for a commit that a read-only mode
	 * will not make (an abort dropped what they vouch for): fail them,
	 * as dm-thin does.
	 */
	r = ctpool_metadata_writable(pool) ? ctpool_commit_if_changed(pool) : -EIO;
	if (r) {
		error_bio_list(&pool->flush_bios, BLK_STS_IOERR);
		error_bio_list(&pool->flush_completions, BLK_STS_IOERR);
		return;
	}

	while ((bio = bio_list_pop(&pool->flush_completions)))
		bio_endio(bio);
	while ((bio = bio_list_pop(&pool->flush_bios))) {
		/* The commit flushed the data device already. */
		if (!bio_has_data(bio) && (bio->bi_opf & REQ_PREFLUSH))
			bio_endio(bio);
		else
			submit_bio_noacct(bio);
	}
}

static void process_deferred(struct pool *pool)
{
	struct bio_list bios = BIO_EMPTY_LIST;
	struct thin_c *tc;
	struct bio *bio;

	/* Each bio holds its thin active (dm core waits for it in suspend). */
	spin_lock_irq(&pool->lock);
	list_for_each_entry(tc, &pool->thins, list) {
		bio_list_merge(&bios, &tc->deferred);
		bio_list_init(&tc->deferred);
	}
	spin_unlock_irq(&pool->lock);

	while ((bio = bio_list_pop(&bios))) {
		tc = thin_io_of(bio)->tc;

		if (tc->requeue_mode) {
			bio->bi_status = BLK_STS_DM_REQUEUE;
			bio_endio(bio);
		} else if (pool->mode == PM_FAIL) {
			bio_io_error(bio);
		} else if (bio_op(bio) == REQ_OP_DISCARD) {
			ctpool_process_discard(tc, bio);
		} else {
			ctpool_process_bio(tc, bio);
		}
		cond_resched();
	}
}

static void do_worker(struct work_struct *ws)
{
	struct pool *pool = container_of(ws, struct pool, worker);
	LIST_HEAD(jobs);
	struct list_head *pos, *n;

	spin_lock_irq(&pool->lock);
	list_splice_init(&pool->prepared, &jobs);
	spin_unlock_irq(&pool->lock);
	list_for_each_safe(pos, n, &jobs) {
		list_del_init(pos);
		ctpool_process_job(pool, pos);
	}

	process_deferred(pool);

	/*
	 * Not while a delete is under way: the commit would finish it here,
	 * stalling every bio behind it. Its message commits when it is done.
	 */
	if (time_after_eq(jiffies, pool->last_commit + COMMIT_PERIOD) &&
	    !thin_delete_pending(pool->tmd))
		ctpool_commit_if_changed(pool);

	process_flushes(pool);
}

static void do_waker(struct work_struct *ws)
{
	struct pool *pool = container_of(to_delayed_work(ws), struct pool,
					 waker);

	ctpool_wake_worker(pool);
	queue_delayed_work(pool->wq, &pool->waker, COMMIT_PERIOD);
}

void ctpool_start_periodic(struct pool *pool)
{
	queue_delayed_work(pool->wq, &pool->waker, COMMIT_PERIOD);
}

void ctpool_stop_periodic(struct pool *pool)
{
	cancel_delayed_work_sync(&pool->waker);
	cancel_delayed_work_sync(&pool->no_space_timeout);
	flush_workqueue(pool->wq);
}
