// SPDX-License-Identifier: GPL-2.0-only
/*
 * Layers as thin snapshots, docker's devicemapper design: the base layer is a
 * thin volume with an ext4 filesystem and the first layer unpacked in it;
 * layer k is a snapshot of layer k-1 with layer k unpacked on top (its
 * whiteouts first, then its content); the image is a snapshot of the top
 * layer, holding the image's config in its record.
 *
 * A layer volume is named after its ChainID ("layer-" and the first 32 hex
 * digits; the whole ChainID is in the record and must match): the ChainID
 * covers the layer and every layer below it, so two images that share a
 * chain of layers share those volumes, and a layer is only ever reused on
 * top of exactly the layers it was unpacked on. Layers have kind "layer":
 * `image list` does not show them, `ctpool list` marks them. A layer's
 * record names its parent layer; a layer is removed with the last image
 * (or layer, or container) that names it (oci_layers_release).
 *
 * Everything the archive holds is verified before any volume is created
 * (oci_image_resolve), so a digest mismatch leaves nothing behind; a
 * failure later removes the volumes this import created, never a reused one.
 */
#include "oci-image.h"
#include "extract.h"
#include "image-config.h"
#include "runtime.h"
#include "common/ctpool.h"
#include "volume/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void layer_name(const struct oci_layer *l, char *out, size_t len)
{
	snprintf(out, len, "layer-%.32s", l->chain_id + 7);
}

/*
 * Is layer l already stored under lname? 1: yes, reuse it; 0: no; -1: a
 * record by that name that is not this layer (reported).
 */
static int stored_layer(const char *lname, const struct oci_layer *l, const char *pool)
{
	struct kv v;
	if (vol_load(&v, lname))
		return errno == ENOENT ? 0 : -1;
	const char *kind = kv_get(&v, "kind"), *chain = kv_get(&v, "chain_id");
	const char *st = kv_get(&v, "state"), *vp = kv_get(&v, "pool");
	int r = -1;
	if (!kind || strcmp(kind, "layer") || !chain || strcmp(chain, l->chain_id))
		err("'%s' exists but is not the layer with ChainID %s: refusing to use it", lname,
		    l->chain_id);
	else if (!st || strcmp(st, "ready"))
		err("layer %s is in state %s", lname, st ? st : "?");
	else if (!vp || strcmp(vp, pool))
		err("layer %s is stored in pool %s: an image sharing it must be imported there (--pool %s)",
		    lname, vp ? vp : "?", vp ? vp : "?");
	else
		r = 1;
	kv_free(&v);
	return r;
}

/* The layer's two passes: its whiteouts on what lies below, then its content. */
static int unpack_layer(const char *mnt, const struct oci_layer *l)
{
	int rootfd = open(mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		err("cannot open %s: %s", mnt, strerror(errno));
		return -1;
	}
	enum oci_pass pass = OCI_PASS_WHITEOUTS;
	struct extract_opts o = { .flags = EXTRACT_OWNER, .filter = oci_whiteout_filter, .arg = &pass };
	int r = extract_fd(rootfd, l->blob->fd, l->blob->name, &o, NULL);
	pass = OCI_PASS_CONTENT;
	if (!r)
		r = extract_fd(rootfd, l->blob->fd, l->blob->name, &o, NULL);
	close(rootfd);
	return r;
}

/* Make the filesystem (base layer only), mount it, unpack the layer, unmount. */
static int fill_layer(const char *lname, const struct oci_layer *l, int base)
{
	char dev[PATH_MAX], mnt[PATH_MAX];
	if (vol_activate(lname, dev, sizeof(dev)))
		return -1;
	if (base) {
		const char *const mk[] = { "mkfs.ext4", "-q", "-F", "-E",
					   "nodiscard,lazy_itable_init=0,lazy_journal_init=0", dev, NULL };
		if (run_cmd(mk, 0)) {
			err("mkfs.ext4 failed on %s", dev);
			return -1;
		}
	}
	if (import_mount(lname, dev, base, mnt, sizeof(mnt)))
		return -1;
	int r = unpack_layer(mnt, l);
	crash_point("import-after-unpack");
	import_unmount(mnt);
	wait_unused(lname, 3000); /* an unmount lets go asynchronously */
	if (vol_deactivate(lname))
		r = -1;
	return r;
}

static int mark_ready(const char *name)
{
	struct kv v;
	if (vol_load(&v, name))
		return -1;
	kv_set(&v, "state", "ready");
	kv_set(&v, "readonly", "1");
	int r = vol_save(&v, name);
	kv_free(&v);
	return r;
}

static int create_layer(struct pool *p, const char *lname, const struct oci_layer *l,
			const char *parent, uint64_t size)
{
	struct kv extra;
	kv_init(&extra);
	kv_set(&extra, "state", "importing"); /* removed by recovery if we crash */
	kv_set(&extra, "chain_id", l->chain_id);
	kv_set(&extra, "diff_id", l->diff_id);
	if (parent)
		kv_set(&extra, "parent", parent);
	info("creating layer %s%s%s", lname, parent ? " as a snapshot of " : "", parent ? parent : "");
	int r = vol_do_create(p, lname, parent ? 0 : size, parent, "layer", &extra);
	kv_free(&extra);
	return r;
}

struct import {
	struct pool p;
	struct oci_archive ar;
	struct oci_image img;
	struct kv config; /* the image's run configuration, as its record keeps it */
	char created[OCI_MAX_LAYERS][NAME_MAX_LEN + 1]; /* layers this import made */
	int nr_created;
};

/* Remove what this import created, newest first. */
static void undo(struct import *im)
{
	while (im->nr_created-- > 0) {
		wait_unused(im->created[im->nr_created], 3000);
		vol_do_delete(&im->p, im->created[im->nr_created], 0);
	}
}

