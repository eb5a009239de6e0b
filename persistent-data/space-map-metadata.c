// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metadata space map: counts for every block of the metadata device,
 * stored in that same device. Its bitmaps are found through one index block
 * (up to 255 bitmaps), kept in core and written by shadowing at commit.
 *
 * Recursion: changing a bitmap or the ref-count tree shadows blocks, and the
 * transaction manager then calls back here to allocate the copy and to drop
 * the original. Such nested calls are not applied at once; they are queued
 * in a bounded ring and applied, one block at a time, when the outermost
 * call returns. Lookups add what is still queued, and the allocator skips
 * queued allocations, so nested callers see consistent counts.
 *
 * Bootstrap: before the bitmaps exist (create), and while growing (extend),
 * blocks are handed out linearly from a cursor and the increments are
 * queued; once the structures exist the queue is applied, which may hand out
 * more blocks, until it settles.
 */
#include "space-map-metadata.h"
#include "space-map-common.h"

#define RING_SIZE 1024
/* A drain applies one block per step; far more than any real cascade. */
#define DRAIN_STEP_LIMIT (1UL << 22)

struct pending_op {
	int delta;		/* +1 or -1 */
	pd_block_t begin;	/* [begin, end) still to apply */
	pd_block_t end;
};

struct sm_metadata {
	struct pd_space_map sm;
	struct pd_transaction_manager *tm;
	struct pd_sm_ll ll;
	struct pd_sm_ll old;		/* as of the last commit */
	struct disk_index_entry index[MAX_METADATA_BITMAPS];
	struct disk_index_entry old_index[MAX_METADATA_BITMAPS];

	bool bootstrap;
	bool ll_ready;			/* bitmaps and ref-count tree exist */
	pd_block_t cursor;		/* where allocation searches start */
	pd_block_t boot_limit;		/* bootstrap allocations stop here */

	unsigned int depth;		/* > 0 while changing the ll */
	unsigned int ring_head;
	unsigned int ring_count;
	struct pending_op ring[RING_SIZE];

	struct pd_sm_threshold threshold;
};

static struct sm_metadata *to_smm(struct pd_space_map *sm)
{
	return container_of(sm, struct sm_metadata, sm);
}

/* ---- the in-core index ---- */

static int index_get(struct disk_index_entry *array, u64 index,
		     struct pd_sm_index_entry *ie)
{
	if (index >= MAX_METADATA_BITMAPS)
		return -EINVAL;
	pd_sm_index_entry_unpack(&array[index], ie);
	return 0;
}

static int cur_load(struct pd_sm_ll *ll, u64 index,
		    struct pd_sm_index_entry *ie)
{
	struct sm_metadata *smm = ll->context;

	return index_get(smm->index, index, ie);
}

static int cur_save(struct pd_sm_ll *ll, u64 index,
		    const struct pd_sm_index_entry *ie)
{
	struct sm_metadata *smm = ll->context;

	if (index >= MAX_METADATA_BITMAPS)
		return -EINVAL;
	pd_sm_index_entry_pack(ie, &smm->index[index]);
	return 0;
}

static int old_load(struct pd_sm_ll *ll, u64 index,
		    struct pd_sm_index_entry *ie)
{
	struct sm_metadata *smm = ll->context;

	return index_get(smm->old_index, index, ie);
}

static const struct pd_sm_index_ops cur_index_ops = {
	.load = cur_load,
	.save = cur_save,
};

static const struct pd_sm_index_ops old_index_ops = {
	.load = old_load,
	.save = pd_sm_index_save_read_only,
};

static void ll_setup(struct sm_metadata *smm, struct pd_transaction_manager *tm)
{
	smm->tm = tm;
	pd_sm_ll_init(&smm->ll, tm, &cur_index_ops, smm);
	pd_sm_ll_init(&smm->old, tm, &old_index_ops, smm);
	smm->ll.max_bitmaps = MAX_METADATA_BITMAPS;
	smm->ll.committed = &smm->old;
}

/* ---- the ring of pending operations ---- */

static struct pending_op *ring_at(struct sm_metadata *smm, unsigned int i)
{
	return &smm->ring[(smm->ring_head + i) % RING_SIZE];
}

