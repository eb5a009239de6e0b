// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the XML emitter, writing what thin_dump 0.9.0 writes, byte
 * for byte: two-space indents, fixed attribute order, and consecutive
 * mappings (next virtual block, next data block, same time) folded into
 * one range_mapping.
 */
#include <string.h>

#include "meta.h"

struct xml_attr {
	const char *name;
	uint64_t value;
};

/* Numbers are formatted by hand: a dump prints millions of them. */
static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* One line: start, the attributes in order, then close (">" or "/>"). */
static void put_element(struct meta_xml_writer *w, const char *start,
			const struct xml_attr *attrs, size_t nr,
			const char *close)
{
	char buf[256], *p = buf;
	size_t i;

	p = put_str(p, start);
	for (i = 0; i < nr; i++) {
		*p++ = ' ';
		p = put_str(p, attrs[i].name);
		*p++ = '=';
		*p++ = '"';
		p = put_u64(p, attrs[i].value);
		*p++ = '"';
	}
	p = put_str(p, close);
	*p++ = '\n';
	fwrite(buf, 1, (size_t)(p - buf), w->f);
}

static struct meta_xml_writer *to_writer(struct meta_emitter *e)
{
	return meta_container_of(e, struct meta_xml_writer, emitter);
}

static int xml_begin_superblock(struct meta_emitter *e,
				const struct meta_sb_info *sb)
{
	const struct xml_attr attrs[] = {
		{ "time", sb->time },
		{ "transaction", sb->transaction },
		{ "flags", sb->flags },
		{ "version", sb->version },
		{ "data_block_size", sb->data_block_size },
		{ "nr_data_blocks", sb->nr_data_blocks },
	};
	struct meta_xml_writer *w = to_writer(e);

	w->in_run = false;
	put_element(w, "<superblock uuid=\"\"", attrs, ARRAY_SIZE(attrs), ">");
	return 0;
}

static int xml_end_superblock(struct meta_emitter *e)
{
	fputs("</superblock>\n", to_writer(e)->f);
	return 0;
}

static int xml_begin_device(struct meta_emitter *e,
			    const struct meta_dev_info *d)
{
	const struct xml_attr attrs[] = {
		{ "dev_id", d->dev_id },
		{ "mapped_blocks", d->mapped_blocks },
		{ "transaction", d->transaction },
		{ "creation_time", d->creation_time },
		{ "snap_time", d->snap_time },
	};
	struct meta_xml_writer *w = to_writer(e);

	w->in_run = false;
	put_element(w, "  <device", attrs, ARRAY_SIZE(attrs), ">");
	return 0;
}

static void flush_run(struct meta_xml_writer *w)
{
	const struct xml_attr single[] = {
		{ "origin_block", w->origin },
		{ "data_block", w->data },
		{ "time", w->time },
	};
	const struct xml_attr range[] = {
		{ "origin_begin", w->origin },
		{ "data_begin", w->data },
		{ "length", w->len },
		{ "time", w->time },
	};

	if (!w->in_run)
		return;
	w->in_run = false;
	if (w->len == 1)
		put_element(w, "    <single_mapping", single, ARRAY_SIZE(single),
			    "/>");
	else
		put_element(w, "    <range_mapping", range, ARRAY_SIZE(range),
			    "/>");
}

static int xml_end_device(struct meta_emitter *e)
{
	struct meta_xml_writer *w = to_writer(e);

	flush_run(w);
	fputs("  </device>\n", w->f);
	return 0;
}

static int xml_range_map(struct meta_emitter *e, uint64_t origin,
			 uint64_t data, uint64_t len, uint32_t time)
{
	struct meta_xml_writer *w = to_writer(e);

	if (w->in_run && origin == w->origin + w->len &&
	    data == w->data + w->len && time == w->time) {
		w->len += len;
		return 0;
	}
	flush_run(w);
	w->in_run = true;
	w->origin = origin;
	w->data = data;
	w->len = len;
	w->time = time;
	return 0;
}

static const struct meta_emitter_ops xml_ops = {
	.begin_superblock = xml_begin_superblock,
	.end_superblock = xml_end_superblock,
	.begin_device = xml_begin_device,
	.end_device = xml_end_device,
	.range_map = xml_range_map,
};

void meta_xml_writer_init(struct meta_xml_writer *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->emitter.ops = &xml_ops;
	w->f = f;
}
