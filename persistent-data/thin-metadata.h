/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thin-pool metadata: the superblock, the device details tree and the
 * two-level mapping tree (dev id -> subtree root; virtual block -> 40-bit data
 * block + 24-bit time), on top of the transaction manager and both space maps.
 *
 * Locking: a thin_metadata has one rw_semaphore. Lookups take it for read,
 * every change and every commit take it for write, so callers need no lock
 * of their own. Calls that change nothing on disk are marked as such.
 *
 * Errors: every function returns 0 or a negative errno. After a failed
 * change the caller must treat the transaction as broken: call
 * thin_metadata_abort() (which reopens from the last committed superblock)
 * or go read-only.
 */
#ifndef PD_THIN_METADATA_H
#define PD_THIN_METADATA_H

#include "block-manager.h"
#include "on-disk-format.h"

typedef u64 thin_dev_t;
typedef u64 thin_block_t;	/* a virtual block of a thin device */
typedef u64 data_block_t;	/* a block of the pool's data device */

struct thin_metadata;
struct thin_device;

/*
 * Open the metadata on bm. A superblock of all zeroes is formatted, unless
 * read_only (-EPERM). data_block_size is in 512-byte sectors and must match
 * the stored one (-EINVAL with a message otherwise).
 */
int thin_metadata_open(struct pd_block_manager *bm, u32 data_block_size,
		       bool read_only, struct thin_metadata **result);
/*
 * Commits (unless read-only or failed) and frees everything but the block
 * manager, which stays the caller's. -EBUSY (and nothing freed) while a
 * device is open.
 */
int thin_metadata_close(struct thin_metadata *tmd);

/* ---- transactions ---- */
int thin_metadata_commit(struct thin_metadata *tmd);
/* Drop every change since the last commit and reopen from disk. */
int thin_metadata_abort(struct thin_metadata *tmd);
/* Refuse further changes (-EPERM): used after I/O errors. */
void thin_metadata_set_read_only(struct thin_metadata *tmd);
void thin_metadata_set_read_write(struct thin_metadata *tmd);
/* True once something changed since the last commit. */
bool thin_metadata_changed(struct thin_metadata *tmd);

int thin_metadata_get_transaction_id(struct thin_metadata *tmd, u64 *result);
/* Compare-and-swap: -EINVAL if current is not the stored id. */
int thin_metadata_set_transaction_id(struct thin_metadata *tmd, u64 current_id,
				     u64 new_id);

int thin_metadata_needs_check(struct thin_metadata *tmd, bool *result);
/*
 * Set the flag in core (for good: only userspace clears it) and write it to
 * block 0 now, as last committed plus the flag. A non-zero return means only
 * the write failed: the flag is held in core, and written again by
 * thin_metadata_save_needs_check() and by thin_metadata_close(), even if the
 * metadata is read-only by then.
 */
int thin_metadata_set_needs_check(struct thin_metadata *tmd);
/* Retry writing a flag that set_needs_check could not write (0 if none). */
int thin_metadata_save_needs_check(struct thin_metadata *tmd);

/* ---- metadata snapshot ---- */
int thin_metadata_reserve_snap(struct thin_metadata *tmd);	/* -EBUSY */
int thin_metadata_release_snap(struct thin_metadata *tmd);	/* -EINVAL */
/* 0 when none is held. */
int thin_metadata_get_held_root(struct thin_metadata *tmd, pd_block_t *result);

/* ---- devices ---- */
int thin_create_thin(struct thin_metadata *tmd, thin_dev_t dev);	/* -EEXIST */
int thin_create_snap(struct thin_metadata *tmd, thin_dev_t dev,
		     thin_dev_t origin);		/* -EEXIST, -ENODATA */
int thin_delete(struct thin_metadata *tmd, thin_dev_t dev);	/* -ENODATA, -EBUSY if open */

/*
 * thin_delete in steps, so that other devices' I/O is served meanwhile.
 * thin_delete_begin (errors as thin_delete) detaches the device in one
 * short step: from its return the device is gone and its id is free
 * (create_thin may reuse it at once). Its mappings are then released by
 * thin_delete_continue, each call visiting at most @budget tree nodes with
 * the lock held and returning 1 while work remains, 0 once none does.
 *
 * A commit (thin_metadata_commit, close) first finishes a delete under
 * way, so no commit ever holds half of one: a crash before the next commit
 * leaves the device as it was, whole, and the delete is to be issued again.
 * An abort drops it with the rest of the transaction. One delete is under
 * way at a time: beginning another finishes the first.
 */
int thin_delete_begin(struct thin_metadata *tmd, thin_dev_t dev);
int thin_delete_continue(struct thin_metadata *tmd, unsigned int budget);
/* True while a delete is under way (commits then finish it first). */
bool thin_delete_pending(struct thin_metadata *tmd);

