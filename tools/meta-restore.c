// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta restore: build fresh metadata from thin_dump XML with the
 * persistent-data library, as thin_restore does.
 *
 * Every mapping takes its own reference to its data block, so a data block
 * named under several devices ends up with one count per mapping; devices
 * are restored independently (sharing of subtrees is not reconstructed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"
#include "target-args.h"
#include "thin-metadata.h"
#include "bm-file.h"

#define RESTORE_CACHE_BLOCKS 4096

struct restore {
	const char *output;
	struct pd_block_manager *bm;
	struct thin_metadata *tmd;
	struct thin_device *td;
	uint64_t nr_data_blocks;
};

static int report(const char *what, int r)
{
	fprintf(stderr, "ctpool meta restore: %s: %s\n", what, strerror(-r));
	return r;
}

/*
 * The superblock's geometry, as a pool table would be refused (dm-thin's
 * limits): a data block of 64 KiB to 1 GiB in 64 KiB steps, and a data
 * device whose size in sectors fits in 64 bits. Metadata restored from
 * anything else could never be opened by a pool.
 */
static int check_geometry(const struct meta_xml_superblock *sb)
{
	uint32_t bs = sb->data_block_size;

	if (bs < CTPOOL_BLOCK_SIZE_MIN || bs > CTPOOL_BLOCK_SIZE_MAX ||
	    bs % CTPOOL_BLOCK_SIZE_MIN) {
		fprintf(stderr,
			"ctpool meta restore: data_block_size=\"%u\" sectors: want a multiple of %u from %u to %u (64 KiB to 1 GiB)\n",
			bs, CTPOOL_BLOCK_SIZE_MIN, CTPOOL_BLOCK_SIZE_MIN,
			CTPOOL_BLOCK_SIZE_MAX);
		return -EINVAL;
	}
	if (sb->nr_data_blocks > UINT64_MAX / bs) {
		fprintf(stderr,
			"ctpool meta restore: nr_data_blocks=\"%llu\" of %u sectors is more than a 64-bit sector count\n",
			(unsigned long long)sb->nr_data_blocks, bs);
		return -EINVAL;
	}
	return 0;
}

static int on_superblock(void *context, const struct meta_xml_superblock *sb)
{
	struct restore *rs = context;
	int r;

	r = check_geometry(sb);
	if (r)
		return r;
	r = pd_bm_file_open(rs->output, false, RESTORE_CACHE_BLOCKS, &rs->bm);
	if (r)
		return report(rs->output, r);
	r = thin_metadata_open(rs->bm, sb->data_block_size, false, &rs->tmd);
	if (r)
		return report("formatting the metadata", r);
	rs->nr_data_blocks = sb->nr_data_blocks;
	r = thin_resize_data_dev(rs->tmd, sb->nr_data_blocks);
	if (r)
		return report("sizing the data space map", r);
	r = thin_metadata_set_transaction_id(rs->tmd, 0, sb->transaction);
	if (r)
		return report("setting the transaction id", r);
	r = thin_metadata_set_time(rs->tmd, sb->time);
	if (r)
		return report("setting the time", r);
	if (sb->flags & THIN_NEEDS_CHECK_FLAG) {
		r = thin_metadata_set_needs_check(rs->tmd);
		if (r)
			return report("setting needs_check", r);
	}
	return 0;
}

static int on_device(void *context, const struct meta_xml_device *d)
{
	struct restore *rs = context;
	int r;

	if (!rs->tmd)
		return -EINVAL;
	if (d->dev_id > THIN_MAX_DEV_ID) {
		fprintf(stderr, "ctpool meta restore: device id %llu is too large\n",
			(unsigned long long)d->dev_id);
		return -EINVAL;
	}
	r = thin_create_thin(rs->tmd, d->dev_id);
	if (r)
		return report("creating a device", r);
	r = thin_open_device(rs->tmd, d->dev_id, &rs->td);
	if (r)
		return report("opening a device", r);
	r = thin_set_device_details(rs->td, d->transaction, d->creation_time,
				    d->snap_time);
	if (r)
		return report("setting device details", r);
	return 0;
}

static int on_end_device(void *context)
{
	struct restore *rs = context;

	if (rs->td)
		thin_close_device(rs->td);
	rs->td = NULL;
	return 0;
}

static int on_mapping(void *context, uint64_t origin, uint64_t data,
		      uint64_t len, uint32_t time)
{
	struct restore *rs = context;
	uint64_t i;
	int r;

	if (!rs->td)
		return -EINVAL;
	if (data + len > rs->nr_data_blocks) {
		fprintf(stderr, "ctpool meta restore: data block %llu is beyond the data device (%llu blocks)\n",
			(unsigned long long)(data + len - 1),
			(unsigned long long)rs->nr_data_blocks);
		return -EINVAL;
	}
	/* Each mapping holds its own reference, taken over by the insert. */
	r = thin_inc_data_range(rs->tmd, data, data + len);
	if (r)
		return report("referencing data blocks", r);
	for (i = 0; i < len; i++) {
		r = thin_insert_block_time(rs->td, origin + i, data + i, time);
		if (r)
			return report("inserting a mapping", r);
	}
	return 0;
}

static const struct meta_xml_handler handler = {
	.superblock = on_superblock,
	.device = on_device,
	.end_device = on_end_device,
	.mapping = on_mapping,
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

static int finish(struct restore *rs, int parse_result)
{
	int r = parse_result;

	if (rs->td)
		thin_close_device(rs->td);
	if (rs->tmd) {
		if (r)
			thin_metadata_set_read_only(rs->tmd);
		if (thin_metadata_close(rs->tmd) && !r)
			r = report("committing", -EIO);
	}
	if (rs->bm) {
		if (!r && pd_bm_flush(rs->bm))
			r = report("flushing", -EIO);
		pd_bm_destroy(rs->bm);
	}
	return r;
}

static int restore_text(const char *text, size_t len, const char *input,
			const char *output)
{
	struct meta_xml_handler h = handler;
	struct restore rs = { .output = output };
	int r;

	r = wipe_superblock(output);
	if (r)
		return report(output, r);
	h.context = &rs;
	r = meta_xml_parse(text, len, input, &h) ? -EINVAL : 0;
	return finish(&rs, r);
}

static int usage(void)
{
	fprintf(stderr, "usage: ctpool meta restore -i XML -o DEV|FILE\n");
	return 2;
}

int meta_restore_main(int argc, char **argv)
{
	const char *input = NULL, *output = NULL;
	struct stat st;
	void *text;
	int fd, r, i;

	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-i") || !strcmp(argv[i], "--input")) &&
		    i + 1 < argc)
			input = argv[++i];
		else if ((!strcmp(argv[i], "-o") ||
			  !strcmp(argv[i], "--output")) && i + 1 < argc)
			output = argv[++i];
		else if (strcmp(argv[i], "-q") && strcmp(argv[i], "--quiet"))
			return usage();
	}
	if (!input || !output)
		return usage();

	fd = open(input, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		perror(input);
		return 1;
	}
	text = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ,
				 MAP_PRIVATE, fd, 0) : (void *)"";
	close(fd);
	if (text == MAP_FAILED) {
		perror(input);
		return 1;
	}
	r = restore_text(text, (size_t)st.st_size, input, output);
	if (st.st_size)
		munmap(text, (size_t)st.st_size);
	return r ? 1 : 0;
}
