// SPDX-License-Identifier: GPL-2.0-only
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test-common.h"

int test_summary(size_t nr_tests, int nr_failed)
{
	if (nr_failed < 0 || (size_t)nr_failed > nr_tests)
		nr_failed = (int)nr_tests;
	fflush(stderr);
	printf("%zu passed, %d failed\n", nr_tests - nr_failed, nr_failed);
	fflush(stdout);
	return nr_failed ? 1 : 0;
}

static char scratch_dir[256];

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_scratch_dir(void)
{
	if (scratch_dir[0] && !getenv("TEST_KEEP"))
		nftw(scratch_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *scratch_parent(void)
{
	const char *base = getenv("TEST_DIR");

	if (base)
		return base;
	if (!access("/dev/shm", W_OK))
		return "/dev/shm";
	base = getenv("TMPDIR");
	return base ? base : "/tmp";
}

const char *test_scratch_dir(void)
{
	if (scratch_dir[0])
		return scratch_dir;
	snprintf(scratch_dir, sizeof(scratch_dir), "%s/ctpool-test-XXXXXX",
		 scratch_parent());
	if (!mkdtemp(scratch_dir)) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(remove_scratch_dir);
	return scratch_dir;
}

void test_make_file(const char *path, u64 nr_blocks)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(nr_blocks * PD_BLOCK_SIZE)), 0);
	close(fd);
}

void test_block_prepare(const struct pd_block_validator *v, void *data,
			pd_block_t location)
{
	const struct test_validator *tv =
		container_of(v, struct test_validator, v);
	struct test_block_head *h = data;

	h->blocknr = cpu_to_le64(location);
	h->csum = cpu_to_le32(pd_block_checksum(&h->tag, PD_BLOCK_SIZE - 4,
						tv->xor));
}

int test_block_check(const struct pd_block_validator *v, const void *data,
		     pd_block_t location)
{
	const struct test_validator *tv =
		container_of(v, struct test_validator, v);
	const struct test_block_head *h = data;
	__le64 magic;

	if (le64_to_cpu(h->blocknr) != location)
		return -ENOTBLK;
	if (le32_to_cpu(h->csum) !=
	    pd_block_checksum(&h->tag, PD_BLOCK_SIZE - 4, tv->xor))
		return -EILSEQ;
	if (!tv->magic)
		return 0;
	memcpy(&magic, (const char *)data + tv->magic_offset, sizeof(magic));
	return le64_to_cpu(magic) == tv->magic ? 0 : -EILSEQ;
}
