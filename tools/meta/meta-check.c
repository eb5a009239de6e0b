// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta check: an independent consistency check of thin-pool
 * metadata. It validates the superblock, walks every tree (mappings,
 * device details, the metadata snapshot, both space maps), recomputes the
 * reference count of every metadata and data block, and compares them with
 * what the space maps hold. Every problem is reported with its block.
 *
 * Exit status: 0 consistent, 1 problems found, 2 usage.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "meta-check.h"

#define USAGE "usage: ctpool meta check [-q] [--clear-needs-check] DEV|FILE"

static const char *const role_names[] = {
	[ROLE_NONE] = "unused",
	[ROLE_SUPERBLOCK] = "superblock",
	[ROLE_SNAP_SUPERBLOCK] = "metadata snapshot superblock",
	[ROLE_MAPPING_TOP] = "mapping tree",
	[ROLE_MAPPING_DEVICE] = "device mapping tree",
	[ROLE_DETAILS] = "device details tree",
	[ROLE_MSM_INDEX] = "metadata space map index",
	[ROLE_MSM_BITMAP] = "metadata space map bitmap",
	[ROLE_MSM_REFCOUNT] = "metadata space map ref-count tree",
	[ROLE_DSM_INDEX] = "data space map index",
	[ROLE_DSM_BITMAP] = "data space map bitmap",
	[ROLE_DSM_REFCOUNT] = "data space map ref-count tree",
};

const char *role_name(int role)
{
	if (role < 0 || role >= (int)(sizeof(role_names) / sizeof(*role_names)))
		return "?";
	return role_names[role];
}

