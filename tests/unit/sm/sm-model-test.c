// SPDX-License-Identifier: GPL-2.0-only
/*
 * Property tests of both space maps against a model: long seeded random
 * sequences of new_block / inc / dec / ranges / set_count / commit / reopen /
 * extend over several bitmaps, every count and nr_free checked after each
 * operation, every commit checked on disk by an independent decoder.
 */
#include "sm-test.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP

static u64 rnd_state;

static u32 rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 33;
}

static u64 rnd_below(u64 n)
{
	return n ? ((u64)rnd() << 31 ^ rnd()) % n : 0;
}

static void assert_nr_free(struct pd_space_map *sm, pd_block_t want)
{
	pd_block_t n;

	assert_int_equal(pd_sm_get_nr_free(sm, &n), 0);
	if (n != want)
		fail_msg("nr_free %llu, model %llu", (unsigned long long)n,
			 (unsigned long long)want);
}

/* Data space map only: blocks with count 0, held ones included. */
static void assert_nr_unused(struct pd_space_map *sm, pd_block_t want)
{
	pd_block_t n;

	pd_sm_disk_get_nr_unused(sm, &n);
	if (n != want)
		fail_msg("nr_unused %llu, want %llu", (unsigned long long)n,
			 (unsigned long long)want);
}

/* ---- the data space map model ---- */

struct data_model {
	u64 nr_blocks;
	u64 committed_nr_blocks;
	u64 capacity;
	u32 *cur;
	u32 *committed;
	u64 nr_free;		/* free in both states */
};

static bool allocatable(const struct data_model *m, u64 b)
{
	return !m->cur[b] &&
	       (b >= m->committed_nr_blocks || !m->committed[b]);
}

static void model_set(struct data_model *m, u64 b, u32 v)
{
	m->nr_free -= allocatable(m, b);
	m->cur[b] = v;
	m->nr_free += allocatable(m, b);
}

static void model_init(struct data_model *m, u64 nr_blocks, u64 capacity)
{
	memset(m, 0, sizeof(*m));
	m->capacity = capacity;
	m->cur = calloc(capacity, sizeof(u32));
	m->committed = calloc(capacity, sizeof(u32));
	assert_non_null(m->cur);
	assert_non_null(m->committed);
	m->nr_blocks = nr_blocks;
	m->nr_free = nr_blocks;
}

static void model_commit(struct data_model *m)
{
	memcpy(m->committed, m->cur, m->capacity * sizeof(u32));
	m->committed_nr_blocks = m->nr_blocks;
	m->nr_free = 0;
	for (u64 b = 0; b < m->nr_blocks; b++)
		m->nr_free += !m->cur[b];
}

static void model_free(struct data_model *m)
{
	free(m->cur);
	free(m->committed);
}

struct data_run {
	struct sm_pool pool;
	char *path;
	struct data_model m;
	unsigned int commits;
};

static void data_check_all(struct data_run *dr)
{
	u64 b;

	for (b = 0; b < dr->m.nr_blocks; b++)
		sm_assert_count(dr->pool.dsm, b, dr->m.cur[b]);
	assert_nr_free(dr->pool.dsm, dr->m.nr_free);
}

static void data_commit(struct data_run *dr, bool reopen)
{
	u32 *meta;

	dr->pool.sb.trans_id = cpu_to_le64(++dr->commits);
	assert_int_equal(sm_pool_commit(&dr->pool), 0);
	model_commit(&dr->m);
	meta = sm_pool_verify_image(dr->path, dr->m.cur, dr->m.nr_blocks, NULL);
	free(meta);

	if (reopen) {
		sm_pool_close(&dr->pool);
		assert_int_equal(sm_pool_open_ex(&dr->pool, dr->path, 64), 0);
		data_check_all(dr);
	}
	assert_nr_free(dr->pool.dsm, dr->m.nr_free);
}

static void data_new_block(struct data_run *dr)
{
	pd_block_t b;
	int r;

	r = pd_sm_new_block(dr->pool.dsm, &b);
	if (!dr->m.nr_free) {
		assert_int_equal(r, -ENOSPC);
		return;
	}
	assert_int_equal(r, 0);
	assert_true(b < dr->m.nr_blocks);
	/* Never a block the committed state still uses. */
	if (!allocatable(&dr->m, b))
		fail_msg("new_block gave %llu: count %u, committed %u",
			 (unsigned long long)b, dr->m.cur[b],
			 dr->m.committed[b]);
	model_set(&dr->m, b, 1);
	sm_assert_count(dr->pool.dsm, b, 1);
}

