// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta dump: thin-pool metadata as thin_dump 0.9.0's XML: the walk
 * of the trees (meta-walk-thin.c) feeding the XML emitter (meta-xml-emit.c).
 *
 * Damage stops the dump with a message naming the block: a dump is for
 * intact metadata; ctpool meta repair salvages damaged metadata.
 */
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "meta.h"

#define WHO "ctpool meta dump"
#define USAGE "usage: ctpool meta dump [--metadata-snap[=BLOCK]] [-o FILE] DEV|FILE"

static const struct option dump_options[] = {
	{ "metadata-snap", optional_argument, NULL, 'm' },
	{ NULL, 0, NULL, 0 },
};

static int dump(struct meta_image *img, const struct meta_args *o, FILE *f)
{
	struct meta_emit_opts eo = { .who = WHO };
	struct meta_xml_writer w;
	struct meta_superblock sb;

	if (meta_select_superblock(img, &o->snap, WHO, &sb))
		return -1;
	meta_xml_writer_init(&w, f);
	return meta_emit_metadata(img, &sb, &eo, &w.emitter);
}

int meta_dump_main(int argc, char **argv)
{
	struct meta_args o;
	struct meta_image img;
	FILE *f = stdout;
	int r;

	if (meta_parse_args(argc, argv, "-mo:", dump_options, USAGE, &o))
		return 2;
	if (meta_image_open(o.input, false, &img)) {
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
