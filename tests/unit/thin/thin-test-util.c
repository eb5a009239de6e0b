// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for the thin-metadata host tests (see thin-test.h).
 */
#include <fcntl.h>
#include <stddef.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thin-test.h"
#include "meta/meta.h"

const char *thin_test_path(const char *name)
{
	static char path[8][512];
	static unsigned int next;
	char *p = path[next++ % 8];

	snprintf(p, sizeof(path[0]), "%s/%s", test_scratch_dir(), name);
	return p;
}

static u64 rand_state = 88172645463325252ULL;

void thin_srand(u64 seed)
{
	rand_state = seed * 2654435761ULL + 88172645463325252ULL;
	if (!rand_state)
		rand_state = 1;
}

u64 thin_rand(void)
{
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 7;
	rand_state ^= rand_state << 17;
	return rand_state;
}

int thin_test_check_image(const char *path)
{
	char *argv[] = { "check", "-q", (char *)path, NULL };
	int r;

	fflush(stdout);
	r = meta_check_main(3, argv);
	fflush(stdout);
	return r;
}

int thin_env_open(struct thin_env *env, const char *path, u32 block_size,
		  unsigned int cache_blocks)
{
	int r;

	env->path = path;
	env->tmd = NULL;
	r = pd_bm_file_open(path, false, cache_blocks, &env->bm);
	if (r)
		return r;
	r = thin_metadata_open(env->bm, block_size, false, &env->tmd);
	if (r) {
		pd_bm_destroy(env->bm);
		env->bm = NULL;
	}
	return r;
}

void thin_env_close(struct thin_env *env)
{
	if (env->tmd)
		assert_int_equal(thin_metadata_close(env->tmd), 0);
	if (env->bm)
		pd_bm_destroy(env->bm);
	env->tmd = NULL;
	env->bm = NULL;
}

void thin_env_crash(struct thin_env *env)
{
	/* Nothing reaches the disk any more; then drop everything. */
	pd_bm_file_set_write_limit(env->bm, 0, PD_BM_WRITES_DROPPED);
	thin_metadata_set_read_only(env->tmd);
	thin_metadata_close(env->tmd);
	pd_bm_destroy(env->bm);
	env->tmd = NULL;
	env->bm = NULL;
}

/* ---- the model ---- */

void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
}

void model_free(struct model *m)
{
	size_t i;

	for (i = 0; i < m->nr_devices; i++)
		free(m->devices[i].maps);
	free(m->devices);
	model_init(m);
}

void model_copy(struct model *dst, const struct model *src)
{
	size_t i;

	*dst = *src;
	dst->devices = calloc(src->nr_devices + 1, sizeof(*dst->devices));
	assert_non_null(dst->devices);
	for (i = 0; i < src->nr_devices; i++) {
		struct model_device *d = &dst->devices[i];

		*d = src->devices[i];
		d->cap = d->nr;
		d->maps = malloc((d->nr + 1) * sizeof(*d->maps));
		assert_non_null(d->maps);
		if (d->nr)
			memcpy(d->maps, src->devices[i].maps,
			       d->nr * sizeof(*d->maps));
	}
}

/*
 * Index of the first of nr elements (each size bytes, from base, sorted by the
 * u64 at key_off) whose key is >= key: nr when there is none.
 */
