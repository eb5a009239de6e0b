// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for the space-map host tests (see sm-test.h).
 */
#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sm-test.h"

char *sm_test_path(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", test_scratch_dir(), name);
	return path;
}

/* ---- raw images ---- */

/* Mapped, not read: images are large and sparse, and few blocks matter. */
void sm_image_load(struct sm_image *img, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	img->nr_blocks = st.st_size / PD_BLOCK_SIZE;
	img->data = mmap(NULL, img->nr_blocks * PD_BLOCK_SIZE, PROT_READ,
			 MAP_PRIVATE, fd, 0);
	assert_true(img->data != MAP_FAILED);
	close(fd);
}

void sm_image_free(struct sm_image *img)
{
	munmap(img->data, img->nr_blocks * PD_BLOCK_SIZE);
	img->data = NULL;
}

const void *sm_image_block(const struct sm_image *img, u64 b)
{
	assert_true(b < img->nr_blocks);
	return img->data + b * PD_BLOCK_SIZE;
}

void sm_image_walk(const struct sm_image *img, u64 root, sm_node_fn node_fn,
		   sm_leaf_fn leaf_fn, void *ctx)
{
	const struct btree_node_header *h = sm_image_block(img, root);
	const u8 *base = (const u8 *)h;
	const __le64 *keys = (const __le64 *)(base + sizeof(*h));
	u32 nr = le32_to_cpu(h->nr_entries);
	u32 max = le32_to_cpu(h->max_entries);
	u32 vsize = le32_to_cpu(h->value_size);
	const u8 *values = base + sizeof(*h) + 8 * max;
	u32 i;

	assert_int_equal(le64_to_cpu(h->blocknr), root);
	assert_true(nr <= max);
	if (node_fn)
		node_fn(ctx, root);

	for (i = 0; i < nr; i++) {
		if (le32_to_cpu(h->flags) & BTREE_NODE_INTERNAL)
			sm_image_walk(img,
				      get_unaligned_le64(values + 8 * i),
				      node_fn, leaf_fn, ctx);
		else if (leaf_fn)
			leaf_fn(ctx, le64_to_cpu(keys[i]), values + vsize * i);
	}
}

/* ---- references between metadata blocks ---- */

struct ref_ctx {
	const struct sm_image *img;
	u32 *counts;
};

static void count_node(void *ctx, u64 b)
{
	struct ref_ctx *rc = ctx;

	rc->counts[b]++;
}

static void count_index_value(void *ctx, u64 key, const void *value)
{
	const struct disk_index_entry *ie = value;

	count_node(ctx, le64_to_cpu(ie->blocknr));
}

static void count_subtree(void *ctx, u64 key, const void *value)
{
	struct ref_ctx *rc = ctx;

	sm_image_walk(rc->img, get_unaligned_le64(value), count_node, NULL,
		      ctx);
}

static void read_root(const struct thin_disk_superblock *sb, bool data,
		      struct disk_sm_root *root)
{
	memcpy(root, data ? sb->data_space_map_root :
	       sb->metadata_space_map_root, sizeof(*root));
}

void sm_image_metadata_refs(const struct sm_image *img, u32 *counts)
{
	const struct thin_disk_superblock *sb = sm_image_block(img, 0);
	const struct disk_metadata_index *mi;
	struct ref_ctx rc = { img, counts };
	struct disk_sm_root root;
	u64 i;

	memset(counts, 0, img->nr_blocks * sizeof(*counts));
	counts[0]++;

	read_root(sb, false, &root);
	counts[le64_to_cpu(root.bitmap_root)]++;
	mi = sm_image_block(img, le64_to_cpu(root.bitmap_root));
	for (i = 0; i < pd_sm_nr_bitmaps(le64_to_cpu(root.nr_blocks)); i++)
		counts[le64_to_cpu(mi->index[i].blocknr)]++;
	sm_image_walk(img, le64_to_cpu(root.ref_count_root), count_node, NULL,
		      &rc);

	read_root(sb, true, &root);
	sm_image_walk(img, le64_to_cpu(root.bitmap_root), count_node,
		      count_index_value, &rc);
	sm_image_walk(img, le64_to_cpu(root.ref_count_root), count_node, NULL,
		      &rc);

	sm_image_walk(img, le64_to_cpu(sb->data_mapping_root), count_node,
		      count_subtree, &rc);
	sm_image_walk(img, le64_to_cpu(sb->device_details_root), count_node,
		      NULL, &rc);
}

