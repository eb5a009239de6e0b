// SPDX-License-Identifier: GPL-2.0-only
/*
 * The space-map low level: reference counts kept in bitmaps plus a ref-count
 * tree, read and changed through the transaction manager. Used by both the
 * metadata and the disk space maps; where index entries live is theirs.
 *
 * Ordering rule for counts crossing 3: the tree entry is written before the
 * bitmap says "3", and removed only after the bitmap says "2", so that a
 * lookup made in between (the metadata space map looks counts up while it
 * changes itself) never finds a "3" without its tree entry.
 */
#include "space-map-common.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP

static u64 bitmap_index(pd_block_t b)
{
	return b / EPB;
}

static pd_block_t bitmap_base(u64 index)
{
	return index * EPB;
}

/* How many entries of bitmap `index` lie below nr_blocks. */
static u32 bitmap_span(pd_block_t nr_blocks, u64 index)
{
	pd_block_t base = bitmap_base(index);

	if (nr_blocks <= base)
		return 0;
	return min_t(pd_block_t, EPB, nr_blocks - base);
}

int pd_sm_index_save_read_only(struct pd_sm_ll *ll, u64 index,
			       const struct pd_sm_index_entry *ie)
{
	return -EPERM;
}

void pd_sm_ll_init(struct pd_sm_ll *ll, struct pd_transaction_manager *tm,
		   const struct pd_sm_index_ops *ops, void *context)
{
	memset(ll, 0, sizeof(*ll));
	ll->tm = tm;
	ll->index_ops = ops;
	ll->context = context;

	/* Counts refer to nothing, so the values need no inc/dec. */
	ll->ref_info.tm = tm;
	ll->ref_info.levels = 1;
	ll->ref_info.value_type.size = sizeof(__le32);
}

void pd_sm_ll_snapshot(struct pd_sm_ll *ll, struct pd_sm_ll *committed)
{
	committed->nr_blocks = ll->nr_blocks;
	committed->nr_allocated = ll->nr_allocated;
	committed->bitmap_root = ll->bitmap_root;
	committed->ref_count_root = ll->ref_count_root;
	committed->nr_held = 0;
	ll->nr_held = 0;
}

int pd_sm_ll_load_index(struct pd_sm_ll *ll, u64 index,
			struct pd_sm_index_entry *ie)
{
	pd_block_t dev_blocks = pd_bm_nr_blocks(pd_tm_get_bm(ll->tm));
	int r;

	if (index >= pd_sm_nr_bitmaps(ll->nr_blocks)) {
		pr_err("space map: bitmap %llu beyond the end (%llu blocks)\n",
		       (unsigned long long)index,
		       (unsigned long long)ll->nr_blocks);
		return -EINVAL;
	}

	r = ll->index_ops->load(ll, index, ie);
	if (r)
		return r;

	if (!ie->blocknr || ie->blocknr >= dev_blocks || ie->nr_free > EPB ||
	    ie->none_free_before > EPB) {
		pr_err("space map: index entry %llu corrupt: bitmap block %llu, nr_free %u, none_free_before %u\n",
		       (unsigned long long)index,
		       (unsigned long long)ie->blocknr, ie->nr_free,
		       ie->none_free_before);
		return -EILSEQ;
	}

	return 0;
}

/* ---- reading ---- */

static int lookup_bitmap(struct pd_sm_ll *ll, pd_block_t b, u32 *value)
{
	struct pd_sm_index_entry ie;
	struct pd_block *blk;
	int r;

	r = pd_sm_ll_load_index(ll, bitmap_index(b), &ie);
	if (r)
		return r;

	r = pd_tm_read_lock(ll->tm, ie.blocknr, &pd_sm_bitmap_validator, &blk);
	if (r)
		return r;

	*value = pd_sm_bitmap_get(pd_block_data(blk), b % EPB);
	pd_tm_unlock(ll->tm, blk);
	return 0;
}

