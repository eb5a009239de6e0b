// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta check: both space maps.
 *
 * Their structures (index block or index tree, bitmaps, ref-count trees)
 * are walked and counted as metadata like any tree; then every count they
 * hold is compared with the references found by walking the rest.
 */
#include <stdlib.h>

#include "meta-check.h"

static uint64_t div_round_up(uint64_t n, uint64_t d)
{
	return n / d + (n % d != 0);
}

/* The bitmap block b, or 0 if it is unusable. */
static uint64_t check_bitmap(struct checker *c, uint64_t b, int role,
			     const char *from)
{
	uint8_t block[META_BLOCK_SIZE];

	if (!check_reference(c, b, role, from))
		return 0;
	if (meta_image_read(&c->img, b, block)) {
		check_error(c, "block %llu (%s): cannot be read",
			    (unsigned long long)b, role_name(role));
		return 0;
	}
	if (meta_le32(block) != meta_block_csum(block, META_BITMAP_CSUM_XOR)) {
		check_error(c, "block %llu (%s): bad bitmap checksum",
			    (unsigned long long)b, role_name(role));
		return 0;
	}
	if (meta_le64(block + 8) != b) {
		check_error(c, "block %llu (%s): bitmap claims to be block %llu",
			    (unsigned long long)b, role_name(role),
			    (unsigned long long)meta_le64(block + 8));
		return 0;
	}
	return b;
}

static void overflow_entry(struct tree_walk *w, uint64_t node, uint64_t key,
			   const uint8_t *value)
{
	struct refcount_vec *v = w->role == ROLE_MSM_REFCOUNT ?
		&w->c->msm_overflow : &w->c->dsm_overflow;

	refcount_push(w->c, v, key, meta_le32(value));
}

static void check_overflow_tree(struct checker *c, uint64_t root, int role)
{
	check_role_tree(c, role, META_REFCOUNT_VALUE_SIZE, overflow_entry, root,
			"superblock", NULL);
}

static bool read_index(struct checker *c, uint64_t b, uint8_t *block)
{
	if (meta_image_read(&c->img, b, block)) {
		check_error(c, "block %llu (metadata space map index): cannot be read",
			    (unsigned long long)b);
		return false;
	}
	if (meta_le32(block) != meta_block_csum(block, META_INDEX_CSUM_XOR)) {
		check_error(c, "block %llu (metadata space map index): bad checksum",
			    (unsigned long long)b);
		return false;
	}
	if (meta_le64(block + 8) != b) {
		check_error(c, "block %llu (metadata space map index): claims to be block %llu",
			    (unsigned long long)b,
			    (unsigned long long)meta_le64(block + 8));
		return false;
	}
	return true;
}

void check_metadata_sm(struct checker *c)
{
	const struct meta_sm_root *r = &c->sb.metadata_sm;
	uint64_t nr_bitmaps = div_round_up(r->nr_blocks,
					   META_ENTRIES_PER_BITMAP);
	uint8_t block[META_BLOCK_SIZE];
	uint64_t i, b;

	if (nr_bitmaps > META_MAX_METADATA_BITMAPS) {
		check_error(c, "block 0: metadata space map of %llu blocks needs more bitmaps than its index holds",
			    (unsigned long long)r->nr_blocks);
		nr_bitmaps = META_MAX_METADATA_BITMAPS;
	}
	if (check_reference(c, r->bitmap_root, ROLE_MSM_INDEX, "superblock") &&
	    read_index(c, r->bitmap_root, block)) {
		for (i = 0; i < nr_bitmaps; i++) {
			b = meta_le64(block + META_INDEX_HEADER_SIZE +
				       META_INDEX_ENTRY_SIZE * i);
			b = check_bitmap(c, b, ROLE_MSM_BITMAP,
					 "metadata space map index");
			u64_push(c, &c->msm_bitmaps, b);
		}
	}
	check_overflow_tree(c, r->ref_count_root, ROLE_MSM_REFCOUNT);
}

