// SPDX-License-Identifier: GPL-2.0-only
/*
 * The space maps against real images: the fresh layout dm-thin produces,
 * images written by thin_restore opened and changed through the library,
 * and what the library writes checked by thin_check and the shared parser.
 */
#include "sm-test.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP

static void read_root(const struct sm_image *img, bool data,
		      struct disk_sm_root *root)
{
	const struct thin_disk_superblock *sb = sm_image_block(img, 0);

	memcpy(root, data ? sb->data_space_map_root :
	       sb->metadata_space_map_root, sizeof(*root));
}

/* Commit pool and close it; load its image and the metadata sm's root. */
static void commit_and_load(struct sm_pool *pool, const char *path,
			    struct sm_image *img, struct disk_sm_root *root)
{
	assert_int_equal(sm_pool_commit(pool), 0);
	sm_pool_close(pool);
	sm_image_load(img, path);
	read_root(img, false, root);
}

/* thin_check (thin-provisioning-tools) and the shared parser agree. */
static void assert_tools_accept(const char *path)
{
	if (sm_test_run("PATH=$PATH:/usr/sbin:/sbin; which thin_check >/dev/null 2>&1") == 0)
		assert_int_equal(sm_test_run("PATH=$PATH:/usr/sbin:/sbin; thin_check '%s' >/dev/null 2>&1",
					     path), 0);
	else
		fprintf(stderr, "thin_check not found: not checked\n");
	if (sm_test_run("test -r /work/shared/tools/dmthin_parse.py") == 0)
		assert_int_equal(sm_test_run("python3 /work/shared/tools/dmthin_parse.py '%s' 2>&1 | grep -q 'ok False\\|bitmap ok False\\|Traceback' && exit 1 || exit 0",
					     path), 0);
}

/* dm-thin's fresh layout: 0 sb, 1 index, 2 meta ref-count root, 3 bitmap,
 * 4 data index root, 5 data ref-count root, then the thin trees. */
static void test_fresh_layout(void **state)
{
	char *path = strdup(sm_test_path("fresh.img"));
	struct disk_sm_root root;
	struct sm_pool pool;
	struct sm_image img;
	pd_block_t b, n;

	sm_pool_create(&pool, path, 2048, 0);
	for (b = 0; b < 8; b++)
		sm_assert_count(pool.msm, b, 1);
	sm_assert_count(pool.msm, 8, 0);
	assert_int_equal(le64_to_cpu(pool.sb.data_mapping_root), 6);
	assert_int_equal(le64_to_cpu(pool.sb.device_details_root), 7);
	assert_int_equal(pd_sm_get_nr_blocks(pool.msm, &n), 0);
	assert_int_equal(n, 2048);
	assert_int_equal(pd_sm_get_nr_free(pool.msm, &n), 0);
	assert_int_equal(n, 2048 - 8);
	commit_and_load(&pool, path, &img, &root);
	assert_int_equal(le64_to_cpu(root.nr_blocks), 2048);
	assert_int_equal(le64_to_cpu(root.nr_allocated), 8);
	assert_int_equal(le64_to_cpu(root.bitmap_root), 1);
	assert_int_equal(le64_to_cpu(root.ref_count_root), 2);
	read_root(&img, true, &root);
	assert_int_equal(le64_to_cpu(root.nr_blocks), 0);
	assert_int_equal(le64_to_cpu(root.bitmap_root), 4);
	assert_int_equal(le64_to_cpu(root.ref_count_root), 5);
	sm_image_free(&img);

	assert_tools_accept(path);
	free(path);
}

