// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool: per-volume usage of a live pool, read from a metadata snapshot.
 *
 * reserve_metadata_snap makes the kernel commit and keep a copy of the
 * superblock whose trees it will not change or free until
 * release_metadata_snap: those blocks can be read from the metadata device
 * while the pool goes on serving I/O. The pool's dm-bufio writes around
 * the page cache, so they are read with O_DIRECT. The snapshot is always
 * released again: signals that would end the process are held back until
 * then. There is one snapshot slot per pool; one that someone else holds
 * is neither used nor released.
 */
#include "volume.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "meta/meta.h"
#include "meta/meta-usage.h"

/* 1 (after saying why) if the pool cannot give a snapshot now. */
static int snapshot_refused(struct pool *p, const struct pool_status *ps)
{
	if (strcmp(ps->mode, "rw") && strcmp(ps->mode, "out_of_data_space")) {
		err("pool %s is in %s mode: the kernel reserves no metadata snapshot then; "
		    "deactivate it and run 'ctpool meta usage %s'",
		    p->name, ps->mode, pool_meta_dev(p) ? pool_meta_dev(p) : "METADATA");
		return 1;
	}
	if (strcmp(ps->held_root, "-")) {
		err("pool %s already holds a metadata snapshot (block %s), reserved by another "
		    "tool (or left by one that was killed): ctpool neither uses nor releases it; "
		    "once no tool needs it: dmsetup message %s 0 release_metadata_snap",
		    p->name, ps->held_root, p->name);
		return 1;
	}
	return 0;
}

static int read_snapshot(struct pool *p, struct meta_usage *u)
{
	struct pool_status ps;
	struct meta_superblock sb;
	struct meta_image img;
	const char *dev = pool_meta_dev(p);
	uint64_t held;
	int r;

	if (pool_get_status(p, &ps))
		return -1;
	if (parse_u64(ps.held_root, &held) || !held) {
		err("pool %s reports no metadata snapshot right after reserving one ('%s')", p->name,
		    ps.held_root);
		return -1;
	}
	if (!dev || meta_image_open_direct(dev, &img)) {
		err("cannot open the metadata device of pool %s (%s): %s", p->name,
		    dev ? dev : "not recorded", dev ? strerror(errno) : "activate the pool");
		return -1;
	}
	r = meta_read_superblock(&img, held, "ctpool", &sb);
	if (!r)
		r = meta_usage_read(&img, &sb, "ctpool", u);
	meta_image_close(&img);
	return r;
}

int pool_read_usage(struct pool *p, struct meta_usage *u)
{
	struct pool_status ps;
	sigset_t fatal, old;
	int r;

	if (pool_get_status(p, &ps))
		return -1;
	if (snapshot_refused(p, &ps))
		return -1;
	sigemptyset(&fatal);
	sigaddset(&fatal, SIGINT);
	sigaddset(&fatal, SIGTERM);
	sigaddset(&fatal, SIGHUP);
	sigaddset(&fatal, SIGQUIT);
	sigaddset(&fatal, SIGPIPE);
	sigprocmask(SIG_BLOCK, &fatal, &old);
	r = dm_message(p->name, "reserve_metadata_snap");
	if (r) {
		if (r == -EBUSY)
			err("pool %s: another tool reserved a metadata snapshot just now; try again "
			    "when it is done",
			    p->name);
		else
			err("pool %s: reserve_metadata_snap failed: %s", p->name, strerror(-r));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	signal_point("usage-snapshot-held");
	r = read_snapshot(p, u);
	if (dm_message(p->name, "release_metadata_snap")) {
		err("pool %s: cannot release its metadata snapshot: release it with "
		    "'dmsetup message %s 0 release_metadata_snap'",
		    p->name, p->name);
		if (!r)
			meta_usage_free(u);
		r = -1;
	}
	/* A signal that came meanwhile takes effect now, with nothing held. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
