// SPDX-License-Identifier: GPL-2.0-only
/*
 * The block-manager seam on dm-bufio.
 *
 * dm-bufio caches the blocks; each buffer carries a little aux data: the
 * validator that last checked it (NULL until one has) and whether it is
 * write-locked. dm-bufio calls back before writing a dirty buffer, which is
 * where the validator stamps location and checksum, so blocks are stamped
 * however they leave the cache (flush, or writeback under memory pressure).
 *
 * Locks are not arbitrated here: the metadata layer serialises writers
 * (see block-manager.h), so a lock is simply a held buffer.
 */
#define pr_fmt(fmt) "ctpool block manager: " fmt

#include <linux/dm-bufio.h>
#include <linux/err.h>

#include "block-manager-bufio.h"

struct pd_block_manager {
	struct dm_bufio_client *bufio;
	bool read_only;
};

struct buffer_aux {
	const struct pd_block_validator *v;
	bool write_locked;
};

/* A pd_block is the dm_buffer itself. */
static struct dm_buffer *to_buffer(struct pd_block *b)
{
	return (struct dm_buffer *)b;
}

static struct buffer_aux *buffer_aux(struct dm_buffer *buf)
{
	return dm_bufio_get_aux_data(buf);
}

/* A buffer was (re)assigned to a block: nothing has checked it yet. */
static void bm_alloc_callback(struct dm_buffer *buf)
{
	struct buffer_aux *aux = buffer_aux(buf);

	aux->v = NULL;
	aux->write_locked = false;
}

static void bm_write_callback(struct dm_buffer *buf)
{
	struct buffer_aux *aux = buffer_aux(buf);

	if (aux->v)
		aux->v->prepare_for_write(aux->v, dm_bufio_get_block_data(buf),
					  dm_bufio_get_block_number(buf));
}

/*
 * Locking
 */

/* Check a buffer the first time it is locked with a validator. */
static int validate(struct pd_block_manager *bm, struct dm_buffer *buf,
		    const struct pd_block_validator *v)
{
	struct buffer_aux *aux = buffer_aux(buf);
	sector_t b = dm_bufio_get_block_number(buf);
	int r;

	if (aux->v == v)
		return 0;
	if (aux->v) {
		pr_err("validator mismatch for block %llu (%s vs %s)\n",
		       (unsigned long long)b, aux->v->name,
		       v ? v->name : "none");
		return -EINVAL;
	}

	r = v->check(v, dm_bufio_get_block_data(buf), b);
	if (r) {
		pr_err_ratelimited("%s validator rejected block %llu: %d\n",
				   v->name, (unsigned long long)b, r);
		return r;
	}
	aux->v = v;
	return 0;
}

/*
 * Validate a freshly got buffer; on failure it is released, and forgotten
 * so that a retry reads the device again.
 */
static int got_buffer(struct pd_block_manager *bm, struct dm_buffer *buf,
		      const struct pd_block_validator *v, bool write,
		      struct pd_block **result)
{
	sector_t b = dm_bufio_get_block_number(buf);
	int r;

	r = validate(bm, buf, v);
	if (r) {
		dm_bufio_release(buf);
		dm_bufio_forget(bm->bufio, b);
		return r;
	}
	buffer_aux(buf)->write_locked = write;
	*result = (struct pd_block *)buf;
	return 0;
}

int pd_bm_read_lock(struct pd_block_manager *bm, pd_block_t b,
		    const struct pd_block_validator *v,
		    struct pd_block **result)
{
	struct dm_buffer *buf;
	void *p;

	p = dm_bufio_read(bm->bufio, b, &buf);
	if (IS_ERR(p))
		return PTR_ERR(p);
	return got_buffer(bm, buf, v, false, result);
}

int pd_bm_read_try_lock(struct pd_block_manager *bm, pd_block_t b,
			const struct pd_block_validator *v,
			struct pd_block **result)
{
	struct dm_buffer *buf;
	void *p;

