// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checksums and on-disk compatibility: crc32c vectors, and metadata written
 * by thin_restore (thin-provisioning-tools) read through our validators and
 * btree code.
 */
#include <sys/wait.h>

#include "core-btree-check.h"

u32 crc32c_sw(u32 crc, const void *data, unsigned int len);

static void test_crc32c_vectors(void **state)
{
	static const char digits[] = "123456789";
	u8 zeros[32] = { 0 }, ones[32];

	/* The standard check values (init ~0, final inversion). */
	assert_int_equal(crc32c(~0u, digits, 9) ^ ~0u, 0xE3069283);
	assert_int_equal(crc32c(~0u, zeros, 32) ^ ~0u, 0x8A9136AA);
	memset(ones, 0xff, sizeof(ones));
	assert_int_equal(crc32c(~0u, ones, 32) ^ ~0u, 0x62A8AB43);
	/* The kernel's raw form: no inversion at either end. */
	assert_int_equal(crc32c(0, digits, 0), 0);
	assert_int_equal(pd_block_checksum(digits, 9, 0), 0xE3069283 ^ ~0u);
	assert_int_equal(pd_block_checksum(digits, 9, 121107),
			 0xE3069283 ^ ~0u ^ 121107);
}

/* The fast path and the table agree on every length and alignment. */
static void test_crc32c_hw_matches_table(void **state)
{
	u8 buf[600];
	unsigned int i, off, len;

	core_srand(7);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = core_rand();
	for (off = 0; off < 9; off++)
		for (len = 0; len + off <= sizeof(buf); len += 1 + len / 8)
			assert_int_equal(crc32c(0x12345678, buf + off, len),
					 crc32c_sw(0x12345678, buf + off, len));
}

/* ---- a thin_restore image ---- */

#define NR_MAPPED 2000	/* dev 1: a bottom tree with several leaves */

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return !fclose(f);
}

/* Returns false (the test is skipped) when thin_restore is not there. */
static bool restore_image(const char *xml, const char *img)
{
	char cmd[1024];
	int r;

	snprintf(cmd, sizeof(cmd),
		 "command -v thin_restore >/dev/null 2>&1 || "
		 "PATH=$PATH:/usr/sbin:/sbin; thin_restore -q -i %s -o %s "
		 ">/dev/null 2>&1", xml, img);
	r = system(cmd);
	return r != -1 && WIFEXITED(r) && WEXITSTATUS(r) == 0;
}

static const char restore_xml[] =
	"<superblock uuid=\"\" time=\"1\" transaction=\"1\" "
	"data_block_size=\"128\" nr_data_blocks=\"4096\">\n"
	"  <device dev_id=\"1\" mapped_blocks=\"2000\" transaction=\"0\" "
	"creation_time=\"0\" snap_time=\"0\">\n"
	"    <range_mapping origin_begin=\"0\" data_begin=\"100\" "
	"length=\"2000\" time=\"0\"/>\n"
	"  </device>\n"
	"  <device dev_id=\"7\" mapped_blocks=\"1\" transaction=\"0\" "
	"creation_time=\"1\" snap_time=\"1\">\n"
	"    <single_mapping origin_block=\"0\" data_block=\"0\" "
	"time=\"1\"/>\n"
	"  </device>\n"
	"</superblock>\n";

static int nop_vt(void *context, const void *values, unsigned int count)
{
	return 0;
}

