// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: access to a metadata image, block by block, and decoding of
 * the on-disk structures, trusting nothing read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"

static int image_open(const char *path, int flags, struct meta_image *img)
{
	off_t size;

	img->bounce = NULL;
	img->fd = open(path, flags | O_CLOEXEC);
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

int meta_image_open(const char *path, bool writable, struct meta_image *img)
{
	return image_open(path, writable ? O_RDWR : O_RDONLY, img);
}

/*
 * The kernel writes metadata through dm-bufio, which bypasses the page
 * cache of the metadata device: a buffered read of a live pool's metadata
 * can return blocks older than what is on disk. O_DIRECT needs aligned
 * buffers, so reads go through one.
 */
int meta_image_open_direct(const char *path, struct meta_image *img)
{
	void *bounce;
	int e;

	if (posix_memalign(&bounce, META_BLOCK_SIZE, META_BLOCK_SIZE)) {
		errno = ENOMEM;
		return -1;
	}
	if (image_open(path, O_RDONLY | O_DIRECT, img)) {
		e = errno;
		free(bounce);
		errno = e;
		return -1;
	}
	img->bounce = bounce;
	return 0;
}

void meta_image_close(struct meta_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	free(img->bounce);
	img->bounce = NULL;
}

/*
 * Read all of block b into to, or (to NULL) write it from buffer from; -1
 * if b is beyond the image or the I/O fails.
 */
static int block_io(struct meta_image *img, uint64_t b, char *to,
		    const char *from)
{
	size_t done = 0;
	ssize_t n;

	if (b >= img->nr_blocks)
		return -1;
	while (done < META_BLOCK_SIZE) {
		off_t at = (off_t)(b * META_BLOCK_SIZE + done);

		n = to ? pread(img->fd, to + done, META_BLOCK_SIZE - done, at) :
			 pwrite(img->fd, from + done, META_BLOCK_SIZE - done, at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int meta_image_read(struct meta_image *img, uint64_t b, void *buf)
{
	if (block_io(img, b, img->bounce ? img->bounce : buf, NULL))
		return -1;
	if (img->bounce)
		memcpy(buf, img->bounce, META_BLOCK_SIZE);
	return 0;
}

int meta_image_write(struct meta_image *img, uint64_t b, const void *buf)
{
	if (block_io(img, b, NULL, buf))
		return -1;
	/* The block is only written once it is on the device. */
	return fsync(img->fd) ? -1 : 0;
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

	sb->csum = meta_le32(p + META_SB_CSUM);
	sb->flags = meta_le32(p + META_SB_FLAGS);
	sb->blocknr = meta_le64(p + META_SB_BLOCKNR);
	sb->magic = meta_le64(p + META_SB_MAGIC_OFF);
	sb->version = meta_le32(p + META_SB_VERSION);
	sb->time = meta_le32(p + META_SB_TIME);
	sb->trans_id = meta_le64(p + META_SB_TRANS_ID);
	sb->held_root = meta_le64(p + META_SB_HELD_ROOT);
	decode_sm_root(p + META_SB_DATA_SM, &sb->data_sm);
	decode_sm_root(p + META_SB_METADATA_SM, &sb->metadata_sm);
	sb->data_mapping_root = meta_le64(p + META_SB_MAPPING_ROOT);
	sb->device_details_root = meta_le64(p + META_SB_DETAILS_ROOT);
	sb->data_block_size = meta_le32(p + META_SB_DATA_BLOCK_SIZE);
	sb->metadata_block_size = meta_le32(p + META_SB_METADATA_BLOCK_SIZE);
	sb->metadata_nr_blocks = meta_le64(p + META_SB_METADATA_NR_BLOCKS);
	sb->compat_flags = meta_le32(p + META_SB_COMPAT);
	sb->compat_ro_flags = meta_le32(p + META_SB_COMPAT_RO);
	sb->incompat_flags = meta_le32(p + META_SB_INCOMPAT);
}

bool meta_superblock_valid(const void *block, uint64_t b,
			   struct meta_superblock *sb)
{
	meta_decode_superblock(block, sb);
	return sb->csum == meta_block_csum(block, META_SB_CSUM_XOR) &&
	       sb->blocknr == b && sb->magic == META_SB_MAGIC;
}

int meta_read_superblock(struct meta_image *img, uint64_t b, const char *who,
			 struct meta_superblock *sb)
{
	uint8_t block[META_BLOCK_SIZE];

	if (meta_image_read(img, b, block)) {
		fprintf(stderr, "%s: cannot read superblock at block %llu\n",
			who, (unsigned long long)b);
		return -1;
	}
	if (!meta_superblock_valid(block, b, sb)) {
		fprintf(stderr, "%s: block %llu is not a valid superblock\n",
			who, (unsigned long long)b);
		return -1;
	}
	return 0;
}

int meta_select_superblock(struct meta_image *img,
			   const struct meta_snap_opt *snap, const char *who,
			   struct meta_superblock *sb)
{
	uint64_t b;

	if (meta_read_superblock(img, 0, who, sb))
		return -1;
	if (!snap->use)
		return 0;
	b = snap->block_given ? snap->block : sb->held_root;
	if (!b) {
		fprintf(stderr, "%s: no metadata snapshot is held\n", who);
		return -1;
	}
	return meta_read_superblock(img, b, who, sb);
}

int meta_parse_snap_opt(const char *arg, struct meta_snap_opt *snap)
{
	char *end;

	snap->use = true;
	snap->block_given = arg != NULL;
	if (!arg)
		return 0;
	if (!*arg || *arg == '-')
		return -1;
	errno = 0;
	snap->block = strtoull(arg, &end, 10);
	return *end || errno ? -1 : 0;
}

/* What a node's header promises, checked before any entry is read. */
static const char *node_header_problem(const struct meta_node *n,
				       uint32_t value_size)
{
	uint32_t kind = n->flags & (META_NODE_INTERNAL | META_NODE_LEAF);

	if (kind != META_NODE_INTERNAL && kind != META_NODE_LEAF)
		return "btree node is neither internal nor leaf";
	if (n->value_size != (kind == META_NODE_INTERNAL ?
			      META_ROOT_VALUE_SIZE : value_size))
		return "btree node has the wrong value size";
	if ((uint64_t)n->max_entries * (8 + n->value_size) +
	    META_NODE_HEADER_SIZE > META_BLOCK_SIZE)
		return "btree node max_entries does not fit in a block";
	if (n->nr_entries > n->max_entries)
		return "btree node has more entries than max_entries";
	return NULL;
}

int meta_node_decode(const uint8_t *block, uint64_t b, uint32_t value_size,
		     struct meta_node *n, const char **why)
{
	n->data = block;
	n->flags = meta_le32(block + 4);
	n->blocknr = meta_le64(block + 8);
	n->nr_entries = meta_le32(block + 16);
	n->max_entries = meta_le32(block + 20);
	n->value_size = meta_le32(block + 24);

	if (meta_le32(block) != meta_block_csum(block, META_NODE_CSUM_XOR))
		*why = "bad btree node checksum";
	else if (n->blocknr != b)
		*why = "btree node claims another location";
	else
		*why = node_header_problem(n, value_size);
	return *why ? -1 : 0;
}
