// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: read-only access to a metadata image, block by block, and
 * decoding of the on-disk structures, trusting nothing read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"

int meta_image_open(const char *path, struct meta_image *img)
{
	off_t size;

	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0)
		return -1;
	/* lseek gives the size of block devices as well as of files. */
	size = lseek(img->fd, 0, SEEK_END);
	if (size < 0) {
		close(img->fd);
		img->fd = -1;
		return -1;
	}
	img->nr_blocks = (uint64_t)size / META_BLOCK_SIZE;
	return 0;
}

void meta_image_close(struct meta_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
}

int meta_image_read(struct meta_image *img, uint64_t b, void *buf)
{
	size_t done = 0;
	ssize_t n;

	if (b >= img->nr_blocks)
		return -1;
	while (done < META_BLOCK_SIZE) {
		n = pread(img->fd, (char *)buf + done, META_BLOCK_SIZE - done,
			  (off_t)(b * META_BLOCK_SIZE + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* ---- crc32c (Castagnoli, reflected), table driven ---- */

static uint32_t crc_table[8][256];
static bool crc_ready;

static void crc_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
				crc_table[0][crc_table[j - 1][i] & 0xff];
	crc_ready = true;
}

/* Seeded with ~0 and not inverted at the end, as dm-thin stores it. */
uint32_t meta_crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = ~0u;

	if (!crc_ready)
		crc_init();
	while (len >= 8) {
		c ^= meta_le32(p);
		c = crc_table[7][c & 0xff] ^ crc_table[6][(c >> 8) & 0xff] ^
		    crc_table[5][(c >> 16) & 0xff] ^ crc_table[4][c >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

uint32_t meta_block_csum(const void *block, uint32_t xor_value)
{
	return meta_crc32c((const uint8_t *)block + 4, META_BLOCK_SIZE - 4) ^
	       xor_value;
}

static void decode_sm_root(const uint8_t *p, struct meta_sm_root *r)
{
	r->nr_blocks = meta_le64(p);
	r->nr_allocated = meta_le64(p + 8);
	r->bitmap_root = meta_le64(p + 16);
	r->ref_count_root = meta_le64(p + 24);
}

void meta_decode_superblock(const void *block, struct meta_superblock *sb)
{
	const uint8_t *p = block;

	sb->csum = meta_le32(p);
	sb->flags = meta_le32(p + 4);
	sb->blocknr = meta_le64(p + 8);
	sb->magic = meta_le64(p + 32);
	sb->version = meta_le32(p + 40);
	sb->time = meta_le32(p + 44);
	sb->trans_id = meta_le64(p + 48);
	sb->held_root = meta_le64(p + 56);
	decode_sm_root(p + 64, &sb->data_sm);
	decode_sm_root(p + 192, &sb->metadata_sm);
	sb->data_mapping_root = meta_le64(p + 320);
	sb->device_details_root = meta_le64(p + 328);
	sb->data_block_size = meta_le32(p + 336);
	sb->metadata_block_size = meta_le32(p + 340);
	sb->metadata_nr_blocks = meta_le64(p + 344);
	sb->compat_flags = meta_le32(p + 352);
	sb->compat_ro_flags = meta_le32(p + 356);
	sb->incompat_flags = meta_le32(p + 360);
}

#define BTREE_CSUM_XOR 121107u

int meta_node_decode(const uint8_t *block, uint64_t b, uint32_t value_size,
		     struct meta_node *n, const char **why)
{
	uint32_t kind;

	n->data = block;
	n->flags = meta_le32(block + 4);
	n->blocknr = meta_le64(block + 8);
	n->nr_entries = meta_le32(block + 16);
	n->max_entries = meta_le32(block + 20);
	n->value_size = meta_le32(block + 24);

	if (meta_le32(block) != meta_block_csum(block, BTREE_CSUM_XOR)) {
		*why = "bad btree node checksum";
		return -1;
	}
	if (n->blocknr != b) {
		*why = "btree node claims another location";
		return -1;
	}
	kind = n->flags & (META_NODE_INTERNAL | META_NODE_LEAF);
	if (kind != META_NODE_INTERNAL && kind != META_NODE_LEAF) {
		*why = "btree node is neither internal nor leaf";
		return -1;
	}
	if (n->value_size != (kind == META_NODE_INTERNAL ? 8 : value_size)) {
		*why = "btree node has the wrong value size";
		return -1;
	}
	if ((uint64_t)n->max_entries * (8 + n->value_size) + 32 >
	    META_BLOCK_SIZE) {
		*why = "btree node max_entries does not fit in a block";
		return -1;
	}
	if (n->nr_entries > n->max_entries) {
		*why = "btree node has more entries than max_entries";
		return -1;
	}
	return 0;
}
