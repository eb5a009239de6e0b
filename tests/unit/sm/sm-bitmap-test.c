// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pure tests of the space-map on-disk encoding: the 2-bit entry order, the
 * free-entry searches, the validators, and decoding a real thin_restore
 * image (both space maps) without any of the library's I/O layers.
 */
#include "sm-test.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP

static u8 block[PD_BLOCK_SIZE] __aligned(8);
static u8 block2[PD_BLOCK_SIZE] __aligned(8);

static u32 rnd_state = 12345;

static u32 rnd(void)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return rnd_state >> 8;
}

static void test_bit_order_bytes(void **state)
{
	/* Count -> byte pattern at position 0, as thin_restore writes it. */
	static const u8 code[4] = { 0x00, 0x02, 0x01, 0x03 };
	const u8 *data = block + sizeof(struct disk_bitmap_header);
	u32 pos, v, e;

	for (pos = 0; pos < 4; pos++) {
		for (v = 0; v < 4; v++) {
			memset(block, 0, sizeof(block));
			e = 400 + pos;	/* byte 100 */
			pd_sm_bitmap_set(block, e, v);
			assert_int_equal(data[100], code[v] << (2 * pos));
			assert_int_equal(pd_sm_bitmap_get(block, e), v);
			/* Neighbours untouched. */
			assert_int_equal(data[99], 0);
			assert_int_equal(data[101], 0);
		}
	}

	/* The last entry lives in the last byte of the block. */
	memset(block, 0, sizeof(block));
	pd_sm_bitmap_set(block, EPB - 1, 1);
	assert_int_equal(block[PD_BLOCK_SIZE - 1], 0x02 << 6);
}

/* The kernel's view: entry e is bits 2e (high) and 2e+1 (low), LE. */
static u32 kernel_view(const u8 *data, u32 e)
{
	u32 hi = (data[(2 * e) / 8] >> ((2 * e) % 8)) & 1;
	u32 lo = (data[(2 * e + 1) / 8] >> ((2 * e + 1) % 8)) & 1;

	return (hi << 1) | lo;
}

static void test_bit_order_kernel_view(void **state)
{
	const u8 *data = block + sizeof(struct disk_bitmap_header);
	u32 e, v;

	memset(block, 0, sizeof(block));
	for (e = 0; e < EPB; e++)
		pd_sm_bitmap_set(block, e, (e * 7 + e / 5) % 4);
	for (e = 0; e < EPB; e++) {
		v = (e * 7 + e / 5) % 4;
		assert_int_equal(kernel_view(data, e), v);
		assert_int_equal(pd_sm_bitmap_get(block, e), v);
	}

	/* Overwrite every entry with another value: no bleeding. */
	for (e = 0; e < EPB; e++)
		pd_sm_bitmap_set(block, e, 3 - (e * 7 + e / 5) % 4);
	for (e = 0; e < EPB; e++)
		assert_int_equal(pd_sm_bitmap_get(block, e),
				 3 - (e * 7 + e / 5) % 4);
}

static void fill_random(u8 *b, u32 free_percent)
{
	u32 e;

	memset(b, 0, PD_BLOCK_SIZE);
	for (e = 0; e < EPB; e++)
		if (rnd() % 100 >= free_percent)
			pd_sm_bitmap_set(b, e, 1 + rnd() % 3);
}

static int brute_find(const u8 *cur, const u8 *old, u32 begin, u32 end,
		      u32 *result)
{
	u32 e;

	for (e = begin; e < end && e < EPB; e++) {
		if (pd_sm_bitmap_get(cur, e))
			continue;
		if (old && pd_sm_bitmap_get(old, e))
			continue;
		*result = e;
		return 0;
	}
	return -ENOSPC;
}

static void test_find_free(void **state)
{
	static const u32 percents[] = { 0, 1, 5, 50, 100 };
	u32 round, begin, end, got, want;
	int r1, r2;

	for (round = 0; round < 2000; round++) {
		u32 pct = percents[round % ARRAY_SIZE(percents)];
		bool with_old = round & 1;

		fill_random(block, pct);
		fill_random(block2, 50);
		begin = rnd() % (EPB + 10);
		end = begin + rnd() % (EPB + 10);

		r1 = pd_sm_bitmap_find_free(block, with_old ? block2 : NULL,
					    begin, end, &got);
		r2 = brute_find(block, with_old ? block2 : NULL, begin, end,
				&want);
		assert_int_equal(r1, r2);
		if (!r1)
			assert_int_equal(got, want);
	}

	/* All used but the very last entry. */
	memset(block, 0xff, sizeof(block));
	pd_sm_bitmap_set(block, EPB - 1, 0);
	assert_int_equal(pd_sm_bitmap_find_free(block, NULL, 0, EPB, &got), 0);
	assert_int_equal(got, EPB - 1);
	assert_int_equal(pd_sm_bitmap_find_free(block, NULL, 0, EPB - 1, &got),
			 -ENOSPC);
	/* Free in cur, used in old. */
	memset(block2, 0, sizeof(block2));
	pd_sm_bitmap_set(block2, EPB - 1, 2);
	assert_int_equal(pd_sm_bitmap_find_free(block, block2, 0, EPB, &got),
			 -ENOSPC);
}

