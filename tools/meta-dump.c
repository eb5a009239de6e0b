// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta dump: thin-pool metadata as thin_dump 0.9.0's XML.
 *
 * The trees are read straight from the image. Damage stops the dump with
 * a message naming the block: a dump is for intact metadata, repairs are
 * the checker's business.
 */
#include <stdlib.h>
#include <string.h>

#include "meta.h"

#define SB_CSUM_XOR 160774u
#define SB_MAGIC 27022010u
#define DETAILS_SIZE 24
#define MAX_DEPTH 16

struct entry {
	uint64_t key;
	uint8_t value[DETAILS_SIZE];
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

typedef int (*leaf_fn)(void *context, uint64_t key, const uint8_t *value);

/*
 * In-order walk of one tree. Keys must rise strictly from leaf to leaf:
 * that both checks the order and stops any loop or shared node from being
 * walked twice, so damaged metadata cannot make the dump run forever.
 */
struct walk {
	struct meta_image *img;
	uint32_t value_size;
	const char *tree;
	bool have_last;
	uint64_t last;
	uint64_t visits;	/* more than the image has blocks: a loop */
	leaf_fn fn;
	void *context;
};

static int walk_error(struct walk *w, uint64_t b, const char *why)
{
	fprintf(stderr, "ctpool meta dump: %s, block %llu: %s\n", w->tree,
		(unsigned long long)b, why);
	return -1;
}

static int walk_leaf(struct walk *w, uint64_t b, const struct meta_node *n)
{
	uint64_t key;
	uint32_t i;

	for (i = 0; i < n->nr_entries; i++) {
		key = meta_node_key(n, i);
		if (w->have_last && key <= w->last)
			return walk_error(w, b, "keys out of order");
		w->have_last = true;
		w->last = key;
		if (w->fn(w->context, key, meta_node_value(n, i)))
			return -1;
	}
	return 0;
}

static int walk_node(struct walk *w, uint64_t b, int depth)
{
	uint8_t block[META_BLOCK_SIZE];
	struct meta_node n;
	const char *why;
	uint32_t i;

	if (depth > MAX_DEPTH)
		return walk_error(w, b, "tree too deep (a loop?)");
	if (++w->visits > w->img->nr_blocks)
		return walk_error(w, b, "node reached twice (a loop?)");
	if (meta_image_read(w->img, b, block))
		return walk_error(w, b, "cannot read the block");
	if (meta_node_decode(block, b, w->value_size, &n, &why))
		return walk_error(w, b, why);
	if (n.flags & META_NODE_LEAF)
		return walk_leaf(w, b, &n);
	if (!n.nr_entries)
		return walk_error(w, b, "empty internal node");
	for (i = 0; i < n.nr_entries; i++)
		if (walk_node(w, meta_le64(meta_node_value(&n, i)), depth + 1))
			return -1;
	return 0;
}

static int walk_tree(struct meta_image *img, uint64_t root,
		     uint32_t value_size, const char *tree, leaf_fn fn,
		     void *context)
{
	struct walk w = {
		.img = img,
		.value_size = value_size,
		.tree = tree,
		.fn = fn,
		.context = context,
	};

	return walk_node(&w, root, 0);
}

static int collect(void *context, uint64_t key, const uint8_t *value)
{
	struct entries *e = context;
	struct entry *v;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 64;
		v = realloc(e->v, e->cap * sizeof(*v));
		if (!v) {
			fprintf(stderr, "ctpool meta dump: out of memory\n");
			return -1;
		}
		e->v = v;
	}
	e->v[e->n].key = key;
	memcpy(e->v[e->n].value, value, DETAILS_SIZE);
	e->n++;
	return 0;
}

static int collect_roots(void *context, uint64_t key, const uint8_t *value)
{
	uint8_t padded[DETAILS_SIZE] = { 0 };

	memcpy(padded, value, 8);
	return collect(context, key, padded);
}

static int emit_mapping(void *context, uint64_t key, const uint8_t *value)
{
	uint64_t v = meta_le64(value);

	meta_xml_mapping(context, key, v >> 24, (uint32_t)(v & 0xffffff));
	return 0;
}

static int dump_device(struct meta_image *img, struct meta_xml_writer *w,
		       const struct entry *details, uint64_t root)
{
	struct meta_xml_device d = {
		.dev_id = details->key,
		.mapped_blocks = meta_le64(details->value),
		.transaction = meta_le64(details->value + 8),
		.creation_time = meta_le32(details->value + 16),
		.snap_time = meta_le32(details->value + 20),
	};
	char what[64];

	snprintf(what, sizeof(what), "mapping tree of device %llu",
		 (unsigned long long)d.dev_id);
	meta_xml_begin_device(w, &d);
	if (walk_tree(img, root, 8, what, emit_mapping, w))
		return -1;
	meta_xml_end_device(w);
	return 0;
}

