// SPDX-License-Identifier: GPL-2.0-only
/*
 * The file block manager: validation, the bounded cache, write-back,
 * lock rules, read-only mode and fault injection.
 */
#include <fcntl.h>
#include <unistd.h>

#include "core-test.h"

/* Blocks under a validator like the metadata ones: own location + checksum. */
struct test_block {
	struct test_block_head head;
	__le64 payload;
} __packed;

static const struct test_validator tb_validator =
	TEST_VALIDATOR("test_block", 0x1234567u);

static const struct test_validator other_validator =
	TEST_VALIDATOR("other", 0x1234567u);

static void write_payload(struct pd_block_manager *bm, pd_block_t b, u64 v)
{
	struct pd_block *blk;
	struct test_block *tb;

	assert_int_equal(pd_bm_write_lock_zero(bm, b, &tb_validator.v, &blk), 0);
	tb = pd_block_data(blk);
	tb->payload = cpu_to_le64(v);
	pd_bm_unlock(blk);
}

static u64 read_payload(struct pd_block_manager *bm, pd_block_t b)
{
	struct pd_block *blk;
	u64 v;

	assert_int_equal(pd_bm_read_lock(bm, b, &tb_validator.v, &blk), 0);
	assert_int_equal(pd_block_location(blk), b);
	v = le64_to_cpu(((struct test_block *)pd_block_data(blk))->payload);
	pd_bm_unlock(blk);
	return v;
}

static struct pd_block_manager *open_bm(const char *path, unsigned int cache)
{
	struct pd_block_manager *bm;

	assert_int_equal(pd_bm_file_open(path, false, cache, &bm), 0);
	return bm;
}

static void raw_copy_block(const char *path, pd_block_t from, pd_block_t to)
{
	u8 buf[PD_BLOCK_SIZE];
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), from * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	assert_int_equal(pwrite(fd, buf, sizeof(buf), to * PD_BLOCK_SIZE),
			 PD_BLOCK_SIZE);
	close(fd);
}

static void test_round_trip_and_validation(void **state)
{
	char *path = core_test_path("rt.img");
	struct pd_block_manager *bm;
	struct pd_block *blk;
	pd_block_t b;

	test_make_file(path, 100);
	bm = open_bm(path, 8);
	assert_int_equal(pd_bm_nr_blocks(bm), 100);
	for (b = 1; b < 100; b++)
		write_payload(bm, b, b * 1000);
	assert_int_equal(pd_bm_flush(bm), 0);
	assert_int_equal(pd_bm_file_dirty_blocks(bm), 0);
	pd_bm_destroy(bm);

	/* From disk, cold: every block validates and reads back. */
	bm = open_bm(path, 8);
	for (b = 1; b < 100; b++)
		assert_int_equal(read_payload(bm, b), b * 1000);

	/* Cached with one validator, locked with another. */
	assert_int_equal(pd_bm_read_lock(bm, 99, &other_validator.v, &blk),
			 -EINVAL);
	/* A never-written block fails its check, and is not kept. */
	assert_int_equal(pd_bm_read_lock(bm, 0, &tb_validator.v, &blk), -EILSEQ);
	assert_int_equal(pd_bm_read_try_lock(bm, 0, &tb_validator.v, &blk),
			 -EWOULDBLOCK);
	/* Beyond the end. */
	assert_int_equal(pd_bm_read_lock(bm, 100, &tb_validator.v, &blk), -EIO);
	pd_bm_destroy(bm);

	/* A block copied elsewhere: wrong location. */
	raw_copy_block(path, 5, 6);
	bm = open_bm(path, 8);
	assert_int_equal(pd_bm_read_lock(bm, 6, &tb_validator.v, &blk), -ENOTBLK);
	/* A flipped byte: bad checksum. */
	pd_bm_destroy(bm);
	{
		int fd = open(path, O_RDWR);
		u8 x = 0xee;

		assert_int_equal(pwrite(fd, &x, 1, 7 * PD_BLOCK_SIZE + 99), 1);
		close(fd);
	}
	bm = open_bm(path, 8);
	assert_int_equal(pd_bm_read_lock(bm, 7, &tb_validator.v, &blk), -EILSEQ);
	assert_int_equal(read_payload(bm, 8), 8000);
	pd_bm_destroy(bm);
	free(path);
}

