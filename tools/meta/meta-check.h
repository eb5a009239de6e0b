/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta check: state shared by the checker's files.
 *
 * The checker recomputes every reference count from the trees and compares
 * them with both space maps. Each metadata block is walked at most once,
 * whatever points at it, so loops and shared subtrees cost nothing extra
 * and no input can make it run forever.
 */
#ifndef CTPOOL_META_CHECK_H
#define CTPOOL_META_CHECK_H

#include "meta.h"
#include "meta-walk.h"

#define CHECK_MAX_DEPTH 32
#define CHECK_MAX_REPORTS 10000

/* What a metadata block was found to be; a block must have one role. */
enum role {
	ROLE_NONE,
	ROLE_SUPERBLOCK,
	ROLE_SNAP_SUPERBLOCK,
	ROLE_MAPPING_TOP,
	ROLE_MAPPING_DEVICE,
	ROLE_DETAILS,
	ROLE_MSM_INDEX,
	ROLE_MSM_BITMAP,
	ROLE_MSM_REFCOUNT,
	ROLE_DSM_INDEX,
	ROLE_DSM_BITMAP,
	ROLE_DSM_REFCOUNT,
};

enum walk_state { NODE_UNSEEN, NODE_WALKING, NODE_DONE, NODE_BAD };

struct u64_vec {
	uint64_t *v;
	size_t n, cap;
};

struct refcount {
	uint64_t block;
	uint32_t count;
};

struct refcount_vec {
	struct refcount *v;
	size_t n, cap;
};

struct device {
	uint64_t id;
	uint64_t mapped_blocks;	/* from details, or counted in the tree */
	uint64_t block;		/* where it was found */
};

struct device_vec {
	struct device *v;
	size_t n, cap;
};

struct checker {
	struct meta_image img;
	struct meta_superblock sb;
	uint64_t nr_meta;	/* blocks tracked below */
	uint32_t *refs;		/* references found, per metadata block */
	uint8_t *role;
	uint8_t *state;
	struct meta_subtree *info;	/* of walked nodes, for later references */

	struct u64_vec data_refs;	/* one entry per leaf reference */
	size_t next_data_ref;		/* cursor while comparing */
	struct u64_vec msm_bitmaps;	/* bitmap block per index, 0 = bad */
	struct u64_vec dsm_bitmaps;
	struct refcount_vec msm_overflow;
	struct refcount_vec dsm_overflow;
	struct device_vec details;	/* devices of the details tree */
	struct device_vec mappings;	/* devices of the mapping tree */
	bool collect_devices;	/* only for the current superblock's trees */

	unsigned long errors;
	unsigned long warnings;
	bool out_of_memory;
};

void check_error(struct checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Something odd that does not make the metadata unusable. */
void check_warning(struct checker *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *role_name(int role);

bool u64_push(struct checker *c, struct u64_vec *v, uint64_t x);
bool refcount_push(struct checker *c, struct refcount_vec *v, uint64_t b,
		   uint32_t count);
bool device_push(struct checker *c, struct device_vec *v, uint64_t id,
		 uint64_t mapped_blocks, uint64_t block);

/* meta-check-tree.c: the checker's visitor of the walker (meta-walk.h) */
struct tree_walk;
typedef void (*entry_fn)(struct tree_walk *w, uint64_t node, uint64_t key,
			 const uint8_t *value);

struct tree_walk {
	struct meta_walk walk;
	struct checker *c;
	int role;
	uint32_t value_size;
	const char *name;
	entry_fn entry;		/* called once per entry of each leaf */
};

/* Count one reference to b as role; true if b must now be walked. */
bool check_reference(struct checker *c, uint64_t b, int role,
		     const char *from);
/* Reference and walk a tree; false if it is unusable. */
bool check_tree(struct tree_walk *w, uint64_t root, const char *from,
		struct meta_subtree *result);
/* The same for a tree of role, named as the role, values of value_size bytes. */
bool check_role_tree(struct checker *c, int role, uint32_t value_size,
		     entry_fn entry, uint64_t root, const char *from,
		     struct meta_subtree *result);

/* meta-check-sm.c */
void check_metadata_sm(struct checker *c);
void check_data_sm(struct checker *c);
void compare_metadata_counts(struct checker *c);
void compare_data_counts(struct checker *c);

#endif
