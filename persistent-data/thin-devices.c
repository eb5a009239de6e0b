// SPDX-License-Identifier: GPL-2.0-only
/*
 * Thin devices: creation, snapshots, deletion, and the in-core copy of each
 * device's details.
 *
 * Details change on every provisioning (mapped_blocks), so they are kept in
 * core and written to the details tree only at commit. An in-core device
 * therefore outlives its last close while it has unwritten changes.
 */
#include "thin-internal.h"

static struct thin_device *find_incore(struct thin_metadata *tmd,
				       thin_dev_t dev)
{
	struct thin_device *td;

	for (td = tmd->devices; td; td = td->next)
		if (td->id == dev && !td->gone)
			return td;
	return NULL;
}

static void unlink_device(struct thin_metadata *tmd, struct thin_device *td)
{
	struct thin_device **p;

	for (p = &tmd->devices; *p; p = &(*p)->next) {
		if (*p == td) {
			*p = td->next;
			return;
		}
	}
}

static void details_from_disk(struct thin_device *td,
			      const struct disk_device_details *d)
{
	td->mapped_blocks = le64_to_cpu(d->mapped_blocks);
	td->transaction_id = le64_to_cpu(d->transaction_id);
	td->creation_time = le32_to_cpu(d->creation_time);
	td->snapshotted_time = le32_to_cpu(d->snapshotted_time);
}

static void details_to_disk(const struct thin_device *td,
			    struct disk_device_details *d)
{
	d->mapped_blocks = cpu_to_le64(td->mapped_blocks);
	d->transaction_id = cpu_to_le64(td->transaction_id);
	d->creation_time = cpu_to_le32(td->creation_time);
	d->snapshotted_time = cpu_to_le32(td->snapshotted_time);
}

static struct thin_device *alloc_device(struct thin_metadata *tmd,
					thin_dev_t dev)
{
	struct thin_device *td;

	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return NULL;
	td->tmd = tmd;
	td->id = dev;
	td->next = tmd->devices;
	tmd->devices = td;
	return td;
}

/*
 * The in-core object for dev, loaded from the details tree if need be.
 * With create, a device absent from the tree gets fresh details instead.
 * The caller owns one open reference.
 */
static int get_device(struct thin_metadata *tmd, thin_dev_t dev, bool create,
		      struct thin_device **result)
{
	struct disk_device_details d;
	struct thin_device *td;
	u64 key = dev;
	int r;

	td = find_incore(tmd, dev);
	if (td) {
		if (create)
			return -EEXIST;
		td->open_count++;
		*result = td;
		return 0;
	}

	r = pd_btree_lookup(&tmd->details_info, tmd->details_root, &key, &d);
	if (r && (r != -ENODATA || !create))
		return r;
	if (!r && create)
		return -EEXIST;

	td = alloc_device(tmd, dev);
	if (!td)
		return -ENOMEM;
	if (r) {
		td->changed = true;
		td->transaction_id = tmd->trans_id;
		td->creation_time = tmd->time;
		td->snapshotted_time = tmd->time;
	} else {
		details_from_disk(td, &d);
	}
	td->open_count = 1;
	*result = td;
	return 0;
}

/* Drop an open reference; unchanged devices need not stay in core. */
static void put_device(struct thin_device *td)
{
	struct thin_metadata *tmd = td->tmd;

	td->open_count--;
	if (td->open_count > 0 || td->changed)
		return;
	unlink_device(tmd, td);
	kfree(td);
}

static int device_exists(struct thin_metadata *tmd, thin_dev_t dev)
{
	u64 key = dev;
	__le64 root;
	int r;

	r = pd_btree_lookup(&tmd->tl_info, tmd->root, &key, &root);
	if (r == -ENODATA)
		return 0;
	return r ? r : 1;
}