static void test_cache_bound(void **state)
{
	char *path = core_test_path("cache.img");
	struct pd_block_manager *bm;
	struct pd_block *held[40];
	pd_block_t b;
	u64 reads;

	test_make_file(path, 1000);
	bm = open_bm(path, 16);

	/* Dirty far more than the cache holds: evictions write back. */
	for (b = 0; b < 1000; b++) {
		write_payload(bm, b, ~b);
		assert_true(pd_bm_file_cached_blocks(bm) <= 16);
	}
	assert_true(pd_bm_file_write_count(bm) >= 1000 - 16);
	assert_int_equal(pd_bm_flush(bm), 0);
	assert_int_equal(pd_bm_file_write_count(bm), 1000);

	/* Reads cycle through the cache. */
	for (b = 0; b < 1000; b++) {
		assert_int_equal(read_payload(bm, b), ~b);
		assert_true(pd_bm_file_cached_blocks(bm) <= 16);
	}

	/* A hot block stays cached while others stream past. */
	reads = pd_bm_file_read_count(bm);
	for (b = 100; b < 400; b++) {
		read_payload(bm, 0);
		read_payload(bm, b);
	}
	assert_int_equal(pd_bm_file_read_count(bm) - reads, 1 + 300);

	/* Locks beyond the cache size: it grows, then shrinks back. */
	for (b = 0; b < 40; b++)
		assert_int_equal(pd_bm_read_lock(bm, 500 + b, &tb_validator.v,
						 &held[b]), 0);
	assert_int_equal(pd_bm_file_locked_blocks(bm), 40);
	assert_true(pd_bm_file_cached_blocks(bm) >= 40);
	for (b = 0; b < 40; b++)
		pd_bm_unlock(held[b]);
	assert_int_equal(pd_bm_file_locked_blocks(bm), 0);
	read_payload(bm, 900);
	assert_true(pd_bm_file_cached_blocks(bm) <= 16);

	/* try_lock only finds cached blocks. */
	assert_int_equal(pd_bm_read_try_lock(bm, 900, &tb_validator.v,
					     &held[0]), 0);
	pd_bm_unlock(held[0]);
	assert_int_equal(pd_bm_read_try_lock(bm, 10, &tb_validator.v, &held[0]),
			 -EWOULDBLOCK);

	/* Invalidate forgets clean blocks, keeps dirty ones. */
	write_payload(bm, 901, 1);
	pd_bm_invalidate(bm);
	assert_int_equal(pd_bm_file_cached_blocks(bm), 1);
	assert_int_equal(pd_bm_file_dirty_blocks(bm), 1);
	assert_int_equal(read_payload(bm, 901), 1);

	pd_bm_destroy(bm);
	free(path);
}

static void test_locks_and_read_only(void **state)
{
	char *path = core_test_path("locks.img");
	struct pd_block_manager *bm;
	struct pd_block *a, *b;

	test_make_file(path, 10);
	bm = open_bm(path, 4);
	write_payload(bm, 1, 11);

	/* Many readers; no writer beside them, no reader beside a writer. */
	assert_int_equal(pd_bm_read_lock(bm, 1, &tb_validator.v, &a), 0);
	assert_int_equal(pd_bm_read_lock(bm, 1, &tb_validator.v, &b), 0);
	assert_int_equal(pd_bm_write_lock(bm, 1, &tb_validator.v, &b), -EBUSY);
	pd_bm_unlock(a);
	pd_bm_unlock(b);
	assert_int_equal(pd_bm_write_lock(bm, 1, &tb_validator.v, &a), 0);
	assert_int_equal(pd_bm_read_lock(bm, 1, &tb_validator.v, &b), -EBUSY);
	assert_int_equal(pd_bm_write_lock_zero(bm, 1, &tb_validator.v, &b),
			 -EBUSY);
	pd_bm_unlock(a);

	/* A reused block takes its new validator. */
	assert_int_equal(pd_bm_write_lock_zero(bm, 1, &other_validator.v, &a),
			 0);
	pd_bm_unlock(a);
	assert_int_equal(pd_bm_read_lock(bm, 1, &other_validator.v, &a), 0);
	pd_bm_unlock(a);

	pd_bm_set_read_only(bm);
	assert_true(pd_bm_is_read_only(bm));
	assert_int_equal(pd_bm_write_lock(bm, 1, &other_validator.v, &a), -EPERM);
	assert_int_equal(pd_bm_write_lock_zero(bm, 2, &tb_validator.v, &a),
			 -EPERM);
	assert_int_equal(pd_bm_flush(bm), -EPERM);
	assert_int_equal(pd_bm_read_lock(bm, 1, &other_validator.v, &a), 0);
	pd_bm_unlock(a);
	pd_bm_set_read_write(bm);
	assert_int_equal(pd_bm_flush(bm), 0);
	pd_bm_destroy(bm);

	/* Opened read-only. */
	assert_int_equal(pd_bm_file_open(path, true, 4, &bm), 0);
	assert_true(pd_bm_is_read_only(bm));
	assert_int_equal(pd_bm_write_lock_zero(bm, 2, &tb_validator.v, &a),
			 -EPERM);
	pd_bm_destroy(bm);
	free(path);
}

