// SPDX-License-Identifier: GPL-2.0-only
/*
 * Getting at btree nodes: reading them safely, creating them, and shadowing
 * them for writing with the reference counting that sharing requires.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

int pd_btree_check_info(const struct pd_btree_info *info)
{
	if (!info->tm || !info->levels || info->levels > PD_BTREE_MAX_LEVELS ||
	    !info->value_type.size ||
	    !pd_btree_max_entries(info->value_type.size)) {
		pr_err("invalid tree description (levels %u, value size %u)\n",
		       info->levels, info->value_type.size);
		return -EINVAL;
	}
	return 0;
}

/*
 * Reading and creating
 */

int pd_btree_read_node(struct pd_transaction_manager *tm, pd_block_t b,
		       u32 leaf_value_size, struct pd_node_ref *ref)
{
	int r;

	r = pd_tm_read_lock(tm, b, &pd_btree_node_validator, &ref->block);
	if (r)
		return r;
	ref->n = pd_block_data(ref->block);
	r = pd_btree_node_check(ref->n, b, leaf_value_size);
	if (r)
		pd_tm_unlock(tm, ref->block);
	return r;
}

void pd_btree_unlock(struct pd_transaction_manager *tm,
		     struct pd_node_ref *ref)
{
	pd_tm_unlock(tm, ref->block);
	ref->block = NULL;
	ref->n = NULL;
}

int pd_btree_new_node(struct pd_transaction_manager *tm, bool internal,
		      u32 value_size, struct pd_node_ref *ref)
{
	int r;

	r = pd_tm_new_block(tm, &pd_btree_node_validator, &ref->block);
	if (r)
		return r;
	ref->n = pd_block_data(ref->block);
	pd_node_init(ref->n, internal, value_size);
	return 0;
}

/*
 * Reference counting of what nodes point at
 */

/* Children are often allocated together: inc them in runs. */
static int inc_children(struct pd_transaction_manager *tm,
			const struct pd_btree_node *n, u32 i, u32 count)
{
	u32 end = i + count, run;
	pd_block_t first;
	int r;

	while (i < end) {
		first = pd_node_value64(n, i);
		for (run = 1; i + run < end; run++)
			if (pd_node_value64(n, i + run) != first + run)
				break;
		r = pd_tm_inc_range(tm, first, first + run);
		if (r)
			return r;
		i += run;
	}
	return 0;
}

int pd_btree_inc_entries(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt,
			 const struct pd_btree_node *n, u32 i, u32 count)
{
	if (!count)
		return 0;
	if (pd_node_is_internal(n))
		return inc_children(tm, n, i, count);
	if (!vt->inc)
		return 0;
	return vt->inc(vt->context, pd_node_value(n, i), count);
}

/*
 * Shadowing
 */

int pd_btree_shadow_node(struct pd_transaction_manager *tm,
			 const struct pd_btree_value_type *vt, pd_block_t b,
			 struct pd_node_ref *ref)
{
	int inc, r;

	r = pd_tm_shadow_block(tm, b, &pd_btree_node_validator, &ref->block,
			       &inc);
	if (r)
		return r;
	ref->n = pd_block_data(ref->block);

	r = pd_btree_node_check(ref->n, b, vt->size);
	if (!r && inc)
		r = pd_btree_inc_entries(tm, vt, ref->n, 0, pd_node_nr(ref->n));
	if (r)
		pd_btree_unlock(tm, ref);
	return r;
}

int pd_btree_shadow_child(struct pd_transaction_manager *tm,
			  const struct pd_btree_value_type *vt,
			  struct pd_node_ref *parent, u32 i,
			  struct pd_node_ref *child)
{
	int r;

	r = pd_btree_shadow_node(tm, vt, pd_node_value64(parent->n, i), child);
	if (r)
		return r;
	pd_node_set_value64(parent->n, i, pd_ref_loc(child));
	return 0;
}