static void index_entry(struct tree_walk *w, uint64_t node, uint64_t key,
			const uint8_t *value)
{
	struct checker *c = w->c;
	uint64_t b;

	if (key >= c->dsm_bitmaps.n) {
		check_error(c, "block %llu (data space map index): entry for bitmap %llu, beyond the data space map",
			    (unsigned long long)node, (unsigned long long)key);
		return;
	}
	b = check_bitmap(c, meta_le64(value), ROLE_DSM_BITMAP,
			 "data space map index");
	c->dsm_bitmaps.v[key] = b;
}

void check_data_sm(struct checker *c)
{
	const struct meta_sm_root *r = &c->sb.data_sm;
	uint64_t nr_bitmaps = div_round_up(r->nr_blocks,
					   META_ENTRIES_PER_BITMAP);
	uint64_t i;

	/* Every bitmap is a metadata block of its own. */
	if (nr_bitmaps > c->nr_meta) {
		check_error(c, "block 0: data space map of %llu blocks needs more bitmaps than the metadata device has blocks",
			    (unsigned long long)r->nr_blocks);
		nr_bitmaps = c->nr_meta;
	}
	for (i = 0; i < nr_bitmaps; i++)
		if (!u64_push(c, &c->dsm_bitmaps, 0))
			return;
	check_role_tree(c, ROLE_DSM_INDEX, META_DSM_INDEX_VALUE_SIZE, index_entry,
			r->bitmap_root, "superblock", NULL);
	for (i = 0; i < nr_bitmaps; i++)
		if (!c->dsm_bitmaps.v[i])
			check_error(c, "block %llu (data space map index): no usable bitmap for data blocks %llu-%llu",
				    (unsigned long long)r->bitmap_root,
				    (unsigned long long)(i * META_ENTRIES_PER_BITMAP),
				    (unsigned long long)((i + 1) * META_ENTRIES_PER_BITMAP - 1));
	check_overflow_tree(c, r->ref_count_root, ROLE_DSM_REFCOUNT);
}

/* ---- comparing counts ---- */

