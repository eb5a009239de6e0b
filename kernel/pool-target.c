// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool target: table line, status, messages, suspend/resume and resize.
 *
 *   <start> <len> ctpool <metadata dev> <data dev> <block size>
 *                 <low water mark> [<#features> <feature>*]
 *
 * I/O sent to the pool device itself goes straight to the data device.
 */
#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/dm-ioctl.h>

#include "ctpool.h"
#include "pool.h"
#include "dm-internal.h"

#define DM_MSG_PREFIX "ctpool"

/* One index block of 255 bitmaps limits the metadata device. */
#define METADATA_MAX_SECTORS 33292800ULL
#define METADATA_MAX_SECTORS_WARNING (16ULL * (1024 * 1024 * 1024 >> 9))


static pd_block_t metadata_dev_blocks(struct block_device *bdev)
{
	sector_t sectors = min_t(u64, bdev_nr_sectors(bdev),
				 METADATA_MAX_SECTORS);

	return sectors / PD_BLOCK_SECTORS;
}

static pd_block_t metadata_threshold(struct pool_c *pc)
{
	pd_block_t blocks = metadata_dev_blocks(pc->metadata_dev->bdev);

	return min_t(pd_block_t, 1024, blocks / 4);
}

static int pool_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_dev *metadata_dev = NULL, *data_dev = NULL;
	struct pool_features pf;
	const char *error = NULL;
	struct pool_c *pc = NULL;
	struct pool *pool;
	fmode_t mode;
	u64 low_water;
	bool created;
	u32 block_size;
	int r;

	mutex_lock(&ctpool_table_lock);

	r = ctpool_parse_pool_table(argc, argv, &pf, &error);
	if (r)
		goto out;

	mode = FMODE_READ | (pf.read_only ? 0 : FMODE_WRITE);
	r = dm_get_device(ti, argv[0], mode, &metadata_dev);
	if (r) {
		error = "Error opening metadata block device";
		goto out;
	}
	if (bdev_nr_sectors(metadata_dev->bdev) > METADATA_MAX_SECTORS_WARNING)
		DMWARN("Metadata device %pg is larger than %llu sectors: excess space will not be used.",
		       metadata_dev->bdev, METADATA_MAX_SECTORS);

	r = dm_get_device(ti, argv[1], FMODE_READ | FMODE_WRITE, &data_dev);
	if (r) {
		error = "Error getting data device";
		goto out;
	}

	r = ctpool_parse_block_size(argv[2], &block_size,
				    &error);
	if (!r)
		r = ctpool_parse_low_water(argv[3], &low_water,
					   &error);
	if (r)
		goto out;

	pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	if (!pc) {
		error = "Error allocating pool context";
		r = -ENOMEM;
		goto out;
	}

	r = ctpool_pool_get(dm_table_get_md(ti->table), metadata_dev->bdev,
			    data_dev->bdev, block_size, pf.read_only, &pool,
			    &created, &error);
	if (r)
		goto out;

	if (created) {
		pool->pf = pf;
	} else if (pf.discard_enabled != pool->pf.discard_enabled) {
		error = "Discard support cannot be disabled once enabled";
		ctpool_pool_put(pool);
		r = -EINVAL;
		goto out;
	}

	pc->ti = ti;
	pc->pool = pool;
	pc->metadata_dev = metadata_dev;
	pc->data_dev = data_dev;
	pc->low_water_blocks = low_water;
	pc->requested_pf = pf;
	pc->adjusted_pf = pf;

	ti->num_flush_bios = 1;
	ti->limit_swap_bios = true;
	/* Thins unmap on discard; the pool passes discards down if asked. */
	if (pf.discard_enabled && pf.discard_passdown) {
		ti->num_discard_bios = 1;
		ti->discards_supported = true;
	}
	ti->private = pc;
	mutex_unlock(&ctpool_table_lock);
	return 0;

out:
	ti->error = (char *)error;
	kfree(pc);
	if (data_dev)
		dm_put_device(ti, data_dev);
	if (metadata_dev)
		dm_put_device(ti, metadata_dev);
	mutex_unlock(&ctpool_table_lock);
	return r;
}

