// SPDX-License-Identifier: GPL-2.0-only
/*
 * The block-manager seam on a file or block device, for userspace.
 *
 * Cached blocks live in a hash table; those not locked are also on an LRU
 * list, and only those can be evicted. The cache holds at most cache_max
 * blocks unless every cached block is locked, in which case it grows rather
 * than fail: callers hold only a handful of locks at a time.
 *
 * Lock conflicts (a write lock on a block that is locked, or any lock on a
 * write-locked block) are reported as -EBUSY. The kernel implementation does
 * not detect them, so catching them here, in the tests, is what keeps the
 * library honest.
 */
#define pr_fmt(fmt) "block manager: " fmt

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bm-file.h"

struct pd_block {
	struct pd_block_manager *bm;
	pd_block_t loc;
	void *data;
	/* NULL until a lock with a validator has checked the contents. */
	const struct pd_block_validator *v;
	struct pd_block *hash_next;
	struct list_head lru;		/* on bm->lru only while unlocked */
	unsigned int read_locks;
	bool write_locked;
	bool dirty;
};

struct pd_block_manager {
	pthread_mutex_t lock;
	int fd;
	bool own_fd;
	bool read_only;
	pd_block_t nr_blocks;

	unsigned int cache_max;
	unsigned int nr_cached;
	unsigned int nr_locked;
	unsigned int nr_dirty;
	unsigned int hash_mask;
	struct pd_block **hash;
	struct list_head lru;		/* most recently used first */

	u64 reads;
	u64 writes;
	u64 write_limit_at;		/* writes beyond this are lost */
	enum pd_bm_write_failure write_failure;
};

enum lock_kind {
	BM_LOCK_READ,
	BM_LOCK_TRY_READ,
	BM_LOCK_WRITE,
	BM_LOCK_WRITE_ZERO,
};

/*----------------------------------------------------------------
 * The cache table
 *--------------------------------------------------------------*/

static unsigned int hash_of(struct pd_block_manager *bm, pd_block_t b)
{
	return (unsigned int)((b * 0x9E3779B97F4A7C15ull) >> 32) & bm->hash_mask;
}

static struct pd_block *cache_find(struct pd_block_manager *bm, pd_block_t b)
{
	struct pd_block *blk = bm->hash[hash_of(bm, b)];

	while (blk && blk->loc != b)
		blk = blk->hash_next;
	return blk;
}

static void cache_unhash(struct pd_block *blk)
{
	struct pd_block_manager *bm = blk->bm;
	struct pd_block **p = &bm->hash[hash_of(bm, blk->loc)];

	while (*p != blk)
		p = &(*p)->hash_next;
	*p = blk->hash_next;
}

static void free_block(struct pd_block *blk)
{
	free(blk->data);
	free(blk);
}

/* Remove an unlocked, clean block from the cache. */
static void cache_drop(struct pd_block *blk)
{
	cache_unhash(blk);
	list_del(&blk->lru);
	blk->bm->nr_cached--;
	free_block(blk);
}

/*----------------------------------------------------------------
 * Device I/O
 *--------------------------------------------------------------*/

static int check_in_range(struct pd_block_manager *bm, pd_block_t b)
{
	if (b < bm->nr_blocks)
		return 0;
	pr_err("block %llu is beyond the end of the device (%llu blocks)\n",
	       (unsigned long long)b, (unsigned long long)bm->nr_blocks);
	return -EIO;
}

static int read_block(struct pd_block_manager *bm, struct pd_block *blk)
{
	off_t off = (off_t)blk->loc * PD_BLOCK_SIZE;
	ssize_t n;

	bm->reads++;
	n = pread(bm->fd, blk->data, PD_BLOCK_SIZE, off);
	if (n == PD_BLOCK_SIZE)
		return 0;
	pr_err("reading block %llu failed: %s\n",
	       (unsigned long long)blk->loc, n < 0 ? strerror(errno) : "short");
	return -EIO;
}

/* True when the injected power loss has begun. */
static bool writes_lost(struct pd_block_manager *bm)
{
	return bm->writes > bm->write_limit_at;
}

/* Stamp and write one dirty block; it stays dirty if the write fails. */
static int write_back(struct pd_block *blk)
{
	struct pd_block_manager *bm = blk->bm;
	off_t off = (off_t)blk->loc * PD_BLOCK_SIZE;
	ssize_t n;

	if (blk->v)
		blk->v->prepare_for_write(blk->v, blk->data, blk->loc);

	bm->writes++;
	if (writes_lost(bm)) {
		if (bm->write_failure == PD_BM_WRITES_FAIL)
			return -EIO;
	} else {
		n = pwrite(bm->fd, blk->data, PD_BLOCK_SIZE, off);
		if (n != PD_BLOCK_SIZE) {
			pr_err("writing block %llu failed: %s\n",
			       (unsigned long long)blk->loc,
			       n < 0 ? strerror(errno) : "short");
			return -EIO;
		}
	}
	blk->dirty = false;
	bm->nr_dirty--;
	return 0;
}

