// SPDX-License-Identifier: GPL-2.0-only
/*
 * The disk (data) space map: counts for every block of the data device,
 * stored in the metadata device. Bitmaps are found through a btree keyed by
 * bitmap number whose values are 16-byte disk_index_entry structures.
 *
 * Index entries change with every count change, so a small write-back cache
 * sits in front of the index btree; dirty entries reach the btree when
 * evicted and at commit. The committed state is read from the committed
 * index btree, which copy-on-write leaves untouched, through a read-only
 * cache of its own, emptied at commit.
 */
#include "space-map-disk.h"
#include "space-map-common.h"

#define IE_CACHE_SIZE 64
/* Mappings hold 40-bit data block numbers: a bigger map is corrupt. */
#define PD_SM_DISK_MAX_BLOCKS (1ULL << 40)

struct ie_slot {
	u64 index;
	struct pd_sm_index_entry ie;
	bool valid;
	bool dirty;
};

struct sm_disk {
	struct pd_space_map sm;
	struct pd_transaction_manager *tm;
	struct pd_btree_info index_info;
	struct pd_sm_ll ll;
	struct pd_sm_ll old;		/* as of the last commit */
	struct ie_slot cache[IE_CACHE_SIZE];
	struct ie_slot old_cache[IE_CACHE_SIZE];	/* committed, read only */
	pd_block_t cursor;		/* where allocation searches start */
	struct pd_sm_threshold threshold;
};

static struct sm_disk *to_smd(struct pd_space_map *sm)
{
	return container_of(sm, struct sm_disk, sm);
}

/* ---- index entries ---- */

static int index_lookup(struct sm_disk *smd, pd_block_t root, u64 index,
			struct pd_sm_index_entry *ie)
{
	struct disk_index_entry d;
	int r;

	r = pd_btree_lookup(&smd->index_info, root, &index, &d);
	if (r == -ENODATA) {
		pr_err("data space map: no index entry for bitmap %llu\n",
		       (unsigned long long)index);
		return -EILSEQ;
	}
	if (r)
		return r;

	pd_sm_index_entry_unpack(&d, ie);
	return 0;
}

static int slot_write_back(struct sm_disk *smd, struct ie_slot *slot)
{
	struct disk_index_entry d;
	int r;

	if (!slot->valid || !slot->dirty)
		return 0;

	pd_sm_index_entry_pack(&slot->ie, &d);
	r = pd_btree_insert(&smd->index_info, smd->ll.bitmap_root, &slot->index,
			    &d, &smd->ll.bitmap_root, NULL);
	if (!r)
		slot->dirty = false;
	return r;
}

/* The slot for index, emptied of any other entry. */
static int slot_claim(struct sm_disk *smd, u64 index, struct ie_slot **result)
{
	struct ie_slot *slot = &smd->cache[index % IE_CACHE_SIZE];
	int r;

	if (slot->valid && slot->index != index) {
		r = slot_write_back(smd, slot);
		if (r)
			return r;
		slot->valid = false;
	}
	*result = slot;
	return 0;
}

static int cur_load(struct pd_sm_ll *ll, u64 index,
		    struct pd_sm_index_entry *ie)
{
	struct sm_disk *smd = ll->context;
	struct ie_slot *slot;
	int r;

	r = slot_claim(smd, index, &slot);
	if (r)
		return r;

	if (!slot->valid) {
		r = index_lookup(smd, ll->bitmap_root, index, &slot->ie);
		if (r)
			return r;
		slot->index = index;
		slot->valid = true;
		slot->dirty = false;
	}
	*ie = slot->ie;
	return 0;
}

static int cur_save(struct pd_sm_ll *ll, u64 index,
		    const struct pd_sm_index_entry *ie)
{
	struct sm_disk *smd = ll->context;
	struct ie_slot *slot;
	int r;

	r = slot_claim(smd, index, &slot);
	if (r)
		return r;

	slot->index = index;
	slot->ie = *ie;
	slot->valid = true;
	slot->dirty = true;
	return 0;
}

static int flush_cache(struct sm_disk *smd)
{
	unsigned int i;
	int r;

	for (i = 0; i < IE_CACHE_SIZE; i++) {
		r = slot_write_back(smd, &smd->cache[i]);
		if (r)
			return r;
	}
	return 0;
}

/* A new committed state: what was cached of the last one is stale. */
static void forget_committed(struct sm_disk *smd)
{
	unsigned int i;

	for (i = 0; i < IE_CACHE_SIZE; i++)
		smd->old_cache[i].valid = false;
}

static int old_load(struct pd_sm_ll *ll, u64 index,
		    struct pd_sm_index_entry *ie)
{
	struct sm_disk *smd = ll->context;
	struct ie_slot *slot = &smd->old_cache[index % IE_CACHE_SIZE];
	int r;