void check_error(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	c->errors++;
	if (c->errors > CHECK_MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void check_warning(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	c->warnings++;
	if (c->warnings > CHECK_MAX_REPORTS)
		return;
	fputs("warning: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- growing arrays ---- */

static bool grow(struct checker *c, void **v, size_t *cap, size_t n,
		 size_t size)
{
	size_t new_cap;
	void *p;

	if (n < *cap)
		return true;
	new_cap = *cap ? *cap * 2 : 256;
	p = realloc(*v, new_cap * size);
	if (!p) {
		if (!c->out_of_memory)
			check_error(c, "out of memory: the check is incomplete");
		c->out_of_memory = true;
		return false;
	}
	*v = p;
	*cap = new_cap;
	return true;
}

bool u64_push(struct checker *c, struct u64_vec *v, uint64_t x)
{
	if (!grow(c, (void **)&v->v, &v->cap, v->n, sizeof(*v->v)))
		return false;
	v->v[v->n++] = x;
	return true;
}

bool refcount_push(struct checker *c, struct refcount_vec *v, uint64_t b,
		   uint32_t count)
{
	if (!grow(c, (void **)&v->v, &v->cap, v->n, sizeof(*v->v)))
		return false;
	v->v[v->n].block = b;
	v->v[v->n].count = count;
	v->n++;
	return true;
}

bool device_push(struct checker *c, struct device_vec *v, uint64_t id,
		 uint64_t mapped_blocks, uint64_t block)
{
	if (!grow(c, (void **)&v->v, &v->cap, v->n, sizeof(*v->v)))
		return false;
	v->v[v->n].id = id;
	v->v[v->n].mapped_blocks = mapped_blocks;
	v->v[v->n].block = block;
	v->n++;
	return true;
}

/* ---- the thin trees ---- */

static void mapping_entry(struct tree_walk *w, uint64_t node, uint64_t key,
			  const uint8_t *value)
{
	struct checker *c = w->c;
	uint64_t data = meta_mapping_block(value);

	if (data >= c->sb.data_sm.nr_blocks) {
		check_error(c, "block %llu (device mapping tree): virtual block %llu maps to data block %llu, beyond the data device (%llu blocks)",
			    (unsigned long long)node, (unsigned long long)key,
			    (unsigned long long)data,
			    (unsigned long long)c->sb.data_sm.nr_blocks);
		return;
	}
	u64_push(c, &c->data_refs, data);
}

static void top_entry(struct tree_walk *w, uint64_t node, uint64_t key,
		      const uint8_t *value)
{
	struct checker *c = w->c;
	uint64_t root = meta_le64(value);
	struct meta_subtree s;
	char from[96];

	snprintf(from, sizeof(from), "mapping tree node %llu, device %llu",
		 (unsigned long long)node, (unsigned long long)key);
	if (!check_role_tree(c, ROLE_MAPPING_DEVICE, META_MAPPING_VALUE_SIZE,
			     mapping_entry, root, from, &s))
		return;
	if (c->collect_devices)
		device_push(c, &c->mappings, key, s.entries, root);
}

static void details_entry(struct tree_walk *w, uint64_t node, uint64_t key,
			  const uint8_t *value)
{
	if (w->c->collect_devices)
		device_push(w->c, &w->c->details, key, meta_le64(value), node);
}

static void check_thin_trees(struct checker *c, uint64_t mapping_root,
			     uint64_t details_root, const char *from)
{
	check_role_tree(c, ROLE_MAPPING_TOP, META_ROOT_VALUE_SIZE, top_entry,
			mapping_root, from, NULL);
	check_role_tree(c, ROLE_DETAILS, META_DETAILS_VALUE_SIZE, details_entry,
			details_root, from, NULL);
}

static int cmp_device(const void *a, const void *b)
{
	const struct device *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static const struct device *search_device(const struct device_vec *v,
					  uint64_t id)
{
	struct device key = { .id = id };

	if (!v->n)
		return NULL;
	return bsearch(&key, v->v, v->n, sizeof(*v->v), cmp_device);
}

static void compare_devices(struct checker *c)
{
	const struct device *d, *m;
	size_t i;

	if (c->mappings.n)
		qsort(c->mappings.v, c->mappings.n, sizeof(*c->mappings.v),
		      cmp_device);
	if (c->details.n)
		qsort(c->details.v, c->details.n, sizeof(*c->details.v),
		      cmp_device);
	for (i = 0; i < c->details.n; i++) {
		d = &c->details.v[i];
		m = search_device(&c->mappings, d->id);
		if (!m) {
			check_error(c, "block %llu (device details tree): device %llu has no mapping tree",
				    (unsigned long long)d->block,
				    (unsigned long long)d->id);
			continue;
		}
		if (m->mapped_blocks != d->mapped_blocks)
			check_error(c, "block %llu (device details tree): device %llu has mapped_blocks %llu, but its mapping tree (root %llu) holds %llu",
				    (unsigned long long)d->block,
				    (unsigned long long)d->id,
				    (unsigned long long)d->mapped_blocks,
				    (unsigned long long)m->block,
				    (unsigned long long)m->mapped_blocks);
	}
	for (i = 0; i < c->mappings.n; i++) {
		m = &c->mappings.v[i];
		if (!search_device(&c->details, m->id))
			check_error(c, "block %llu (device mapping tree): device %llu has mappings but no details",
				    (unsigned long long)m->block,
				    (unsigned long long)m->id);
	}
}

/* ---- superblocks ---- */

static bool read_sb(struct checker *c, uint64_t b, const char *what,
		    struct meta_superblock *sb)
{
	uint8_t block[META_BLOCK_SIZE];

	if (meta_image_read(&c->img, b, block)) {
		check_error(c, "block %llu (%s): cannot be read",
			    (unsigned long long)b, what);
		return false;
	}
	meta_decode_superblock(block, sb);
	if (sb->magic != META_SB_MAGIC) {
		check_error(c, "block %llu (%s): bad magic %llu, not thin-pool metadata",
			    (unsigned long long)b, what,
			    (unsigned long long)sb->magic);
		return false;
	}
	if (sb->csum != meta_block_csum(block, META_SB_CSUM_XOR))
		check_error(c, "block %llu (%s): bad checksum",
			    (unsigned long long)b, what);
	if (sb->blocknr != b)
		check_error(c, "block %llu (%s): claims to be block %llu",
			    (unsigned long long)b, what,
			    (unsigned long long)sb->blocknr);
	return true;
}

static void check_sm_root(struct checker *c, const struct meta_sm_root *r,
			  const char *what)
{
	if (r->nr_allocated > r->nr_blocks)
		check_error(c, "block 0: %s space map has %llu of %llu blocks allocated",
			    what, (unsigned long long)r->nr_allocated,
			    (unsigned long long)r->nr_blocks);
}

static bool check_superblock(struct checker *c)
{
	struct meta_superblock *sb = &c->sb;

	if (!read_sb(c, 0, "superblock", sb))
		return false;
	if (sb->version != 1 && sb->version != 2)
		check_error(c, "block 0: unsupported metadata version %u",
			    sb->version);
	if (sb->incompat_flags)
		check_error(c, "block 0: unsupported incompatible features %#x",
			    sb->incompat_flags);
	if (sb->metadata_block_size != META_BLOCK_SECTORS)
		check_error(c, "block 0: metadata block size %u sectors, expected 8",
			    sb->metadata_block_size);
	if (!sb->data_block_size)
		check_error(c, "block 0: data block size is 0");
	if (sb->metadata_sm.nr_blocks > c->img.nr_blocks)
		check_error(c, "block 0: metadata space map covers %llu blocks, the device has %llu",
			    (unsigned long long)sb->metadata_sm.nr_blocks,
			    (unsigned long long)c->img.nr_blocks);
	check_sm_root(c, &sb->metadata_sm, "metadata");
	check_sm_root(c, &sb->data_sm, "data");
	return true;
}

static void check_held_root(struct checker *c)
{
	struct meta_superblock snap;
	uint64_t b = c->sb.held_root;

	if (!b)
		return;
	if (!check_reference(c, b, ROLE_SNAP_SUPERBLOCK, "superblock"))
		return;
	if (!read_sb(c, b, "metadata snapshot superblock", &snap))
		return;
	c->collect_devices = false;
	check_thin_trees(c, snap.data_mapping_root, snap.device_details_root,
			 "metadata snapshot");
}

static bool alloc_tracking(struct checker *c)
{
	c->nr_meta = c->img.nr_blocks;
	if (c->nr_meta > c->sb.metadata_sm.nr_blocks)
		c->nr_meta = c->sb.metadata_sm.nr_blocks;
	if (c->nr_meta > META_MAX_METADATA_BLOCKS)
		c->nr_meta = META_MAX_METADATA_BLOCKS;
	if (!c->nr_meta) {
		check_error(c, "block 0: the metadata space map is empty");
		return false;
	}
	c->refs = calloc(c->nr_meta, sizeof(*c->refs));
	c->role = calloc(c->nr_meta, sizeof(*c->role));
	c->state = calloc(c->nr_meta, sizeof(*c->state));
	c->info = calloc(c->nr_meta, sizeof(*c->info));
	if (!c->refs || !c->role || !c->state || !c->info) {
		check_error(c, "out of memory for %llu metadata blocks",
			    (unsigned long long)c->nr_meta);
		return false;
	}
	return true;
}

static void free_checker(struct checker *c)
{
	free(c->refs);
	free(c->role);
	free(c->state);
	free(c->info);
	free(c->data_refs.v);
	free(c->msm_bitmaps.v);
	free(c->dsm_bitmaps.v);
	free(c->msm_overflow.v);
	free(c->dsm_overflow.v);
	free(c->details.v);
	free(c->mappings.v);
}

static void check(struct checker *c)
{
	if (!check_superblock(c) || !alloc_tracking(c))
		return;
	c->refs[0] = 1;
	c->role[0] = ROLE_SUPERBLOCK;

	c->collect_devices = true;
	check_thin_trees(c, c->sb.data_mapping_root,
			 c->sb.device_details_root, "superblock");
	compare_devices(c);
	check_held_root(c);
	check_metadata_sm(c);
	check_data_sm(c);
	if (c->out_of_memory)
		return;
	compare_metadata_counts(c);
	compare_data_counts(c);
}

static const struct option check_options[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "clear-needs-check", no_argument, NULL, META_OPT_CLEAR_NEEDS_CHECK },
	/* thin_check's name for it */
	{ "clear-needs-check-flag", no_argument, NULL, META_OPT_CLEAR_NEEDS_CHECK },
	{ NULL, 0, NULL, 0 },
};

/* Only metadata found consistent loses the flag. */
static int clear_flag(const struct meta_args *o)
{
	bool cleared;

	if (meta_clear_needs_check(o->input, &cleared))
		return 1;
	if (cleared && !o->quiet)
		printf("%s: needs_check flag cleared\n", o->input);
	return 0;
}

int meta_check_main(int argc, char **argv)
{
	struct meta_args o;
	struct checker c;

	if (meta_parse_args(argc, argv, "-q", check_options, USAGE, &o))
		return 2;

	memset(&c, 0, sizeof(c));
	if (meta_image_open(o.input, false, &c.img)) {
		perror(o.input);
		return 1;
	}
	check(&c);
	meta_image_close(&c.img);
	free_checker(&c);

	if (c.errors > CHECK_MAX_REPORTS)
		printf("... and %lu more problems\n",
		       c.errors - CHECK_MAX_REPORTS);
	if (c.errors) {
		printf("%s: %lu problem(s) found\n", o.input, c.errors);
		if (o.clear_needs_check)
			printf("%s: needs_check flag left set\n", o.input);
		return 1;
	}
	if (!o.quiet)
		printf("%s: metadata is consistent\n", o.input);
	return o.clear_needs_check ? clear_flag(&o) : 0;
}