static void pool_dtr(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;

	mutex_lock(&ctpool_table_lock);
	if (pc->pool->ti == ti)
		pc->pool->ti = NULL;
	ctpool_pool_put(pc->pool);
	dm_put_device(ti, pc->metadata_dev);
	dm_put_device(ti, pc->data_dev);
	kfree(pc);
	mutex_unlock(&ctpool_table_lock);
}

static int pool_map(struct dm_target *ti, struct bio *bio)
{
	struct pool_c *pc = ti->private;

	bio_set_dev(bio, pc->data_dev->bdev);
	return DM_MAPIO_REMAPPED;
}

/* ---- suspend, resume, resize ---- */

/*
 * Whether @dev may grow from the @have blocks the metadata records to the
 * @want blocks that @sized now gives: 1 if so, 0 if there is nothing to do
 * (same size, or growing must wait for a repair), -EINVAL if it shrank.
 */
static int may_grow(struct pool *pool, const char *sized, const char *dev,
		    u64 want, u64 have)
{
	const char *name = dm_device_name(pool->pool_md);
	bool needs_check = false;

	if (want < have) {
		DMERR("%s: %s (%llu blocks) too small: expected %llu",
		      name, sized, (unsigned long long)want,
		      (unsigned long long)have);
		return -EINVAL;
	}
	if (want == have)
		return 0;

	thin_metadata_needs_check(pool->tmd, &needs_check);
	if (needs_check) {
		DMERR("%s: unable to grow the %s until repaired.", name, dev);
		return 0;
	}
	return 1;
}

static int resize_data(struct pool_c *pc, bool *need_commit)
{
	struct pool *pool = pc->pool;
	const char *name = dm_device_name(pool->pool_md);
	data_block_t want, have;
	sector_t len = pc->ti->len;
	int r;

	sector_div(len, pool->sectors_per_block);
	want = len;
	r = thin_get_data_dev_size(pool->tmd, &have);
	if (r) {
		DMERR("%s: failed to retrieve data device size", name);
		return r;
	}
	r = may_grow(pool, "pool target", "data device", want, have);
	if (r <= 0)
		return r;
	if (have)
		DMINFO("%s: growing the data device from %llu to %llu blocks",
		       name, (unsigned long long)have,
		       (unsigned long long)want);
	r = thin_resize_data_dev(pool->tmd, want);
	if (r) {
		ctpool_metadata_failed(pool, "resize_data_dev", r);
		return r;
	}
	*need_commit = true;
	return 0;
}

static int resize_metadata(struct pool_c *pc, bool *need_commit)
{
	struct pool *pool = pc->pool;
	const char *name = dm_device_name(pool->pool_md);
	pd_block_t want = metadata_dev_blocks(pc->metadata_dev->bdev), have;
	int r;

	r = thin_get_metadata_dev_size(pool->tmd, &have);
	if (r) {
		DMERR("%s: failed to retrieve metadata device size", name);
		return r;
	}
	r = may_grow(pool, "metadata device", "metadata device", want, have);
	if (r <= 0)
		return r;
	DMINFO("%s: growing the metadata device from %llu to %llu blocks",
	       name, (unsigned long long)have, (unsigned long long)want);
	if (pool->mode == PM_OUT_OF_METADATA_SPACE)
		ctpool_set_mode(pool, PM_WRITE);
	r = thin_resize_metadata_dev(pool->tmd, want);
	if (r) {
		ctpool_metadata_failed(pool, "resize_metadata_dev", r);
		return r;
	}
	*need_commit = true;
	return 0;
}

/* The new table takes control of the pool object. */
static void bind_pool(struct pool_c *pc)
{
	struct pool *pool = pc->pool;
	enum pool_mode old = pool->mode;
	enum pool_mode mode = pc->adjusted_pf.read_only ? PM_READ_ONLY :
							  PM_WRITE;

	/*
	 * Out of metadata space stays so until the metadata device grows
	 * (resize_metadata). Out of data space goes back to write mode with
	 * the new table, before the data device is grown, as in dm-thin: an
	 * allocation that still finds no space switches it back.
	 */
	if (mode == PM_WRITE && old == PM_OUT_OF_METADATA_SPACE)
		mode = old;

	pool->ti = pc->ti;
	pool->pf = pc->adjusted_pf;
	pool->low_water_blocks = pc->low_water_blocks;
	ctpool_set_mode(pool, mode);
}

