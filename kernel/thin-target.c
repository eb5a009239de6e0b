// SPDX-License-Identifier: GPL-2.0-only
/*
 * The thin target: one thin device of a pool.
 *
 *   <start> <len> ctthin <pool dev> <dev id> [<external origin dev>]
 *
 * The map function finishes what it can without waiting for I/O: a read,
 * or a write to a block that is mapped and not shared, whose mapping is in
 * the metadata cache (it waits only for the metadata lock's short holds).
 * Everything else goes to the pool's worker.
 */
#include <linux/module.h>
#include <linux/blkdev.h>
#include <linux/device-mapper.h>

#include "ctpool.h"
#include "pool.h"

#define DM_MSG_PREFIX "ctthin"

static int thin_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	const char *error = NULL;
	struct thin_c *tc;
	struct pool *pool;
	u64 dev_id;
	int r;

	mutex_lock(&ctpool_table_lock);

	if (argc != 2 && argc != 3) {
		ti->error = "Invalid argument count";
		r = -EINVAL;
		goto out_unlock;
	}

	tc = kzalloc(sizeof(*tc), GFP_KERNEL);
	if (!tc) {
		ti->error = "Out of memory";
		r = -ENOMEM;
		goto out_unlock;
	}
	tc->ti = ti;
	tc->thin_md = dm_table_get_md(ti->table);
	INIT_LIST_HEAD(&tc->list);
	bio_list_init(&tc->deferred);
	bio_list_init(&tc->retry_on_resume);

	if (argc == 3) {
		if (!strcmp(argv[0], argv[2])) {
			error = "Error setting origin device";
			r = -EINVAL;
			goto bad;
		}
		r = dm_get_device(ti, argv[2], FMODE_READ, &tc->origin_dev);
		if (r) {
			error = "Error opening origin device";
			goto bad;
		}
	}

	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table),
			  &tc->pool_dev);
	if (r) {
		error = "Error opening pool device";
		goto bad;
	}

	if (ctpool_parse_dev_id(argv[1], &dev_id)) {
		error = "Invalid device id";
		r = -EINVAL;
		goto bad;
	}
	tc->dev_id = dev_id;

	tc->pool_md = dm_get_md(tc->pool_dev->bdev->bd_dev);
	if (!tc->pool_md) {
		error = "Couldn't get pool mapped device";
		r = -EINVAL;
		goto bad;
	}

	pool = ctpool_pool_find_by_md(tc->pool_md);
	if (!pool) {
		error = "Couldn't find pool object";
		r = -EINVAL;
		goto bad;
	}
	ctpool_pool_ref(pool);
	tc->pool = pool;

	if (pool->mode == PM_FAIL) {
		error = "Couldn't open thin device, Pool is in fail mode";
		r = -EINVAL;
		goto bad;
	}

	r = thin_open_device(pool->tmd, tc->dev_id, &tc->td);
	if (r) {
		tc->td = NULL;
		error = "Couldn't open thin internal device";
		goto bad;
	}

	r = dm_set_target_max_io_len(ti, pool->sectors_per_block);
	if (r) {
		error = "Couldn't set max_io_len";
		goto bad;
	}

	ti->num_flush_bios = 1;
	ti->flush_supported = true;
	ti->limit_swap_bios = true;
	ti->per_io_data_size = sizeof(struct thin_io);
	if (pool->pf.discard_enabled) {
		ti->discards_supported = true;
		ti->num_discard_bios = 1;
	}

	spin_lock_irq(&pool->lock);
	if (pool->suspended) {
		spin_unlock_irq(&pool->lock);
		error = "Unable to activate thin device while pool is suspended";
		r = -EINVAL;
		goto bad;
	}
	list_add_tail(&tc->list, &pool->thins);
	spin_unlock_irq(&pool->lock);

	ti->private = tc;
	mutex_unlock(&ctpool_table_lock);
	return 0;

bad:
	ti->error = (char *)error;
	if (tc->td)
		thin_close_device(tc->td);
	if (tc->pool)
		ctpool_pool_put(tc->pool);
	if (tc->pool_md)
		dm_put(tc->pool_md);
	if (tc->pool_dev)
		dm_put_device(ti, tc->pool_dev);
	if (tc->origin_dev)
		dm_put_device(ti, tc->origin_dev);
	kfree(tc);
out_unlock:
	mutex_unlock(&ctpool_table_lock);
	return r;
}

static void thin_dtr(struct dm_target *ti)
{
	struct thin_c *tc = ti->private;
	struct pool *pool = tc->pool;

	mutex_lock(&ctpool_table_lock);
	spin_lock_irq(&pool->lock);
	list_del(&tc->list);
	spin_unlock_irq(&pool->lock);

	thin_close_device(tc->td);
	ctpool_pool_put(pool);
	dm_put(tc->pool_md);
	dm_put_device(ti, tc->pool_dev);
	if (tc->origin_dev)
		dm_put_device(ti, tc->origin_dev);
	kfree(tc);
	mutex_unlock(&ctpool_table_lock);
}

