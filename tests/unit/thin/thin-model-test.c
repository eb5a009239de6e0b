// SPDX-License-Identifier: GPL-2.0-only
/*
 * Property tests of the thin metadata against an in-memory model: random
 * sequences of device, mapping and transaction operations, checked after
 * every commit, reopen and abort; and crashes (the block manager stops
 * persisting writes at a random point), after which the metadata must be
 * exactly the last commit that reached the disk, and consistent.
 *
 * THIN_MODEL_SEEDS (default 12) and THIN_MODEL_OPS (default 400) scale it.
 */
#include "thin-test.h"

#define BLOCK_SIZE 128
#define META_BLOCKS 4096
#define DATA_BLOCKS 6000
#define MAX_DEV 24

struct run {
	struct thin_env env;
	struct model m;		/* what the library should hold now */
	struct model committed;	/* as of the last commit */
	bool snap_held;
	bool committed_snap_held;
};

static unsigned long env_number(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s ? strtoul(s, NULL, 10) : def;
}

static void remember_commit(struct run *r)
{
	model_free(&r->committed);
	model_copy(&r->committed, &r->m);
	r->committed_snap_held = r->snap_held;
}

static void back_to_commit(struct run *r)
{
	model_free(&r->m);
	model_copy(&r->m, &r->committed);
	r->snap_held = r->committed_snap_held;
}

static void op_create(struct run *r)
{
	u64 id = thin_rand_below(MAX_DEV);
	struct model_device *d;
	int ret = thin_create_thin(r->env.tmd, id);

	if (model_find(&r->m, id)) {
		assert_int_equal(ret, -EEXIST);
		return;
	}
	assert_int_equal(ret, 0);
	d = model_add_device(&r->m, id);
	d->transaction_id = r->m.trans_id;
	d->creation_time = r->m.time;
	d->snapshotted_time = r->m.time;
}

static void op_snap(struct run *r)
{
	u64 id = thin_rand_below(MAX_DEV), origin = thin_rand_below(MAX_DEV);
	struct model_device *o, *s;
	int ret = thin_create_snap(r->env.tmd, id, origin);

	if (model_find(&r->m, id)) {
		assert_int_equal(ret, -EEXIST);
		return;
	}
	if (!model_find(&r->m, origin)) {
		assert_int_equal(ret, -ENODATA);
		return;
	}
	assert_int_equal(ret, 0);
	r->m.time++;
	s = model_add_device(&r->m, id);
	o = model_find(&r->m, origin);
	s->transaction_id = r->m.trans_id;
	s->creation_time = r->m.time;
	s->snapshotted_time = r->m.time;
	o->snapshotted_time = r->m.time;
	s->nr = s->cap = o->nr;
	s->maps = malloc((o->nr + 1) * sizeof(*s->maps));
	assert_non_null(s->maps);
	if (o->nr)
		memcpy(s->maps, o->maps, o->nr * sizeof(*o->maps));
}

static void op_delete(struct run *r)
{
	u64 id = thin_rand_below(MAX_DEV);
	int ret = thin_delete(r->env.tmd, id);

	if (!model_find(&r->m, id)) {
		assert_int_equal(ret, -ENODATA);
		return;
	}
	assert_int_equal(ret, 0);
	model_delete_device(&r->m, id);
}

static struct model_device *pick_device(struct run *r)
{
	if (!r->m.nr_devices)
		return NULL;
	return &r->m.devices[thin_rand_below(r->m.nr_devices)];
}

static u64 pick_vblock(struct model_device *d)
{
	if (d->nr && thin_rand_below(3) == 0)
		return d->maps[thin_rand_below(d->nr)].vblock;
	if (thin_rand_below(10) == 0)
		return thin_rand_below(1ULL << 40);
	return thin_rand_below(3000);
}

