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

#endif