static size_t lower_bound_u64(const void *base, size_t nr, size_t size,
			      size_t key_off, u64 key)
{
	size_t lo = 0, hi = nr, mid;
	u64 k;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		memcpy(&k, (const char *)base + mid * size + key_off, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t device_pos(const struct model *m, u64 id)
{
	return lower_bound_u64(m->devices, m->nr_devices, sizeof(*m->devices),
			       offsetof(struct model_device, id), id);
}

struct model_device *model_find(struct model *m, u64 id)
{
	size_t i = device_pos(m, id);

	return i < m->nr_devices && m->devices[i].id == id ?
		&m->devices[i] : NULL;
}

struct model_device *model_add_device(struct model *m, u64 id)
{
	size_t i = device_pos(m, id);

	m->devices = realloc(m->devices,
			     (m->nr_devices + 1) * sizeof(*m->devices));
	assert_non_null(m->devices);
	memmove(&m->devices[i + 1], &m->devices[i],
		(m->nr_devices - i) * sizeof(*m->devices));
	m->nr_devices++;
	memset(&m->devices[i], 0, sizeof(m->devices[i]));
	m->devices[i].id = id;
	return &m->devices[i];
}

void model_delete_device(struct model *m, u64 id)
{
	size_t i = device_pos(m, id);

	assert_true(i < m->nr_devices && m->devices[i].id == id);
	free(m->devices[i].maps);
	memmove(&m->devices[i], &m->devices[i + 1],
		(m->nr_devices - i - 1) * sizeof(*m->devices));
	m->nr_devices--;
}

static size_t map_pos(const struct model_device *d, u64 vblock)
{
	return lower_bound_u64(d->maps, d->nr, sizeof(*d->maps),
			       offsetof(struct model_mapping, vblock), vblock);
}

struct model_mapping *model_lookup(struct model_device *d, u64 vblock)
{
	size_t i = map_pos(d, vblock);

	return i < d->nr && d->maps[i].vblock == vblock ? &d->maps[i] : NULL;
}

u64 model_insert(struct model_device *d, u64 vblock, u64 data, u32 time)
{
	size_t i = map_pos(d, vblock);
	u64 old;

	if (i < d->nr && d->maps[i].vblock == vblock) {
		old = d->maps[i].data;
		d->maps[i].data = data;
		d->maps[i].time = time;
		return old;
	}
	if (d->nr == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->maps = realloc(d->maps, d->cap * sizeof(*d->maps));
		assert_non_null(d->maps);
	}
	memmove(&d->maps[i + 1], &d->maps[i], (d->nr - i) * sizeof(*d->maps));
	d->maps[i].vblock = vblock;
	d->maps[i].data = data;
	d->maps[i].time = time;
	d->nr++;
	return U64_MAX;
}

bool model_remove(struct model_device *d, u64 vblock)
{
	size_t i = map_pos(d, vblock);

	if (i >= d->nr || d->maps[i].vblock != vblock)
		return false;
	memmove(&d->maps[i], &d->maps[i + 1],
		(d->nr - i - 1) * sizeof(*d->maps));
	d->nr--;
	return true;
}

bool model_references(const struct model *m, u64 data)
{
	size_t i, j;

	for (i = 0; i < m->nr_devices; i++)
		for (j = 0; j < m->devices[i].nr; j++)
			if (m->devices[i].maps[j].data == data)
				return true;
	return false;
}

/* Every mapping, run by run, as the discard path would see them. */
static void verify_ranges(const struct model_device *d, struct thin_device *td)
{
	thin_block_t begin = 0, vb, ve;
	data_block_t db;
	bool shared;
	size_t i = 0;
	u64 k;
	int r;

	for (;;) {
		r = thin_find_mapped_range(td, begin, U64_MAX, &vb, &ve, &db,
					   &shared);
		if (r == -ENODATA)
			break;
		assert_int_equal(r, 0);
		assert_true(ve > vb);
		for (k = vb; k < ve; k++, i++) {
			assert_true(i < d->nr);
			assert_int_equal(d->maps[i].vblock, k);
			assert_int_equal(d->maps[i].data, db + (k - vb));
			assert_int_equal(d->snapshotted_time > d->maps[i].time,
					 shared);
		}
		begin = ve;
	}
	assert_int_equal(i, d->nr);
}

static void verify_device(const struct model_device *d,
			  struct thin_metadata *tmd)
{
	struct thin_lookup_result res;
	struct thin_device *td;
	thin_block_t count;
	size_t i;

	assert_int_equal(thin_open_device(tmd, d->id, &td), 0);
	assert_int_equal(thin_get_mapped_count(td, &count), 0);
	assert_int_equal(count, d->nr);
	verify_ranges(d, td);
	for (i = 0; i < d->nr; i += 1 + thin_rand_below(8)) {
		assert_int_equal(thin_find_block(td, d->maps[i].vblock, true,
						 &res), 0);
		assert_int_equal(res.block, d->maps[i].data);
		assert_int_equal(res.shared,
				 d->snapshotted_time > d->maps[i].time);
	}
	if (d->nr) {
		assert_int_equal(thin_get_highest_mapped(td, &count), 0);
		assert_int_equal(count, d->maps[d->nr - 1].vblock);
	} else {
		assert_int_equal(thin_get_highest_mapped(td, &count), -ENODATA);
	}
	thin_close_device(td);
}

void model_verify(const struct model *m, struct thin_metadata *tmd)
{
	struct thin_device *td;
	u64 trans_id, id;
	size_t i;

	assert_int_equal(thin_metadata_get_transaction_id(tmd, &trans_id), 0);
	assert_int_equal(trans_id, m->trans_id);
	for (i = 0; i < m->nr_devices; i++)
		verify_device(&m->devices[i], tmd);
	for (i = 0; i < 16; i++) {
		id = thin_rand_below(64);
		if (model_find((struct model *)m, id))
			continue;
		assert_int_equal(thin_open_device(tmd, id, &td), -ENODATA);
	}
}
