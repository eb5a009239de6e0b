/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool meta: offline tools for thin-pool metadata (check, dump, restore,
 * repair).
 *
 * Reading is the tools' own, independent of the persistent-data library,
 * so that check can judge what the library wrote and every tool survives
 * any corruption: the format (meta-format.h), block access (meta-image.c),
 * one btree walker (meta-walk.h). Between readers and writers stands one
 * emitter interface (meta-emit.h). Writing metadata (restore, repair) is
 * the library's job (meta-writer.c).
 */
#ifndef CTPOOL_META_H
#define CTPOOL_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meta-emit.h"
#include "meta-format.h"

struct pd_block_manager;
struct thin_metadata;
struct thin_device;

int meta_check_main(int argc, char **argv);
int meta_dump_main(int argc, char **argv);
int meta_restore_main(int argc, char **argv);
int meta_repair_main(int argc, char **argv);
int meta_usage_main(int argc, char **argv);

/* meta-args.c: -i IN -o OUT [-q]; 0, or -1 on bad usage. */
int meta_parse_io_args(int argc, char **argv, const char **input,
		       const char **output);

/* ---- meta-image.c: block access ---- */

struct meta_image {
	int fd;
	uint64_t nr_blocks;	/* whole 4 KiB blocks in the file or device */
	void *bounce;		/* aligned block buffer for O_DIRECT reads */
};

int meta_image_open(const char *path, bool writable, struct meta_image *img);
/* Read-only with O_DIRECT: the metadata device of a live pool. */
int meta_image_open_direct(const char *path, struct meta_image *img);
void meta_image_close(struct meta_image *img);
/* 0, or -1 if b is beyond the image or the read fails. */
int meta_image_read(struct meta_image *img, uint64_t b, void *buf);
/* 0 once the block is on stable storage, or -1. */
int meta_image_write(struct meta_image *img, uint64_t b, const void *buf);

/* Decode the superblock at b; true if checksum, location and magic hold. */
bool meta_superblock_valid(const void *block, uint64_t b,
			   struct meta_superblock *sb);
/* Read and validate the superblock at b; -1 after a message if not. */
int meta_read_superblock(struct meta_image *img, uint64_t b, const char *who,
			 struct meta_superblock *sb);

/* --metadata-snap[=BLOCK], as thin_dump and thin_ls take it. */
struct meta_snap_opt {
	bool use;
	bool block_given;
	uint64_t block;
};

/* Parse the option's argument (NULL if none); -1 if it is not a block. */
int meta_parse_snap_opt(const char *arg, struct meta_snap_opt *snap);

/*
 * meta-args.c: the arguments of the readers (check, dump, usage), as
 * thin_check, thin_dump and thin_ls take them: the options in each one's
 * own table, and one DEV|FILE.
 */
struct meta_args {
	const char *input;		/* DEV|FILE */
	const char *output;		/* dump: -o FILE */
	struct meta_snap_opt snap;	/* dump, usage: --metadata-snap[=BLOCK] */
	bool quiet;			/* check: -q */
	bool clear_needs_check;		/* check: --clear-needs-check[-flag] */
	bool json;			/* usage: --json ('j') */
};

enum { META_OPT_CLEAR_NEEDS_CHECK = 256 };

struct option;
/* 0; or if they are bad, the usage line on stderr and -1 (exit 2). */
int meta_parse_args(int argc, char **argv, const char *optstring,
		    const struct option *options, const char *usage,
		    struct meta_args *a);
/* The superblock at 0, or the snapshot's if snap->use says so. */
int meta_select_superblock(struct meta_image *img,
			   const struct meta_snap_opt *snap, const char *who,
			   struct meta_superblock *sb);

/* ---- meta-needs-check.c ---- */

/* Clear the superblock's needs_check flag; *cleared says if it was set. */
int meta_clear_needs_check(const char *path, bool *cleared);

/* ---- meta-walk-thin.c: the thin trees of a superblock, emitted ---- */

struct meta_emit_opts {
	const char *who;	/* "ctpool meta dump", for messages */
	/*
	 * Strict: damage stops the walk, as a dump must not look complete
	 * when it is not. Tolerant (repair): damaged parts are reported and
	 * left out, the rest is emitted.
	 */
	bool tolerant;
	unsigned long damage;	/* how much was left out (tolerant) */
};

/* 0, or -1 if the walk stopped (strict) or an emitter call failed. */
int meta_emit_metadata(struct meta_image *img, const struct meta_superblock *sb,
		       struct meta_emit_opts *o, struct meta_emitter *e);

/* ---- meta-xml-emit.c: the emitter writing thin_dump's XML ---- */

struct meta_xml_writer {
	struct meta_emitter emitter;
	FILE *f;
	/* the mapping run not yet written */
	bool in_run;
	uint64_t origin;
	uint64_t data;
	uint64_t len;
	uint32_t time;
};

void meta_xml_writer_init(struct meta_xml_writer *w, FILE *f);

/* ---- meta-xml.c: thin_dump's XML, parsed into an emitter ---- */

/* Parse len bytes of XML. Returns 0, or -1 after printing where and why. */
int meta_xml_parse(const char *text, size_t len, const char *name,
		   struct meta_emitter *e);

/* ---- meta-writer.c: the emitter writing metadata with the library ---- */

struct meta_writer {
	struct meta_emitter emitter;
	const char *who;	/* "ctpool meta restore", for messages */
	const char *output;
	struct pd_block_manager *bm;
	struct thin_metadata *tmd;
	struct thin_device *td;
	uint64_t nr_data_blocks;
};

/* Prepare output for fresh metadata (its old superblock is wiped). */
int meta_writer_init(struct meta_writer *w, const char *who,
		     const char *output);
/* Commit if result is 0, else leave output unusable; returns the outcome. */
int meta_writer_finish(struct meta_writer *w, int result);

#endif
