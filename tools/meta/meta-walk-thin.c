// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the thin trees of one superblock (device details, the
 * mapping tree and each device's mappings) read with the walker and handed
 * to an emitter: dump's source, and repair's.
 *
 * Strict, any damage that would make the output wrong or incomplete stops
 * the walk; damage that leaves every entry readable in order (a tree's
 * shape) is the checker's business. Tolerant, damaged nodes and entries
 * are reported and left out, and a device is kept as long as its mapping
 * tree root can be found.
 */
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "meta-walk.h"

#define WALK_MAX_DEPTH 16

struct entry {
	uint64_t key;
	uint8_t value[META_DETAILS_VALUE_SIZE];
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

/* One tree being walked for an emit. */
struct thin_walk {
	struct meta_walk walk;
	struct meta_emit_opts *o;
	const struct meta_superblock *sb;
	struct entries *collected;	/* details or roots */
	struct meta_emitter *e;		/* mappings */
};

static struct thin_walk *to_thin_walk(struct meta_walk *w)
{
	return meta_container_of(w, struct thin_walk, walk);
}

static bool harmless(enum meta_damage_kind kind)
{
	return kind == META_DAMAGE_UNSORTED || kind == META_DAMAGE_EMPTY_LEAF ||
	       kind == META_DAMAGE_CHILD_HEIGHT ||
	       kind == META_DAMAGE_CHILD_RANGE;
}

/*
 * Keys out of order within a node are let through: if they matter, the
 * order of the entries across the tree (NOT_RISING) catches them.
 */
static enum meta_walk_action on_damage(struct meta_walk *w,
				       const struct meta_damage *d)
{
	struct meta_emit_opts *o = to_thin_walk(w)->o;

	if (harmless(d->kind))
		return META_WALK_CONTINUE;
	fprintf(stderr, "%s: %s, block %llu: %s%s\n", o->who, w->name,
		(unsigned long long)d->block, meta_damage_phrase(d),
		o->tolerant ? "; left out" : "");
	if (!o->tolerant)
		return META_WALK_STOP;
	o->damage++;
	return META_WALK_SKIP;
}

static int collect(struct thin_walk *t, uint64_t key, const uint8_t *value)
{
	struct entries *e = t->collected;
	struct entry *v;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		v = realloc(e->v, e->cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "%s: out of memory\n", t->o->who);
			return -1;
		}
		e->v = v;
	}
	memset(&e->v[e->n], 0, sizeof(e->v[e->n]));
	e->v[e->n].key = key;
	memcpy(e->v[e->n].value, value, t->walk.value_size);
	e->n++;
	return 0;
}

static int emit_mapping(struct thin_walk *t, uint64_t node, uint64_t key,
			const uint8_t *value)
{
	uint64_t data = meta_mapping_block(value);

	/* The writer would refuse it and lose the whole device. */
	if (t->o->tolerant && data >= t->sb->data_sm.nr_blocks) {
		fprintf(stderr, "%s: %s, block %llu: virtual block %llu maps to data block %llu, beyond the data device; left out\n",
			t->o->who, t->walk.name, (unsigned long long)node,
			(unsigned long long)key, (unsigned long long)data);
		t->o->damage++;
		return 0;
	}
	return meta_emit_single(t->e, key, data, meta_mapping_time(value));
}

/* The details and mapping trees are collected, a device's tree emitted. */
static int on_entry(struct meta_walk *w, uint64_t node, uint64_t key,
		    const uint8_t *value)
{
	struct thin_walk *t = to_thin_walk(w);

	if (t->collected)
		return collect(t, key, value);
	return emit_mapping(t, node, key, value);
}

static const struct meta_walk_ops thin_walk_ops = {
	.entry = on_entry,
	.damage = on_damage,
};

static int walk_tree(struct meta_image *img, struct thin_walk *t,
		     uint64_t root, uint32_t value_size, const char *name)
{
	t->walk.img = img;
	t->walk.ops = &thin_walk_ops;
	t->walk.value_size = value_size;
	t->walk.max_depth = WALK_MAX_DEPTH;
	t->walk.name = name;
	if (meta_walk_tree(&t->walk, root, "superblock", NULL) < 0)
		return -1;
	/* A root that cannot be read is damage like any other node. */
	return 0;
}