static int pool_preresume(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;
	bool need_commit = false;
	int r;

	bind_pool(pc);
	if (ctpool_needs_reload(pool))
		return 0;

	r = resize_data(pc, &need_commit);
	if (r)
		return r;
	r = resize_metadata(pc, &need_commit);
	if (r)
		return r;
	if (need_commit)
		ctpool_commit(pool);
	return 0;
}

static void suspend_thins(struct pool *pool)
{
	struct thin_c *tc;

	mutex_lock(&ctpool_table_lock);
	list_for_each_entry(tc, &pool->thins, list)
		dm_internal_suspend_noflush(tc->thin_md);
	mutex_unlock(&ctpool_table_lock);
}

static void resume_thins(struct pool *pool)
{
	struct thin_c *tc;

	mutex_lock(&ctpool_table_lock);
	list_for_each_entry(tc, &pool->thins, list)
		dm_internal_resume(tc->thin_md);
	mutex_unlock(&ctpool_table_lock);
}

static void pool_resume(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;
	data_block_t nr_free;

	spin_lock_irq(&pool->lock);
	pool->low_water_triggered = false;
	pool->suspended = false;
	spin_unlock_irq(&pool->lock);

	if (pool->mode == PM_OUT_OF_DATA_SPACE &&
	    !thin_get_free_data_blocks(pool->tmd, &nr_free) && nr_free)
		ctpool_set_mode(pool, PM_WRITE);
	ctpool_requeue_retry_list(pool);
	resume_thins(pool);
	ctpool_start_periodic(pool);
}

static void pool_presuspend(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;

	spin_lock_irq(&pool->lock);
	pool->suspended = true;
	spin_unlock_irq(&pool->lock);
	suspend_thins(pool);
}

static void pool_presuspend_undo(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;

	resume_thins(pool);
	spin_lock_irq(&pool->lock);
	pool->suspended = false;
	spin_unlock_irq(&pool->lock);
}

static void pool_postsuspend(struct dm_target *ti)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;

	ctpool_stop_periodic(pool);
	ctpool_commit_if_changed(pool);
	/* The metadata device may take writes again (e.g. after a reload). */
	ctpool_save_needs_check(pool);
}

/* ---- messages ---- */

/*
 * Tree nodes of a deleted device released per hold of the metadata lock.
 * Between two batches the lock is free: lookups, provisioning and discards
 * of the other devices go on, so deleting millions of mappings stalls none
 * of them for longer than one batch (a few leaves, their children already
 * being read: the delete prefetches them).
 */
static unsigned int delete_batch_nodes = 16;
module_param(delete_batch_nodes, uint, 0644);
MODULE_PARM_DESC(delete_batch_nodes,
		 "Tree nodes a delete releases per hold of the metadata lock");

/*
 * The device is detached at once (its id free again), its mappings are
 * released in batches, and the message returns once that is committed,
 * as dm-thin's does. Commits made meanwhile by others (a FLUSH) finish the
 * delete first: see thin_delete_begin().
 */
static int delete_thin(struct pool *pool, thin_dev_t dev)
{
	struct thin_metadata *tmd = pool->tmd;
	int r;

	r = thin_delete_begin(tmd, dev);
	if (r)
		return r;
	do {
		cond_resched();
		r = thin_delete_continue(tmd,
					 max(READ_ONCE(delete_batch_nodes), 1u));
	} while (r > 0);
	if (r) {
		ctpool_metadata_failed(pool, "delete", r);
		return r;
	}
	/* Not done until durable: a failed commit fails the message. */
	return ctpool_commit(pool);
}

