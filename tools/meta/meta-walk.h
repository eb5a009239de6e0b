/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: the one btree walker of the offline tools.
 *
 * It reads a tree of the metadata image in key order, checks its structure
 * (node headers and checksums, key order within and across nodes, child key
 * ranges and heights, depth) and hands each leaf entry to a visitor. Damage
 * is not fatal to the walker: it is reported to the visitor, which decides
 * to go on, leave the damaged part out, or stop. So the checker reports
 * every problem, dump stops at the first that matters to it, and repair
 * salvages what can still be read.
 *
 * No input can make it run forever: depth is bounded, and it never reads
 * more nodes than the image has blocks unless the visitor's enter() hook
 * keeps track of what it has seen (as the checker does).
 */
#ifndef CTPOOL_META_WALK_H
#define CTPOOL_META_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct meta_image;

enum meta_damage_kind {
	META_DAMAGE_TOO_DEEP,		/* deeper than max_depth */
	META_DAMAGE_TOO_MANY_NODES,	/* more than the image has: a loop */
	META_DAMAGE_UNREADABLE,
	META_DAMAGE_BAD_NODE,		/* header or checksum; see why */
	META_DAMAGE_UNSORTED,		/* keys of a node, at entry */
	META_DAMAGE_NOT_RISING,		/* leaf key at entry <= the last one */
	META_DAMAGE_EMPTY_LEAF,		/* below the root */
	META_DAMAGE_EMPTY_INTERNAL,
	META_DAMAGE_CHILD_HEIGHT,	/* child is not as tall as child 0 */
	META_DAMAGE_CHILD_RANGE,	/* child's keys outside its parent key */
};

struct meta_damage {
	enum meta_damage_kind kind;
	uint64_t block;
	uint64_t child;		/* CHILD_* */
	uint32_t entry;		/* UNSORTED, NOT_RISING */
	uint64_t key;		/* NOT_RISING */
	const char *why;	/* BAD_NODE */
};

/*
 * What the visitor wants done about damage. A node that cannot be read or
 * decoded is left out whatever the answer, unless it is STOP.
 */
enum meta_walk_action {
	META_WALK_CONTINUE,	/* use the node or entry as it is */
	META_WALK_SKIP,		/* leave the node or entry out */
	META_WALK_STOP,		/* end the whole walk */
};

/* What a walked subtree holds. */
struct meta_subtree {
	uint64_t lo, hi;	/* lowest and highest key (if entries) */
	uint64_t entries;
	uint8_t height;
};

enum meta_enter {
	META_ENTER_WALK,	/* read and walk the node */
	META_ENTER_KNOWN,	/* walked before: *s says what it holds */
	META_ENTER_SKIP,	/* leave it out */
};

struct meta_walk;

struct meta_walk_ops {
	/* Optional: before node b is read; from names the referrer. */
	enum meta_enter (*enter)(struct meta_walk *w, uint64_t b,
				 const char *from, struct meta_subtree *s);
	/* Optional: after a walked node; s is NULL if it was unusable. */
	void (*leave)(struct meta_walk *w, uint64_t b,
		      const struct meta_subtree *s);
	/* Each leaf entry, in key order; non-zero stops the walk. */
	int (*entry)(struct meta_walk *w, uint64_t node, uint64_t key,
		     const uint8_t *value);
	enum meta_walk_action (*damage)(struct meta_walk *w,
					const struct meta_damage *d);
};

struct meta_walk {
	struct meta_image *img;
	const struct meta_walk_ops *ops;
	uint32_t value_size;	/* of the leaves */
	int max_depth;		/* the root is at depth 0 */
	const char *name;	/* of the tree, for messages */

	/* the walker's own */
	uint64_t visits;
	bool have_last;
	uint64_t last;
	bool stopped;
};

/*
 * Walk the tree at root. Returns 1 if the root was usable (*s says what the
 * tree holds), 0 if not, -1 if a visitor stopped the walk.
 */
int meta_walk_tree(struct meta_walk *w, uint64_t root, const char *from,
		   struct meta_subtree *s);

/* The damage in a few words, for visitors without phrases of their own. */
const char *meta_damage_phrase(const struct meta_damage *d);

#endif
