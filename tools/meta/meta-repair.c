// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta repair: salvage damaged metadata into fresh metadata, as
 * thin_repair does: the walk of the input's trees in tolerant mode
 * (meta-walk-thin.c) feeding the metadata writer (meta-writer.c).
 *
 * Whatever can still be read in order is kept: devices whose mapping tree
 * root can be found, and every mapping in the readable parts of their
 * trees. Damaged nodes and entries are named on stderr and left out. The
 * output is built afresh by the library, so its space maps agree with its
 * trees whatever the input's said; the metadata snapshot is not carried
 * over, nor is the needs_check flag.
 */
#include <sys/stat.h>

#include "meta.h"

#define WHO "ctpool meta repair"

static int bad_usage(void)
{
	fprintf(stderr, "usage: ctpool meta repair -i DEV|FILE -o DEV|FILE\n");
	return 2;
}

/* Writing the output wipes its superblock: it must not be the input. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return false;
	if (S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode))
		return sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* A superblock with the right magic at block 0 is enough to start from. */
static int read_superblock(struct meta_image *img, struct meta_superblock *sb)
{
	uint8_t block[META_BLOCK_SIZE];

	if (meta_image_read(img, 0, block)) {
		fprintf(stderr, WHO ": cannot read the superblock (block 0)\n");
		return -1;
	}
	if (meta_superblock_valid(block, 0, sb))
		return 0;
	if (sb->magic != META_SB_MAGIC) {
		fprintf(stderr, WHO ": block 0 is not thin-pool metadata (bad magic %llu): nothing to salvage from\n",
			(unsigned long long)sb->magic);
		return -1;
	}
	fprintf(stderr, WHO ": block 0: superblock checksum or location is wrong; trying its fields anyway\n");
	return 0;
}

static int repair(struct meta_image *img, const char *output)
{
	struct meta_emit_opts o = { .who = WHO, .tolerant = true };
	struct meta_superblock sb;
	struct meta_writer w;
	int r;

	if (read_superblock(img, &sb))
		return -1;
	/* Fresh metadata needs no check. */
	sb.flags &= ~META_SB_NEEDS_CHECK;
	if (meta_writer_init(&w, WHO, output))
		return -1;
	r = meta_emit_metadata(img, &sb, &o, &w.emitter);
	if (meta_writer_finish(&w, r ? -1 : 0))
		return -1;
	if (o.damage)
		fprintf(stderr, WHO ": %lu damaged part(s) left out; %s holds the rest\n",
			o.damage, output);
	return 0;
}

int meta_repair_main(int argc, char **argv)
{
	const char *input = NULL, *output = NULL;
	struct meta_image img;
	int r;

	if (meta_parse_io_args(argc, argv, &input, &output))
		return bad_usage();
	if (same_file(input, output)) {
		fprintf(stderr, WHO ": the output must not be the input (%s)\n",
			input);
		return 2;
	}
	if (meta_image_open(input, false, &img)) {
		perror(input);
		return 1;
	}
	r = repair(&img, output);
	meta_image_close(&img);
	return r ? 1 : 0;
}