/*
 * Open a device for I/O (-ENODATA if it does not exist). Several opens of one
 * id share one object; it is freed by the last close.
 */
int thin_open_device(struct thin_metadata *tmd, thin_dev_t dev,
		     struct thin_device **result);
void thin_close_device(struct thin_device *td);
thin_dev_t thin_device_id(struct thin_device *td);

struct thin_lookup_result {
	data_block_t block;
	bool shared;	/* the block may be shared with a snapshot */
};

/*
 * Look up one mapping: -ENODATA if unmapped. With can_block false, returns
 * -EWOULDBLOCK rather than wait for metadata I/O (it still waits for the
 * metadata lock, which writers hold only for short steps).
 */
int thin_find_block(struct thin_device *td, thin_block_t block, bool can_block,
		    struct thin_lookup_result *result);

/*
 * The first run of mappings in [begin, end) contiguous in both virtual and
 * data space with equal shared flag: -ENODATA if nothing is mapped there.
 */
int thin_find_mapped_range(struct thin_device *td, thin_block_t begin,
			   thin_block_t end, thin_block_t *virt_begin,
			   thin_block_t *virt_end, data_block_t *data_begin,
			   bool *maybe_shared);

/*
 * Read into the cache, under the shared lock, the mapping leaves of
 * [begin, end) and the data space-map bitmaps of the blocks they map: what
 * removing that range reads. A removal after it then does its work under
 * the exclusive lock without waiting for the disk, and lookups of other
 * thins go on meanwhile. Only a hint: it reports no error.
 */
void thin_warm_range(struct thin_device *td, thin_block_t begin,
		     thin_block_t end);

/*
 * Map block -> data_block (the data block's reference is taken over by the
 * mapping: allocate with thin_alloc_data_block first, or take one with
 * thin_inc_data_range). An overwrite drops the old data block's reference;
 * remapping a block to where it already is drops the extra one.
 */
int thin_insert_block(struct thin_device *td, thin_block_t block,
		      data_block_t data_block);
int thin_remove_block(struct thin_device *td, thin_block_t block);	/* -ENODATA */
int thin_remove_range(struct thin_device *td, thin_block_t begin,
		      thin_block_t end);

int thin_get_mapped_count(struct thin_device *td, thin_block_t *result);
/* -ENODATA if nothing is mapped. */
int thin_get_highest_mapped(struct thin_device *td, thin_block_t *result);
bool thin_device_changed(struct thin_device *td);
/* True if a change of this device was dropped by thin_metadata_abort. */
bool thin_device_aborted_changes(struct thin_device *td);

/* ---- data space ---- */
/* A free data block with count 1; -ENOSPC when the pool is full. */
int thin_alloc_data_block(struct thin_metadata *tmd, data_block_t *result);
int thin_inc_data_range(struct thin_metadata *tmd, data_block_t begin,
			data_block_t end);
int thin_dec_data_range(struct thin_metadata *tmd, data_block_t begin,
			data_block_t end);
int thin_data_block_is_shared(struct thin_metadata *tmd, data_block_t b,
			      bool *result);

int thin_get_free_data_blocks(struct thin_metadata *tmd, data_block_t *result);
/* Free for reporting: also the blocks freed in the open transaction. */
int thin_get_unused_data_blocks(struct thin_metadata *tmd,
				data_block_t *result);
int thin_get_data_dev_size(struct thin_metadata *tmd, data_block_t *result);
int thin_resize_data_dev(struct thin_metadata *tmd, data_block_t new_size);

/* Free metadata blocks, less the reserve kept for committing. */
int thin_get_free_metadata_blocks(struct thin_metadata *tmd, pd_block_t *result);
int thin_get_metadata_dev_size(struct thin_metadata *tmd, pd_block_t *result);
int thin_resize_metadata_dev(struct thin_metadata *tmd, pd_block_t new_size);
int thin_register_metadata_threshold(struct thin_metadata *tmd,
				     pd_block_t threshold,
				     void (*fn)(void *context), void *context);

/*
 * Called with the lock held just before a commit writes anything: the pool
 * flushes the data device here, so data is durable before the metadata that
 * points at it.
 */
void thin_metadata_register_pre_commit(struct thin_metadata *tmd,
				       int (*fn)(void *context), void *context);

/* ---- rebuilding metadata from a dump (ctpool meta restore) ---- */
/* The snapshot time counter that new mappings are stamped with. */
int thin_metadata_set_time(struct thin_metadata *tmd, u32 time);
/* Overwrite the creation details of a device. */
int thin_set_device_details(struct thin_device *td, u64 transaction_id,
			    u32 creation_time, u32 snapshotted_time);
/* thin_insert_block with the mapping's time given instead of the current. */
int thin_insert_block_time(struct thin_device *td, thin_block_t block,
			   data_block_t data_block, u32 time);

#endif