static int thin_map(struct dm_target *ti, struct bio *bio)
{
	struct thin_c *tc = ti->private;
	struct pool *pool = tc->pool;
	struct thin_io *io = thin_io_of(bio);
	struct thin_lookup_result lr;
	thin_block_t vblock;
	sector_t sector;

	/* Our blocks count from the start of this target, not of the table. */
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	sector = bio->bi_iter.bi_sector;

	io->tc = tc;
	io->hold = NULL;
	io->discard_done = 0;

	if (tc->requeue_mode)
		return DM_MAPIO_REQUEUE;
	if (pool->mode == PM_FAIL)
		return DM_MAPIO_KILL;

	if (op_is_flush(bio->bi_opf) || bio_op(bio) == REQ_OP_DISCARD) {
		ctpool_defer_bio(pool, bio);
		return DM_MAPIO_SUBMITTED;
	}

	/* Reads reaching past the external origin's end are split there. */
	if (tc->origin_dev && !op_is_write(bio_op(bio)) &&
	    sector < tc->origin_size && bio_end_sector(bio) > tc->origin_size)
		dm_accept_partial_bio(bio, tc->origin_size - sector);

	vblock = ctpool_sector_to_block(pool, sector);
	io->hold = ct_cell_get(&pool->cells, tc->dev_id, vblock, vblock + 1,
			       false, NULL, GFP_NOWAIT);
	if (io->hold &&
	    !thin_find_block(tc->td, vblock, false, &lr) &&
	    (!op_is_write(bio_op(bio)) || !lr.shared)) {
		ctpool_remap(pool, bio, lr.block);
		return DM_MAPIO_REMAPPED;
	}

	ctpool_release_hold(pool, bio);
	ctpool_defer_bio(pool, bio);
	return DM_MAPIO_SUBMITTED;
}

static int thin_endio(struct dm_target *ti, struct bio *bio,
		      blk_status_t *err)
{
	struct thin_c *tc = ti->private;

	ctpool_release_hold(tc->pool, bio);
	return DM_ENDIO_DONE;
}

static void thin_presuspend(struct dm_target *ti)
{
	struct thin_c *tc = ti->private;

	/* Give queued bios back to dm core: it resubmits them on resume. */
	if (dm_noflush_suspending(ti)) {
		tc->requeue_mode = true;
		ctpool_requeue_thin(tc);
	}
}

static void thin_postsuspend(struct dm_target *ti)
{
	struct thin_c *tc = ti->private;

	tc->requeue_mode = false;
}

static int thin_preresume(struct dm_target *ti)
{
	struct thin_c *tc = ti->private;

	if (tc->origin_dev)
		tc->origin_size = bdev_nr_sectors(tc->origin_dev->bdev);
	return 0;
}

static void thin_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct thin_c *tc = ti->private;
	struct pool *pool = tc->pool;
	u32 bs = pool->sectors_per_block;
	thin_block_t mapped, highest;
	unsigned int sz = 0;
	int r;

	if (pool->mode == PM_FAIL) {
		DMEMIT("Fail");
		return;
	}
	if (!tc->td) {
		DMEMIT("-");
		return;
	}

	switch (type) {
	case STATUSTYPE_INFO:
		r = thin_get_mapped_count(tc->td, &mapped);
		if (r) {
			DMERR("thin_get_mapped_count returned %d", r);
			DMEMIT("Error");
			return;
		}
		DMEMIT("%llu ", (unsigned long long)mapped * bs);
		r = thin_get_highest_mapped(tc->td, &highest);
		if (r == -ENODATA) {
			DMEMIT("-");
		} else if (r) {
			DMERR("thin_get_highest_mapped returned %d", r);
			DMEMIT("Error");
		} else {
			DMEMIT("%llu",
			       (unsigned long long)(highest + 1) * bs - 1);
		}
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%u:%u %lu", MAJOR(tc->pool_dev->bdev->bd_dev),
		       MINOR(tc->pool_dev->bdev->bd_dev),
		       (unsigned long)tc->dev_id);
		if (tc->origin_dev)
			DMEMIT(" %u:%u", MAJOR(tc->origin_dev->bdev->bd_dev),
			       MINOR(tc->origin_dev->bdev->bd_dev));
		break;
	case STATUSTYPE_IMA:
		*result = '\0';
		break;
	}
}

static int thin_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct thin_c *tc = ti->private;
	struct pool *pool = tc->pool;
	sector_t blocks;

	if (!pool->ti)
		return 0;	/* nothing is bound */
	blocks = pool->ti->len;
	sector_div(blocks, pool->sectors_per_block);
	if (!blocks)
		return 0;
	return fn(ti, tc->pool_dev, 0, blocks * pool->sectors_per_block, data);
}

static void thin_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct thin_c *tc = ti->private;
	struct pool *pool = tc->pool;

	if (!pool->pf.discard_enabled)
		return;
	limits->discard_granularity = pool->sectors_per_block << SECTOR_SHIFT;
	limits->max_discard_sectors = 2048 * 1024 * 16; /* 16 GiB */
}

static struct target_type thin_target = {
	.version = { CTPOOL_VERSION_MAJOR, CTPOOL_VERSION_MINOR,
		     CTPOOL_VERSION_PATCH },
	.module = THIS_MODULE,
	.ctr = thin_ctr,
	.dtr = thin_dtr,
	.map = thin_map,
	.end_io = thin_endio,
	.presuspend = thin_presuspend,
	.postsuspend = thin_postsuspend,
	.preresume = thin_preresume,
	.status = thin_status,
	.iterate_devices = thin_iterate_devices,
	.io_hints = thin_io_hints,
};

int ctpool_thin_target_register(const char *name)
{
	thin_target.name = name;
	return dm_register_target(&thin_target);
}

void ctpool_thin_target_unregister(void)
{
	dm_unregister_target(&thin_target);
}