static void test_count_free(void **state)
{
	u32 round, end, e, n, first, want_n, want_first;

	for (round = 0; round < 500; round++) {
		fill_random(block, rnd() % 101);
		end = rnd() % (EPB + 1);
		if (round < 3)
			end = (u32[]){ 0, EPB, 1 }[round];

		want_n = 0;
		want_first = end;
		for (e = 0; e < end; e++) {
			if (pd_sm_bitmap_get(block, e))
				continue;
			if (!want_n)
				want_first = e;
			want_n++;
		}

		pd_sm_bitmap_count_free(block, end, &n, &first);
		assert_int_equal(n, want_n);
		assert_int_equal(first, want_first);
	}
}

static void test_validators(void **state)
{
	const struct pd_block_validator *vs[] = {
		&pd_sm_bitmap_validator, &pd_sm_index_validator
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vs); i++) {
		fill_random(block, 30);
		vs[i]->prepare_for_write(vs[i], block, 77);
		assert_int_equal(get_unaligned_le64(block + 8), 77);
		assert_int_equal(vs[i]->check(vs[i], block, 77), 0);
		assert_int_equal(vs[i]->check(vs[i], block, 78), -ENOTBLK);

		block[2000] ^= 0x10;
		assert_int_equal(vs[i]->check(vs[i], block, 77), -EILSEQ);
		block[2000] ^= 0x10;

		/* The XOR constants differ: one type never passes as the
		 * other. */
		assert_int_not_equal(vs[!i]->check(vs[!i], block, 77), 0);
	}
}

static void test_index_entry_pack(void **state)
{
	struct pd_sm_index_entry ie = { 0x1122334455667788ULL, 16320, 17 };
	struct pd_sm_index_entry back;
	struct disk_index_entry d;
	const u8 *p = (const u8 *)&d;

	BUILD_BUG_ON(sizeof(d) != 16);
	pd_sm_index_entry_pack(&ie, &d);
	assert_int_equal(p[0], 0x88);
	assert_int_equal(p[7], 0x11);
	assert_int_equal(get_unaligned_le32(p + 8), 16320);
	assert_int_equal(get_unaligned_le32(p + 12), 17);
	pd_sm_index_entry_unpack(&d, &back);
	assert_memory_equal(&ie, &back, sizeof(ie));
}

/* ---- decoding a thin_restore image ---- */

#define META_BLOCKS 2048

struct restored {
	struct sm_image img;
	struct sm_restore_expect expect;
	struct sm_decoded meta, data;
};

static bool restore_and_decode(struct restored *r)
{
	char *path = sm_test_path("restored.img");

	if (!sm_restore_image(path, META_BLOCKS, &r->expect))
		return false;
	sm_image_load(&r->img, path);
	sm_image_decode(&r->img, false, false, &r->meta);
	sm_image_decode(&r->img, true, true, &r->data);
	return true;
}

static void restored_free(struct restored *r)
{
	sm_decoded_free(&r->meta);
	sm_decoded_free(&r->data);
	sm_restore_expect_free(&r->expect);
	sm_image_free(&r->img);
}

/*
 * The raw bytes thin_restore wrote for data bitmap 0, read without our
 * decoder: blocks 0..3 count 5 ("3+": 0x03 each), 400..403 count 2 (0x01),
 * 600..603 count 1 (0x02), 1200..1203 free.
 */
static void check_restore_bytes(struct restored *r)
{
	const struct thin_disk_superblock *sb = sm_image_block(&r->img, 0);
	const struct btree_node_header *leaf;
	struct disk_sm_root root;
	const u8 *data;
	u64 bitmap;

	memcpy(&root, sb->data_space_map_root, sizeof(root));
	leaf = sm_image_block(&r->img, le64_to_cpu(root.bitmap_root));
	assert_int_equal(le32_to_cpu(leaf->flags), BTREE_NODE_LEAF);
	bitmap = get_unaligned_le64((const u8 *)leaf + sizeof(*leaf) +
				    8 * le32_to_cpu(leaf->max_entries));
	data = (const u8 *)sm_image_block(&r->img, bitmap) +
		sizeof(struct disk_bitmap_header);

	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[100], 0x55);
	assert_int_equal(data[150], 0xaa);
	assert_int_equal(data[300], 0x00);
}