/* The layer volumes, reusing those already stored; top gets the top layer's name. */
static int build_layers(struct import *im, uint64_t size, char *top, size_t len)
{
	char parent[NAME_MAX_LEN + 1] = "";
	for (int i = 0; i < im->img.nr_layers; i++) {
		const struct oci_layer *l = &im->img.layers[i];
		char lname[NAME_MAX_LEN + 1];
		layer_name(l, lname, sizeof(lname));
		int have = stored_layer(lname, l, im->p.name);
		if (have < 0)
			return -1;
		if (have) {
			info("layer %d/%d is stored already as %s", i + 1, im->img.nr_layers, lname);
		} else {
			if (create_layer(&im->p, lname, l, i ? parent : NULL, size))
				return -1;
			snprintf(im->created[im->nr_created++], NAME_MAX_LEN + 1, "%s", lname);
			info("unpacking layer %d/%d into %s", i + 1, im->img.nr_layers, lname);
			if (fill_layer(lname, l, !i) || mark_ready(lname))
				return -1;
		}
		snprintf(parent, sizeof(parent), "%s", lname);
	}
	snprintf(top, len, "%s", parent);
	return 0;
}

/* The image: a snapshot of the top layer, with the config in its record. */
static int create_image(struct import *im, const char *name, const char *archive, const char *top)
{
	struct kv extra;
	kv_init(&extra);
	kv_set(&extra, "state", "ready");
	kv_set(&extra, "readonly", "1");
	kv_set(&extra, "source", archive);
	kv_set(&extra, "parent", top);
	kv_set(&extra, "format", im->img.fmt == IMAGE_OCI ? "oci" : "docker");
	kv_set(&extra, "config_digest", im->img.config_digest);
	if (im->img.fmt == IMAGE_OCI)
		kv_set(&extra, "manifest_digest", im->img.manifest_digest);
	for (int i = 0; i < im->config.n; i++)
		kv_set(&extra, im->config.k[i], im->config.v[i]);
	info("creating image %s as a snapshot of %s", name, top);
	int r = vol_do_create(&im->p, name, 0, top, "image", &extra);
	kv_free(&extra);
	return r;
}

static int open_pool(struct pool *p, const char *pool)
{
	char def[NAME_MAX_LEN + 1];
	if (!pool && pool_default_name(def, sizeof(def)))
		return -1;
	return pool_load(p, pool ? pool : def) || pool_ensure_active(p) ? -1 : 0;
}

int oci_import(const char *name, const char *archive, uint64_t size, const char *pool,
	       enum image_format fmt)
{
	static struct import im; /* the layer arrays are large for a stack */
	char top[NAME_MAX_LEN + 1];
	memset(&im, 0, sizeof(im));
	kv_init(&im.config);
	if (!valid_name(name)) {
		err("invalid image name '%s'", name);
		return EXIT_ERR;
	}
	/* held for the whole import: recovery treats "importing" records as crash leftovers */
	if (lock_state() < 0 || open_pool(&im.p, pool))
		return EXIT_ERR;
	if (vol_exists(name)) {
		err("'%s' already exists (see 'ctpool list')", name);
		return EXIT_ERR;
	}
	info("reading %s (%s)", archive, fmt == IMAGE_OCI ? "OCI image layout" : "docker-save archive");
	if (oci_archive_spool(&im.ar, archive, G.state_dir))
		return EXIT_ERR;
	/* everything checked before the first volume is made */
	if (oci_image_resolve(&im.ar, fmt, &im.img) ||
	    image_config_from_json(im.img.config, im.img.config_len, &im.config)) {
		err("import of %s refused: nothing was changed", name);
		kv_free(&im.config);
		oci_image_free(&im.img);
		oci_archive_free(&im.ar);
		return EXIT_ERR;
	}
	if (!size)
		size = 256ull << 20;
	size = (size + 511) / 512 * 512;
	int r = build_layers(&im, size, top, sizeof(top)) || create_image(&im, name, archive, top);
	if (r) {
		err("import of %s failed; removing the layers it created", name);
		undo(&im);
	} else
		info("imported image %s (%d layers, top %s)", name, im.img.nr_layers, top);
	kv_free(&im.config);
	oci_image_free(&im.img);
	oci_archive_free(&im.ar);
	return r ? EXIT_ERR : EXIT_OK;
}

int oci_layers_release(struct pool *p, const char *layer)
{
	char cur[NAME_MAX_LEN + 1], next[NAME_MAX_LEN + 1];
	snprintf(cur, sizeof(cur), "%s", layer);
	while (*cur) {
		struct kv v;
		if (vol_load(&v, cur))
			return errno == ENOENT ? 0 : -1;
		const char *kind = kv_get(&v, "kind"), *par = kv_get(&v, "parent");
		int is_layer = kind && !strcmp(kind, "layer");
		snprintf(next, sizeof(next), "%s", par ? par : "");
		kv_free(&v);
		if (!is_layer)
			return 0; /* an image's parent image stays until removed itself */
		/* records naming it as their parent, image or origin */
		static const char *const keys[] = { "parent", "image", "origin", NULL };
		int users = vol_count_users(cur, keys, NULL, 0);
		if (users < 0) {
			warnx_("layer %s kept: a record cannot be read and may use it", cur);
			return -1;
		}
		if (users)
			return 0;
		if (vol_do_delete(p, cur, (int)kv_get_u64(&p->kv, "data_file", 0)))
			return -1;
		info("removed layer %s (no image uses it any more)", cur);
		memcpy(cur, next, sizeof(cur));
	}
	return 0;
}
