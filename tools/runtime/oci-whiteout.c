// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whiteouts of a layer (OCI image spec, "Whiteouts"; docker's AUFS names):
 * an entry ".wh.NAME" removes NAME from the lower layers, in the entry's
 * directory; ".wh..wh..opq" empties its directory of whatever the lower
 * layers put there, keeping the directory. The markers themselves are never
 * unpacked.
 *
 * A layer is unpacked in two passes over it: first its whiteouts alone,
 * then its content without them. So a whiteout only ever hides what lies
 * below, whatever the entries' order in the tar (an opaque marker after the
 * directory's new files must not remove them).
 *
 * The names the extractor hands us are relative to the image root and free
 * of ".." components; the removals resolve in-root (extract_remove,
 * extract_empty_dir), so a symlink left by a lower layer never takes a
 * whiteout outside the image.
 */
#include "oci-image.h"
#include "extract.h"
#include "common/ctpool.h"
#include "volume/volume.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static int apply_whiteout(int rootfd, const char *path, const char *dir, const char *base)
{
	char target[PATH_MAX];
	if (!strcmp(base, WH_OPAQUE)) {
		/* a lower non-directory there: nothing below to hide, this layer's entry replaces it */
		if (extract_empty_dir(rootfd, dir) && errno != ENOTDIR && errno != ELOOP) {
			err("layer: cannot apply opaque whiteout '%s': %s", path, strerror(errno));
			return -1;
		}
		return EXTRACT_SKIP;
	}
	const char *name = base + strlen(WH_PREFIX);
	if (!strncmp(name, WH_PREFIX, strlen(WH_PREFIX)))
		return EXTRACT_SKIP; /* other AUFS metadata (.wh..wh.plnk, ...): nothing to do */
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) {
		err("layer: refusing whiteout '%s': it names '%s', not an entry of its directory", path,
		    name);
		return -1;
	}
	if (snprintf(target, sizeof(target), "%s%s%s", dir, *dir ? "/" : "", name) >= (int)sizeof(target)) {
		err("layer: whiteout '%s': name too long", path);
		return -1;
	}
	if (extract_remove(rootfd, target)) {
		err("layer: cannot apply whiteout '%s' (remove '%s'): %s", path, target, strerror(errno));
		return -1;
	}
	return EXTRACT_SKIP;
}

int oci_whiteout_filter(void *arg, int rootfd, const char *path, struct archive_entry *e)
{
	const enum oci_pass *pass = arg;
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int is_wh = !strncmp(base, WH_PREFIX, strlen(WH_PREFIX));
	if (*pass == OCI_PASS_CONTENT)
		return is_wh ? EXTRACT_SKIP : EXTRACT_APPLY;
	if (!is_wh)
		return EXTRACT_SKIP;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	return apply_whiteout(rootfd, path, dir, base);
}
