/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: per-device usage of the data device (meta-usage.c), as
 * thin_ls reports it; read by `ctpool meta usage` from an image and by
 * `ctpool list --usage` from a metadata snapshot of a live pool.
 */
#ifndef CTPOOL_META_USAGE_H
#define CTPOOL_META_USAGE_H

#include <stddef.h>
#include <stdint.h>

struct meta_image;
struct meta_superblock;

struct meta_usage_dev {
	uint64_t dev_id;
	uint64_t mapped_blocks;		/* as the details say */
	uint64_t exclusive_blocks;	/* mapped by no other mapping */
	uint64_t shared_blocks;		/* mapped - exclusive */
	uint64_t transaction;
	uint32_t creation_time;
	uint32_t snap_time;
};

struct meta_usage {
	uint32_t data_block_size;	/* in 512-byte sectors */
	size_t nr_devs;
	struct meta_usage_dev *devs;	/* in ascending dev_id */
};

/*
 * Walk the trees of sb strictly: damage stops the walk (-1, after a
 * message naming it), as thin_ls does.
 */
int meta_usage_read(struct meta_image *img, const struct meta_superblock *sb,
		    const char *who, struct meta_usage *u);
void meta_usage_free(struct meta_usage *u);
/* The device dev_id, or NULL. */
const struct meta_usage_dev *meta_usage_find(const struct meta_usage *u,
					     uint64_t dev_id);

#endif