/* Hot blocks collect high counts: the ref-count tree at work. */
static u64 pick_block(struct data_run *dr)
{
	static const u64 hot[] = { 0, 1, 2, EPB - 1, EPB, 2 * EPB + 5, 77 };

	if (rnd() % 3 == 0)
		return hot[rnd() % ARRAY_SIZE(hot)] % dr->m.nr_blocks;
	return rnd_below(dr->m.nr_blocks);
}

/* A used block near a random place (or nr_blocks if none). */
static u64 pick_used(struct data_run *dr)
{
	u64 b = pick_block(dr), i;

	for (i = 0; i < 4096 && b < dr->m.nr_blocks; i++, b++)
		if (dr->m.cur[b])
			return b;
	return dr->m.nr_blocks;
}

static void data_inc_range(struct data_run *dr, u64 b, u64 e)
{
	u64 i;

	assert_int_equal(pd_sm_inc_blocks(dr->pool.dsm, b, e), 0);
	for (i = b; i < e; i++) {
		model_set(&dr->m, i, dr->m.cur[i] + 1);
		sm_assert_count(dr->pool.dsm, i, dr->m.cur[i]);
	}
}

static void data_dec_range(struct data_run *dr, u64 b, u64 e)
{
	u64 i;

	assert_int_equal(pd_sm_dec_blocks(dr->pool.dsm, b, e), 0);
	for (i = b; i < e; i++) {
		model_set(&dr->m, i, dr->m.cur[i] - 1);
		sm_assert_count(dr->pool.dsm, i, dr->m.cur[i]);
	}
}

/* A range starting near a bitmap boundary half of the time. */
static void pick_range(struct data_run *dr, u64 *b, u64 *e)
{
	u64 len = 1 + rnd() % 300;

	*b = pick_block(dr);
	if (rnd() & 1)
		*b = (*b / EPB) * EPB + EPB - rnd() % 150;
	if (*b >= dr->m.nr_blocks)
		*b = dr->m.nr_blocks - 1;
	*e = min(*b + len, dr->m.nr_blocks);
}

static void data_step(struct data_run *dr)
{
	u32 op = rnd() % 1000, v;
	u64 b, e, i;

	if (op < 250) {
		data_new_block(dr);
	} else if (op < 420) {
		b = pick_block(dr);
		data_inc_range(dr, b, b + 1);
	} else if (op < 600) {
		b = pick_used(dr);
		if (b < dr->m.nr_blocks)
			data_dec_range(dr, b, b + 1);
	} else if (op < 700) {
		pick_range(dr, &b, &e);
		data_inc_range(dr, b, e);
	} else if (op < 880) {
		pick_range(dr, &b, &e);
		for (i = b; i < e && dr->m.cur[i]; i++)
			;
		if (i > b)
			data_dec_range(dr, b, i);
	} else if (op < 900) {
		/* Dec of a free block is refused and changes nothing. */
		b = pick_block(dr);
		if (!dr->m.cur[b])
			assert_int_equal(pd_sm_dec_block(dr->pool.dsm, b),
					 -EINVAL);
	} else if (op < 940) {
		b = pick_block(dr);
		v = (u32[]){ 0, 1, 2, 3, 4, 9, 300 }[rnd() % 7];
		assert_int_equal(pd_sm_set_count(dr->pool.dsm, b, v), 0);
		model_set(&dr->m, b, v);
		sm_assert_count(dr->pool.dsm, b, v);
	} else if (op < 985) {
		data_commit(dr, false);
	} else if (op < 995) {
		data_commit(dr, true);
	} else if (dr->m.nr_blocks < dr->m.capacity) {
		e = min(dr->m.capacity, dr->m.nr_blocks + 1 + rnd_below(9000));
		assert_int_equal(pd_sm_extend(dr->pool.dsm,
					      e - dr->m.nr_blocks), 0);
		for (b = dr->m.nr_blocks; b < e; b++)
			dr->m.nr_free += allocatable(&dr->m, b);
		dr->m.nr_blocks = e;
	}
	assert_nr_free(dr->pool.dsm, dr->m.nr_free);
}