static int ring_push(struct sm_metadata *smm, int delta, pd_block_t begin,
		     pd_block_t end)
{
	struct pending_op *op;

	if (begin >= end)
		return 0;
	if (smm->ring_count == RING_SIZE) {
		pr_err("metadata space map: too many nested operations\n");
		return -ENOMEM;
	}

	op = ring_at(smm, smm->ring_count++);
	op->delta = delta;
	op->begin = begin;
	op->end = end;
	return 0;
}

/* The net change the queue will make to b's count. */
static int pending_delta(struct sm_metadata *smm, pd_block_t b)
{
	struct pending_op *op;
	unsigned int i;
	int delta = 0;

	for (i = 0; i < smm->ring_count; i++) {
		op = ring_at(smm, i);
		if (b >= op->begin && b < op->end)
			delta += op->delta;
	}
	return delta;
}

static bool pending_alloc(struct sm_metadata *smm, pd_block_t b)
{
	struct pending_op *op;
	unsigned int i;

	for (i = 0; i < smm->ring_count; i++) {
		op = ring_at(smm, i);
		if (op->delta > 0 && b >= op->begin && b < op->end)
			return true;
	}
	return false;
}

/*
 * Apply the head op's first block. It stays queued while it is applied, so
 * that nested lookups still count it and nested allocations skip it.
 */
static int apply_one(struct sm_metadata *smm)
{
	struct pending_op *op = ring_at(smm, 0);
	pd_block_t b = op->begin;
	int r;

	smm->depth++;
	if (op->delta > 0)
		r = pd_sm_ll_inc(&smm->ll, b, b + 1);
	else
		r = pd_sm_ll_dec(&smm->ll, b, b + 1);
	smm->depth--;
	if (r)
		return r;

	/* Nested pushes only append: the head is where it was. */
	op = ring_at(smm, 0);
	if (++op->begin == op->end) {
		smm->ring_head = (smm->ring_head + 1) % RING_SIZE;
		smm->ring_count--;
	}
	return 0;
}

static int drain(struct sm_metadata *smm)
{
	unsigned long steps = 0;
	int r;

	while (smm->ring_count) {
		if (++steps > DRAIN_STEP_LIMIT) {
			pr_err("metadata space map: nested operations do not settle\n");
			return -ELOOP;
		}
		r = apply_one(smm);
		if (r)
			return r;
	}
	return 0;
}

/* ---- allocation ---- */

static pd_block_t nr_free_now(struct sm_metadata *smm)
{
	if (!smm->ll_ready)
		return smm->boot_limit > smm->cursor ?
			smm->boot_limit - smm->cursor : 0;
	return pd_sm_ll_nr_free(&smm->ll);
}

static void check_threshold(struct sm_metadata *smm)
{
	if (!smm->bootstrap)
		pd_sm_threshold_check(&smm->threshold, nr_free_now(smm));
}

static int bootstrap_alloc(struct sm_metadata *smm, pd_block_t *b)
{
	if (smm->cursor >= smm->boot_limit) {
		pr_err("metadata space map: out of space while bootstrapping\n");
		return -ENOSPC;
	}
	*b = smm->cursor++;
	return 0;
}

/* A free block of [begin, end) not already promised to a queued inc. */
static int search_free(struct sm_metadata *smm, pd_block_t begin,
		       pd_block_t end, pd_block_t *b)
{
	int r;

	while (begin < end) {
		r = pd_sm_ll_find_free(&smm->ll, begin, end, b);
		if (r)
			return r;
		if (!pending_alloc(smm, *b))
			return 0;
		begin = *b + 1;
	}
	return -ENOSPC;
}

static int find_free(struct sm_metadata *smm, pd_block_t *b)
{
	int r;

	r = search_free(smm, smm->cursor, smm->ll.nr_blocks, b);
	if (r == -ENOSPC)
		r = search_free(smm, 0, smm->cursor, b);
	return r;
}

/* ---- the operations ---- */

static int sm_metadata_new_block(struct pd_space_map *sm, pd_block_t *b)
{
	struct sm_metadata *smm = to_smm(sm);
	int r;

	if (smm->bootstrap)
		return bootstrap_alloc(smm, b);

	r = find_free(smm, b);
	if (r)
		return r;

	r = ring_push(smm, 1, *b, *b + 1);
	if (r)
		return r;
	smm->cursor = *b + 1;

	if (smm->depth)
		return 0;
	r = drain(smm);
	check_threshold(smm);
	return r;
}

