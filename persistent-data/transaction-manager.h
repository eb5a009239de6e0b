/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The transaction manager: copy-on-write over the block manager.
 *
 * A committed block is never modified. To change a block the caller shadows
 * it: if this transaction already owns the block (it was allocated or
 * shadowed since the last commit) and nobody else references it, it is
 * write-locked in place; otherwise a new block is allocated, the contents are
 * copied, and the old block's reference is dropped. Commit writes every dirty
 * block, flushes, and only then writes and flushes the superblock, so a crash
 * at any point before the superblock write leaves the previous transaction
 * intact.
 *
 * The metadata space map lives in the same device it manages; it is created
 * or opened together with the transaction manager.
 */
#ifndef PD_TRANSACTION_MANAGER_H
#define PD_TRANSACTION_MANAGER_H

#include "block-manager.h"
#include "space-map.h"

struct pd_transaction_manager;

/*
 * Format: a fresh metadata space map covering the whole device, with blocks
 * [0, sb_location] reserved (the superblock is the caller's).
 */
int pd_tm_create_with_sm(struct pd_block_manager *bm, pd_block_t sb_location,
			 struct pd_transaction_manager **tm,
			 struct pd_space_map **sm);

/*
 * Open: the metadata space map from its root as stored in the superblock.
 * On failure of either, *tm and *sm are NULL.
 */
int pd_tm_open_with_sm(struct pd_block_manager *bm, pd_block_t sb_location,
		       const void *sm_root, size_t root_len,
		       struct pd_transaction_manager **tm,
		       struct pd_space_map **sm);

/*
 * A transaction manager over a space map the caller already has (and keeps:
 * pd_tm_destroy does not destroy it). Used by the with_sm constructors and
 * by tests that supply their own space map.
 */
int pd_tm_create(struct pd_block_manager *bm, struct pd_space_map *sm,
		 struct pd_transaction_manager **result);

/*
 * Frees the manager (or a clone) only: the space map and the block manager
 * belong to the caller.
 */
void pd_tm_destroy(struct pd_transaction_manager *tm);

/*
 * A read-only clone for lookups that must not block on I/O (the thin map
 * path): its read locks use pd_bm_read_try_lock and fail with -EWOULDBLOCK.
 */
struct pd_transaction_manager *
pd_tm_create_non_blocking_clone(struct pd_transaction_manager *real);

/*
 * A clone remembers (up to 128) blocks its read locks could not get; this
 * starts reading them, from a context that may block.
 */
void pd_tm_issue_prefetches(struct pd_transaction_manager *tm);

/*
 * Commit in two steps: pre_commit commits the space map and writes and
 * flushes every dirty block except the superblock; commit then unlocks (and
 * so dirties) the superblock and flushes it.
 */
int pd_tm_pre_commit(struct pd_transaction_manager *tm);
int pd_tm_commit(struct pd_transaction_manager *tm, struct pd_block *superblock);

int pd_tm_new_block(struct pd_transaction_manager *tm,
		    const struct pd_block_validator *v,
		    struct pd_block **result);

/*
 * *inc_children is set when the original is still referenced elsewhere: the
 * copy then holds new references to whatever the block points at, and the
 * caller must increment those (btree children, data blocks in leaves).
 */
int pd_tm_shadow_block(struct pd_transaction_manager *tm, pd_block_t orig,
		       const struct pd_block_validator *v,
		       struct pd_block **result, int *inc_children);

int pd_tm_read_lock(struct pd_transaction_manager *tm, pd_block_t b,
		    const struct pd_block_validator *v,
		    struct pd_block **result);
void pd_tm_unlock(struct pd_transaction_manager *tm, struct pd_block *b);

/*
 * Reference counts of metadata blocks. Errors from the space map are
 * returned: callers must propagate them.
 */
int pd_tm_inc(struct pd_transaction_manager *tm, pd_block_t b);
int pd_tm_inc_range(struct pd_transaction_manager *tm, pd_block_t b,
		    pd_block_t e);
int pd_tm_dec(struct pd_transaction_manager *tm, pd_block_t b);
int pd_tm_dec_range(struct pd_transaction_manager *tm, pd_block_t b,
		    pd_block_t e);
int pd_tm_ref(struct pd_transaction_manager *tm, pd_block_t b, u32 *result);
int pd_tm_block_is_shared(struct pd_transaction_manager *tm, pd_block_t b,
			  bool *result);

/* Start reading block b into the cache (a delete reads ahead of itself). */
void pd_tm_prefetch(struct pd_transaction_manager *tm, pd_block_t b);
struct pd_block_manager *pd_tm_get_bm(struct pd_transaction_manager *tm);
struct pd_space_map *pd_tm_get_sm(struct pd_transaction_manager *tm);
bool pd_tm_is_read_only(struct pd_transaction_manager *tm);
void pd_tm_set_read_only(struct pd_transaction_manager *tm);

#endif