/* Map a run of blocks: fresh allocations, or another mapping's block. */
static void op_insert(struct run *r)
{
	struct model_device *d = pick_device(r);
	u64 vb, n, i, other;
	struct thin_device *td;
	data_block_t b;
	int ret;

	if (!d)
		return;
	assert_int_equal(thin_open_device(r->env.tmd, d->id, &td), 0);
	vb = pick_vblock(d);
	n = 1 + (thin_rand_below(4) ? 0 : thin_rand_below(300));
	for (i = 0; i < n; i++) {
		other = thin_rand_below(r->m.nr_devices);
		if (thin_rand_below(8) == 0 && r->m.devices[other].nr) {
			struct model_device *o = &r->m.devices[other];

			b = o->maps[thin_rand_below(o->nr)].data;
			assert_int_equal(thin_inc_data_range(r->env.tmd, b,
							     b + 1), 0);
		} else {
			ret = thin_alloc_data_block(r->env.tmd, &b);
			if (ret == -ENOSPC)
				break;
			assert_int_equal(ret, 0);
		}
		assert_int_equal(thin_insert_block(td, vb + i, b), 0);
		/* The model's pointer may move when devices are added. */
		d = model_find(&r->m, thin_device_id(td));
		model_insert(d, vb + i, b, r->m.time);
	}
	thin_close_device(td);
}

static void op_remove(struct run *r)
{
	struct model_device *d = pick_device(r);
	struct thin_device *td;
	u64 vb, end;

	if (!d)
		return;
	assert_int_equal(thin_open_device(r->env.tmd, d->id, &td), 0);
	vb = pick_vblock(d);
	if (thin_rand_below(3)) {
		assert_int_equal(thin_remove_block(td, vb),
				 model_remove(d, vb) ? 0 : -ENODATA);
	} else {
		end = vb + thin_rand_below(500);
		assert_int_equal(thin_remove_range(td, vb, end), 0);
		for (; vb < end; vb++)
			model_remove(d, vb);
	}
	thin_close_device(td);
}

static void op_txid(struct run *r)
{
	u64 next = thin_rand_below(1000);

	assert_int_equal(thin_metadata_set_transaction_id(r->env.tmd,
							  r->m.trans_id + 1,
							  next), -EINVAL);
	assert_int_equal(thin_metadata_set_transaction_id(r->env.tmd,
							  r->m.trans_id,
							  next), 0);
	r->m.trans_id = next;
}

static void op_metadata_snap(struct run *r)
{
	if (r->snap_held) {
		assert_int_equal(thin_metadata_release_snap(r->env.tmd), 0);
		r->snap_held = false;
		return;
	}
	/* Reserving commits first. */
	assert_int_equal(thin_metadata_reserve_snap(r->env.tmd), 0);
	r->snap_held = true;
	remember_commit(r);
	r->committed_snap_held = false;
}

static void op_commit(struct run *r)
{
	assert_int_equal(thin_metadata_commit(r->env.tmd), 0);
	remember_commit(r);
}

static void op_reopen(struct run *r)
{
	const char *path = r->env.path;

	thin_env_close(&r->env);
	remember_commit(r);
	assert_int_equal(thin_test_check_image(path), 0);
	assert_int_equal(thin_env_open(&r->env, path, BLOCK_SIZE,
				       16 + thin_rand_below(300)), 0);
	model_verify(&r->m, r->env.tmd);
}

static void op_abort(struct run *r)
{
	assert_int_equal(thin_metadata_abort(r->env.tmd), 0);
	back_to_commit(r);
	model_verify(&r->m, r->env.tmd);
}

/* The ops: random_op runs the first whose bound its draw (0..99) is below. */
static const struct {
	unsigned int below;
	const char *name;
	void (*op)(struct run *r);
} ops[] = {
	{ 8, "create", op_create },
	{ 14, "snap", op_snap },
	{ 18, "delete", op_delete },
	{ 60, "insert", op_insert },
	{ 78, "remove", op_remove },
	{ 81, "txid", op_txid },
	{ 84, "msnap", op_metadata_snap },
	{ 93, "commit", op_commit },
	{ 97, "reopen", op_reopen },
	{ 100, "abort", op_abort },
};