/* ---- thin_restore images ---- */

#define RESTORE_DATA_BLOCKS 50000

struct xml_out {
	FILE *f;
	struct sm_restore_expect *expect;
};

static void xml_range(struct xml_out *x, u64 vbegin, u64 dbegin, u64 len)
{
	u64 i;

	fprintf(x->f, "    <range_mapping origin_begin=\"%llu\" data_begin=\"%llu\" length=\"%llu\" time=\"0\"/>\n",
		(unsigned long long)vbegin, (unsigned long long)dbegin,
		(unsigned long long)len);
	for (i = 0; i < len; i++)
		x->expect->data_counts[dbegin + i]++;
}

static void xml_device(struct xml_out *x, u32 dev, u64 mapped)
{
	fprintf(x->f, "  <device dev_id=\"%u\" mapped_blocks=\"%llu\" transaction=\"0\" creation_time=\"0\" snap_time=\"0\">\n",
		dev, (unsigned long long)mapped);
}

/* The image's devices: its mapped blocks and its ranges. */
static const struct xml_dev {
	u32 dev;
	u64 mapped;
	struct { u64 vbegin, dbegin, len; } ranges[4];	/* len 0 ends */
} xml_devs[] = {
	/* Blocks 0..399 end up with count 3, 400..599 with 2, then 1. */
	{ 1, 1200, { { 0, 0, 1200 } } },
	{ 2, 600, { { 0, 0, 600 } } },
	{ 3, 400, { { 0, 0, 400 } } },
	/* Counts 5 and 4 at the start, 2..1 past the first bitmap. */
	{ 4, 117, { { 0, 0, 5 }, { 10, 16319, 3 }, { 20, 40000, 9 },
		    { 100, 49900, 100 } } },
	{ 5, 13, { { 0, 0, 2 }, { 50, 16320, 1 }, { 60, 49990, 10 } } },
};

static void xml_write(struct xml_out *x)
{
	const struct xml_dev *d;
	unsigned int i;
	u32 dev;

	fprintf(x->f, "<superblock uuid=\"\" time=\"1\" transaction=\"1\" flags=\"0\" version=\"2\" data_block_size=\"128\" nr_data_blocks=\"%u\">\n",
		RESTORE_DATA_BLOCKS);

	for (d = xml_devs; d < xml_devs + ARRAY_SIZE(xml_devs); d++) {
		xml_device(x, d->dev, d->mapped);
		for (i = 0; i < ARRAY_SIZE(d->ranges) && d->ranges[i].len; i++)
			xml_range(x, d->ranges[i].vbegin, d->ranges[i].dbegin,
				  d->ranges[i].len);
		fprintf(x->f, "  </device>\n");
	}

	/* Many small devices sharing one block: a count of 130. */
	for (dev = 10; dev < 140; dev++) {
		xml_device(x, dev, 1);
		xml_range(x, 7, 45000, 1);
		fprintf(x->f, "  </device>\n");
	}
	fprintf(x->f, "</superblock>\n");
}

bool sm_restore_image(const char *path, u64 nr_meta_blocks,
		      struct sm_restore_expect *expect)
{
	char xml[600], cmd[1400];
	struct xml_out x;
	int status;

	expect->nr_data_blocks = RESTORE_DATA_BLOCKS;
	expect->data_counts = calloc(RESTORE_DATA_BLOCKS, sizeof(u32));
	assert_non_null(expect->data_counts);

	snprintf(xml, sizeof(xml), "%s.xml", path);
	x.f = fopen(xml, "w");
	assert_non_null(x.f);
	x.expect = expect;
	xml_write(&x);
	fclose(x.f);

	test_make_file(path, nr_meta_blocks);
	snprintf(cmd, sizeof(cmd), "thin_restore -i '%s' -o '%s' >/dev/null 2>&1",
		 xml, path);
	status = system(cmd);
	if (status) {
		fprintf(stderr, "thin_restore failed (%d)\n", status);
		return false;
	}
	return true;
}

