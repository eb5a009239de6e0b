// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thin-pool metadata: opening (or formatting), transactions, the metadata
 * snapshot and the space accounting. Devices live in thin-devices.c, the
 * mapping tree in thin-mapping.c, block 0 in thin-superblock.c.
 */
#include "thin-internal.h"

int thin_check_writable(struct thin_metadata *tmd)
{
	if (tmd->fail_io)
		return -EINVAL;
	if (tmd->read_only)
		return -EPERM;
	return 0;
}

void thin_mark_changed(struct thin_metadata *tmd)
{
	tmd->in_service = true;
	tmd->dirty = true;
}

/* ---- building and dropping the in-core objects ---- */

static void destroy_objects(struct thin_metadata *tmd)
{
	/* A delete under way belongs to the transaction being dropped. */
	thin_drop_pending_delete(tmd);
	if (tmd->data_sm)
		pd_sm_destroy(tmd->data_sm);
	if (tmd->nb_tm)
		pd_tm_destroy(tmd->nb_tm);
	if (tmd->tm)
		pd_tm_destroy(tmd->tm);
	if (tmd->metadata_sm)
		pd_sm_destroy(tmd->metadata_sm);
	tmd->data_sm = NULL;
	tmd->nb_tm = NULL;
	tmd->tm = NULL;
	tmd->metadata_sm = NULL;
}

static int make_clone(struct thin_metadata *tmd)
{
	tmd->nb_tm = pd_tm_create_non_blocking_clone(tmd->tm);
	if (!tmd->nb_tm)
		return -ENOMEM;
	thin_init_btree_infos(tmd);
	return 0;
}

static void set_metadata_reserve(struct thin_metadata *tmd)
{
	pd_block_t total;

	/* If the size is unknown, keep the largest reserve back. */
	if (pd_sm_get_nr_blocks(tmd->metadata_sm, &total))
		total = THIN_MAX_METADATA_RESERVE * 10;
	tmd->metadata_reserve = min_t(pd_block_t, THIN_MAX_METADATA_RESERVE,
				      total / 10);
}

static int register_threshold(struct thin_metadata *tmd)
{
	if (!tmd->threshold_set)
		return 0;
	return pd_sm_register_threshold(tmd->metadata_sm, tmd->threshold,
					tmd->threshold_fn,
					tmd->threshold_context);
}

static int format_metadata(struct thin_metadata *tmd)
{
	int r;

	r = pd_tm_create_with_sm(tmd->bm, THIN_SUPERBLOCK_LOCATION, &tmd->tm,
				 &tmd->metadata_sm);
	if (r) {
		pr_err(THIN_MSG "creating the metadata space map failed: %d\n",
		       r);
		return r;
	}
	r = pd_sm_disk_create(tmd->tm, 0, &tmd->data_sm);
	if (r) {
		pr_err(THIN_MSG "creating the data space map failed: %d\n", r);
		return r;
	}
	r = make_clone(tmd);
	if (r)
		return r;

	tmd->time = 0;
	tmd->trans_id = 0;
	tmd->flags = 0;
	tmd->held_root = 0;
	r = pd_btree_empty(&tmd->info, &tmd->root);
	if (r)
		return r;
	r = pd_btree_empty(&tmd->details_info, &tmd->details_root);
	if (r)
		return r;
	return thin_sb_write_initial(tmd);
}

static int check_sb(struct thin_metadata *tmd,
		    const struct thin_disk_superblock *sb)
{
	u32 stored = le32_to_cpu(sb->data_block_size);
	int r;

	r = thin_sb_check_features(sb, tmd->read_only);
	if (r)
		return r;
	if (stored != tmd->data_block_size) {
		pr_err(THIN_MSG "changing the data block size (from %u to %u) is not supported\n",
		       stored, tmd->data_block_size);
		return -EINVAL;
	}
	return 0;
}