/* May a new device be created as @dev: writable, id in range and unused? */
static int check_can_create(struct thin_metadata *tmd, thin_dev_t dev)
{
	int r;

	r = thin_check_writable(tmd);
	if (r)
		return r;
	if (dev > THIN_MAX_DEV_ID)
		return -EINVAL;
	r = device_exists(tmd, dev);
	if (r < 0)
		return r;
	return r ? -EEXIST : 0;
}

static int insert_subtree(struct thin_metadata *tmd, thin_dev_t dev,
			  pd_block_t subtree)
{
	__le64 value = cpu_to_le64(subtree);
	u64 key = dev;

	return pd_btree_insert(&tmd->tl_info, tmd->root, &key, &value,
			       &tmd->root, NULL);
}

static int create_thin_locked(struct thin_metadata *tmd, thin_dev_t dev)
{
	struct thin_device *td;
	pd_block_t subtree;
	int r;

	r = check_can_create(tmd, dev);
	if (r)
		return r;

	thin_mark_changed(tmd);
	r = pd_btree_empty(&tmd->bl_info, &subtree);
	if (r)
		return r;
	r = insert_subtree(tmd, dev, subtree);
	if (r)
		return r;

	r = get_device(tmd, dev, true, &td);
	if (r)
		return r;
	put_device(td);
	return 0;
}

int thin_create_thin(struct thin_metadata *tmd, thin_dev_t dev)
{
	int r;

	down_write(&tmd->root_lock);
	r = create_thin_locked(tmd, dev);
	up_write(&tmd->root_lock);
	return r;
}

static int create_snap_locked(struct thin_metadata *tmd, thin_dev_t dev,
			      thin_dev_t origin)
{
	struct thin_device *otd, *td;
	u64 key = origin;
	__le64 root;
	int r;

	r = check_can_create(tmd, dev);
	if (r)
		return r;
	r = pd_btree_lookup(&tmd->tl_info, tmd->root, &key, &root);
	if (r)
		return r;

	/* The snapshot shares the origin's whole mapping tree. */
	thin_mark_changed(tmd);
	r = pd_tm_inc(tmd->tm, le64_to_cpu(root));
	if (r)
		return r;
	r = insert_subtree(tmd, dev, le64_to_cpu(root));
	if (r)
		return r;

	/* Mappings from now on are newer than the snapshot: not shared. */
	tmd->time++;

	r = get_device(tmd, origin, false, &otd);
	if (r)
		return r;
	r = get_device(tmd, dev, true, &td);
	if (r) {
		put_device(otd);
		return r;
	}
	otd->snapshotted_time = tmd->time;
	otd->changed = true;
	td->mapped_blocks = otd->mapped_blocks;
	td->creation_time = tmd->time;
	td->snapshotted_time = tmd->time;
	td->changed = true;
	put_device(td);
	put_device(otd);
	return 0;
}

int thin_create_snap(struct thin_metadata *tmd, thin_dev_t dev,
		     thin_dev_t origin)
{
	int r;

	down_write(&tmd->root_lock);
	r = create_snap_locked(tmd, dev, origin);
	up_write(&tmd->root_lock);
	return r;
}

/* A device created in this transaction has no details entry yet. */
static int remove_details(struct thin_metadata *tmd, thin_dev_t dev)
{
	struct disk_device_details d;
	u64 key = dev;
	int r;

	r = pd_btree_lookup(&tmd->details_info, tmd->details_root, &key, &d);
	if (r == -ENODATA)
		return 0;
	if (r)
		return r;
	return pd_btree_remove(&tmd->details_info, tmd->details_root, &key,
			       &tmd->details_root);
}

/*
 * Detach the device: its details go, and its entry in the top level goes
 * without deleting the subtree, on which *del then holds the reference the
 * entry held. The caller releases the subtree through *del.
 */
static int detach_locked(struct thin_metadata *tmd, thin_dev_t dev,
			 struct pd_btree_del **del)
{
	struct thin_device *td;
	u64 key = dev;
	__le64 root;
	int r;