void sm_restore_expect_free(struct sm_restore_expect *expect)
{
	free(expect->data_counts);
	expect->data_counts = NULL;
}

/* ---- pools ---- */

/* The thin superblock's location, checksum and magic. */
const struct test_validator sm_test_sb_validator =
	TEST_VALIDATOR("sm_test_superblock", SUPERBLOCK_CSUM_XOR,
		       .magic_offset = offsetof(struct thin_disk_superblock,
						magic),
		       .magic = THIN_SUPERBLOCK_MAGIC);

static __le64 empty_tree(struct sm_pool *pool, unsigned int levels,
			 u32 vsize)
{
	struct pd_btree_info info = { .tm = pool->tm, .levels = levels };
	pd_block_t b;

	info.value_type.size = vsize;
	assert_int_equal(pd_btree_empty(&info, &b), 0);
	return cpu_to_le64(b);
}

static void pool_finish_create(struct sm_pool *pool, u64 nr_meta_blocks,
			       u64 nr_data_blocks)
{
	assert_int_equal(pd_sm_disk_create(pool->tm, nr_data_blocks,
					   &pool->dsm), 0);
	pool->sb.data_mapping_root = empty_tree(pool, 2, 8);
	pool->sb.device_details_root =
		empty_tree(pool, 1, sizeof(struct disk_device_details));

	pool->sb.magic = cpu_to_le64(THIN_SUPERBLOCK_MAGIC);
	pool->sb.version = cpu_to_le32(THIN_VERSION);
	pool->sb.data_block_size = cpu_to_le32(128);
	pool->sb.metadata_block_size = cpu_to_le32(THIN_METADATA_BLOCK_SECTORS);
	pool->sb.metadata_nr_blocks = cpu_to_le64(nr_meta_blocks);
}

void sm_pool_create(struct sm_pool *pool, const char *path,
		    u64 nr_meta_blocks, u64 nr_data_blocks)
{
	memset(pool, 0, sizeof(*pool));
	test_make_file(path, nr_meta_blocks);
	assert_int_equal(pd_bm_file_open(path, false, 0, &pool->bm), 0);
	assert_int_equal(pd_tm_create_with_sm(pool->bm, 0, &pool->tm,
					      &pool->msm), 0);
	pool_finish_create(pool, nr_meta_blocks, nr_data_blocks);
}

void sm_pool_create_ex(struct sm_pool *pool, const char *path,
		       u64 file_blocks, u64 meta_blocks, u64 nr_data_blocks,
		       unsigned int cache_blocks)
{
	memset(pool, 0, sizeof(*pool));
	test_make_file(path, file_blocks);
	assert_int_equal(pd_bm_file_open(path, false, cache_blocks, &pool->bm),
			 0);
	pool->msm = pd_sm_metadata_init();
	assert_false(IS_ERR_OR_NULL(pool->msm));
	assert_int_equal(pd_tm_create(pool->bm, pool->msm, &pool->tm), 0);
	assert_int_equal(pd_sm_metadata_create(pool->msm, pool->tm, meta_blocks,
					       0), 0);
	pool_finish_create(pool, meta_blocks, nr_data_blocks);
}

int sm_pool_commit(struct sm_pool *pool)
{
	struct pd_block *blk;
	int r;

	r = pd_sm_commit(pool->dsm);
	if (!r)
		r = pd_tm_pre_commit(pool->tm);
	if (!r)
		r = pd_sm_copy_root(pool->dsm, pool->sb.data_space_map_root,
				    THIN_SPACE_MAP_ROOT_SIZE);
	if (!r)
		r = pd_sm_copy_root(pool->msm, pool->sb.metadata_space_map_root,
				    THIN_SPACE_MAP_ROOT_SIZE);
	if (!r)
		r = pd_bm_write_lock_zero(pool->bm, 0, &sm_test_sb_validator.v,
					  &blk);
	if (r)
		return r;

	memcpy(pd_block_data(blk), &pool->sb, sizeof(pool->sb));
	return pd_tm_commit(pool->tm, blk);
}