static int change_range(struct sm_metadata *smm, pd_block_t begin,
			pd_block_t end, int delta)
{
	int r;

	/* Checked now: a queued op failing later would blame its host. */
	if (begin > end || (smm->ll_ready && end > smm->ll.nr_blocks)) {
		pr_err("metadata space map: range [%llu, %llu) outside %llu blocks\n",
		       (unsigned long long)begin, (unsigned long long)end,
		       (unsigned long long)smm->ll.nr_blocks);
		return -EINVAL;
	}
	if (smm->bootstrap || smm->depth)
		return ring_push(smm, delta, begin, end);

	smm->depth++;
	if (delta > 0)
		r = pd_sm_ll_inc(&smm->ll, begin, end);
	else
		r = pd_sm_ll_dec(&smm->ll, begin, end);
	smm->depth--;

	if (!r)
		r = drain(smm);
	check_threshold(smm);
	return r;
}

static int sm_metadata_inc_blocks(struct pd_space_map *sm, pd_block_t begin,
				  pd_block_t end)
{
	return change_range(to_smm(sm), begin, end, 1);
}

static int sm_metadata_dec_blocks(struct pd_space_map *sm, pd_block_t begin,
				  pd_block_t end)
{
	return change_range(to_smm(sm), begin, end, -1);
}

static int sm_metadata_get_count(struct pd_space_map *sm, pd_block_t b,
				 u32 *result)
{
	struct sm_metadata *smm = to_smm(sm);
	s64 count;
	u32 stored = b < smm->cursor;
	int r;

	if (smm->ll_ready) {
		r = pd_sm_ll_lookup(&smm->ll, b, &stored);
		if (r)
			return r;
	}

	count = (s64)stored + pending_delta(smm, b);
	if (count < 0) {
		pr_err("metadata space map: block %llu would drop below 0\n",
		       (unsigned long long)b);
		return -EINVAL;
	}
	*result = count;
	return 0;
}

static int sm_metadata_set_count(struct pd_space_map *sm, pd_block_t b,
				 u32 count)
{
	struct sm_metadata *smm = to_smm(sm);
	int r;

	/* Nothing nested ever sets a count; refuse rather than queue. */
	if (smm->bootstrap || smm->depth)
		return -EINVAL;

	smm->depth++;
	r = pd_sm_ll_set(&smm->ll, b, count);
	smm->depth--;
	if (!r)
		r = drain(smm);
	check_threshold(smm);
	return r;
}

static int sm_metadata_get_nr_blocks(struct pd_space_map *sm,
				     pd_block_t *count)
{
	struct sm_metadata *smm = to_smm(sm);

	*count = smm->ll_ready ? smm->ll.nr_blocks : smm->boot_limit;
	return 0;
}

static int sm_metadata_get_nr_free(struct pd_space_map *sm, pd_block_t *count)
{
	*count = nr_free_now(to_smm(sm));
	return 0;
}

/* ---- commit ---- */

/*
 * Write the in-core index to a shadow of the index block. The shadow's own
 * allocation and the release of the old block are applied before it returns
 * (we are not nested), so the array copied in is final.
 */
static int write_index(struct sm_metadata *smm)
{
	struct disk_metadata_index *mi;
	struct pd_block *blk;
	int inc_children, r;

	if (!memcmp(smm->index, smm->old_index, sizeof(smm->index)) &&
	    smm->ll.bitmap_root == smm->old.bitmap_root)
		return 0;

	r = pd_tm_shadow_block(smm->tm, smm->ll.bitmap_root,
			       &pd_sm_index_validator, &blk, &inc_children);
	if (r)
		return r;

	smm->ll.bitmap_root = pd_block_location(blk);
	mi = pd_block_data(blk);
	mi->padding = 0;
	memcpy(mi->index, smm->index, sizeof(mi->index));
	pd_tm_unlock(smm->tm, blk);
	return 0;
}

static int sm_metadata_commit(struct pd_space_map *sm)
{
	struct sm_metadata *smm = to_smm(sm);
	int r;

	if (smm->bootstrap || smm->depth || smm->ring_count) {
		pr_err("metadata space map: commit while busy\n");
		return -EINVAL;
	}

	r = write_index(smm);
	if (r)
		return r;

	memcpy(smm->old_index, smm->index, sizeof(smm->index));
	pd_sm_ll_snapshot(&smm->ll, &smm->old);
	check_threshold(smm);
	return 0;
}

