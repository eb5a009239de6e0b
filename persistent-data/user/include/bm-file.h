/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace block manager: the block-manager seam on a file or a block
 * device, through a bounded cache of 4 KiB blocks (hash + LRU). Clean blocks
 * are evicted freely; a dirty block is stamped by its validator and written
 * back when evicted or flushed.
 *
 * Used by the tools, the unit tests and the fuzzer. For crash tests a write
 * limit makes the device stop persisting after a number of block writes.
 */
#ifndef PD_BM_FILE_H
#define PD_BM_FILE_H

#include "block-manager.h"

/* Cache size used when 0 is passed. */
#define PD_BM_FILE_DEFAULT_CACHE 1024

/*
 * Open @path (regular file or block device). Its size is rounded down to
 * whole blocks. The block manager owns the descriptor it opens.
 */
int pd_bm_file_open(const char *path, bool read_only, unsigned int cache_blocks,
		    struct pd_block_manager **result);

/* The same on a descriptor the caller keeps ownership of (not closed). */
int pd_bm_fd_create(int fd, bool read_only, unsigned int cache_blocks,
		    struct pd_block_manager **result);

/* ---- fault injection and statistics ---- */

enum pd_bm_write_failure {
	PD_BM_WRITES_DROPPED,	/* silently lost: the power went out */
	PD_BM_WRITES_FAIL,	/* fail with -EIO */
};

/*
 * After @limit more block writes (counted from now), every further block
 * write is dropped or fails, and flushes no longer reach the device.
 * U64_MAX removes the limit.
 */
void pd_bm_file_set_write_limit(struct pd_block_manager *bm, u64 limit,
				enum pd_bm_write_failure mode);

/* Block writes issued since open, including dropped or failed ones. */
u64 pd_bm_file_write_count(struct pd_block_manager *bm);
/* Block reads from the device since open. */
u64 pd_bm_file_read_count(struct pd_block_manager *bm);
/* Blocks currently cached, and how many of those are locked or dirty. */
unsigned int pd_bm_file_cached_blocks(struct pd_block_manager *bm);
unsigned int pd_bm_file_locked_blocks(struct pd_block_manager *bm);
unsigned int pd_bm_file_dirty_blocks(struct pd_block_manager *bm);

#endif
