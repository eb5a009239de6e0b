// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta usage: thin_ls's per-device mapped, exclusive and shared
 * blocks of a metadata device or image, as a table or as JSON.
 */
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cli.h"
#include "meta.h"
#include "meta-usage.h"

#define WHO "ctpool meta usage"
#define USAGE "usage: ctpool meta usage [--metadata-snap[=BLOCK]] [--json] DEV|FILE"

static const struct option usage_options[] = {
	{ "metadata-snap", optional_argument, NULL, 'm' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/*
 * A block device may be the metadata of a live pool, written through
 * dm-bufio around the page cache: read it with O_DIRECT, as thin_ls does.
 */
static int open_input(const char *path, struct meta_image *img)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
		return meta_image_open_direct(path, img);
	return meta_image_open(path, false, img);
}

static void print_table(const struct meta_usage *u)
{
	uint64_t bytes = (uint64_t)u->data_block_size * 512;
	size_t i;

	printf("%-8s %14s %16s %14s %18s %18s %18s %12s %11s %9s\n", "DEV",
	       "MAPPED_BLOCKS", "EXCLUSIVE_BLOCKS", "SHARED_BLOCKS",
	       "MAPPED_BYTES", "EXCLUSIVE_BYTES", "SHARED_BYTES",
	       "TRANSACTION", "CREATE_TIME", "SNAP_TIME");
	for (i = 0; i < u->nr_devs; i++) {
		const struct meta_usage_dev *d = &u->devs[i];

		printf("%-8llu %14llu %16llu %14llu %18llu %18llu %18llu %12llu %11u %9u\n",
		       (unsigned long long)d->dev_id,
		       (unsigned long long)d->mapped_blocks,
		       (unsigned long long)d->exclusive_blocks,
		       (unsigned long long)d->shared_blocks,
		       (unsigned long long)(d->mapped_blocks * bytes),
		       (unsigned long long)(d->exclusive_blocks * bytes),
		       (unsigned long long)(d->shared_blocks * bytes),
		       (unsigned long long)d->transaction, d->creation_time,
		       d->snap_time);
	}
}

/* json-c has signed 64-bit integers only; the unsigned ones keep all bits. */
static int add_u64(struct json_object *o, const char *key, uint64_t v)
{
	struct json_object *n = json_object_new_uint64(v);

	if (!n)
		return -1;
	if (json_object_object_add(o, key, n)) {
		json_object_put(n);	/* not taken on failure */
		return -1;
	}
	return 0;
}

static struct json_object *device_json(const struct meta_usage_dev *d,
				       uint64_t bytes)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (add_u64(o, "dev_id", d->dev_id) ||
	    add_u64(o, "mapped_blocks", d->mapped_blocks) ||
	    add_u64(o, "exclusive_blocks", d->exclusive_blocks) ||
	    add_u64(o, "shared_blocks", d->shared_blocks) ||
	    add_u64(o, "mapped_bytes", d->mapped_blocks * bytes) ||
	    add_u64(o, "exclusive_bytes", d->exclusive_blocks * bytes) ||
	    add_u64(o, "shared_bytes", d->shared_blocks * bytes) ||
	    add_u64(o, "transaction", d->transaction) ||
	    add_u64(o, "creation_time", d->creation_time) ||
	    add_u64(o, "snap_time", d->snap_time)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *usage_json(const struct meta_usage *u)
{
	uint64_t bytes = (uint64_t)u->data_block_size * 512;
	struct json_object *o = json_object_new_object();
	struct json_object *devs = json_object_new_array();
	struct json_object *d;
	size_t i;

	if (!o || !devs || add_u64(o, "data_block_size", bytes))
		goto fail;
	for (i = 0; i < u->nr_devs; i++) {
		d = device_json(&u->devs[i], bytes);
		if (!d || json_object_array_add(devs, d)) {
			json_object_put(d);
			goto fail;
		}
	}
	if (json_object_object_add(o, "devices", devs))
		goto fail;
	return o;
fail:
	json_object_put(devs);
	json_object_put(o);
	return NULL;
}

static int print_json(const struct meta_usage *u)
{
	struct json_object *o = usage_json(u);
	const char *text;

	if (!o) {
		fprintf(stderr, WHO ": out of memory\n");
		return -1;
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (text)
		printf("%s\n", text);
	json_object_put(o);
	return text ? 0 : -1;
}

static int usage(struct meta_image *img, const struct meta_args *o)
{
	struct meta_superblock sb;
	struct meta_usage u;
	int r;

	if (meta_select_superblock(img, &o->snap, WHO, &sb))
		return -1;
	if (meta_usage_read(img, &sb, WHO, &u))
		return -1;
	r = 0;
	if (o->json)
		r = print_json(&u);
	else
		print_table(&u);
	meta_usage_free(&u);
	return r;
}

int meta_usage_main(int argc, char **argv)
{
	struct meta_args o;
	struct meta_image img;
	int r;

	if (meta_parse_args(argc, argv, "-m", usage_options, USAGE, &o))
		return 2;
	if (open_input(o.input, &img)) {
		perror(o.input);
		return 1;
	}
	r = usage(&img, &o);
	if (fflush(stdout) || ferror(stdout)) {
		perror("stdout");
		r = -1;
	}
	meta_image_close(&img);
	return r ? 1 : 0;
}