static int open_from_sb(struct thin_metadata *tmd,
			const struct thin_disk_superblock *sb)
{
	int r;

	r = pd_tm_open_with_sm(tmd->bm, THIN_SUPERBLOCK_LOCATION,
			       sb->metadata_space_map_root,
			       THIN_SPACE_MAP_ROOT_SIZE, &tmd->tm,
			       &tmd->metadata_sm);
	if (r) {
		pr_err(THIN_MSG "opening the metadata space map failed: %d\n",
		       r);
		return r;
	}
	r = pd_sm_disk_open(tmd->tm, sb->data_space_map_root,
			    THIN_SPACE_MAP_ROOT_SIZE, &tmd->data_sm);
	if (r) {
		pr_err(THIN_MSG "opening the data space map failed: %d\n", r);
		return r;
	}
	r = make_clone(tmd);
	if (r)
		return r;

	tmd->time = le32_to_cpu(sb->time);
	tmd->trans_id = le64_to_cpu(sb->trans_id);
	tmd->flags = le32_to_cpu(sb->flags);
	tmd->held_root = le64_to_cpu(sb->held_root);
	tmd->root = le64_to_cpu(sb->data_mapping_root);
	tmd->details_root = le64_to_cpu(sb->device_details_root);
	return 0;
}

static int open_existing(struct thin_metadata *tmd)
{
	struct pd_block *sblock;
	int r;

	r = pd_bm_read_lock(tmd->bm, THIN_SUPERBLOCK_LOCATION,
			    &thin_sb_validator, &sblock);
	if (r) {
		pr_err(THIN_MSG "could not read the superblock: %d\n", r);
		return r;
	}
	r = check_sb(tmd, pd_block_data(sblock));
	if (!r)
		r = open_from_sb(tmd, pd_block_data(sblock));
	pd_bm_unlock(sblock);
	return r;
}

/* The in-core objects are built; finish what depends on them. */
static int finish_opening(struct thin_metadata *tmd)
{
	int r;

	r = thin_sb_remember(tmd);
	if (!r) {
		set_metadata_reserve(tmd);
		r = register_threshold(tmd);
	}
	if (r)
		destroy_objects(tmd);
	return r;
}

static int open_or_format(struct thin_metadata *tmd)
{
	bool zeroes;
	int r;

	r = thin_sb_is_all_zeroes(tmd->bm, &zeroes);
	if (r)
		return r;
	if (zeroes && tmd->read_only) {
		pr_err(THIN_MSG "no metadata to open read-only\n");
		return -EPERM;
	}
	r = zeroes ? format_metadata(tmd) : open_existing(tmd);
	if (r) {
		destroy_objects(tmd);
		return r;
	}
	return finish_opening(tmd);
}

/*
 * After an abort: from the superblock as last committed, kept in core, since
 * block 0 in the cache may hold a commit that failed half way.
 */
static int reopen_committed(struct thin_metadata *tmd)
{
	int r;

	r = open_from_sb(tmd, &tmd->committed_sb);
	if (r) {
		destroy_objects(tmd);
		return r;
	}
	return finish_opening(tmd);
}

int thin_metadata_open(struct pd_block_manager *bm, u32 data_block_size,
		       bool read_only, struct thin_metadata **result)
{
	struct thin_metadata *tmd;
	int r;

	tmd = kzalloc(sizeof(*tmd), GFP_KERNEL);
	if (!tmd)
		return -ENOMEM;
	init_rwsem(&tmd->root_lock);
	tmd->bm = bm;
	tmd->data_block_size = data_block_size;
	tmd->read_only = read_only;
	if (read_only)
		pd_bm_set_read_only(bm);

	r = open_or_format(tmd);
	if (r) {
		kfree(tmd);
		return r;
	}
	*result = tmd;
	return 0;
}

static int save_needs_check_locked(struct thin_metadata *tmd);

int thin_metadata_close(struct thin_metadata *tmd)
{
	int open = thin_count_open_devices(tmd);
	int r = 0;

	if (open) {
		pr_err(THIN_MSG "closing with %d device(s) still open\n", open);
		return -EBUSY;
	}
	down_write(&tmd->root_lock);
	if (!tmd->read_only && !tmd->fail_io) {
		r = thin_commit_locked(tmd);
		if (r)
			pr_warn(THIN_MSG "commit on close failed: %d\n", r);
	}
	/* Last chance for a needs_check flag the device refused earlier. */
	if (tmd->needs_check_unsaved) {
		int save = save_needs_check_locked(tmd);

		if (save)
			pr_err(THIN_MSG "needs_check flag still not written (%d): check the metadata before using it again\n",
			       save);
		r = r ? r : save;
	}
	up_write(&tmd->root_lock);
	thin_free_all_devices(tmd);
	destroy_objects(tmd);
	kfree(tmd);
	return r;
}