static void data_run_start(struct data_run *dr, const char *name,
			   u64 nr_blocks, u64 capacity, u64 seed)
{
	memset(dr, 0, sizeof(*dr));
	rnd_state = seed;
	dr->path = strdup(sm_test_path(name));
	sm_pool_create_ex(&dr->pool, dr->path, 4096, 4096, nr_blocks, 64);
	model_init(&dr->m, nr_blocks, capacity);
}

static void data_run_end(struct data_run *dr)
{
	sm_pool_close(&dr->pool);
	model_free(&dr->m);
	free(dr->path);
}

static void test_data_random(void **state)
{
	struct data_run dr;
	unsigned int i;

	data_run_start(&dr, "data-random.img", 2 * EPB + 1000, 4 * EPB + 7,
		       0x5eed);
	/* Many counts >= 3 first: a ref-count tree of several leaves. */
	data_inc_range(&dr, 100, 1500);
	data_inc_range(&dr, 100, 1500);
	data_inc_range(&dr, 100, 1500);
	data_commit(&dr, true);

	for (i = 0; i < 12000 / SM_TEST_STRIDE; i++) {
		data_step(&dr);
		if (i % 3000 == 2999)
			data_check_all(&dr);
	}
	data_commit(&dr, true);
	data_run_end(&dr);
}

/* 1 -> 2 -> 3 -> 5 -> 2 -> 0, across bitmap edges, tree entries checked. */
static void test_data_count_walk(void **state)
{
	static const u32 walk[] = { 1, 2, 3, 5, 2, 0 };
	static const u64 blocks[] = { 0, EPB - 1, EPB, 2 * EPB - 1, 2 * EPB };
	struct sm_decoded dec;
	struct sm_image img;
	struct data_run dr;
	unsigned int i, j;
	u32 c;

	data_run_start(&dr, "data-walk.img", 2 * EPB + 1, 2 * EPB + 1, 1);
	for (i = 0; i < ARRAY_SIZE(walk); i++) {
		for (j = 0; j < ARRAY_SIZE(blocks); j++) {
			u64 b = blocks[j];

			c = dr.m.cur[b];
			if (walk[i] > c)
				while (c++ < walk[i])
					data_inc_range(&dr, b, b + 1);
			else
				while (c-- > walk[i])
					data_dec_range(&dr, b, b + 1);
		}
		data_commit(&dr, i & 1);

		sm_image_load(&img, dr.path);
		sm_image_decode(&img, true, true, &dec);
		assert_int_equal(dec.nr_ref_entries,
				 walk[i] >= 3 ? ARRAY_SIZE(blocks) : 0);
		sm_decoded_free(&dec);
		sm_image_free(&img);
	}
	data_run_end(&dr);
}

/* Blocks freed in this transaction come back only after commit. */
static void test_data_no_reuse(void **state)
{
	struct data_run dr;
	pd_block_t b;
	unsigned int i;

	data_run_start(&dr, "data-reuse.img", 1000, 1000, 2);
	for (i = 0; i < 1000; i++)
		data_new_block(&dr);
	data_new_block(&dr);	/* -ENOSPC */
	data_commit(&dr, false);

	data_dec_range(&dr, 10, 20);
	assert_int_equal(pd_sm_dec_block(dr.pool.dsm, 500), 0);
	model_set(&dr.m, 500, 0);
	assert_nr_free(dr.pool.dsm, 0);
	assert_int_equal(pd_sm_new_block(dr.pool.dsm, &b), -ENOSPC);
	/* ...but they are reported unused at once, as dm-thin reports them. */
	assert_nr_unused(dr.pool.dsm, 11);

	/* A block both allocated and freed in this transaction is fine. */
	data_commit(&dr, false);
	assert_nr_unused(dr.pool.dsm, 11);
	assert_nr_free(dr.pool.dsm, 11);
	for (i = 0; i < 11; i++)
		data_new_block(&dr);
	for (b = 0; b < 1000 && dr.m.cur[b]; b++)
		;
	assert_true(b == 1000);
	data_dec_range(&dr, 15, 16);
	data_new_block(&dr);
	assert_int_equal(dr.m.cur[15], 1);

	/* Freed and incremented again in one transaction: used, not held. */
	data_dec_range(&dr, 30, 31);
	data_inc_range(&dr, 30, 31);
	assert_nr_free(dr.pool.dsm, dr.m.nr_free);
	data_commit(&dr, true);
	data_run_end(&dr);
}

