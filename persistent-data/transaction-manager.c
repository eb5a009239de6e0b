// SPDX-License-Identifier: GPL-2.0-only
/*
 * The transaction manager: copy-on-write on top of the block manager.
 *
 * The one piece of state of its own is the set of blocks this transaction
 * has allocated or shadowed ("owned"). An owned block that nobody else
 * references can be written in place; any other block must be copied first,
 * so that the last committed transaction stays intact on disk.
 */
#define pr_fmt(fmt) "transaction manager: " fmt

#include "transaction-manager.h"

/*
 * The set of blocks owned by the current transaction: open addressing
 * over u64s, grown as needed, emptied at commit. Nothing is ever removed
 * in between, so no tombstones are needed.
 */

#define SHADOW_EMPTY U64_MAX
#define SHADOW_MIN_SLOTS 256u

struct shadow_set {
	pd_block_t *slots;
	unsigned int nr_slots;	/* a power of two */
	unsigned int nr_used;
};

static unsigned int shadow_hash(pd_block_t b, unsigned int nr_slots)
{
	return (unsigned int)((b * 0x9E3779B97F4A7C15ull) >> 32) &
	       (nr_slots - 1);
}

static pd_block_t *shadow_alloc(unsigned int nr_slots)
{
	pd_block_t *slots;
	unsigned int i;

	slots = kvmalloc_array(nr_slots, sizeof(*slots), GFP_NOIO);
	if (!slots)
		return NULL;
	for (i = 0; i < nr_slots; i++)
		slots[i] = SHADOW_EMPTY;
	return slots;
}

static int shadow_init(struct shadow_set *s)
{
	s->slots = shadow_alloc(SHADOW_MIN_SLOTS);
	if (!s->slots)
		return -ENOMEM;
	s->nr_slots = SHADOW_MIN_SLOTS;
	s->nr_used = 0;
	return 0;
}

static bool shadow_contains(struct shadow_set *s, pd_block_t b)
{
	unsigned int i = shadow_hash(b, s->nr_slots);

	while (s->slots[i] != SHADOW_EMPTY) {
		if (s->slots[i] == b)
			return true;
		i = (i + 1) & (s->nr_slots - 1);
	}
	return false;
}

static void shadow_put(pd_block_t *slots, unsigned int nr_slots, pd_block_t b)
{
	unsigned int i = shadow_hash(b, nr_slots);

	while (slots[i] != SHADOW_EMPTY && slots[i] != b)
		i = (i + 1) & (nr_slots - 1);
	slots[i] = b;
}

static int shadow_grow(struct shadow_set *s)
{
	unsigned int i, nr = s->nr_slots * 2;
	pd_block_t *slots = shadow_alloc(nr);

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->nr_slots; i++)
		if (s->slots[i] != SHADOW_EMPTY)
			shadow_put(slots, nr, s->slots[i]);
	kvfree(s->slots);
	s->slots = slots;
	s->nr_slots = nr;
	return 0;
}

/*
 * Failing to record a block is harmless: it will merely be copied again,
 * rather than written in place, if it is shadowed later.
 */
static void shadow_add(struct shadow_set *s, pd_block_t b)
{
	if (s->nr_used * 2 >= s->nr_slots && shadow_grow(s))
		return;
	if (!shadow_contains(s, b)) {
		shadow_put(s->slots, s->nr_slots, b);
		s->nr_used++;
	}
}

static void shadow_clear(struct shadow_set *s)
{
	pd_block_t *small;
	unsigned int i;

	if (s->nr_slots > SHADOW_MIN_SLOTS) {
		small = shadow_alloc(SHADOW_MIN_SLOTS);
		if (small) {
			kvfree(s->slots);
			s->slots = small;
			s->nr_slots = SHADOW_MIN_SLOTS;
			s->nr_used = 0;
			return;
		}
	}
	for (i = 0; i < s->nr_slots; i++)
		s->slots[i] = SHADOW_EMPTY;
	s->nr_used = 0;
}

/*
 * Creation
 */

#define PREFETCH_MAX 128

struct pd_transaction_manager {
	struct pd_transaction_manager *real;	/* set for a clone */
	struct pd_block_manager *bm;
	struct pd_space_map *sm;
	struct shadow_set shadows;

