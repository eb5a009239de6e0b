/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the space-map host tests: the cmocka runner with the
 * project's "N passed, N failed" summary line, raw image access, and a
 * thin_restore image generator with its expected reference counts.
 */
#ifndef SM_TEST_H
#define SM_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "space-map-common.h"
#include "space-map-disk.h"
#include "space-map-metadata.h"
#include "bm-file.h"
#include "test-common.h"

/* Sanitized builds run several times slower: they sweep more sparsely. */
#ifdef SM_TEST_SANITIZED
#define SM_TEST_STRIDE 3
#else
#define SM_TEST_STRIDE 1
#endif

/* Run a cmocka group and print the summary line; the exit status. */
#define SM_RUN_TESTS(tests) \
	test_summary(ARRAY_SIZE(tests), \
		     cmocka_run_group_tests(tests, NULL, NULL))

/* test_scratch_dir()/name, in one static buffer (copy it). */
char *sm_test_path(const char *name);

/* ---- raw images ---- */

struct sm_image {
	u8 *data;
	u64 nr_blocks;
};

void sm_image_load(struct sm_image *img, const char *path);
void sm_image_free(struct sm_image *img);
const void *sm_image_block(const struct sm_image *img, u64 b);

/* Visit every node of a btree (pre-order); leaf_fn gets each leaf entry. */
typedef void (*sm_node_fn)(void *ctx, u64 block);
typedef void (*sm_leaf_fn)(void *ctx, u64 key, const void *value);
void sm_image_walk(const struct sm_image *img, u64 root, sm_node_fn node_fn,
		   sm_leaf_fn leaf_fn, void *ctx);

/*
 * A space map decoded straight from an image (no library I/O): the count of
 * every block, bitmaps and index blocks checked with the validators, tree
 * entries checked to be for bitmap "3"s and >= 3. With exact_hints, index
 * hints must be exact (nr_free) and correct (none_free_before).
 */
struct sm_decoded {
	u64 nr_blocks;
	u64 nr_allocated;	/* as the root says */
	u32 *counts;
	u32 nr_ref_entries;
};

void sm_image_decode(const struct sm_image *img, bool data, bool exact_hints,
		     struct sm_decoded *sm);
void sm_decoded_free(struct sm_decoded *sm);
u64 sm_decoded_used(const struct sm_decoded *sm);

/* ---- thin_restore images ---- */

/* What the generated metadata must say: a data count per data block. */
struct sm_restore_expect {
	u64 nr_data_blocks;
	u32 *data_counts;
};

/*
 * Write an XML pool description with several devices sharing data blocks
 * (counts up to > 100, ref-count tree with several leaves, bitmaps past the
 * first, a partial last bitmap), run thin_restore on a file of
 * nr_meta_blocks blocks, and fill *expect. Returns false if thin_restore is
 * missing or fails.
 */
bool sm_restore_image(const char *path, u64 nr_meta_blocks,
		      struct sm_restore_expect *expect);
void sm_restore_expect_free(struct sm_restore_expect *expect);

/*
 * Count, per metadata block, the references the image's structures make
 * (superblock, both space maps, both thin trees) into counts[nr_blocks].
 */
void sm_image_metadata_refs(const struct sm_image *img, u32 *counts);

/* ---- a pool: both space maps plus empty thin trees, thin superblock ---- */

struct sm_pool {
	struct pd_block_manager *bm;
	struct pd_transaction_manager *tm;
	struct pd_space_map *msm;
	struct pd_space_map *dsm;
	struct thin_disk_superblock sb;	/* in core; roots filled at commit */
};

extern const struct test_validator sm_test_sb_validator;

/* Format nr_meta_blocks of path; data space map of nr_data_blocks. */
void sm_pool_create(struct sm_pool *pool, const char *path,
		    u64 nr_meta_blocks, u64 nr_data_blocks);
/*
 * The same on a file of file_blocks whose metadata space map covers only
 * meta_blocks (room to extend it), with a block cache of cache_blocks.
 */
void sm_pool_create_ex(struct sm_pool *pool, const char *path,
		       u64 file_blocks, u64 meta_blocks, u64 nr_data_blocks,
		       unsigned int cache_blocks);
/* 0 or the first error; on error the pool is closed. */
int sm_pool_open(struct sm_pool *pool, const char *path);
int sm_pool_open_ex(struct sm_pool *pool, const char *path,
		    unsigned int cache_blocks);

/*
 * Decode the committed image at path and check it exactly: data counts
 * (data_counts[nr_data_blocks], NULL to skip), metadata counts = the
 * references its structures make + meta_user[] (NULL: none), both roots'
 * nr_allocated, all hints. Returns the metadata counts decoded (free it).
 */
u32 *sm_pool_verify_image(const char *path, const u32 *data_counts,
			  u64 nr_data_blocks, const u32 *meta_user);
int sm_pool_commit(struct sm_pool *pool);
void sm_pool_close(struct sm_pool *pool);

/* The space map's count of block b is want (a test failure otherwise). */
void sm_assert_count(struct pd_space_map *sm, pd_block_t b, u32 want);

/* The exit status of a shell command (-1 if it could not run). */
int sm_test_run(const char *fmt, ...) __printf(1, 2);

#endif