	if (!slot->valid || slot->index != index) {
		r = index_lookup(smd, ll->bitmap_root, index, &slot->ie);
		if (r)
			return r;
		slot->index = index;
		slot->valid = true;
	}
	*ie = slot->ie;
	return 0;
}

static const struct pd_sm_index_ops cur_index_ops = {
	.load = cur_load,
	.save = cur_save,
};

static const struct pd_sm_index_ops old_index_ops = {
	.load = old_load,
	.save = pd_sm_index_save_read_only,
};

/* ---- the operations ---- */

static void check_threshold(struct sm_disk *smd)
{
	pd_sm_threshold_check(&smd->threshold, pd_sm_ll_nr_free(&smd->ll));
}

/* After any change of counts, whether it failed or not: returns r. */
static int after_change(struct sm_disk *smd, int r)
{
	check_threshold(smd);
	return r;
}

static int sm_disk_new_block(struct pd_space_map *sm, pd_block_t *b)
{
	struct sm_disk *smd = to_smd(sm);
	int r;

	r = pd_sm_ll_find_free(&smd->ll, smd->cursor, smd->ll.nr_blocks, b);
	if (r == -ENOSPC)
		r = pd_sm_ll_find_free(&smd->ll, 0, smd->cursor, b);
	if (r)
		return r;

	r = pd_sm_ll_inc(&smd->ll, *b, *b + 1);
	if (r)
		return r;

	smd->cursor = *b + 1;
	check_threshold(smd);
	return 0;
}

static int sm_disk_inc_blocks(struct pd_space_map *sm, pd_block_t begin,
			      pd_block_t end)
{
	struct sm_disk *smd = to_smd(sm);

	return after_change(smd, pd_sm_ll_inc(&smd->ll, begin, end));
}

static int sm_disk_dec_blocks(struct pd_space_map *sm, pd_block_t begin,
			      pd_block_t end)
{
	struct sm_disk *smd = to_smd(sm);

	return after_change(smd, pd_sm_ll_dec(&smd->ll, begin, end));
}

static int sm_disk_inc_list(struct pd_space_map *sm, const pd_block_t *blocks,
			    unsigned int nr)
{
	struct sm_disk *smd = to_smd(sm);

	return after_change(smd, pd_sm_ll_inc_list(&smd->ll, blocks, nr));
}

static int sm_disk_dec_list(struct pd_space_map *sm, const pd_block_t *blocks,
			    unsigned int nr)
{
	struct sm_disk *smd = to_smd(sm);

	return after_change(smd, pd_sm_ll_dec_list(&smd->ll, blocks, nr));
}

static int sm_disk_get_count(struct pd_space_map *sm, pd_block_t b,
			     u32 *result)
{
	return pd_sm_ll_lookup(&to_smd(sm)->ll, b, result);
}

static int sm_disk_set_count(struct pd_space_map *sm, pd_block_t b,
			     u32 count)
{
	struct sm_disk *smd = to_smd(sm);

	return after_change(smd, pd_sm_ll_set(&smd->ll, b, count));
}

static int sm_disk_get_nr_blocks(struct pd_space_map *sm, pd_block_t *count)
{
	*count = to_smd(sm)->ll.nr_blocks;
	return 0;
}

static int sm_disk_get_nr_free(struct pd_space_map *sm, pd_block_t *count)
{
	*count = pd_sm_ll_nr_free(&to_smd(sm)->ll);
	return 0;
}

void pd_sm_disk_get_nr_unused(struct pd_space_map *sm, pd_block_t *count)
{
	const struct pd_sm_ll *ll = &to_smd(sm)->ll;

	/* A root may lie about nr_allocated: never below 0. */
	*count = ll->nr_allocated < ll->nr_blocks ?
		 ll->nr_blocks - ll->nr_allocated : 0;
}

static int sm_disk_extend(struct pd_space_map *sm, pd_block_t extra)
{
	struct sm_disk *smd = to_smd(sm);

	if (extra > PD_SM_DISK_MAX_BLOCKS - smd->ll.nr_blocks) {
		pr_err("data space map: cannot grow beyond %llu blocks\n",
		       PD_SM_DISK_MAX_BLOCKS);
		return -ENOSPC;
	}
	return after_change(smd, pd_sm_ll_extend(&smd->ll, extra));
}

static int sm_disk_commit(struct pd_space_map *sm)
{
	struct sm_disk *smd = to_smd(sm);
	int r;

	r = flush_cache(smd);
	if (r)
		return r;

	forget_committed(smd);
	pd_sm_ll_snapshot(&smd->ll, &smd->old);
	check_threshold(smd);
	return 0;
}