	/* Clones only: blocks a try-lock missed, to be read later. */
	struct mutex prefetch_lock;
	unsigned int nr_prefetches;
	pd_block_t prefetches[PREFETCH_MAX];
};

int pd_tm_create(struct pd_block_manager *bm, struct pd_space_map *sm,
		 struct pd_transaction_manager **result)
{
	struct pd_transaction_manager *tm;
	int r;

	tm = kzalloc(sizeof(*tm), GFP_KERNEL);
	if (!tm)
		return -ENOMEM;
	r = shadow_init(&tm->shadows);
	if (r) {
		kfree(tm);
		return r;
	}
	tm->bm = bm;
	tm->sm = sm;
	mutex_init(&tm->prefetch_lock);
	*result = tm;
	return 0;
}

struct pd_transaction_manager *
pd_tm_create_non_blocking_clone(struct pd_transaction_manager *real)
{
	struct pd_transaction_manager *tm;

	tm = kzalloc(sizeof(*tm), GFP_KERNEL);
	if (!tm)
		return NULL;
	tm->real = real;
	tm->bm = real->bm;
	tm->sm = real->sm;
	mutex_init(&tm->prefetch_lock);
	return tm;
}

void pd_tm_destroy(struct pd_transaction_manager *tm)
{
	if (!tm)
		return;
	if (!tm->real)
		kvfree(tm->shadows.slots);
	mutex_destroy(&tm->prefetch_lock);
	kfree(tm);
}

/*
 * Commit
 */

int pd_tm_pre_commit(struct pd_transaction_manager *tm)
{
	int r;

	if (tm->real)
		return -EPERM;
	r = pd_sm_commit(tm->sm);
	if (r)
		return r;
	return pd_bm_flush(tm->bm);
}

/*
 * Everything else is already durable (pre_commit): only now may the
 * superblock that points at it be written.
 */
int pd_tm_commit(struct pd_transaction_manager *tm, struct pd_block *superblock)
{
	if (tm->real)
		return -EPERM;
	shadow_clear(&tm->shadows);
	pd_bm_unlock(superblock);
	return pd_bm_flush(tm->bm);
}

/*
 * Writable blocks
 */

/* Read-only is the block manager's state, so both layers always agree. */
static int check_writable(struct pd_transaction_manager *tm)
{
	if (tm->real || pd_bm_is_read_only(tm->bm))
		return -EPERM;
	return 0;
}

int pd_tm_new_block(struct pd_transaction_manager *tm,
		    const struct pd_block_validator *v,
		    struct pd_block **result)
{
	pd_block_t b;
	int r;

	r = check_writable(tm);
	if (r)
		return r;
	r = pd_sm_new_block(tm->sm, &b);
	if (r)
		return r;

	r = pd_bm_write_lock_zero(tm->bm, b, v, result);
	if (r) {
		/* Give the block back; the lock error is the one to report. */
		if (pd_sm_dec_block(tm->sm, b))
			pr_err("leaked block %llu\n", (unsigned long long)b);
		return r;
	}
	shadow_add(&tm->shadows, b);
	return 0;
}

/*
 * Copy @orig into a new block. @orig is read (and validated) first, so that
 * a block failing validation changes no reference count: every later
 * attempt fails the same way. The new block is allocated before the old
 * reference is dropped, so the two can never be the same block.
 */
static int copy_block(struct pd_transaction_manager *tm, pd_block_t orig,
		      const struct pd_block_validator *v,
		      struct pd_block **result)
{
	struct pd_block *from;
	pd_block_t copy;
	int r;

	r = pd_bm_read_lock(tm->bm, orig, v, &from);
	if (r)
		return r;

	r = pd_sm_new_block(tm->sm, &copy);
	if (!r)
		r = pd_sm_dec_block(tm->sm, orig);
	if (!r)
		r = pd_bm_write_lock_zero(tm->bm, copy, v, result);
	if (!r)
		memcpy(pd_block_data(*result), pd_block_data(from),
		       PD_BLOCK_SIZE);
	pd_bm_unlock(from);
	if (r)
		return r;

	shadow_add(&tm->shadows, copy);
	return 0;
}

