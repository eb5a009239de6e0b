/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: dm-thin's on-disk metadata format as the offline tools read
 * it, in one place.
 *
 * The tools keep their own description rather than include the library's
 * persistent-data/on-disk-format.h: the checker judges what the library
 * writes, so the two must not share a mistake. Everything is decoded byte
 * by byte from little-endian fields, trusting nothing read.
 */
#ifndef CTPOOL_META_FORMAT_H
#define CTPOOL_META_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define META_BLOCK_SIZE 4096
#define META_BLOCK_SECTORS 8

/* Each block type XORs its checksum with its own constant. */
#define META_SB_CSUM_XOR 160774u
#define META_NODE_CSUM_XOR 121107u
#define META_INDEX_CSUM_XOR 160478u
#define META_BITMAP_CSUM_XOR 240779u

/* ---- superblock ---- */

#define META_SB_MAGIC 27022010u
#define META_SB_NEEDS_CHECK 1u	/* flags: the kernel asks for a check */

/* Byte offsets of the superblock fields. */
enum meta_sb_offset {
	META_SB_CSUM = 0,
	META_SB_FLAGS = 4,
	META_SB_BLOCKNR = 8,
	META_SB_MAGIC_OFF = 32,
	META_SB_VERSION = 40,
	META_SB_TIME = 44,
	META_SB_TRANS_ID = 48,
	META_SB_HELD_ROOT = 56,
	META_SB_DATA_SM = 64,		/* 128 bytes each */
	META_SB_METADATA_SM = 192,
	META_SB_MAPPING_ROOT = 320,
	META_SB_DETAILS_ROOT = 328,
	META_SB_DATA_BLOCK_SIZE = 336,
	META_SB_METADATA_BLOCK_SIZE = 340,
	META_SB_METADATA_NR_BLOCKS = 344,
	META_SB_COMPAT = 352,
	META_SB_COMPAT_RO = 356,
	META_SB_INCOMPAT = 360,
};

/* ---- btree nodes: a 32-byte header, keys[max], values[max] ---- */

#define META_NODE_HEADER_SIZE 32
#define META_NODE_INTERNAL 1
#define META_NODE_LEAF 2

/* Value sizes of the trees. */
#define META_MAPPING_VALUE_SIZE 8	/* data block << 24 | time */
#define META_ROOT_VALUE_SIZE 8		/* a subtree root: top level, internal */
#define META_DETAILS_VALUE_SIZE 24
#define META_REFCOUNT_VALUE_SIZE 4
#define META_DSM_INDEX_VALUE_SIZE 16

/* Device details value: byte offsets. */
#define META_DETAILS_MAPPED_BLOCKS 0
#define META_DETAILS_TRANS_ID 8
#define META_DETAILS_CREATION_TIME 16
#define META_DETAILS_SNAP_TIME 20

#define META_MAPPING_TIME_BITS 24

/* ---- space maps ---- */

/* A bitmap block: 16-byte header, then 2 bits a block. */
#define META_BITMAP_HEADER_SIZE 16
#define META_ENTRIES_PER_BITMAP 16320ULL
/* The metadata space map's index block: header, then 16 bytes a bitmap. */
#define META_INDEX_HEADER_SIZE 16
#define META_INDEX_ENTRY_SIZE 16
#define META_MAX_METADATA_BITMAPS 255
/* The most blocks a metadata space map can manage. */
#define META_MAX_METADATA_BLOCKS (255ULL * ((1 << 14) - 64))

/* ---- decoding ---- */

static inline uint32_t meta_le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t meta_le64(const void *p)
{
	const uint8_t *b = p;

	return (uint64_t)meta_le32(b) | (uint64_t)meta_le32(b + 4) << 32;
}

static inline void meta_put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* A mapping value holds the data block and the time it was written. */
static inline uint64_t meta_mapping_block(const uint8_t *value)
{
	return meta_le64(value) >> META_MAPPING_TIME_BITS;
}

static inline uint32_t meta_mapping_time(const uint8_t *value)
{
	return (uint32_t)(meta_le64(value) &
			  ((1u << META_MAPPING_TIME_BITS) - 1));
}

/* meta-crc32c.c: seeded with ~0 and not inverted, as dm-thin stores it. */
uint32_t meta_crc32c(const void *data, size_t len);
/* The checksum a block should carry (crc over bytes 4.., XOR'd). */
uint32_t meta_block_csum(const void *block, uint32_t xor_value);

/* Superblock fields, decoded. */
struct meta_sm_root {
	uint64_t nr_blocks;
	uint64_t nr_allocated;
	uint64_t bitmap_root;
	uint64_t ref_count_root;
};

struct meta_superblock {
	uint32_t csum;
	uint32_t flags;
	uint64_t blocknr;
	uint64_t magic;
	uint32_t version;
	uint32_t time;
	uint64_t trans_id;
	uint64_t held_root;
	struct meta_sm_root data_sm;
	struct meta_sm_root metadata_sm;
	uint64_t data_mapping_root;
	uint64_t device_details_root;
	uint32_t data_block_size;
	uint32_t metadata_block_size;
	uint64_t metadata_nr_blocks;
	uint32_t compat_flags;
	uint32_t compat_ro_flags;
	uint32_t incompat_flags;
};

void meta_decode_superblock(const void *block, struct meta_superblock *sb);

/* Node header fields, decoded. */
struct meta_node {
	uint32_t flags;
	uint64_t blocknr;
	uint32_t nr_entries;
	uint32_t max_entries;
	uint32_t value_size;
	const uint8_t *data;
};

/*
 * Decode and sanity-check a btree node read from block b: checksum,
 * location, flags, sizes. On failure fills why (a short phrase) and
 * returns -1; on success the accessors below are safe for i < nr_entries.
 */
int meta_node_decode(const uint8_t *block, uint64_t b, uint32_t value_size,
		     struct meta_node *n, const char **why);

static inline uint64_t meta_node_key(const struct meta_node *n, uint32_t i)
{
	return meta_le64(n->data + META_NODE_HEADER_SIZE + 8 * (size_t)i);
}

static inline const uint8_t *meta_node_value(const struct meta_node *n,
					     uint32_t i)
{
	return n->data + META_NODE_HEADER_SIZE + 8 * (size_t)n->max_entries +
	       (size_t)n->value_size * i;
}

#endif