static const struct entry *find_root(const struct entries *roots,
				     uint64_t dev)
{
	size_t lo = 0, hi = roots->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (roots->v[mid].key < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < roots->n && roots->v[lo].key == dev)
		return &roots->v[lo];
	return NULL;
}

static int dump_devices(struct meta_image *img, struct meta_xml_writer *w,
			const struct meta_superblock *sb)
{
	struct entries details = { 0 }, roots = { 0 };
	const struct entry *root;
	int r = -1;
	size_t i;

	if (walk_tree(img, sb->device_details_root, DETAILS_SIZE,
		      "device details tree", collect, &details) ||
	    walk_tree(img, sb->data_mapping_root, 8, "mapping tree",
		      collect_roots, &roots))
		goto out;

	for (i = 0; i < details.n; i++) {
		root = find_root(&roots, details.v[i].key);
		if (!root) {
			fprintf(stderr, "ctpool meta dump: device %llu has no mapping tree\n",
				(unsigned long long)details.v[i].key);
			goto out;
		}
		if (dump_device(img, w, &details.v[i], meta_le64(root->value)))
			goto out;
	}
	r = 0;
out:
	free(details.v);
	free(roots.v);
	return r;
}

static int read_sb(struct meta_image *img, uint64_t b,
		   struct meta_superblock *sb)
{
	uint8_t block[META_BLOCK_SIZE];

	if (meta_image_read(img, b, block)) {
		fprintf(stderr, "ctpool meta dump: cannot read superblock at block %llu\n",
			(unsigned long long)b);
		return -1;
	}
	meta_decode_superblock(block, sb);
	if (sb->csum != meta_block_csum(block, SB_CSUM_XOR) ||
	    sb->blocknr != b || sb->magic != SB_MAGIC) {
		fprintf(stderr, "ctpool meta dump: block %llu is not a valid superblock\n",
			(unsigned long long)b);
		return -1;
	}
	return 0;
}

struct dump_opts {
	const char *input;
	const char *output;
	bool snap;
	bool snap_block_given;
	uint64_t snap_block;
};

static int usage(void)
{
	fprintf(stderr, "usage: ctpool meta dump [--metadata-snap[=BLOCK]] [-o FILE] DEV|FILE\n");
	return 2;
}

static int parse_block(const char *s, uint64_t *b)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	*b = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct dump_opts *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-m") || !strcmp(a, "--metadata-snap")) {
			o->snap = true;
		} else if (!strncmp(a, "--metadata-snap=", 16)) {
			o->snap = true;
			o->snap_block_given = true;
			if (parse_block(a + 16, &o->snap_block))
				return -1;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			o->output = argv[++i];
		} else if (a[0] == '-' || o->input) {
			return -1;
		} else {
			o->input = a;
		}
	}
	return o->input ? 0 : -1;
}

static int dump(struct meta_image *img, const struct dump_opts *o, FILE *f)
{
	struct meta_xml_writer w = { .f = f };
	struct meta_xml_superblock x;
	struct meta_superblock sb;
	uint64_t b;

	if (read_sb(img, 0, &sb))
		return -1;
	if (o->snap) {
		b = o->snap_block_given ? o->snap_block : sb.held_root;
		if (!b) {
			fprintf(stderr, "ctpool meta dump: no metadata snapshot is held\n");
			return -1;
		}
		if (read_sb(img, b, &sb))
			return -1;
	}

	x.time = sb.time;
	x.transaction = sb.trans_id;
	x.flags = sb.flags;
	x.version = sb.version;
	x.data_block_size = sb.data_block_size;
	x.nr_data_blocks = sb.data_sm.nr_blocks;
	meta_xml_begin_superblock(&w, &x);
	if (dump_devices(img, &w, &sb))
		return -1;
	meta_xml_end_superblock(&w);
	return 0;
}

int meta_dump_main(int argc, char **argv)
{
	struct dump_opts o = { 0 };
	struct meta_image img;
	FILE *f = stdout;
	int r;

	if (parse_opts(argc, argv, &o))
		return usage();
	if (meta_image_open(o.input, &img)) {
		perror(o.input);
		return 1;
	}
	if (o.output) {
		f = fopen(o.output, "we");
		if (!f) {
			perror(o.output);
			meta_image_close(&img);
			return 1;
		}
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	r = dump(&img, &o, f);
	if (fflush(f) || ferror(f)) {
		perror(o.output ? o.output : "stdout");
		r = -1;
	}
	if (o.output)
		fclose(f);
	meta_image_close(&img);
	return r ? 1 : 0;
}