static int ref_lookup(struct pd_sm_ll *ll, pd_block_t b, u32 *count)
{
	u64 key = b;
	__le32 value;
	int r;

	r = pd_btree_lookup(&ll->ref_info, ll->ref_count_root, &key, &value);
	if (r == -ENODATA) {
		pr_err("space map: block %llu marked 3+ but not in the ref-count tree\n",
		       (unsigned long long)b);
		return -EILSEQ;
	}
	if (r)
		return r;

	*count = le32_to_cpu(value);
	if (*count < 3) {
		pr_err("space map: ref-count tree holds %u for block %llu\n",
		       *count, (unsigned long long)b);
		return -EILSEQ;
	}
	return 0;
}

int pd_sm_ll_lookup(struct pd_sm_ll *ll, pd_block_t b, u32 *count)
{
	u32 value;
	int r;

	if (b >= ll->nr_blocks)
		return -EINVAL;

	r = lookup_bitmap(ll, b, &value);
	if (r)
		return r;
	if (value < 3) {
		*count = value;
		return 0;
	}
	return ref_lookup(ll, b, count);
}

/* ---- searching ---- */

static int search_bitmap(struct pd_sm_ll *ll, u64 index,
			 const struct pd_sm_index_entry *ie, u32 begin, u32 end,
			 u32 *result)
{
	struct pd_sm_ll *old = ll->committed;
	struct pd_block *cur, *prev = NULL;
	struct pd_sm_index_entry old_ie;
	int r;

	r = pd_tm_read_lock(ll->tm, ie->blocknr, &pd_sm_bitmap_validator, &cur);
	if (r)
		return r;

	if (old && bitmap_base(index) < old->nr_blocks) {
		r = pd_sm_ll_load_index(old, index, &old_ie);
		if (!r && old_ie.blocknr != ie->blocknr)
			r = pd_tm_read_lock(ll->tm, old_ie.blocknr,
					    &pd_sm_bitmap_validator, &prev);
		if (r)
			goto out;
	}

	r = pd_sm_bitmap_find_free(pd_block_data(cur),
				   prev ? pd_block_data(prev) : NULL,
				   begin, end, result);
	if (prev)
		pd_tm_unlock(ll->tm, prev);
out:
	pd_tm_unlock(ll->tm, cur);
	return r;
}

int pd_sm_ll_find_free(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end,
		       pd_block_t *result)
{
	struct pd_sm_index_entry ie;
	u64 index;
	u32 first, last, e;
	int r;

	if (end > ll->nr_blocks)
		end = ll->nr_blocks;

	/* Each pass moves begin to the next bitmap: bounded by nr_blocks. */
	for (; begin < end; begin = bitmap_base(index + 1)) {
		index = bitmap_index(begin);
		r = pd_sm_ll_load_index(ll, index, &ie);
		if (r)
			return r;
		if (!ie.nr_free)
			continue;

		/*
		 * none_free_before is not trusted: thin_restore writes values
		 * above blocks it freed later, and scanning is cheap.
		 */
		first = begin - bitmap_base(index);
		last = bitmap_span(end, index);
		if (first >= last)
			continue;

		r = search_bitmap(ll, index, &ie, first, last, &e);
		if (!r) {
			*result = bitmap_base(index) + e;
			return 0;
		}
		if (r != -ENOSPC)
			return r;
	}

	return -ENOSPC;
}

/* ---- changing one bitmap ---- */

struct bitmap_edit {
	u64 index;
	struct pd_sm_index_entry ie;
	struct pd_block *blk;
	void *data;
	/*
	 * The bitmap as last committed, read-locked the first time an entry
	 * becomes used or free; NULL if there is none to consult.
	 */
	bool looked_up_committed;
	struct pd_block *committed;
};