/* Extended space is usable before commit, and survives reopen. */
static void test_data_extend(void **state)
{
	struct data_run dr;
	unsigned int i;

	data_run_start(&dr, "data-extend.img", 0, 3 * EPB + 10, 3);
	data_new_block(&dr);	/* -ENOSPC: no blocks at all */
	assert_int_equal(pd_sm_extend(dr.pool.dsm, 100), 0);
	dr.m.nr_blocks = 100;
	dr.m.nr_free = 100;
	for (i = 0; i < 100; i++)
		data_new_block(&dr);
	data_new_block(&dr);
	data_commit(&dr, true);

	assert_int_equal(pd_sm_extend(dr.pool.dsm, 3 * EPB + 10 - 100), 0);
	dr.m.nr_blocks = 3 * EPB + 10;
	dr.m.nr_free = dr.m.nr_blocks - 100;
	data_check_all(&dr);
	data_inc_range(&dr, EPB - 5, 3 * EPB + 10);
	data_commit(&dr, true);
	data_run_end(&dr);
}

/* ---- lists of blocks (pd_sm_inc_list, pd_sm_dec_list) ---- */

#define MAX_LIST 300

static int cmp_block(const void *a, const void *b)
{
	pd_block_t x = *(const pd_block_t *)a, y = *(const pd_block_t *)b;

	return x < y ? -1 : x > y;
}

static unsigned int occurrences(const pd_block_t *list, unsigned int n,
				pd_block_t b)
{
	unsigned int i, k = 0;

	for (i = 0; i < n; i++)
		k += list[i] == b;
	return k;
}

/*
 * Up to MAX_LIST blocks across the bitmaps, hot ones (counts crossing 3)
 * included, some listed twice or more, sorted half of the time. For a dec,
 * only as many of a block as its count allows.
 */
static unsigned int pick_list(struct data_run *dr, pd_block_t *list, bool dec)
{
	unsigned int want = 1 + rnd() % MAX_LIST, n = 0, tries;
	pd_block_t b;

	for (tries = 0; n < want && tries < 4 * want; tries++) {
		b = n && rnd() % 8 == 0 ? list[rnd() % n] : pick_block(dr);
		if (dec && dr->m.cur[b] <= occurrences(list, n, b))
			continue;
		list[n++] = b;
	}
	if (rnd() & 1)
		qsort(list, n, sizeof(*list), cmp_block);
	return n;
}

static void data_list(struct data_run *dr, bool dec)
{
	pd_block_t list[MAX_LIST];
	unsigned int i, n;

	n = pick_list(dr, list, dec);
	if (dec)
		assert_int_equal(pd_sm_dec_list(dr->pool.dsm, list, n), 0);
	else
		assert_int_equal(pd_sm_inc_list(dr->pool.dsm, list, n), 0);
	for (i = 0; i < n; i++)
		model_set(&dr->m, list[i], dr->m.cur[list[i]] + (dec ? -1 : 1));
	for (i = 0; i < n; i++)
		sm_assert_count(dr->pool.dsm, list[i], dr->m.cur[list[i]]);
}

/* A block beyond the end anywhere in a list: refused, nothing changed. */
static void data_bad_list(struct data_run *dr)
{
	pd_block_t list[MAX_LIST];
	unsigned int i, n;

	n = pick_list(dr, list, false);
	list[rnd() % n] = dr->m.nr_blocks + rnd() % 10;
	assert_int_equal(pd_sm_dec_list(dr->pool.dsm, list, n), -EINVAL);
	assert_int_equal(pd_sm_inc_list(dr->pool.dsm, list, n), -EINVAL);
	for (i = 0; i < n; i++)
		if (list[i] < dr->m.nr_blocks)
			sm_assert_count(dr->pool.dsm, list[i], dr->m.cur[list[i]]);
}