static int sm_disk_root_size(struct pd_space_map *sm, size_t *result)
{
	*result = sizeof(struct disk_sm_root);
	return 0;
}

/* Valid after commit: cached index entries reach the btree there. */
static int sm_disk_copy_root(struct pd_space_map *sm, void *where, size_t max)
{
	return pd_sm_ll_copy_root(&to_smd(sm)->ll, where, max);
}

static int sm_disk_register_threshold(struct pd_space_map *sm,
				      pd_block_t threshold,
				      pd_sm_threshold_fn fn, void *context)
{
	struct sm_disk *smd = to_smd(sm);

	pd_sm_threshold_set(&smd->threshold, threshold, fn, context,
			    pd_sm_ll_nr_free(&smd->ll));
	return 0;
}

static void sm_disk_destroy(struct pd_space_map *sm)
{
	kfree(to_smd(sm));
}

static const struct pd_space_map_ops sm_disk_ops = {
	.destroy = sm_disk_destroy,
	.extend = sm_disk_extend,
	.get_nr_blocks = sm_disk_get_nr_blocks,
	.get_nr_free = sm_disk_get_nr_free,
	.get_count = sm_disk_get_count,
	.count_is_more_than_one = pd_sm_count_is_more_than_one_by_count,
	.set_count = sm_disk_set_count,
	.commit = sm_disk_commit,
	.inc_blocks = sm_disk_inc_blocks,
	.dec_blocks = sm_disk_dec_blocks,
	.inc_list = sm_disk_inc_list,
	.dec_list = sm_disk_dec_list,
	.new_block = sm_disk_new_block,
	.root_size = sm_disk_root_size,
	.copy_root = sm_disk_copy_root,
	.register_threshold = sm_disk_register_threshold,
};

/* ---- construction ---- */

static struct sm_disk *sm_disk_alloc(struct pd_transaction_manager *tm)
{
	struct sm_disk *smd = kzalloc(sizeof(*smd), GFP_KERNEL);

	if (!smd)
		return NULL;

	smd->sm.ops = &sm_disk_ops;
	smd->tm = tm;
	smd->index_info.tm = tm;
	smd->index_info.levels = 1;
	smd->index_info.value_type.size = sizeof(struct disk_index_entry);

	pd_sm_ll_init(&smd->ll, tm, &cur_index_ops, smd);
	pd_sm_ll_init(&smd->old, tm, &old_index_ops, smd);
	smd->ll.committed = &smd->old;
	return smd;
}

int pd_sm_disk_create(struct pd_transaction_manager *tm, pd_block_t nr_blocks,
		      struct pd_space_map **result)
{
	struct sm_disk *smd;
	int r;

	if (nr_blocks > PD_SM_DISK_MAX_BLOCKS)
		return -EINVAL;
	smd = sm_disk_alloc(tm);
	if (!smd)
		return -ENOMEM;

	/* Index root first, then the ref-count root: the kernel's layout. */
	r = pd_btree_empty(&smd->index_info, &smd->ll.bitmap_root);
	if (!r)
		r = pd_btree_empty(&smd->ll.ref_info, &smd->ll.ref_count_root);
	/* Not committed here: nothing is, until the caller's first commit. */
	if (!r)
		r = pd_sm_ll_extend(&smd->ll, nr_blocks);
	if (r) {
		kfree(smd);
		return r;
	}

	*result = &smd->sm;
	return 0;
}

static int check_root(struct sm_disk *smd)
{
	pd_block_t dev_blocks = pd_bm_nr_blocks(pd_tm_get_bm(smd->tm));
	struct pd_sm_ll *ll = &smd->ll;

	if (!ll->bitmap_root || ll->bitmap_root >= dev_blocks ||
	    !ll->ref_count_root || ll->ref_count_root >= dev_blocks ||
	    ll->nr_blocks > PD_SM_DISK_MAX_BLOCKS) {
		pr_err("data space map: bad root: %llu blocks, index %llu, ref-count root %llu (device %llu blocks)\n",
		       (unsigned long long)ll->nr_blocks,
		       (unsigned long long)ll->bitmap_root,
		       (unsigned long long)ll->ref_count_root,
		       (unsigned long long)dev_blocks);
		return -EILSEQ;
	}
	return 0;
}

int pd_sm_disk_open(struct pd_transaction_manager *tm, const void *root,
		    size_t len, struct pd_space_map **result)
{
	struct sm_disk *smd = sm_disk_alloc(tm);
	int r;

	if (!smd)
		return -ENOMEM;

	r = pd_sm_ll_read_root(&smd->ll, root, len);
	if (!r)
		r = check_root(smd);
	if (r) {
		kfree(smd);
		return r;
	}

	pd_sm_ll_snapshot(&smd->ll, &smd->old);
	*result = &smd->sm;
	return 0;
}
