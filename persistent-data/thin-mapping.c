// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mapping tree: dev id -> (virtual block -> data block + time), and the
 * data space map its leaves reference.
 *
 * Every mapping holds one reference to its data block. When a leaf shared
 * with a snapshot is copied the btree calls data_block_inc for the values
 * the copy now holds; overwritten and removed values call data_block_dec.
 */
#include "thin-internal.h"

static u64 value_block(const void *value)
{
	__le64 v;
	u64 block;
	u32 time;

	memcpy(&v, value, sizeof(v));
	unpack_block_time(le64_to_cpu(v), &block, &time);
	return block;
}

/*
 * Values arrive in key order, so data blocks written sequentially form runs:
 * one space-map call per run instead of one per block. For single values,
 * and when there is no memory to sort in.
 */
static int data_block_apply_runs(struct thin_metadata *tmd,
				 const void *values, unsigned int count,
				 bool inc)
{
	const u8 *p = values;
	unsigned int i = 0;
	u64 begin, end;
	int r;

	while (i < count) {
		begin = value_block(p + i * sizeof(__le64));
		end = begin + 1;
		for (i++; i < count; i++) {
			if (value_block(p + i * sizeof(__le64)) != end)
				break;
			end++;
		}
		if (inc)
			r = pd_sm_inc_blocks(tmd->data_sm, begin, end);
		else
			r = pd_sm_dec_blocks(tmd->data_sm, begin, end);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Insertion sort: a node holds at most a few hundred values, often already
 * in order (sequential writes), and sorting them costs far less than the
 * bitmap edits it saves (half of a random delete's time).
 */
static void sort_blocks(pd_block_t *v, unsigned int n)
{
	unsigned int i, j;
	pd_block_t b;

	for (i = 1; i < n; i++) {
		b = v[i];
		for (j = i; j > 0 && v[j - 1] > b; j--)
			v[j] = v[j - 1];
		v[j] = b;
	}
}

/*
 * Sequentially written blocks form runs of contiguous data blocks: a few
 * range edits then cost less than sorting every block.
 */
static bool few_runs(const void *values, unsigned int count)
{
	const u8 *p = values;
	unsigned int i, runs = 1;

	for (i = 1; i < count; i++)
		if (value_block(p + i * sizeof(__le64)) !=
		    value_block(p + (i - 1) * sizeof(__le64)) + 1)
			runs++;
	return runs * 4 <= count;
}

/*
 * Randomly written blocks come in key order but random data block order:
 * sorted, the data blocks that share a space-map bitmap are changed
 * together, under one bitmap edit, so that a whole leaf (a delete, a leaf
 * copied from a snapshot) costs a few bitmap edits instead of one per
 * mapping.
 */
static int data_block_apply(struct thin_metadata *tmd, const void *values,
			    unsigned int count, bool inc)
{
	const u8 *p = values;
	pd_block_t *blocks;
	unsigned int i;
	int r;

	if (count < 2 || few_runs(values, count))
		return data_block_apply_runs(tmd, values, count, inc);
	blocks = kmalloc_array(count, sizeof(*blocks), GFP_NOIO);
	if (!blocks)
		return data_block_apply_runs(tmd, values, count, inc);

	for (i = 0; i < count; i++)
		blocks[i] = value_block(p + i * sizeof(__le64));
	sort_blocks(blocks, count);
	if (inc)
		r = pd_sm_inc_list(tmd->data_sm, blocks, count);
	else
		r = pd_sm_dec_list(tmd->data_sm, blocks, count);
	kfree(blocks);
	return r;
}

static int data_block_inc(void *context, const void *values,
			  unsigned int count)
{
	return data_block_apply(context, values, count, true);
}

static int data_block_dec(void *context, const void *values,
			  unsigned int count)
{
	return data_block_apply(context, values, count, false);
}

/*
 * Remapping a block to where it already is must not drop the reference the
 * mapping holds; the caller's new reference is then one too many, and
 * insert_block_locked() drops it once it learns of this from the flag.
 */
static bool data_block_equal(void *context, const void *value1,
			     const void *value2)
{
	struct thin_metadata *tmd = context;

	if (value_block(value1) != value_block(value2))
		return false;
	tmd->overwrote_same_block = true;
	return true;
}

static u64 value_root(const void *value)
{
	__le64 v;

	memcpy(&v, value, sizeof(v));
	return le64_to_cpu(v);
}

static int subtree_inc(void *context, const void *values, unsigned int count)
{
	struct thin_metadata *tmd = context;
	const u8 *p = values;
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = pd_tm_inc(tmd->tm, value_root(p + i * sizeof(__le64)));
		if (r)
			return r;
	}
	return 0;
}

/* Dropping a device's entry drops its whole mapping tree (if unshared). */
static int subtree_dec(void *context, const void *values, unsigned int count)
{
	struct thin_metadata *tmd = context;
	const u8 *p = values;
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = pd_btree_del(&tmd->bl_info,
				 value_root(p + i * sizeof(__le64)));
		if (r)
			return r;
	}
	return 0;
}

static bool subtree_equal(void *context, const void *value1,
			  const void *value2)
{
	return value_root(value1) == value_root(value2);
}

/* Device details point at nothing. */
static int details_nop(void *context, const void *values, unsigned int count)
{
	return 0;
}

static void init_block_time_type(struct thin_metadata *tmd,
				 struct pd_btree_value_type *vt)
{
	vt->context = tmd;
	vt->size = sizeof(__le64);
	vt->inc = data_block_inc;
	vt->dec = data_block_dec;
	vt->equal = data_block_equal;
}

void thin_init_btree_infos(struct thin_metadata *tmd)
{
	tmd->info.tm = tmd->tm;
	tmd->info.levels = 2;
	init_block_time_type(tmd, &tmd->info.value_type);

	tmd->nb_info = tmd->info;
	tmd->nb_info.tm = tmd->nb_tm;

	tmd->tl_info.tm = tmd->tm;
	tmd->tl_info.levels = 1;
	tmd->tl_info.value_type.context = tmd;
	tmd->tl_info.value_type.size = sizeof(__le64);
	tmd->tl_info.value_type.inc = subtree_inc;
	tmd->tl_info.value_type.dec = subtree_dec;
	tmd->tl_info.value_type.equal = subtree_equal;

	tmd->bl_info.tm = tmd->tm;
	tmd->bl_info.levels = 1;
	init_block_time_type(tmd, &tmd->bl_info.value_type);

	tmd->details_info.tm = tmd->tm;
	tmd->details_info.levels = 1;
	tmd->details_info.value_type.context = tmd;
	tmd->details_info.value_type.size = sizeof(struct disk_device_details);
	tmd->details_info.value_type.inc = details_nop;
	tmd->details_info.value_type.dec = details_nop;
	tmd->details_info.value_type.equal = NULL;
}

/* ---- lookups ---- */

static int device_usable(struct thin_device *td)
{
	if (td->tmd->fail_io)
		return -EINVAL;
	if (td->gone)
		return -ENODATA;
	return 0;
}

static void fill_result(struct thin_device *td, __le64 value,
			struct thin_lookup_result *result)
{
	u64 block;
	u32 time;

	unpack_block_time(le64_to_cpu(value), &block, &time);
	result->block = block;
	/* A mapping older than the last snapshot may be referenced by it. */
	result->shared = td->snapshotted_time > time;
}

static int find_block_locked(struct thin_device *td, thin_block_t block,
			     bool can_block, struct thin_lookup_result *result)
{
	struct thin_metadata *tmd = td->tmd;
	u64 keys[2] = { td->id, block };
	struct pd_btree_info *info;
	__le64 value;
	int r;

	r = device_usable(td);
	if (r)
		return r;

	info = can_block ? &tmd->info : &tmd->nb_info;
	r = pd_btree_lookup(info, tmd->root, keys, &value);
	if (!r)
		fill_result(td, value, result);
	return r;
}

int thin_find_block(struct thin_device *td, thin_block_t block, bool can_block,
		    struct thin_lookup_result *result)
{
	struct thin_metadata *tmd = td->tmd;
	int r;

	/*
	 * The lock is waited for even by a lookup that may not wait for I/O:
	 * writers hold it for bounded steps (an insert, a commit, a delete
	 * batch, one discard region), while a lookup that gave up here would
	 * queue in the worker behind whole discard batches and provisioning
	 * writes. dm-thin's map waits for its lock too.
	 */
	down_read(&tmd->root_lock);
	r = find_block_locked(td, block, can_block, result);
	up_read(&tmd->root_lock);
	return r;
}

/* The first mapping at or after *block, below end. */
static int find_next_mapping(struct thin_device *td, thin_block_t *block,
			     thin_block_t end,
			     struct thin_lookup_result *result)
{
	struct thin_metadata *tmd = td->tmd;
	u64 keys[2] = { td->id, *block };
	u64 found;
	__le64 value;
	int r;

	r = pd_btree_lookup_next(&tmd->info, tmd->root, keys, &found, &value);
	if (r)
		return r;
	if (found >= end)
		return -ENODATA;
	*block = found;
	fill_result(td, value, result);
	return 0;
}

static int find_mapped_range_locked(struct thin_device *td,
				    thin_block_t begin, thin_block_t end,
				    thin_block_t *virt_begin,
				    thin_block_t *virt_end,
				    data_block_t *data_begin,
				    bool *maybe_shared)
{
	struct thin_lookup_result first, next;
	thin_block_t b;
	int r;

	r = device_usable(td);
	if (r)
		return r;
	if (begin >= end)
		return -ENODATA;

	r = find_next_mapping(td, &begin, end, &first);
	if (r)
		return r;

	for (b = begin + 1; b < end; b++) {
		r = find_block_locked(td, b, true, &next);
		if (r == -ENODATA)
			break;
		if (r)
			return r;
		if (next.block != first.block + (b - begin) ||
		    next.shared != first.shared)
			break;
	}

	*virt_begin = begin;
	*virt_end = b;
	*data_begin = first.block;
	*maybe_shared = first.shared;
	return 0;
}

int thin_find_mapped_range(struct thin_device *td, thin_block_t begin,
			   thin_block_t end, thin_block_t *virt_begin,
			   thin_block_t *virt_end, data_block_t *data_begin,
			   bool *maybe_shared)
{
	int r;

	down_read(&td->tmd->root_lock);
	r = find_mapped_range_locked(td, begin, end, virt_begin, virt_end,
				     data_begin, maybe_shared);
	up_read(&td->tmd->root_lock);
	return r;
}

/*
 * One lookup every WARM_STEP mapped blocks: a leaf holds far more mappings
 * than that, so every leaf of the range is read; neighbouring mappings tend
 * to lie in the same bitmap (the pool hands out data blocks in order), so
 * most bitmaps are read too. What is missed is read under the exclusive
 * lock, as it was without the warm-up.
 */
#define WARM_STEP 16

static void warm_range_locked(struct thin_device *td, thin_block_t begin,
			      thin_block_t end)
{
	struct thin_lookup_result found;
	u32 count;

	if (device_usable(td) || td->tmd->fail_io)
		return;
	while (begin < end && !find_next_mapping(td, &begin, end, &found)) {
		if (pd_sm_get_count(td->tmd->data_sm, found.block, &count))
			return;
		begin += WARM_STEP;
	}
}

void thin_warm_range(struct thin_device *td, thin_block_t begin,
		     thin_block_t end)
{
	down_read(&td->tmd->root_lock);
	warm_range_locked(td, begin, end);
	up_read(&td->tmd->root_lock);
}

/* ---- changes ---- */

static int device_writable(struct thin_device *td)
{
	int r;

	r = thin_check_writable(td->tmd);
	if (r)
		return r;
	return device_usable(td);
}

static int insert_block_locked(struct thin_device *td, thin_block_t block,
			       data_block_t data_block, u32 time)
{
	struct thin_metadata *tmd = td->tmd;
	u64 keys[2] = { td->id, block };
	__le64 value;
	int inserted;
	int r;

	r = device_writable(td);
	if (r)
		return r;
	if (data_block >= (1ULL << 40))
		return -EINVAL;

	value = cpu_to_le64(pack_block_time(data_block, time));
	tmd->overwrote_same_block = false;
	r = pd_btree_insert(&tmd->info, tmd->root, keys, &value, &tmd->root,
			    &inserted);
	thin_mark_changed(tmd);
	td->changed = true;
	if (r)
		return r;
	if (inserted)
		td->mapped_blocks++;
	if (tmd->overwrote_same_block)
		return pd_sm_dec_block(tmd->data_sm, data_block);
	return 0;
}

int thin_insert_block(struct thin_device *td, thin_block_t block,
		      data_block_t data_block)
{
	int r;

	down_write(&td->tmd->root_lock);
	r = insert_block_locked(td, block, data_block, td->tmd->time);
	up_write(&td->tmd->root_lock);
	return r;
}

int thin_insert_block_time(struct thin_device *td, thin_block_t block,
			   data_block_t data_block, u32 time)
{
	int r;

	down_write(&td->tmd->root_lock);
	r = insert_block_locked(td, block, data_block, time);
	up_write(&td->tmd->root_lock);
	return r;
}

static int remove_block_locked(struct thin_device *td, thin_block_t block)
{
	struct thin_metadata *tmd = td->tmd;
	u64 keys[2] = { td->id, block };
	__le64 value;
	int r;

	r = device_writable(td);
	if (r)
		return r;

	/* Look first: a failed remove may already have shadowed the path. */
	r = pd_btree_lookup(&tmd->info, tmd->root, keys, &value);
	if (r)
		return r;
	r = pd_btree_remove(&tmd->info, tmd->root, keys, &tmd->root);
	thin_mark_changed(tmd);
	td->changed = true;
	if (r)
		return r;
	td->mapped_blocks--;
	return 0;
}

int thin_remove_block(struct thin_device *td, thin_block_t block)
{
	int r;

	down_write(&td->tmd->root_lock);
	r = remove_block_locked(td, block);
	up_write(&td->tmd->root_lock);
	return r;
}

static int remove_range_locked(struct thin_device *td, thin_block_t begin,
			       thin_block_t end)
{
	struct thin_metadata *tmd = td->tmd;
	u64 keys[2] = { td->id, begin };
	u64 removed = 0;
	int r;

	r = device_writable(td);
	if (r)
		return r;
	if (begin >= end)
		return 0;

	r = pd_btree_remove_range(&tmd->info, tmd->root, keys, end,
				  &tmd->root, &removed);
	thin_mark_changed(tmd);
	td->changed = true;
	td->mapped_blocks -= min(removed, td->mapped_blocks);
	return r;
}

int thin_remove_range(struct thin_device *td, thin_block_t begin,
		      thin_block_t end)
{
	int r;

	down_write(&td->tmd->root_lock);
	r = remove_range_locked(td, begin, end);
	up_write(&td->tmd->root_lock);
	return r;
}

int thin_get_mapped_count(struct thin_device *td, thin_block_t *result)
{
	int r;

	down_read(&td->tmd->root_lock);
	r = device_usable(td);
	if (!r)
		*result = td->mapped_blocks;
	up_read(&td->tmd->root_lock);
	return r;
}

static int highest_mapped_locked(struct thin_device *td, thin_block_t *result)
{
	struct thin_metadata *tmd = td->tmd;
	u64 key = td->id;
	__le64 root;
	int r;

	r = device_usable(td);
	if (r)
		return r;
	r = pd_btree_lookup(&tmd->tl_info, tmd->root, &key, &root);
	if (r)
		return r;
	return pd_btree_find_highest_key(&tmd->bl_info, le64_to_cpu(root),
					 result);
}

int thin_get_highest_mapped(struct thin_device *td, thin_block_t *result)
{
	int r;

	down_read(&td->tmd->root_lock);
	r = highest_mapped_locked(td, result);
	up_read(&td->tmd->root_lock);
	return r;
}

/* ---- data space ---- */

int thin_alloc_data_block(struct thin_metadata *tmd, data_block_t *result)
{
	int r;

	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r) {
		r = pd_sm_new_block(tmd->data_sm, result);
		thin_mark_changed(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

static int data_range_op(struct thin_metadata *tmd, data_block_t begin,
			 data_block_t end, bool inc)
{
	int r;

	if (begin >= end)
		return 0;
	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r) {
		if (inc)
			r = pd_sm_inc_blocks(tmd->data_sm, begin, end);
		else
			r = pd_sm_dec_blocks(tmd->data_sm, begin, end);
		thin_mark_changed(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

int thin_inc_data_range(struct thin_metadata *tmd, data_block_t begin,
			data_block_t end)
{
	return data_range_op(tmd, begin, end, true);
}

int thin_dec_data_range(struct thin_metadata *tmd, data_block_t begin,
			data_block_t end)
{
	return data_range_op(tmd, begin, end, false);
}

int thin_data_block_is_shared(struct thin_metadata *tmd, data_block_t b,
			      bool *result)
{
	u32 count;
	int r;

	down_read(&tmd->root_lock);
	r = tmd->fail_io ? -EINVAL : pd_sm_get_count(tmd->data_sm, b, &count);
	if (!r)
		*result = count > 1;
	up_read(&tmd->root_lock);
	return r;
}

int thin_get_free_data_blocks(struct thin_metadata *tmd, data_block_t *result)
{
	int r;

	down_read(&tmd->root_lock);
	r = tmd->fail_io ? -EINVAL : pd_sm_get_nr_free(tmd->data_sm, result);
	up_read(&tmd->root_lock);
	return r;
}

int thin_get_unused_data_blocks(struct thin_metadata *tmd,
				data_block_t *result)
{
	int r = 0;

	down_read(&tmd->root_lock);
	if (tmd->fail_io)
		r = -EINVAL;
	else
		pd_sm_disk_get_nr_unused(tmd->data_sm, result);
	up_read(&tmd->root_lock);
	return r;
}

int thin_get_data_dev_size(struct thin_metadata *tmd, data_block_t *result)
{
	int r;

	down_read(&tmd->root_lock);
	r = tmd->fail_io ? -EINVAL : pd_sm_get_nr_blocks(tmd->data_sm, result);
	up_read(&tmd->root_lock);
	return r;
}