/* ---- growing ---- */

/*
 * Count the blocks handed out linearly from done on, until that needs no
 * further block.
 */
static int bootstrap_settle(struct sm_metadata *smm, pd_block_t done)
{
	pd_block_t end;
	int r;

	while (done < smm->cursor) {
		end = smm->cursor;
		r = ring_push(smm, 1, done, end);
		if (!r)
			r = drain(smm);
		if (r)
			return r;
		done = end;
	}
	return 0;
}

static int sm_metadata_extend(struct pd_space_map *sm, pd_block_t extra)
{
	struct sm_metadata *smm = to_smm(sm);
	pd_block_t old_nr = smm->ll.nr_blocks;
	pd_block_t new_nr = old_nr + extra;
	int r;

	if (smm->bootstrap || smm->depth || !smm->ll_ready)
		return -EINVAL;
	if (new_nr < old_nr || new_nr > PD_METADATA_MAX_BLOCKS)
		new_nr = PD_METADATA_MAX_BLOCKS;
	if (new_nr <= old_nr)
		return 0;

	/* New bitmaps go in the new area, which is entirely free. */
	smm->bootstrap = true;
	smm->cursor = old_nr;
	smm->boot_limit = new_nr;

	r = pd_sm_ll_extend(&smm->ll, new_nr - old_nr);
	if (!r)
		r = bootstrap_settle(smm, old_nr);

	smm->bootstrap = false;
	check_threshold(smm);
	return r;
}

/* ---- roots, threshold, destroy ---- */

static int sm_metadata_root_size(struct pd_space_map *sm, size_t *result)
{
	*result = sizeof(struct disk_sm_root);
	return 0;
}

static int sm_metadata_copy_root(struct pd_space_map *sm, void *where,
				 size_t max)
{
	return pd_sm_ll_copy_root(&to_smm(sm)->ll, where, max);
}

static int sm_metadata_register_threshold(struct pd_space_map *sm,
					  pd_block_t threshold,
					  pd_sm_threshold_fn fn, void *context)
{
	struct sm_metadata *smm = to_smm(sm);

	pd_sm_threshold_set(&smm->threshold, threshold, fn, context,
			    nr_free_now(smm));
	return 0;
}

static void sm_metadata_destroy(struct pd_space_map *sm)
{
	kvfree(to_smm(sm));
}

static const struct pd_space_map_ops sm_metadata_ops = {
	.destroy = sm_metadata_destroy,
	.extend = sm_metadata_extend,
	.get_nr_blocks = sm_metadata_get_nr_blocks,
	.get_nr_free = sm_metadata_get_nr_free,
	.get_count = sm_metadata_get_count,
	.count_is_more_than_one = pd_sm_count_is_more_than_one_by_count,
	.set_count = sm_metadata_set_count,
	.commit = sm_metadata_commit,
	.inc_blocks = sm_metadata_inc_blocks,
	.dec_blocks = sm_metadata_dec_blocks,
	.new_block = sm_metadata_new_block,
	.root_size = sm_metadata_root_size,
	.copy_root = sm_metadata_copy_root,
	.register_threshold = sm_metadata_register_threshold,
};

/* ---- construction ---- */

struct pd_space_map *pd_sm_metadata_init(void)
{
	struct sm_metadata *smm = kvzalloc(sizeof(*smm), GFP_KERNEL);

	if (!smm)
		return ERR_PTR(-ENOMEM);

	smm->sm.ops = &sm_metadata_ops;
	smm->bootstrap = true;
	return &smm->sm;
}

static int new_index_block(struct sm_metadata *smm)
{
	struct pd_block *blk;
	int r;

	r = pd_tm_new_block(smm->tm, &pd_sm_index_validator, &blk);
	if (r)
		return r;

	memset(pd_block_data(blk), 0, PD_BLOCK_SIZE);
	smm->ll.bitmap_root = pd_block_location(blk);
	pd_tm_unlock(smm->tm, blk);
	return 0;
}