	r = thin_check_writable(tmd);
	if (r)
		return r;
	r = pd_btree_lookup(&tmd->tl_info, tmd->root, &key, &root);
	if (r)
		return r;

	td = find_incore(tmd, dev);
	if (td && td->open_count > 0)
		return -EBUSY;
	r = pd_btree_del_start(&tmd->bl_info, le64_to_cpu(root), del);
	if (r)
		return r;

	thin_mark_changed(tmd);
	if (td) {
		unlink_device(tmd, td);
		kfree(td);
	}
	r = remove_details(tmd, dev);
	/*
	 * The extra reference makes the subtree shared, so removing the
	 * entry (tl_info's dec) only takes that reference back.
	 */
	if (!r)
		r = pd_tm_inc(tmd->tm, le64_to_cpu(root));
	if (!r)
		r = pd_btree_remove(&tmd->tl_info, tmd->root, &key, &tmd->root);
	if (r) {
		pd_btree_del_free(*del);
		*del = NULL;
	}
	return r;
}

void thin_drop_pending_delete(struct thin_metadata *tmd)
{
	pd_btree_del_free(tmd->deleting);
	tmd->deleting = NULL;
}

/* A step of the delete under way, if any: 1 while work remains. */
static int delete_step_locked(struct thin_metadata *tmd, unsigned int budget)
{
	int r;

	if (!tmd->deleting)
		return 0;
	r = tmd->fail_io ? -EINVAL : pd_btree_del_step(tmd->deleting, budget);
	if (r <= 0)
		thin_drop_pending_delete(tmd);
	return r;
}

int thin_finish_pending_delete(struct thin_metadata *tmd)
{
	return delete_step_locked(tmd, UINT_MAX);
}

static int delete_begin_locked(struct thin_metadata *tmd, thin_dev_t dev)
{
	int r;

	r = thin_finish_pending_delete(tmd);
	if (r)
		return r;
	return detach_locked(tmd, dev, &tmd->deleting);
}

int thin_delete_begin(struct thin_metadata *tmd, thin_dev_t dev)
{
	int r;

	down_write(&tmd->root_lock);
	r = delete_begin_locked(tmd, dev);
	up_write(&tmd->root_lock);
	return r;
}

int thin_delete_continue(struct thin_metadata *tmd, unsigned int budget)
{
	int r;

	/* The reads a step waits for are waited for here, lookups going on. */
	down_read(&tmd->root_lock);
	if (tmd->deleting && !tmd->fail_io)
		pd_btree_del_warm(tmd->deleting, budget);
	up_read(&tmd->root_lock);

	down_write(&tmd->root_lock);
	r = delete_step_locked(tmd, budget);
	up_write(&tmd->root_lock);
	return r;
}

bool thin_delete_pending(struct thin_metadata *tmd)
{
	bool r;

	down_read(&tmd->root_lock);
	r = tmd->deleting;
	up_read(&tmd->root_lock);
	return r;
}

int thin_delete(struct thin_metadata *tmd, thin_dev_t dev)
{
	int r;

	down_write(&tmd->root_lock);
	r = delete_begin_locked(tmd, dev);
	if (!r)
		r = thin_finish_pending_delete(tmd);
	up_write(&tmd->root_lock);
	return r;
}

static int open_device_locked(struct thin_metadata *tmd, thin_dev_t dev,
			      struct thin_device **result)
{
	int r;

	if (tmd->fail_io)
		return -EINVAL;
	r = device_exists(tmd, dev);
	if (r < 0)
		return r;
	if (!r)
		return -ENODATA;
	return get_device(tmd, dev, false, result);
}

int thin_open_device(struct thin_metadata *tmd, thin_dev_t dev,
		     struct thin_device **result)
{
	int r;

	down_write(&tmd->root_lock);
	r = open_device_locked(tmd, dev, result);
	up_write(&tmd->root_lock);
	return r;
}

void thin_close_device(struct thin_device *td)
{
	struct thin_metadata *tmd = td->tmd;

	down_write(&tmd->root_lock);
	put_device(td);
	up_write(&tmd->root_lock);
}