/* The list operations against the model, over three bitmaps. */
static void test_data_lists(void **state)
{
	struct data_run dr;
	unsigned int i;
	u32 op;

	data_run_start(&dr, "data-lists.img", 3 * EPB - 100, 3 * EPB - 100,
		       0x115);
	for (i = 0; i < 4000 / SM_TEST_STRIDE; i++) {
		op = rnd() % 100;
		if (op < 45)
			data_new_block(&dr);
		else if (op < 70)
			data_list(&dr, false);
		else if (op < 92)
			data_list(&dr, true);
		else if (op < 94)
			data_bad_list(&dr);
		else if (op < 99)
			data_commit(&dr, false);
		else
			data_commit(&dr, true);
		assert_nr_free(dr.pool.dsm, dr.m.nr_free);
	}
	data_check_all(&dr);
	data_commit(&dr, true);
	data_run_end(&dr);
}

/* ---- the metadata space map model ---- */

/*
 * The metadata space map also counts its own blocks and everything else in
 * the device, which the model cannot predict; it tracks the references the
 * test itself holds (user[]). Checks: user blocks read back their counts;
 * nothing internal ever lands on a user block; on disk every count equals
 * what the structures reference plus user[]; nr_free equals the blocks free
 * now and in the last committed image.
 */
struct meta_run {
	struct sm_pool pool;
	char *path;
	u64 nr_blocks;
	u64 file_blocks;
	u32 *user;
	u32 *committed;		/* decoded from disk at the last commit */
	u64 committed_nr;
	unsigned int commits;
};

static void meta_check_free(struct meta_run *mr)
{
	u64 b, n = 0;
	u32 c;

	for (b = 0; b < mr->nr_blocks; b++) {
		assert_int_equal(pd_sm_get_count(mr->pool.msm, b, &c), 0);
		if (mr->user[b] && c != mr->user[b])
			fail_msg("user block %llu: count %u, model %u",
				 (unsigned long long)b, c, mr->user[b]);
		n += !c && (b >= mr->committed_nr || !mr->committed[b]);
	}
	assert_nr_free(mr->pool.msm, n);
}

static void meta_commit(struct meta_run *mr, bool reopen)
{
	mr->pool.sb.trans_id = cpu_to_le64(++mr->commits);
	assert_int_equal(sm_pool_commit(&mr->pool), 0);
	free(mr->committed);
	mr->committed = sm_pool_verify_image(mr->path, NULL, 0, mr->user);
	mr->committed_nr = mr->nr_blocks;

	if (reopen) {
		sm_pool_close(&mr->pool);
		assert_int_equal(sm_pool_open_ex(&mr->pool, mr->path, 64), 0);
	}
	meta_check_free(mr);
}

static void meta_new_block(struct meta_run *mr)
{
	pd_block_t b;
	int r;

	r = pd_sm_new_block(mr->pool.msm, &b);
	if (r == -ENOSPC)
		return;
	assert_int_equal(r, 0);
	assert_true(b < mr->nr_blocks);
	assert_int_equal(mr->user[b], 0);
	if (b < mr->committed_nr && mr->committed[b])
		fail_msg("new_block gave %llu, used by the committed state",
			 (unsigned long long)b);
	mr->user[b] = 1;
	sm_assert_count(mr->pool.msm, b, 1);
}

static u64 meta_pick_user(struct meta_run *mr)
{
	u64 b = rnd_below(mr->nr_blocks), i;

	for (i = 0; i < mr->nr_blocks; i++, b = (b + 1) % mr->nr_blocks)
		if (mr->user[b])
			return b;
	return mr->nr_blocks;
}

static void meta_adjust(struct meta_run *mr, u64 b, u64 e, int delta)
{
	u64 i;

	if (delta > 0)
		assert_int_equal(pd_sm_inc_blocks(mr->pool.msm, b, e), 0);
	else
		assert_int_equal(pd_sm_dec_blocks(mr->pool.msm, b, e), 0);

	for (i = b; i < e; i++) {
		mr->user[i] += delta;
		/* A freed block may at once serve the space map itself,
		 * unless the committed state holds it. */
		if (mr->user[i] || (i < mr->committed_nr && mr->committed[i]))
			sm_assert_count(mr->pool.msm, i, mr->user[i]);
	}
}