static void test_restore_image_counts(void **state)
{
	struct restored r;
	u32 *refs;
	u64 b, nr_3plus = 0;

	if (!restore_and_decode(&r))
		skip();

	/* Data: exactly the number of mappings of each block. */
	assert_int_equal(r.data.nr_blocks, r.expect.nr_data_blocks);
	for (b = 0; b < r.data.nr_blocks; b++) {
		if (r.data.counts[b] != r.expect.data_counts[b])
			fail_msg("data block %llu: decoded %u, expected %u",
				 (unsigned long long)b, r.data.counts[b],
				 r.expect.data_counts[b]);
		nr_3plus += r.expect.data_counts[b] >= 3;
	}
	assert_int_equal(r.data.nr_ref_entries, nr_3plus);
	assert_true(r.data.nr_ref_entries > 336);	/* several leaves */
	assert_int_equal(r.data.counts[45000], 130);
	check_restore_bytes(&r);
	assert_int_equal(r.data.counts[0], 5);
	assert_int_equal(r.data.nr_allocated, sm_decoded_used(&r.data));

	/* Metadata: exactly the references found by walking the image. */
	assert_int_equal(r.meta.nr_blocks, META_BLOCKS);
	refs = calloc(r.img.nr_blocks, sizeof(u32));
	assert_non_null(refs);
	sm_image_metadata_refs(&r.img, refs);
	for (b = 0; b < r.meta.nr_blocks; b++)
		if (r.meta.counts[b] != refs[b])
			fail_msg("metadata block %llu: decoded %u, referenced %u",
				 (unsigned long long)b, r.meta.counts[b],
				 refs[b]);
	/*
	 * thin_restore 0.9 may count a block it freed in nr_allocated:
	 * the root is a hint the library must not rely on.
	 */
	assert_true(r.meta.nr_allocated >= sm_decoded_used(&r.meta));
	free(refs);
	restored_free(&r);
}

/* Parse "...= [a, b, c]" into out[]; the number of values. */
static unsigned int parse_list(const char *s, u32 *out, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	s = strstr(s, "= [");
	if (!s)
		return 0;
	s = strchr(s, '[');
	if (!s)
		return 0;
	s++;
	while (n < max) {
		out[n] = strtoul(s, &end, 10);
		if (end == s)
			break;
		n++;
		s = end;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return n;
}

/* The shared Python parser must agree with our decoding. */
static void test_restore_python_crosscheck(void **state)
{
	char cmd[700], line[4096];
	unsigned int i, n, checked = 0;
	unsigned long long index;
	struct restored r;
	u32 vals[32];
	FILE *p;

	if (!restore_and_decode(&r))
		skip();

	snprintf(cmd, sizeof(cmd),
		 "python3 /work/shared/tools/dmthin_parse.py '%s' 2>&1",
		 sm_test_path("restored.img"));
	p = popen(cmd, "r");
	if (!p)
		skip();

	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, "bitmap ok") && !strstr(line, "bitmap ok True"))
			fail_msg("python: %s", line);
		if (strstr(line, "counts[0:16]=")) {
			n = parse_list(line, vals, 32);
			assert_int_equal(n, 16);
			for (i = 0; i < n; i++)
				assert_int_equal(vals[i], min(r.meta.counts[i], 3U));
			checked++;
		}
		if (sscanf(line, " index %llu", &index) == 1 &&
		    strstr(line, "counts[8:24]=")) {
			n = parse_list(strstr(line, "counts[8:24]="), vals, 32);
			assert_int_equal(n, 16);
			for (i = 0; i < n; i++)
				assert_int_equal(vals[i],
						 min(r.data.counts[index * EPB + 8 + i],
						     3U));
			checked++;
		}
	}
	pclose(p);
	if (!checked)
		skip();
	assert_int_equal(checked, 1 + pd_sm_nr_bitmaps(r.data.nr_blocks));
	restored_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bit_order_bytes),
		cmocka_unit_test(test_bit_order_kernel_view),
		cmocka_unit_test(test_find_free),
		cmocka_unit_test(test_count_free),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_index_entry_pack),
		cmocka_unit_test(test_restore_image_counts),
		cmocka_unit_test(test_restore_python_crosscheck),
	};

	return SM_RUN_TESTS(tests);
}