static int emit_device(struct meta_image *img, struct thin_walk *t,
		       const struct meta_dev_info *d, uint64_t root)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "mapping tree of device %llu",
		 (unsigned long long)d->dev_id);
	r = t->e->ops->begin_device(t->e, d);
	if (r)
		return r;
	t->collected = NULL;
	if (walk_tree(img, t, root, META_MAPPING_VALUE_SIZE, name))
		return -1;
	return t->e->ops->end_device(t->e);
}

static void decode_details(const struct entry *details,
			   struct meta_dev_info *d)
{
	const uint8_t *v = details->value;

	d->dev_id = details->key;
	d->mapped_blocks = meta_le64(v + META_DETAILS_MAPPED_BLOCKS);
	d->transaction = meta_le64(v + META_DETAILS_TRANS_ID);
	d->creation_time = meta_le32(v + META_DETAILS_CREATION_TIME);
	d->snap_time = meta_le32(v + META_DETAILS_SNAP_TIME);
}

/*
 * A device with details but no mapping tree stops a strict walk; one with
 * a mapping tree but no details is left out of it, as before repair
 * existed. Tolerant, the first is lost and the second kept.
 */
static int emit_one(struct meta_image *img, struct thin_walk *t,
		    const struct entry *details, const struct entry *root)
{
	struct meta_emit_opts *o = t->o;
	struct meta_dev_info d = { 0 };

	if (details && !root) {
		fprintf(stderr, "%s: device %llu has no mapping tree%s\n",
			o->who, (unsigned long long)details->key,
			o->tolerant ? "; left out" : "");
		o->damage++;
		return o->tolerant ? 0 : -1;
	}
	if (!details) {
		if (!o->tolerant)
			return 0;
		fprintf(stderr, "%s: device %llu has mappings but no details; kept with details zeroed\n",
			o->who, (unsigned long long)root->key);
		o->damage++;
		d.dev_id = root->key;
	} else {
		decode_details(details, &d);
	}
	return emit_device(img, t, &d, meta_le64(root->value));
}

/* Both lists rise strictly (the walker saw to it): merge them by device. */
static int emit_devices(struct meta_image *img, struct thin_walk *t,
			const struct entries *details,
			const struct entries *roots)
{
	size_t i = 0, j = 0;
	const struct entry *d, *r;

	while (i < details->n || j < roots->n) {
		d = i < details->n ? &details->v[i] : NULL;
		r = j < roots->n ? &roots->v[j] : NULL;
		if (d && r && d->key != r->key) {
			if (d->key < r->key)
				r = NULL;
			else
				d = NULL;
		}
		i += d != NULL;
		j += r != NULL;
		if (emit_one(img, t, d, r))
			return -1;
	}
	return 0;
}

static void sb_info(const struct meta_superblock *sb, struct meta_sb_info *x)
{
	x->time = sb->time;
	x->transaction = sb->trans_id;
	x->flags = sb->flags;
	x->version = sb->version;
	x->data_block_size = sb->data_block_size;
	x->nr_data_blocks = sb->data_sm.nr_blocks;
}

int meta_emit_metadata(struct meta_image *img, const struct meta_superblock *sb,
		       struct meta_emit_opts *o, struct meta_emitter *e)
{
	struct entries details = { 0 }, roots = { 0 };
	struct thin_walk t = { .o = o, .sb = sb, .e = e };
	struct meta_sb_info x;
	int r = -1;

	sb_info(sb, &x);
	if (e->ops->begin_superblock(e, &x))
		return -1;
	t.collected = &details;
	if (walk_tree(img, &t, sb->device_details_root,
		      META_DETAILS_VALUE_SIZE, "device details tree"))
		goto out;
	t.collected = &roots;
	if (walk_tree(img, &t, sb->data_mapping_root,
		      META_ROOT_VALUE_SIZE, "mapping tree"))
		goto out;
	if (emit_devices(img, &t, &details, &roots))
		goto out;
	r = e->ops->end_superblock(e) ? -1 : 0;
out:
	free(details.v);
	free(roots.v);
	return r;
}