	p = dm_bufio_get(bm->bufio, b, &buf);
	if (IS_ERR(p))
		return PTR_ERR(p);
	if (!p)
		return -EWOULDBLOCK;
	return got_buffer(bm, buf, v, false, result);
}

int pd_bm_write_lock(struct pd_block_manager *bm, pd_block_t b,
		     const struct pd_block_validator *v,
		     struct pd_block **result)
{
	struct dm_buffer *buf;
	void *p;

	if (bm->read_only)
		return -EPERM;
	p = dm_bufio_read(bm->bufio, b, &buf);
	if (IS_ERR(p))
		return PTR_ERR(p);
	return got_buffer(bm, buf, v, true, result);
}

int pd_bm_write_lock_zero(struct pd_block_manager *bm, pd_block_t b,
			  const struct pd_block_validator *v,
			  struct pd_block **result)
{
	struct dm_buffer *buf;
	struct buffer_aux *aux;
	void *p;

	if (bm->read_only)
		return -EPERM;
	p = dm_bufio_new(bm->bufio, b, &buf);
	if (IS_ERR(p))
		return PTR_ERR(p);

	/* The block is being reused: its old contents and type are gone. */
	memset(p, 0, PD_BLOCK_SIZE);
	aux = buffer_aux(buf);
	aux->v = v;
	aux->write_locked = true;
	*result = (struct pd_block *)buf;
	return 0;
}

void pd_bm_unlock(struct pd_block *b)
{
	struct dm_buffer *buf = to_buffer(b);
	struct buffer_aux *aux = buffer_aux(buf);

	if (aux->write_locked) {
		dm_bufio_mark_buffer_dirty(buf);
		aux->write_locked = false;
	}
	dm_bufio_release(buf);
}

void *pd_block_data(struct pd_block *b)
{
	return dm_bufio_get_block_data(to_buffer(b));
}

pd_block_t pd_block_location(const struct pd_block *b)
{
	return dm_bufio_get_block_number((struct dm_buffer *)b);
}

/*
 * The device
 */

pd_block_t pd_bm_nr_blocks(struct pd_block_manager *bm)
{
	return dm_bufio_get_device_size(bm->bufio);
}

/* In 6.1 writing the dirty buffers ends with a cache flush (PREFLUSH). */
int pd_bm_flush(struct pd_block_manager *bm)
{
	if (bm->read_only)
		return -EPERM;
	return dm_bufio_write_dirty_buffers(bm->bufio);
}

void pd_bm_prefetch(struct pd_block_manager *bm, pd_block_t b)
{
	dm_bufio_prefetch(bm->bufio, b, 1);
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

/* dm-bufio keeps held and dirty buffers; everything else goes. */
void pd_bm_invalidate(struct pd_block_manager *bm)
{
	dm_bufio_forget_buffers(bm->bufio, 0, pd_bm_nr_blocks(bm));
}

int pd_bm_bufio_create(struct block_device *bdev, unsigned int max_held,
		       struct pd_block_manager **result)
{
	struct pd_block_manager *bm;

	bm = kzalloc(sizeof(*bm), GFP_KERNEL);
	if (!bm)
		return -ENOMEM;
	bm->bufio = dm_bufio_client_create(bdev, PD_BLOCK_SIZE, max_held,
					   sizeof(struct buffer_aux),
					   bm_alloc_callback,
					   bm_write_callback, 0);
	if (IS_ERR(bm->bufio)) {
		int r = PTR_ERR(bm->bufio);

		kfree(bm);
		return r;
	}
	*result = bm;
	return 0;
}

/* dm-bufio writes what is still dirty before it lets go. */
void pd_bm_destroy(struct pd_block_manager *bm)
{
	if (!bm)
		return;
	dm_bufio_client_destroy(bm->bufio);
	kfree(bm);
}