static int pool_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;
	struct thin_metadata *tmd = pool->tmd;
	char err[CTPOOL_MSG_ERROR_LEN];
	struct ctpool_message msg;
	int r;

	if (!ctpool_metadata_writable(pool)) {
		DMERR("%s: unable to service pool target messages in READ_ONLY or FAIL mode",
		      dm_device_name(pool->pool_md));
		return -EOPNOTSUPP;
	}

	r = ctpool_parse_message(argc, argv, &msg, err);
	if (r) {
		DMWARN("%s", err);
		return r;
	}

	switch (msg.type) {
	case CTPOOL_MSG_CREATE_THIN:
		r = thin_create_thin(tmd, msg.dev);
		if (r)
			DMWARN("Creation of new thinly-provisioned device with id %s failed.",
			       argv[1]);
		break;
	case CTPOOL_MSG_CREATE_SNAP:
		r = thin_create_snap(tmd, msg.dev, msg.origin);
		if (r)
			DMWARN("Creation of new snapshot %s of device %s failed.",
			       argv[1], argv[2]);
		break;
	case CTPOOL_MSG_DELETE:
		r = delete_thin(pool, msg.dev);
		if (r)
			DMWARN("Deletion of thin device %s failed.", argv[1]);
		return r;
	case CTPOOL_MSG_SET_TRANSACTION_ID:
		r = thin_metadata_set_transaction_id(tmd, msg.old_id,
						     msg.new_id);
		if (r)
			DMWARN("Failed to change transaction id from %s to %s.",
			       argv[1], argv[2]);
		break;
	case CTPOOL_MSG_RESERVE_METADATA_SNAP:
		ctpool_commit(pool);
		r = thin_metadata_reserve_snap(tmd);
		if (r)
			DMWARN("reserve_metadata_snap message failed.");
		break;
	case CTPOOL_MSG_RELEASE_METADATA_SNAP:
		r = thin_metadata_release_snap(tmd);
		if (r)
			DMWARN("release_metadata_snap message failed.");
		break;
	}

	if (!r)
		ctpool_commit(pool);
	return r;
}

/* ---- status ---- */

static void emit_info(struct pool_c *pc, unsigned int status_flags,
		      char *result, unsigned int maxlen)
{
	struct pool *pool = pc->pool;
	struct thin_metadata *tmd = pool->tmd;
	pd_block_t free_meta, total_meta, held;
	data_block_t free_data, total_data;
	const char *name = dm_device_name(pool->pool_md);
	bool needs_check = false;
	unsigned int sz = 0;
	u64 trans_id;
	int r;

	if (pool->mode == PM_FAIL) {
		DMEMIT("Fail");
		return;
	}

	/*
	 * A commit even when nothing changed, as dm-thin's status does: it
	 * rewrites the superblock, so a status of an idle pool finds a failing
	 * metadata device (LVM's health check relies on it).
	 */
	if (!(status_flags & DM_STATUS_NOFLUSH_FLAG) && !dm_suspended(pc->ti))
		ctpool_commit(pool);

	r = thin_metadata_get_transaction_id(tmd, &trans_id);
	if (!r)
		r = thin_get_free_metadata_blocks(tmd, &free_meta);
	if (!r)
		r = thin_get_metadata_dev_size(tmd, &total_meta);
	if (!r)
		r = thin_get_unused_data_blocks(tmd, &free_data);
	if (!r)
		r = thin_get_data_dev_size(tmd, &total_data);
	if (!r)
		r = thin_metadata_get_held_root(tmd, &held);
	if (!r)
		r = thin_metadata_needs_check(tmd, &needs_check);
	if (r) {
		DMERR("%s: reading pool status failed: %d", name, r);
		DMEMIT("Error");
		return;
	}

	DMEMIT("%llu %llu/%llu %llu/%llu ", (unsigned long long)trans_id,
	       (unsigned long long)(total_meta - free_meta),
	       (unsigned long long)total_meta,
	       (unsigned long long)(total_data - free_data),
	       (unsigned long long)total_data);
	if (held)
		DMEMIT("%llu ", (unsigned long long)held);
	else
		DMEMIT("- ");

	if (pool->mode == PM_OUT_OF_DATA_SPACE)
		DMEMIT("out_of_data_space ");
	else if (!ctpool_metadata_writable(pool))
		DMEMIT("ro ");
	else
		DMEMIT("rw ");

	if (!pool->pf.discard_enabled)
		DMEMIT("ignore_discard ");
	else if (pool->pf.discard_passdown)
		DMEMIT("discard_passdown ");
	else
		DMEMIT("no_discard_passdown ");

	if (pool->pf.error_if_no_space)
		DMEMIT("error_if_no_space ");
	else
		DMEMIT("queue_if_no_space ");

	DMEMIT("%s ", needs_check ? "needs_check" : "-");
	DMEMIT("%llu ", (unsigned long long)metadata_threshold(pc));
}