thin_dev_t thin_device_id(struct thin_device *td)
{
	return td->id;
}

bool thin_device_changed(struct thin_device *td)
{
	bool r;

	down_read(&td->tmd->root_lock);
	r = td->changed;
	up_read(&td->tmd->root_lock);
	return r;
}

bool thin_device_aborted_changes(struct thin_device *td)
{
	bool r;

	down_read(&td->tmd->root_lock);
	r = td->aborted_with_changes;
	up_read(&td->tmd->root_lock);
	return r;
}

int thin_set_device_details(struct thin_device *td, u64 transaction_id,
			    u32 creation_time, u32 snapshotted_time)
{
	struct thin_metadata *tmd = td->tmd;
	int r;

	down_write(&tmd->root_lock);
	r = thin_check_writable(tmd);
	if (!r && td->gone)
		r = -ENODATA;
	if (!r) {
		td->transaction_id = transaction_id;
		td->creation_time = creation_time;
		td->snapshotted_time = snapshotted_time;
		td->changed = true;
		thin_mark_changed(tmd);
	}
	up_write(&tmd->root_lock);
	return r;
}

/* ---- commit and abort ---- */

/*
 * A device stays "changed" until the commit that writes its details is
 * durable (thin_devices_committed): if that commit fails, the abort must
 * still know which devices lost acknowledged changes, so that their flushes
 * fail instead of vouching for them. (dm-thin 6.1 clears the flag here,
 * before the commit, and so forgets exactly when the commit is what fails.)
 */
int thin_write_changed_details(struct thin_metadata *tmd)
{
	struct thin_device *td;
	struct disk_device_details d;
	u64 key;
	int r;

	for (td = tmd->devices; td; td = td->next) {
		if (!td->changed || td->gone)
			continue;

		key = td->id;
		details_to_disk(td, &d);
		r = pd_btree_insert(&tmd->details_info, tmd->details_root,
				    &key, &d, &tmd->details_root, NULL);
		if (r)
			return r;
	}
	return 0;
}

/* The commit is durable: closed devices need not stay in core any more. */
void thin_devices_committed(struct thin_metadata *tmd)
{
	struct thin_device *td, *next;

	for (td = tmd->devices; td; td = next) {
		next = td->next;
		if (!td->changed || td->gone)
			continue;
		td->changed = false;
		if (!td->open_count) {
			unlink_device(tmd, td);
			kfree(td);
		}
	}
}

/*
 * After the transaction is dropped, open devices take their details from
 * the reopened tree again; one whose creation was dropped is marked gone.
 */
static int reload_device(struct thin_metadata *tmd, struct thin_device *td)
{
	struct disk_device_details d;
	u64 key = td->id;
	int r;

	if (td->changed)
		td->aborted_with_changes = true;
	td->changed = false;

	r = pd_btree_lookup(&tmd->details_info, tmd->details_root, &key, &d);
	if (r == -ENODATA) {
		td->gone = true;
		return 0;
	}
	if (r)
		return r;
	details_from_disk(td, &d);
	return 0;
}

int thin_reload_devices_after_abort(struct thin_metadata *tmd)
{
	struct thin_device *td, *next;
	int r;

	for (td = tmd->devices; td; td = next) {
		next = td->next;
		if (!td->open_count) {
			unlink_device(tmd, td);
			kfree(td);
			continue;
		}
		r = reload_device(tmd, td);
		if (r)
			return r;
	}
	return 0;
}

int thin_count_open_devices(struct thin_metadata *tmd)
{
	struct thin_device *td;
	int n = 0;

	for (td = tmd->devices; td; td = td->next)
		if (td->open_count)
			n++;
	return n;
}

void thin_free_all_devices(struct thin_metadata *tmd)
{
	struct thin_device *td;

	while (tmd->devices) {
		td = tmd->devices;
		tmd->devices = td->next;
		kfree(td);
	}
}