/*
 * Shadow bitmap @index for changing. The index entry's hints are kept exact
 * by edit_set(), one entry at a time, rather than recounted over the whole
 * bitmap after every change. They need counting only when the bitmap is
 * copied, i.e. the first time this transaction changes it: the hints it
 * was written with may be stale (thin_restore 0.9 leaves some off by one;
 * the kernel claims a whole bitmap's worth free for a partial last bitmap).
 * A bitmap written in place was copied or created by this transaction, and
 * its hints have been exact since.
 */
static int edit_begin(struct pd_sm_ll *ll, u64 index, struct bitmap_edit *ed)
{
	int inc_children, r;
	bool copied;

	ed->index = index;
	ed->looked_up_committed = false;
	ed->committed = NULL;
	r = pd_sm_ll_load_index(ll, index, &ed->ie);
	if (r)
		return r;

	/* Bitmaps point at nothing: inc_children is of no interest. */
	r = pd_tm_shadow_block(ll->tm, ed->ie.blocknr, &pd_sm_bitmap_validator,
			       &ed->blk, &inc_children);
	if (r)
		return r;

	copied = pd_block_location(ed->blk) != ed->ie.blocknr;
	ed->ie.blocknr = pd_block_location(ed->blk);
	ed->data = pd_block_data(ed->blk);
	if (copied)
		pd_sm_bitmap_count_free(ed->data,
					bitmap_span(ll->nr_blocks, index),
					&ed->ie.nr_free,
					&ed->ie.none_free_before);
	return 0;
}

/* Entry e of the bitmap being edited went from free to used or back. */
static void edit_update_hints(struct pd_sm_ll *ll, struct bitmap_edit *ed,
			      u32 e, bool now_used)
{
	struct pd_sm_index_entry *ie = &ed->ie;
	u32 span = bitmap_span(ll->nr_blocks, ed->index);

	if (!now_used) {
		ie->nr_free++;
		ie->none_free_before = min(ie->none_free_before, e);
		return;
	}

	ie->nr_free--;
	if (e == ie->none_free_before &&
	    pd_sm_bitmap_find_free(ed->data, NULL, e + 1, span,
				   &ie->none_free_before))
		ie->none_free_before = span;
}

/*
 * Whether entry e was in use in the last committed state. If the committed
 * bitmap is the block being edited, the transaction manager is writing it
 * in place, so it belongs to no committed transaction (the space map
 * committed without the manager) and protects nothing.
 */
static int committed_used(struct pd_sm_ll *ll, struct bitmap_edit *ed, u32 e,
			  bool *used)
{
	struct pd_sm_ll *old = ll->committed;
	struct pd_sm_index_entry ie;
	int r;

	*used = false;
	if (!old || bitmap_base(ed->index) + e >= old->nr_blocks)
		return 0;

	if (!ed->looked_up_committed) {
		r = pd_sm_ll_load_index(old, ed->index, &ie);
		if (!r && ie.blocknr != ed->ie.blocknr)
			r = pd_tm_read_lock(ll->tm, ie.blocknr,
					    &pd_sm_bitmap_validator,
					    &ed->committed);
		if (r)
			return r;
		ed->looked_up_committed = true;
	}

	*used = ed->committed &&
		pd_sm_bitmap_get(pd_block_data(ed->committed), e) != 0;
	return 0;
}

/* Set entry e and account for blocks becoming used or free. */
static int edit_set(struct pd_sm_ll *ll, struct bitmap_edit *ed, u32 e,
		    u32 value)
{
	u32 old = pd_sm_bitmap_get(ed->data, e);
	bool was_committed;
	int r;

	pd_sm_bitmap_set(ed->data, e, value);
	if (!old == !value)
		return 0;
	edit_update_hints(ll, ed, e, value);

	r = committed_used(ll, ed, e, &was_committed);
	if (r)
		return r;

	if (!old) {
		ll->nr_allocated++;
		if (was_committed && ll->nr_held)
			ll->nr_held--;
	} else {
		/* Saturate: a data root's nr_allocated is taken on trust. */
		if (ll->nr_allocated)
			ll->nr_allocated--;
		if (was_committed)
			ll->nr_held++;
	}
	return 0;
}