/*----------------------------------------------------------------
 * Getting a block into the cache
 *--------------------------------------------------------------*/

/* Evict the least recently used unlocked block, writing it if dirty. */
static int evict_one(struct pd_block_manager *bm)
{
	struct pd_block *victim;
	int r;

	if (list_empty(&bm->lru))
		return 0;	/* everything is locked: let the cache grow */

	victim = list_last_entry(&bm->lru, struct pd_block, lru);
	if (victim->dirty) {
		r = write_back(victim);
		if (r)
			return r;
	}
	cache_drop(victim);
	return 0;
}

static int cache_insert(struct pd_block_manager *bm, pd_block_t b,
			bool zero, struct pd_block **result)
{
	struct pd_block *blk;
	unsigned int h;
	int r;

	while (bm->nr_cached >= bm->cache_max && !list_empty(&bm->lru)) {
		r = evict_one(bm);
		if (r)
			return r;
	}

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	if (posix_memalign(&blk->data, PD_BLOCK_SIZE, PD_BLOCK_SIZE)) {
		free(blk);
		return -ENOMEM;
	}
	blk->bm = bm;
	blk->loc = b;

	if (zero) {
		memset(blk->data, 0, PD_BLOCK_SIZE);
	} else {
		r = read_block(bm, blk);
		if (r) {
			free_block(blk);
			return r;
		}
	}

	h = hash_of(bm, b);
	blk->hash_next = bm->hash[h];
	bm->hash[h] = blk;
	INIT_LIST_HEAD(&blk->lru);
	list_add(&blk->lru, &bm->lru);
	bm->nr_cached++;
	*result = blk;
	return 0;
}

/* Run the validator the first time a block is locked with one. */
static int validate(struct pd_block *blk, const struct pd_block_validator *v)
{
	int r;

	if (blk->v == v)
		return 0;
	if (blk->v) {
		pr_err("validator mismatch for block %llu (cached as %s, locked as %s)\n",
		       (unsigned long long)blk->loc, blk->v->name,
		       v ? v->name : "none");
		return -EINVAL;
	}

	r = v->check(v, blk->data, blk->loc);
	if (r) {
		pr_err("%s validator rejected block %llu: %d\n", v->name,
		       (unsigned long long)blk->loc, r);
		return r;
	}
	blk->v = v;
	return 0;
}

static int check_conflict(struct pd_block *blk, enum lock_kind kind)
{
	bool want_write = kind == BM_LOCK_WRITE || kind == BM_LOCK_WRITE_ZERO;

	if (!blk->write_locked && !(want_write && blk->read_locks))
		return 0;
	pr_err("lock conflict on block %llu (%s lock while %s locked)\n",
	       (unsigned long long)blk->loc, want_write ? "write" : "read",
	       blk->write_locked ? "write" : "read");
	return -EBUSY;
}

static void take_lock(struct pd_block *blk, enum lock_kind kind)
{
	struct pd_block_manager *bm = blk->bm;

	if (!blk->read_locks && !blk->write_locked) {
		list_del_init(&blk->lru);
		bm->nr_locked++;
	}
	if (kind == BM_LOCK_WRITE || kind == BM_LOCK_WRITE_ZERO)
		blk->write_locked = true;
	else
		blk->read_locks++;
}

static int lock_block(struct pd_block_manager *bm, pd_block_t b,
		      const struct pd_block_validator *v, enum lock_kind kind,
		      struct pd_block **result)
{
	bool zero = kind == BM_LOCK_WRITE_ZERO;
	bool fresh = false;
	struct pd_block *blk;
	int r;

	if (bm->read_only && (kind == BM_LOCK_WRITE || zero))
		return -EPERM;
	r = check_in_range(bm, b);
	if (r)
		return r;

	blk = cache_find(bm, b);
	if (!blk) {
		if (kind == BM_LOCK_TRY_READ)
			return -EWOULDBLOCK;
		r = cache_insert(bm, b, zero, &blk);
		if (r)
			return r;
		fresh = true;
	}

	r = check_conflict(blk, kind);
	if (r)
		return r;

