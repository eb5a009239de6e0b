// SPDX-License-Identifier: GPL-2.0-only
/*
 * thin-gen: random pool metadata written by the library, for the oracle
 * test (tests/oracle/oracle-library.sh): many devices, snapshots of
 * snapshots, sharing broken in places, data blocks referenced three times
 * and more, several data bitmaps, deep trees, sometimes a held metadata
 * snapshot.
 *
 * usage: thin-gen IMAGE SEED small|large
 * Prints "snap" if a metadata snapshot is held.
 */
#include <error.h>

#include "thin-test.h"

struct gen {
	struct thin_metadata *tmd;
	u64 devs[64];
	unsigned int nr_devs;
	u64 next_id;
	data_block_t blocks[256];	/* some mapped blocks, to share */
	unsigned int nr_blocks;
};

/* r is 0 or -errno: on an error, exit saying what failed (error(3)). */
static void check(const char *what, int r)
{
	if (r)
		error(1, -r, "%s", what);
}

static void fill(struct gen *g, u64 dev, u64 n, u64 spread)
{
	struct thin_device *td;
	data_block_t b;
	u64 i, vb;
	int r;

	check("open", thin_open_device(g->tmd, dev, &td));
	vb = thin_rand_below(spread);
	for (i = 0; i < n; i++) {
		if (g->nr_blocks && thin_rand_below(20) == 0) {
			b = g->blocks[thin_rand_below(g->nr_blocks)];
			check("inc", thin_inc_data_range(g->tmd, b, b + 1));
		} else {
			r = thin_alloc_data_block(g->tmd, &b);
			if (r == -ENOSPC)
				break;
			check("alloc", r);
		}
		check("insert", thin_insert_block(td, vb, b));
		if (g->nr_blocks < 256 && thin_rand_below(50) == 0)
			g->blocks[g->nr_blocks++] = b;
		vb += thin_rand_below(8) ? 1 : 1 + thin_rand_below(spread / 8 + 1);
		if (thin_rand_below(500) == 0)
			vb = thin_rand_below(spread);
	}
	thin_close_device(td);
}

static void punch(struct gen *g, u64 dev, u64 spread)
{
	struct thin_device *td;
	u64 b = thin_rand_below(spread);

	check("open", thin_open_device(g->tmd, dev, &td));
	check("remove_range",
	      thin_remove_range(td, b, b + thin_rand_below(spread / 4 + 2)));
	thin_close_device(td);
}

static void step(struct gen *g, u64 per_dev, u64 spread)
{
	unsigned int x = (unsigned int)thin_rand_below(10);
	u64 dev;

	if (!g->nr_devs || (x < 2 && g->nr_devs < 64)) {
		dev = g->next_id;
		g->next_id += 1 + thin_rand_below(1000);
		check("create", thin_create_thin(g->tmd, dev));
		g->devs[g->nr_devs++] = dev;
		fill(g, dev, per_dev, spread);
	} else if (x < 4 && g->nr_devs < 64) {
		dev = g->next_id;
		g->next_id += 1 + thin_rand_below(10);
		check("snap", thin_create_snap(g->tmd, dev,
			g->devs[thin_rand_below(g->nr_devs)]));
		g->devs[g->nr_devs++] = dev;
	} else if (x < 7) {
		fill(g, g->devs[thin_rand_below(g->nr_devs)],
		     per_dev / 8 + 1, spread);
	} else if (x < 8) {
		punch(g, g->devs[thin_rand_below(g->nr_devs)], spread);
	} else if (x < 9 && g->nr_devs > 1) {
		unsigned int i = (unsigned int)thin_rand_below(g->nr_devs);

		check("delete", thin_delete(g->tmd, g->devs[i]));
		g->devs[i] = g->devs[--g->nr_devs];
		/* its blocks may be free now: forget them */
		g->nr_blocks = 0;
	} else {
		check("commit", thin_metadata_commit(g->tmd));
	}
}

int main(int argc, char **argv)
{
	struct pd_block_manager *bm;
	bool large, snap = false;
	u64 per_dev, spread, steps, i, data;
	struct gen g = { 0 };

	if (argc != 4) {
		fprintf(stderr, "usage: thin-gen IMAGE SEED small|large\n");
		return 2;
	}
	thin_srand(strtoull(argv[2], NULL, 10));
	large = !strcmp(argv[3], "large");
	per_dev = large ? 20000 : 1 + thin_rand_below(400);
	spread = large ? 200000 : 1 + thin_rand_below(5000);
	steps = large ? 12 : 4 + thin_rand_below(20);
	data = large ? 70000 : 50 + thin_rand_below(30000);
	g.next_id = thin_rand_below(3) ? thin_rand_below(10) :
		thin_rand_below(THIN_MAX_DEV_ID - 100000);

	check("bm", pd_bm_file_open(argv[1], false, 512, &bm));
	check("format", thin_metadata_open(bm, 128 << thin_rand_below(5),
					   false, &g.tmd));
	check("resize", thin_resize_data_dev(g.tmd, data));
	check("txid", thin_metadata_set_transaction_id(g.tmd, 0,
						       thin_rand_below(100)));
	for (i = 0; i < steps; i++) {
		step(&g, per_dev, spread);
		if (!snap && thin_rand_below(steps * 2) == 0) {
			check("reserve", thin_metadata_reserve_snap(g.tmd));
			snap = true;
		}
	}
	check("close", thin_metadata_close(g.tmd));
	pd_bm_destroy(bm);
	if (snap)
		printf("snap\n");
	return 0;
}