/* Finish an edit: save the index entry with its new location and hints. */
static int edit_end(struct pd_sm_ll *ll, struct bitmap_edit *ed, int r)
{
	if (ed->committed)
		pd_tm_unlock(ll->tm, ed->committed);
	pd_tm_unlock(ll->tm, ed->blk);
	if (r)
		return r;
	return ll->index_ops->save(ll, ed->index, &ed->ie);
}

static int set_bitmap_value(struct pd_sm_ll *ll, pd_block_t b, u32 value)
{
	struct bitmap_edit ed;
	int r;

	r = edit_begin(ll, bitmap_index(b), &ed);
	if (r)
		return r;

	r = edit_set(ll, &ed, b % EPB, value);
	return edit_end(ll, &ed, r);
}

/* ---- changing counts ---- */

static int ref_insert(struct pd_sm_ll *ll, pd_block_t b, u32 count)
{
	__le32 value = cpu_to_le32(count);
	u64 key = b;

	return pd_btree_insert(&ll->ref_info, ll->ref_count_root, &key, &value,
			       &ll->ref_count_root, NULL);
}

static int ref_remove(struct pd_sm_ll *ll, pd_block_t b)
{
	u64 key = b;

	return pd_btree_remove(&ll->ref_info, ll->ref_count_root, &key,
			       &ll->ref_count_root);
}

/* Move b from count old to count new, in the order the header explains. */
static int set_count(struct pd_sm_ll *ll, pd_block_t b, u32 old, u32 new)
{
	int r;

	if (new >= 3) {
		r = ref_insert(ll, b, new);
		if (r)
			return r;
	}

	if (min(old, 3U) != min(new, 3U)) {
		r = set_bitmap_value(ll, b, min(new, 3U));
		if (r)
			return r;
	}

	if (old >= 3 && new < 3)
		return ref_remove(ll, b);
	return 0;
}

int pd_sm_ll_set(struct pd_sm_ll *ll, pd_block_t b, u32 count)
{
	u32 old;
	int r;

	r = pd_sm_ll_lookup(ll, b, &old);
	if (r)
		return r;
	return set_count(ll, b, old, count);
}

/* Whether a bitmap value can take delta without the ref-count tree. */
static bool in_bitmap(u32 value, int delta)
{
	return delta > 0 ? value < 2 : value == 1 || value == 2;
}

/* Apply delta to a single block whose count is or becomes 3 or more. */
static int adjust_one(struct pd_sm_ll *ll, pd_block_t b, u32 value, int delta)
{
	u32 count = value;
	int r;

	if (value == 3) {
		r = ref_lookup(ll, b, &count);
		if (r)
			return r;
	}

	if (delta < 0 && !count) {
		pr_err("space map: decrement of free block %llu\n",
		       (unsigned long long)b);
		return -EINVAL;
	}
	if (delta > 0 && count == U32_MAX)
		return -EOVERFLOW;

	return set_count(ll, b, count, count + delta);
}

/*
 * The blocks an inc or dec applies to: those of [begin, end), or, with a
 * list, list[begin] to list[end - 1].
 */
struct block_seq {
	const pd_block_t *list;
	u64 begin;
	u64 end;
};

static pd_block_t seq_block(const struct block_seq *seq, u64 i)
{
	return seq->list ? seq->list[i] : i;
}

/*
 * Apply delta to the blocks of seq from position *i on that lie in the
 * same bitmap, under one edit, for as long as their counts stay within the
 * bitmap; a block whose count needs the ref-count tree is done after the
 * edit. *i is left at the first block not done.
 *
 * As in dm-thin, the bitmap is shadowed before any value is looked at, so
 * a first block whose count only changes in the ref-count tree (4 or more)
 * may cost an unchanged copy, once per transaction.
 */