static void random_op(struct run *r)
{
	unsigned int x = (unsigned int)thin_rand_below(100), i = 0;

	while (x >= ops[i].below)
		i++;
	if (getenv("THIN_MODEL_TRACE"))
		fprintf(stderr, "op %s\n", ops[i].name);
	ops[i].op(r);
}

static void start(struct run *r, const char *name, unsigned int cache)
{
	const char *path = thin_test_path(name);

	memset(r, 0, sizeof(*r));
	test_make_file(path, META_BLOCKS);
	assert_int_equal(thin_env_open(&r->env, path, BLOCK_SIZE, cache), 0);
	assert_int_equal(thin_resize_data_dev(r->env.tmd, DATA_BLOCKS), 0);
	assert_int_equal(thin_metadata_commit(r->env.tmd), 0);
	model_init(&r->m);
	model_init(&r->committed);
}

static void finish(struct run *r)
{
	const char *path = r->env.path;

	thin_env_close(&r->env);
	assert_int_equal(thin_test_check_image(path), 0);
	model_free(&r->m);
	model_free(&r->committed);
}

static void test_random_ops(void **state)
{
	unsigned long seeds = env_number("THIN_MODEL_SEEDS", 12);
	unsigned long ops = env_number("THIN_MODEL_OPS", 400);
	unsigned long seed, i;
	struct run r;

	for (seed = 1; seed <= seeds; seed++) {
		thin_srand(seed);
		start(&r, "model", 64);
		for (i = 0; i < ops; i++) {
			random_op(&r);
			/* Debugging aid: find the first op that breaks it. */
			if (getenv("THIN_MODEL_CHECK_EACH")) {
				op_commit(&r);
				assert_int_equal(thin_test_check_image(r.env.path),
						 0);
			}
		}
		model_verify(&r.m, r.env.tmd);
		finish(&r);
	}
}

/* ---- crashes ---- */

struct durable {
	u64 writes;		/* block writes once the commit was done */
	struct model m;
};

static void crash_run(unsigned long seed, unsigned long ops)
{
	struct durable *commits;
	struct model base;
	size_t nr = 0, i, expect;
	u64 limit, start_writes;
	unsigned long k;
	struct run r;

	/*
	 * Once writes are dropped, a dirty block evicted and read back would
	 * come back stale: the cache holds the whole device so that the run
	 * goes on as the pool would until the power cut takes effect.
	 */
	thin_srand(seed);
	start(&r, "crash", 2 * META_BLOCKS);
	for (k = 0; k < ops / 2; k++) {
		unsigned int x = (unsigned int)thin_rand_below(10);

		if (x < 6)
			op_insert(&r);
		else if (x < 7)
			op_create(&r);
		else if (x < 8)
			op_snap(&r);
		else
			op_commit(&r);
	}
	op_commit(&r);
	model_copy(&base, &r.m);

	/* From here on the device stops persisting after `limit` writes. */
	commits = calloc(ops + 1, sizeof(*commits));
	assert_non_null(commits);
	start_writes = pd_bm_file_write_count(r.env.bm);
	limit = thin_rand_below(400);
	pd_bm_file_set_write_limit(r.env.bm, limit, PD_BM_WRITES_DROPPED);
	for (k = 0; k < ops / 2; k++) {
		unsigned int x = (unsigned int)thin_rand_below(10);

		if (x < 5) {
			op_insert(&r);
		} else if (x < 6) {
			op_remove(&r);
		} else if (x < 7) {
			op_delete(&r);
		} else if (x < 8) {
			op_create(&r);
		} else {
			op_commit(&r);
			commits[nr].writes = pd_bm_file_write_count(r.env.bm);
			model_copy(&commits[nr].m, &r.m);
			nr++;
		}
	}

	/* The last commit whose writes all happened before the limit. */
	expect = nr;
	for (i = 0; i < nr; i++)
		if (commits[i].writes - start_writes <= limit)
			expect = i;
	thin_env_crash(&r.env);
	model_free(&r.m);
	model_copy(&r.m, expect < nr ? &commits[expect].m : &base);
	for (i = 0; i < nr; i++)
		model_free(&commits[i].m);
	free(commits);
	model_free(&base);
	model_free(&r.committed);
	model_copy(&r.committed, &r.m);

	assert_int_equal(thin_test_check_image(r.env.path), 0);
	assert_int_equal(thin_env_open(&r.env, r.env.path, BLOCK_SIZE, 64), 0);
	model_verify(&r.m, r.env.tmd);
	/* And the pool carries on. */
	for (k = 0; k < 50; k++)
		random_op(&r);
	model_verify(&r.m, r.env.tmd);
	finish(&r);
}

