/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the thin-metadata host tests: the cmocka runner with the
 * "N passed, N failed" line, scratch files, deterministic random numbers,
 * the independent checker, and an in-memory model of a pool's metadata.
 */
#ifndef THIN_TEST_H
#define THIN_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bm-file.h"
#include "thin-metadata.h"
#include "test-common.h"

#define THIN_RUN_TESTS(tests) \
	test_summary(ARRAY_SIZE(tests), \
		     cmocka_run_group_tests(tests, NULL, NULL))

/* test_scratch_dir()/name, in one of eight rotating static buffers. */
const char *thin_test_path(const char *name);

void thin_srand(u64 seed);
u64 thin_rand(void);
static inline u64 thin_rand_below(u64 n)
{
	return n ? thin_rand() % n : 0;
}

/* Run `ctpool meta check` (linked in) on an image: 0 if consistent. */
int thin_test_check_image(const char *path);

/* Open metadata on a file, formatting it if it is zeroed. */
struct thin_env {
	const char *path;
	struct pd_block_manager *bm;
	struct thin_metadata *tmd;
};

int thin_env_open(struct thin_env *env, const char *path, u32 block_size,
		  unsigned int cache_blocks);
/* Close the metadata (committing) and the block manager. */
void thin_env_close(struct thin_env *env);
/* Forget everything in core without committing, as a crash would. */
void thin_env_crash(struct thin_env *env);

/* ---- the model ---- */

struct model_mapping {
	u64 vblock;
	u64 data;
	u32 time;
};

struct model_device {
	u64 id;
	u64 transaction_id;
	u32 creation_time;
	u32 snapshotted_time;
	size_t nr, cap;
	struct model_mapping *maps;	/* sorted by vblock */
};

struct model {
	u32 time;
	u64 trans_id;
	size_t nr_devices;
	struct model_device *devices;	/* sorted by id */
};

void model_init(struct model *m);
void model_free(struct model *m);
void model_copy(struct model *dst, const struct model *src);
struct model_device *model_find(struct model *m, u64 id);
struct model_device *model_add_device(struct model *m, u64 id);
void model_delete_device(struct model *m, u64 id);
/* Returns the mapping, or NULL. */
struct model_mapping *model_lookup(struct model_device *d, u64 vblock);
/* Insert or overwrite; returns the old data block or U64_MAX. */
u64 model_insert(struct model_device *d, u64 vblock, u64 data, u32 time);
bool model_remove(struct model_device *d, u64 vblock);
/* Reference count per data block the mappings imply (ignoring sharing). */
bool model_references(const struct model *m, u64 data);

/* Compare the library's view with the model: every device, every mapping
 * (through thin_find_mapped_range and thin_find_block), the details. */
void model_verify(const struct model *m, struct thin_metadata *tmd);

#endif