void sm_pool_close(struct sm_pool *pool)
{
	pd_sm_destroy(pool->dsm);
	pd_tm_destroy(pool->tm);
	pd_sm_destroy(pool->msm);
	pd_bm_destroy(pool->bm);
	memset(pool, 0, sizeof(*pool));
}

int sm_pool_open(struct sm_pool *pool, const char *path)
{
	return sm_pool_open_ex(pool, path, 0);
}

int sm_pool_open_ex(struct sm_pool *pool, const char *path,
		    unsigned int cache_blocks)
{
	struct pd_block *blk;
	int r;

	memset(pool, 0, sizeof(*pool));
	r = pd_bm_file_open(path, false, cache_blocks, &pool->bm);
	if (r)
		return r;
	r = pd_bm_read_lock(pool->bm, 0, &sm_test_sb_validator.v, &blk);
	if (r)
		goto fail;
	memcpy(&pool->sb, pd_block_data(blk), sizeof(pool->sb));
	pd_bm_unlock(blk);

	r = pd_tm_open_with_sm(pool->bm, 0, pool->sb.metadata_space_map_root,
			       THIN_SPACE_MAP_ROOT_SIZE, &pool->tm, &pool->msm);
	if (r) {
		/* Both were destroyed on the way out. */
		pool->tm = NULL;
		pool->msm = NULL;
		goto fail;
	}
	r = pd_sm_disk_open(pool->tm, pool->sb.data_space_map_root,
			    THIN_SPACE_MAP_ROOT_SIZE, &pool->dsm);
	if (r)
		goto fail;
	return 0;

fail:
	sm_pool_close(pool);
	return r;
}

void sm_assert_count(struct pd_space_map *sm, pd_block_t b, u32 want)
{
	u32 count;

	assert_int_equal(pd_sm_get_count(sm, b, &count), 0);
	if (count != want)
		fail_msg("block %llu: count %u, expected %u",
			 (unsigned long long)b, count, want);
}

int sm_test_run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- decoding space maps from an image ---- */

#define EPB PD_SM_ENTRIES_PER_BITMAP

struct decode_ctx {
	const struct sm_image *img;
	struct sm_decoded *sm;
	bool exact_hints;
	u64 next_index;
};

static void decode_ref_count(void *ctx, u64 key, const void *value)
{
	struct sm_decoded *sm = ((struct decode_ctx *)ctx)->sm;
	u32 count = get_unaligned_le32(value);

	if (key >= sm->nr_blocks || sm->counts[key] != 3 || count < 3)
		fail_msg("ref-count tree: block %llu count %u, bitmap says %u",
			 (unsigned long long)key, count,
			 key < sm->nr_blocks ? sm->counts[key] : 0);
	sm->counts[key] = count;
	sm->nr_ref_entries++;
}

static void decode_bitmap(struct decode_ctx *dc, u64 index,
			  const struct disk_index_entry *d)
{
	struct sm_decoded *sm = dc->sm;
	struct pd_sm_index_entry ie;
	u32 e, span, nr_free = 0, first = EPB;
	const void *bitmap;

	pd_sm_index_entry_unpack(d, &ie);
	bitmap = sm_image_block(dc->img, ie.blocknr);
	assert_int_equal(pd_sm_bitmap_validator.check(&pd_sm_bitmap_validator,
						      bitmap, ie.blocknr), 0);

	span = min_t(u64, EPB, sm->nr_blocks - index * EPB);
	for (e = 0; e < span; e++) {
		sm->counts[index * EPB + e] = pd_sm_bitmap_get(bitmap, e);
		if (!sm->counts[index * EPB + e]) {
			nr_free++;
			first = min(first, e);
		}
	}
	/* Entries past the end are never used. */
	for (; e < EPB; e++)
		assert_int_equal(pd_sm_bitmap_get(bitmap, e), 0);

	/*
	 * thin_restore 0.9 leaves the metadata bitmap's hints stale for a
	 * block it frees last, so only plausibility is asked of others.
	 */
	assert_true(ie.nr_free <= EPB && ie.none_free_before <= EPB);
	if (dc->exact_hints &&
	    (ie.nr_free != nr_free || ie.none_free_before > first))
		fail_msg("bitmap %llu: nr_free %u (counted %u), none_free_before %u (first free %u)",
			 (unsigned long long)index, ie.nr_free, nr_free,
			 ie.none_free_before, first);
}

