/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The block-manager seam: the only interface between the persistent-data
 * library and the storage under it.
 *
 * Metadata lives in 4 KiB blocks. A block is accessed by locking it (read or
 * write); the returned handle gives the data until it is unlocked. Each lock
 * names a validator: on the first read from disk the validator checks the
 * block (checksum, own location, type), and before a dirty block is written
 * the validator stamps it (location, checksum). A block cached under one
 * validator and then locked with another is an error (-EINVAL).
 *
 * Two implementations exist, with the same semantics:
 *   kernel/block-manager-bufio.c    on dm-bufio
 *   persistent-data/user/bm-file.c  on a file or block device, bounded cache
 *
 * Concurrency: any number of read locks may be held at once. Write locks are
 * not serialised against each other or against readers here: the metadata
 * layer above holds its own lock (writers exclusive) around every change.
 */
#ifndef PD_BLOCK_MANAGER_H
#define PD_BLOCK_MANAGER_H

#include "pd-compat.h"

#define PD_BLOCK_SIZE 4096
#define PD_BLOCK_SECTORS (PD_BLOCK_SIZE >> 9)

typedef u64 pd_block_t;

struct pd_block_manager;
struct pd_block;

struct pd_block_validator {
	const char *name;
	/* Stamp location and checksum just before the block is written. */
	void (*prepare_for_write)(const struct pd_block_validator *v,
				  void *data, pd_block_t location);
	/*
	 * 0, or a negative errno (-EILSEQ bad checksum/format, -ENOTBLK
	 * wrong location). Must report what is wrong with pr_err.
	 */
	int (*check)(const struct pd_block_validator *v, const void *data,
		     pd_block_t location);
};

pd_block_t pd_bm_nr_blocks(struct pd_block_manager *bm);

int pd_bm_read_lock(struct pd_block_manager *bm, pd_block_t b,
		    const struct pd_block_validator *v,
		    struct pd_block **result);
/* Returns -EWOULDBLOCK instead of doing I/O if the block is not cached. */
int pd_bm_read_try_lock(struct pd_block_manager *bm, pd_block_t b,
			const struct pd_block_validator *v,
			struct pd_block **result);
int pd_bm_write_lock(struct pd_block_manager *bm, pd_block_t b,
		     const struct pd_block_validator *v,
		     struct pd_block **result);
/* Write lock of a block whose old contents do not matter: zeroed, no read. */
int pd_bm_write_lock_zero(struct pd_block_manager *bm, pd_block_t b,
			  const struct pd_block_validator *v,
			  struct pd_block **result);
void pd_bm_unlock(struct pd_block *b);

void *pd_block_data(struct pd_block *b);
pd_block_t pd_block_location(const struct pd_block *b);

/* Write every dirty block, then flush the device's volatile cache. */
int pd_bm_flush(struct pd_block_manager *bm);
void pd_bm_prefetch(struct pd_block_manager *bm, pd_block_t b);

/* After this every write lock fails with -EPERM (used on I/O errors). */
void pd_bm_set_read_only(struct pd_block_manager *bm);
void pd_bm_set_read_write(struct pd_block_manager *bm);
bool pd_bm_is_read_only(struct pd_block_manager *bm);

/* Forget every clean cached block so the next read comes from disk. */
void pd_bm_invalidate(struct pd_block_manager *bm);

/*
 * Implementation-specific constructors live in their own headers:
 * kernel/block-manager-bufio.h and user/include/bm-file.h.
 */
void pd_bm_destroy(struct pd_block_manager *bm);

/*
 * Checksum as every dm-thin metadata block uses: crc32c seeded with ~0 over
 * the block after its first 4 bytes, no final inversion, XOR a per-type
 * constant. Like the kernel's dm_bm_checksum(), it covers exactly [data,
 * data + len): callers pass the block + 4 and PD_BLOCK_SIZE - 4.
 */
u32 pd_block_checksum(const void *data, size_t len, u32 xor_value);

#endif