static void meta_step(struct meta_run *mr)
{
	u32 op = rnd() % 1000, v;
	u64 b, e;

	if (op < 300) {
		meta_new_block(mr);
		return;
	}

	b = meta_pick_user(mr);
	if (b == mr->nr_blocks) {
		meta_new_block(mr);
		return;
	}
	/* The run of user blocks from b, capped. */
	for (e = b; e < mr->nr_blocks && mr->user[e] && e - b < 200; e++)
		;

	if (op < 450) {
		meta_adjust(mr, b, b + 1, 1);
	} else if (op < 650) {
		meta_adjust(mr, b, b + 1, -1);
	} else if (op < 760) {
		meta_adjust(mr, b, e, 1);
	} else if (op < 900) {
		meta_adjust(mr, b, e, -1);
	} else if (op < 940) {
		v = (u32[]){ 1, 2, 3, 6 }[rnd() % 4];
		assert_int_equal(pd_sm_set_count(mr->pool.msm, b, v), 0);
		mr->user[b] = v;
		sm_assert_count(mr->pool.msm, b, v);
	} else if (op < 975) {
		meta_commit(mr, false);
	} else if (op < 990) {
		meta_commit(mr, true);
	} else if (op < 995) {
		meta_check_free(mr);
	} else if (mr->nr_blocks < mr->file_blocks) {
		e = min(mr->file_blocks, mr->nr_blocks + 1 + rnd_below(EPB));
		assert_int_equal(pd_sm_extend(mr->pool.msm,
					      e - mr->nr_blocks), 0);
		mr->nr_blocks = e;
		meta_check_free(mr);
	}
}

static void meta_run_start(struct meta_run *mr, const char *name,
			   u64 file_blocks, u64 nr_blocks, u64 seed)
{
	memset(mr, 0, sizeof(*mr));
	rnd_state = seed;
	mr->path = strdup(sm_test_path(name));
	mr->file_blocks = file_blocks;
	mr->nr_blocks = nr_blocks;
	mr->user = calloc(file_blocks, sizeof(u32));
	assert_non_null(mr->user);
	sm_pool_create_ex(&mr->pool, mr->path, file_blocks, nr_blocks, 0, 64);
	meta_commit(mr, false);
}

static void meta_run_end(struct meta_run *mr)
{
	sm_pool_close(&mr->pool);
	free(mr->user);
	free(mr->committed);
	free(mr->path);
}

static void test_metadata_random(void **state)
{
	unsigned int i, pass;
	struct meta_run mr;
	u64 b, e;

	meta_run_start(&mr, "meta-random.img", 3 * EPB, EPB - 3000, 0xfeed);
	/* A thousand counts >= 3: a ref-count tree that splits while the
	 * space map allocates for it (recursion). */
	for (i = 0; i < 1000; i++)
		meta_new_block(&mr);
	meta_commit(&mr, false);
	for (pass = 0; pass < 2; pass++) {
		for (b = 0; b < mr.nr_blocks; b = e + 1) {
			for (e = b; e < mr.nr_blocks && mr.user[e]; e++)
				;
			if (e > b)
				meta_adjust(&mr, b, e, 1);
		}
	}
	meta_commit(&mr, true);

	for (i = 0; i < 8000 / SM_TEST_STRIDE; i++)
		meta_step(&mr);
	meta_commit(&mr, true);
	meta_run_end(&mr);
}

static void test_metadata_count_walk(void **state)
{
	static const u32 walk[] = { 1, 2, 3, 5, 2, 0 };
	struct meta_run mr;
	pd_block_t b;
	unsigned int i;

	meta_run_start(&mr, "meta-walk.img", 2048, 2048, 4);
	assert_int_equal(pd_sm_new_block(mr.pool.msm, &b), 0);
	mr.user[b] = 1;
	for (i = 1; i < ARRAY_SIZE(walk); i++) {
		while (mr.user[b] < walk[i])
			meta_adjust(&mr, b, b + 1, 1);
		while (mr.user[b] > walk[i])
			meta_adjust(&mr, b, b + 1, -1);
		meta_commit(&mr, i & 1);
	}
	meta_run_end(&mr);
}