static void decode_index_value(void *ctx, u64 key, const void *value)
{
	struct decode_ctx *dc = ctx;

	/* Keys are the bitmap numbers, all present, in order. */
	assert_int_equal(key, dc->next_index);
	dc->next_index++;
	decode_bitmap(dc, key, value);
}

void sm_image_decode(const struct sm_image *img, bool data, bool exact_hints,
		     struct sm_decoded *sm)
{
	const struct thin_disk_superblock *sb = sm_image_block(img, 0);
	struct decode_ctx dc = { img, sm, exact_hints, 0 };
	const struct disk_metadata_index *mi;
	struct disk_sm_root root;
	u64 i, nr_bitmaps;

	read_root(sb, data, &root);
	sm->nr_blocks = le64_to_cpu(root.nr_blocks);
	sm->nr_allocated = le64_to_cpu(root.nr_allocated);
	sm->counts = calloc(sm->nr_blocks + 1, sizeof(u32));
	assert_non_null(sm->counts);
	sm->nr_ref_entries = 0;
	nr_bitmaps = pd_sm_nr_bitmaps(sm->nr_blocks);

	if (data) {
		sm_image_walk(img, le64_to_cpu(root.bitmap_root), NULL,
			      decode_index_value, &dc);
		assert_int_equal(dc.next_index, nr_bitmaps);
	} else {
		mi = sm_image_block(img, le64_to_cpu(root.bitmap_root));
		assert_int_equal(pd_sm_index_validator.check(&pd_sm_index_validator,
				 mi, le64_to_cpu(root.bitmap_root)), 0);
		for (i = 0; i < nr_bitmaps; i++)
			decode_bitmap(&dc, i, &mi->index[i]);
		for (; i < MAX_METADATA_BITMAPS; i++)
			assert_int_equal(le64_to_cpu(mi->index[i].blocknr), 0);
	}
	sm_image_walk(img, le64_to_cpu(root.ref_count_root), NULL,
		      decode_ref_count, &dc);
}

void sm_decoded_free(struct sm_decoded *sm)
{
	free(sm->counts);
	sm->counts = NULL;
}

u64 sm_decoded_used(const struct sm_decoded *sm)
{
	u64 b, n = 0;

	for (b = 0; b < sm->nr_blocks; b++)
		n += sm->counts[b] != 0;
	return n;
}

u32 *sm_pool_verify_image(const char *path, const u32 *data_counts,
			  u64 nr_data_blocks, const u32 *meta_user)
{
	struct sm_decoded meta, data;
	struct sm_image img;
	u32 *refs;
	u64 b;

	sm_image_load(&img, path);
	sm_image_decode(&img, false, true, &meta);
	sm_image_decode(&img, true, true, &data);

	if (data_counts) {
		assert_int_equal(data.nr_blocks, nr_data_blocks);
		for (b = 0; b < nr_data_blocks; b++)
			if (data.counts[b] != data_counts[b])
				fail_msg("on disk: data block %llu count %u, expected %u",
					 (unsigned long long)b, data.counts[b],
					 data_counts[b]);
	}
	assert_int_equal(data.nr_allocated, sm_decoded_used(&data));

	refs = calloc(img.nr_blocks, sizeof(u32));
	assert_non_null(refs);
	sm_image_metadata_refs(&img, refs);
	assert_true(meta.nr_blocks <= img.nr_blocks);
	for (b = 0; b < img.nr_blocks; b++) {
		u32 want = refs[b] + (meta_user ? meta_user[b] : 0);
		u32 got = b < meta.nr_blocks ? meta.counts[b] : 0;

		if (got != want)
			fail_msg("on disk: metadata block %llu count %u, expected %u (%u from structures)",
				 (unsigned long long)b, got, want, refs[b]);
	}
	assert_int_equal(meta.nr_allocated, sm_decoded_used(&meta));

	free(refs);
	refs = meta.counts;
	sm_decoded_free(&data);
	sm_image_free(&img);
	return refs;
}