/*
 * run for twice THIN_MODEL_SEEDS seeds from first, each with half of
 * THIN_MODEL_OPS operations: the runs that end in a crash or a failure.
 */
static void each_seed(unsigned long first,
		      void (*run)(unsigned long seed, unsigned long ops))
{
	unsigned long seeds = env_number("THIN_MODEL_SEEDS", 12) * 2;
	unsigned long ops = env_number("THIN_MODEL_OPS", 400) / 2;
	unsigned long seed;

	for (seed = first; seed < first + seeds; seed++)
		run(seed, ops);
}

static void test_crash(void **state)
{
	each_seed(1000, crash_run);
}

/* op_insert that gives up on the first error (writes are failing). */
static int try_insert(struct run *r)
{
	struct model_device *d = pick_device(r);
	struct thin_device *td;
	u64 vb, n, i;
	data_block_t b;
	int ret;

	if (!d)
		return 0;
	ret = thin_open_device(r->env.tmd, d->id, &td);
	if (ret)
		return ret;
	vb = pick_vblock(d);
	n = 1 + thin_rand_below(50);
	for (i = 0; i < n && !ret; i++) {
		ret = thin_alloc_data_block(r->env.tmd, &b);
		if (ret == -ENOSPC) {
			ret = 0;
			break;
		}
		if (!ret)
			ret = thin_insert_block(td, vb + i, b);
		if (!ret)
			model_insert(d, vb + i, b, r->m.time);
	}
	thin_close_device(td);
	return ret;
}

/*
 * Writes start failing (-EIO) at a random point: the first operation that
 * fails is followed by an abort, which must bring back exactly the last
 * commit even if the failed commit had already updated block 0 in the
 * cache; once the device heals the pool carries on.
 */
static void failure_run(unsigned long seed, unsigned long ops)
{
	bool failed = false;
	unsigned long k;
	struct run r;
	int ret = 0;

	thin_srand(seed);
	start(&r, "fail", 2 * META_BLOCKS);
	for (k = 0; k < ops / 2; k++)
		random_op(&r);
	op_commit(&r);

	pd_bm_file_set_write_limit(r.env.bm, thin_rand_below(300),
				   PD_BM_WRITES_FAIL);
	for (k = 0; k < ops && !failed; k++) {
		unsigned int x = (unsigned int)thin_rand_below(4);

		if (x < 3) {
			ret = try_insert(&r);
		} else {
			ret = thin_metadata_commit(r.env.tmd);
			if (!ret)
				remember_commit(&r);
		}
		failed = ret != 0;
	}
	pd_bm_file_set_write_limit(r.env.bm, U64_MAX, PD_BM_WRITES_FAIL);
	if (failed) {
		assert_int_equal(thin_metadata_abort(r.env.tmd), 0);
		back_to_commit(&r);
	}
	model_verify(&r.m, r.env.tmd);
	for (k = 0; k < 40; k++)
		random_op(&r);
	model_verify(&r.m, r.env.tmd);
	op_reopen(&r);
	finish(&r);
}

static void test_commit_failure(void **state)
{
	each_seed(2000, failure_run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_commit_failure),
	};

	return THIN_RUN_TESTS(tests);
}