/* Power loss: after the limit, writes silently stop reaching the disk. */
static void test_write_limit_dropped(void **state)
{
	char *path = core_test_path("drop.img");
	struct pd_block_manager *bm;
	pd_block_t b;

	test_make_file(path, 20);
	bm = open_bm(path, 64);
	for (b = 0; b < 20; b++)
		write_payload(bm, b, 100 + b);
	assert_int_equal(pd_bm_flush(bm), 0);

	for (b = 0; b < 20; b++)
		write_payload(bm, b, 200 + b);
	pd_bm_file_set_write_limit(bm, 7, PD_BM_WRITES_DROPPED);
	assert_int_equal(pd_bm_flush(bm), 0);
	assert_int_equal(pd_bm_file_write_count(bm), 40);
	/* The cache still has the new data... */
	assert_int_equal(read_payload(bm, 19), 219);
	pd_bm_destroy(bm);

	/* ...the disk only the first 7 writes (flush writes in order). */
	bm = open_bm(path, 64);
	for (b = 0; b < 20; b++)
		assert_int_equal(read_payload(bm, b), (b < 7 ? 200 : 100) + b);
	pd_bm_destroy(bm);
	free(path);
}

static void test_write_limit_fails(void **state)
{
	char *path = core_test_path("fail.img");
	struct pd_block_manager *bm;
	pd_block_t b;

	test_make_file(path, 20);
	bm = open_bm(path, 64);
	for (b = 0; b < 10; b++)
		write_payload(bm, b, b);
	pd_bm_file_set_write_limit(bm, 3, PD_BM_WRITES_FAIL);
	assert_int_equal(pd_bm_flush(bm), -EIO);
	assert_int_equal(pd_bm_file_dirty_blocks(bm), 7);
	assert_int_equal(pd_bm_flush(bm), -EIO);

	/* Lifted: the rest goes out. */
	pd_bm_file_set_write_limit(bm, U64_MAX, PD_BM_WRITES_FAIL);
	assert_int_equal(pd_bm_flush(bm), 0);
	assert_int_equal(pd_bm_file_dirty_blocks(bm), 0);
	pd_bm_destroy(bm);

	bm = open_bm(path, 64);
	for (b = 0; b < 10; b++)
		assert_int_equal(read_payload(bm, b), b);
	pd_bm_destroy(bm);
	free(path);
}

/* Eviction of a dirty block that cannot be written fails the lock. */
static void test_eviction_write_error(void **state)
{
	char *path = core_test_path("evict.img");
	struct pd_block_manager *bm;
	struct pd_block *blk;

	test_make_file(path, 20);
	bm = open_bm(path, 2);
	write_payload(bm, 0, 1);
	write_payload(bm, 1, 2);
	pd_bm_file_set_write_limit(bm, 0, PD_BM_WRITES_FAIL);
	assert_int_equal(pd_bm_write_lock_zero(bm, 2, &tb_validator.v, &blk),
			 -EIO);
	pd_bm_file_set_write_limit(bm, U64_MAX, PD_BM_WRITES_FAIL);
	write_payload(bm, 2, 3);
	assert_int_equal(pd_bm_flush(bm), 0);
	pd_bm_destroy(bm);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_validation),
		cmocka_unit_test(test_cache_bound),
		cmocka_unit_test(test_locks_and_read_only),
		cmocka_unit_test(test_write_limit_dropped),
		cmocka_unit_test(test_write_limit_fails),
		cmocka_unit_test(test_eviction_write_error),
	};

	return CORE_RUN_TESTS(tests);
}