static int adjust_bitmap(struct pd_sm_ll *ll, const struct block_seq *seq,
			 u64 *i, int delta)
{
	u64 index = bitmap_index(seq_block(seq, *i));
	pd_block_t b, base = bitmap_base(index);
	struct bitmap_edit ed;
	bool to_tree = false;
	u32 value;
	int r;

	r = edit_begin(ll, index, &ed);
	if (r)
		return r;

	for (; *i < seq->end; (*i)++) {
		b = seq_block(seq, *i);
		if (bitmap_index(b) != index)
			break;
		value = pd_sm_bitmap_get(ed.data, b - base);
		if (!in_bitmap(value, delta)) {
			to_tree = true;
			break;
		}
		r = edit_set(ll, &ed, b - base, value + delta);
		if (r)
			break;
	}

	r = edit_end(ll, &ed, r);
	if (r || !to_tree)
		return r;
	(*i)++;
	return adjust_one(ll, b, value, delta);
}

static int adjust(struct pd_sm_ll *ll, const struct block_seq *seq, int delta)
{
	u64 i;
	int r;

	for (i = seq->begin; i < seq->end;) {
		r = adjust_bitmap(ll, seq, &i, delta);
		if (r)
			return r;
	}
	return 0;
}

static int adjust_range(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end,
			int delta)
{
	struct block_seq seq = { .begin = begin, .end = end };

	if (begin > end || end > ll->nr_blocks) {
		pr_err("space map: range [%llu, %llu) outside %llu blocks\n",
		       (unsigned long long)begin, (unsigned long long)end,
		       (unsigned long long)ll->nr_blocks);
		return -EINVAL;
	}
	return adjust(ll, &seq, delta);
}

static int adjust_list(struct pd_sm_ll *ll, const pd_block_t *blocks,
		       unsigned int nr, int delta)
{
	struct block_seq seq = { .list = blocks, .begin = 0, .end = nr };
	unsigned int i;

	/* All checked first, as a range is: nothing changes if one is bad. */
	for (i = 0; i < nr; i++) {
		if (blocks[i] >= ll->nr_blocks) {
			pr_err("space map: block %llu outside %llu blocks\n",
			       (unsigned long long)blocks[i],
			       (unsigned long long)ll->nr_blocks);
			return -EINVAL;
		}
	}
	return adjust(ll, &seq, delta);
}

int pd_sm_ll_inc(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end)
{
	return adjust_range(ll, begin, end, 1);
}

int pd_sm_ll_dec(struct pd_sm_ll *ll, pd_block_t begin, pd_block_t end)
{
	return adjust_range(ll, begin, end, -1);
}

int pd_sm_ll_inc_list(struct pd_sm_ll *ll, const pd_block_t *blocks,
		      unsigned int nr)
{
	return adjust_list(ll, blocks, nr, 1);
}

int pd_sm_ll_dec_list(struct pd_sm_ll *ll, const pd_block_t *blocks,
		      unsigned int nr)
{
	return adjust_list(ll, blocks, nr, -1);
}

/* ---- growing ---- */

/* The last bitmap was partial: blocks it now covers are free. */
static int widen_last_bitmap(struct pd_sm_ll *ll, pd_block_t new_nr)
{
	u64 index = bitmap_index(ll->nr_blocks - 1);
	struct pd_sm_index_entry ie;
	u32 added;
	int r;

	r = pd_sm_ll_load_index(ll, index, &ie);
	if (r)
		return r;

	added = bitmap_span(new_nr, index) - bitmap_span(ll->nr_blocks, index);
	/* Kernel-written partial bitmaps already claim EPB free entries. */
	ie.nr_free = min(EPB, ie.nr_free + added);
	return ll->index_ops->save(ll, index, &ie);
}

