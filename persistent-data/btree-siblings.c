// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two neighbouring children of a btree node: evening them out, merging
 * them, and moving a node's entries into another. Insertion evens out a
 * full node with a sibling rather than split it when it can; removal tops
 * up or merges nodes that have become small.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

int pd_btree_node_size(struct pd_transaction_manager *tm,
		       const struct pd_btree_value_type *vt, pd_block_t b,
		       u32 *nr, u32 *max)
{
	struct pd_node_ref ref;
	int r;

	r = pd_btree_read_node(tm, b, vt->size, &ref);
	if (r)
		return r;
	*nr = pd_node_nr(ref.n);
	*max = pd_node_max(ref.n);
	pd_btree_unlock(tm, &ref);
	return 0;
}

/* Siblings must be alike, or moving entries between them overruns. */
static bool alike(const struct pd_btree_node *a, const struct pd_btree_node *b)
{
	return pd_node_is_internal(a) == pd_node_is_internal(b) &&
	       pd_node_value_size(a) == pd_node_value_size(b);
}

static int sibling_mismatch(pd_block_t location)
{
	pr_err("block %llu does not fit with its sibling: corrupt tree\n",
	       (unsigned long long)location);
	return -EILSEQ;
}

int pd_btree_absorb(struct pd_transaction_manager *tm,
		    const struct pd_btree_value_type *vt,
		    struct pd_node_ref *into, pd_block_t from)
{
	u32 at = pd_node_nr(into->n), nr;
	struct pd_node_ref src;
	bool shared;
	int r;

	r = pd_btree_read_node(tm, from, vt->size, &src);
	if (r)
		return r;
	nr = pd_node_nr(src.n);
	if (!alike(into->n, src.n) || at + nr > pd_node_max(into->n)) {
		pd_btree_unlock(tm, &src);
		return sibling_mismatch(from);
	}
	pd_node_copy(into->n, at, src.n, 0, nr);
	pd_node_set_nr(into->n, at + nr);
	pd_btree_unlock(tm, &src);

	/* A surviving @from keeps its references: @into needs its own. */
	r = pd_tm_block_is_shared(tm, from, &shared);
	if (!r && shared)
		r = pd_btree_inc_entries(tm, vt, into->n, at, nr);
	return r ? r : pd_tm_dec(tm, from);
}

int pd_btree_merge(struct pd_transaction_manager *tm,
		   const struct pd_btree_value_type *vt,
		   struct pd_node_ref *parent, u32 i, struct pd_node_ref *out)
{
	int r;

	r = pd_btree_shadow_child(tm, vt, parent, i, out);
	if (r)
		return r;
	r = pd_btree_absorb(tm, vt, out, pd_node_value64(parent->n, i + 1));
	if (r) {
		pd_btree_unlock(tm, out);
		return r;
	}
	pd_node_delete(parent->n, i + 1, 1);
	return 0;
}

/* Move entries so that @l keeps @want of the two nodes' entries. */
static void even_out(struct pd_btree_node *l, struct pd_btree_node *r,
		     u32 want)
{
	u32 nl = pd_node_nr(l);

	if (nl > want) {
		pd_node_shift_right(r, 0, nl - want);
		pd_node_copy(r, 0, l, want, nl - want);
	} else if (nl < want) {
		pd_node_copy(l, nl, r, 0, want - nl);
		pd_node_delete(r, 0, want - nl);
	}
	pd_node_set_nr(l, want);
}

int pd_btree_redistribute(struct pd_transaction_manager *tm,
			  const struct pd_btree_value_type *vt,
			  struct pd_node_ref *parent, u32 i, u64 key,
			  struct pd_node_ref *out)
{
	struct pd_node_ref l, r;
	u32 total, want;
	int err;

	err = pd_btree_shadow_child(tm, vt, parent, i, &l);
	if (err)
		return err;
	err = pd_btree_shadow_child(tm, vt, parent, i + 1, &r);
	if (err)
		goto bad_l;

	total = pd_node_nr(l.n) + pd_node_nr(r.n);
	want = total / 2;
	if (!alike(l.n, r.n) || want > pd_node_max(l.n) ||
	    total - want > pd_node_max(r.n)) {
		err = sibling_mismatch(pd_ref_loc(&r));
		goto bad_r;
	}

	even_out(l.n, r.n, want);
	pd_node_set_key(parent->n, i + 1, pd_node_key(r.n, 0));

	if (key >= pd_node_key(r.n, 0)) {
		pd_btree_unlock(tm, &l);
		*out = r;
	} else {
		pd_btree_unlock(tm, &r);
		*out = l;
	}
	return 0;

bad_r:
	pd_btree_unlock(tm, &r);
bad_l:
	pd_btree_unlock(tm, &l);
	return err;
}