/* Above 16320 blocks every bitmap follows the ref-count root. */
static void test_fresh_layout_multi_bitmap(void **state)
{
	char *path = strdup(sm_test_path("fresh3.img"));
	const struct disk_metadata_index *mi;
	struct disk_sm_root root;
	struct sm_pool pool;
	struct sm_image img;
	u64 i;

	sm_pool_create(&pool, path, 3 * EPB + 100, 1000);
	commit_and_load(&pool, path, &img, &root);
	assert_int_equal(le64_to_cpu(root.bitmap_root), 1);
	assert_int_equal(le64_to_cpu(root.ref_count_root), 2);
	mi = sm_image_block(&img, 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(le64_to_cpu(mi->index[i].blocknr), 3 + i);
	assert_int_equal(le64_to_cpu(mi->index[4].blocknr), 0);
	assert_int_equal(le32_to_cpu(mi->index[3].nr_free), 100);
	/* 0..6, data index + ref root + bitmap, two thin trees. */
	assert_int_equal(le64_to_cpu(root.nr_allocated), 12);
	read_root(&img, true, &root);
	assert_int_equal(le64_to_cpu(root.bitmap_root), 7);
	assert_int_equal(le64_to_cpu(root.ref_count_root), 8);
	sm_image_free(&img);

	assert_tools_accept(path);
	free(path);
}

struct restored_pool {
	char *path;
	struct sm_restore_expect expect;
	struct sm_pool pool;
};

static bool restored_open(struct restored_pool *rp)
{
	rp->path = strdup(sm_test_path("restored.img"));
	if (!sm_restore_image(rp->path, 2048, &rp->expect)) {
		free(rp->path);
		return false;
	}
	assert_int_equal(sm_pool_open(&rp->pool, rp->path), 0);
	return true;
}

static void restored_close(struct restored_pool *rp)
{
	sm_pool_close(&rp->pool);
	sm_restore_expect_free(&rp->expect);
	free(rp->path);
}

/* Every count of both space maps against what the image references. */
static void check_restored_counts(struct restored_pool *rp,
				  const u32 *data_delta)
{
	struct sm_image img;
	pd_block_t b, n, used = 0;
	u32 *refs;

	for (b = 0; b < rp->expect.nr_data_blocks; b++) {
		sm_assert_count(rp->pool.dsm, b, rp->expect.data_counts[b] +
				(data_delta ? data_delta[b] : 0));
		used += rp->expect.data_counts[b] != 0;
	}
	assert_int_equal(pd_sm_get_nr_free(rp->pool.dsm, &n), 0);
	assert_int_equal(pd_sm_get_nr_blocks(rp->pool.dsm, &b), 0);
	if (!data_delta)
		assert_int_equal(n, b - used);

	sm_image_load(&img, rp->path);
	refs = calloc(img.nr_blocks, sizeof(u32));
	assert_non_null(refs);
	sm_image_metadata_refs(&img, refs);
	used = 0;
	for (b = 0; b < img.nr_blocks; b++) {
		sm_assert_count(rp->pool.msm, b, refs[b]);
		used += refs[b] != 0;
	}
	/* Exact although the root's nr_allocated is one off. */
	assert_int_equal(pd_sm_get_nr_free(rp->pool.msm, &n), 0);
	assert_int_equal(n, img.nr_blocks - used);
	free(refs);
	sm_image_free(&img);
}

static void test_restore_open(void **state)
{
	struct restored_pool rp;

	if (!restored_open(&rp))
		skip();
	check_restored_counts(&rp, NULL);
	restored_close(&rp);
}

/*
 * Change a restored image so that every count comes back to what the
 * mappings say (through the ref-count tree and back, across bitmaps), grow
 * the data space map, commit, reopen: counts exact, thin_check happy.
 */
static void test_restore_roundtrip(void **state)
{
	static const pd_block_t blocks[] = { 0, 399, 400, 45000, 16319, 16320,
					     49999, 1199, 1200, 30000 };
	struct restored_pool rp;
	pd_block_t b, got[20];
	unsigned int i, j;
	u32 count;

	if (!restored_open(&rp))
		skip();

	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		b = blocks[i];
		for (j = 0; j < 4; j++)
			assert_int_equal(pd_sm_inc_block(rp.pool.dsm, b), 0);
		for (j = 0; j < 4; j++)
			assert_int_equal(pd_sm_dec_block(rp.pool.dsm, b), 0);
	}
	assert_int_equal(pd_sm_inc_blocks(rp.pool.dsm, 390, 410), 0);
	assert_int_equal(pd_sm_dec_blocks(rp.pool.dsm, 390, 410), 0);

	/* New data blocks come from free space only; then give them back. */
	for (i = 0; i < ARRAY_SIZE(got); i++) {
		assert_int_equal(pd_sm_new_block(rp.pool.dsm, &got[i]), 0);
		assert_int_equal(rp.expect.data_counts[got[i]], 0);
	}
	for (i = 0; i < ARRAY_SIZE(got); i++)
		assert_int_equal(pd_sm_dec_block(rp.pool.dsm, got[i]), 0);

	assert_int_equal(pd_sm_extend(rp.pool.dsm, 30000), 0);
	assert_int_equal(sm_pool_commit(&rp.pool), 0);
	check_restored_counts(&rp, NULL);

	sm_pool_close(&rp.pool);
	assert_tools_accept(rp.path);
	assert_int_equal(sm_pool_open(&rp.pool, rp.path), 0);
	check_restored_counts(&rp, NULL);
	assert_int_equal(pd_sm_get_count(rp.pool.dsm, 79999, &count), 0);
	assert_int_equal(pd_sm_get_count(rp.pool.dsm, 80000, &count), -EINVAL);
	restored_close(&rp);
}