static int cmp_refcount(const void *a, const void *b)
{
	const struct refcount *x = a, *y = b;

	return x->block < y->block ? -1 : x->block > y->block;
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

static unsigned int bitmap_entry(const uint8_t *block, uint64_t e)
{
	uint64_t word = meta_le64(block + META_BITMAP_HEADER_SIZE + (e / 32) * 8);
	unsigned int bit = (unsigned int)(e % 32) * 2;

	return (unsigned int)(((word >> bit) & 1) << 1 | ((word >> (bit + 1)) & 1));
}

/* One space map being compared, block by block, with what was found. */
struct comparison {
	struct checker *c;
	const char *what;
	const struct meta_sm_root *root;
	const struct u64_vec *bitmaps;
	struct refcount_vec *overflow;
	size_t next_overflow;
	uint64_t allocated;
};

/* The full count of block b whose bitmap entry is 3. */
static uint32_t overflow_count(struct comparison *k, uint64_t b)
{
	struct refcount_vec *o = k->overflow;

	while (k->next_overflow < o->n && o->v[k->next_overflow].block < b) {
		check_error(k->c, "%s block %llu: in the ref-count tree, but its bitmap entry is not 3",
			    k->what,
			    (unsigned long long)o->v[k->next_overflow].block);
		k->next_overflow++;
	}
	if (k->next_overflow < o->n && o->v[k->next_overflow].block == b) {
		uint32_t count = o->v[k->next_overflow++].count;

		if (count < 3)
			check_error(k->c, "%s block %llu: ref-count tree holds %u, below 3",
				    k->what, (unsigned long long)b, count);
		return count;
	}
	check_error(k->c, "%s block %llu: bitmap says 3 or more but the ref-count tree has no entry",
		    k->what, (unsigned long long)b);
	return 3;
}

typedef uint32_t (*expected_fn)(struct checker *c, uint64_t b);

static void compare_bitmap(struct comparison *k, uint64_t index,
			   const uint8_t *block, expected_fn expected)
{
	uint64_t first = index * META_ENTRIES_PER_BITMAP, e, b;
	uint32_t count, found;

	for (e = 0; e < META_ENTRIES_PER_BITMAP; e++) {
		b = first + e;
		count = bitmap_entry(block, e);
		if (b >= k->root->nr_blocks) {
			if (count)
				check_error(k->c, "block %llu (bitmap): entry for %s block %llu beyond the space map is not free",
					    (unsigned long long)k->bitmaps->v[index],
					    k->what, (unsigned long long)b);
			continue;
		}
		if (count == 3)
			count = overflow_count(k, b);
		if (count)
			k->allocated++;
		found = expected(k->c, b);
		if (count != found)
			check_error(k->c, "%s block %llu: space map count %u, but %u references found",
				    k->what, (unsigned long long)b, count, found);
	}
}

static void compare_sm(struct comparison *k, expected_fn expected)
{
	uint8_t block[META_BLOCK_SIZE];
	bool complete = true;
	uint64_t i;

	if (k->overflow->n)
		qsort(k->overflow->v, k->overflow->n,
		      sizeof(*k->overflow->v), cmp_refcount);
	for (i = 0; i < k->bitmaps->n; i++) {
		if (!k->bitmaps->v[i] ||
		    meta_image_read(&k->c->img, k->bitmaps->v[i], block)) {
			complete = false;
			continue;
		}
		compare_bitmap(k, i, block, expected);
	}
	for (; k->next_overflow < k->overflow->n; k->next_overflow++)
		if (k->overflow->v[k->next_overflow].block < k->root->nr_blocks)
			check_error(k->c, "%s block %llu: in the ref-count tree, but its bitmap entry is not 3",
				    k->what,
				    (unsigned long long)k->overflow->v[k->next_overflow].block);
		else
			check_error(k->c, "%s block %llu: in the ref-count tree, beyond the space map",
				    k->what,
				    (unsigned long long)k->overflow->v[k->next_overflow].block);
	/*
	 * Only the free-space figure depends on nr_allocated, and
	 * thin_restore 0.9.0 itself sometimes writes it one off: a warning.
	 */
	if (complete && k->allocated != k->root->nr_allocated)
		check_warning(k->c, "block 0: %s space map says %llu blocks allocated, its bitmaps hold %llu",
			    k->what, (unsigned long long)k->root->nr_allocated,
			    (unsigned long long)k->allocated);
}

static uint32_t metadata_expected(struct checker *c, uint64_t b)
{
	return b < c->nr_meta ? c->refs[b] : 0;
}

/* what: "metadata" or "data", for messages. */
static void compare(struct checker *c, const char *what,
		    const struct meta_sm_root *root,
		    const struct u64_vec *bitmaps,
		    struct refcount_vec *overflow, expected_fn expected)
{
	struct comparison k = {
		.c = c,
		.what = what,
		.root = root,
		.bitmaps = bitmaps,
		.overflow = overflow,
	};

	compare_sm(&k, expected);
}

void compare_metadata_counts(struct checker *c)
{
	compare(c, "metadata", &c->sb.metadata_sm, &c->msm_bitmaps,
		&c->msm_overflow, metadata_expected);
}

/* data_refs is sorted and blocks are asked for in ascending order. */
static uint32_t data_expected(struct checker *c, uint64_t b)
{
	const struct u64_vec *v = &c->data_refs;
	uint32_t n = 0;

	while (c->next_data_ref < v->n && v->v[c->next_data_ref] < b)
		c->next_data_ref++;
	while (c->next_data_ref < v->n && v->v[c->next_data_ref] == b) {
		c->next_data_ref++;
		if (n < UINT32_MAX)
			n++;
	}
	return n;
}

void compare_data_counts(struct checker *c)
{
	if (c->data_refs.n)
		qsort(c->data_refs.v, c->data_refs.n, sizeof(*c->data_refs.v),
		      cmp_u64);
	c->next_data_ref = 0;
	compare(c, "data", &c->sb.data_sm, &c->dsm_bitmaps, &c->dsm_overflow,
		data_expected);
}