static void test_thin_restore_image(void **state)
{
	char *xml = core_test_path("restore.xml");
	char *img = core_test_path("restore.img");
	struct pd_btree_info info = { .levels = 2 }, details = { .levels = 1 };
	struct pd_space_map *sm;
	struct pd_transaction_manager *tm;
	struct pd_block_manager *bm;
	struct pd_block *b;
	const struct thin_disk_superblock *sb;
	pd_block_t map_root, details_root;
	u64 keys[2], found, v, block;
	struct disk_device_details d;
	u32 time;
	__le64 le;

	assert_true(write_file(xml, restore_xml));
	test_make_file(img, 1024);
	if (!restore_image(xml, img)) {
		print_message("thin_restore not available: skipped\n");
		goto out;
	}

	assert_int_equal(pd_bm_file_open(img, true, 64, &bm), 0);
	sm = test_sm_create(pd_bm_nr_blocks(bm), 0);
	assert_int_equal(pd_tm_create(bm, sm, &tm), 0);

	/* The superblock's checksum is ours. */
	assert_int_equal(pd_bm_read_lock(bm, 0, NULL, &b), 0);
	sb = pd_block_data(b);
	assert_int_equal(le64_to_cpu(sb->magic), THIN_SUPERBLOCK_MAGIC);
	assert_int_equal(le32_to_cpu(sb->csum),
			 pd_block_checksum(&sb->flags, PD_BLOCK_SIZE - 4,
					   SUPERBLOCK_CSUM_XOR));
	map_root = le64_to_cpu(sb->data_mapping_root);
	details_root = le64_to_cpu(sb->device_details_root);
	pd_bm_unlock(b);
	pd_bm_invalidate(bm);

	/* The superblock is not a btree node. */
	assert_int_equal(pd_bm_read_lock(bm, 0, &pd_btree_node_validator, &b),
			 -EILSEQ);

	info.tm = tm;
	info.value_type = (struct pd_btree_value_type){
		.size = 8, .inc = nop_vt, .dec = nop_vt,
	};
	details.tm = tm;
	details.value_type = (struct pd_btree_value_type){
		.size = sizeof(struct disk_device_details),
		.inc = nop_vt, .dec = nop_vt,
	};

	/* Every mapping of device 1, exactly. */
	for (keys[0] = 1, keys[1] = 0; keys[1] < NR_MAPPED; keys[1]++) {
		assert_int_equal(pd_btree_lookup(&info, map_root, keys, &le),
				 0);
		unpack_block_time(le64_to_cpu(le), &block, &time);
		assert_int_equal(block, 100 + keys[1]);
		assert_int_equal(time, 0);
	}
	assert_int_equal(pd_btree_lookup(&info, map_root, keys, &le),
			 -ENODATA);
	keys[0] = 7;
	keys[1] = 0;
	assert_int_equal(pd_btree_lookup(&info, map_root, keys, &le), 0);
	assert_int_equal(le64_to_cpu(le), pack_block_time(0, 1));
	keys[1] = 1;
	assert_int_equal(pd_btree_lookup_next(&info, map_root, keys, &found,
					      &le), -ENODATA);
	keys[0] = 1;
	keys[1] = 777;
	assert_int_equal(pd_btree_lookup_next(&info, map_root, keys, &found,
					      &le), 0);
	assert_int_equal(found, 777);
	keys[0] = 2;
	assert_int_equal(pd_btree_lookup(&info, map_root, keys, &le),
			 -ENODATA);

	/* The top level: devices 1 and 7. */
	assert_int_equal(pd_btree_find_lowest_key(&info, map_root, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(pd_btree_find_highest_key(&info, map_root, &v), 0);
	assert_int_equal(v, 7);

	/* Device details (24-byte values). */
	v = 1;
	assert_int_equal(pd_btree_lookup(&details, details_root, &v, &d), 0);
	assert_int_equal(le64_to_cpu(d.mapped_blocks), NR_MAPPED);
	v = 7;
	assert_int_equal(pd_btree_lookup(&details, details_root, &v, &d), 0);
	assert_int_equal(le32_to_cpu(d.creation_time), 1);

	pd_tm_destroy(tm);
	pd_sm_destroy(sm);
	pd_bm_destroy(bm);
out:
	free(xml);
	free(img);
}

/*
 * Nodes we write carry what thin-provisioning-tools expects: the tools'
 * checksum, max_entries for the value size, own location.
 */
static void test_our_nodes_format(void **state)
{
	struct core_env env;
	struct pd_btree_info info = { .levels = 1 };
	struct data_counter dc;
	u8 raw[PD_BLOCK_SIZE], value[24];
	const struct btree_node_header *h = (void *)raw;
	pd_block_t root;
	FILE *f;
	u64 k;

	core_env_init(&env, "format.img", 64, 16);
	data_counter_init(&dc, 16);
	info.tm = env.tm;
	data_value_type_init(&info.value_type, 24, &dc);
	assert_int_equal(pd_btree_empty(&info, &root), 0);
	k = 42;
	data_value_fill(value, 24, data_counter_new(&dc));
	assert_int_equal(pd_btree_insert(&info, root, &k, value, &root, NULL),
			 0);
	core_env_commit(&env, &root, 1);

	f = fopen(env.path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, root * PD_BLOCK_SIZE, SEEK_SET), 0);
	assert_int_equal(fread(raw, 1, sizeof(raw), f), sizeof(raw));
	fclose(f);

	assert_int_equal(le32_to_cpu(h->csum),
			 crc32c_sw(~0u, raw + 4, PD_BLOCK_SIZE - 4) ^
			 BTREE_CSUM_XOR);
	assert_int_equal(le64_to_cpu(h->blocknr), root);
	assert_int_equal(le32_to_cpu(h->flags), BTREE_NODE_LEAF);
	assert_int_equal(le32_to_cpu(h->nr_entries), 1);
	assert_int_equal(le32_to_cpu(h->max_entries), 126);
	assert_int_equal(le32_to_cpu(h->value_size), 24);
	assert_int_equal(get_unaligned_le64(raw + 32), 42);
	assert_memory_equal(raw + 32 + 8 * 126, value, 24);

	/* The table of max_entries from the format reference. */
	assert_int_equal(pd_btree_max_entries(4), 336);
	assert_int_equal(pd_btree_max_entries(8), 252);
	assert_int_equal(pd_btree_max_entries(16), 168);
	assert_int_equal(pd_btree_max_entries(24), 126);

	data_counter_exit(&dc);
	core_env_exit(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_crc32c_hw_matches_table),
		cmocka_unit_test(test_thin_restore_image),
		cmocka_unit_test(test_our_nodes_format),
	};

	return CORE_RUN_TESTS(tests);
}