/* ---- transactions ---- */

int thin_commit_locked(struct thin_metadata *tmd)
{
	int r;

	if (tmd->fail_io)
		return -EINVAL;
	/* Merely opening the pool never writes metadata. */
	if (!tmd->in_service)
		return 0;
	if (tmd->read_only)
		return -EPERM;

	/* Only whole deletes are committed: see thin_delete_begin(). */
	r = thin_finish_pending_delete(tmd);
	if (r)
		return r;

	if (tmd->pre_commit_fn) {
		r = tmd->pre_commit_fn(tmd->pre_commit_context);
		if (r)
			return r;
	}
	r = thin_write_changed_details(tmd);
	if (r)
		return r;
	r = thin_sb_commit(tmd);
	if (r)
		return r;
	thin_devices_committed(tmd);
	tmd->dirty = false;
	tmd->needs_check_unsaved = false;
	return thin_sb_remember(tmd);
}

int thin_metadata_commit(struct thin_metadata *tmd)
{
	int r;

	down_write(&tmd->root_lock);
	r = thin_commit_locked(tmd);
	up_write(&tmd->root_lock);
	return r;
}

static int abort_locked(struct thin_metadata *tmd)
{
	int r;

	if (tmd->fail_io)
		return -EINVAL;

	destroy_objects(tmd);
	r = thin_sb_restore_committed(tmd);
	/* Read-only: nothing can write the cached copy out anyway. */
	if (r && r != -EPERM) {
		tmd->fail_io = true;
		return r;
	}
	pd_bm_invalidate(tmd->bm);
	r = reopen_committed(tmd);
	if (!r)
		r = thin_reload_devices_after_abort(tmd);
	if (r) {
		pr_err(THIN_MSG "reopening after abort failed: %d\n", r);
		destroy_objects(tmd);
		tmd->fail_io = true;
		return r;
	}
	tmd->dirty = false;
	return 0;
}

int thin_metadata_abort(struct thin_metadata *tmd)
{
	int r;

	down_write(&tmd->root_lock);
	r = abort_locked(tmd);
	up_write(&tmd->root_lock);
	return r;
}

void thin_metadata_set_read_only(struct thin_metadata *tmd)
{
	down_write(&tmd->root_lock);
	tmd->read_only = true;
	pd_bm_set_read_only(tmd->bm);
	up_write(&tmd->root_lock);
}

void thin_metadata_set_read_write(struct thin_metadata *tmd)
{
	down_write(&tmd->root_lock);
	tmd->read_only = false;
	pd_bm_set_read_write(tmd->bm);
	up_write(&tmd->root_lock);
}

bool thin_metadata_changed(struct thin_metadata *tmd)
{
	bool r;

	down_read(&tmd->root_lock);
	r = tmd->dirty;
	up_read(&tmd->root_lock);
	return r;
}

int thin_metadata_get_transaction_id(struct thin_metadata *tmd, u64 *result)
{
	int r = 0;

	down_read(&tmd->root_lock);
	if (tmd->fail_io)
		r = -EINVAL;
	else
		*result = tmd->trans_id;
	up_read(&tmd->root_lock);
	return r;
}

