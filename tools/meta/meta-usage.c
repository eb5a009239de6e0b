// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: how much of the data device each thin device holds, as
 * thin_ls 0.9.0 counts it.
 *
 *   mapped     the device's mapped_blocks from its details
 *   exclusive  its mappings to a data block that no other mapping, of this
 *              device or another, points to
 *   shared     mapped - exclusive
 *
 * The strict walk of meta-walk-thin.c feeds an emitter that keeps one
 * 64-bit word a mapping: the data block (40 bits in a mapping value) above
 * the index of the device (24 bits, as many as dm-thin has ids). Sorted,
 * equal data blocks sit next to each other, so one pass over runs of equal
 * blocks finds the exclusive ones: O(n log n) in the mappings, whatever
 * the size of the data device, and no second walk of the trees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "meta-usage.h"

#define DEV_INDEX_BITS 24
#define DEV_INDEX_MASK ((1ULL << DEV_INDEX_BITS) - 1)

struct usage_emitter {
	struct meta_emitter emitter;
	const char *who;
	struct meta_usage *u;
	uint64_t *words;	/* data block << 24 | device index */
	size_t nr_words, cap_words;
	size_t cap_devs;
	uint64_t *counted;	/* mappings seen of each device */
	size_t cap_counted;
};

static struct usage_emitter *to_usage(struct meta_emitter *e)
{
	return meta_container_of(e, struct usage_emitter, emitter);
}

/* Grow *v (of *cap elements of size) to hold one more than n. */
static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return 0;
	new_cap = *cap ? *cap * 2 : 1024;
	if (new_cap > SIZE_MAX / size)
		return -1;
	p = realloc(*v, new_cap * size);
	if (!p)
		return -1;
	*v = p;
	*cap = new_cap;
	return 0;
}

static int out_of_memory(struct usage_emitter *ue)
{
	fprintf(stderr, "%s: out of memory\n", ue->who);
	return -1;
}

static int begin_superblock(struct meta_emitter *e,
			    const struct meta_sb_info *sb)
{
	to_usage(e)->u->data_block_size = sb->data_block_size;
	return 0;
}

static int begin_device(struct meta_emitter *e, const struct meta_dev_info *d)
{
	struct usage_emitter *ue = to_usage(e);
	struct meta_usage *u = ue->u;
	struct meta_usage_dev *ud;

	if (u->nr_devs > DEV_INDEX_MASK) {
		fprintf(stderr, "%s: more than %llu devices: not thin-pool metadata\n",
			ue->who, DEV_INDEX_MASK + 1);
		return -1;
	}
	if (grow((void **)&u->devs, &ue->cap_devs, u->nr_devs,
		 sizeof(*u->devs)) ||
	    grow((void **)&ue->counted, &ue->cap_counted, u->nr_devs,
		 sizeof(*ue->counted)))
		return out_of_memory(ue);
	ud = &u->devs[u->nr_devs];
	memset(ud, 0, sizeof(*ud));
	ud->dev_id = d->dev_id;
	ud->mapped_blocks = d->mapped_blocks;
	ud->transaction = d->transaction;
	ud->creation_time = d->creation_time;
	ud->snap_time = d->snap_time;
	ue->counted[u->nr_devs] = 0;
	u->nr_devs++;
	return 0;
}

static int single_map(struct meta_emitter *e, uint64_t origin, uint64_t data,
		      uint32_t time)
{
	struct usage_emitter *ue = to_usage(e);
	size_t dev = ue->u->nr_devs - 1;

	if (grow((void **)&ue->words, &ue->cap_words, ue->nr_words,
		 sizeof(*ue->words)))
		return out_of_memory(ue);
	/* data < 2^40: it came out of a mapping value's upper 40 bits */
	ue->words[ue->nr_words++] = data << DEV_INDEX_BITS | dev;
	ue->counted[dev]++;
	return 0;
}

static int range_map(struct meta_emitter *e, uint64_t origin, uint64_t data,
		     uint64_t len, uint32_t time)
{
	uint64_t i;

	for (i = 0; i < len; i++)
		if (single_map(e, origin + i, data + i, time))
			return -1;
	return 0;
}

static int end_device(struct meta_emitter *e)
{
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A data block alone in its run is exclusive to the device that maps it. */
static void count_exclusive(struct usage_emitter *ue)
{
	uint64_t *w = ue->words;
	size_t i, j, n = ue->nr_words;

	qsort(w, n, sizeof(*w), cmp_u64);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++)
			if (w[j] >> DEV_INDEX_BITS != w[i] >> DEV_INDEX_BITS)
				break;
		if (j == i + 1)
			ue->u->devs[w[i] & DEV_INDEX_MASK].exclusive_blocks++;
	}
}

/*
 * thin_ls takes mapped_blocks from the details and the rest from the
 * trees; on consistent metadata the two agree. If they do not, say so
 * rather than print a shared count that wrapped around.
 */
static void finish_device(struct usage_emitter *ue, size_t i)
{
	struct meta_usage_dev *d = &ue->u->devs[i];

	if (ue->counted[i] != d->mapped_blocks)
		fprintf(stderr, "%s: device %llu: its details say %llu mapped blocks, its mapping tree holds %llu (run ctpool meta check)\n",
			ue->who, (unsigned long long)d->dev_id,
			(unsigned long long)d->mapped_blocks,
			(unsigned long long)ue->counted[i]);
	d->shared_blocks = d->mapped_blocks > d->exclusive_blocks ?
			   d->mapped_blocks - d->exclusive_blocks : 0;
}

static int end_superblock(struct meta_emitter *e)
{
	struct usage_emitter *ue = to_usage(e);
	size_t i;

	count_exclusive(ue);
	for (i = 0; i < ue->u->nr_devs; i++)
		finish_device(ue, i);
	return 0;
}

static const struct meta_emitter_ops usage_ops = {
	.begin_superblock = begin_superblock,
	.end_superblock = end_superblock,
	.begin_device = begin_device,
	.end_device = end_device,
	.single_map = single_map,
	.range_map = range_map,
};

int meta_usage_read(struct meta_image *img, const struct meta_superblock *sb,
		    const char *who, struct meta_usage *u)
{
	struct usage_emitter ue = {
		.emitter = { .ops = &usage_ops },
		.who = who,
		.u = u,
	};
	struct meta_emit_opts o = { .who = who };
	int r;

	memset(u, 0, sizeof(*u));
	r = meta_emit_metadata(img, sb, &o, &ue.emitter);
	free(ue.words);
	free(ue.counted);
	if (r)
		meta_usage_free(u);
	return r;
}

void meta_usage_free(struct meta_usage *u)
{
	free(u->devs);
	u->devs = NULL;
	u->nr_devs = 0;
}

static int cmp_dev(const void *key, const void *elem)
{
	uint64_t id = *(const uint64_t *)key;
	uint64_t other = ((const struct meta_usage_dev *)elem)->dev_id;

	return id < other ? -1 : id > other;
}

/* The walk emitted the devices in ascending dev_id: a binary search. */
const struct meta_usage_dev *meta_usage_find(const struct meta_usage *u,
					     uint64_t dev_id)
{
	if (!u->nr_devs)
		return NULL;
	return bsearch(&dev_id, u->devs, u->nr_devs, sizeof(*u->devs),
		       cmp_dev);
}
