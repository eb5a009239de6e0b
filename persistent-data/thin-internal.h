/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private state of the thin metadata, shared by thin-superblock.c,
 * thin-metadata.c, thin-devices.c and thin-mapping.c. Nothing outside those
 * files may include this: the public contract is thin-metadata.h.
 */
#ifndef PD_THIN_INTERNAL_H
#define PD_THIN_INTERNAL_H

#include "thin-metadata.h"
#include "transaction-manager.h"
#include "space-map.h"
#include "btree.h"
#include "space-map-disk.h"

#define THIN_MSG "thin metadata: "

/* The kernel keeps at most this many blocks back for committing. */
#define THIN_MAX_METADATA_RESERVE 4096

struct thin_device {
	struct thin_device *next;
	struct thin_metadata *tmd;
	thin_dev_t id;
	int open_count;
	bool changed;		/* details differ from the details tree */
	bool aborted_with_changes;
	bool gone;		/* its creation was aborted while it was open */
	u64 mapped_blocks;
	u64 transaction_id;
	u32 creation_time;
	u32 snapshotted_time;
};

struct thin_metadata {
	struct rw_semaphore root_lock;
	struct pd_block_manager *bm;
	struct pd_transaction_manager *tm;
	struct pd_transaction_manager *nb_tm;	/* try-lock reads only */
	struct pd_space_map *metadata_sm;
	struct pd_space_map *data_sm;

	struct pd_btree_info info;	/* 2 levels, block_time values */
	struct pd_btree_info nb_info;	/* the same over nb_tm */
	struct pd_btree_info tl_info;	/* top level: subtree roots */
	struct pd_btree_info bl_info;	/* one device's mappings */
	struct pd_btree_info details_info;

	/* The in-core copy of the superblock fields a commit writes. */
	pd_block_t root;
	pd_block_t details_root;
	pd_block_t held_root;
	u32 time;
	u64 trans_id;
	u32 flags;
	u32 data_block_size;
	struct thin_disk_superblock committed_sb;	/* for abort */

	pd_block_t metadata_reserve;
	bool read_only;
	bool fail_io;		/* reopening failed: refuse everything */
	bool needs_check_unsaved;	/* flags has it, block 0 not yet */
	bool in_service;	/* something changed since open: commit */
	bool dirty;		/* something changed since the last commit */
	bool overwrote_same_block;	/* set by the mapping value type */

	struct thin_device *devices;

	/* The subtree of a device being deleted (thin_delete_begin), or NULL. */
	struct pd_btree_del *deleting;

	int (*pre_commit_fn)(void *context);
	void *pre_commit_context;

	void (*threshold_fn)(void *context);
	void *threshold_context;
	pd_block_t threshold;
	bool threshold_set;
};

/* thin-superblock.c */
extern const struct pd_block_validator thin_sb_validator;
int thin_sb_is_all_zeroes(struct pd_block_manager *bm, bool *result);
int thin_sb_check_features(const struct thin_disk_superblock *sb,
			   bool read_only);
/* Both commit the space maps, then write block 0 with their roots. */
int thin_sb_write_initial(struct thin_metadata *tmd);
int thin_sb_commit(struct thin_metadata *tmd);
int thin_sb_remember(struct thin_metadata *tmd);
int thin_sb_restore_committed(struct thin_metadata *tmd);
int thin_sb_write_committed(struct thin_metadata *tmd);

/* thin-mapping.c */
void thin_init_btree_infos(struct thin_metadata *tmd);

/* thin-devices.c */
int thin_write_changed_details(struct thin_metadata *tmd);
void thin_devices_committed(struct thin_metadata *tmd);
int thin_reload_devices_after_abort(struct thin_metadata *tmd);
void thin_free_all_devices(struct thin_metadata *tmd);
int thin_count_open_devices(struct thin_metadata *tmd);
int thin_finish_pending_delete(struct thin_metadata *tmd);
void thin_drop_pending_delete(struct thin_metadata *tmd);

/* thin-metadata.c */
int thin_check_writable(struct thin_metadata *tmd);
void thin_mark_changed(struct thin_metadata *tmd);
int thin_commit_locked(struct thin_metadata *tmd);

#endif
