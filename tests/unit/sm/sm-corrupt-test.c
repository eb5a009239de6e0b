// SPDX-License-Identifier: GPL-2.0-only
/*
 * Corrupt images: every damaged root, index entry, bitmap or ref-count tree
 * entry must give an error (never a crash, a loop or a silent success), and
 * plausible-but-wrong hints must be survived.
 */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "sm-test.h"
#include "btree-node.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP
#define META_BLOCKS 2048
#define DATA_BLOCKS (2 * EPB + 500)
#define SHARED_BLOCK 7		/* count 4: in the ref-count tree */

static char pristine[512];
static char damaged[512];

/* A pool with a few data blocks used, one of them four times. */
static void make_pristine(void)
{
	struct sm_pool pool;
	pd_block_t b;
	int i;

	if (pristine[0])
		return;
	snprintf(pristine, sizeof(pristine), "%s", sm_test_path("pristine.img"));
	snprintf(damaged, sizeof(damaged), "%s", sm_test_path("damaged.img"));

	sm_pool_create(&pool, pristine, META_BLOCKS, DATA_BLOCKS);
	for (i = 0; i < 20; i++)
		assert_int_equal(pd_sm_new_block(pool.dsm, &b), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(pd_sm_inc_block(pool.dsm, SHARED_BLOCK), 0);
	assert_int_equal(pd_sm_inc_blocks(pool.dsm, EPB, EPB + 10), 0);
	assert_int_equal(sm_pool_commit(&pool), 0);
	sm_pool_close(&pool);
}

static void copy_pristine(void)
{
	make_pristine();
	assert_int_equal(sm_test_run("cp '%s' '%s'", pristine, damaged), 0);
}

static void read_block(u64 b, void *data)
{
	int fd = open(damaged, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, data, PD_BLOCK_SIZE, b * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	close(fd);
}

/* Write a block back, re-stamped by v unless v is NULL. */
static void write_block(u64 b, void *data, const struct pd_block_validator *v)
{
	int fd = open(damaged, O_WRONLY);

	if (v)
		v->prepare_for_write(v, data, b);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, PD_BLOCK_SIZE, b * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	close(fd);
}

static struct thin_disk_superblock sb;
static u8 blk[PD_BLOCK_SIZE] __aligned(8);

static struct disk_sm_root *root_of(bool data)
{
	read_block(0, blk);
	memcpy(&sb, blk, sizeof(sb));
	return (struct disk_sm_root *)(data ? sb.data_space_map_root :
				       sb.metadata_space_map_root);
}

static void write_sb(void)
{
	memset(blk, 0, sizeof(blk));
	memcpy(blk, &sb, sizeof(sb));
	write_block(0, blk, &sm_test_sb_validator.v);
}

static int open_damaged(struct sm_pool *pool)
{
	return sm_pool_open(pool, damaged);
}

/*
 * The pristine image with one field of a space map's root (the data one if
 * data) set to value: opening it must fail with -EILSEQ.
 */
#define ROOT_FIELD(f) offsetof(struct disk_sm_root, f)
static void expect_root_refused(bool data, size_t field, u64 value)
{
	struct sm_pool pool;
	__le64 v = cpu_to_le64(value);

	copy_pristine();
	memcpy((char *)root_of(data) + field, &v, sizeof(v));
	write_sb();
	assert_int_equal(open_damaged(&pool), -EILSEQ);
}

/* ---- the metadata space map ---- */

static void test_meta_root_beyond_device(void **state)
{
	expect_root_refused(false, ROOT_FIELD(nr_blocks), META_BLOCKS + 1);
	expect_root_refused(false, ROOT_FIELD(nr_allocated), META_BLOCKS + 1);
	expect_root_refused(false, ROOT_FIELD(ref_count_root), 0);
}

static u64 meta_index_block(void)
{
	return le64_to_cpu(root_of(false)->bitmap_root);
}

static void damage_meta_index(u64 blocknr, u32 nr_free, u32 nfb)
{
	struct disk_metadata_index *mi = (void *)blk;
	u64 index = meta_index_block();

	read_block(index, blk);
	mi->index[0].blocknr = cpu_to_le64(blocknr);
	mi->index[0].nr_free = cpu_to_le32(nr_free);
	mi->index[0].none_free_before = cpu_to_le32(nfb);
	write_block(index, blk, &pd_sm_index_validator);
}

static void test_meta_index_entries(void **state)
{
	struct sm_pool pool;

	copy_pristine();
	damage_meta_index(META_BLOCKS, 100, 0);		/* off the device */
	assert_int_equal(open_damaged(&pool), -EILSEQ);

	copy_pristine();
	damage_meta_index(0, 100, 0);			/* the superblock */
	assert_int_equal(open_damaged(&pool), -EILSEQ);

	copy_pristine();
	damage_meta_index(3, EPB + 1, 0);
	assert_int_equal(open_damaged(&pool), -EILSEQ);

	copy_pristine();
	damage_meta_index(3, 100, EPB + 1);
	assert_int_equal(open_damaged(&pool), -EILSEQ);

	/* Pointing at the index block itself: not a valid bitmap. */
	copy_pristine();
	damage_meta_index(meta_index_block(), 100, 0);
	assert_true(open_damaged(&pool) < 0);
}

static void test_meta_bad_blocks(void **state)
{
	struct disk_metadata_index *mi = (void *)blk;
	struct sm_pool pool;
	u64 bitmap;

	/* A flipped bit in a bitmap. */
	copy_pristine();
	read_block(meta_index_block(), blk);
	bitmap = le64_to_cpu(mi->index[0].blocknr);
	read_block(bitmap, blk);
	blk[1000] ^= 4;
	write_block(bitmap, blk, NULL);
	assert_int_equal(open_damaged(&pool), -EILSEQ);

	/* The index block copied elsewhere: it names its old place. */
	copy_pristine();
	read_block(meta_index_block(), blk);
	write_block(META_BLOCKS - 1, blk, NULL);
	root_of(false)->bitmap_root = cpu_to_le64(META_BLOCKS - 1);
	write_sb();
	assert_int_equal(open_damaged(&pool), -ENOTBLK);
}

/* ---- the data space map ---- */

static void test_data_root(void **state)
{
	expect_root_refused(true, ROOT_FIELD(nr_allocated), DATA_BLOCKS + 1);
	expect_root_refused(true, ROOT_FIELD(bitmap_root), 0);
	expect_root_refused(true, ROOT_FIELD(ref_count_root), META_BLOCKS + 5);
}

/*
 * A fresh copy of the pristine image, its data index leaf read into blk
 * (the tree is a single leaf here): patch entry i, then write it back.
 */
static struct disk_index_entry *pristine_data_index(u64 *leaf)
{
	struct btree_node_header *h = (void *)blk;

	copy_pristine();
	*leaf = le64_to_cpu(root_of(true)->bitmap_root);
	read_block(*leaf, blk);
	assert_int_equal(le32_to_cpu(h->flags), BTREE_NODE_LEAF);
	assert_int_equal(le32_to_cpu(h->nr_entries), 3);
	return (void *)(blk + sizeof(*h) + 8 * le32_to_cpu(h->max_entries));
}

/*
 * The damaged image opens, but every operation that reaches block b of the
 * data space map fails (-EILSEQ); none hangs.
 */
static void opens_but_fails(pd_block_t b)
{
	struct sm_pool pool;
	pd_block_t got;
	u32 count;

	assert_int_equal(open_damaged(&pool), 0);
	assert_int_equal(pd_sm_get_count(pool.dsm, b, &count), -EILSEQ);
	assert_int_equal(pd_sm_inc_block(pool.dsm, b), -EILSEQ);
	assert_int_equal(pd_sm_dec_block(pool.dsm, b), -EILSEQ);
	assert_int_equal(pd_sm_set_count(pool.dsm, b, 1), -EILSEQ);
	if (!pd_sm_new_block(pool.dsm, &got))
		assert_int_not_equal(got, b);
	sm_pool_close(&pool);
}

static void test_data_index_entries(void **state)
{
	struct disk_index_entry *ie;
	struct sm_pool pool;
	pd_block_t got;
	u64 leaf;

	ie = pristine_data_index(&leaf);
	ie[1].blocknr = cpu_to_le64(META_BLOCKS + 100);
	write_block(leaf, blk, &pd_btree_node_validator);
	opens_but_fails(EPB + 3);

	ie = pristine_data_index(&leaf);
	ie[2].nr_free = cpu_to_le32(EPB + 5);
	write_block(leaf, blk, &pd_btree_node_validator);
	opens_but_fails(2 * EPB + 3);

	/* Bitmap 1 missing from the index. */
	ie = pristine_data_index(&leaf);
	((struct btree_node_header *)blk)->nr_entries = cpu_to_le32(1);
	write_block(leaf, blk, &pd_btree_node_validator);
	opens_but_fails(EPB + 3);

	/* "Nothing free" hints are trusted: no allocation, nothing else. */
	ie = pristine_data_index(&leaf);
	ie[0].nr_free = ie[1].nr_free = ie[2].nr_free = 0;
	write_block(leaf, blk, &pd_btree_node_validator);
	assert_int_equal(open_damaged(&pool), 0);
	assert_int_equal(pd_sm_new_block(pool.dsm, &got), -ENOSPC);
	assert_int_equal(pd_sm_inc_block(pool.dsm, 100), 0);
	sm_pool_close(&pool);

	/*
	 * The kernel writes nr_free = 16320 for a partial last bitmap: the
	 * search stays below nr_blocks and the hint is exact once rewritten.
	 */
	ie = pristine_data_index(&leaf);
	ie[2].nr_free = cpu_to_le32(EPB);
	write_block(leaf, blk, &pd_btree_node_validator);
	assert_int_equal(open_damaged(&pool), 0);
	assert_int_equal(pd_sm_set_count(pool.dsm, 2 * EPB, 1), 0);
	while (!pd_sm_new_block(pool.dsm, &got))
		assert_true(got < DATA_BLOCKS);
	assert_int_equal(pd_sm_get_nr_free(pool.dsm, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(sm_pool_commit(&pool), 0);
	sm_pool_close(&pool);
	free(sm_pool_verify_image(damaged, NULL, 0, NULL));

	/* Too-high hints are survived: the search is bounded anyway. */
	ie = pristine_data_index(&leaf);
	ie[0].none_free_before = cpu_to_le32(EPB);
	write_block(leaf, blk, &pd_btree_node_validator);
	assert_int_equal(open_damaged(&pool), 0);
	assert_int_equal(pd_sm_new_block(pool.dsm, &got), 0);
	assert_true(got >= 20 && got != SHARED_BLOCK);
	sm_pool_close(&pool);
}

static void test_data_counts(void **state)
{
	struct disk_index_entry *ie;
	struct btree_node_header *h = (void *)blk;
	u64 leaf, bitmap, ref;

	/* A "3" with no tree entry. */
	ie = pristine_data_index(&leaf);
	bitmap = le64_to_cpu(ie[0].blocknr);
	read_block(bitmap, blk);
	pd_sm_bitmap_set(blk, 5, 3);
	write_block(bitmap, blk, &pd_sm_bitmap_validator);
	opens_but_fails(5);

	/* A tree entry below 3. */
	copy_pristine();
	ref = le64_to_cpu(root_of(true)->ref_count_root);
	read_block(ref, blk);
	assert_int_equal(le32_to_cpu(h->nr_entries), 1);
	put_unaligned_le32(2, blk + sizeof(*h) +
			   8 * le32_to_cpu(h->max_entries));
	write_block(ref, blk, &pd_btree_node_validator);
	opens_but_fails(SHARED_BLOCK);

	/* A bitmap with a bad checksum. */
	ie = pristine_data_index(&leaf);
	bitmap = le64_to_cpu(ie[0].blocknr);
	read_block(bitmap, blk);
	blk[300] ^= 1;
	write_block(bitmap, blk, NULL);
	opens_but_fails(3);
}

/* The pristine image itself is fine, and dec of a free block refused. */
static void test_pristine(void **state)
{
	struct sm_pool pool;
	u32 count;

	copy_pristine();
	assert_int_equal(open_damaged(&pool), 0);
	assert_int_equal(pd_sm_get_count(pool.dsm, SHARED_BLOCK, &count), 0);
	assert_int_equal(count, 4);
	assert_int_equal(pd_sm_dec_block(pool.dsm, 100), -EINVAL);
	assert_int_equal(pd_sm_inc_block(pool.dsm, DATA_BLOCKS), -EINVAL);
	assert_int_equal(pd_sm_inc_blocks(pool.dsm, 5, 3), -EINVAL);
	sm_pool_close(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pristine),
		cmocka_unit_test(test_meta_root_beyond_device),
		cmocka_unit_test(test_meta_index_entries),
		cmocka_unit_test(test_meta_bad_blocks),
		cmocka_unit_test(test_data_root),
		cmocka_unit_test(test_data_index_entries),
		cmocka_unit_test(test_data_counts),
	};

	return SM_RUN_TESTS(tests);
}
