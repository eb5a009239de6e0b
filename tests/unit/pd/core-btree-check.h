/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Btree test support: a value type that counts references to "data"
 * values, and a checker that walks trees directly (not through the btree
 * code) to verify their structure and every reference count.
 */
#ifndef CORE_BTREE_CHECK_H
#define CORE_BTREE_CHECK_H

#include "core-test.h"
#include "btree-node.h"

/*
 * Test values: the first 8 bytes are a data id whose references are
 * counted in counts[]; the rest of the value is filled from the id so
 * that corruption shows. Equal when the ids are equal.
 */
struct data_counter {
	u64 nr_ids;
	u64 next_id;
	u32 *counts;
	unsigned int errors;
};

void data_counter_init(struct data_counter *dc, u64 nr_ids);
void data_counter_exit(struct data_counter *dc);
/* A fresh id with one reference, for the caller to insert. */
u64 data_counter_new(struct data_counter *dc);
void data_value_fill(void *value, u32 size, u64 id);
u64 data_value_id(const void *value);
void data_value_type_init(struct pd_btree_value_type *vt, u32 size,
			  struct data_counter *dc);

/* Trees the checker should account for. */
struct tree_root {
	pd_block_t root;
	unsigned int levels;
};

struct check_result {
	unsigned int max_depth;		/* nodes on the longest path */
	u64 nr_nodes;
	u64 nr_entries;			/* last-level entries, distinct leaves */
};

/*
 * Walk every node reachable from @roots (each distinct node once), check
 * node structure (sorted keys within parent bounds, same depth leaves,
 * non-root nodes at least a third full when @strict), then compare the
 * metadata counts (every block: references from roots + parents, plus 1
 * for each block in [0, reserved]; with the real space map only the blocks
 * the trees reach) and the data counts in @dc (unless NULL).
 */
void check_trees(struct core_env *env, const struct tree_root *roots,
		 unsigned int nr_roots, u32 value_size, struct data_counter *dc,
		 pd_block_t reserved, bool strict, struct check_result *res);

#endif