int thin_metadata_set_transaction_id(struct thin_metadata *tmd, u64 current_id,
				     u64 new_id)
{
	int r;

	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r && tmd->trans_id != current_id) {
		pr_err(THIN_MSG "mismatched transaction id: %llu, expected %llu\n",
		       (unsigned long long)current_id,
		       (unsigned long long)tmd->trans_id);
		r = -EINVAL;
	}
	if (!r) {
		tmd->trans_id = new_id;
		thin_mark_changed(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

int thin_metadata_needs_check(struct thin_metadata *tmd, bool *result)
{
	down_read(&tmd->root_lock);
	*result = tmd->flags & THIN_NEEDS_CHECK_FLAG;
	up_read(&tmd->root_lock);
	return 0;
}

/*
 * needs_check is set after a failed transaction has been aborted, so the
 * superblock that carries it is the one of the last commit: see
 * thin_sb_write_committed() for why writing it outside a commit is safe.
 * It is written even when the block manager is read-only (as it is once the
 * pool has left write mode because of that very failure): recording the
 * failure is the one write such a pool still owes.
 */
static int save_needs_check_locked(struct thin_metadata *tmd)
{
	bool read_only = pd_bm_is_read_only(tmd->bm);
	int r;

	if (tmd->fail_io)
		return -EINVAL;
	if (read_only)
		pd_bm_set_read_write(tmd->bm);
	r = thin_sb_write_committed(tmd);
	if (read_only)
		pd_bm_set_read_only(tmd->bm);
	tmd->needs_check_unsaved = r != 0;
	return r;
}

int thin_metadata_set_needs_check(struct thin_metadata *tmd)
{
	u32 flags;
	int r;

	down_write(&tmd->root_lock);
	if (tmd->fail_io) {
		r = -EINVAL;
	} else {
		/* In core first: from here on the pool cannot go back to write. */
		tmd->flags |= THIN_NEEDS_CHECK_FLAG;
		flags = le32_to_cpu(tmd->committed_sb.flags);
		tmd->committed_sb.flags =
			cpu_to_le32(flags | THIN_NEEDS_CHECK_FLAG);
		r = save_needs_check_locked(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

int thin_metadata_save_needs_check(struct thin_metadata *tmd)
{
	int r = 0;

	down_write(&tmd->root_lock);
	if (tmd->needs_check_unsaved)
		r = save_needs_check_locked(tmd);
	up_write(&tmd->root_lock);
	return r;
}

/* ---- metadata snapshot ---- */

/* The copy keeps both trees alive; its space-map roots are meaningless. */
static int take_snapshot_copy(struct thin_metadata *tmd, pd_block_t *location)
{
	struct thin_disk_superblock *sb;
	struct pd_block *copy;
	int inc_children;
	int r;

	r = pd_tm_inc(tmd->tm, THIN_SUPERBLOCK_LOCATION);
	if (r)
		return r;
	r = pd_tm_shadow_block(tmd->tm, THIN_SUPERBLOCK_LOCATION,
			       &thin_sb_validator, &copy, &inc_children);
	if (r)
		return r;

	*location = pd_block_location(copy);
	sb = pd_block_data(copy);
	memset(sb->data_space_map_root, 0, THIN_SPACE_MAP_ROOT_SIZE);
	memset(sb->metadata_space_map_root, 0, THIN_SPACE_MAP_ROOT_SIZE);
	sb->held_root = 0;

	r = pd_tm_inc(tmd->tm, le64_to_cpu(sb->data_mapping_root));
	if (!r)
		r = pd_tm_inc(tmd->tm, le64_to_cpu(sb->device_details_root));
	pd_tm_unlock(tmd->tm, copy);
	return r;
}

static int reserve_snap_locked(struct thin_metadata *tmd)
{
	pd_block_t location;
	int r;

	r = thin_check_writable(tmd);
	if (r)
		return r;
	if (tmd->held_root) {
		pr_warn(THIN_MSG "a metadata snapshot is already held: release it first\n");
		return -EBUSY;
	}

	/* The copy must point at the current roots: commit them first. */
	thin_mark_changed(tmd);
	r = thin_commit_locked(tmd);
	if (r)
		return r;

	thin_mark_changed(tmd);
	r = take_snapshot_copy(tmd, &location);
	if (r)
		return r;
	tmd->held_root = location;
	return 0;
}

int thin_metadata_reserve_snap(struct thin_metadata *tmd)
{
	int r;

	down_write(&tmd->root_lock);
	r = reserve_snap_locked(tmd);
	up_write(&tmd->root_lock);
	return r;
}

static int drop_snapshot_copy(struct thin_metadata *tmd, pd_block_t location)
{
	struct thin_disk_superblock *sb;
	pd_block_t mapping_root, details_root;
	struct pd_block *copy;
	int r;

	r = pd_tm_read_lock(tmd->tm, location, &thin_sb_validator, &copy);
	if (r)
		return r;
	sb = pd_block_data(copy);
	mapping_root = le64_to_cpu(sb->data_mapping_root);
	details_root = le64_to_cpu(sb->device_details_root);
	pd_tm_unlock(tmd->tm, copy);

	r = pd_btree_del(&tmd->info, mapping_root);
	if (r)
		return r;
	r = pd_btree_del(&tmd->details_info, details_root);
	if (r)
		return r;
	return pd_tm_dec(tmd->tm, location);
}

static int release_snap_locked(struct thin_metadata *tmd)
{
	int r;

	r = thin_check_writable(tmd);
	if (r)
		return r;
	if (!tmd->held_root) {
		pr_warn(THIN_MSG "no metadata snapshot is held: nothing to release\n");
		return -EINVAL;
	}

	thin_mark_changed(tmd);
	r = drop_snapshot_copy(tmd, tmd->held_root);
	if (r)
		return r;
	tmd->held_root = 0;
	return 0;
}

int thin_metadata_release_snap(struct thin_metadata *tmd)
{
	int r;

	down_write(&tmd->root_lock);
	r = release_snap_locked(tmd);
	up_write(&tmd->root_lock);
	return r;
}

int thin_metadata_get_held_root(struct thin_metadata *tmd, pd_block_t *result)
{
	down_read(&tmd->root_lock);
	*result = tmd->held_root;
	up_read(&tmd->root_lock);
	return 0;
}

/* ---- sizes ---- */

static int resize_sm(struct pd_space_map *sm, pd_block_t new_size,
		     const char *what)
{
	pd_block_t old_size;
	int r;

	r = pd_sm_get_nr_blocks(sm, &old_size);
	if (r)
		return r;
	if (new_size == old_size)
		return 0;
	if (new_size < old_size) {
		pr_err(THIN_MSG "cannot reduce size of %s space map (%llu to %llu)\n",
		       what, (unsigned long long)old_size,
		       (unsigned long long)new_size);
		return -EINVAL;
	}
	return pd_sm_extend(sm, new_size - old_size);
}

int thin_resize_data_dev(struct thin_metadata *tmd, data_block_t new_size)
{
	int r;

	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r) {
		thin_mark_changed(tmd);
		r = resize_sm(tmd->data_sm, new_size, "data");
	}
	up_write(&tmd->root_lock);
	return r;
}

int thin_resize_metadata_dev(struct thin_metadata *tmd, pd_block_t new_size)
{
	int r;

	if (new_size > PD_METADATA_MAX_BLOCKS)
		new_size = PD_METADATA_MAX_BLOCKS;
	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r) {
		thin_mark_changed(tmd);
		r = resize_sm(tmd->metadata_sm, new_size, "metadata");
		set_metadata_reserve(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

int thin_get_free_metadata_blocks(struct thin_metadata *tmd, pd_block_t *result)
{
	pd_block_t free_blocks;
	int r;

	down_read(&tmd->root_lock);
	r = tmd->fail_io ? -EINVAL :
		pd_sm_get_nr_free(tmd->metadata_sm, &free_blocks);
	if (!r)
		*result = free_blocks > tmd->metadata_reserve ?
			free_blocks - tmd->metadata_reserve : 0;
	up_read(&tmd->root_lock);
	return r;
}

int thin_get_metadata_dev_size(struct thin_metadata *tmd, pd_block_t *result)
{
	int r;

	down_read(&tmd->root_lock);
	r = tmd->fail_io ? -EINVAL :
		pd_sm_get_nr_blocks(tmd->metadata_sm, result);
	up_read(&tmd->root_lock);
	return r;
}

int thin_register_metadata_threshold(struct thin_metadata *tmd,
				     pd_block_t threshold,
				     void (*fn)(void *context), void *context)
{
	int r;

	down_write(&tmd->root_lock);
	tmd->threshold = threshold;
	tmd->threshold_fn = fn;
	tmd->threshold_context = context;
	tmd->threshold_set = true;
	r = tmd->fail_io ? -EINVAL : register_threshold(tmd);
	up_write(&tmd->root_lock);
	return r;
}

void thin_metadata_register_pre_commit(struct thin_metadata *tmd,
				       int (*fn)(void *context), void *context)
{
	down_write(&tmd->root_lock);
	tmd->pre_commit_fn = fn;
	tmd->pre_commit_context = context;
	up_write(&tmd->root_lock);
}

int thin_metadata_set_time(struct thin_metadata *tmd, u32 time)
{
	int r;

	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r) {
		tmd->time = time;
		thin_mark_changed(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}
