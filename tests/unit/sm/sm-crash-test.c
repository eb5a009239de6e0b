// SPDX-License-Identifier: GPL-2.0-only
/*
 * Crash tests: a seeded workload over both space maps commits several
 * times while the file block manager stops persisting writes after N of
 * them (power loss) or fails them. Reopened, the image must hold exactly
 * the state of the last commit whose superblock reached the disk, and must
 * be usable from there: the copy-on-write and "never reuse a block freed in
 * this transaction" rules at work, with a small cache forcing evictions
 * (early writes) mid-transaction.
 */
#include "sm-test.h"

#define EPB PD_SM_ENTRIES_PER_BITMAP
#define DATA_BLOCKS (2 * EPB + 100)
#define META_BLOCKS 6000
#define NR_COMMITS 6
#define OPS_PER_COMMIT 400
#define CACHE_BLOCKS 24

static u64 rnd_state;

static u32 rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 33;
}

struct snapshot {
	u32 data[DATA_BLOCKS];
	u32 meta[META_BLOCKS];
};

struct crash_run {
	struct sm_pool pool;
	char *path;
	struct snapshot cur;
	struct snapshot committed[NR_COMMITS + 2];
	unsigned int nr_commits;
};

/* Each op returns 0 or the library's error; the model follows only what
 * succeeded. A new block of sm (data or metadata), counted in counts. */
static int op_new(struct pd_space_map *sm, u32 *counts)
{
	pd_block_t b;
	int r = pd_sm_new_block(sm, &b);

	if (r == -ENOSPC)
		return 0;
	if (!r)
		counts[b]++;
	return r;
}

static int op_data_range(struct crash_run *cr, bool inc)
{
	u64 b = rnd() % DATA_BLOCKS, e = b + 1 + rnd() % 400, i;
	int r;

	e = min_t(u64, e, DATA_BLOCKS);
	if (!inc) {
		for (i = b; i < e && cr->cur.data[i]; i++)
			;
		e = i;
		if (e == b)
			return 0;
	}

	r = inc ? pd_sm_inc_blocks(cr->pool.dsm, b, e) :
		  pd_sm_dec_blocks(cr->pool.dsm, b, e);
	if (!r)
		for (i = b; i < e; i++)
			cr->cur.data[i] += inc ? 1 : -1;
	return r;
}

static int op_meta_change(struct crash_run *cr, bool inc)
{
	u64 b = rnd() % META_BLOCKS, i;
	int r;

	for (i = 0; i < META_BLOCKS && !cr->cur.meta[b]; i++)
		b = (b + 1) % META_BLOCKS;
	if (!cr->cur.meta[b])
		return 0;

	r = inc ? pd_sm_inc_block(cr->pool.msm, b) :
		  pd_sm_dec_block(cr->pool.msm, b);
	if (!r)
		cr->cur.meta[b] += inc ? 1 : -1;
	return r;
}

static int step(struct crash_run *cr)
{
	u32 op = rnd() % 100;

	if (op < 30)
		return op_new(cr->pool.dsm, cr->cur.data);
	if (op < 45)
		return op_data_range(cr, true);
	if (op < 65)
		return op_data_range(cr, false);
	if (op < 80)
		return op_new(cr->pool.msm, cr->cur.meta);
	if (op < 90)
		return op_meta_change(cr, true);
	return op_meta_change(cr, false);
}

static int commit(struct crash_run *cr)
{
	cr->pool.sb.trans_id = cpu_to_le64(cr->nr_commits + 1);
	return sm_pool_commit(&cr->pool);
}

/* Run the workload; stop at the first error. */
static void workload(struct crash_run *cr, u64 seed)
{
	unsigned int c, i;

	rnd_state = seed;
	for (c = 0; c < NR_COMMITS; c++) {
		for (i = 0; i < OPS_PER_COMMIT; i++)
			if (step(cr))
				return;
		if (commit(cr))
			return;
		cr->committed[++cr->nr_commits] = cr->cur;
	}
}

static void crash_start(struct crash_run *cr)
{
	memset(cr, 0, sizeof(*cr));
	cr->path = strdup(sm_test_path("crash.img"));
	sm_pool_create_ex(&cr->pool, cr->path, META_BLOCKS, META_BLOCKS,
			  DATA_BLOCKS, CACHE_BLOCKS);
	/* Transaction 0: the freshly formatted, empty state. */
	assert_int_equal(sm_pool_commit(&cr->pool), 0);
}

