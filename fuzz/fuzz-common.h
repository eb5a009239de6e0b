/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the libFuzzer targets: the input becomes a metadata
 * image in an anonymous memory file, so the real userspace block manager
 * (persistent-data/user/bm-file.c) and the tools' readers run unchanged.
 */
#ifndef CTPOOL_FUZZ_COMMON_H
#define CTPOOL_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block-manager.h"
#include "on-disk-format.h"

#define FUZZ_BLOCK 4096

/*
 * A memory file holding data rounded up to whole 4 KiB blocks (at least
 * min_blocks), so every input is a valid-sized image. Returns the fd.
 */
static inline int fuzz_image_fd(const uint8_t *data, size_t size,
				size_t min_blocks)
{
	size_t blocks = (size + FUZZ_BLOCK - 1) / FUZZ_BLOCK;
	int fd = memfd_create("fuzz-image", MFD_CLOEXEC);

	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	if (blocks < min_blocks)
		blocks = min_blocks;
	if (ftruncate(fd, (off_t)(blocks * FUZZ_BLOCK)) ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz image");
		abort();
	}
	return fd;
}

/* The tools print a lot; the fuzzer's own output goes to stderr. */
static inline void fuzz_quiet_stdout(void)
{
	static int done;
	int fd;

	if (done)
		return;
	done = 1;
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		fflush(stdout);
		dup2(fd, 1);
		close(fd);
	}
}

/*
 * Random bytes almost never carry valid checksums, so most inputs would stop
 * at the validators. When the input's last byte is odd, every block gets the
 * checksum (and block number) its apparent type should have, so the fuzzer
 * reaches the code that trusts validated blocks: that is where corruption
 * must be caught by sanity checks rather than by checksums.
 */
static inline void fuzz_fix_checksums(uint8_t *img, size_t blocks)
{
	u64 mindex = 0;
	size_t b;

	if (blocks == 0)
		return;
	memcpy(&mindex, img + 192 + 16, 8);	/* metadata SM index block */
	for (b = 0; b < blocks; b++) {
		uint8_t *blk = img + b * FUZZ_BLOCK;
		u32 flags, xor, csum;
		u64 nr = b;

		memcpy(&flags, blk + 4, 4);
		if (b == 0)
			xor = SUPERBLOCK_CSUM_XOR;
		else if (b == mindex)
			xor = INDEX_CSUM_XOR;
		else if (flags == 1 || flags == 2 || flags == 3)
			xor = BTREE_CSUM_XOR;
		else
			xor = BITMAP_CSUM_XOR;
		memcpy(blk + 8, &nr, 8);
		csum = pd_block_checksum(blk + 4, FUZZ_BLOCK - 4, xor);
		memcpy(blk, &csum, 4);
	}
}

/*
 * fuzz_image_fd(), with checksums fixed up (fuzz_fix_checksums) when the
 * input's last byte is odd.
 */
static inline int fuzz_meta_image_fd(const uint8_t *data, size_t size,
				     size_t min_blocks)
{
	size_t blocks = (size + FUZZ_BLOCK - 1) / FUZZ_BLOCK;
	uint8_t *img;
	int fd;

	if (!size || !(data[size - 1] & 1))
		return fuzz_image_fd(data, size, min_blocks);
	img = calloc(blocks, FUZZ_BLOCK);
	if (!img)
		abort();
	memcpy(img, data, size);
	fuzz_fix_checksums(img, blocks);
	fd = fuzz_image_fd(img, blocks * FUZZ_BLOCK, min_blocks);
	free(img);
	return fd;
}

#endif
