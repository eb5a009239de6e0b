// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: open arbitrary bytes as thin-pool metadata with the
 * persistent-data library (what the kernel module does at pool activation),
 * read it the way the targets do, then change and commit it. Whatever the
 * image holds, the library must return errors, never crash, hang, overrun
 * or leak.
 */
#include "fuzz-common.h"

#include "bm-file.h"
#include "thin-metadata.h"

static void exercise_device(struct thin_metadata *tmd, thin_dev_t dev)
{
	struct thin_device *td;
	struct thin_lookup_result lr;
	thin_block_t count, highest, vb, ve;
	data_block_t db, data;
	bool shared;
	unsigned int i;

	if (thin_open_device(tmd, dev, &td))
		return;
	thin_get_mapped_count(td, &count);
	if (!thin_get_highest_mapped(td, &highest)) {
		thin_find_block(td, highest, true, &lr);
		thin_find_block(td, highest / 2, false, &lr);
	}
	for (i = 0; i < 4; i++)
		thin_find_block(td, i, true, &lr);
	if (!thin_find_mapped_range(td, 0, 64, &vb, &ve, &db, &shared))
		thin_data_block_is_shared(tmd, db, &shared);
	/* Changes: a provisioning write, a remap, a discard. */
	if (!thin_alloc_data_block(tmd, &data)) {
		if (thin_insert_block(td, 3, data))
			goto out;
	}
	thin_remove_range(td, 0, 2);
out:
	thin_close_device(td);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pd_block_manager *bm;
	struct thin_metadata *tmd;
	u32 bs = 128;
	u64 tid;
	data_block_t nr;
	pd_block_t mnr;
	bool nc;
	int fd, r;

	/* Keep the block size the image asks for when it is a legal one, so
	 * that the open goes past that check. */
	if (size >= 340) {
		u32 v;

		memcpy(&v, data + 336, 4);
		if (v >= 128 && v <= 2097152 && !(v & 127))
			bs = v;
	}
	fd = fuzz_meta_image_fd(data, size, 16);
	if (pd_bm_fd_create(fd, false, 64, &bm)) {
		close(fd);
		return 0;
	}
	r = thin_metadata_open(bm, bs, false, &tmd);
	if (r)
		goto out_bm;

	thin_metadata_get_transaction_id(tmd, &tid);
	thin_metadata_needs_check(tmd, &nc);
	thin_get_free_data_blocks(tmd, &nr);
	thin_get_data_dev_size(tmd, &nr);
	thin_get_free_metadata_blocks(tmd, &mnr);
	exercise_device(tmd, 0);
	exercise_device(tmd, 1);
	exercise_device(tmd, 2);

	/* Messages, as the pool would send them. A failure means the
	 * transaction is broken: abort it, as the pool does. */
	r = thin_create_thin(tmd, 77);
	if (!r)
		r = thin_create_snap(tmd, 78, 1);
	if (r == -ENODATA || r == -EEXIST)
		r = 0;
	if (!r)
		r = thin_delete(tmd, 2);
	if (r == -ENODATA)
		r = 0;
	if (!r)
		r = thin_metadata_set_transaction_id(tmd, tid, tid + 1);
	if (!r)
		r = thin_metadata_commit(tmd);
	if (!r && !thin_metadata_reserve_snap(tmd))
		thin_metadata_release_snap(tmd);
	if (r)
		thin_metadata_abort(tmd);
	thin_metadata_close(tmd);
out_bm:
	pd_bm_destroy(bm);
	close(fd);
	return 0;
}
