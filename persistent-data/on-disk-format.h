/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-thin's on-disk metadata format: every structure written to the metadata
 * device, in one place. All fields are little-endian; structures are packed.
 * The layout is fixed by compatibility with the kernel's dm-thin and with
 * thin-provisioning-tools.
 */
#ifndef PD_ON_DISK_FORMAT_H
#define PD_ON_DISK_FORMAT_H

#include "pd-compat.h"

/* Checksum XOR constants, one per block type. */
#define SUPERBLOCK_CSUM_XOR	160774
#define BTREE_CSUM_XOR		121107
#define INDEX_CSUM_XOR		160478
#define BITMAP_CSUM_XOR		240779

/* ---- btree nodes ---- */
#define BTREE_NODE_INTERNAL	1
#define BTREE_NODE_LEAF		2

struct btree_node_header {
	__le32 csum;
	__le32 flags;
	__le64 blocknr;
	__le32 nr_entries;
	__le32 max_entries;
	__le32 value_size;
	__le32 padding;
} __packed;

/* keys[max_entries] follow the header, then values[max_entries]. */

/* ---- space maps ---- */
struct disk_sm_root {
	__le64 nr_blocks;
	__le64 nr_allocated;
	__le64 bitmap_root;	/* metadata SM: index block; data SM: btree */
	__le64 ref_count_root;	/* btree of counts >= 3, __le32 values */
} __packed;

struct disk_index_entry {
	__le64 blocknr;		/* the bitmap block */
	__le32 nr_free;		/* a hint: only 0 is trusted */
	__le32 none_free_before;	/* first possibly free entry */
} __packed;

#define MAX_METADATA_BITMAPS 255

struct disk_metadata_index {
	__le32 csum;
	__le32 padding;
	__le64 blocknr;
	struct disk_index_entry index[MAX_METADATA_BITMAPS];
} __packed;

struct disk_bitmap_header {
	__le32 csum;
	__le32 not_used;
	__le64 blocknr;
} __packed;

/* 2 bits an entry: 0 free, 1, 2, 3 = "look in the ref-count tree". */
#define ENTRIES_PER_BITMAP ((4096 - sizeof(struct disk_bitmap_header)) * 4)
#define ENTRIES_PER_BITMAP_WORD 32

/* 255 bitmaps, each reduced by 64 entries as the kernel does. */
#define PD_METADATA_MAX_BLOCKS (255 * ((1 << 14) - 64))

/* ---- thin superblock ---- */
#define THIN_SUPERBLOCK_MAGIC		27022010
#define THIN_SUPERBLOCK_LOCATION	0
#define THIN_VERSION			2
#define THIN_METADATA_BLOCK_SECTORS	8
#define THIN_NEEDS_CHECK_FLAG		(1 << 0)
#define THIN_SPACE_MAP_ROOT_SIZE	128

struct thin_disk_superblock {
	__le32 csum;
	__le32 flags;
	__le64 blocknr;
	__u8 uuid[16];
	__le64 magic;
	__le32 version;
	__le32 time;
	__le64 trans_id;
	__le64 held_root;	/* metadata snapshot superblock, 0 = none */
	__u8 data_space_map_root[THIN_SPACE_MAP_ROOT_SIZE];
	__u8 metadata_space_map_root[THIN_SPACE_MAP_ROOT_SIZE];
	__le64 data_mapping_root;
	__le64 device_details_root;
	__le32 data_block_size;		/* sectors */
	__le32 metadata_block_size;	/* sectors */
	__le64 metadata_nr_blocks;
	__le32 compat_flags;
	__le32 compat_ro_flags;
	__le32 incompat_flags;
} __packed;

struct disk_device_details {
	__le64 mapped_blocks;
	__le64 transaction_id;	/* when created */
	__le32 creation_time;
	__le32 snapshotted_time;
} __packed;

/* Mapping values: 40-bit data block, 24-bit time. */
static inline u64 pack_block_time(u64 block, u32 time)
{
	return (block << 24) | (time & ((1 << 24) - 1));
}

static inline void unpack_block_time(u64 v, u64 *block, u32 *time)
{
	*block = v >> 24;
	*time = v & ((1 << 24) - 1);
}

#define THIN_MAX_DEV_ID ((1 << 24) - 1)

#endif