static int add_bitmap(struct pd_sm_ll *ll, u64 index, pd_block_t new_nr)
{
	struct pd_sm_index_entry ie;
	struct pd_block *blk;
	int r;

	r = pd_tm_new_block(ll->tm, &pd_sm_bitmap_validator, &blk);
	if (r)
		return r;

	memset(pd_block_data(blk), 0, PD_BLOCK_SIZE);
	ie.blocknr = pd_block_location(blk);
	ie.nr_free = bitmap_span(new_nr, index);
	ie.none_free_before = 0;
	pd_tm_unlock(ll->tm, blk);

	return ll->index_ops->save(ll, index, &ie);
}

int pd_sm_ll_extend(struct pd_sm_ll *ll, pd_block_t extra)
{
	pd_block_t new_nr = ll->nr_blocks + extra;
	u64 index, old_bitmaps = pd_sm_nr_bitmaps(ll->nr_blocks);
	u64 new_bitmaps = pd_sm_nr_bitmaps(new_nr);
	int r;

	if (new_nr < ll->nr_blocks ||
	    (ll->max_bitmaps && new_bitmaps > ll->max_bitmaps)) {
		pr_err("space map: cannot grow %llu blocks by %llu\n",
		       (unsigned long long)ll->nr_blocks,
		       (unsigned long long)extra);
		return -ENOSPC;
	}

	if (ll->nr_blocks % EPB) {
		r = widen_last_bitmap(ll, new_nr);
		if (r)
			return r;
	}

	for (index = old_bitmaps; index < new_bitmaps; index++) {
		r = add_bitmap(ll, index, new_nr);
		if (r)
			return r;
	}

	ll->nr_blocks = new_nr;
	return 0;
}

/* ---- roots ---- */

int pd_sm_ll_copy_root(const struct pd_sm_ll *ll, void *where, size_t max)
{
	struct disk_sm_root root;

	if (max < sizeof(root))
		return -ENOSPC;

	root.nr_blocks = cpu_to_le64(ll->nr_blocks);
	root.nr_allocated = cpu_to_le64(ll->nr_allocated);
	root.bitmap_root = cpu_to_le64(ll->bitmap_root);
	root.ref_count_root = cpu_to_le64(ll->ref_count_root);
	memcpy(where, &root, sizeof(root));
	return 0;
}

int pd_sm_ll_read_root(struct pd_sm_ll *ll, const void *root, size_t len)
{
	struct disk_sm_root r;

	if (len < sizeof(r)) {
		pr_err("space map: root too short (%zu bytes)\n", len);
		return -EINVAL;
	}

	memcpy(&r, root, sizeof(r));
	ll->nr_blocks = le64_to_cpu(r.nr_blocks);
	ll->nr_allocated = le64_to_cpu(r.nr_allocated);
	ll->bitmap_root = le64_to_cpu(r.bitmap_root);
	ll->ref_count_root = le64_to_cpu(r.ref_count_root);
	ll->nr_held = 0;

	if (ll->nr_allocated > ll->nr_blocks) {
		pr_err("space map: root claims %llu of %llu blocks allocated\n",
		       (unsigned long long)ll->nr_allocated,
		       (unsigned long long)ll->nr_blocks);
		return -EILSEQ;
	}
	return 0;
}

/* ---- ops shared by both space maps ---- */

int pd_sm_count_is_more_than_one_by_count(struct pd_space_map *sm,
					  pd_block_t b, bool *result)
{
	u32 count;
	int r;

	r = pd_sm_get_count(sm, b, &count);
	if (!r)
		*result = count > 1;
	return r;
}

/* ---- threshold ---- */

void pd_sm_threshold_set(struct pd_sm_threshold *t, pd_block_t threshold,
			 pd_sm_threshold_fn fn, void *context,
			 pd_block_t nr_free)
{
	t->threshold = threshold;
	t->fn = fn;
	t->context = context;
	t->armed = nr_free > threshold;
}

void pd_sm_threshold_check(struct pd_sm_threshold *t, pd_block_t nr_free)
{
	bool below = nr_free <= t->threshold;

	if (!t->fn)
		return;
	if (below && t->armed)
		t->fn(t->context);
	t->armed = !below;
}