/* Which transactions recovery came back to, over a whole sweep. */
static unsigned int recovered_seen;

/* Reopen and compare with the snapshot the superblock names. */
static void check_recovered(struct crash_run *cr)
{
	struct snapshot *want;
	u32 *meta, count;
	u64 k, b;

	assert_int_equal(sm_pool_open_ex(&cr->pool, cr->path, CACHE_BLOCKS), 0);
	k = le64_to_cpu(cr->pool.sb.trans_id);
	assert_true(k <= cr->nr_commits + 1);
	if (k > cr->nr_commits) {
		/* The commit in flight made it: its state is the current. */
		cr->committed[k] = cr->cur;
		cr->nr_commits = k;
	}
	want = &cr->committed[k];
	recovered_seen |= 1u << k;

	meta = sm_pool_verify_image(cr->path, want->data, DATA_BLOCKS,
				    want->meta);
	free(meta);
	for (b = 0; b < DATA_BLOCKS; b += 7) {
		assert_int_equal(pd_sm_get_count(cr->pool.dsm, b, &count), 0);
		assert_int_equal(count, want->data[b]);
	}

	/* Usable: more work from the recovered state, committed, checked. */
	cr->cur = *want;
	cr->nr_commits = k;
	rnd_state ^= 0x9e3779b9;
	for (b = 0; b < 100; b++)
		assert_int_equal(step(cr), 0);
	assert_int_equal(commit(cr), 0);
	meta = sm_pool_verify_image(cr->path, cr->cur.data, DATA_BLOCKS,
				    cr->cur.meta);
	free(meta);
	sm_pool_close(&cr->pool);
}

static u64 dry_run_writes(u64 seed)
{
	struct crash_run *cr = calloc(1, sizeof(*cr));
	u64 writes;

	assert_non_null(cr);
	crash_start(cr);
	writes = pd_bm_file_write_count(cr->pool.bm);
	workload(cr, seed);
	assert_int_equal(cr->nr_commits, NR_COMMITS);
	writes = pd_bm_file_write_count(cr->pool.bm) - writes;
	sm_pool_close(&cr->pool);
	free(cr->path);
	free(cr);
	return writes;
}

static void crash_at(u64 seed, u64 limit, enum pd_bm_write_failure mode)
{
	struct crash_run *cr = calloc(1, sizeof(*cr));

	assert_non_null(cr);
	crash_start(cr);
	pd_bm_file_set_write_limit(cr->pool.bm, limit, mode);
	workload(cr, seed);
	/* Power gone: whatever is cached is lost with the process. */
	pd_bm_file_set_write_limit(cr->pool.bm, 0, PD_BM_WRITES_DROPPED);
	sm_pool_close(&cr->pool);

	check_recovered(cr);
	free(cr->path);
	free(cr);
}

/* Crash after 0, step, 2 * step, ... writes, and after all of them. */
static void sweep(u64 seed, u64 total, u64 step,
		  enum pd_bm_write_failure mode)
{
	u64 n;

	recovered_seen = 0;
	for (n = 0; n <= total; n += step)
		crash_at(seed, n, mode);
	crash_at(seed, total + 1, mode);
	/* Every transaction was the last durable one at some point. */
	assert_int_equal(recovered_seen, (1u << (NR_COMMITS + 1)) - 1);
}

/* Every possible point of power loss in the whole workload. */
static void test_power_loss(void **state)
{
	u64 seed = 0xc0ffee, total = dry_run_writes(seed);

	if (total <= 6 * NR_COMMITS)
		fail_msg("only %llu writes", (unsigned long long)total);
	sweep(seed, total, SM_TEST_STRIDE, PD_BM_WRITES_DROPPED);
	fprintf(stderr, "power loss after 0..%llu writes (step %d): recovered\n",
		(unsigned long long)total + 1, SM_TEST_STRIDE);
}

static void test_write_errors(void **state)
{
	u64 seed = 0xbadd15c, total = dry_run_writes(seed);

	sweep(seed, total, 4 * SM_TEST_STRIDE, PD_BM_WRITES_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_loss),
		cmocka_unit_test(test_write_errors),
	};

	return SM_RUN_TESTS(tests);
}