/* The index block's 255 bitmaps: the device beyond them is not used. */
static void test_metadata_max(void **state)
{
	char *path = strdup(sm_test_path("max.img"));
	const pd_block_t max = PD_METADATA_MAX_BLOCKS;
	const struct disk_metadata_index *mi;
	struct disk_sm_root root;
	struct sm_pool pool;
	struct sm_image img;
	u32 *counts, *user;
	pd_block_t n, b;

	sm_pool_create(&pool, path, max + 5000, 100);
	assert_int_equal(pd_sm_get_nr_blocks(pool.msm, &n), 0);
	assert_int_equal(n, max);
	assert_int_equal(pd_sm_extend(pool.msm, 1000), 0);
	assert_int_equal(pd_sm_get_nr_blocks(pool.msm, &n), 0);
	assert_int_equal(n, max);

	/* The very last block can be used, and nothing past it. */
	assert_int_equal(pd_sm_inc_block(pool.msm, max - 1), 0);
	assert_int_equal(pd_sm_inc_block(pool.msm, max), -EINVAL);
	assert_int_equal(pd_sm_get_nr_free(pool.msm, &n), 0);
	/* sb, index, ref-count root, 255 bitmaps, data sm 3, 2 trees. */
	assert_int_equal(n, max - (3 + 255 + 3 + 2) - 1);
	commit_and_load(&pool, path, &img, &root);
	assert_int_equal(le64_to_cpu(root.nr_blocks), max);
	mi = sm_image_block(&img, le64_to_cpu(root.bitmap_root));
	for (b = 0; b < MAX_METADATA_BITMAPS; b++)
		assert_int_equal(le64_to_cpu(mi->index[b].blocknr), 3 + b);
	sm_image_free(&img);

	/* On disk: every count as the structures say, plus our block. */
	user = calloc(max + 5000, sizeof(u32));
	assert_non_null(user);
	user[max - 1] = 1;
	counts = sm_pool_verify_image(path, NULL, 0, user);
	free(counts);
	free(user);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_layout),
		cmocka_unit_test(test_fresh_layout_multi_bitmap),
		cmocka_unit_test(test_restore_open),
		cmocka_unit_test(test_restore_roundtrip),
		cmocka_unit_test(test_metadata_max),
	};

	return SM_RUN_TESTS(tests);
}
