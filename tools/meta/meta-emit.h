/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: the emitter, one interface between whatever reads pool
 * metadata and whatever writes it, as in thin-provisioning-tools.
 *
 *   dump    = metadata walk (meta-walk-thin.c)      -> XML writer
 *   restore = XML parser (meta-xml.c)               -> metadata writer
 *   repair  = metadata walk, tolerant               -> metadata writer
 *
 * The calls come in this order: begin_superblock, then for each device
 * begin_device, its mappings in ascending origin order, end_device; last
 * end_superblock. Every call returns 0 or an error that stops the reader.
 */
#ifndef CTPOOL_META_EMIT_H
#define CTPOOL_META_EMIT_H

#include <stddef.h>
#include <stdint.h>

struct meta_sb_info {
	uint32_t time;
	uint64_t transaction;
	uint32_t flags;
	uint32_t version;
	uint32_t data_block_size;
	uint64_t nr_data_blocks;
};

struct meta_dev_info {
	uint64_t dev_id;
	uint64_t mapped_blocks;
	uint64_t transaction;
	uint32_t creation_time;
	uint32_t snap_time;
};

struct meta_emitter;

struct meta_emitter_ops {
	int (*begin_superblock)(struct meta_emitter *e,
				const struct meta_sb_info *sb);
	int (*end_superblock)(struct meta_emitter *e);
	int (*begin_device)(struct meta_emitter *e,
			    const struct meta_dev_info *d);
	int (*end_device)(struct meta_emitter *e);
	/* Optional: an emitter without it gets range_map with len 1. */
	int (*single_map)(struct meta_emitter *e, uint64_t origin,
			  uint64_t data, uint32_t time);
	/* len consecutive blocks from origin to data on, len >= 1 */
	int (*range_map)(struct meta_emitter *e, uint64_t origin,
			 uint64_t data, uint64_t len, uint32_t time);
};

/* Embedded in each emitter's own state, found again with container_of. */
struct meta_emitter {
	const struct meta_emitter_ops *ops;
};

static inline int meta_emit_single(struct meta_emitter *e, uint64_t origin,
				   uint64_t data, uint32_t time)
{
	if (e->ops->single_map)
		return e->ops->single_map(e, origin, data, time);
	return e->ops->range_map(e, origin, data, 1, time);
}

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define meta_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
