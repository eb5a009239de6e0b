// SPDX-License-Identifier: GPL-2.0-only
/*
 * A transaction manager together with the metadata space map it allocates
 * from. The two are made in steps because each needs the other: the space
 * map starts as a bare allocator, the manager is built on it, and only then
 * can the space map build (or open) its on-disk structures through the
 * manager. Kept apart from transaction-manager.c so that users of
 * pd_tm_create() do not need the metadata space map.
 */
#include "space-map-metadata.h"

/*
 * On failure both results are NULL, never left pointing at freed objects:
 * callers commonly clean up whatever they hold.
 */
static int tm_with_bare_sm(struct pd_block_manager *bm,
			   struct pd_transaction_manager **tm,
			   struct pd_space_map **sm)
{
	struct pd_space_map *bare;
	int r;

	*tm = NULL;
	*sm = NULL;
	bare = pd_sm_metadata_init();
	if (IS_ERR_OR_NULL(bare))
		return bare ? PTR_ERR(bare) : -ENOMEM;

	r = pd_tm_create(bm, bare, tm);
	if (r) {
		*tm = NULL;
		pd_sm_destroy(bare);
		return r;
	}
	*sm = bare;
	return 0;
}

static void undo(struct pd_transaction_manager **tm, struct pd_space_map **sm)
{
	pd_tm_destroy(*tm);
	pd_sm_destroy(*sm);
	*tm = NULL;
	*sm = NULL;
}

int pd_tm_create_with_sm(struct pd_block_manager *bm, pd_block_t sb_location,
			 struct pd_transaction_manager **tm,
			 struct pd_space_map **sm)
{
	int r;

	r = tm_with_bare_sm(bm, tm, sm);
	if (r)
		return r;
	r = pd_sm_metadata_create(*sm, *tm, pd_bm_nr_blocks(bm), sb_location);
	if (r)
		undo(tm, sm);
	return r;
}

int pd_tm_open_with_sm(struct pd_block_manager *bm, pd_block_t sb_location,
		       const void *sm_root, size_t root_len,
		       struct pd_transaction_manager **tm,
		       struct pd_space_map **sm)
{
	int r;

	r = tm_with_bare_sm(bm, tm, sm);
	if (r)
		return r;
	r = pd_sm_metadata_open(*sm, *tm, sm_root, root_len);
	if (r)
		undo(tm, sm);
	return r;
}
