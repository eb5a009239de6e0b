/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: offline tools for thin-pool metadata (check, dump, restore).
 *
 * check and dump read the image through their own minimal reader
 * (meta-image.c), independent of the persistent-data library, so that they
 * can judge what the library wrote and survive any corruption. restore
 * builds metadata with the library itself.
 */
#ifndef CTPOOL_META_H
#define CTPOOL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define META_BLOCK_SIZE 4096

int cmd_meta(int argc, char **argv);
int meta_check_main(int argc, char **argv);
int meta_dump_main(int argc, char **argv);
int meta_restore_main(int argc, char **argv);

/* ---- meta-image.c: raw block access ---- */

struct meta_image {
	int fd;
	uint64_t nr_blocks;	/* whole 4 KiB blocks in the file or device */
};

int meta_image_open(const char *path, struct meta_image *img);
void meta_image_close(struct meta_image *img);
/* 0, or -1 if b is beyond the image or the read fails. */
int meta_image_read(struct meta_image *img, uint64_t b, void *buf);

uint32_t meta_crc32c(const void *data, size_t len);
/* The checksum the block should carry (crc over bytes 4.., XOR'd). */
uint32_t meta_block_csum(const void *block, uint32_t xor_value);

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

/* Node header fields, decoded; values_off is where the values start. */
struct meta_node {
	uint32_t flags;
	uint64_t blocknr;
	uint32_t nr_entries;
	uint32_t max_entries;
	uint32_t value_size;
	const uint8_t *data;
};

#define META_NODE_INTERNAL 1
#define META_NODE_LEAF 2

/*
 * Decode and sanity-check a btree node read from block b: checksum,
 * location, flags, sizes. On failure fills why (a short phrase) and
 * returns -1; on success the accessors below are safe for i < nr_entries.
 */
int meta_node_decode(const uint8_t *block, uint64_t b, uint32_t value_size,
		     struct meta_node *n, const char **why);

static inline uint64_t meta_node_key(const struct meta_node *n, uint32_t i)
{
	return meta_le64(n->data + 32 + 8 * (size_t)i);
}

static inline const uint8_t *meta_node_value(const struct meta_node *n,
					     uint32_t i)
{
	return n->data + 32 + 8 * (size_t)n->max_entries +
	       (size_t)n->value_size * i;
}

/* ---- meta-xml.c: thin_dump's XML ---- */

struct meta_xml_writer {
	FILE *f;
	/* the mapping run not yet written */
	bool in_run;
	uint64_t origin;
	uint64_t data;
	uint64_t len;
	uint32_t time;
};

struct meta_xml_superblock {
	uint32_t time;
	uint64_t transaction;
	uint32_t flags;
	uint32_t version;
	uint32_t data_block_size;
	uint64_t nr_data_blocks;
};

struct meta_xml_device {
	uint64_t dev_id;
	uint64_t mapped_blocks;
	uint64_t transaction;
	uint32_t creation_time;
	uint32_t snap_time;
};

void meta_xml_begin_superblock(struct meta_xml_writer *w,
			       const struct meta_xml_superblock *sb);
void meta_xml_end_superblock(struct meta_xml_writer *w);
void meta_xml_begin_device(struct meta_xml_writer *w,
			   const struct meta_xml_device *d);
void meta_xml_end_device(struct meta_xml_writer *w);
/* Mappings in ascending origin order; runs are grouped as thin_dump does. */
void meta_xml_mapping(struct meta_xml_writer *w, uint64_t origin,
		      uint64_t data, uint32_t time);

/* The parser calls these as elements are read; non-zero stops it. */
struct meta_xml_handler {
	void *context;
	int (*superblock)(void *context, const struct meta_xml_superblock *sb);
	int (*device)(void *context, const struct meta_xml_device *d);
	int (*end_device)(void *context);
	int (*mapping)(void *context, uint64_t origin, uint64_t data,
		       uint64_t len, uint32_t time);
};

/* Parse len bytes of XML. Returns 0, or -1 after printing where and why. */
int meta_xml_parse(const char *text, size_t len, const char *name,
		   const struct meta_xml_handler *h);

#endif