static void test_metadata_no_reuse(void **state)
{
	pd_block_t b, got, last = 0;
	struct meta_run mr;
	unsigned int i;

	meta_run_start(&mr, "meta-reuse.img", 4096, 4096, 5);
	for (i = 0; i < 300; i++)
		meta_new_block(&mr);
	meta_commit(&mr, false);

	/* Free every user block, then allocate the whole device: none of
	 * them may come back before the commit. */
	for (b = 0; b < mr.nr_blocks; b++)
		if (mr.user[b])
			meta_adjust(&mr, b, b + 1, -1);
	meta_check_free(&mr);
	while (!pd_sm_new_block(mr.pool.msm, &got)) {
		assert_true(got >= mr.committed_nr || !mr.committed[got]);
		mr.user[got] = 1;
		last = got;
	}
	assert_nr_free(mr.pool.msm, 0);

	/* Room for the commit: blocks allocated in this transaction may go
	 * straight back. */
	for (i = 0, b = last; i < 64; b = (b + mr.nr_blocks - 1) % mr.nr_blocks)
		if (mr.user[b] && (b >= mr.committed_nr || !mr.committed[b])) {
			meta_adjust(&mr, b, b + 1, -1);
			i++;
		}
	meta_check_free(&mr);
	meta_commit(&mr, true);
	meta_run_end(&mr);
}

/* Growing: new bitmaps live in the new area; everything still adds up. */
static void test_metadata_extend(void **state)
{
	const struct disk_metadata_index *mi;
	struct sm_image img;
	struct meta_run mr;
	unsigned int i;

	meta_run_start(&mr, "meta-extend.img", 3 * EPB, EPB - 10, 6);
	for (i = 0; i < 200; i++)
		meta_new_block(&mr);
	meta_commit(&mr, false);

	assert_int_equal(pd_sm_extend(mr.pool.msm, 2 * EPB), 0);
	mr.nr_blocks += 2 * EPB;
	meta_check_free(&mr);
	meta_commit(&mr, true);

	sm_image_load(&img, mr.path);
	mi = sm_image_block(&img, le64_to_cpu(((const struct disk_sm_root *)
		((const struct thin_disk_superblock *)
		 sm_image_block(&img, 0))->metadata_space_map_root)->bitmap_root));
	for (i = 1; i < 3; i++)
		assert_true(le64_to_cpu(mi->index[i].blocknr) >= EPB - 10);
	sm_image_free(&img);

	/* Fill it: allocations run into every bitmap. */
	for (i = 0; i < 2 * EPB; i++)
		meta_new_block(&mr);
	meta_commit(&mr, true);
	/* Extending past the device size is capped by the caller: beyond
	 * the 255-bitmap limit the space map caps itself. */
	meta_run_end(&mr);
}

static int threshold_calls;

static void threshold_fn(void *context)
{
	threshold_calls++;
}

static void test_threshold(void **state)
{
	struct data_run dr;
	unsigned int i;

	data_run_start(&dr, "threshold.img", 100, 100, 7);
	threshold_calls = 0;
	assert_int_equal(pd_sm_register_threshold(dr.pool.dsm, 10,
						  threshold_fn, NULL), 0);
	for (i = 0; i < 89; i++)
		data_new_block(&dr);
	assert_int_equal(threshold_calls, 0);
	data_new_block(&dr);		/* 10 free: fires */
	assert_int_equal(threshold_calls, 1);
	data_new_block(&dr);
	data_new_block(&dr);
	assert_int_equal(threshold_calls, 1);	/* edge, not level */

	/* Freed blocks count once committed; then crossing again fires. */
	data_dec_range(&dr, 0, 20);
	data_commit(&dr, false);
	assert_int_equal(threshold_calls, 1);
	for (i = 0; i < 18; i++)
		data_new_block(&dr);
	assert_int_equal(threshold_calls, 2);
	data_run_end(&dr);

	/* The metadata space map too. */
	{
		struct meta_run mr;

		meta_run_start(&mr, "threshold-meta.img", 512, 512, 8);
		threshold_calls = 0;
		assert_int_equal(pd_sm_register_threshold(mr.pool.msm, 16,
							  threshold_fn, NULL),
				 0);
		for (i = 0; i < 512; i++)
			meta_new_block(&mr);
		assert_int_equal(threshold_calls, 1);
		meta_run_end(&mr);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_count_walk),
		cmocka_unit_test(test_data_no_reuse),
		cmocka_unit_test(test_data_extend),
		cmocka_unit_test(test_data_random),
		cmocka_unit_test(test_data_lists),
		cmocka_unit_test(test_metadata_count_walk),
		cmocka_unit_test(test_metadata_no_reuse),
		cmocka_unit_test(test_metadata_extend),
		cmocka_unit_test(test_metadata_random),
		cmocka_unit_test(test_threshold),
	};

	return SM_RUN_TESTS(tests);
}
