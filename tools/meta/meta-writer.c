// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the metadata writer, an emitter that builds fresh metadata
 * with the persistent-data library, as thin_restore does. restore feeds it
 * from XML, repair from what can still be read of damaged metadata.
 *
 * Every mapping takes its own reference to its data block, so a data block
 * named under several devices ends up with one count per mapping; devices
 * are written independently (sharing of subtrees is not reconstructed).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "meta.h"
#include "target-args.h"
#include "thin-metadata.h"
#include "bm-file.h"

#define WRITER_CACHE_BLOCKS 4096

static int report(struct meta_writer *w, const char *what, int r)
{
	fprintf(stderr, "%s: %s: %s\n", w->who, what, strerror(-r));
	return r;
}

static struct meta_writer *to_writer(struct meta_emitter *e)
{
	return meta_container_of(e, struct meta_writer, emitter);
}

static int set_superblock_fields(struct meta_writer *w,
				 const struct meta_sb_info *sb)
{
	int r;

	r = thin_resize_data_dev(w->tmd, sb->nr_data_blocks);
	if (r)
		return report(w, "sizing the data space map", r);
	r = thin_metadata_set_transaction_id(w->tmd, 0, sb->transaction);
	if (r)
		return report(w, "setting the transaction id", r);
	r = thin_metadata_set_time(w->tmd, sb->time);
	if (r)
		return report(w, "setting the time", r);
	if (sb->flags & META_SB_NEEDS_CHECK) {
		r = thin_metadata_set_needs_check(w->tmd);
		if (r)
			return report(w, "setting needs_check", r);
	}
	return 0;
}

/*
 * The superblock's geometry, as a pool table would be refused (dm-thin's
 * limits): a data block of 64 KiB to 1 GiB in 64 KiB steps, and a data
 * device whose size in sectors fits in 64 bits. Metadata written from
 * anything else could never be opened by a pool.
 */
static int check_geometry(struct meta_writer *w, const struct meta_sb_info *sb)
{
	uint32_t bs = sb->data_block_size;

	if (bs < CTPOOL_BLOCK_SIZE_MIN || bs > CTPOOL_BLOCK_SIZE_MAX ||
	    bs % CTPOOL_BLOCK_SIZE_MIN) {
		fprintf(stderr,
			"%s: data_block_size=\"%u\" sectors: want a multiple of %u from %u to %u (64 KiB to 1 GiB)\n",
			w->who, bs, CTPOOL_BLOCK_SIZE_MIN, CTPOOL_BLOCK_SIZE_MIN,
			CTPOOL_BLOCK_SIZE_MAX);
		return -EINVAL;
	}
	if (sb->nr_data_blocks > UINT64_MAX / bs) {
		fprintf(stderr,
			"%s: nr_data_blocks=\"%llu\" of %u sectors is more than a 64-bit sector count\n",
			w->who, (unsigned long long)sb->nr_data_blocks, bs);
		return -EINVAL;
	}
	return 0;
}

static int writer_begin_superblock(struct meta_emitter *e,
				   const struct meta_sb_info *sb)
{
	struct meta_writer *w = to_writer(e);
	int r;

	r = check_geometry(w, sb);
	if (r)
		return r;
	r = pd_bm_file_open(w->output, false, WRITER_CACHE_BLOCKS, &w->bm);
	if (r)
		return report(w, w->output, r);
	r = thin_metadata_open(w->bm, sb->data_block_size, false, &w->tmd);
	if (r)
		return report(w, "formatting the metadata", r);
	w->nr_data_blocks = sb->nr_data_blocks;
	return set_superblock_fields(w, sb);
}

static int writer_end_superblock(struct meta_emitter *e)
{
	return 0;
}

static int writer_begin_device(struct meta_emitter *e,
			       const struct meta_dev_info *d)
{
	struct meta_writer *w = to_writer(e);
	int r;

	if (!w->tmd)
		return -EINVAL;
	if (d->dev_id > THIN_MAX_DEV_ID) {
		fprintf(stderr, "%s: device id %llu is too large\n", w->who,
			(unsigned long long)d->dev_id);
		return -EINVAL;
	}
	r = thin_create_thin(w->tmd, d->dev_id);
	if (r)
		return report(w, "creating a device", r);
	r = thin_open_device(w->tmd, d->dev_id, &w->td);
	if (r)
		return report(w, "opening a device", r);
	r = thin_set_device_details(w->td, d->transaction, d->creation_time,
				    d->snap_time);
	if (r)
		return report(w, "setting device details", r);
	return 0;
}

static int writer_end_device(struct meta_emitter *e)
{
	struct meta_writer *w = to_writer(e);

	if (w->td)
		thin_close_device(w->td);
	w->td = NULL;
	return 0;
}

static int writer_range_map(struct meta_emitter *e, uint64_t origin,
			    uint64_t data, uint64_t len, uint32_t time)
{
	struct meta_writer *w = to_writer(e);
	uint64_t i;
	int r;

	if (!w->td)
		return -EINVAL;
	if (data + len > w->nr_data_blocks) {
		fprintf(stderr, "%s: data block %llu is beyond the data device (%llu blocks)\n",
			w->who, (unsigned long long)(data + len - 1),
			(unsigned long long)w->nr_data_blocks);
		return -EINVAL;
	}
	/* Each mapping holds its own reference, taken over by the insert. */
	r = thin_inc_data_range(w->tmd, data, data + len);
	if (r)
		return report(w, "referencing data blocks", r);
	for (i = 0; i < len; i++) {
		r = thin_insert_block_time(w->td, origin + i, data + i, time);
		if (r)
			return report(w, "inserting a mapping", r);
	}
	return 0;
}

static const struct meta_emitter_ops writer_ops = {
	.begin_superblock = writer_begin_superblock,
	.end_superblock = writer_end_superblock,
	.begin_device = writer_begin_device,
	.end_device = writer_end_device,
	.range_map = writer_range_map,
};

/* Zero block 0 so that opening formats fresh metadata. */
static int wipe_superblock(const char *path)
{
	static const char zero[META_BLOCK_SIZE];
	int fd, r = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero))
		r = -EIO;
	if (close(fd) && !r)
		r = -errno;
	return r;
}

int meta_writer_init(struct meta_writer *w, const char *who,
		     const char *output)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->emitter.ops = &writer_ops;
	w->who = who;
	w->output = output;
	r = wipe_superblock(output);
	if (r)
		return report(w, output, r);
	return 0;
}

int meta_writer_finish(struct meta_writer *w, int result)
{
	int r = result;

	if (w->td)
		thin_close_device(w->td);
	w->td = NULL;
	if (w->tmd) {
		if (r)
			thin_metadata_set_read_only(w->tmd);
		if (thin_metadata_close(w->tmd) && !r)
			r = report(w, "committing", -EIO);
	}
	w->tmd = NULL;
	if (w->bm) {
		if (!r && pd_bm_flush(w->bm))
			r = report(w, "flushing", -EIO);
		pd_bm_destroy(w->bm);
	}
	w->bm = NULL;
	return r;
}