	if (zero) {
		/* Old contents and type do not matter: the block is reused. */
		if (!fresh)
			memset(blk->data, 0, PD_BLOCK_SIZE);
		blk->v = v;
	} else if (v) {
		r = validate(blk, v);
		if (r) {
			/* Drop it so that a retry reads the device again. */
			if (fresh)
				cache_drop(blk);
			return r;
		}
	} else if (blk->v) {
		r = validate(blk, v);
		if (r)
			return r;
	}

	take_lock(blk, kind);
	*result = blk;
	return 0;
}

static int locked_op(struct pd_block_manager *bm, pd_block_t b,
		     const struct pd_block_validator *v, enum lock_kind kind,
		     struct pd_block **result)
{
	int r;

	pthread_mutex_lock(&bm->lock);
	r = lock_block(bm, b, v, kind, result);
	pthread_mutex_unlock(&bm->lock);
	return r;
}

/*----------------------------------------------------------------
 * The seam
 *--------------------------------------------------------------*/

pd_block_t pd_bm_nr_blocks(struct pd_block_manager *bm)
{
	return bm->nr_blocks;
}

int pd_bm_read_lock(struct pd_block_manager *bm, pd_block_t b,
		    const struct pd_block_validator *v,
		    struct pd_block **result)
{
	return locked_op(bm, b, v, BM_LOCK_READ, result);
}

int pd_bm_read_try_lock(struct pd_block_manager *bm, pd_block_t b,
			const struct pd_block_validator *v,
			struct pd_block **result)
{
	return locked_op(bm, b, v, BM_LOCK_TRY_READ, result);
}

int pd_bm_write_lock(struct pd_block_manager *bm, pd_block_t b,
		     const struct pd_block_validator *v,
		     struct pd_block **result)
{
	return locked_op(bm, b, v, BM_LOCK_WRITE, result);
}

int pd_bm_write_lock_zero(struct pd_block_manager *bm, pd_block_t b,
			  const struct pd_block_validator *v,
			  struct pd_block **result)
{
	return locked_op(bm, b, v, BM_LOCK_WRITE_ZERO, result);
}

void pd_bm_unlock(struct pd_block *blk)
{
	struct pd_block_manager *bm = blk->bm;

	pthread_mutex_lock(&bm->lock);
	if (blk->write_locked) {
		blk->write_locked = false;
		if (!blk->dirty) {
			blk->dirty = true;
			bm->nr_dirty++;
		}
	} else {
		BUG_ON(!blk->read_locks);
		blk->read_locks--;
	}
	if (!blk->read_locks && !blk->write_locked) {
		list_add(&blk->lru, &bm->lru);
		bm->nr_locked--;
	}
	pthread_mutex_unlock(&bm->lock);
}

void *pd_block_data(struct pd_block *b)
{
	return b->data;
}

pd_block_t pd_block_location(const struct pd_block *b)
{
	return b->loc;
}

static int cmp_loc(const void *a, const void *b)
{
	pd_block_t x = (*(struct pd_block *const *)a)->loc;
	pd_block_t y = (*(struct pd_block *const *)b)->loc;

	return x < y ? -1 : x > y;
}

/* Write every dirty block that is not write-locked, in disk order. */
static int write_all_dirty(struct pd_block_manager *bm)
{
	struct pd_block **list, *blk;
	unsigned int i, n = 0;
	int r = 0;

	if (!bm->nr_dirty)
		return 0;
	list = malloc(sizeof(*list) * bm->nr_dirty);
	if (!list)
		return -ENOMEM;

	for (i = 0; i <= bm->hash_mask; i++)
		for (blk = bm->hash[i]; blk; blk = blk->hash_next)
			if (blk->dirty && !blk->write_locked && n < bm->nr_dirty)
				list[n++] = blk;

	qsort(list, n, sizeof(*list), cmp_loc);
	for (i = 0; i < n && !r; i++)
		r = write_back(list[i]);
	free(list);
	return r;
}

int pd_bm_flush(struct pd_block_manager *bm)
{
	int r;

	pthread_mutex_lock(&bm->lock);
	if (bm->read_only) {
		r = -EPERM;
		goto out;
	}
	r = write_all_dirty(bm);
	if (r)
		goto out;
	if (writes_lost(bm)) {
		if (bm->write_failure == PD_BM_WRITES_FAIL)
			r = -EIO;
		goto out;
	}
	if (fdatasync(bm->fd)) {
		pr_err("flush failed: %s\n", strerror(errno));
		r = -EIO;
	}
out:
	pthread_mutex_unlock(&bm->lock);
	return r;
}

void pd_bm_prefetch(struct pd_block_manager *bm, pd_block_t b)
{
	if (b < bm->nr_blocks)
		posix_fadvise(bm->fd, (off_t)b * PD_BLOCK_SIZE, PD_BLOCK_SIZE,
			      POSIX_FADV_WILLNEED);
}