int pd_tm_shadow_block(struct pd_transaction_manager *tm, pd_block_t orig,
		       const struct pd_block_validator *v,
		       struct pd_block **result, int *inc_children)
{
	bool shared;
	int r;

	r = check_writable(tm);
	if (r)
		return r;
	r = pd_sm_count_is_more_than_one(tm->sm, orig, &shared);
	if (r)
		return r;

	*inc_children = shared;
	if (!shared && shadow_contains(&tm->shadows, orig))
		return pd_bm_write_lock(tm->bm, orig, v, result);
	return copy_block(tm, orig, v, result);
}

/*
 * Reading
 */

static void prefetch_add(struct pd_transaction_manager *tm, pd_block_t b)
{
	unsigned int i;

	mutex_lock(&tm->prefetch_lock);
	for (i = 0; i < tm->nr_prefetches; i++)
		if (tm->prefetches[i] == b)
			break;
	if (i == tm->nr_prefetches && i < PREFETCH_MAX)
		tm->prefetches[tm->nr_prefetches++] = b;
	mutex_unlock(&tm->prefetch_lock);
}

void pd_tm_issue_prefetches(struct pd_transaction_manager *tm)
{
	pd_block_t blocks[16];
	unsigned int n;

	/* In batches, so the lock is not held across I/O submission. */
	do {
		mutex_lock(&tm->prefetch_lock);
		n = min_t(unsigned int, tm->nr_prefetches, ARRAY_SIZE(blocks));
		tm->nr_prefetches -= n;
		memcpy(blocks, tm->prefetches + tm->nr_prefetches,
		       n * sizeof(blocks[0]));
		mutex_unlock(&tm->prefetch_lock);

		while (n)
			pd_bm_prefetch(tm->bm, blocks[--n]);
		cond_resched();
	} while (READ_ONCE(tm->nr_prefetches));
}

int pd_tm_read_lock(struct pd_transaction_manager *tm, pd_block_t b,
		    const struct pd_block_validator *v,
		    struct pd_block **result)
{
	int r;

	if (!tm->real)
		return pd_bm_read_lock(tm->bm, b, v, result);

	r = pd_bm_read_try_lock(tm->bm, b, v, result);
	if (r == -EWOULDBLOCK)
		prefetch_add(tm, b);
	return r;
}

void pd_tm_unlock(struct pd_transaction_manager *tm, struct pd_block *b)
{
	pd_bm_unlock(b);
}

/*
 * Reference counts
 */

int pd_tm_inc(struct pd_transaction_manager *tm, pd_block_t b)
{
	return pd_tm_inc_range(tm, b, b + 1);
}

int pd_tm_inc_range(struct pd_transaction_manager *tm, pd_block_t b,
		    pd_block_t e)
{
	if (tm->real)
		return -EPERM;
	return pd_sm_inc_blocks(tm->sm, b, e);
}

int pd_tm_dec(struct pd_transaction_manager *tm, pd_block_t b)
{
	return pd_tm_dec_range(tm, b, b + 1);
}

int pd_tm_dec_range(struct pd_transaction_manager *tm, pd_block_t b,
		    pd_block_t e)
{
	if (tm->real)
		return -EPERM;
	return pd_sm_dec_blocks(tm->sm, b, e);
}

int pd_tm_ref(struct pd_transaction_manager *tm, pd_block_t b, u32 *result)
{
	return pd_sm_get_count(tm->sm, b, result);
}

int pd_tm_block_is_shared(struct pd_transaction_manager *tm, pd_block_t b,
			  bool *result)
{
	return pd_sm_count_is_more_than_one(tm->sm, b, result);
}

/*
 * Accessors
 */

void pd_tm_prefetch(struct pd_transaction_manager *tm, pd_block_t b)
{
	pd_bm_prefetch(tm->bm, b);
}

struct pd_block_manager *pd_tm_get_bm(struct pd_transaction_manager *tm)
{
	return tm->bm;
}

struct pd_space_map *pd_tm_get_sm(struct pd_transaction_manager *tm)
{
	return tm->sm;
}

bool pd_tm_is_read_only(struct pd_transaction_manager *tm)
{
	return tm->real || pd_bm_is_read_only(tm->bm);
}

void pd_tm_set_read_only(struct pd_transaction_manager *tm)
{
	pd_bm_set_read_only(tm->bm);
}
