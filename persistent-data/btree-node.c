// SPDX-License-Identifier: GPL-2.0-only
/*
 * Btree nodes: the validator and the operations on a single node.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-node.h"

u32 pd_btree_max_entries(u32 value_size)
{
	u32 fit = (PD_BLOCK_SIZE - PD_BTREE_HEADER_SIZE) /
		  (sizeof(__le64) + value_size);

	/* A multiple of 3, so that nodes split and merge in thirds. */
	return 3 * (fit / 3);
}

void pd_node_init(struct pd_btree_node *n, bool internal, u32 value_size)
{
	n->header.flags = cpu_to_le32(internal ? BTREE_NODE_INTERNAL :
					      BTREE_NODE_LEAF);
	n->header.nr_entries = 0;
	n->header.max_entries = cpu_to_le32(pd_btree_max_entries(value_size));
	n->header.value_size = cpu_to_le32(value_size);
	n->header.padding = 0;
}

/*
 * Validation
 */

static u32 node_csum(const void *data)
{
	const struct btree_node_header *h = data;

	return pd_block_checksum(&h->flags, PD_BLOCK_SIZE - sizeof(h->csum),
				 BTREE_CSUM_XOR);
}

static void node_prepare_for_write(const struct pd_block_validator *v,
				   void *data, pd_block_t location)
{
	struct btree_node_header *h = data;

	h->blocknr = cpu_to_le64(location);
	h->csum = cpu_to_le32(node_csum(data));
}

static int bad_node(pd_block_t location, const char *what, u64 value)
{
	pr_err("block %llu: not a valid node: %s (%llu)\n",
	       (unsigned long long)location, what, (unsigned long long)value);
	return -EILSEQ;
}

/* The header's claims must be possible, or walking the node would overrun. */
static int check_header(const struct btree_node_header *h, pd_block_t location)
{
	u32 flags = le32_to_cpu(h->flags);
	u32 nr = le32_to_cpu(h->nr_entries);
	u32 max = le32_to_cpu(h->max_entries);
	u32 vs = le32_to_cpu(h->value_size);

	if (flags != BTREE_NODE_INTERNAL && flags != BTREE_NODE_LEAF)
		return bad_node(location, "flags", flags);
	if (!vs || vs > PD_BLOCK_SIZE)
		return bad_node(location, "value size", vs);
	if (!max || PD_BTREE_HEADER_SIZE + (u64)max * (8 + vs) > PD_BLOCK_SIZE)
		return bad_node(location, "max entries", max);
	if (nr > max)
		return bad_node(location, "more entries than max", nr);
	if (flags == BTREE_NODE_INTERNAL && vs != sizeof(__le64))
		return bad_node(location, "internal node value size", vs);
	if (flags == BTREE_NODE_INTERNAL && !nr)
		return bad_node(location, "empty internal node", 0);
	return 0;
}

static int node_check(const struct pd_block_validator *v, const void *data,
		      pd_block_t location)
{
	const struct btree_node_header *h = data;
	u32 csum;

	if (le64_to_cpu(h->blocknr) != location) {
		pr_err("block %llu: node claims to be block %llu\n",
		       (unsigned long long)location,
		       (unsigned long long)le64_to_cpu(h->blocknr));
		return -ENOTBLK;
	}
	csum = node_csum(data);
	if (csum != le32_to_cpu(h->csum)) {
		pr_err("block %llu: node checksum %08x, expected %08x\n",
		       (unsigned long long)location, le32_to_cpu(h->csum), csum);
		return -EILSEQ;
	}
	return check_header(h, location);
}

const struct pd_block_validator pd_btree_node_validator = {
	.name = "btree_node",
	.prepare_for_write = node_prepare_for_write,
	.check = node_check,
};

int pd_btree_node_check(const struct pd_btree_node *n, pd_block_t location,
			u32 leaf_value_size)
{
	int r = check_header(&n->header, location);

	if (r)
		return r;
	if (!pd_node_is_internal(n) && pd_node_value_size(n) != leaf_value_size)
		return bad_node(location, "leaf value size",
				pd_node_value_size(n));
	return 0;
}

/*
 * Searching
 */

int pd_node_lower_bound(const struct pd_btree_node *n, u64 key)
{
	int lo = -1, hi = pd_node_nr(n);

	/* Invariant: key[lo] <= key < key[hi], with virtual ends. */
	while (hi - lo > 1) {
		int mid = lo + (hi - lo) / 2;

		if (pd_node_key(n, mid) <= key)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

u32 pd_node_first_at_or_after(const struct pd_btree_node *n, u64 key)
{
	int i = pd_node_lower_bound(n, key);

	if (i >= 0 && pd_node_key(n, i) == key)
		return i;
	return i + 1;
}

/*
 * Moving entries
 */

void pd_node_shift_right(struct pd_btree_node *n, u32 i, u32 count)
{
	u32 nr = pd_node_nr(n), vs = pd_node_value_size(n);

	memmove(n->keys + i + count, n->keys + i, (nr - i) * sizeof(__le64));
	memmove(pd_node_value(n, i + count), pd_node_value(n, i),
		(size_t)(nr - i) * vs);
	pd_node_set_nr(n, nr + count);
}

void pd_node_delete(struct pd_btree_node *n, u32 i, u32 count)
{
	u32 nr = pd_node_nr(n), vs = pd_node_value_size(n);
	u32 tail = nr - i - count;

	memmove(n->keys + i, n->keys + i + count, tail * sizeof(__le64));
	memmove(pd_node_value(n, i), pd_node_value(n, i + count),
		(size_t)tail * vs);
	pd_node_set_nr(n, nr - count);
}

void pd_node_insert_at(struct pd_btree_node *n, u32 i, u64 key,
		       const void *value)
{
	pd_node_shift_right(n, i, 1);
	pd_node_set_key(n, i, key);
	memcpy(pd_node_value(n, i), value, pd_node_value_size(n));
}

void pd_node_copy(struct pd_btree_node *dst, u32 di,
		  const struct pd_btree_node *src, u32 si, u32 count)
{
	memcpy(dst->keys + di, src->keys + si, count * sizeof(__le64));
	memcpy(pd_node_value(dst, di), pd_node_value(src, si),
	       (size_t)count * pd_node_value_size(src));
}