int pd_sm_metadata_create(struct pd_space_map *sm,
			  struct pd_transaction_manager *tm,
			  pd_block_t nr_blocks, pd_block_t superblock)
{
	struct sm_metadata *smm = to_smm(sm);
	int r;

	if (nr_blocks > PD_METADATA_MAX_BLOCKS)
		nr_blocks = PD_METADATA_MAX_BLOCKS;
	if (superblock >= nr_blocks)
		return -EINVAL;

	ll_setup(smm, tm);
	smm->bootstrap = true;
	smm->cursor = superblock + 1;
	smm->boot_limit = nr_blocks;

	/* Fixed order: index block, ref-count root, then the bitmaps. */
	r = new_index_block(smm);
	if (!r)
		r = pd_btree_empty(&smm->ll.ref_info, &smm->ll.ref_count_root);
	if (!r)
		r = pd_sm_ll_extend(&smm->ll, nr_blocks);
	if (r)
		return r;

	smm->ll_ready = true;
	r = bootstrap_settle(smm, 0);
	smm->bootstrap = false;

	/*
	 * No commit here: the committed state stays empty until the
	 * transaction manager's first commit writes the index block.
	 */
	return r;
}

static int check_root(struct sm_metadata *smm)
{
	pd_block_t dev_blocks = pd_bm_nr_blocks(pd_tm_get_bm(smm->tm));
	struct pd_sm_ll *ll = &smm->ll;

	if (ll->nr_blocks > PD_METADATA_MAX_BLOCKS ||
	    ll->nr_blocks > dev_blocks || !ll->bitmap_root ||
	    ll->bitmap_root >= dev_blocks || !ll->ref_count_root ||
	    ll->ref_count_root >= dev_blocks) {
		pr_err("metadata space map: bad root: %llu blocks (device %llu), index %llu, ref-count root %llu\n",
		       (unsigned long long)ll->nr_blocks,
		       (unsigned long long)dev_blocks,
		       (unsigned long long)ll->bitmap_root,
		       (unsigned long long)ll->ref_count_root);
		return -EILSEQ;
	}
	return 0;
}

/*
 * Recount one bitmap: thin_restore 0.9 leaves the hints and the root's
 * nr_allocated one off for a block it frees last, and there are at most 255
 * bitmaps to read.
 */
static int recount_bitmap(struct sm_metadata *smm, u64 index,
			  pd_block_t *nr_used)
{
	struct pd_sm_index_entry ie;
	struct pd_block *blk;
	u32 span;
	int r;

	r = pd_sm_ll_load_index(&smm->ll, index, &ie);
	if (r)
		return r;

	r = pd_tm_read_lock(smm->tm, ie.blocknr, &pd_sm_bitmap_validator, &blk);
	if (r)
		return r;

	span = min_t(pd_block_t, PD_SM_ENTRIES_PER_BITMAP,
		     smm->ll.nr_blocks - index * PD_SM_ENTRIES_PER_BITMAP);
	pd_sm_bitmap_count_free(pd_block_data(blk), span, &ie.nr_free,
				&ie.none_free_before);
	pd_tm_unlock(smm->tm, blk);

	*nr_used += span - ie.nr_free;
	pd_sm_index_entry_pack(&ie, &smm->index[index]);
	return 0;
}

static int read_index(struct sm_metadata *smm)
{
	const struct disk_metadata_index *mi;
	struct pd_block *blk;
	pd_block_t nr_used = 0;
	u64 i;
	int r;

	r = pd_tm_read_lock(smm->tm, smm->ll.bitmap_root,
			    &pd_sm_index_validator, &blk);
	if (r)
		return r;

	mi = pd_block_data(blk);
	memcpy(smm->index, mi->index, sizeof(smm->index));
	pd_tm_unlock(smm->tm, blk);

	for (i = 0; i < pd_sm_nr_bitmaps(smm->ll.nr_blocks); i++) {
		r = recount_bitmap(smm, i, &nr_used);
		if (r)
			return r;
	}
	smm->ll.nr_allocated = nr_used;
	return 0;
}

int pd_sm_metadata_open(struct pd_space_map *sm,
			struct pd_transaction_manager *tm,
			const void *root, size_t len)
{
	struct sm_metadata *smm = to_smm(sm);
	int r;

	ll_setup(smm, tm);
	r = pd_sm_ll_read_root(&smm->ll, root, len);
	if (!r)
		r = check_root(smm);
	if (!r)
		r = read_index(smm);
	if (r)
		return r;

	memcpy(smm->old_index, smm->index, sizeof(smm->index));
	pd_sm_ll_snapshot(&smm->ll, &smm->old);
	smm->ll_ready = true;
	smm->bootstrap = false;
	smm->cursor = 0;
	return 0;
}