void pd_bm_set_read_only(struct pd_block_manager *bm)
{
	bm->read_only = true;
}

void pd_bm_set_read_write(struct pd_block_manager *bm)
{
	bm->read_only = false;
}

bool pd_bm_is_read_only(struct pd_block_manager *bm)
{
	return bm->read_only;
}

void pd_bm_invalidate(struct pd_block_manager *bm)
{
	struct pd_block *blk, *tmp;

	pthread_mutex_lock(&bm->lock);
	list_for_each_entry_safe(blk, tmp, &bm->lru, lru)
		if (!blk->dirty)
			cache_drop(blk);
	pthread_mutex_unlock(&bm->lock);
}

/*----------------------------------------------------------------
 * Construction
 *--------------------------------------------------------------*/

static int device_size(int fd, u64 *bytes)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, bytes))
			return -errno;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*bytes = (u64)st.st_size;
	return 0;
}

static unsigned int hash_buckets(unsigned int cache_max)
{
	unsigned int n = 64;

	while (n < cache_max && n < (1u << 24))
		n <<= 1;
	return n;
}

int pd_bm_fd_create(int fd, bool read_only, unsigned int cache_blocks,
		    struct pd_block_manager **result)
{
	struct pd_block_manager *bm;
	unsigned int buckets;
	u64 bytes;
	int r;

	r = device_size(fd, &bytes);
	if (r)
		return r;

	bm = calloc(1, sizeof(*bm));
	if (!bm)
		return -ENOMEM;
	bm->cache_max = cache_blocks ? cache_blocks : PD_BM_FILE_DEFAULT_CACHE;
	buckets = hash_buckets(bm->cache_max);
	bm->hash = calloc(buckets, sizeof(*bm->hash));
	if (!bm->hash) {
		free(bm);
		return -ENOMEM;
	}
	bm->hash_mask = buckets - 1;
	pthread_mutex_init(&bm->lock, NULL);
	INIT_LIST_HEAD(&bm->lru);
	bm->fd = fd;
	bm->read_only = read_only;
	bm->nr_blocks = bytes / PD_BLOCK_SIZE;
	bm->write_limit_at = U64_MAX;
	*result = bm;
	return 0;
}

int pd_bm_file_open(const char *path, bool read_only, unsigned int cache_blocks,
		    struct pd_block_manager **result)
{
	int fd, r;

	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		pr_err("cannot open %s: %s\n", path, strerror(errno));
		return r;
	}
	r = pd_bm_fd_create(fd, read_only, cache_blocks, result);
	if (r) {
		close(fd);
		return r;
	}
	(*result)->own_fd = true;
	return 0;
}

/* Like dm-bufio, dirty blocks are written (not flushed) on the way out. */
void pd_bm_destroy(struct pd_block_manager *bm)
{
	struct pd_block *blk, *next;
	unsigned int i;

	if (!bm)
		return;
	if (bm->nr_locked)
		pr_warn("destroyed with %u block(s) still locked\n",
			bm->nr_locked);
	if (!bm->read_only && write_all_dirty(bm))
		pr_warn("dirty blocks could not be written on destroy\n");

	for (i = 0; i <= bm->hash_mask; i++) {
		for (blk = bm->hash[i]; blk; blk = next) {
			next = blk->hash_next;
			free_block(blk);
		}
	}
	free(bm->hash);
	if (bm->own_fd)
		close(bm->fd);
	pthread_mutex_destroy(&bm->lock);
	free(bm);
}

/*----------------------------------------------------------------
 * Fault injection and statistics
 *--------------------------------------------------------------*/

void pd_bm_file_set_write_limit(struct pd_block_manager *bm, u64 limit,
				enum pd_bm_write_failure mode)
{
	pthread_mutex_lock(&bm->lock);
	if (limit == U64_MAX || bm->writes > U64_MAX - limit)
		bm->write_limit_at = U64_MAX;
	else
		bm->write_limit_at = bm->writes + limit;
	bm->write_failure = mode;
	pthread_mutex_unlock(&bm->lock);
}

u64 pd_bm_file_write_count(struct pd_block_manager *bm)
{
	return bm->writes;
}

u64 pd_bm_file_read_count(struct pd_block_manager *bm)
{
	return bm->reads;
}

unsigned int pd_bm_file_cached_blocks(struct pd_block_manager *bm)
{
	return bm->nr_cached;
}

unsigned int pd_bm_file_locked_blocks(struct pd_block_manager *bm)
{
	return bm->nr_locked;
}

unsigned int pd_bm_file_dirty_blocks(struct pd_block_manager *bm)
{
	return bm->nr_dirty;
}
