// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta check --clear-needs-check: the kernel sets the superblock's
 * needs_check flag when it finds the metadata suspect, and then refuses to
 * run the pool read-write until the flag is gone. Once the metadata has
 * been checked and found consistent the flag is cleared here, with the
 * superblock's checksum recomputed, as thin_check --clear-needs-check-flag
 * does.
 */
#include "meta.h"

int meta_clear_needs_check(const char *path, bool *cleared)
{
	uint8_t block[META_BLOCK_SIZE];
	struct meta_superblock sb;
	struct meta_image img;
	int r = -1;

	*cleared = false;
	if (meta_image_open(path, true, &img)) {
		perror(path);
		return -1;
	}
	if (meta_image_read(&img, 0, block) ||
	    !meta_superblock_valid(block, 0, &sb)) {
		fprintf(stderr, "%s: the superblock changed under the check\n",
			path);
		goto out;
	}
	r = 0;
	if (!(sb.flags & META_SB_NEEDS_CHECK))
		goto out;
	meta_put_le32(block + META_SB_FLAGS, sb.flags & ~META_SB_NEEDS_CHECK);
	meta_put_le32(block + META_SB_CSUM,
		      meta_block_csum(block, META_SB_CSUM_XOR));
	if (meta_image_write(&img, 0, block)) {
		perror(path);
		r = -1;
		goto out;
	}
	*cleared = true;
out:
	meta_image_close(&img);
	return r;
}
