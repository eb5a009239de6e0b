// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cells: the range lock of a pool (see cell.h). Each bucket has a spinlock
 * and an rbtree of non-overlapping ranges ordered by (device, begin); a
 * (device, region) pair always maps to the same bucket.
 */
#include <linux/slab.h>
#include <linux/hash.h>

#include "cell.h"

#define MIN_CELLS 1024

struct ct_cell {
	struct rb_node node;
	struct ct_cell_bucket *bucket;
	u64 dev;
	u64 begin;
	u64 end;
	unsigned int holders;
	bool exclusive;
	bool writer_waiting;	/* an exclusive request is parked here */
	struct bio_list waiters;
};

static struct kmem_cache *cell_cache;
static DEFINE_MUTEX(cell_cache_lock);
static unsigned int cell_cache_users;

int ct_cells_init(struct ct_cells *cells,
		  void (*wake)(void *context, struct bio_list *bios),
		  void *context)
{
	int i, r;

	mutex_lock(&cell_cache_lock);
	if (!cell_cache) {
		cell_cache = KMEM_CACHE(ct_cell, 0);
		if (!cell_cache) {
			mutex_unlock(&cell_cache_lock);
			return -ENOMEM;
		}
	}
	cell_cache_users++;
	mutex_unlock(&cell_cache_lock);

	r = mempool_init_slab_pool(&cells->pool, MIN_CELLS, cell_cache);
	if (r) {
		ct_cells_exit(cells);
		return r;
	}
	for (i = 0; i < ARRAY_SIZE(cells->buckets); i++) {
		spin_lock_init(&cells->buckets[i].lock);
		cells->buckets[i].root = RB_ROOT;
	}
	cells->wake = wake;
	cells->context = context;
	return 0;
}

void ct_cells_exit(struct ct_cells *cells)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cells->buckets); i++)
		WARN_ON(!RB_EMPTY_ROOT(&cells->buckets[i].root));
	mempool_exit(&cells->pool);

	mutex_lock(&cell_cache_lock);
	if (!--cell_cache_users) {
		kmem_cache_destroy(cell_cache);
		cell_cache = NULL;
	}
	mutex_unlock(&cell_cache_lock);
}

static bool key_before(u64 dev_a, u64 block_a, u64 dev_b, u64 block_b)
{
	return dev_a < dev_b || (dev_a == dev_b && block_a < block_b);
}

/*
 * The first cell of dev overlapping [begin, end), or NULL. *link and
 * *parent receive the insertion point for a cell starting at begin.
 */
static struct ct_cell *find_overlap(struct ct_cell_bucket *bucket, u64 dev,
				    u64 begin, u64 end,
				    struct rb_node ***link,
				    struct rb_node **parent)
{
	struct rb_node **p = &bucket->root.rb_node, *prev = NULL;
	struct ct_cell *below = NULL;	/* last cell starting <= begin */
	struct ct_cell *above = NULL;	/* first cell starting > begin */

	while (*p) {
		struct ct_cell *c = rb_entry(*p, struct ct_cell, node);

		prev = *p;
		if (key_before(dev, begin, c->dev, c->begin)) {
			above = c;
			p = &(*p)->rb_left;
		} else {
			below = c;
			p = &(*p)->rb_right;
		}
	}
	*link = p;
	*parent = prev;

	if (below && below->dev == dev && below->end > begin)
		return below;
	if (above && above->dev == dev && above->begin < end)
		return above;
	return NULL;
}

static void park(struct ct_cell *c, struct bio *waiter, bool exclusive)
{
	if (!waiter)
		return;
	bio_list_add(&c->waiters, waiter);
	if (exclusive)
		c->writer_waiting = true;
}

static struct ct_cell_bucket *bucket_of(struct ct_cells *cells, u64 dev,
					u64 block)
{
	u64 key = (dev << 40) ^ (block >> CT_CELL_REGION_SHIFT);

	return &cells->buckets[hash_64(key, CT_CELL_BUCKET_BITS)];
}

struct ct_cell *ct_cell_get(struct ct_cells *cells, u64 dev, u64 begin,
			    u64 end, bool exclusive, struct bio *waiter,
			    gfp_t gfp)
{
	struct ct_cell_bucket *bucket = bucket_of(cells, dev, begin);
	struct rb_node **link, *parent;
	struct ct_cell *c, *fresh;
	unsigned long flags;

	if (WARN_ON_ONCE(end > ct_cell_region_end(begin)))
		end = ct_cell_region_end(begin);

	/* Allocate outside the lock; mempool_alloc may sleep with GFP_NOIO. */
	fresh = mempool_alloc(&cells->pool, gfp);
	if (!fresh)
		return NULL;

	spin_lock_irqsave(&bucket->lock, flags);
	c = find_overlap(bucket, dev, begin, end, &link, &parent);
	if (c) {
		if (!exclusive && !c->exclusive && !c->writer_waiting &&
		    c->begin == begin && c->end == end) {
			c->holders++;
		} else {
			park(c, waiter, exclusive);
			c = NULL;
		}
		spin_unlock_irqrestore(&bucket->lock, flags);
		mempool_free(fresh, &cells->pool);
		return c;
	}

	c = fresh;
	c->bucket = bucket;
	c->dev = dev;
	c->begin = begin;
	c->end = end;
	c->holders = 1;
	c->exclusive = exclusive;
	c->writer_waiting = false;
	bio_list_init(&c->waiters);
	rb_link_node(&c->node, parent, link);
	rb_insert_color(&c->node, &bucket->root);
	spin_unlock_irqrestore(&bucket->lock, flags);
	return c;
}

/* Called with the lock held; returns true if the cell is to be freed. */
static bool drop_hold(struct ct_cell *c, struct bio_list *woken)
{
	if (--c->holders)
		return false;
	rb_erase(&c->node, &c->bucket->root);
	bio_list_merge(woken, &c->waiters);
	return true;
}

bool ct_cell_upgrade(struct ct_cells *cells, struct ct_cell *c,
		     struct bio *waiter)
{
	unsigned long flags;

	spin_lock_irqsave(&c->bucket->lock, flags);
	if (c->holders == 1) {
		c->exclusive = true;
		spin_unlock_irqrestore(&c->bucket->lock, flags);
		return true;
	}
	/* Others hold it, so dropping ours cannot free it. */
	c->holders--;
	park(c, waiter, true);
	spin_unlock_irqrestore(&c->bucket->lock, flags);
	return false;
}

void ct_cell_put(struct ct_cells *cells, struct ct_cell *c)
{
	struct ct_cell_bucket *bucket = c->bucket;
	struct bio_list woken = BIO_EMPTY_LIST;
	unsigned long flags;
	bool freed;

	spin_lock_irqsave(&bucket->lock, flags);
	freed = drop_hold(c, &woken);
	spin_unlock_irqrestore(&bucket->lock, flags);

	if (!freed)
		return;
	mempool_free(c, &cells->pool);
	if (!bio_list_empty(&woken))
		cells->wake(cells->context, &woken);
}