static void pool_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct pool_c *pc = ti->private;
	char features[128];
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		emit_info(pc, status_flags, result, maxlen);
		break;
	case STATUSTYPE_TABLE:
		ctpool_format_pool_features(&pc->requested_pf, features,
					    sizeof(features));
		DMEMIT("%u:%u %u:%u %u %llu %s",
		       MAJOR(pc->metadata_dev->bdev->bd_dev),
		       MINOR(pc->metadata_dev->bdev->bd_dev),
		       MAJOR(pc->data_dev->bdev->bd_dev),
		       MINOR(pc->data_dev->bdev->bd_dev),
		       pc->pool->sectors_per_block,
		       (unsigned long long)pc->low_water_blocks, features);
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

/* ---- limits ---- */

static int pool_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct pool_c *pc = ti->private;

	return fn(ti, pc->data_dev, 0, ti->len, data);
}

static void check_passdown(struct pool_c *pc)
{
	struct block_device *data = pc->data_dev->bdev;
	const char *reason = NULL;

	if (!pc->adjusted_pf.discard_passdown)
		return;
	if (!bdev_max_discard_sectors(data))
		reason = "discard unsupported";
	else if (bdev_max_discard_sectors(data) < pc->pool->sectors_per_block)
		reason = "max discard sectors smaller than a block";
	if (reason) {
		DMWARN("Data device (%pg) %s: Disabling discard passdown.",
		       data, reason);
		pc->adjusted_pf.discard_passdown = false;
	}
}

static bool is_factor(sector_t block_size, u32 n)
{
	return n && !sector_div(block_size, n);
}

static void pool_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct pool_c *pc = ti->private;
	struct pool *pool = pc->pool;
	sector_t io_opt = limits->io_opt >> SECTOR_SHIFT;
	u32 bs = pool->sectors_per_block;

	/* Bios larger than a block are split; make max_sectors divide it. */
	if (limits->max_sectors < bs) {
		while (!is_factor(bs, limits->max_sectors)) {
			if (is_power_of_2(limits->max_sectors))
				limits->max_sectors--;
			limits->max_sectors =
				rounddown_pow_of_two(limits->max_sectors);
		}
	}

	if (io_opt < bs || !is_factor(io_opt, bs)) {
		if (is_factor(bs, limits->max_sectors))
			blk_limits_io_min(limits,
					  limits->max_sectors << SECTOR_SHIFT);
		else
			blk_limits_io_min(limits, bs << SECTOR_SHIFT);
		blk_limits_io_opt(limits, bs << SECTOR_SHIFT);
	}

	if (!pc->adjusted_pf.discard_enabled) {
		limits->discard_granularity = 0;
		return;
	}
	check_passdown(pc);
}

static struct target_type pool_target = {
	.version = { CTPOOL_VERSION_MAJOR, CTPOOL_VERSION_MINOR,
		     CTPOOL_VERSION_PATCH },
	.features = DM_TARGET_SINGLETON | DM_TARGET_ALWAYS_WRITEABLE |
		    DM_TARGET_IMMUTABLE,
	.module = THIS_MODULE,
	.ctr = pool_ctr,
	.dtr = pool_dtr,
	.map = pool_map,
	.presuspend = pool_presuspend,
	.presuspend_undo = pool_presuspend_undo,
	.postsuspend = pool_postsuspend,
	.preresume = pool_preresume,
	.resume = pool_resume,
	.message = pool_message,
	.status = pool_status,
	.iterate_devices = pool_iterate_devices,
	.io_hints = pool_io_hints,
};

int ctpool_pool_target_register(const char *name)
{
	pool_target.name = name;
	return dm_register_target(&pool_target);
}

void ctpool_pool_target_unregister(void)
{
	dm_unregister_target(&pool_target);
}
